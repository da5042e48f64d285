//! What the transaction pool and dispatch both check, once: that a result, a proven result
//! or a batch would settle (the request is open, assigned to the node and in time; the
//! evidence matches the request's mode; the node key signed; a ZKML proof verifies), and
//! the messages and statements those checks are made over. `validate_unsigned` and the
//! calls run the same functions, so nothing enters the pool that dispatch would refuse.

use super::*;
use crate::pallet::*;
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::{DispatchError, InvalidTransaction},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Zero;
use sp_runtime::ModuleError;

impl<T: Config> Pallet<T> {
	/// The message a node signs for `result` of `request`.
	pub fn result_message(
		request: &RequestOf<T>,
		id: RequestId,
		output_hash: &[u8; 32],
	) -> Result<Vec<u8>, Error<T>> {
		Ok(message::result(
			&Self::genesis_hash()?,
			id,
			&request.model_hash,
			&request.input_hash,
			output_hash,
		))
	}

	/// The genesis block hash every node signature binds.
	pub(crate) fn genesis_hash() -> Result<[u8; 32], Error<T>> {
		let hash = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let bytes: [u8; 32] = hash.as_ref().try_into().map_err(|_| Error::<T>::GenesisUnknown)?;
		ensure!(bytes != [0; 32], Error::<T>::GenesisUnknown);
		Ok(bytes)
	}

	/// The open request `result` answers, and the operator to pay, if it settles: with
	/// a `proof` exactly when the request is ZKML.
	pub(crate) fn check_result(
		result: &ResultOf<T>,
		signature: &sp_core::sr25519::Signature,
		proof: Option<&ZkProof>,
	) -> Result<(RequestOf<T>, T::AccountId), DispatchError> {
		let (request, operator) = Self::check_signed_result(result, signature, proof.is_some())?;
		if let Some(proof) = proof {
			let key = T::Models::prepared_verifying_key(request.model)
				.ok_or(Error::<T>::VerifyingKeyMissing)?;
			T::ProofVerifier::default()
				.verify(&key, proof, &Self::statement(result, &request)?)
				.map_err(|_| Error::<T>::ProofRejected)?;
		}
		Ok((request, operator))
	}

	/// Everything but the proof: the request is open and assigned to the node, in time,
	/// ZKML exactly when `proven`, the output matches its settlement mode, the node key
	/// signed it and the node may settle the mode.
	pub(crate) fn check_signed_result(
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
		let mode_matches = matches!(
			(&result.output, request.settlement),
			(Output::Inline(_), SettlementMode::Individual)
				| (Output::Hash(_), SettlementMode::Private)
		);
		ensure!(mode_matches, Error::<T>::WrongSettlementMode);
		let message = Self::result_message(&request, result.request, &result.output.hash())?;
		ensure!(
			sp_io::crypto::sr25519_verify(signature, &message, &result.node),
			Error::<T>::BadSignature
		);
		let operator = T::Nodes::settling_operator(&result.node, request.mode)
			.ok_or(Error::<T>::NodeCannotSettle)?;
		Ok((request, operator))
	}

	/// The statement a proof of `result` must prove: this chain, request and assigned
	/// node, the input committed at request time, the output.
	pub(crate) fn statement(
		result: &ResultOf<T>,
		request: &RequestOf<T>,
	) -> Result<Statement, DispatchError> {
		let Output::Inline(output) = &result.output else {
			return Err(Error::<T>::WrongSettlementMode.into());
		};
		// The statement packs the output 31 bytes to a field element: without this, a
		// proof of an output would also settle it with zero bytes appended.
		let expected =
			T::Models::output_len(request.model).ok_or(Error::<T>::VerifyingKeyMissing)?;
		ensure!(output.len() as u64 == expected, Error::<T>::OutputLengthMismatch);
		let commitment = InputCommitments::<T>::get(result.request)
			.and_then(|bytes| opg_zk_verifier::field_from_bytes(&bytes))
			.ok_or(Error::<T>::ProofRejected)?;
		Ok(Statement {
			binding: opg_zk_verifier::job_binding(
				&Self::genesis_hash()?,
				result.request,
				&request.node.0,
			),
			input_commitment: commitment,
			output: output.to_vec(),
		})
	}

	/// The requests a proven batch settles and the operators to pay, if every result
	/// would settle alone and all the proofs verify as one batch under their model's key.
	#[allow(clippy::type_complexity)]
	pub(crate) fn check_proven_batch(
		results: &[ProvenResultOf<T>],
	) -> Result<Vec<(RequestOf<T>, T::AccountId)>, DispatchError> {
		let mut model = None;
		let mut items = Vec::with_capacity(results.len());
		let mut checked = Vec::with_capacity(results.len());
		for (index, proven) in results.iter().enumerate() {
			ensure!(
				!results[..index]
					.iter()
					.any(|earlier| earlier.result.request == proven.result.request),
				Error::<T>::DuplicateLeaf
			);
			let (request, operator) =
				Self::check_signed_result(&proven.result, &proven.signature, true)?;
			ensure!(model.is_none_or(|model| model == request.model), Error::<T>::MixedModels);
			model = Some(request.model);
			items.push((proven.proof.to_vec(), Self::statement(&proven.result, &request)?));
			checked.push((request, operator));
		}
		let model = model.ok_or(Error::<T>::EmptyBatch)?;
		let key =
			T::Models::prepared_verifying_key(model).ok_or(Error::<T>::VerifyingKeyMissing)?;
		T::ProofVerifier::default()
			.verify_batch(&key, &items)
			.map_err(|_| Error::<T>::ProofRejected)?;
		Ok(checked)
	}

	/// The open requests a batch settles, the operator to pay and the root, if it
	/// settles.
	#[allow(clippy::type_complexity)]
	pub(crate) fn check_batch(
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
			ensure!(
				T::Nodes::settling_operator(&batch.node, request.mode).is_some(),
				Error::<T>::NodeCannotSettle
			);
			requests.push(request);
		}
		let operator = T::Nodes::settling_operator(&batch.node, VerificationMode::Vanilla)
			.ok_or(Error::<T>::NodeCannotSettle)?;
		Ok((requests, operator, root))
	}

	/// The open request a cannot-serve `notice` declines, if the notice is justified: the
	/// request is open, assigned to the node and in time; its input is stored (an inline
	/// one is on chain), and for a disputed commitment it is a stored ZKML request whose
	/// commitment differs from the one the node computed; the node key signed it.
	pub(crate) fn check_cannot_serve(
		notice: &CannotServe,
		signature: &sp_core::sr25519::Signature,
	) -> Result<RequestOf<T>, DispatchError> {
		let request = Self::open_request(notice.request, &notice.node)?;
		let stored = matches!(Inputs::<T>::get(notice.request), Some(Input::Stored { .. }));
		match notice.reason {
			CannotServeReason::InputUnavailable => ensure!(stored, Error::<T>::InputIsInline),
			CannotServeReason::CommitmentMismatch { computed } => {
				let given = InputCommitments::<T>::get(notice.request)
					.filter(|_| stored && request.mode == VerificationMode::Zkml)
					.ok_or(Error::<T>::NoCommitmentToDispute)?;
				ensure!(given != computed, Error::<T>::CommitmentMatches);
			},
		}
		let (reason, detail) = notice.reason.code_and_detail();
		let message = message::cannot_serve(
			&Self::genesis_hash()?,
			notice.request,
			&request.input_hash,
			reason,
			&detail,
		);
		ensure!(
			sp_io::crypto::sr25519_verify(signature, &message, &notice.node),
			Error::<T>::BadSignature
		);
		Ok(request)
	}

	/// Why the pool refuses an unsigned transaction that dispatch would refuse with
	/// `error`: `Stale` for a request already settled, ended or past its deadline;
	/// `BadSigner` for a node key signature that does not verify; `BadProof` for a ZKML
	/// proof that does not; otherwise `Custom(i)`, `i` the index of this pallet's error in
	/// the metadata (the order of [`Error`]), so that a client names it.
	pub fn pool_refusal(error: DispatchError) -> InvalidTransaction {
		let is = |named: Error<T>| error == DispatchError::from(named);
		if is(Error::<T>::RequestNotFound) || is(Error::<T>::DeadlinePassed) {
			InvalidTransaction::Stale
		} else if is(Error::<T>::BadSignature) {
			InvalidTransaction::BadSigner
		} else if is(Error::<T>::ProofRejected) {
			InvalidTransaction::BadProof
		} else {
			match error {
				DispatchError::Module(ModuleError { error: [index, ..], .. }) => {
					InvalidTransaction::Custom(index)
				},
				_ => InvalidTransaction::Custom(u8::MAX),
			}
		}
	}

	/// The request `id`, open, assigned to `node` and within its deadline.
	pub(crate) fn open_request(
		id: RequestId,
		node: &NodeKey,
	) -> Result<RequestOf<T>, DispatchError> {
		let request = Requests::<T>::get(id).ok_or(Error::<T>::RequestNotFound)?;
		ensure!(&request.node == node, Error::<T>::NotAssigned);
		ensure!(
			frame_system::Pallet::<T>::block_number() <= request.deadline,
			Error::<T>::DeadlinePassed
		);
		Ok(request)
	}
}
