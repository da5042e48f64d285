//! # Payment channels
//!
//! Direct paid inference off the chain's critical path: a client deposits OPG for an
//! inference node once, pays each call it makes to the node over HTTP with a **voucher**
//! signed by its account, and the node settles the highest voucher it holds later,
//! asynchronously, in one unsigned transaction however many calls it covers.
//!
//! ## Calls
//! - [`Pallet::open`] (the client): holds `deposit` for `node` (a node key the registry
//!   lets settle) until `expiry`.
//! - [`Pallet::top_up`] (the client): holds more, while the channel is open.
//! - [`Pallet::settle`] (unsigned, signed by the node key): claims what the node's charged
//!   total adds to what was claimed before, and keeps the root over the calls it served
//!   ([`opg_settlement::channel::ServedCall`]) so that anyone holding a served answer and
//!   its inclusion proof can show it was settled ([`runtime_api::ChannelsApi`]). The
//!   claimed amount pays the node's operator, less the protocol fee (to the treasury),
//!   when the vanilla results' challenge window of the verification game
//!   ([`Config::Checks`]) ends: until then it stays in the client's hold
//!   ([`HeldSettlements`]); with no window (`()`) it is paid at once.
//! - [`Pallet::close`] (the client): starts the dispute period ([`Config::DisputePeriod`])
//!   in which the node may still settle.
//! - [`Pallet::withdraw`] (the client): once the dispute period is over, or once the
//!   channel's expiry has passed (a node that never settles), returns what the node did
//!   not claim and removes the channel. What its settlements claimed and still hold is
//!   paid when their windows end, at the start of that block
//!   (the pallet's `on_initialize` hook). Nothing stays held forever.
//!
//! The node's off-chain worker submits the settlements its executor offers (the executor
//! serves the paid calls and keeps their receipts, see `opg-executor`'s `payment`
//! module): one per channel, however many calls it covers.
//!
//! ## What a voucher can move
//! A voucher names the **cumulative** amount the client authorizes the channel to reach
//! with one call (the charged total before it plus the call's price, or a cap for a
//! usage-priced call: x402's `upto`). A settlement claims the node's charged total under
//! its highest voucher and moves the difference from what was claimed
//! ([`opg_settlement::channel::claim`]). A total at or below the claimed one moves nothing
//! (a replay pays nothing twice), a total above its voucher or a voucher above the
//! deposit is refused, and a voucher of another channel or chain does not verify (the
//! signed message binds genesis and channel). So the node receives at most the highest
//! voucher the client signed, and the client loses at most that. A settlement moving less than
//! [`Config::MinSettlement`] is refused while the channel is open and not expired (the
//! node settles small remainders when the channel closes): settlements are free
//! transactions, and each keeps a root.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
mod impl_held_results;
#[cfg(test)]
mod mock;
mod offchain;
pub mod runtime_api;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

use opg_primitives::{
	CheckInput, HeldResult, HeldResults, InferenceNodes, ModelCatalog, ModelId, NodeKey, RequestId,
	ResultChallenges, ResultChecks, ToCheck, VerificationMode, DIRECT_CALL_IDS,
};
use opg_settlement::{channel as pure, fees, merkle, message};
use polkadot_sdk::{frame_support, frame_system, sp_core, sp_io, sp_runtime};

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{BalancedHold, Credit, Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
			OnUnbalanced,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{CheckedAdd, IdentifyAccount, Saturating, UniqueSaturatedInto, Verify, Zero},
		Perbill,
	};

	/// The balance type of [`Config::Currency`].
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A channel as stored.
	pub type ChannelOf<T> =
		Channel<<T as frame_system::Config>::AccountId, NodeKey, BalanceOf<T>, BlockNumberFor<T>>;
	/// A voucher as submitted.
	pub type VoucherOf<T> = Voucher<BalanceOf<T>, <T as Config>::ClientSignature>;
	/// A settlement as submitted.
	pub type SettlementOf<T> = Settlement<BalanceOf<T>, <T as Config>::ClientSignature>;
	/// A settlement as kept.
	pub type SettledRootOf<T> = SettledRoot<BalanceOf<T>, BlockNumberFor<T>>;
	/// A served call opened for checking.
	pub type OpenedCallOf<T> = OpenedCall<<T as frame_system::Config>::AccountId>;
	/// A settlement's payment held through its challenge window.
	pub type HeldSettlementOf<T> =
		HeldSettlement<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// A settlement that passed [`Pallet::check_settlement`]: its channel, what it moves and
	/// the operator it pays.
	pub type CheckedSettlement<T> =
		(ChannelOf<T>, BalanceOf<T>, <T as frame_system::Config>::AccountId);

	/// Default configurations of this pallet.
	pub mod config_preludes {
		use super::*;
		use frame_support::{derive_impl, parameter_types};

		parameter_types! {
			/// The protocol's share in tests: 5%.
			pub const TestProtocolFee: Perbill = Perbill::from_percent(5);
		}

		/// What the pallet's mock runtimes share.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type ProtocolFee = TestProtocolFee;
			type UnsignedPriority = frame_support::traits::ConstU64<{ u64::MAX / 2 }>;
			type Checks = ();
			type Challenges = ();
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config:
		polkadot_sdk::frame_system::Config + frame_system::offchain::CreateBare<Call<Self>>
	{
		/// The currency deposits are held and paid in.
		#[pallet::no_default]
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ BalancedHold<Self::AccountId>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;
		/// The node registry: whose node keys may be paid, and their operators.
		#[pallet::no_default]
		type Nodes: InferenceNodes<Self::AccountId, BalanceOf<Self>>;
		/// A client account's signature of a voucher (`MultiSignature` in the runtime:
		/// sr25519, ed25519 or ECDSA).
		#[pallet::no_default]
		type ClientSignature: Verify<Signer = Self::ClientSigner> + Parameter + MaxEncodedLen;
		/// The signer behind [`Config::ClientSignature`], which names the account.
		#[pallet::no_default]
		type ClientSigner: IdentifyAccount<AccountId = Self::AccountId>;
		/// The protocol's share of every settlement.
		type ProtocolFee: Get<Perbill>;
		/// Where the protocol's share goes.
		#[pallet::no_default]
		type ProtocolFeeSink: OnUnbalanced<Credit<Self::AccountId, Self::Currency>>;
		/// The least a channel is opened with.
		#[pallet::no_default]
		type MinDeposit: Get<BalanceOf<Self>>;
		/// The least a settlement moves while its channel is open and not expired.
		#[pallet::no_default]
		type MinSettlement: Get<BalanceOf<Self>>;
		/// Blocks between a client's [`Pallet::close`] and its [`Pallet::withdraw`], in
		/// which the node may still settle; a channel's expiry must leave at least this
		/// much after it is opened.
		#[pallet::no_default]
		type DisputePeriod: Get<BlockNumberFor<Self>>;
		/// Pool priority of settlement transactions.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;
		/// The verification game (`pallet-verification` in the runtime): a settlement's
		/// payment is held for its vanilla results' challenge window (a settlement is
		/// signed by the node key alone). `()`: paid at once.
		type Checks: ResultChecks;
		/// How a served call is challenged (`pallet-verification` in the runtime: the
		/// challenger's bond is held and a case opened); `()`: no call can be.
		type Challenges: ResultChallenges<Self::AccountId, Error: Into<DispatchError>>;
		/// The model hub: the model a challenged call names, and how its results are checked.
		#[pallet::no_default]
		type Models: ModelCatalog<BalanceOf<Self>>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
		/// Registers a node and makes client keys for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: benchmarking::BenchmarkHelper<Self>;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A channel's deposit, less what its node claimed, until the client withdraws it.
		ChannelDeposit,
	}

	/// The id of the next channel opened.
	#[pallet::storage]
	pub type NextChannelId<T> = StorageValue<_, ChannelId, ValueQuery>;

	/// Open channels (closing ones included, until withdrawn).
	#[pallet::storage]
	pub type OpenChannels<T: Config> = StorageMap<_, Twox64Concat, ChannelId, ChannelOf<T>>;

	/// Every settlement of every channel, by channel and index: the root over the calls it
	/// covered. Kept after the channel is withdrawn.
	#[pallet::storage]
	pub type Settlements<T: Config> =
		StorageDoubleMap<_, Twox64Concat, ChannelId, Twox64Concat, u32, SettledRootOf<T>>;

	/// Settlements whose payment is held through their challenge window
	/// ([`Config::Checks`]), by channel and index: what they claimed stays in the client's
	/// hold until [`Hooks::on_initialize`] of the block the window ends in pays it.
	#[pallet::storage]
	pub type HeldSettlements<T: Config> =
		StorageDoubleMap<_, Twox64Concat, ChannelId, Twox64Concat, u32, HeldSettlementOf<T>>;

	/// The number of served calls opened for checking so far: the next one's id is
	/// `DIRECT_CALL_IDS` plus it.
	#[pallet::storage]
	pub type NextCallId<T> = StorageValue<_, u64, ValueQuery>;

	/// Served calls opened for checking whose case has not ended, by id.
	#[pallet::storage]
	pub type OpenedCalls<T: Config> = StorageMap<_, Twox64Concat, RequestId, OpenedCallOf<T>>;

	/// The id of each served call being checked, by channel, settlement and position: a
	/// call is checked once at a time.
	#[pallet::storage]
	pub type OpenedLeaves<T: Config> =
		StorageMap<_, Twox64Concat, (ChannelId, u32, u32), RequestId>;

	/// How many calls of a held settlement are being checked, by channel and index: while
	/// any is, the settlement stays held past its window (it is not listed in
	/// [`WindowEnds`]).
	#[pallet::storage]
	pub type Disputes<T: Config> =
		StorageDoubleMap<_, Twox64Concat, ChannelId, Twox64Concat, u32, u32>;

	/// Held settlements by the block their window ends in: `(block, (channel, index))`.
	#[pallet::storage]
	pub type WindowEnds<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, (ChannelId, u32), ()>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A client opened a channel to a node.
		Opened {
			/// The channel.
			channel: ChannelId,
			/// The client.
			client: T::AccountId,
			/// The node key paid.
			node: NodeKey,
			/// What was held.
			deposit: BalanceOf<T>,
			/// From when the client may withdraw without closing.
			expiry: BlockNumberFor<T>,
		},
		/// A client added to a channel's deposit.
		ToppedUp {
			/// The channel.
			channel: ChannelId,
			/// What was added.
			amount: BalanceOf<T>,
			/// The deposit now.
			deposit: BalanceOf<T>,
		},
		/// A node settled a voucher and the calls it served.
		Settled {
			/// The channel.
			channel: ChannelId,
			/// The settlement's index in the channel.
			index: u32,
			/// The node key.
			node: NodeKey,
			/// The channel's charged total, now claimed.
			total: BalanceOf<T>,
			/// The node's operator's share: paid now, or when the settlement's challenge
			/// window ends ([`Event::PaymentHeld`]).
			paid: BalanceOf<T>,
			/// The treasury's share, paid with the operator's.
			protocol_fee: BalanceOf<T>,
			/// The root over the calls served.
			root: opg_settlement::Hash,
			/// How many calls it covers.
			calls: u32,
		},
		/// A settlement's payment is held in the client's hold until the start of block
		/// `until`, the end of its challenge window.
		PaymentHeld {
			/// The channel.
			channel: ChannelId,
			/// The settlement's index in the channel.
			index: u32,
			/// The block it is paid in.
			until: BlockNumberFor<T>,
		},
		/// A held settlement's window ended: its node's operator and the treasury were paid.
		PaymentReleased {
			/// The channel.
			channel: ChannelId,
			/// The settlement's index in the channel.
			index: u32,
			/// Paid to the node's operator.
			paid: BalanceOf<T>,
			/// Paid to the treasury.
			protocol_fee: BalanceOf<T>,
		},
		/// A held settlement could not be paid (the operator's account refused it): what
		/// it claimed went back to the client.
		PaymentRefunded {
			/// The channel.
			channel: ChannelId,
			/// The settlement's index in the channel.
			index: u32,
			/// Returned to the client.
			refund: BalanceOf<T>,
		},
		/// A served call of a held settlement was challenged: the verification game checks it
		/// as held result `id`, and the settlement stays held until its case ends.
		CallChallenged {
			/// The id the verification game names it by.
			id: RequestId,
			/// The channel.
			channel: ChannelId,
			/// The settlement's index in the channel.
			index: u32,
			/// The call's position among the settlement's calls.
			position: u32,
			/// The call's digest.
			call_digest: opg_settlement::Hash,
			/// Who challenged it.
			challenger: T::AccountId,
		},
		/// A challenged call was found wrong: what it was charged went back to the client
		/// from its held settlement.
		CallRefunded {
			/// The call's id.
			id: RequestId,
			/// The channel.
			channel: ChannelId,
			/// The settlement's index in the channel.
			index: u32,
			/// Returned to the client.
			refund: BalanceOf<T>,
		},
		/// A client asked to close a channel: the node may settle until `closes_at`.
		Closing {
			/// The channel.
			channel: ChannelId,
			/// From when the client may withdraw.
			closes_at: BlockNumberFor<T>,
		},
		/// A client withdrew what the node did not claim; the channel is gone.
		Withdrawn {
			/// The channel.
			channel: ChannelId,
			/// What was returned.
			refund: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No such channel (never opened, or withdrawn).
		UnknownChannel,
		/// Only the channel's client may do this.
		NotClient,
		/// The node key is not one the registry lets settle.
		NodeNotServing,
		/// Below [`Config::MinDeposit`].
		DepositTooLow,
		/// The expiry leaves less than [`Config::DisputePeriod`].
		ExpiryTooSoon,
		/// Nothing to add.
		ZeroAmount,
		/// The client cannot hold that much.
		InsufficientBalance,
		/// The channel is closing: no more deposits.
		ChannelClosing,
		/// The channel's expiry has passed: no more deposits.
		ChannelExpired,
		/// The channel is already closing.
		AlreadyClosing,
		/// Neither closed for a dispute period nor expired: not yet withdrawable.
		NotWithdrawable,
		/// The settlement names another node than the channel's.
		WrongNode,
		/// A settlement covers at least one call.
		NoCalls,
		/// The claimed total is not above what was claimed before.
		NotAboveClaimed,
		/// The voucher's cumulative amount is above the channel's deposit.
		AboveDeposit,
		/// The settlement moves less than [`Config::MinSettlement`] on an open channel.
		SettlementTooSmall,
		/// The voucher's signature is not the client's over this chain and channel.
		BadVoucherSignature,
		/// The settlement's signature is not the node key's.
		BadNodeSignature,
		/// The genesis hash is unknown (no block 0 hash).
		GenesisUnknown,
		/// The transfer to the node's operator failed (below its existential deposit).
		PaymentFailed,
		/// A counter or sum overflowed.
		Overflow,
		/// The claimed total is above the voucher's cumulative amount.
		AboveVoucher,
		/// No such settlement is held, or its challenge window has ended.
		NotHeld,
		/// The proof does not show the call among the settlement's calls.
		NotServed,
		/// The model is not active, its artifact is not the call's model hash, or the
		/// channel's node does not list it among the models it serves.
		WrongModel,
		/// A language model's or a ZKML call cannot be checked here: a language model's
		/// answer is checked by its activation evidence, which a served call does not
		/// carry; a ZKML answer carries its own proof.
		NotCheckable,
		/// The call is already being checked.
		AlreadyOpened,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens a channel to `node` holding `deposit` from the caller, who may withdraw
		/// it from `expiry` on if the node never settles.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::open())]
		pub fn open(
			origin: OriginFor<T>,
			node: NodeKey,
			deposit: BalanceOf<T>,
			expiry: BlockNumberFor<T>,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			ensure!(deposit >= T::MinDeposit::get(), Error::<T>::DepositTooLow);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				expiry > now.saturating_add(T::DisputePeriod::get()),
				Error::<T>::ExpiryTooSoon
			);
			ensure!(
				T::Nodes::settling_operator(&node, VerificationMode::Vanilla).is_some(),
				Error::<T>::NodeNotServing
			);
			let channel = NextChannelId::<T>::get();
			let next = channel.checked_add(1).ok_or(Error::<T>::Overflow)?;
			T::Currency::hold(&HoldReason::ChannelDeposit.into(), &client, deposit)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			NextChannelId::<T>::put(next);
			OpenChannels::<T>::insert(
				channel,
				Channel {
					client: client.clone(),
					node,
					deposit,
					claimed: Zero::zero(),
					expiry,
					closes_at: None,
					settlements: 0,
				},
			);
			Self::deposit_event(Event::Opened { channel, client, node, deposit, expiry });
			Ok(())
		}

		/// Adds `amount` to an open channel's deposit.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::top_up())]
		pub fn top_up(
			origin: OriginFor<T>,
			channel: ChannelId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			let mut open = Self::client_channel(channel, &client)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			ensure!(open.closes_at.is_none(), Error::<T>::ChannelClosing);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < open.expiry, Error::<T>::ChannelExpired);
			open.deposit = open.deposit.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
			T::Currency::hold(&HoldReason::ChannelDeposit.into(), &client, amount)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			let deposit = open.deposit;
			OpenChannels::<T>::insert(channel, open);
			Self::deposit_event(Event::ToppedUp { channel, amount, deposit });
			Ok(())
		}

		/// Settles `settlement` on its channel: claims what its total adds to the claimed
		/// one, pays it to the node's operator, less the protocol fee, at once or when its
		/// challenge window ends ([`Config::Checks`]), and keeps the root over the calls it
		/// covers. Unsigned: `signature` is the node key's over
		/// `opg_settlement::message::channel_settlement`. Its weight includes the payment
		/// at the window's end, so that a block full of settlements leaves room for it.
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::settle_weight())]
		pub fn settle(
			origin: OriginFor<T>,
			settlement: SettlementOf<T>,
			signature: sp_core::sr25519::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			let (mut open, amount, operator) = Self::check_settlement(&settlement, &signature)?;
			let channel = settlement.voucher.channel;
			let split =
				fees::split(amount.unique_saturated_into(), T::ProtocolFee::get().deconstruct());
			let protocol_fee: BalanceOf<T> = split.protocol.unique_saturated_into();
			let paid = amount.saturating_sub(protocol_fee);
			let index = open.settlements;
			open.settlements = index.checked_add(1).ok_or(Error::<T>::Overflow)?;
			let window = T::Checks::challenge_window(VerificationMode::Vanilla);
			let now = frame_system::Pallet::<T>::block_number();
			let held = if window == 0 {
				Self::pay(&open.client, &operator, paid, protocol_fee)?;
				None
			} else {
				let until = now.saturating_add(window.into());
				HeldSettlements::<T>::insert(
					channel,
					index,
					HeldSettlement {
						client: open.client.clone(),
						operator,
						paid,
						protocol_fee,
						final_at: until,
					},
				);
				WindowEnds::<T>::insert(until, (channel, index), ());
				Some(until)
			};
			open.claimed = settlement.total;
			let node = open.node;
			OpenChannels::<T>::insert(channel, open);
			Settlements::<T>::insert(
				channel,
				index,
				SettledRoot {
					root: settlement.root,
					calls: settlement.calls,
					total: settlement.total,
					amount,
					at: now,
				},
			);
			Self::deposit_event(Event::Settled {
				channel,
				index,
				node,
				total: settlement.total,
				paid,
				protocol_fee,
				root: settlement.root,
				calls: settlement.calls,
			});
			if let Some(until) = held {
				Self::deposit_event(Event::PaymentHeld { channel, index, until });
			}
			Ok(())
		}

		/// Starts closing a channel: its node may settle for [`Config::DisputePeriod`]
		/// more blocks, then the client may [`Pallet::withdraw`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::close())]
		pub fn close(origin: OriginFor<T>, channel: ChannelId) -> DispatchResult {
			let client = ensure_signed(origin)?;
			let mut open = Self::client_channel(channel, &client)?;
			ensure!(open.closes_at.is_none(), Error::<T>::AlreadyClosing);
			let closes_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::DisputePeriod::get());
			open.closes_at = Some(closes_at);
			OpenChannels::<T>::insert(channel, open);
			Self::deposit_event(Event::Closing { channel, closes_at });
			Ok(())
		}

		/// Returns to the client what the node did not claim and removes the channel: once
		/// its dispute period is over, or once its expiry has passed. What its settlements
		/// claimed and still hold stays held until their windows end.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>, channel: ChannelId) -> DispatchResult {
			let client = ensure_signed(origin)?;
			let open = Self::client_channel(channel, &client)?;
			ensure!(Self::withdrawable(&open), Error::<T>::NotWithdrawable);
			let left = open.deposit.saturating_sub(open.claimed);
			let refund = T::Currency::release(
				&HoldReason::ChannelDeposit.into(),
				&client,
				left,
				Precision::BestEffort,
			)
			.unwrap_or_default();
			OpenChannels::<T>::remove(channel);
			Self::deposit_event(Event::Withdrawn { channel, refund });
			Ok(())
		}

		/// Challenges a call the node served and settled: `call`, at `proof`'s position
		/// among the calls of held settlement `index` of `channel`, answered by `model`.
		/// The call becomes a held result of the verification game ([`Config::Challenges`]),
		/// whose challenge bond the caller pays, and its settlement stays held until the
		/// case ends: if the call is found wrong, what it was charged goes back to the
		/// client ([`Event::CallRefunded`]) and the rest is paid; if it stands, the
		/// settlement is paid. Anyone holding the call and its proof (the client gets both
		/// from the node: `GET /v1/served/{digest}`) may challenge it, within the
		/// settlement's window and before the client withdraws the channel. Language
		/// models' and ZKML calls are refused ([`Error::NotCheckable`]).
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::challenge_call())]
		pub fn challenge_call(
			origin: OriginFor<T>,
			channel: ChannelId,
			index: u32,
			model: ModelId,
			call: pure::ServedCall,
			proof: merkle::Proof,
		) -> DispatchResult {
			let challenger = ensure_signed(origin)?;
			let held = HeldSettlements::<T>::get(channel, index).ok_or(Error::<T>::NotHeld)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < held.final_at, Error::<T>::NotHeld);
			ensure!(Self::served_proof(channel, index, &call, &proof), Error::<T>::NotServed);
			let node = OpenChannels::<T>::get(channel).ok_or(Error::<T>::UnknownChannel)?.node;
			let terms = T::Models::serving_terms(model).ok_or(Error::<T>::WrongModel)?;
			ensure!(
				terms.artifact_hash == call.model_hash && T::Nodes::lists(&node, &model),
				Error::<T>::WrongModel
			);
			ensure!(
				!terms.variable_input && Self::call_mode(&call).is_some(),
				Error::<T>::NotCheckable
			);
			let position = proof.index;
			ensure!(
				!OpenedLeaves::<T>::contains_key((channel, index, position)),
				Error::<T>::AlreadyOpened
			);
			let count = NextCallId::<T>::get();
			let id = DIRECT_CALL_IDS.checked_add(count).ok_or(Error::<T>::Overflow)?;
			NextCallId::<T>::put(count.saturating_add(1));
			OpenedLeaves::<T>::insert((channel, index, position), id);
			OpenedCalls::<T>::insert(
				id,
				OpenedCall { channel, index, position, call, model, node, client: held.client },
			);
			T::Challenges::challenge(&challenger, id).map_err(Into::into)?;
			Self::deposit_event(Event::CallChallenged {
				id,
				channel,
				index,
				position,
				call_digest: call.call_digest,
				challenger,
			});
			Ok(())
		}
	}

	// `ValidateUnsigned` is deprecated for `#[pallet::authorize]` (removal after April
	// 2027); it stays until polkadot.js decodes the general transactions that replace it.
	#[allow(deprecated)]
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		/// The pool takes a settlement only as dispatch would: signatures, channel and
		/// amounts checked.
		fn validate_unsigned(_source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let Call::settle { settlement, signature } = call else {
				return InvalidTransaction::Call.into();
			};
			Self::check_settlement(settlement, signature).map_err(invalidity::<T>)?;
			ValidTransaction::with_tag_prefix("OpgChannelSettle")
				.priority(T::UnsignedPriority::get())
				.and_provides((settlement.voucher.channel, settlement.total))
				.longevity(64)
				.propagate(true)
				.build()
		}

		/// Nothing here: dispatch checks everything [`Self::validate_unsigned`] checks,
		/// signatures included, and the weight counts it once.
		fn pre_dispatch(call: &Self::Call) -> Result<(), TransactionValidityError> {
			match call {
				Call::settle { .. } => Ok(()),
				_ => Err(InvalidTransaction::Call.into()),
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Pays the held settlements whose challenge window ends now: all of them (no more
		/// than were settled in the block one window earlier).
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let ended = Self::end_windows(now);
			T::WeightInfo::end_windows(ended)
		}

		fn offchain_worker(_now: BlockNumberFor<T>) {
			Self::settle_from_executor();
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	/// A pool refusal for each reason a settlement fails: stale, bad signer, bad proof
	/// or the error's own code.
	fn invalidity<T: Config>(error: Error<T>) -> TransactionValidityError {
		let invalid = match error {
			Error::<T>::NotAboveClaimed => InvalidTransaction::Stale,
			Error::<T>::BadNodeSignature => InvalidTransaction::BadSigner,
			Error::<T>::BadVoucherSignature => InvalidTransaction::BadProof,
			other => {
				let code = other.encode().first().copied().unwrap_or(u8::MAX);
				InvalidTransaction::Custom(code)
			},
		};
		invalid.into()
	}

	impl<T: Config> Pallet<T> {
		/// Channel `channel` if `who` is its client.
		fn client_channel(
			channel: ChannelId,
			who: &T::AccountId,
		) -> Result<ChannelOf<T>, Error<T>> {
			let open = OpenChannels::<T>::get(channel).ok_or(Error::<T>::UnknownChannel)?;
			ensure!(open.client == *who, Error::<T>::NotClient);
			Ok(open)
		}

		/// What [`Pallet::settle`] weighs: its own measurement and one held settlement's
		/// payment at the end of its window.
		pub fn settle_weight() -> Weight {
			let release =
				T::WeightInfo::end_windows(1).saturating_sub(T::WeightInfo::end_windows(0));
			T::WeightInfo::settle().saturating_add(release)
		}

		/// Pays `paid` of `client`'s hold to `operator` and `protocol_fee` of it to the
		/// treasury.
		fn pay(
			client: &T::AccountId,
			operator: &T::AccountId,
			paid: BalanceOf<T>,
			protocol_fee: BalanceOf<T>,
		) -> Result<(), Error<T>> {
			let reason = HoldReason::ChannelDeposit.into();
			if !paid.is_zero() {
				T::Currency::transfer_on_hold(
					&reason,
					client,
					operator,
					paid,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Polite,
				)
				.map_err(|_| Error::<T>::PaymentFailed)?;
			}
			if !protocol_fee.is_zero() {
				let (credit, _) = T::Currency::slash(&reason, client, protocol_fee);
				T::ProtocolFeeSink::on_unbalanced(credit);
			}
			Ok(())
		}

		/// Pays the held settlements whose window ends at `now`; how many there were (each
		/// weighs at most a payment: `WeightInfo::end_windows`).
		pub(crate) fn end_windows(now: BlockNumberFor<T>) -> u32 {
			let due: alloc::vec::Vec<(ChannelId, u32)> =
				WindowEnds::<T>::drain_prefix(now).map(|(key, ())| key).collect();
			for &(channel, index) in &due {
				Self::release_held(channel, index);
			}
			due.len().try_into().unwrap_or(u32::MAX)
		}

		/// Pays held settlement `index` of `channel` to its operator and the treasury; a
		/// payment that cannot be made (the operator's account refusing it) goes back to the
		/// client instead, so that nothing stays held.
		pub(crate) fn release_held(channel: ChannelId, index: u32) {
			let Some(held) = HeldSettlements::<T>::take(channel, index) else { return };
			if Self::pay(&held.client, &held.operator, held.paid, held.protocol_fee).is_ok() {
				Self::deposit_event(Event::PaymentReleased {
					channel,
					index,
					paid: held.paid,
					protocol_fee: held.protocol_fee,
				});
			} else {
				let refund = T::Currency::release(
					&HoldReason::ChannelDeposit.into(),
					&held.client,
					held.paid.saturating_add(held.protocol_fee),
					Precision::BestEffort,
				)
				.unwrap_or_default();
				Self::deposit_event(Event::PaymentRefunded { channel, index, refund });
			}
		}

		/// Whether the client may withdraw now: closed for a dispute period, or expired.
		pub fn withdrawable(open: &ChannelOf<T>) -> bool {
			let now = frame_system::Pallet::<T>::block_number();
			now >= open.expiry || open.closes_at.is_some_and(|at| now >= at)
		}

		/// This chain's genesis hash, which vouchers and settlements bind.
		pub fn genesis_hash() -> Result<[u8; 32], Error<T>> {
			let hash = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			let bytes: [u8; 32] =
				hash.as_ref().try_into().map_err(|_| Error::<T>::GenesisUnknown)?;
			ensure!(bytes != [0; 32], Error::<T>::GenesisUnknown);
			Ok(bytes)
		}

		/// The channel a settlement is for, what it moves and the operator it pays, if it
		/// settles: the node's, a total above the claimed one and within its voucher, a
		/// voucher within the deposit,
		/// at least [`Config::MinSettlement`] while the channel is open and not expired,
		/// the client's signature over the voucher and the node key's over the settlement.
		pub fn check_settlement(
			settlement: &SettlementOf<T>,
			signature: &sp_core::sr25519::Signature,
		) -> Result<CheckedSettlement<T>, Error<T>> {
			let voucher = &settlement.voucher;
			let open = OpenChannels::<T>::get(voucher.channel).ok_or(Error::<T>::UnknownChannel)?;
			ensure!(settlement.node == open.node, Error::<T>::WrongNode);
			ensure!(settlement.calls > 0, Error::<T>::NoCalls);
			let amount = pure::claim(
				open.deposit.unique_saturated_into(),
				open.claimed.unique_saturated_into(),
				voucher.cumulative.unique_saturated_into(),
				settlement.total.unique_saturated_into(),
			)
			.map_err(|error| match error {
				pure::ClaimError::NotAboveClaimed => Error::<T>::NotAboveClaimed,
				pure::ClaimError::AboveDeposit => Error::<T>::AboveDeposit,
				pure::ClaimError::AboveVoucher => Error::<T>::AboveVoucher,
			})?;
			let amount: BalanceOf<T> = amount.unique_saturated_into();
			let now = frame_system::Pallet::<T>::block_number();
			let winding_down = open.closes_at.is_some() || now >= open.expiry;
			ensure!(
				amount >= T::MinSettlement::get() || winding_down,
				Error::<T>::SettlementTooSmall
			);
			let operator = T::Nodes::settling_operator(&open.node, VerificationMode::Vanilla)
				.ok_or(Error::<T>::NodeNotServing)?;
			let genesis = Self::genesis_hash()?;
			let cumulative: u128 = voucher.cumulative.unique_saturated_into();
			let paid =
				message::voucher(&genesis, voucher.channel, cumulative, &voucher.call_digest);
			ensure!(
				voucher.signature.verify(&paid[..], &open.client),
				Error::<T>::BadVoucherSignature
			);
			let settled = message::channel_settlement(
				&genesis,
				voucher.channel,
				settlement.total.unique_saturated_into(),
				&settlement.root,
				settlement.calls,
			);
			ensure!(
				sp_io::crypto::sr25519_verify(signature, &settled, &settlement.node),
				Error::<T>::BadNodeSignature
			);
			Ok((open, amount, operator))
		}

		/// Whether `proof` shows `call` among the calls of settlement `index` of `channel`.
		pub fn served_proof(
			channel: ChannelId,
			index: u32,
			call: &pure::ServedCall,
			proof: &merkle::Proof,
		) -> bool {
			Settlements::<T>::get(channel, index).is_some_and(|settled| {
				proof.leaf_count == settled.calls && merkle::verify(&settled.root, call, proof)
			})
		}

		/// Every client's hold is exactly what its channels have left (deposit less
		/// claimed) and what its held settlements claimed, less what challenged calls gave
		/// back; no channel claimed more than it holds; every held settlement not disputed
		/// ends in a block to come, and is listed there; a disputed one is not, and its
		/// disputes are its opened calls.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::BTreeMap;
			let mut left: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (_, open) in OpenChannels::<T>::iter() {
				ensure!(open.claimed <= open.deposit, "a channel claimed more than its deposit");
				let entry = left.entry(open.client.clone()).or_default();
				*entry = entry.saturating_add(open.deposit.saturating_sub(open.claimed));
			}
			let now = frame_system::Pallet::<T>::block_number();
			let mut opened: BTreeMap<(ChannelId, u32), u32> = BTreeMap::new();
			for (id, call) in OpenedCalls::<T>::iter() {
				ensure!(
					OpenedLeaves::<T>::get((call.channel, call.index, call.position)) == Some(id),
					"an opened call is not indexed by its position"
				);
				*opened.entry((call.channel, call.index)).or_default() += 1;
			}
			ensure!(
				OpenedLeaves::<T>::iter().count() == OpenedCalls::<T>::iter().count(),
				"an opened position names no opened call"
			);
			for (channel, index, count) in Disputes::<T>::iter() {
				ensure!(
					opened.get(&(channel, index)) == Some(&count),
					"a settlement's disputes are not its opened calls"
				);
			}
			for (channel, index, held) in HeldSettlements::<T>::iter() {
				let listed = WindowEnds::<T>::contains_key(held.final_at, (channel, index));
				if Disputes::<T>::contains_key(channel, index) {
					ensure!(!listed, "a disputed settlement is listed to be paid");
				} else {
					ensure!(held.final_at > now, "a held settlement's window ended unpaid");
					ensure!(listed, "a held settlement is not listed by the end of its window");
				}
				let entry = left.entry(held.client.clone()).or_default();
				*entry = entry.saturating_add(held.paid).saturating_add(held.protocol_fee);
			}
			for (at, (channel, index), ()) in WindowEnds::<T>::iter() {
				ensure!(
					HeldSettlements::<T>::get(channel, index).is_some_and(|h| h.final_at == at),
					"a window's end lists no held settlement"
				);
			}
			for (client, expected) in left {
				let held = <T::Currency as frame_support::traits::fungible::InspectHold<_>>::balance_on_hold(
					&HoldReason::ChannelDeposit.into(),
					&client,
				);
				ensure!(held == expected, "a client's hold is not what its channels have left");
			}
			Ok(())
		}
	}
}
