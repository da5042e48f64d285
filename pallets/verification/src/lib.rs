//! # Verification
//!
//! Inference nodes execute; verification nodes check them, so that no single executor is
//! trusted. The game's rules are `opg-verification`'s (FRAME-free, property-tested); this
//! pallet keeps its state, moves its funds and takes its moves as transactions.
//!
//! ## What happens to a result
//! - Settlement holds a vanilla or TEE result's payment through its **challenge window**
//!   ([`opg_verification::Params::challenge_window`], or its mode's own,
//!   [`Pallet::set_mode_params`]) instead of paying at once
//!   ([`opg_primitives::ResultChecks`]); proven (ZKML) results are paid at once.
//! - [`SAMPLING_DELAY`] blocks after a result is held, the randomness of that block —
//!   which its node could not know when it answered — draws whether it is **sampled**
//!   ([`opg_verification::sampled`], `sample_rate` or its mode's own). Anyone may also
//!   [`Pallet::challenge`] a held result by holding the challenge bond; its committee is
//!   drawn at the next block's start, so the challenger cannot pick the randomness.
//! - A sampled result gets a **case** if a verifier can be drawn (else it is left to its
//!   window); a challenged one always does (with none drawn, governance decides). A case has a
//!   committee drawn by bond among the
//!   nodes with the `VERIFIER` role that serve its model, never of the node's operator, at
//!   most one per operator. Its verifiers re-execute the result and [`Pallet::commit`]
//!   then [`Pallet::reveal`] their verdicts, unsigned transactions signed by their node
//!   keys. Agreement upholds. A dispute of a result its node can prove (a quantized model
//!   with a verifying key, the input on chain) waits for the node's Groth16 proof
//!   ([`Pallet::prove`]): upheld if it comes in time, overturned if not. Any other dispute
//!   goes to a larger committee, then to governance ([`Pallet::decide`], the
//!   `GovernanceOrigin`). A phase whose deadline passes moves on by itself at the next
//!   block.
//! - When a case ends, [`opg_verification::payout()`] says who gets what: the payment goes to
//!   the node (upheld) or back to the client; a cheating node loses a capped part of its
//!   bond to the verifiers that were right and the challenger; a false challenger's bond
//!   goes to the node; verifiers that did not reveal or were wrong lose a penalty to the
//!   treasury. A result never sampled nor challenged is paid when its window ends.
//!
//! Nothing stays held forever: a case ends by `longest_case` blocks after it opens
//! ([`opg_verification::Params::longest_case`]), and settlement pays every undisputed
//! result when its window ends.
//!
//! The off-chain worker ([`offchain`]) plays both sides: a verification node re-executes
//! the results of its seats on its executor and commits, then reveals, its verdicts; an
//! inference node proves its disputed results.
//!
//! A private request's input and evidence are its requester's alone, except to the
//! verifiers seated on its case: their executors read them from the serving node's with
//! a read permission signed by their node key, which the serving executor checks against
//! [`Pallet::verifier_reads`] ([`runtime_api::VerificationApi`]).
//!
//! ## Honeypots
//! So that a verifier cannot sign "valid" without checking, the protocol plants results
//! known to be wrong: a node of its own serves them, from requesters of its own, and they
//! look like any other result until their case's committee has committed. Then the
//! planted result's node key and the [`HoneypotAuthority`] key set by governance
//! ([`Pallet::set_honeypot_authority`]) both sign [`opg_settlement::message::honeypot`],
//! and anyone submits it ([`Pallet::expose`]): the case ends overturned
//! ([`opg_verification::Case::expose`]), the verifiers that said "valid" (or hid their
//! committed verdict) lose the wrong-verdict penalty, those that said "invalid" share the
//! surcharge, and the planted node is not slashed. Both keys must sign: the authority alone
//! cannot brand an honest node's result, and a node alone cannot dodge its slash.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(test)]
mod mock;
pub mod offchain;
pub mod runtime_api;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use opg_primitives::{
	CheckInput, HardwareClass, HeldResult, HeldResults, NodeKey, RequestId, ResultChecks,
	VerifierNodes, VerifierReads,
};
use opg_settlement::message;
use opg_verification::{
	self as game, Case, ModeParams, Outcome, Params, Party, Referee, Source, Stakes, Step, Verdict,
};
use polkadot_sdk::{frame_support, frame_system, sp_core, sp_io, sp_runtime};

/// Blocks between a result being held and its sampling draw: the draw reads the randomness
/// of a block built after the one the result landed in.
pub const SAMPLING_DELAY: u64 = 2;

/// The longest output a [`Pallet::prove`] carries (proven models' outputs are small).
pub const MAX_PROVEN_OUTPUT: u32 = 16 * 1024;
/// The length of an encoded Groth16 proof.
pub const PROOF_LEN: u32 = opg_zk_verifier::PROOF_LEN as u32;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{UniqueSaturatedInto, Zero};

	/// The balance type of [`Config::Currency`].
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A case as stored.
	pub type CaseRecordOf<T> = CaseRecord<<T as frame_system::Config>::AccountId>;

	/// Default configurations of this pallet.
	pub mod config_preludes {
		use super::*;
		use frame_support::derive_impl;

		/// What the pallet's mock runtimes share.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type UnsignedPriority = frame_support::traits::ConstU64<{ u64::MAX / 2 }>;
			type BlocksPerDay = frame_support::traits::ConstU64<14_400>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config:
		polkadot_sdk::frame_system::Config + frame_system::offchain::CreateBare<Call<Self>>
	{
		/// The currency bonds and payments are in.
		#[pallet::no_default]
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;
		/// Settlement: the results held in their window.
		#[pallet::no_default]
		type Results: HeldResults<Self::AccountId, BalanceOf<Self>>;
		/// The node registry: verifiers, operators and bonds.
		#[pallet::no_default]
		type Nodes: VerifierNodes<Self::AccountId, BalanceOf<Self>>;
		/// Randomness its subject's node could not predict (BABE's VRF output of the
		/// parent block in the runtime).
		#[pallet::no_default]
		type Randomness: frame_support::traits::Randomness<Option<Self::Hash>, BlockNumberFor<Self>>;
		/// Who sets the parameters and decides cases committees could not (the `policy`
		/// track in the runtime).
		#[pallet::no_default]
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Where penalties go.
		#[pallet::no_default]
		type Treasury: Get<Self::AccountId>;
		/// Blocks per day, for the daily slashing cap.
		#[pallet::constant]
		type BlocksPerDay: Get<u64>;
		/// Pool priority of verdict transactions.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
		/// The most [`HeldResults::verify_proof`] costs (in the runtime: settlement's
		/// measured input commitment of its longest input and one Groth16 verification):
		/// with [`WeightInfo::decide`] (a case's end), the weight of [`Pallet::prove`].
		#[pallet::no_default]
		type ProofWeight: Get<Weight>;
		/// Makes held results and verifiers for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: benchmarking::BenchmarkHelper<Self>;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A challenger's bond, until its case ends.
		ChallengeBond,
	}

	/// The parameters of a chain whose governance has not set them: [`Params::DEV`].
	#[pallet::type_value]
	pub fn DefaultParams() -> Params {
		Params::DEV
	}

	/// The game's parameters: new cases open with them.
	#[pallet::storage]
	pub type Parameters<T> = StorageValue<_, Params, ValueQuery, DefaultParams>;

	/// A mode's own challenge window and sample rate, where governance set them
	/// ([`Pallet::set_mode_params`]); a mode without holds [`Parameters`]' values.
	#[pallet::storage]
	pub type ModeParameters<T> =
		StorageMap<_, Twox64Concat, opg_primitives::VerificationMode, ModeParams>;

	/// The id of the next case.
	#[pallet::storage]
	pub type NextCaseId<T> = StorageValue<_, CaseId, ValueQuery>;

	/// Every case, open or ended (an ended case's record is the audit trail of its verdicts).
	#[pallet::storage]
	pub type Cases<T: Config> = StorageMap<_, Twox64Concat, CaseId, CaseRecordOf<T>>;

	/// The case of each result checked (or about to be: a challenge's case opens at the
	/// next block).
	#[pallet::storage]
	pub type CaseOf<T> = StorageMap<_, Twox64Concat, RequestId, CaseId>;

	/// Challenges whose committee is drawn at that block's start: challenger and bond.
	#[pallet::storage]
	pub type Challenges<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		u64,
		Twox64Concat,
		CaseId,
		(RequestId, T::AccountId, BalanceOf<T>),
	>;

	/// Results whose sampling draw happens at that block's start.
	#[pallet::storage]
	pub type ToSample<T> = StorageDoubleMap<_, Twox64Concat, u64, Twox64Concat, RequestId, ()>;

	/// Cases advanced at that block's start (their phase's deadline + 1).
	#[pallet::storage]
	pub type Checks<T> = StorageDoubleMap<_, Twox64Concat, u64, Twox64Concat, CaseId, ()>;

	/// Each verifier's open cases: what its off-chain worker serves.
	#[pallet::storage]
	pub type Assignments<T> =
		StorageDoubleMap<_, Blake2_128Concat, NodeKey, Twox64Concat, CaseId, ()>;

	/// The cases whose node must prove its result now ([`Pallet::prove`]), by node: what
	/// that node's off-chain worker serves.
	#[pallet::storage]
	pub type ProofsDue<T> =
		StorageDoubleMap<_, Blake2_128Concat, NodeKey, Twox64Concat, CaseId, ()>;

	/// The key that, with a planted result's node key, shows a case a honeypot
	/// ([`Pallet::expose`]); none: no honeypots.
	#[pallet::storage]
	pub type HoneypotAuthority<T> = StorageValue<_, NodeKey, OptionQuery>;

	/// What each node was slashed by cases on its last slashed day.
	#[pallet::storage]
	pub type Slashed<T> = StorageMap<_, Blake2_128Concat, NodeKey, DailySlash, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Governance set the parameters.
		ParamsSet {
			/// The new parameters.
			params: Params,
		},
		/// A mode's own window and sample rate were set (`None`: it holds the game's
		/// parameters again).
		ModeParamsSet {
			/// The mode.
			mode: opg_primitives::VerificationMode,
			/// Its window and rate.
			params: Option<ModeParams>,
		},
		/// A result was challenged; its committee is drawn at the next block.
		Challenged {
			/// The case.
			case: CaseId,
			/// The result.
			result: RequestId,
			/// The challenger.
			challenger: T::AccountId,
			/// Its bond, held.
			bond: BalanceOf<T>,
		},
		/// A result is checked: a committee was drawn.
		CaseOpened {
			/// The case.
			case: CaseId,
			/// The result.
			result: RequestId,
			/// The node that served it.
			node: NodeKey,
			/// Sampled (`false`) or challenged.
			challenged: bool,
			/// The committee.
			committee: Vec<NodeKey>,
		},
		/// A verifier committed to its verdict.
		Committed {
			/// The case.
			case: CaseId,
			/// The verifier.
			verifier: NodeKey,
		},
		/// A verifier revealed its verdict.
		Revealed {
			/// The case.
			case: CaseId,
			/// The verifier.
			verifier: NodeKey,
			/// Its verdict.
			verdict: Verdict,
		},
		/// A case moved on: revealing, escalated, awaiting governance.
		Advanced {
			/// The case.
			case: CaseId,
			/// What happened.
			step: StepKind,
			/// The committee seated, when escalated.
			committee: Vec<NodeKey>,
		},
		/// Governance set (or removed) the honeypot authority's key.
		HoneypotAuthoritySet {
			/// The key; `None`: honeypots are off.
			key: Option<NodeKey>,
		},
		/// A case's result was shown planted, known to be wrong: the case ends overturned at
		/// its tally (at once if it awaited a proof or governance).
		HoneypotExposed {
			/// The case.
			case: CaseId,
			/// The planted result.
			result: RequestId,
		},
		/// The node proved its disputed result: the case ends upheld.
		ProofAccepted {
			/// The case.
			case: CaseId,
		},
		/// A case ended.
		CaseResolved {
			/// The case.
			case: CaseId,
			/// The result.
			result: RequestId,
			/// How.
			outcome: Outcome,
			/// Taken from the node's bond.
			slashed: BalanceOf<T>,
			/// Taken from verifiers' bonds in penalties.
			penalties: BalanceOf<T>,
		},
	}

	/// What [`Event::Advanced`] reports.
	#[derive(
		Clone,
		Copy,
		PartialEq,
		Eq,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		MaxEncodedLen,
		Debug,
	)]
	pub enum StepKind {
		/// The committee reveals now.
		Revealing,
		/// A new committee was seated.
		Escalated,
		/// Governance decides.
		AwaitingGovernance,
		/// The node must prove its result.
		AwaitingProof,
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The parameters break a rule of the game ([`Params::validate`]) or leave no
		/// block between the sampling draw and the window's end.
		InvalidParams,
		/// The result is not held in its challenge window (unknown, proven, or final).
		NotChallengeable,
		/// The result is already checked by a case.
		AlreadyChecked,
		/// The challenger cannot hold the bond.
		InsufficientBalance,
		/// No such case.
		UnknownCase,
		/// The case is not in the phase this call belongs to.
		WrongPhase,
		/// The phase's last block has passed.
		PastDeadline,
		/// The verifier has no seat in the case's current round.
		NotSeated,
		/// The verifier already committed.
		AlreadyCommitted,
		/// The verifier did not commit, so it cannot reveal.
		NotCommitted,
		/// The verifier already revealed.
		AlreadyRevealed,
		/// The verdict and salt are not what the verifier committed to.
		RevealMismatch,
		/// The signature is not the verifier's node key's over the message.
		BadSignature,
		/// Governance decides upheld or overturned.
		InvalidOutcome,
		/// The genesis hash is unknown (no block 0 hash).
		GenesisUnknown,
		/// The proof does not prove the result's output from its input under the model's
		/// key, for this chain, request and node.
		ProofRejected,
		/// Governance has set no honeypot authority: no case can be shown a honeypot.
		NoHoneypotAuthority,
		/// The case is already known to be a honeypot.
		AlreadyExposed,
	}

	impl<T> From<game::CaseError> for Error<T> {
		fn from(error: game::CaseError) -> Self {
			use game::CaseError as E;
			match error {
				E::InvalidParams | E::InvalidCommittee => Error::InvalidParams,
				E::WrongPhase => Error::WrongPhase,
				E::PastDeadline => Error::PastDeadline,
				E::NotSeated => Error::NotSeated,
				E::AlreadyCommitted => Error::AlreadyCommitted,
				E::NotCommitted => Error::NotCommitted,
				E::AlreadyRevealed => Error::AlreadyRevealed,
				E::RevealMismatch => Error::RevealMismatch,
				E::InvalidOutcome => Error::InvalidOutcome,
				E::AlreadyExposed => Error::AlreadyExposed,
			}
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Sets the game's parameters (cases already open keep theirs).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: Params) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			params.validate().map_err(|_| Error::<T>::InvalidParams)?;
			ensure!(u64::from(params.challenge_window) > SAMPLING_DELAY, Error::<T>::InvalidParams);
			Parameters::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}

		/// Gives vanilla or TEE results their own challenge window and sample rate (`None`:
		/// the game's parameters again). Results already held keep their window. Refused
		/// for ZKML results (a proof needs no window) and for a window no longer than the
		/// sampling delay.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_mode_params())]
		pub fn set_mode_params(
			origin: OriginFor<T>,
			mode: opg_primitives::VerificationMode,
			params: Option<ModeParams>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(mode != opg_primitives::VerificationMode::Zkml, Error::<T>::InvalidParams);
			if let Some(own) = &params {
				own.validate().map_err(|_| Error::<T>::InvalidParams)?;
				ensure!(
					u64::from(own.challenge_window) > SAMPLING_DELAY,
					Error::<T>::InvalidParams
				);
			}
			ModeParameters::<T>::set(mode, params);
			Self::deposit_event(Event::ModeParamsSet { mode, params });
			Ok(())
		}

		/// Challenges a result held in its window, holding the challenge bond until its
		/// case ends: returned if the result is overturned, paid to its node if upheld.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::challenge())]
		pub fn challenge(origin: OriginFor<T>, result: RequestId) -> DispatchResult {
			let challenger = ensure_signed(origin)?;
			Self::do_challenge(&challenger, result)
		}

		/// A verifier commits to its verdict on a case: `commitment` is
		/// `opg_verification::commitment(case, verifier, verdict, salt)`. Unsigned:
		/// `signature` is the verifier's node key's over
		/// `opg_settlement::message::verdict_commit`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::commit())]
		pub fn commit(
			origin: OriginFor<T>,
			case: CaseId,
			verifier: NodeKey,
			commitment: [u8; 32],
			signature: sp_core::sr25519::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			let mut record = Self::check_commit(case, &verifier, &commitment, &signature)?;
			let step = record
				.game
				.commit(Self::now(), &verifier, commitment)
				.map_err(Error::<T>::from)?;
			Self::deposit_event(Event::Committed { case, verifier });
			Self::after(case, &mut record, step, Vec::new());
			Self::store(case, record);
			Ok(())
		}

		/// A verifier reveals the verdict and salt it committed to. Unsigned: `signature`
		/// is the verifier's node key's over `opg_settlement::message::verdict_reveal`.
		/// The last verdict of a round tallies it at once.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::reveal())]
		pub fn reveal(
			origin: OriginFor<T>,
			case: CaseId,
			verifier: NodeKey,
			verdict: Verdict,
			salt: [u8; 32],
			signature: sp_core::sr25519::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			let mut record = Self::check_reveal(case, &verifier, verdict, &salt, &signature)?;
			let now = Self::now();
			record.game.reveal(now, &verifier, verdict, &salt).map_err(Error::<T>::from)?;
			Self::deposit_event(Event::Revealed { case, verifier, verdict });
			Self::advance(case, &mut record, now);
			Self::store(case, record);
			Ok(())
		}

		/// The node of a disputed quantized result proves it: a Groth16 proof that the
		/// model maps the result's input to `output`, the output the node claimed, bound to
		/// this chain, the request and the node. Unsigned (the proof is the authority):
		/// anyone holding one may submit it while the case awaits it.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::decide().saturating_add(T::ProofWeight::get()))]
		pub fn prove(
			origin: OriginFor<T>,
			case: CaseId,
			output: BoundedVec<u8, ConstU32<MAX_PROVEN_OUTPUT>>,
			proof: BoundedVec<u8, ConstU32<PROOF_LEN>>,
		) -> DispatchResult {
			ensure_none(origin)?;
			let mut record = Self::check_proof(case, &output, &proof)?;
			let step = record.game.proof_accepted(Self::now()).map_err(Error::<T>::from)?;
			Self::deposit_event(Event::ProofAccepted { case });
			Self::after(case, &mut record, step, Vec::new());
			Self::store(case, record);
			Ok(())
		}

		/// Governance decides a case no committee could.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::decide())]
		pub fn decide(origin: OriginFor<T>, case: CaseId, outcome: Outcome) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			let mut record = Cases::<T>::get(case).ok_or(Error::<T>::UnknownCase)?;
			let step = record.game.decide(Self::now(), outcome).map_err(Error::<T>::from)?;
			Self::after(case, &mut record, step, Vec::new());
			Self::store(case, record);
			Ok(())
		}

		/// Sets the honeypot authority's key (an sr25519 key of its own, used for nothing
		/// else), or removes it: honeypots are off.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_honeypot_authority())]
		pub fn set_honeypot_authority(
			origin: OriginFor<T>,
			key: Option<NodeKey>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			HoneypotAuthority::<T>::set(key);
			Self::deposit_event(Event::HoneypotAuthoritySet { key });
			Ok(())
		}

		/// Shows that case `case`'s result was planted, known to be wrong. Unsigned: the
		/// result's node key (`node_signature`) and the honeypot authority's key
		/// (`authority_signature`) both sign `opg_settlement::message::honeypot`. Only once
		/// the committee can no longer choose its verdicts (a reveal phase, or awaiting a
		/// proof or governance); the pool orders it before the verdicts of the same block.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::expose())]
		pub fn expose(
			origin: OriginFor<T>,
			case: CaseId,
			node_signature: sp_core::sr25519::Signature,
			authority_signature: sp_core::sr25519::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			let mut record = Self::check_exposure(case, &node_signature, &authority_signature)?;
			let step = record.game.expose(Self::now()).map_err(Error::<T>::from)?;
			Self::deposit_event(Event::HoneypotExposed { case, result: record.result });
			Self::after(case, &mut record, step, Vec::new());
			Self::store(case, record);
			Ok(())
		}
	}

	// `ValidateUnsigned` is deprecated for `#[pallet::authorize]` (removal after April
	// 2027); it stays until polkadot.js decodes the general transactions that replace it.
	#[allow(deprecated)]
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		/// The pool takes a verdict only as dispatch would: the case in the right phase,
		/// the verifier seated, the node key's signature.
		fn validate_unsigned(_source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let (case, verifier, kind) = match call {
				Call::commit { case, verifier, commitment, signature } => {
					let mut record = Self::check_commit(*case, verifier, commitment, signature)
						.map_err(invalidity::<T>)?;
					record
						.game
						.commit(Self::now(), verifier, *commitment)
						.map_err(|e| invalidity::<T>(e.into()))?;
					(case, verifier, 0u8)
				},
				Call::reveal { case, verifier, verdict, salt, signature } => {
					let mut record = Self::check_reveal(*case, verifier, *verdict, salt, signature)
						.map_err(invalidity::<T>)?;
					record
						.game
						.reveal(Self::now(), verifier, *verdict, salt)
						.map_err(|e| invalidity::<T>(e.into()))?;
					(case, verifier, 1u8)
				},
				Call::expose { case, node_signature, authority_signature } => {
					let mut record =
						Self::check_exposure(*case, node_signature, authority_signature)
							.map_err(invalidity::<T>)?;
					record.game.expose(Self::now()).map_err(|e| invalidity::<T>(e.into()))?;
					// Before the same block's verdicts: a reveal that ends the round first
					// would end the case before the honeypot is known.
					return ValidTransaction::with_tag_prefix("OpgHoneypot")
						.priority(T::UnsignedPriority::get().saturating_add(1))
						.and_provides(case)
						.longevity(16)
						.propagate(true)
						.build();
				},
				Call::prove { case, output, proof } => {
					let mut record =
						Self::check_proof(*case, output, proof).map_err(invalidity::<T>)?;
					record
						.game
						.proof_accepted(Self::now())
						.map_err(|e| invalidity::<T>(e.into()))?;
					return ValidTransaction::with_tag_prefix("OpgProof")
						.priority(T::UnsignedPriority::get())
						.and_provides(case)
						.longevity(16)
						.propagate(true)
						.build();
				},
				_ => return InvalidTransaction::Call.into(),
			};
			ValidTransaction::with_tag_prefix("OpgVerdict")
				.priority(T::UnsignedPriority::get())
				.and_provides((case, verifier, kind))
				.longevity(16)
				.propagate(true)
				.build()
		}

		/// Nothing here: dispatch checks everything [`Self::validate_unsigned`] checks.
		fn pre_dispatch(call: &Self::Call) -> Result<(), TransactionValidityError> {
			match call {
				Call::commit { .. }
				| Call::reveal { .. }
				| Call::prove { .. }
				| Call::expose { .. } => Ok(()),
				_ => Err(InvalidTransaction::Call.into()),
			}
		}
	}

	/// A pool refusal for each reason a verdict fails.
	fn invalidity<T: Config>(error: Error<T>) -> TransactionValidityError {
		let invalid = match error {
			Error::<T>::PastDeadline
			| Error::<T>::AlreadyCommitted
			| Error::<T>::AlreadyRevealed
			| Error::<T>::AlreadyExposed => InvalidTransaction::Stale,
			Error::<T>::BadSignature | Error::<T>::ProofRejected => InvalidTransaction::BadProof,
			other => {
				let code = other.encode().first().copied().unwrap_or(u8::MAX);
				InvalidTransaction::Custom(code)
			},
		};
		invalid.into()
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(_: BlockNumberFor<T>) -> Weight {
			Self::on_block(Self::now())
		}

		/// Checks the cases this node's verifier keys are seated in (see `offchain.rs`).
		fn offchain_worker(_: BlockNumberFor<T>) {
			Self::serve();
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	impl<T: Config> ResultChecks for Pallet<T> {
		fn challenge_window(mode: opg_primitives::VerificationMode) -> u32 {
			match mode {
				opg_primitives::VerificationMode::Zkml => 0,
				_ => ModeParameters::<T>::get(mode)
					.map_or(Parameters::<T>::get().challenge_window, |own| own.challenge_window),
			}
		}

		fn held(id: RequestId) {
			ToSample::<T>::insert(Self::now() + SAMPLING_DELAY, id, ());
		}

		fn surcharge(mode: opg_primitives::VerificationMode) -> u32 {
			match mode {
				opg_primitives::VerificationMode::Zkml => 0,
				_ => Parameters::<T>::get().surcharge,
			}
		}
	}

	/// Settlement challenges a result it holds for a caller (a direct call opened for
	/// checking): as [`Pallet::challenge`].
	impl<T: Config> opg_primitives::ResultChallenges<T::AccountId> for Pallet<T> {
		type Error = DispatchError;
		fn challenge(challenger: &T::AccountId, id: RequestId) -> DispatchResult {
			Self::do_challenge(challenger, id)
		}
	}

	impl<T: Config> Pallet<T> {
		/// This block's number.
		pub fn now() -> u64 {
			frame_system::Pallet::<T>::block_number().unique_saturated_into()
		}

		/// `challenger` challenges held result `result` (see [`Pallet::challenge`]).
		pub fn do_challenge(challenger: &T::AccountId, result: RequestId) -> DispatchResult {
			ensure!(!CaseOf::<T>::contains_key(result), Error::<T>::AlreadyChecked);
			let held = T::Results::held(result).ok_or(Error::<T>::NotChallengeable)?;
			let now = Self::now();
			ensure!(now < held.final_at, Error::<T>::NotChallengeable);
			let bond: BalanceOf<T> = Parameters::<T>::get().challenge_bond.unique_saturated_into();
			T::Currency::hold(&HoldReason::ChallengeBond.into(), challenger, bond)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			ensure!(T::Results::dispute(result), Error::<T>::NotChallengeable);
			let case = Self::next_case_id();
			CaseOf::<T>::insert(result, case);
			Challenges::<T>::insert(now + 1, case, (result, challenger.clone(), bond));
			Self::deposit_event(Event::Challenged {
				case,
				result,
				challenger: challenger.clone(),
				bond,
			});
			Ok(())
		}

		fn next_case_id() -> CaseId {
			let id = NextCaseId::<T>::get();
			NextCaseId::<T>::put(id.saturating_add(1));
			id
		}

		/// This chain's genesis hash, which verdict signatures bind.
		pub fn genesis_hash() -> Result<[u8; 32], Error<T>> {
			let hash = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			let bytes: [u8; 32] =
				hash.as_ref().try_into().map_err(|_| Error::<T>::GenesisUnknown)?;
			ensure!(bytes != [0; 32], Error::<T>::GenesisUnknown);
			Ok(bytes)
		}

		/// This block's randomness for `subject`'s draws.
		fn randomness() -> [u8; 32] {
			use frame_support::traits::Randomness;
			let random = T::Randomness::random(b"opg/verify")
				.0
				.unwrap_or_else(frame_system::Pallet::<T>::parent_hash);
			let mut seed = [0u8; 32];
			let bytes = random.as_ref();
			let n = bytes.len().min(32);
			seed[..n].copy_from_slice(&bytes[..n]);
			seed
		}

		/// The case a commit is for, if its signature is the verifier's.
		pub fn check_commit(
			case: CaseId,
			verifier: &NodeKey,
			commitment: &[u8; 32],
			signature: &sp_core::sr25519::Signature,
		) -> Result<CaseRecordOf<T>, Error<T>> {
			let record = Cases::<T>::get(case).ok_or(Error::<T>::UnknownCase)?;
			let signed = message::verdict_commit(&Self::genesis_hash()?, case, commitment);
			ensure!(
				sp_io::crypto::sr25519_verify(signature, &signed, verifier),
				Error::<T>::BadSignature
			);
			Ok(record)
		}

		/// The case a reveal is for, if its signature is the verifier's.
		pub fn check_reveal(
			case: CaseId,
			verifier: &NodeKey,
			verdict: Verdict,
			salt: &[u8; 32],
			signature: &sp_core::sr25519::Signature,
		) -> Result<CaseRecordOf<T>, Error<T>> {
			let record = Cases::<T>::get(case).ok_or(Error::<T>::UnknownCase)?;
			let signed =
				message::verdict_reveal(&Self::genesis_hash()?, case, verdict.byte(), salt);
			ensure!(
				sp_io::crypto::sr25519_verify(signature, &signed, verifier),
				Error::<T>::BadSignature
			);
			Ok(record)
		}

		/// The case an exposure is for, if a honeypot authority is set and both its key and
		/// the case's node key signed [`message::honeypot`] of the case and its result.
		pub fn check_exposure(
			case: CaseId,
			node_signature: &sp_core::sr25519::Signature,
			authority_signature: &sp_core::sr25519::Signature,
		) -> Result<CaseRecordOf<T>, Error<T>> {
			let authority = HoneypotAuthority::<T>::get().ok_or(Error::<T>::NoHoneypotAuthority)?;
			let record = Cases::<T>::get(case).ok_or(Error::<T>::UnknownCase)?;
			let signed = message::honeypot(&Self::genesis_hash()?, case, record.result);
			ensure!(
				sp_io::crypto::sr25519_verify(node_signature, &signed, &record.node)
					&& sp_io::crypto::sr25519_verify(authority_signature, &signed, &authority),
				Error::<T>::BadSignature
			);
			Ok(record)
		}

		/// The case a proof is for, if it is in its proof phase and the proof verifies.
		pub fn check_proof(
			case: CaseId,
			output: &[u8],
			proof: &[u8],
		) -> Result<CaseRecordOf<T>, Error<T>> {
			let record = Cases::<T>::get(case).ok_or(Error::<T>::UnknownCase)?;
			ensure!(matches!(record.game.phase, game::Phase::Proof { .. }), Error::<T>::WrongPhase);
			ensure!(
				T::Results::verify_proof(record.result, output, proof),
				Error::<T>::ProofRejected
			);
			Ok(record)
		}

		/// The work of a block's start: sampling draws, challenges' committees, deadlines.
		pub(crate) fn on_block(now: u64) -> Weight {
			let mut weight = Weight::zero();
			let sampled: Vec<RequestId> =
				ToSample::<T>::drain_prefix(now).map(|(id, ())| id).collect();
			for id in sampled {
				// The measured draw, and the read of the result's mode's own parameters
				// (`ModeParameters`, after the benchmark was last run).
				weight.saturating_accrue(T::WeightInfo::sample());
				weight.saturating_accrue(T::DbWeight::get().reads(1));
				Self::draw_sample(id, now);
			}
			let challenges: Vec<_> = Challenges::<T>::drain_prefix(now).collect();
			for (case, (result, challenger, bond)) in challenges {
				weight.saturating_accrue(T::WeightInfo::open_case());
				match T::Results::held(result) {
					Some(held) => {
						let committee = Self::first_committee(&held);
						Self::open_case(
							case,
							result,
							held,
							Some((challenger, bond)),
							now,
							committee,
						)
					},
					// Not held any more (settlement ended it): the bond goes back.
					None => {
						let _ = T::Currency::release(
							&HoldReason::ChallengeBond.into(),
							&challenger,
							bond,
							Precision::BestEffort,
						);
						CaseOf::<T>::remove(result);
					},
				}
			}
			let due: Vec<CaseId> = Checks::<T>::drain_prefix(now).map(|(case, ())| case).collect();
			for case in due {
				weight.saturating_accrue(Self::advance_weight());
				if let Some(mut record) = Cases::<T>::get(case) {
					record.next_check = None;
					Self::advance(case, &mut record, now);
					Self::store(case, record);
				}
			}
			weight
		}

		/// The most advancing one case at its deadline costs: an escalation's draw, or its
		/// end's transfers.
		fn advance_weight() -> Weight {
			T::WeightInfo::advance_escalating().max(T::WeightInfo::advance_ending())
		}

		/// Draws whether result `id` is checked; opens its case if so.
		fn draw_sample(id: RequestId, now: u64) {
			if CaseOf::<T>::contains_key(id) {
				return;
			}
			let Some(held) = T::Results::held(id) else { return };
			let rate = ModeParameters::<T>::get(held.mode)
				.map_or(Parameters::<T>::get().sample_rate, |own| own.sample_rate);
			if now >= held.final_at || !game::sampled(&Self::randomness(), &held.subject, rate) {
				return;
			}
			// With no verifier to check it, a sampled result is left to its window: a case
			// would only wait for governance and hold an honest node's pay.
			let committee = Self::first_committee(&held);
			if committee.is_empty() || !T::Results::dispute(id) {
				return;
			}
			let case = Self::next_case_id();
			CaseOf::<T>::insert(id, case);
			Self::open_case(case, id, held, None, now, committee);
		}

		/// The first committee of a held result's case.
		fn first_committee(held: &HeldResult<T::AccountId, BalanceOf<T>>) -> Vec<NodeKey> {
			let size = Parameters::<T>::get().committee;
			let hardware = Self::required_hardware(&held.node, held.same_hardware);
			Self::draw_committee(&held.node, held.model, &held.subject, 0, size, &[], hardware)
		}

		/// The hardware class a result's verifiers should have: its node's, when its
		/// model's results are checked on the same hardware ([`HeldResult::same_hardware`]);
		/// any when the node is no longer registered.
		fn required_hardware(node: &NodeKey, same_hardware: bool) -> Option<HardwareClass> {
			if same_hardware {
				T::Nodes::hardware(node)
			} else {
				None
			}
		}

		/// The committee of `round` for a result of `node` on `model`: `size` verifiers
		/// drawn by bond, never `node`'s operator's nor a seated verifier's. Given
		/// `hardware`, only verifiers of that class, unless none of them can be drawn: then
		/// any, as for every other model (`opg_verification::draw_preferring`).
		fn draw_committee(
			node: &NodeKey,
			model: opg_primitives::ModelId,
			subject: &[u8; 32],
			round: u8,
			size: u8,
			seated: &[NodeKey],
			hardware: Option<HardwareClass>,
		) -> Vec<NodeKey> {
			let node_operator = T::Nodes::operator(node);
			let seated_operators: Vec<T::AccountId> =
				seated.iter().filter_map(T::Nodes::operator).collect();
			let candidates: Vec<game::Candidate<(NodeKey, HardwareClass), T::AccountId>> =
				T::Nodes::verifiers(&model)
					.into_iter()
					.map(|v| game::Candidate {
						verifier: (v.node, v.hardware),
						operator: v.operator,
						bond: v.bond.unique_saturated_into(),
					})
					.collect();
			game::draw_preferring(
				&Self::randomness(),
				subject,
				round,
				&candidates,
				size,
				|c| {
					c.verifier.0 == *node
						|| Some(&c.operator) == node_operator.as_ref()
						|| seated_operators.contains(&c.operator)
				},
				|c| hardware.is_none_or(|class| c.verifier.1 == class),
			)
			.into_iter()
			.map(|index| candidates[index].verifier.0)
			.collect()
		}

		fn open_case(
			case: CaseId,
			result: RequestId,
			held: HeldResult<T::AccountId, BalanceOf<T>>,
			challenger: Option<(T::AccountId, BalanceOf<T>)>,
			now: u64,
			committee: Vec<NodeKey>,
		) {
			let params = Parameters::<T>::get();
			let stakes = Stakes {
				price: held.price.unique_saturated_into(),
				surcharge: held.surcharge.unique_saturated_into(),
				challenge_bond: challenger
					.as_ref()
					.map_or(0, |(_, bond)| (*bond).unique_saturated_into()),
			};
			// A quantized result its node can prove is refereed by the proof; others by
			// larger committees.
			let referee = if held.provable { Referee::Proof } else { Referee::Committee };
			let game =
				match Case::open(case, now, params, referee, false, stakes, committee.clone()) {
					Ok(game) => game,
					Err(_) => {
						// Stored parameters always validate; should they not, governance decides.
						log::error!(target: "opg-verification", "case {case}: parameters refused");
						let Ok(game) = Case::open(
							case,
							now,
							Params::DEV,
							Referee::Committee,
							false,
							stakes,
							Vec::new(),
						) else {
							return;
						};
						game
					},
				};
			for verifier in &committee {
				Assignments::<T>::insert(verifier, case, ());
			}
			let mut record = CaseRecord {
				result,
				node: held.node,
				model: held.model,
				challenger: challenger.map(|(who, _)| who),
				opened: now,
				next_check: None,
				game,
			};
			Self::deposit_event(Event::CaseOpened {
				case,
				result,
				node: held.node,
				challenged: record.challenger.is_some(),
				committee,
			});
			Self::schedule(case, &mut record);
			Cases::<T>::insert(case, record);
		}

		/// Advances a case at block `now`, seating an escalation's committee.
		fn advance(case: CaseId, record: &mut CaseRecordOf<T>, now: u64) {
			let seated: Vec<NodeKey> = record.game.seats.iter().map(|s| s.verifier).collect();
			let (node, model, subject) = (record.node, record.model, Self::subject(record));
			let result = record.result;
			let mut drawn = Vec::new();
			let step = record.game.advance(now, |round, size| {
				let same_hardware = T::Results::held(result).is_some_and(|held| held.same_hardware);
				let hardware = Self::required_hardware(&node, same_hardware);
				drawn =
					Self::draw_committee(&node, model, &subject, round, size, &seated, hardware);
				drawn.clone()
			});
			Self::after(case, record, step, drawn);
		}

		/// The subject committees of a case are drawn for: its result's id and case id.
		fn subject(record: &CaseRecordOf<T>) -> [u8; 32] {
			opg_settlement::sha256(&(record.result, record.game.id).encode())
		}

		/// Reports a step, seats assignments, reschedules, and ends a resolved case.
		fn after(case: CaseId, record: &mut CaseRecordOf<T>, step: Step, drawn: Vec<NodeKey>) {
			let kind = match step {
				Step::Unchanged => None,
				Step::Revealing => Some(StepKind::Revealing),
				Step::Escalated(_) => {
					for verifier in &drawn {
						Assignments::<T>::insert(verifier, case, ());
					}
					Some(StepKind::Escalated)
				},
				Step::AwaitingGovernance => Some(StepKind::AwaitingGovernance),
				Step::AwaitingProof => {
					ProofsDue::<T>::insert(record.node, case, ());
					Some(StepKind::AwaitingProof)
				},
				Step::Resolved(_) => None,
			};
			if let Some(step) = kind {
				let committee = if step == StepKind::Escalated { drawn } else { Vec::new() };
				Self::deposit_event(Event::Advanced { case, step, committee });
			}
			if let Step::Resolved(outcome) = step {
				Self::conclude(case, record, outcome);
			}
			Self::schedule(case, record);
		}

		/// Keeps the case's next check at its phase's deadline + 1.
		fn schedule(case: CaseId, record: &mut CaseRecordOf<T>) {
			let next = record.game.deadline().map(|until| until.saturating_add(1));
			if next != record.next_check {
				if let Some(old) = record.next_check {
					Checks::<T>::remove(old, case);
				}
				if let Some(at) = next {
					Checks::<T>::insert(at, case, ());
				}
				record.next_check = next;
			}
		}

		fn store(case: CaseId, record: CaseRecordOf<T>) {
			Cases::<T>::insert(case, record);
		}

		/// Moves what an ended case holds and takes from bonds what its payout says.
		fn conclude(case: CaseId, record: &CaseRecordOf<T>, outcome: Outcome) {
			let now = Self::now();
			let day = now / T::BlocksPerDay::get().max(1);
			let slashed_before = Slashed::<T>::get(record.node);
			let slashed_today = if slashed_before.day == day { slashed_before.amount } else { 0 };
			let node_bond: u128 = T::Nodes::bond(&record.node).unique_saturated_into();
			let Some(payout) = game::payout(&record.game, node_bond, slashed_today, |v| {
				T::Nodes::bond(v).unique_saturated_into()
			}) else {
				return;
			};
			let node_operator = T::Nodes::operator(&record.node);
			let treasury = T::Treasury::get();
			let account = |party: &Party<NodeKey>| -> Option<T::AccountId> {
				match party {
					Party::Node => node_operator.clone(),
					Party::Challenger => record.challenger.clone(),
					Party::Verifier(v) => T::Nodes::operator(v),
					Party::Treasury => Some(treasury.clone()),
					// The payment is settlement's to move.
					Party::Client => None,
				}
			};
			// The surcharge first (settlement holds it until the result ends), then the
			// payment with what is left of it.
			for transfer in payout.transfers.iter().filter(|t| t.from == Source::Surcharge) {
				let to = account(&transfer.to).unwrap_or_else(|| treasury.clone());
				T::Results::pay_surcharge(
					record.result,
					&to,
					transfer.amount.unique_saturated_into(),
				);
			}
			T::Results::conclude(record.result, outcome == Outcome::Upheld);
			let (mut slashed, mut penalties) = (0u128, 0u128);
			for transfer in &payout.transfers {
				let amount: BalanceOf<T> = transfer.amount.unique_saturated_into();
				let to = account(&transfer.to).unwrap_or_else(|| treasury.clone());
				match &transfer.from {
					Source::Payment | Source::Surcharge => {},
					Source::ChallengeBond => {
						let Some(challenger) = &record.challenger else { continue };
						if *challenger == to {
							let _ = T::Currency::release(
								&HoldReason::ChallengeBond.into(),
								challenger,
								amount,
								Precision::BestEffort,
							);
						} else {
							let _ = T::Currency::transfer_on_hold(
								&HoldReason::ChallengeBond.into(),
								challenger,
								&to,
								amount,
								Precision::BestEffort,
								Restriction::Free,
								Fortitude::Force,
							);
						}
					},
					Source::NodeBond => {
						let moved = T::Nodes::pay_from_bond(&record.node, amount, &to);
						slashed = slashed.saturating_add(moved.unique_saturated_into());
					},
					Source::VerifierBond(v) => {
						let moved = T::Nodes::pay_from_bond(v, amount, &to);
						penalties = penalties.saturating_add(moved.unique_saturated_into());
					},
				}
			}
			if slashed > 0 {
				Slashed::<T>::insert(
					record.node,
					DailySlash { day, amount: slashed_today.saturating_add(slashed) },
				);
			}
			for seat in record.game.seats.iter() {
				Assignments::<T>::remove(seat.verifier, case);
			}
			ProofsDue::<T>::remove(record.node, case);
			Self::deposit_event(Event::CaseResolved {
				case,
				result: record.result,
				outcome,
				slashed: slashed.unique_saturated_into(),
				penalties: penalties.unique_saturated_into(),
			});
		}

		/// The open cases `verifier` has a seat in.
		pub fn assignments(verifier: &NodeKey) -> Vec<CaseId> {
			Assignments::<T>::iter_key_prefix(verifier).collect()
		}

		/// What `verifier` may read of held result `request` to check it (its stored
		/// input, its answer's evidence): `Some` only while `verifier` has a seat in the
		/// current round of the open case that checks `request` and the result is held.
		/// A serving executor asks this before it shows a private request's input or
		/// evidence to anyone but its requester.
		pub fn verifier_reads(verifier: &NodeKey, request: RequestId) -> Option<VerifierReads> {
			let case = CaseOf::<T>::get(request)?;
			if !Assignments::<T>::contains_key(verifier, case) {
				return None;
			}
			let record = Cases::<T>::get(case)?;
			if record.result != request || !record.game.current().any(|s| s.verifier == *verifier) {
				return None;
			}
			let to_check = T::Results::to_check(request)?;
			let input = match to_check.input {
				CheckInput::Stored { hash, .. } => Some(hash),
				CheckInput::Call { digest } => Some(digest),
				CheckInput::Inline(_) => None,
			};
			Some(VerifierReads { input, output: to_check.output_hash })
		}

		/// Every open case is scheduled at its deadline + 1 and every ended case nowhere;
		/// assignments name open cases' seated verifiers only; each challenger's hold is
		/// the bonds of its open or pending challenges.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::BTreeMap;
			use frame_support::traits::fungible::InspectHold;
			let mut bonds: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (case, record) in Cases::<T>::iter() {
				let expected = record.game.deadline().map(|d| d + 1);
				ensure!(
					record.next_check == expected,
					"a case's next check is not its deadline + 1"
				);
				if let Some(at) = expected {
					ensure!(Checks::<T>::contains_key(at, case), "an open case is not scheduled");
					if let Some(challenger) = &record.challenger {
						let entry = bonds.entry(challenger.clone()).or_default();
						*entry += record.game.stakes.challenge_bond.unique_saturated_into();
					}
				}
				ensure!(
					CaseOf::<T>::get(record.result) == Some(case),
					"a case's result does not name it"
				);
			}
			for (verifier, case, ()) in Assignments::<T>::iter() {
				let record = Cases::<T>::get(case).ok_or("an assignment names no case")?;
				ensure!(record.game.outcome().is_none(), "an assignment names an ended case");
				ensure!(
					record.game.seats.iter().any(|s| s.verifier == verifier),
					"an assignment names no seat"
				);
			}
			for (node, case, ()) in ProofsDue::<T>::iter() {
				let record = Cases::<T>::get(case).ok_or("a proof due names no case")?;
				ensure!(
					record.node == node && matches!(record.game.phase, game::Phase::Proof { .. }),
					"a proof is due only of a case's node, in its proof phase"
				);
			}
			for (_, _, (_, challenger, bond)) in Challenges::<T>::iter() {
				let entry = bonds.entry(challenger).or_default();
				*entry += bond;
			}
			for (challenger, expected) in bonds {
				let held =
					T::Currency::balance_on_hold(&HoldReason::ChallengeBond.into(), &challenger);
				ensure!(held == expected, "a challenger's hold is not its open challenges' bonds");
			}
			Ok(())
		}
	}
}
