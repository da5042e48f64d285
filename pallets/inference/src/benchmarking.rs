//! Benchmarks for `pallet-inference`: `request` by input length and candidate count,
//! `submit_result` by output length, batches by their length, ended challenge windows by
//! their number; the rest at their worst case: the most candidate nodes for a
//! reassignment, full deadline blocks where every request is penalized and reassigned.

use super::*;
use crate::pallet::{
	Call, Config, Deadlines, ExpiryCursor, HeldInputs, HeldPayments, NextRequestId, Pallet,
	Requests, WindowEnds,
};
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	assert_ok,
	traits::{
		fungible::{Inspect, InspectHold, Mutate, MutateHold},
		Get, Hooks,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use opg_zk_verifier::Groth16Verifier;
use polkadot_sdk::frame_benchmarking;
use sp_runtime::traits::{Bounded, Hash, Saturating, Zero};

/// Sets up what the inference pallet's benchmarks need from the model hub and registry.
pub trait BenchmarkHelper {
	/// The most nodes one model can have.
	fn max_nodes_per_model() -> u32;
	/// Publishes a model accepting vanilla requests of `input_len` bytes (at most
	/// [`Config::MaxInlineInput`]), served by `nodes` live inference nodes whose sr25519
	/// keys of type [`NODE_KEY_TYPE`] are generated in the keystore.
	fn serving_model(nodes: u32, input_len: u32) -> ModelId;
	/// Gives `node` a valid TEE attestation, the costliest kind to check (DCAP).
	fn attest(node: NodeKey);
}

fn set_genesis_hash<T: Config>() {
	let hash = T::Hashing::hash(b"opg benchmark genesis");
	frame_system::BlockHash::<T>::insert(BlockNumberFor::<T>::zero(), hash);
}

fn funded_requester<T: Config>() -> T::AccountId {
	let requester: T::AccountId = account("requester", 0, 0);
	T::Currency::set_balance(&requester, BalanceOf::<T>::max_value() / 4u32.into());
	requester
}

/// The byte length of `model`'s input (requests must give exactly that many bytes).
fn input_len<T: Config>(model: ModelId) -> usize {
	T::Models::serving_terms(model)
		.expect("the helper's model takes requests")
		.input_len as usize
}

/// Makes `count` vanilla requests of `model`, each with an inline input of the model's
/// length, all due in the same block.
fn requests<T: Config>(model: ModelId, settlement: SettlementMode, count: u32) -> Vec<RequestId> {
	requests_in::<T>(model, VerificationMode::Vanilla, settlement, count)
}

/// [`requests`] in `mode`.
fn requests_in<T: Config>(
	model: ModelId,
	mode: VerificationMode,
	settlement: SettlementMode,
	count: u32,
) -> Vec<RequestId> {
	let requester = funded_requester::<T>();
	(0..count)
		.map(|index| {
			let id = NextRequestId::<T>::get();
			let mut bytes = vec![0u8; input_len::<T>(model)];
			bytes[..4].copy_from_slice(&index.to_le_bytes());
			assert_ok!(Pallet::<T>::request(
				RawOrigin::Signed(requester.clone()).into(),
				model,
				Input::Inline(BoundedVec::truncate_from(bytes)),
				mode,
				settlement,
				BalanceOf::<T>::max_value(),
				T::MinWindow::get(),
			));
			id
		})
		.collect()
}

/// A model taking `i`-byte inputs served by `c` nodes, attested for `mode` TEE; a funded
/// requester and an input for it.
fn request_setup<T: Config>(
	i: u32,
	c: u32,
	mode: VerificationMode,
) -> (T::AccountId, ModelId, InputOf<T>) {
	set_genesis_hash::<T>();
	let model = T::BenchmarkHelper::serving_model(c, i);
	if mode == VerificationMode::Tee {
		for candidate in T::Nodes::candidates(&model, VerificationMode::Vanilla) {
			T::BenchmarkHelper::attest(candidate.node);
		}
	}
	let input = Input::Inline(BoundedVec::truncate_from(vec![1u8; i as usize]));
	(funded_requester::<T>(), model, input)
}

/// An open `mode` request and its node's result with an `o`-byte inline output, signed.
fn signed_result<T: Config>(
	o: u32,
	mode: VerificationMode,
) -> (RequestId, ResultOf<T>, sp_core::sr25519::Signature) {
	set_genesis_hash::<T>();
	let model = T::BenchmarkHelper::serving_model(1, T::MaxInlineInput::get());
	if mode == VerificationMode::Tee {
		for candidate in T::Nodes::candidates(&model, VerificationMode::Vanilla) {
			T::BenchmarkHelper::attest(candidate.node);
		}
	}
	let id = requests_in::<T>(model, mode, SettlementMode::Individual, 1)[0];
	let open = Requests::<T>::get(id).expect("requested");
	let output: Output<T::MaxInlineOutput> =
		Output::Inline(BoundedVec::truncate_from(vec![2u8; o as usize]));
	let message = Pallet::<T>::result_message(&open, id, &output.hash()).expect("genesis hash set");
	let signature =
		sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, &open.node, &message).expect("key in keystore");
	(id, InferenceResult { request: id, node: open.node, output }, signature)
}

/// `n` open batch-mode requests of one node, and their batch signed by its key.
fn signed_batch<T: Config>(
	n: u32,
) -> (Vec<RequestId>, BatchResultOf<T>, sp_core::sr25519::Signature) {
	set_genesis_hash::<T>();
	let model = T::BenchmarkHelper::serving_model(1, T::MaxInlineInput::get());
	let ids = requests::<T>(model, SettlementMode::Batch, n);
	let node = Requests::<T>::get(ids[0]).expect("requested").node;
	let leaves: Vec<merkle::Leaf> = ids
		.iter()
		.map(|id| merkle::Leaf {
			request: *id,
			input_hash: Requests::<T>::get(id).expect("requested").input_hash,
			output_hash: [3; 32],
		})
		.collect();
	let root = merkle::root(&leaves).expect("not empty");
	let genesis = Pallet::<T>::genesis_hash().expect("genesis hash set");
	let message = message::batch(&genesis, &root, n);
	let signature =
		sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, &node, &message).expect("key in keystore");
	(ids, BatchResult { node, leaves: BoundedVec::truncate_from(leaves) }, signature)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A vanilla request with an inline input of `i` bytes among `c` candidate nodes.
	#[benchmark]
	fn request(
		i: Linear<1, { T::MaxInlineInput::get() }>,
		c: Linear<1, { T::BenchmarkHelper::max_nodes_per_model() }>,
	) {
		let mode = VerificationMode::Vanilla;
		let (requester, model, input) = request_setup::<T>(i, c, mode);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(requester),
			model,
			input,
			mode,
			SettlementMode::Individual,
			BalanceOf::<T>::max_value(),
			T::MaxWindow::get(),
		);

		assert!(Requests::<T>::contains_key(0));
	}

	/// [`request`](Pallet::request) in TEE mode: each candidate's attestation checked.
	#[benchmark]
	fn request_tee(
		i: Linear<1, { T::MaxInlineInput::get() }>,
		c: Linear<1, { T::BenchmarkHelper::max_nodes_per_model() }>,
	) {
		let mode = VerificationMode::Tee;
		let (requester, model, input) = request_setup::<T>(i, c, mode);

		#[extrinsic_call]
		request(
			RawOrigin::Signed(requester),
			model,
			input,
			mode,
			SettlementMode::Individual,
			BalanceOf::<T>::max_value(),
			T::MaxWindow::get(),
		);

		assert!(Requests::<T>::contains_key(0));
	}

	/// A vanilla result with an inline output of `o` bytes: signature check and payment.
	#[benchmark]
	fn submit_result(o: Linear<0, { T::MaxInlineOutput::get() }>) {
		let (id, result, signature) = signed_result::<T>(o, VerificationMode::Vanilla);

		#[extrinsic_call]
		_(RawOrigin::None, result, signature);

		assert!(Results::<T>::contains_key(id));
	}

	/// [`submit_result`](Pallet::submit_result) of a TEE request: the node's attestation
	/// checked too.
	#[benchmark]
	fn submit_result_tee(o: Linear<0, { T::MaxInlineOutput::get() }>) {
		let (id, result, signature) = signed_result::<T>(o, VerificationMode::Tee);

		#[extrinsic_call]
		submit_result(RawOrigin::None, result, signature);

		assert!(Results::<T>::contains_key(id));
	}

	/// A stored-input request declined by its node and passed on among the most candidate
	/// nodes (the reassignment is the costlier way out; ending it reads and writes less).
	#[benchmark]
	fn cannot_serve() {
		set_genesis_hash::<T>();
		let model = T::BenchmarkHelper::serving_model(
			T::BenchmarkHelper::max_nodes_per_model(),
			T::MaxInlineInput::get(),
		);
		let requester = funded_requester::<T>();
		let id = NextRequestId::<T>::get();
		let size = input_len::<T>(model) as u64;
		assert_ok!(Pallet::<T>::request(
			RawOrigin::Signed(requester).into(),
			model,
			Input::Stored { hash: [7; 32], size, locator: BoundedVec::new() },
			VerificationMode::Vanilla,
			SettlementMode::Private,
			BalanceOf::<T>::max_value(),
			T::MinWindow::get(),
		));
		let open = Requests::<T>::get(id).expect("requested");
		let reason = CannotServeReason::InputUnavailable;
		let (code, detail) = reason.code_and_detail();
		let genesis = Pallet::<T>::genesis_hash().expect("genesis hash set");
		let message = message::cannot_serve(&genesis, id, &open.input_hash, code, &detail);
		let signature = sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, &open.node, &message)
			.expect("key in keystore");
		let notice = CannotServe { request: id, node: open.node, reason };

		#[extrinsic_call]
		_(RawOrigin::None, notice, signature);

		assert_eq!(Requests::<T>::get(id).expect("passed on").attempts, 2);
	}

	/// A batch of `n` results of one node.
	#[benchmark]
	fn submit_batch(n: Linear<1, { T::MaxBatchLen::get() }>) {
		let (ids, batch, signature) = signed_batch::<T>(n);

		#[extrinsic_call]
		_(RawOrigin::None, batch, signature);

		assert!(ids.iter().all(|id| Results::<T>::contains_key(id)));
	}

	/// Pruning `n` settled records of one batch whose retention has passed, the batch
	/// with the last.
	#[benchmark]
	fn prune_records(n: Linear<1, { MAX_PRUNE.min(T::MaxBatchLen::get()) }>) {
		let (ids, batch, signature) = signed_batch::<T>(n);
		assert_ok!(Pallet::<T>::submit_batch(RawOrigin::None.into(), batch, signature));
		let later =
			frame_system::Pallet::<T>::block_number().saturating_add(T::RecordRetention::get());
		frame_system::Pallet::<T>::set_block_number(later);
		let caller = funded_requester::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), BoundedVec::truncate_from(ids.clone()));

		assert!(ids.iter().all(|id| !Results::<T>::contains_key(id)));
	}

	/// `n` missed deadlines in one block: each node penalized, each request reassigned
	/// among the most candidates.
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxExpiriesPerBlock::get() }>) {
		set_genesis_hash::<T>();
		let model = T::BenchmarkHelper::serving_model(
			T::BenchmarkHelper::max_nodes_per_model(),
			T::MaxInlineInput::get(),
		);
		let ids = requests::<T>(model, SettlementMode::Individual, n);
		let deadline =
			frame_system::Pallet::<T>::block_number().saturating_add(T::MinWindow::get());
		let now = deadline.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(now);
		ExpiryCursor::<T>::put(deadline);

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}

		assert!(Deadlines::<T>::iter_prefix(deadline).next().is_none());
		assert!(ids.iter().all(|id| Requests::<T>::get(id).is_some_and(|r| r.attempts == 2)));
	}

	/// `n` held payments whose challenge windows end in one block, none disputed, each of
	/// its own requester and paid to its own operator: a transfer on hold, the protocol
	/// fee and the unused surcharge slashed to the fee sink, the records removed (block
	/// start, beside the missed deadlines of [`on_initialize`](Pallet::on_initialize)).
	#[benchmark]
	fn end_windows(n: Linear<0, { T::MaxBatchLen::get() }>) {
		let now = frame_system::Pallet::<T>::block_number().saturating_add(10u32.into());
		let unit: BalanceOf<T> = T::Currency::minimum_balance().max(1u32.into());
		let (paid, protocol_fee, surcharge) =
			(unit.saturating_mul(100u32.into()), unit.saturating_mul(5u32.into()), unit);
		let fee = paid.saturating_add(protocol_fee);
		let input = Input::Inline(BoundedVec::truncate_from(vec![1u8; 32]));
		let mut requesters = Vec::new();
		for id in 0..u64::from(n) {
			let (requester, operator): (T::AccountId, T::AccountId) =
				(account("requester", id as u32, 1), account("operator", id as u32, 0));
			T::Currency::set_balance(&requester, unit.saturating_mul(1_000u32.into()));
			T::Currency::set_balance(&operator, unit.saturating_mul(1_000u32.into()));
			assert_ok!(T::Currency::hold(
				&HoldReason::RequestFee.into(),
				&requester,
				fee.saturating_add(surcharge),
			));
			HeldPayments::<T>::insert(
				id,
				HeldPayment {
					requester: requester.clone(),
					operator,
					node: [id as u8; 32].into(),
					model: 0,
					mode: VerificationMode::Vanilla,
					fee,
					surcharge,
					paid,
					protocol_fee,
					subject: [id as u8; 32],
					final_at: now,
					disputed: false,
				},
			);
			WindowEnds::<T>::insert(now, id, ());
			HeldInputs::<T>::insert(id, input.clone());
			requesters.push(requester);
		}

		let ended;
		#[block]
		{
			ended = Pallet::<T>::end_windows(now);
		}

		assert_eq!(ended, n);
		assert_eq!(HeldPayments::<T>::iter().count(), 0);
		for requester in requesters {
			let held = T::Currency::balance_on_hold(&HoldReason::RequestFee.into(), &requester);
			assert!(held.is_zero());
		}
	}

	/// The input commitment of a ZKML request with an `n`-byte inline input.
	#[benchmark]
	fn input_commitment(n: Linear<0, { T::MaxInlineInput::get() }>) {
		let input = vec![0x5au8; n as usize];

		#[block]
		{
			opg_zk_verifier::input_commitment(&input);
		}
	}

	/// One Groth16 verification through [`Config::ProofVerifier`] (in the runtime: the
	/// host functions), of the fixture proof (784-56-10 model, three public inputs).
	#[benchmark]
	fn verify_proof() {
		use opg_zk_verifier::fixture::*;
		let prepared =
			T::ProofVerifier::default().prepare_key(VERIFYING_KEY).expect("the fixture key");

		#[block]
		{
			assert_eq!(
				T::ProofVerifier::default().verify_inputs(&prepared, PROOF, PUBLIC_INPUTS),
				Ok(())
			);
		}
	}

	/// The same verification in the runtime itself (wasm), for comparison.
	#[benchmark]
	fn verify_proof_in_wasm() {
		use opg_zk_verifier::fixture::*;
		let prepared = opg_zk_verifier::prepare_key(VERIFYING_KEY).expect("the fixture key");

		#[block]
		{
			assert_eq!(
				opg_zk_verifier::PureRust.verify_inputs(&prepared, PROOF, PUBLIC_INPUTS),
				Ok(())
			);
		}
	}

	/// `n` proofs of one key verified as one batch through [`Config::ProofVerifier`].
	#[benchmark]
	fn verify_batch(n: Linear<1, { T::MaxBatchLen::get() }>) {
		use opg_zk_verifier::fixture::*;
		let prepared =
			T::ProofVerifier::default().prepare_key(VERIFYING_KEY).expect("the fixture key");
		let items = vec![(PROOF.to_vec(), PUBLIC_INPUTS.to_vec()); n as usize];

		#[block]
		{
			assert_eq!(T::ProofVerifier::default().verify_batch_inputs(&prepared, &items), Ok(()));
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
