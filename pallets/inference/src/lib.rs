//! # Inference
//!
//! An application requests an inference of a model-hub model; the fee is held from it.
//! The request is assigned to a live inference node that serves the model in the
//! requested verification mode, chosen with probability proportional to its bond. The
//! node's off-chain worker answers with an **unsigned extrinsic whose payload the node key
//! signs**; transaction validation checks it before it enters the pool. On a valid result
//! the node's operator is paid, minus the protocol fee to the treasury. A node that
//! misses its deadline is penalized from its bond and the request passes to another node,
//! or, after [`Config::MaxAttempts`] nodes or with none left, expires with a full refund.
//! No fee stays held past its last deadline.
//!
//! ## Evidence
//! - vanilla: the node key's signature;
//! - TEE: the same signature, accepted only while the node's attestation is valid and its
//!   measurement still allowed (see the node registry);
//! - ZKML: a Groth16 proof (BN254, `opg-zk-verifier`'s statement version 1) under the
//!   model's verifying key that the model, run on the input committed at request time,
//!   gave the output, bound to this chain, request and node; plus the node's signature.
//!   ZKML requests carry their input inline and settle individually
//!   ([`Pallet::submit_proven_result`]).
//!
//! ## Randomness and what a block author can bias
//! The seed of an assignment is `blake2_256(parent hash ‖ request id ‖ attempt)`. The
//! author of the parent block shaped its hash by choosing its extrinsics, and the author
//! of this block chooses whether to include a request now or later. Either can thus try
//! a few candidate outcomes, but only among nodes that are registered, bonded, live and
//! serve the model: steering a request to a node of one's own still needs that node's
//! bond, and a bad result from it is still checked and still misses its deadline. A
//! request made early in a block by a requester who cares can bound the exposure with a
//! short `window`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
#[cfg(test)]
mod mock;
mod offchain;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use offchain::{EXECUTOR_NODE_KEY, EXECUTOR_URL_KEY, NODE_KEY_TYPE};
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

use opg_settlement::{fees, merkle, message, selection};
use opg_zk_verifier::{Groth16Verifier, Statement};
use pallet_model_hub::{ModelCatalog, ModelId};
use pallet_node_registry::{InferenceNodes, NodeKey, NodeSlashing, VerificationMode};
use polkadot_sdk::{frame_support, frame_system, sp_core, sp_io, sp_runtime};

/// Tag prefix of result transactions in the pool.
const TX_TAG: &[u8] = b"opg-inference";

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
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
		traits::{Saturating, UniqueSaturatedInto, Zero},
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
	pub type SettledOf<T> = Settled<BalanceOf<T>, BlockNumberFor<T>, <T as Config>::MaxInlineOutput>;
	/// A settled batch.
	pub type BatchOf<T> = Batch<BlockNumberFor<T>, <T as Config>::MaxBatchLen>;

	#[pallet::config]
	pub trait Config:
		polkadot_sdk::frame_system::Config + frame_system::offchain::CreateBare<Call<Self>>
	{
		/// The currency fees are held and paid in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ BalancedHold<Self::AccountId>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// The model hub.
		type Models: ModelCatalog<BalanceOf<Self>>;
		/// The node registry.
		type Nodes: InferenceNodes<Self::AccountId, BalanceOf<Self>, ModelId>;
		/// The protocol's share of every payment.
		type ProtocolFee: Get<Perbill>;
		/// Where the protocol's share goes.
		type ProtocolFeeSink: OnUnbalanced<Credit<Self::AccountId, Self::Currency>>;
		/// Taken from a node's bond for each missed deadline.
		type MissedDeadlinePenalty: Get<BalanceOf<Self>>;
		/// The shortest answer window a request may ask for.
		#[pallet::constant]
		type MinWindow: Get<BlockNumberFor<Self>>;
		/// The longest answer window a request may ask for.
		#[pallet::constant]
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
		/// The most deadlines falling in one block.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;
		/// Pool priority of result transactions.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;
		/// Verifies ZKML proofs (in the runtime: natively, through host functions).
		type ProofVerifier: Groth16Verifier + Default;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
		/// Publishes models and registers nodes for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: benchmarking::BenchmarkHelper;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A request's fee, until it is paid or refunded.
		RequestFee,
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

	/// Open requests by assigned node: what a node's off-chain worker serves.
	#[pallet::storage]
	pub type Assignments<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, NodeKey, Twox64Concat, RequestId, ()>;

	/// Requests whose current deadline is each block.
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<RequestId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

	/// Settled requests: the auditable record of who served what, with which evidence.
	#[pallet::storage]
	pub type Results<T: Config> = StorageMap<_, Twox64Concat, RequestId, SettledOf<T>>;

	/// The id the next batch gets.
	#[pallet::storage]
	pub type NextBatchId<T: Config> = StorageValue<_, BatchId, ValueQuery>;

	/// Settled batches.
	#[pallet::storage]
	pub type Batches<T: Config> = StorageMap<_, Twox64Concat, BatchId, BatchOf<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A request was made and `fee` held from `requester`.
		RequestSubmitted {
			request: RequestId,
			requester: T::AccountId,
			model: ModelId,
			mode: VerificationMode,
			fee: BalanceOf<T>,
		},
		/// A request was assigned to `node`, which must answer by block `deadline`.
		RequestAssigned { request: RequestId, node: NodeKey, deadline: BlockNumberFor<T> },
		/// A result was accepted: `paid` to the node's operator, `protocol_fee` to the
		/// treasury.
		ResultAccepted {
			request: RequestId,
			node: NodeKey,
			output_hash: [u8; 32],
			paid: BalanceOf<T>,
			protocol_fee: BalanceOf<T>,
		},
		/// A node settled `count` results under `root`.
		BatchSettled { batch: BatchId, node: NodeKey, root: [u8; 32], count: u32 },
		/// `node` missed its deadline and lost `penalty` of its bond.
		DeadlineMissed { request: RequestId, node: NodeKey, penalty: BalanceOf<T> },
		/// A request got no result in time from any node; its fee was returned.
		RequestExpired { request: RequestId, refunded: BalanceOf<T> },
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
		/// A stored input must have a non-zero size.
		EmptyInput,
		/// The model's price is above the caller's maximum fee.
		FeeAboveMax,
		/// The answer window is outside the allowed range.
		InvalidWindow,
		/// No live node serves this model in this mode.
		NoNodeAvailable,
		/// Too many requests already have their deadline in that block; try another window.
		DeadlineBlockFull,
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
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Requests whose deadline was the previous block get no more time.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let due = Deadlines::<T>::take(now.saturating_sub(One::one()));
			let count = due.len() as u32;
			for request in due {
				Self::handle_missed_deadline(request, now);
			}
			T::WeightInfo::on_initialize(count)
		}

		/// Serves the requests assigned to the node keys in this node's keystore (see
		/// [`offchain`]); a node with no such key or no executor URL does nothing.
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::serve_assignments(now);
		}

		#[cfg(feature = "std")]
		fn integrity_test() {
			assert!(T::MinWindow::get() >= One::one(), "a window is at least one block");
			assert!(T::MinWindow::get() <= T::MaxWindow::get(), "MinWindow <= MaxWindow");
			assert!(T::MaxAttempts::get() >= 1, "a request is assigned at least once");
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
		#[pallet::call_index(0)]
		#[pallet::weight(match (mode, &input) {
			(VerificationMode::Zkml, Input::Inline(bytes)) =>
				T::WeightInfo::request().saturating_add(T::WeightInfo::input_commitment(bytes.len() as u32)),
			_ => T::WeightInfo::request(),
		})]
		pub fn request(
			origin: OriginFor<T>,
			model: ModelId,
			input: InputOf<T>,
			mode: VerificationMode,
			settlement: SettlementMode,
			max_fee: BalanceOf<T>,
			window: BlockNumberFor<T>,
		) -> DispatchResult {
			let requester = ensure_signed(origin)?;
			Self::submit_request(requester, model, input, mode, settlement, max_fee, window, None)
		}

		/// Requests a ZKML inference of `model` on a stored input (`input` must be
		/// [`Input::Stored`]): the input stays off chain, and the caller gives its input
		/// commitment (`opg-zk-verifier`'s Poseidon commitment of the input bytes, 32 bytes
		/// little-endian, a canonical BN254 scalar) to which the proof binds the result. The
		/// executor proves the input it fetches by hash, so a commitment that does not match
		/// those bytes yields no proof: the request expires and its fee is refunded. Holds
		/// the fee and assigns the request as [`Self::request`] does; settles individually.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::request().saturating_add(T::DbWeight::get().writes(1)))]
		pub fn request_zkml_stored(
			origin: OriginFor<T>,
			model: ModelId,
			input: InputOf<T>,
			input_commitment: [u8; 32],
			max_fee: BalanceOf<T>,
			window: BlockNumberFor<T>,
		) -> DispatchResult {
			let requester = ensure_signed(origin)?;
			ensure!(matches!(input, Input::Stored { .. }), Error::<T>::StoredInputExpected);
			ensure!(
				opg_zk_verifier::field_from_bytes(&input_commitment).is_some(),
				Error::<T>::InvalidInputCommitment
			);
			let (mode, settlement) = (VerificationMode::Zkml, SettlementMode::Individual);
			Self::submit_request(requester, model, input, mode, settlement, max_fee, window, Some(input_commitment))
		}

		/// Settles one request with the assigned node's result: unsigned, authorized by
		/// the node key's `signature` over [`message::result`]. Pays the node's operator.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::submit_result())]
		pub fn submit_result(
			origin: OriginFor<T>,
			result: ResultOf<T>,
			signature: sp_core::sr25519::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			let (request, operator) = Self::check_result(&result, &signature, None)?;
			let output_hash = result.output.hash();
			let settlement = Settlement::Single { signature };
			Self::settle(result.request, request, &operator, result.output, output_hash, settlement)
		}

		/// Settles one ZKML request with the assigned node's result and its Groth16
		/// `proof`: unsigned, authorized by the node key's `signature` over
		/// [`message::result`], and accepted only if the proof verifies under the model's
		/// key for this chain, request, node, the input committed at request time and the
		/// output. Pays the node's operator.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::submit_result()
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
		#[pallet::weight(T::WeightInfo::submit_result()
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_mul(results.len() as u64)
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
				Self::settle(result.request, request, &operator, result.output, output_hash, settlement)?;
			}
			Ok(())
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
				Self::settle(leaf.request, request, &operator, output, leaf.output_hash, settlement)?;
			}
			let count = batch.leaves.len() as u32;
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
	}

	// `ValidateUnsigned` is deprecated for `#[pallet::authorize]` (removal after April
	// 2027); it stays until polkadot.js decodes the general transactions that replace it.
	#[allow(deprecated)]
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		/// Result transactions enter the pool only if they would settle: the node is
		/// assigned, in time, may settle the mode, and its signature verifies. Each
		/// provides its request ids, so a request has at most one result in the pool,
		/// and lives until its deadline.
		fn validate_unsigned(_source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let invalid = |_| InvalidTransaction::BadProof;
			let (requests, first_deadline) = match call {
				Call::submit_result { result, signature } => {
					let (request, _) = Self::check_result(result, signature, None).map_err(invalid)?;
					(alloc::vec![result.request], request.deadline)
				},
				Call::submit_proven_result { result, proof, signature } => {
					let (request, _) = Self::check_result(result, signature, Some(proof)).map_err(invalid)?;
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
				_ => return InvalidTransaction::Call.into(),
			};
			let now = frame_system::Pallet::<T>::block_number();
			let longevity: u64 = first_deadline.saturating_sub(now).saturating_add(One::one()).unique_saturated_into();
			let mut transaction = ValidTransaction::with_tag_prefix("OpgInference")
				.priority(T::UnsignedPriority::get())
				.longevity(longevity)
				.propagate(true);
			for request in requests {
				transaction = transaction.and_provides((TX_TAG, request));
			}
			transaction.build()
		}
	}

	impl<T: Config> Pallet<T> {
		/// Validates and opens a request (see [`Pallet::request`]); `given_commitment` is the
		/// caller's input commitment of a stored ZKML input.
		#[allow(clippy::too_many_arguments)]
		fn submit_request(
			requester: T::AccountId,
			model: ModelId,
			input: InputOf<T>,
			mode: VerificationMode,
			settlement: SettlementMode,
			max_fee: BalanceOf<T>,
			window: BlockNumberFor<T>,
			given_commitment: Option<[u8; 32]>,
		) -> DispatchResult {
			let terms = T::Models::serving_terms(model).ok_or(Error::<T>::ModelUnavailable)?;
			ensure!(terms.modes.contains(mode.flag()), Error::<T>::ModeNotSupported);
			let commitment = match (&input, mode, settlement, given_commitment) {
				(Input::Inline(bytes), VerificationMode::Zkml, SettlementMode::Individual, None) =>
					Some(opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(bytes))),
				(Input::Stored { .. }, VerificationMode::Zkml, SettlementMode::Individual, Some(given)) => Some(given),
				(_, VerificationMode::Zkml, _, _) => return Err(Error::<T>::ZkmlNeedsInlineInput.into()),
				_ => None,
			};
			match &input {
				Input::Inline(_) =>
					ensure!(settlement != SettlementMode::Private, Error::<T>::PrivateInputMustBeStored),
				Input::Stored { size, .. } => ensure!(*size > 0, Error::<T>::EmptyInput),
			}
			ensure!(terms.price <= max_fee, Error::<T>::FeeAboveMax);
			ensure!(
				T::MinWindow::get() <= window && window <= T::MaxWindow::get(),
				Error::<T>::InvalidWindow
			);

			let id = NextRequestId::<T>::get();
			let node = Self::choose_node(id, model, mode, 1, None).ok_or(Error::<T>::NoNodeAvailable)?;
			let deadline = frame_system::Pallet::<T>::block_number().saturating_add(window);
			Deadlines::<T>::try_mutate(deadline, |due| due.try_push(id))
				.map_err(|_| Error::<T>::DeadlineBlockFull)?;
			T::Currency::hold(&HoldReason::RequestFee.into(), &requester, terms.price)
				.map_err(|_| Error::<T>::InsufficientBalance)?;

			NextRequestId::<T>::put(id.saturating_add(1));
			Inputs::<T>::insert(id, &input);
			if let Some(commitment) = commitment {
				InputCommitments::<T>::insert(id, commitment);
			}
			Assignments::<T>::insert(node, id, ());
			Requests::<T>::insert(
				id,
				Request {
					requester: requester.clone(),
					model,
					model_hash: terms.artifact_hash,
					input_hash: input.hash(),
					mode,
					settlement,
					fee: terms.price,
					window,
					node,
					deadline,
					attempts: 1,
				},
			);
			Self::deposit_event(Event::RequestSubmitted { request: id, requester, model, mode, fee: terms.price });
			Self::deposit_event(Event::RequestAssigned { request: id, node, deadline });
			Ok(())
		}

		/// The message a node signs for `result` of `request`.
		pub fn result_message(request: &RequestOf<T>, id: RequestId, output_hash: &[u8; 32]) -> Result<Vec<u8>, Error<T>> {
			Ok(message::result(&Self::genesis_hash()?, id, &request.model_hash, &request.input_hash, output_hash))
		}

		/// What proves that a request was settled in a batch: its leaf, the inclusion
		/// proof, the root and the node's signature; `None` if it was not settled in a
		/// batch.
		pub fn batch_proof(request: RequestId) -> Option<BatchProof> {
			let Settlement::InBatch { batch, index } = Results::<T>::get(request)?.settlement else {
				return None
			};
			let record = Batches::<T>::get(batch)?;
			let proof = merkle::proof(&record.leaves, index as usize)?;
			Some(BatchProof {
				batch,
				node: record.node,
				root: record.root,
				signature: record.signature,
				leaf: record.leaves[index as usize],
				proof,
			})
		}

		/// The genesis block hash every node signature binds.
		pub(crate) fn genesis_hash() -> Result<[u8; 32], Error<T>> {
			let hash = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			let bytes: [u8; 32] = hash.as_ref().try_into().map_err(|_| Error::<T>::GenesisUnknown)?;
			ensure!(bytes != [0; 32], Error::<T>::GenesisUnknown);
			Ok(bytes)
		}

		/// A bond-weighted choice among the nodes that can serve, other than `excluded`.
		fn choose_node(
			id: RequestId,
			model: ModelId,
			mode: VerificationMode,
			attempt: u32,
			excluded: Option<NodeKey>,
		) -> Option<NodeKey> {
			let candidates: Vec<(NodeKey, BalanceOf<T>)> = T::Nodes::candidates(&model, mode)
				.into_iter()
				.filter(|(node, _)| Some(*node) != excluded)
				.collect();
			let weights: Vec<u128> = candidates.iter().map(|(_, bond)| (*bond).unique_saturated_into()).collect();
			let parent = frame_system::Pallet::<T>::parent_hash();
			let seed = sp_io::hashing::blake2_256(&(b"opg/assign", parent, id, attempt).encode());
			selection::pick(&weights, &seed).map(|index| candidates[index].0)
		}

		/// The open request `result` answers, and the operator to pay, if it settles: with
		/// a `proof` exactly when the request is ZKML.
		fn check_result(
			result: &ResultOf<T>,
			signature: &sp_core::sr25519::Signature,
			proof: Option<&ZkProof>,
		) -> Result<(RequestOf<T>, T::AccountId), DispatchError> {
			let (request, operator) = Self::check_signed_result(result, signature, proof.is_some())?;
			if let Some(proof) = proof {
				let key = T::Models::prepared_verifying_key(request.model).ok_or(Error::<T>::VerifyingKeyMissing)?;
				T::ProofVerifier::default()
					.verify(&key, proof, &Self::statement(result, &request)?)
					.map_err(|_| Error::<T>::ProofRejected)?;
			}
			Ok((request, operator))
		}

		/// Everything but the proof: the request is open and assigned to the node, in time,
		/// ZKML exactly when `proven`, the output matches its settlement mode, the node key
		/// signed it and the node may settle the mode.
		fn check_signed_result(
			result: &ResultOf<T>,
			signature: &sp_core::sr25519::Signature,
			proven: bool,
		) -> Result<(RequestOf<T>, T::AccountId), DispatchError> {
			let request = Self::open_request(result.request, &result.node)?;
			match (request.mode, proven) {
				(VerificationMode::Zkml, false) => return Err(Error::<T>::ProofRequired.into()),
				(VerificationMode::Zkml, true) | (_, false) => {},
				(_, true) => return Err(Error::<T>::NotZkml.into()),
			}
			let mode_matches = match (&result.output, request.settlement) {
				(Output::Inline(_), SettlementMode::Individual) => true,
				(Output::Hash(_), SettlementMode::Private) => true,
				_ => false,
			};
			ensure!(mode_matches, Error::<T>::WrongSettlementMode);
			let message = Self::result_message(&request, result.request, &result.output.hash())?;
			ensure!(
				sp_io::crypto::sr25519_verify(signature, &message, &result.node),
				Error::<T>::BadSignature
			);
			let operator =
				T::Nodes::settling_operator(&result.node, request.mode).ok_or(Error::<T>::NodeCannotSettle)?;
			Ok((request, operator))
		}

		/// The statement a proof of `result` must prove: this chain, request and assigned
		/// node, the input committed at request time, the output.
		fn statement(result: &ResultOf<T>, request: &RequestOf<T>) -> Result<Statement, DispatchError> {
			let Output::Inline(output) = &result.output else {
				return Err(Error::<T>::WrongSettlementMode.into());
			};
			let commitment = InputCommitments::<T>::get(result.request)
				.and_then(|bytes| opg_zk_verifier::field_from_bytes(&bytes))
				.ok_or(Error::<T>::ProofRejected)?;
			Ok(Statement {
				binding: opg_zk_verifier::job_binding(&Self::genesis_hash()?, result.request, &request.node.0),
				input_commitment: commitment,
				output: output.to_vec(),
			})
		}

		/// The requests a proven batch settles and the operators to pay, if every result
		/// would settle alone and all the proofs verify as one batch under their model's key.
		#[allow(clippy::type_complexity)]
		fn check_proven_batch(
			results: &[ProvenResultOf<T>],
		) -> Result<Vec<(RequestOf<T>, T::AccountId)>, DispatchError> {
			let mut model = None;
			let mut items = Vec::with_capacity(results.len());
			let mut checked = Vec::with_capacity(results.len());
			for (index, proven) in results.iter().enumerate() {
				ensure!(
					!results[..index].iter().any(|earlier| earlier.result.request == proven.result.request),
					Error::<T>::DuplicateLeaf
				);
				let (request, operator) = Self::check_signed_result(&proven.result, &proven.signature, true)?;
				ensure!(model.is_none_or(|model| model == request.model), Error::<T>::MixedModels);
				model = Some(request.model);
				items.push((proven.proof.to_vec(), Self::statement(&proven.result, &request)?));
				checked.push((request, operator));
			}
			let model = model.ok_or(Error::<T>::EmptyBatch)?;
			let key = T::Models::prepared_verifying_key(model).ok_or(Error::<T>::VerifyingKeyMissing)?;
			T::ProofVerifier::default().verify_batch(&key, &items).map_err(|_| Error::<T>::ProofRejected)?;
			Ok(checked)
		}

		/// The open requests a batch settles, the operator to pay and the root, if it
		/// settles.
		#[allow(clippy::type_complexity)]
		fn check_batch(
			batch: &BatchResultOf<T>,
			signature: &sp_core::sr25519::Signature,
		) -> Result<(Vec<RequestOf<T>>, T::AccountId, [u8; 32]), DispatchError> {
			let root = merkle::root(&batch.leaves).ok_or(Error::<T>::EmptyBatch)?;
			let message = message::batch(&Self::genesis_hash()?, &root, batch.leaves.len() as u32);
			ensure!(
				sp_io::crypto::sr25519_verify(signature, &message, &batch.node),
				Error::<T>::BadSignature
			);
			let mut requests = Vec::with_capacity(batch.leaves.len());
			for (index, leaf) in batch.leaves.iter().enumerate() {
				ensure!(
					!batch.leaves[..index].iter().any(|earlier| earlier.request == leaf.request),
					Error::<T>::DuplicateLeaf
				);
				let request = Self::open_request(leaf.request, &batch.node)?;
				ensure!(request.settlement == SettlementMode::Batch, Error::<T>::WrongSettlementMode);
				ensure!(request.input_hash == leaf.input_hash, Error::<T>::InputHashMismatch);
				ensure!(T::Nodes::settling_operator(&batch.node, request.mode).is_some(), Error::<T>::NodeCannotSettle);
				requests.push(request);
			}
			let operator = T::Nodes::settling_operator(&batch.node, VerificationMode::Vanilla)
				.ok_or(Error::<T>::NodeCannotSettle)?;
			Ok((requests, operator, root))
		}

		/// The request `id`, open, assigned to `node` and within its deadline.
		fn open_request(id: RequestId, node: &NodeKey) -> Result<RequestOf<T>, DispatchError> {
			let request = Requests::<T>::get(id).ok_or(Error::<T>::RequestNotFound)?;
			ensure!(&request.node == node, Error::<T>::NotAssigned);
			ensure!(
				frame_system::Pallet::<T>::block_number() <= request.deadline,
				Error::<T>::DeadlinePassed
			);
			Ok(request)
		}

		/// Pays for a checked result and records it; the request is closed.
		fn settle(
			id: RequestId,
			request: RequestOf<T>,
			operator: &T::AccountId,
			output: Output<T::MaxInlineOutput>,
			output_hash: [u8; 32],
			settlement: Settlement,
		) -> DispatchResult {
			let reason = HoldReason::RequestFee.into();
			let split = fees::split(request.fee.unique_saturated_into(), T::ProtocolFee::get().deconstruct());
			let protocol_fee: BalanceOf<T> = split.protocol.unique_saturated_into();
			let paid = request.fee.saturating_sub(protocol_fee);
			if !paid.is_zero() {
				T::Currency::transfer_on_hold(
					&reason,
					&request.requester,
					operator,
					paid,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Polite,
				)
				.map_err(|_| Error::<T>::PaymentFailed)?;
			}
			if !protocol_fee.is_zero() {
				let (credit, _) = T::Currency::slash(&reason, &request.requester, protocol_fee);
				T::ProtocolFeeSink::on_unbalanced(credit);
			}
			Self::close(id, &request);
			Results::<T>::insert(
				id,
				Settled {
					node: request.node,
					mode: request.mode,
					model_hash: request.model_hash,
					input_hash: request.input_hash,
					output,
					paid,
					protocol_fee,
					at: frame_system::Pallet::<T>::block_number(),
					settlement,
				},
			);
			Self::deposit_event(Event::ResultAccepted { request: id, node: request.node, output_hash, paid, protocol_fee });
			Ok(())
		}

		/// Removes an open request and its assignment and deadline entry.
		fn close(id: RequestId, request: &RequestOf<T>) {
			Requests::<T>::remove(id);
			Inputs::<T>::remove(id);
			InputCommitments::<T>::remove(id);
			Assignments::<T>::remove(request.node, id);
			Deadlines::<T>::mutate_exists(request.deadline, |due| {
				if let Some(list) = due {
					list.retain(|r| *r != id);
					if list.is_empty() {
						*due = None;
					}
				}
			});
		}

		/// Penalizes the node that let `id` pass its deadline, then passes the request to
		/// another node or, with none left or after the last attempt, refunds it.
		fn handle_missed_deadline(id: RequestId, now: BlockNumberFor<T>) {
			let Some(mut request) = Requests::<T>::get(id) else { return };
			let failed = request.node;
			let penalty = T::Nodes::slash(&failed, T::MissedDeadlinePenalty::get());
			Assignments::<T>::remove(failed, id);
			Self::deposit_event(Event::DeadlineMissed { request: id, node: failed, penalty });

			if request.attempts < T::MaxAttempts::get() {
				let attempt = request.attempts + 1;
				let deadline = now.saturating_add(request.window);
				if let Some(node) = Self::choose_node(id, request.model, request.mode, attempt, Some(failed)) {
					if Deadlines::<T>::try_mutate(deadline, |due| due.try_push(id)).is_ok() {
						request.node = node;
						request.deadline = deadline;
						request.attempts = attempt;
						Assignments::<T>::insert(node, id, ());
						Requests::<T>::insert(id, request);
						Self::deposit_event(Event::RequestAssigned { request: id, node, deadline });
						return;
					}
				}
			}
			let refunded = T::Currency::release(
				&HoldReason::RequestFee.into(),
				&request.requester,
				request.fee,
				Precision::BestEffort,
			)
			.unwrap_or_default();
			Requests::<T>::remove(id);
			Inputs::<T>::remove(id);
			InputCommitments::<T>::remove(id);
			Self::deposit_event(Event::RequestExpired { request: id, refunded });
		}
	}
}
