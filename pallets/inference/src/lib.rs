//! # Inference
//!
//! An application requests an inference of a model-hub model; the fee is held from it.
//! The request is assigned to a live inference node that serves the model in the
//! requested verification mode, chosen with probability proportional to its bond. The
//! node's off-chain worker answers with an **unsigned extrinsic whose payload the node key
//! signs**; transaction validation checks it before it enters the pool. On a valid result
//! the node's operator is paid, minus the protocol fee to the treasury: at once for a
//! proven (ZKML) result; for a vanilla or TEE one when its challenge window ends
//! ([`Config::Checks`], the verification pallet in the runtime), unless a verification
//! case checks it first and ends it paid or refunded. A node that
//! misses its deadline is penalized from its bond and the request passes to another node,
//! or, after [`Config::MaxAttempts`] nodes or with none left, expires with a full refund.
//! A node that cannot serve a request (its stored input unavailable everywhere, or not
//! matching the caller's commitment) declines it with [`Pallet::cannot_serve`] instead:
//! no penalty, no pay; the request passes on, or ends with its fee returned but for
//! [`Config::CannotServeFee`]. No fee stays held past its last deadline.
//!
//! ## Evidence
//! - vanilla: the node key's signature;
//! - TEE: the same signature, accepted only while the node's attestation is valid and its
//!   measurement still allowed (see the node registry);
//! - ZKML: a Groth16 proof (BN254, `opg-zk-verifier`'s statement version 1) under the
//!   model's verifying key that the model, run on the input committed at request time,
//!   gave the output, bound to this chain, request and node; plus the node's signature.
//!   ZKML requests settle individually ([`Pallet::submit_proven_result`], or several of one
//!   model at once with [`Pallet::submit_proven_batch`]); their input is inline (the chain
//!   computes its commitment) or stored off chain with the caller's commitment
//!   ([`Pallet::request_zkml_stored`]).
//!
//! ## Where the code is
//! - `lib.rs`: configuration, storage, events, errors, calls (in `call_index` order) and
//!   transaction validation;
//! - `validation.rs`: what the pool and dispatch both check before a result settles;
//! - `lifecycle.rs`: opening, assigning, settling, closing and expiring requests, and the
//!   invariants `try_state` checks;
//! - `offchain.rs`: the off-chain worker that serves a node's assignments.
//!
//! ## Randomness and what a block author can bias
//! The seed of an assignment is `blake2_256(SCALE("opg/assign", r, request id, attempt))`:
//! the 10 bytes of `opg/assign`, the 32 bytes of `r`, the request id as 8 bytes and the
//! attempt as 4 bytes, little-endian. `r` is [`Config::Randomness`] for the subject
//! `opg/assign`; in the runtime that is BABE's VRF output of the parent block's author
//! (`pallet_babe::ParentBlockRandomness`: `blake2_256("opg/assign" ‖ vrf output)`). Every
//! block carries one (the runtime allows primary and secondary *VRF* slots only), and
//! a VRF output is a function of the author's key, the epoch randomness and the slot:
//! the parent's author could not choose it, only withhold the block and lose the slot.
//! Under Aura `r` was the parent hash, which that author could grind at will by
//! reordering its extrinsics.
//!
//! What remains, the residual bias:
//! - `r` is public once the parent block is: the author of the including block (and a
//!   requester timing its submission) can compute where a request would go, and that
//!   author decides whether to include a request now or leave it for a later block (a
//!   different `r`), so it can try a few candidate outcomes per request;
//! - a parent author can withhold its block when its VRF output does not suit it,
//!   forfeiting the block: one extra try per slot it owns.
//!
//! Either steers only among nodes that are registered, bonded, live and serve the model:
//! steering a request to a node of one's own still needs that node's bond, and a bad
//! result from it is still checked and still misses its deadline. A requester who cares
//! bounds the exposure with a short `window`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
mod lifecycle;
#[cfg(test)]
mod mock;
mod offchain;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
mod validation;
pub mod weights;

pub use offchain::{EXECUTOR_NODE_KEY, EXECUTOR_TOKEN_KEY, EXECUTOR_URL_KEY, NODE_KEY_TYPE};
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

use opg_primitives::{
	Candidate, CheckInput, HeldResult, HeldResults, InferenceNodes, ModelCatalog, ModelUsage,
	NodeSlashing, ResultChecks, ToCheck,
};
use opg_settlement::{fees, merkle, message, selection};
use opg_zk_verifier::{Groth16Verifier, Statement};
use polkadot_sdk::{frame_support, frame_system, sp_core, sp_io, sp_runtime};

/// Tag prefix of result transactions in the pool.
const TX_TAG: &[u8] = b"opg-inference";
/// The most request ids one page of [`Pallet::assignments_page`] (and the
/// `inference_assignments` RPC) returns.
pub const MAX_ASSIGNMENTS_PAGE: u32 = 1_000;
/// The most records one [`Pallet::prune_records`] prunes.
pub const MAX_PRUNE: u32 = 256;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{BalancedHold, Credit, Inspect, Mutate, MutateHold},
			OnUnbalanced,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{Saturating, UniqueSaturatedInto},
		Perbill,
	};

	/// The balance type of [`Config::Currency`].
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// An open request as stored.
	pub type RequestOf<T> =
		Request<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// A request's input.
	pub type InputOf<T> = Input<<T as Config>::MaxInlineInput>;
	/// A result as submitted.
	pub type ResultOf<T> = InferenceResult<<T as Config>::MaxInlineOutput>;
	/// A batch as submitted.
	pub type BatchResultOf<T> = BatchResult<<T as Config>::MaxBatchLen>;
	/// A ZKML result with its proof and signature, as submitted in a proven batch.
	pub type ProvenResultOf<T> = ProvenResult<<T as Config>::MaxInlineOutput>;
	/// A settled request's record.
	/// A held payment as stored.
	pub type HeldPaymentOf<T> =
		HeldPayment<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// A settled result as stored.
	pub type SettledOf<T> =
		Settled<BalanceOf<T>, BlockNumberFor<T>, <T as Config>::MaxInlineOutput>;
	/// A settled batch.
	pub type BatchOf<T> = Batch<BlockNumberFor<T>, <T as Config>::MaxBatchLen>;

	/// Default configurations of this pallet.
	pub mod config_preludes {
		use super::*;
		use frame_support::{derive_impl, parameter_types, traits::ConstU32};

		parameter_types! {
			/// The protocol's share in tests: 5%.
			pub const TestProtocolFee: Perbill = Perbill::from_percent(5);
		}

		/// What the pallet's mock runtimes share: the bounds they test against.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type ProtocolFee = TestProtocolFee;
			type MaxAttempts = ConstU32<3>;
			type MaxInlineInput = ConstU32<64>;
			type MaxInlineOutput = ConstU32<64>;
			type MaxBatchLen = ConstU32<16>;
			type MaxExpiriesPerBlock = ConstU32<4>;
			type MaxCandidates = ConstU32<8>;
			type UnsignedPriority = frame_support::traits::ConstU64<{ u64::MAX / 2 }>;
			type ProofVerifier = opg_zk_verifier::PureRust;
			type Checks = ();
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config:
		polkadot_sdk::frame_system::Config + frame_system::offchain::CreateBare<Call<Self>>
	{
		/// The currency fees are held and paid in.
		#[pallet::no_default]
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ BalancedHold<Self::AccountId>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;
		/// The model hub.
		#[pallet::no_default]
		type Models: ModelCatalog<BalanceOf<Self>>;
		/// The node registry.
		#[pallet::no_default]
		type Nodes: InferenceNodes<Self::AccountId, BalanceOf<Self>, ModelId>;
		/// The protocol's share of every payment.
		type ProtocolFee: Get<Perbill>;
		/// Where the protocol's share goes.
		#[pallet::no_default]
		type ProtocolFeeSink: OnUnbalanced<Credit<Self::AccountId, Self::Currency>>;
		/// Taken from a node's bond for each missed deadline, and from a node that declined
		/// a request another node then served.
		#[pallet::no_default]
		type MissedDeadlinePenalty: Get<BalanceOf<Self>>;
		/// Kept from the fee of a request that ends unserved after a node declined it
		/// ([`Pallet::cannot_serve`]), and paid to [`Config::ProtocolFeeSink`]: a request
		/// no node can serve costs its maker this much.
		#[pallet::no_default]
		type CannotServeFee: Get<BalanceOf<Self>>;
		/// Held from a requester with each request, and returned when the request's record
		/// is pruned ([`Pallet::prune_records`], after [`Config::RecordRetention`]), or at
		/// once if the request ends unserved: the chain keeps no record for free.
		#[pallet::no_default]
		type RecordDeposit: Get<BalanceOf<Self>>;
		/// Blocks a settled request's record (and its batch) stays before anyone may prune
		/// it; an archive node keeps it reachable after that.
		#[pallet::no_default]
		type RecordRetention: Get<BlockNumberFor<Self>>;
		/// The shortest answer window a request may ask for.
		#[pallet::constant]
		#[pallet::no_default]
		type MinWindow: Get<BlockNumberFor<Self>>;
		/// The longest answer window a request may ask for.
		#[pallet::constant]
		#[pallet::no_default]
		type MaxWindow: Get<BlockNumberFor<Self>>;
		/// The most nodes a request is assigned to before it expires.
		#[pallet::constant]
		type MaxAttempts: Get<u32>;
		/// The largest inline input.
		#[pallet::constant]
		type MaxInlineInput: Get<u32>;
		/// The largest inline output.
		#[pallet::constant]
		type MaxInlineOutput: Get<u32>;
		/// The most results in one batch.
		#[pallet::constant]
		type MaxBatchLen: Get<u32>;
		/// The most missed deadlines handled at the start of one block. Any number of
		/// deadlines may fall in one block: those beyond this many are handled in the next
		/// blocks, in order (a result is refused once its deadline has passed either way).
		#[pallet::constant]
		type MaxExpiriesPerBlock: Get<u32>;
		/// The most candidates of one assignment (the node registry's nodes per model):
		/// each costs a read of its assigned count ([`AssignedCount`]), which the weights
		/// of `request` and of a reassignment add to their benchmarked ones.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;
		/// Pool priority of result transactions.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;
		/// Seeds assignments: in the runtime BABE's VRF output of the parent block
		/// (`pallet_babe::ParentBlockRandomness`), which its author could not choose. `None`
		/// (a parent without one: only genesis) falls back to the parent hash.
		#[pallet::no_default]
		type Randomness: frame_support::traits::Randomness<Option<Self::Hash>, BlockNumberFor<Self>>;
		/// Verifies ZKML proofs (in the runtime: natively, through host functions).
		type ProofVerifier: Groth16Verifier + Default;
		/// The verification game (`pallet-verification` in the runtime): how long a
		/// result of each mode is held before its node is paid, and whom to tell that it
		/// is held. `()`: every result is paid at once.
		type Checks: ResultChecks;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
		/// Publishes models and registers nodes for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: benchmarking::BenchmarkHelper;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A request's fee, until it is paid or refunded.
		RequestFee,
		/// A request's record deposit, until its record is pruned or it ends unserved.
		RecordDeposit,
	}

	/// The id the next request gets.
	#[pallet::storage]
	pub type NextRequestId<T: Config> = StorageValue<_, RequestId, ValueQuery>;

	/// Open requests.
	#[pallet::storage]
	pub type Requests<T: Config> = StorageMap<_, Twox64Concat, RequestId, RequestOf<T>>;

	/// Inputs of open requests.
	#[pallet::storage]
	pub type Inputs<T: Config> = StorageMap<_, Twox64Concat, RequestId, InputOf<T>>;

	/// Input commitments (`opg-zk-verifier`'s, little-endian) of open ZKML requests,
	/// computed when the request is made.
	#[pallet::storage]
	pub type InputCommitments<T: Config> = StorageMap<_, Twox64Concat, RequestId, [u8; 32]>;

	/// How many open requests each model has: while any, the model hub keeps the model's
	/// record and verifying key ([`ModelUsage`]).
	#[pallet::storage]
	pub type OpenRequestsPerModel<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, u32, OptionQuery>;

	/// The nodes that declined each open request ([`Pallet::cannot_serve`]), in order:
	/// each is penalized as for a missed deadline if another node serves it.
	#[pallet::storage]
	pub type Declines<T: Config> =
		StorageMap<_, Twox64Concat, RequestId, BoundedVec<NodeKey, T::MaxAttempts>, ValueQuery>;

	/// How many requests each node has declined, ever.
	#[pallet::storage]
	pub type DeclineCounts<T: Config> = StorageMap<_, Blake2_128Concat, NodeKey, u32, ValueQuery>;

	/// Open requests by assigned node: what a node's off-chain worker serves.
	#[pallet::storage]
	pub type Assignments<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, NodeKey, Twox64Concat, RequestId, ()>;

	/// How many open requests each node is assigned: a node is assigned no more than
	/// its declared jobs per block times a request's window.
	#[pallet::storage]
	pub type AssignedCount<T: Config> = StorageMap<_, Blake2_128Concat, NodeKey, u32, OptionQuery>;

	/// Open requests by their current deadline: `(deadline, request)`. Unbounded per
	/// block: a request is never refused for the block its deadline falls in.
	#[pallet::storage]
	pub type Deadlines<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, RequestId, ()>;

	/// The earliest block whose missed deadlines may not all have been handled yet:
	/// [`Hooks::on_initialize`] handles those of the blocks before the current one from
	/// here, at most [`Config::MaxExpiriesPerBlock`] a block.
	#[pallet::storage]
	pub type ExpiryCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Settled requests: the auditable record of who served what, with which evidence.
	#[pallet::storage]
	pub type Results<T: Config> = StorageMap<_, Twox64Concat, RequestId, SettledOf<T>>;

	/// Settled results whose payment is held through their challenge window
	/// ([`Config::Checks`]): the fee stays held from the requester until the window ends
	/// (paid) or the verification game ends the result (paid or refunded).
	#[pallet::storage]
	pub type HeldPayments<T: Config> = StorageMap<_, Twox64Concat, RequestId, HeldPaymentOf<T>>;

	/// The inputs of held results: kept after settlement until the payment is released or
	/// refunded, so that the verifiers of a case can re-execute them
	/// ([`opg_primitives::HeldResults::to_check`]).
	#[pallet::storage]
	pub type HeldInputs<T: Config> = StorageMap<_, Twox64Concat, RequestId, InputOf<T>>;

	/// Held results by the block their window ends in.
	#[pallet::storage]
	pub type WindowEnds<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, RequestId, ()>;

	/// The id the next batch gets.
	#[pallet::storage]
	pub type NextBatchId<T: Config> = StorageValue<_, BatchId, ValueQuery>;

	/// Settled batches.
	#[pallet::storage]
	pub type Batches<T: Config> = StorageMap<_, Twox64Concat, BatchId, BatchOf<T>>;

	/// The record deposit of each open request and settled record: who paid it, and how
	/// much ([`Config::RecordDeposit`] when the request was made).
	#[pallet::storage]
	pub type RecordDeposits<T: Config> =
		StorageMap<_, Twox64Concat, RequestId, (T::AccountId, BalanceOf<T>)>;

	/// How many of each batch's results are still recorded: the batch goes with the last.
	#[pallet::storage]
	pub type BatchRecordsLeft<T: Config> = StorageMap<_, Twox64Concat, BatchId, u32>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A request was made and `fee` held from `requester`.
		RequestSubmitted {
			/// The request.
			request: RequestId,
			/// Who pays.
			requester: T::AccountId,
			/// The model version.
			model: ModelId,
			/// The evidence the result must carry.
			mode: VerificationMode,
			/// The fee held.
			fee: BalanceOf<T>,
		},
		/// A request was assigned to `node`, which must answer by block `deadline`.
		RequestAssigned {
			/// The request.
			request: RequestId,
			/// The node key.
			node: NodeKey,
			/// The last block in which the node may answer.
			deadline: BlockNumberFor<T>,
		},
		/// A result was accepted: `paid` to the node's operator, `protocol_fee` to the
		/// treasury.
		ResultAccepted {
			/// The request.
			request: RequestId,
			/// The node key.
			node: NodeKey,
			/// SHA-256 of the output.
			output_hash: [u8; 32],
			/// Paid to the node's operator.
			paid: BalanceOf<T>,
			/// Sent to the treasury.
			protocol_fee: BalanceOf<T>,
		},
		/// A result's payment is held through its challenge window: paid when it ends,
		/// unless the verification game checks the result first.
		PaymentHeld {
			/// The request.
			request: RequestId,
			/// The block the window ends in.
			until: BlockNumberFor<T>,
		},
		/// A held payment was paid: the window ended, or the result was upheld.
		PaymentReleased {
			/// The request.
			request: RequestId,
			/// Paid to the node's operator.
			paid: BalanceOf<T>,
			/// Sent to the treasury.
			protocol_fee: BalanceOf<T>,
		},
		/// A held payment went back to the requester: the result was not upheld.
		PaymentRefunded {
			/// The request.
			request: RequestId,
			/// Returned.
			refund: BalanceOf<T>,
		},
		/// A node settled `count` results under `root`.
		BatchSettled {
			/// The batch.
			batch: BatchId,
			/// The node key.
			node: NodeKey,
			/// The Merkle root the node signed.
			root: [u8; 32],
			/// The results it settles.
			count: u32,
		},
		/// `node` missed its deadline and lost `penalty` of its bond.
		DeadlineMissed {
			/// The request.
			request: RequestId,
			/// The node key.
			node: NodeKey,
			/// Taken from the node's bond.
			penalty: BalanceOf<T>,
		},
		/// A request got no result in time from any node; its fee was returned.
		RequestExpired {
			/// The request.
			request: RequestId,
			/// Returned to the requester.
			refunded: BalanceOf<T>,
		},
		/// The assigned node declined a request it cannot serve; the request passes to
		/// another node or ends ([`Event::RequestUnservable`]).
		RequestDeclined {
			/// The request.
			request: RequestId,
			/// The node that declined it.
			node: NodeKey,
			/// Why.
			reason: CannotServeReason,
		},
		/// A request that nodes declined ended unserved: its fee was returned but for the
		/// cannot-serve fee.
		RequestUnservable {
			/// The request.
			request: RequestId,
			/// Returned to the requester.
			refunded: BalanceOf<T>,
			/// Kept: [`Config::CannotServeFee`], at most the request's fee.
			handling_fee: BalanceOf<T>,
		},
		/// Settled records whose retention had passed were pruned, and their deposits
		/// returned to their requesters.
		RecordsPruned {
			/// How many records.
			count: u32,
			/// The deposits returned.
			released: BalanceOf<T>,
		},
		/// A node declined a request that another node then served: it is penalized as for
		/// a missed deadline.
		DeclineContradicted {
			/// The request.
			request: RequestId,
			/// The node that declined it.
			node: NodeKey,
			/// Taken from its bond.
			penalty: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The model does not exist or takes no new requests.
		ModelUnavailable,
		/// The model does not allow this verification mode.
		ModeNotSupported,
		/// ZKML requests settle individually and take their input inline, or stored with
		/// its commitment (`request_zkml_stored`).
		ZkmlNeedsInlineInput,
		/// A proven batch must answer requests of one model.
		MixedModels,
		/// Private requests take their input as a hash, not inline.
		PrivateInputMustBeStored,
		/// An input must not be empty (inline, or a stored input's declared size).
		EmptyInput,
		/// The input (inline, or a stored input's declared size) is not the byte length
		/// the model's input schema gives.
		InputLengthMismatch,
		/// A ZKML result's output is not the byte length the model's output schema gives.
		OutputLengthMismatch,
		/// The model's price, with the verification surcharge, is above the caller's maximum fee.
		FeeAboveMax,
		/// The answer window is outside the allowed range.
		InvalidWindow,
		/// No live node serves this model in this mode with room in its queue for this
		/// window (each serves its declared jobs per block).
		NoNodeAvailable,
		/// The requester cannot cover the fee.
		InsufficientBalance,
		/// No open request has this id.
		RequestNotFound,
		/// The request is assigned to another node.
		NotAssigned,
		/// The deadline has passed.
		DeadlinePassed,
		/// The output does not match the request's settlement mode.
		WrongSettlementMode,
		/// The node key's signature does not verify.
		BadSignature,
		/// The node may not settle this mode now (inactive, or TEE without a valid
		/// attestation).
		NodeCannotSettle,
		/// A batch must have at least one result.
		EmptyBatch,
		/// A leaf's input hash is not its request's.
		InputHashMismatch,
		/// A request appears twice in a batch.
		DuplicateLeaf,
		/// Paying the node failed.
		PaymentFailed,
		/// The genesis block hash is not yet known.
		GenesisUnknown,
		/// A ZKML request is settled only with a proof (`submit_proven_result`).
		ProofRequired,
		/// Only ZKML requests are settled with a proof.
		NotZkml,
		/// The model has no verifying key any more.
		VerifyingKeyMissing,
		/// The proof does not verify for this request, node, input and output.
		ProofRejected,
		/// `request_zkml_stored` takes a stored input.
		StoredInputExpected,
		/// The input commitment is not a canonical BN254 scalar (32 bytes little-endian).
		InvalidInputCommitment,
		/// Only a stored input can be unavailable: an inline input is on chain.
		InputIsInline,
		/// Only a stored ZKML request's input commitment can be disputed.
		NoCommitmentToDispute,
		/// The commitment the node computed is the caller's: the input matches it.
		CommitmentMatches,
		/// The request has no settled record, its retention period has not passed, or its
		/// payment is still held.
		NotPrunable,
		/// Every on-chain request id is taken: ids from `opg_primitives::DIRECT_CALL_IDS` on
		/// name direct calls.
		NoRequestIdLeft,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Requests whose deadline has passed get no more time: at most
		/// [`Config::MaxExpiriesPerBlock`] of them, earliest deadline first. Held payments
		/// whose challenge window ends now are paid, all of them (no more than the results
		/// settled in the block one window earlier).
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let (handled, blocks) = Self::expire_missed(now, T::MaxExpiriesPerBlock::get());
			let ended = Self::end_windows(now);
			T::WeightInfo::on_initialize(handled)
				.saturating_add(T::DbWeight::get().reads_writes(blocks.into(), 1))
				.saturating_add(T::WeightInfo::end_windows(ended))
		}

		/// Serves the requests assigned to the node keys in this node's keystore (see
		/// `offchain.rs`); a node with no such key or no executor URL does nothing.
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::serve_assignments(now);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		#[cfg(feature = "std")]
		fn integrity_test() {
			assert!(T::MinWindow::get() >= One::one(), "a window is at least one block");
			assert!(T::MinWindow::get() <= T::MaxWindow::get(), "MinWindow <= MaxWindow");
			assert!(T::MaxAttempts::get() >= 1, "a request is assigned at least once");
			assert!(T::MaxExpiriesPerBlock::get() >= 1, "missed deadlines are handled");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Requests an inference of `model` on `input`, holding the model's price from the
		/// caller if it is at most `max_fee`, and assigns it to a node that must answer
		/// within `window` blocks.
		///
		/// A ZKML request here takes its input inline and settles individually; its input
		/// commitment is computed now, at a cost that grows with the input (for a stored
		/// input, see [`Self::request_zkml_stored`]).
		///
		/// Charged for the most candidate nodes a model can have; what is not used (a model
		/// with fewer nodes) is refunded.
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::request_weight(*mode, input, T::MaxCandidates::get()))]
		pub fn request(
			origin: OriginFor<T>,
			model: ModelId,
			input: InputOf<T>,
			mode: VerificationMode,
			settlement: SettlementMode,
			max_fee: BalanceOf<T>,
			window: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			let requester = ensure_signed(origin)?;
			let charged = Self::request_weight(mode, &input, T::Nodes::listed(&model));
			Self::submit_request(requester, model, input, mode, settlement, max_fee, window, None)?;
			Ok(Some(charged).into())
		}

		/// Settles one request with the assigned node's result: unsigned, authorized by
		/// the node key's `signature` over [`message::result`]. Pays the node's operator.
		///
		/// Charged as a TEE result (its attestation checked); a vanilla one is refunded the
		/// difference.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::submit_result_tee(result.output.inline_len()))]
		pub fn submit_result(
			origin: OriginFor<T>,
			result: ResultOf<T>,
			signature: sp_core::sr25519::Signature,
		) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			let (request, operator) = Self::check_result(&result, &signature, None)?;
			let charged = match request.mode {
				VerificationMode::Tee => {
					T::WeightInfo::submit_result_tee(result.output.inline_len())
				},
				_ => T::WeightInfo::submit_result(result.output.inline_len()),
			};
			let output_hash = result.output.hash();
			let settlement = Settlement::Single { signature };
			Self::settle(
				result.request,
				request,
				&operator,
				result.output,
				output_hash,
				settlement,
			)?;
			Ok(Some(charged).into())
		}

		/// Settles many `Batch`-mode requests of one node under a Merkle root: unsigned,
		/// authorized by the node key's `signature` over [`message::batch`] of the root
		/// the runtime computes from the leaves. Every leaf's request must be open,
		/// assigned to the node and its input hash must match.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::submit_batch(batch.leaves.len() as u32))]
		pub fn submit_batch(
			origin: OriginFor<T>,
			batch: BatchResultOf<T>,
			signature: sp_core::sr25519::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			let (requests, operator, root) = Self::check_batch(&batch, &signature)?;
			let id = NextBatchId::<T>::get();
			NextBatchId::<T>::put(id.saturating_add(1));
			for (index, (leaf, request)) in batch.leaves.iter().zip(requests).enumerate() {
				let settlement = Settlement::InBatch { batch: id, index: index as u32 };
				let output = Output::Hash(leaf.output_hash);
				Self::settle(
					leaf.request,
					request,
					&operator,
					output,
					leaf.output_hash,
					settlement,
				)?;
			}
			let count = batch.leaves.len() as u32;
			BatchRecordsLeft::<T>::insert(id, count);
			Batches::<T>::insert(
				id,
				Batch {
					node: batch.node,
					root,
					signature,
					leaves: batch.leaves,
					at: frame_system::Pallet::<T>::block_number(),
				},
			);
			Self::deposit_event(Event::BatchSettled { batch: id, node: batch.node, root, count });
			Ok(())
		}

		/// Settles one ZKML request with the assigned node's result and its Groth16
		/// `proof`: unsigned, authorized by the node key's `signature` over
		/// [`message::result`], and accepted only if the proof verifies under the model's
		/// key for this chain, request, node, the input committed at request time and the
		/// output. Pays the node's operator.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::submit_result(result.output.inline_len())
			.saturating_add(T::WeightInfo::verify_proof())
			// The verifying key and the input commitment.
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(Weight::from_parts(0, opg_zk_verifier::MAX_KEY_LEN as u64 + 64)))]
		pub fn submit_proven_result(
			origin: OriginFor<T>,
			result: ResultOf<T>,
			proof: ZkProof,
			signature: sp_core::sr25519::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			let (request, operator) = Self::check_result(&result, &signature, Some(&proof))?;
			let output_hash = result.output.hash();
			let settlement = Settlement::Proven { signature, proof };
			Self::settle(result.request, request, &operator, result.output, output_hash, settlement)
		}

		/// Settles many ZKML requests of one model at once: each result as
		/// [`Pallet::submit_proven_result`] would (open, assigned, signed by its node key),
		/// and all the proofs verified together as one batch under the model's key (k + 2
		/// Miller loops for k proofs). One failing proof refuses the whole batch.
		#[pallet::call_index(4)]
		#[pallet::weight(results
			.iter()
			.map(|proven| {
				T::WeightInfo::submit_result(proven.result.output.inline_len())
					.saturating_add(T::DbWeight::get().reads(1))
			})
			.fold(Weight::zero(), |total, one| total.saturating_add(one))
			.saturating_add(T::WeightInfo::verify_batch(results.len() as u32))
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(Weight::from_parts(0, opg_zk_verifier::MAX_KEY_LEN as u64 + 64)))]
		pub fn submit_proven_batch(
			origin: OriginFor<T>,
			results: BoundedVec<ProvenResultOf<T>, T::MaxBatchLen>,
		) -> DispatchResult {
			ensure_none(origin)?;
			let checked = Self::check_proven_batch(&results)?;
			for (proven, (request, operator)) in results.into_iter().zip(checked) {
				let ProvenResult { result, proof, signature } = proven;
				let output_hash = result.output.hash();
				let settlement = Settlement::Proven { signature, proof };
				Self::settle(
					result.request,
					request,
					&operator,
					result.output,
					output_hash,
					settlement,
				)?;
			}
			Ok(())
		}

		/// Requests a ZKML inference of `model` on a stored input (`input` must be
		/// [`Input::Stored`]): the input stays off chain, and the caller gives its input
		/// commitment (`opg-zk-verifier`'s Poseidon commitment of the input bytes, 32 bytes
		/// little-endian, a canonical BN254 scalar) to which the proof binds the result. The
		/// executor proves the input it fetches by hash, so a commitment that does not match
		/// those bytes yields no proof: the request expires and its fee is refunded. Holds
		/// the fee and assigns the request as [`Self::request`] does; settles individually.
		#[pallet::call_index(5)]
		#[pallet::weight(
			Pallet::<T>::request_weight(VerificationMode::Zkml, input, T::MaxCandidates::get())
				.saturating_add(T::DbWeight::get().writes(1))
		)]
		pub fn request_zkml_stored(
			origin: OriginFor<T>,
			model: ModelId,
			input: InputOf<T>,
			input_commitment: [u8; 32],
			max_fee: BalanceOf<T>,
			window: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			let requester = ensure_signed(origin)?;
			let charged =
				Self::request_weight(VerificationMode::Zkml, &input, T::Nodes::listed(&model))
					.saturating_add(T::DbWeight::get().writes(1));
			ensure!(matches!(input, Input::Stored { .. }), Error::<T>::StoredInputExpected);
			ensure!(
				opg_zk_verifier::field_from_bytes(&input_commitment).is_some(),
				Error::<T>::InvalidInputCommitment
			);
			let (mode, settlement) = (VerificationMode::Zkml, SettlementMode::Individual);
			Self::submit_request(
				requester,
				model,
				input,
				mode,
				settlement,
				max_fee,
				window,
				Some(input_commitment),
			)?;
			Ok(Some(charged).into())
		}

		/// The assigned node declines a request it cannot serve: unsigned, authorized by
		/// the node key's `signature` over [`message::cannot_serve`]. Justified only for a
		/// stored input (unavailable from every source the node knows), or for a stored
		/// ZKML input whose bytes do not match the caller's commitment (the node names the
		/// commitment it computed). The node is not penalized and not paid, the decline is
		/// counted ([`DeclineCounts`]), and the request passes to another node with a new
		/// window; if none is left, it ends and its fee is returned but for
		/// [`Config::CannotServeFee`]. A node whose decline another node contradicts by
		/// serving the request is penalized as for a missed deadline.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::cannot_serve())]
		pub fn cannot_serve(
			origin: OriginFor<T>,
			notice: CannotServe,
			signature: sp_core::sr25519::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			let request = Self::check_cannot_serve(&notice, &signature)?;
			Self::decline(notice, request);
			Ok(())
		}

		/// Prunes the settled records of `requests`, each at least
		/// [`Config::RecordRetention`] blocks old, and returns their record deposits to
		/// their requesters; a batch goes with its last record. Anyone may call it (the
		/// records' history stays in events and on archive nodes). One record that is not
		/// prunable refuses the call (`NotPrunable`).
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::prune_records(requests.len() as u32))]
		pub fn prune_records(
			origin: OriginFor<T>,
			requests: BoundedVec<RequestId, ConstU32<MAX_PRUNE>>,
		) -> DispatchResult {
			ensure_signed(origin)?;
			let released = Self::prune(&requests)?;
			Self::deposit_event(Event::RecordsPruned { count: requests.len() as u32, released });
			Ok(())
		}
	}

	// `ValidateUnsigned` is deprecated for `#[pallet::authorize]` (removal after April
	// 2027); it stays until polkadot.js decodes the general transactions that replace it.
	#[allow(deprecated)]
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		/// Result transactions (and cannot-serve notices) enter the pool only if they
		/// would settle: the node is assigned, in time, may settle the mode, its signature
		/// verifies and a ZKML proof verifies. Each provides its request ids, so a request has at most one
		/// result in the pool, and lives until its deadline. A refusal says why
		/// ([`Pallet::pool_refusal`]).
		fn validate_unsigned(_source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let invalid = Self::pool_refusal;
			let (requests, first_deadline) = match call {
				Call::submit_result { result, signature } => {
					let (request, _) =
						Self::check_result(result, signature, None).map_err(invalid)?;
					(alloc::vec![result.request], request.deadline)
				},
				Call::submit_proven_result { result, proof, signature } => {
					let (request, _) =
						Self::check_result(result, signature, Some(proof)).map_err(invalid)?;
					(alloc::vec![result.request], request.deadline)
				},
				Call::submit_proven_batch { results } => {
					let requests = Self::check_proven_batch(results).map_err(invalid)?;
					let first = requests.iter().map(|(r, _)| r.deadline).min().unwrap_or_default();
					(results.iter().map(|proven| proven.result.request).collect(), first)
				},
				Call::submit_batch { batch, signature } => {
					let (requests, _, _) = Self::check_batch(batch, signature).map_err(invalid)?;
					let first = requests.iter().map(|r| r.deadline).min().unwrap_or_default();
					(batch.leaves.iter().map(|leaf| leaf.request).collect(), first)
				},
				Call::cannot_serve { notice, signature } => {
					let request = Self::check_cannot_serve(notice, signature).map_err(invalid)?;
					(alloc::vec![notice.request], request.deadline)
				},
				_ => return InvalidTransaction::Call.into(),
			};
			let now = frame_system::Pallet::<T>::block_number();
			let longevity: u64 = first_deadline
				.saturating_sub(now)
				.saturating_add(One::one())
				.unique_saturated_into();
			let mut transaction = ValidTransaction::with_tag_prefix("OpgInference")
				.priority(T::UnsignedPriority::get())
				.longevity(longevity)
				.propagate(true);
			for request in requests {
				transaction = transaction.and_provides((TX_TAG, request));
			}
			transaction.build()
		}

		/// When a block is built or imported, only what can have changed since the pool
		/// validated the transaction: the requests it answers are still open, assigned to
		/// the node and in time. Signatures and proofs cannot change; dispatch checks them
		/// (once, as the weight counts them), and a forged transaction that an author
		/// includes anyway fails there and changes nothing.
		fn pre_dispatch(call: &Self::Call) -> Result<(), TransactionValidityError> {
			let open = |id: RequestId, node: &NodeKey| {
				Self::open_request(id, node)
					.map(|_| ())
					.map_err(|error| Self::pool_refusal(error).into())
			};
			match call {
				Call::submit_result { result, .. } | Call::submit_proven_result { result, .. } => {
					open(result.request, &result.node)
				},
				Call::submit_proven_batch { results } => results
					.iter()
					.try_for_each(|proven| open(proven.result.request, &proven.result.node)),
				Call::submit_batch { batch, .. } => {
					batch.leaves.iter().try_for_each(|leaf| open(leaf.request, &batch.node))
				},
				Call::cannot_serve { notice, .. } => open(notice.request, &notice.node),
				_ => Err(InvalidTransaction::Call.into()),
			}
		}
	}
}
