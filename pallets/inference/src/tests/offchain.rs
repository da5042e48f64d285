use super::*;
use codec::{Decode, Encode};
use parking_lot::RwLock;
use polkadot_sdk::{
	frame_support::traits::Hooks,
	sp_core::offchain::{
		testing::{
			OffchainState, PendingRequest, PoolState, TestOffchainExt, TestTransactionPoolExt,
		},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	},
	sp_io::TestExternalities,
	sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt},
};
use std::sync::Arc;

type Extrinsic = polkadot_sdk::frame_system::mocking::MockUncheckedExtrinsic<Test>;
type Shared<T> = Arc<RwLock<T>>;
const EXECUTOR: &str = "http://executor.test";

/// A test chain whose keystore holds node 1's key, with an off-chain worker
/// environment: HTTP expectations and a transaction pool.
fn worker_ext() -> (TestExternalities, Shared<OffchainState>, Shared<PoolState>) {
	let mut ext = new_test_ext();
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let keystore = MemoryKeystore::new();
	keystore
		.sr25519_generate_new(NODE_KEY_TYPE, Some(&format!("0x{}", hex::encode([1u8; 32]))))
		.unwrap();
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	(ext, state, pool_state)
}

/// Expects the worker to POST `body` to the executor at `path` (after its URL), and
/// answers `response` with `headers`.
fn expect_post(
	state: &RwLock<OffchainState>,
	path: String,
	body: &[u8],
	response: &[u8],
	headers: &[(&str, String)],
) {
	state.write().expect_request(PendingRequest {
		method: "POST".into(),
		uri: format!("{EXECUTOR}{path}"),
		headers: vec![("content-type".into(), "application/octet-stream".into())],
		body: body.to_vec(),
		response: Some(response.to_vec()),
		response_headers: headers
			.iter()
			.map(|(name, value)| (name.to_string(), value.clone()))
			.collect(),
		sent: true,
		..Default::default()
	});
}

/// The path of request `id` of the test model: the worker always names the chain and the
/// request (a language model samples with the request's seed).
fn infer_path(id: RequestId) -> String {
	format!(
		"/v1/infer/0x{}?genesis=0x{}&request={id}",
		hex::encode([0xaa; 32]),
		hex::encode(GENESIS_HASH)
	)
}

fn expect_inference(state: &RwLock<OffchainState>, id: RequestId, input: &[u8], output: &[u8]) {
	expect_post(state, infer_path(id), input, output, &[]);
}

fn submitted_calls(pool: &RwLock<PoolState>) -> Vec<Call<Test>> {
	pool.write()
		.transactions
		.drain(..)
		.map(|bytes| match Extrinsic::decode(&mut &bytes[..]).unwrap().function {
			RuntimeCall::Inference(call) => call,
			other => panic!("unexpected call {other:?}"),
		})
		.collect()
}

/// The sign-batch body listing request `id`'s leaf: input `inpt`, output `output`.
fn leaf_body(id: RequestId) -> Vec<u8> {
	opg_executor_api::encode_leaves([(
		id,
		opg_settlement::sha256(b"inpt"),
		opg_settlement::sha256(b"output"),
	)])
}

/// Node `n`'s key is held by the executor (TEE mode), not the keystore.
fn hold_key_in_executor(n: u8) {
	sp_io::offchain::local_storage_set(
		polkadot_sdk::sp_core::offchain::StorageKind::PERSISTENT,
		EXECUTOR_NODE_KEY,
		&key(n).0,
	);
}

fn set_executor_url() {
	sp_io::offchain::local_storage_set(
		polkadot_sdk::sp_core::offchain::StorageKind::PERSISTENT,
		EXECUTOR_URL_KEY,
		EXECUTOR.as_bytes(),
	);
}

#[test]
fn the_worker_runs_an_assignment_and_submits_a_result_that_settles() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(1, 1_000);
		let id = request(ALICE);

		// No executor URL: nothing is requested or submitted.
		Inference::offchain_worker(1);
		assert!(pool.read().transactions.is_empty());

		set_executor_url();
		expect_inference(&state, id, b"inpt", b"output");
		Inference::offchain_worker(1);
		let calls = submitted_calls(&pool);
		assert_eq!(calls.len(), 1);
		// Submitted once: the next run neither calls the executor nor submits again.
		Inference::offchain_worker(1);
		assert!(pool.read().transactions.is_empty());

		let call = calls.into_iter().next().unwrap();
		assert_ok!(Inference::validate_unsigned(TransactionSource::Local, &call));
		let Call::submit_result { result, signature } = call else { panic!("a single result") };
		assert_eq!(result.output, output(b"output"));
		assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
		assert_eq!(Results::<Test>::get(id).unwrap().settlement, Settlement::Single { signature });
	});
}

#[test]
fn a_busy_executor_is_asked_again_in_the_same_run() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(1, 1_000);
		set_executor_url();
		let first = request(ALICE);
		let second = request(ALICE);
		// Both calls go out before either answer is read; the first is answered busy.
		expect_post(&state, infer_path(first), b"inpt", b"busy", &[("retry-after", "1".into())]);
		expect_inference(&state, second, b"inpt", b"second");
		expect_post(&state, infer_path(first), b"inpt", b"first", &[]);
		Inference::offchain_worker(1);
		let calls = submitted_calls(&pool);
		let settled: Vec<_> = calls
			.iter()
			.map(|call| match call {
				Call::submit_result { result, .. } => (result.request, result.output.clone()),
				other => panic!("unexpected call {other:?}"),
			})
			.collect();
		assert_eq!(settled, vec![(second, output(b"second")), (first, output(b"first"))]);
	});
}

#[test]
fn the_executors_token_goes_with_every_call() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(1, 1_000);
		request(ALICE);
		set_executor_url();
		sp_io::offchain::local_storage_set(
			polkadot_sdk::sp_core::offchain::StorageKind::PERSISTENT,
			EXECUTOR_TOKEN_KEY,
			b"s3cret",
		);
		state.write().expect_request(PendingRequest {
			method: "POST".into(),
			uri: format!("{EXECUTOR}{}", infer_path(0)),
			headers: vec![
				("content-type".into(), "application/octet-stream".into()),
				("authorization".into(), "Bearer s3cret".into()),
			],
			body: b"inpt".to_vec(),
			response: Some(b"output".to_vec()),
			sent: true,
			..Default::default()
		});
		Inference::offchain_worker(1);
		assert_eq!(submitted_calls(&pool).len(), 1);
	});
}

#[test]
fn a_node_key_held_by_the_executor_is_served_with_the_executors_signatures() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		// Node 2's key is not in the keystore: only the executor holds it.
		register_node(2, 1_000);
		set_executor_url();
		hold_key_in_executor(2);
		let expect = |id: RequestId, signature: Option<sr25519::Signature>| {
			let path = format!(
				"/v1/infer/0x{}?genesis=0x{}&request={id}",
				hex::encode([0xaa; 32]),
				hex::encode(GENESIS_HASH)
			);
			let headers: Vec<_> = signature
				.iter()
				.map(|s| ("x-opg-signature", format!("0x{}", hex::encode(s.0))))
				.collect();
			expect_post(&state, path, b"inpt", b"output", &headers);
		};

		let id = request(ALICE);
		let (_, signature) = signed_result(id, 2, output(b"output"), 2);
		expect(id, Some(signature));
		Inference::offchain_worker(1);
		let calls = submitted_calls(&pool);
		let [call] = &calls[..] else { panic!("one result submitted, not {calls:?}") };
		assert_ok!(Inference::validate_unsigned(TransactionSource::Local, call));
		let Call::submit_result { result, signature: submitted } = call.clone() else {
			panic!("a single result")
		};
		assert_eq!(
			(result.node, submitted),
			(key(2), signature),
			"the executor's signature, for its key"
		);
		assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, submitted));

		// Batch settlement: the executor signs the root over the results it signed.
		let batched = NextRequestId::<Test>::get();
		assert_ok!(request_with(
			ALICE,
			inline(b"inpt"),
			VerificationMode::Vanilla,
			SettlementMode::Batch
		));
		let (_, leaf_signature) = signed_result(batched, 2, output(b"output"), 2);
		expect(batched, Some(leaf_signature));
		let leaf = opg_settlement::merkle::Leaf {
			request: batched,
			input_hash: opg_settlement::sha256(b"inpt"),
			output_hash: opg_settlement::sha256(b"output"),
		};
		let root = opg_settlement::merkle::root(&[leaf]).unwrap();
		let root_signature =
			node_pair(2).sign(&opg_settlement::message::batch(&GENESIS_HASH, &root, 1));
		expect_post(
			&state,
			format!("/v1/sign-batch?genesis=0x{}", hex::encode(GENESIS_HASH)),
			&leaf_body(batched),
			b"",
			&[("x-opg-signature", format!("0x{}", hex::encode(root_signature.0)))],
		);
		Inference::offchain_worker(1);
		let calls = submitted_calls(&pool);
		let [call @ Call::submit_batch { batch, signature: submitted }] = &calls[..] else {
			panic!("one batch submitted, not {calls:?}")
		};
		assert_eq!((batch.node, *submitted), (key(2), root_signature));
		assert_ok!(Inference::validate_unsigned(TransactionSource::Local, call));

		// An answer without the executor's signature is not submitted.
		let unsigned = request(ALICE);
		expect(unsigned, None);
		Inference::offchain_worker(1);
		assert!(pool.read().transactions.is_empty());
		assert_eq!(Results::<Test>::get(id).unwrap().settlement, Settlement::Single { signature });
	});
}

/// The executor's answer to the prove call for request `id` of node 1: the output and a
/// real proof from `prover`, which is returned.
fn expect_proof(state: &RwLock<OffchainState>, prover: &opg_zk::Prover, id: RequestId) -> Vec<u8> {
	use ark_std::rand::{rngs::StdRng, SeedableRng};
	let binding = opg_zk_verifier::job_binding(&GENESIS_HASH, id, &key(1).0);
	let proven = prover.prove(&zkml::INPUT, binding, &mut StdRng::seed_from_u64(id)).unwrap();
	let query = format!(
		"genesis=0x{}&request={id}&node=0x{}",
		hex::encode(GENESIS_HASH),
		hex::encode(key(1).0)
	);
	let path = format!("/v1/prove/0x{}?{query}", hex::encode([0xbb; 32]));
	expect_post(
		state,
		path,
		&zkml::INPUT,
		&proven.output,
		&[("x-opg-proof", format!("0x{}", hex::encode(&proven.proof)))],
	);
	proven.proof
}

/// The ZKML model published, node 1 serving it, the executor URL set; its prover.
fn zk_worker() -> opg_zk::Prover {
	let prover = zkml::prover(1);
	zkml::publish(&prover);
	zkml::register_zk_node(1);
	set_executor_url();
	prover
}

#[test]
fn zkml_assignments_go_to_the_prover_and_settle_with_its_proof() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let prover = zk_worker();
		let id = zkml::zk_request(VerificationMode::Zkml);
		let expected = expect_proof(&state, &prover, id);
		Inference::offchain_worker(1);
		let call = submitted_calls(&pool).into_iter().next().expect("one result");
		assert_ok!(Inference::validate_unsigned(TransactionSource::Local, &call));
		let Call::submit_proven_result { result, proof, signature } = call else {
			panic!("a proven result")
		};
		assert_eq!(proof.to_vec(), expected);
		assert_ok!(Inference::submit_proven_result(
			RuntimeOrigin::none(),
			result,
			proof.clone(),
			signature
		));
		assert_eq!(
			Results::<Test>::get(id).unwrap().settlement,
			Settlement::Proven { signature, proof }
		);
	});
}

#[test]
fn stored_zkml_assignments_are_proven_from_the_store() {
	use ark_std::rand::{rngs::StdRng, SeedableRng};
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let prover = zk_worker();
		let id = zkml::zk_stored_request(zkml::commitment_of(&zkml::INPUT)).unwrap();
		let binding = opg_zk_verifier::job_binding(&GENESIS_HASH, id, &key(1).0);
		let proven = prover.prove(&zkml::INPUT, binding, &mut StdRng::seed_from_u64(id)).unwrap();
		let query = format!(
			"input=0x{}&genesis=0x{}&request={id}&node=0x{}&commitment=0x{}",
			hex::encode(opg_settlement::sha256(&zkml::INPUT)),
			hex::encode(GENESIS_HASH),
			hex::encode(key(1).0),
			hex::encode(zkml::commitment_of(&zkml::INPUT))
		);
		let path = format!("/v1/prove/0x{}?{query}", hex::encode([0xbb; 32]));
		let header = format!("0x{}", hex::encode(&proven.proof));
		expect_post(&state, path, &[], &proven.output, &[("x-opg-proof", header)]);
		Inference::offchain_worker(1);
		let call = submitted_calls(&pool).into_iter().next().expect("one result");
		let Call::submit_proven_result { result, proof, signature } = call else {
			panic!("a proven result")
		};
		assert_ok!(Inference::submit_proven_result(
			RuntimeOrigin::none(),
			result,
			proof,
			signature
		));
		assert!(Results::<Test>::get(id).is_some());
	});
}

#[test]
fn zkml_results_of_one_model_go_as_one_proven_batch() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let prover = zk_worker();
		let ids =
			[zkml::zk_request(VerificationMode::Zkml), zkml::zk_request(VerificationMode::Zkml)];
		// Earliest deadline first; these share one, so in id order.
		for id in ids {
			expect_proof(&state, &prover, id);
		}
		Inference::offchain_worker(1);
		let calls = submitted_calls(&pool);
		assert_eq!(calls.len(), 1);
		let call = calls.into_iter().next().unwrap();
		assert_ok!(Inference::validate_unsigned(TransactionSource::Local, &call));
		let Call::submit_proven_batch { results } = call else { panic!("one proven batch") };
		assert_eq!(results.len(), 2);
		assert_ok!(Inference::submit_proven_batch(RuntimeOrigin::none(), results));
		assert!(ids.iter().all(Results::<Test>::contains_key));
	});
}

#[test]
fn private_and_batch_results_go_as_hashes_and_one_signed_batch() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(1, 1_000);
		set_executor_url();
		let private = NextRequestId::<Test>::get();
		assert_ok!(request_with(
			ALICE,
			stored(7),
			VerificationMode::Vanilla,
			SettlementMode::Private
		));
		let batched = NextRequestId::<Test>::get();
		assert_ok!(request_with(
			ALICE,
			inline(b"aaaa"),
			VerificationMode::Vanilla,
			SettlementMode::Batch
		));
		assert_ok!(request_with(
			ALICE,
			inline(b"bbbb"),
			VerificationMode::Vanilla,
			SettlementMode::Batch
		));

		// Earliest deadline first; these share one, so in id order.
		for id in private..NextRequestId::<Test>::get() {
			if id == private {
				// The executor serves a private request's output to its requester alone.
				let path = format!(
					"/v1/infer/0x{}?input=0x{}&genesis=0x{}&request={id}&requester=0x{}",
					hex::encode([0xaa; 32]),
					hex::encode([7u8; 32]),
					hex::encode(GENESIS_HASH),
					hex::encode(ALICE.encode())
				);
				expect_post(&state, path, b"", b"secret", &[]);
			} else if id == batched {
				expect_inference(&state, id, b"aaaa", b"A");
			} else {
				expect_inference(&state, id, b"bbbb", b"B");
			}
		}
		Inference::offchain_worker(1);

		let calls = submitted_calls(&pool);
		assert_eq!(calls.len(), 2);
		for call in calls {
			assert_ok!(Inference::validate_unsigned(TransactionSource::Local, &call));
			match call {
				Call::submit_result { result, signature } => {
					assert_eq!(result.request, private);
					assert_eq!(result.output, Output::Hash(opg_settlement::sha256(b"secret")));
					assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
				},
				Call::submit_batch { batch, signature } => {
					let mut outputs: Vec<_> =
						batch.leaves.iter().map(|leaf| (leaf.request, leaf.output_hash)).collect();
					outputs.sort();
					let expected = vec![
						(batched, opg_settlement::sha256(b"A")),
						(batched + 1, opg_settlement::sha256(b"B")),
					];
					assert_eq!(outputs, expected);
					assert_ok!(Inference::submit_batch(RuntimeOrigin::none(), batch, signature));
				},
				other => panic!("unexpected call {other:?}"),
			}
		}
		assert!(Requests::<Test>::iter().next().is_none(), "every request settled");
	});
}

#[test]
fn requests_are_served_earliest_deadline_first_and_not_once_due() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(1, 1_000);
		set_executor_url();
		let window = |blocks| {
			let id = NextRequestId::<Test>::get();
			assert_ok!(Inference::request(
				RuntimeOrigin::signed(ALICE),
				MODEL,
				inline(b"inpt"),
				VerificationMode::Vanilla,
				SettlementMode::Individual,
				PRICE,
				blocks
			));
			id
		};
		let (late, early, middle) = (window(9), window(2), window(5));
		// The mock executor answers in the order it expects: a different order fails.
		for (id, output) in [(early, b"early"), (middle, b"midle"), (late, b"lated")] {
			expect_inference(&state, id, b"inpt", output);
		}
		Inference::offchain_worker(1);
		let served: Vec<_> = submitted_calls(&pool)
			.into_iter()
			.map(|call| match call {
				Call::submit_result { result, .. } => (result.request, result.output),
				other => panic!("unexpected {other:?}"),
			})
			.collect();
		assert_eq!(
			served,
			vec![(early, output(b"early")), (middle, output(b"midle")), (late, output(b"lated"))]
		);

		// A request due in the current block is not served: its result could only be
		// included after its deadline. (No expectation: a call would fail the test.)
		let due = window(2);
		let deadline = Requests::<Test>::get(due).unwrap().deadline;
		run_to(deadline);
		let _ = NodeRegistry::heartbeat(RuntimeOrigin::signed(operator(1)), key(1));
		Inference::offchain_worker(deadline);
		assert!(pool.read().transactions.is_empty());
	});
}

/// More jobs waiting than calls in flight: the inline jobs of one model go to the executor
/// in one call (`/v1/infer-many`), each answered on its own; a job the executor refuses
/// is not submitted and the others settle.
#[test]
fn crowded_inline_jobs_of_one_model_go_to_the_executor_in_one_call() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(1, 1_000);
		set_executor_url();
		let ids: Vec<RequestId> = (0..12).map(|_| request(ALICE)).collect();
		let body = opg_executor_api::encode_jobs(ids.iter().map(|id| (*id, &b"inpt"[..])));
		let answers: Vec<_> = ids
			.iter()
			.map(|id| match *id == ids[3] {
				true => opg_executor_api::JobAnswer {
					status: 422,
					signature: None,
					body: b"no".to_vec(),
				},
				false => opg_executor_api::JobAnswer {
					status: 200,
					signature: None,
					body: b"output".to_vec(),
				},
			})
			.collect();
		expect_post(
			&state,
			format!(
				"/v1/infer-many/0x{}?genesis=0x{}",
				hex::encode([0xaa; 32]),
				hex::encode(GENESIS_HASH)
			),
			&body,
			&opg_executor_api::encode_answers(&answers),
			&[],
		);
		Inference::offchain_worker(1);
		let settled: Vec<_> = submitted_calls(&pool)
			.into_iter()
			.map(|call| match call {
				Call::submit_result { result, signature } => {
					assert_ok!(Inference::submit_result(
						RuntimeOrigin::none(),
						result.clone(),
						signature
					));
					result.request
				},
				other => panic!("unexpected {other:?}"),
			})
			.collect();
		let expected: Vec<_> = ids.iter().copied().filter(|id| *id != ids[3]).collect();
		assert_eq!(settled, expected);
	});
}

/// The pool may answer `Ok` and drop the transaction, and a restarted node's pool is
/// empty: a result still open `RESUBMIT_AFTER` blocks after it was submitted is sent again.
#[test]
fn a_submitted_result_still_open_is_submitted_again() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(1, 1_000);
		set_executor_url();
		let id = request(ALICE);
		expect_inference(&state, id, b"inpt", b"output");
		Inference::offchain_worker(1);
		assert_eq!(submitted_calls(&pool).len(), 1, "submitted, then dropped by the pool");
		for block in 2..4 {
			Inference::offchain_worker(block);
			assert!(pool.read().transactions.is_empty(), "block {block}: still waiting");
		}
		expect_inference(&state, id, b"inpt", b"output");
		Inference::offchain_worker(4);
		let calls = submitted_calls(&pool);
		let [Call::submit_result { result, signature }] = &calls[..] else {
			panic!("submitted again, not {calls:?}")
		};
		assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result.clone(), *signature));
		assert!(Results::<Test>::contains_key(id));
		// Settled: never served again.
		Inference::offchain_worker(7);
		assert!(pool.read().transactions.is_empty());
	});
}

/// Batch results count as submitted only once their batch is: when the executor cannot
/// sign the root, the next run serves them again instead of leaving them to expire.
#[test]
fn batch_results_whose_root_was_not_signed_are_served_again() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(2, 1_000);
		set_executor_url();
		hold_key_in_executor(2);
		let batched = NextRequestId::<Test>::get();
		assert_ok!(request_with(
			ALICE,
			inline(b"inpt"),
			VerificationMode::Vanilla,
			SettlementMode::Batch
		));
		let infer = format!(
			"/v1/infer/0x{}?genesis=0x{}&request={batched}",
			hex::encode([0xaa; 32]),
			hex::encode(GENESIS_HASH)
		);
		let (_, leaf_signature) = signed_result(batched, 2, output(b"output"), 2);
		let signed = [("x-opg-signature", format!("0x{}", hex::encode(leaf_signature.0)))];
		let sign_batch = format!("/v1/sign-batch?genesis=0x{}", hex::encode(GENESIS_HASH));
		expect_post(&state, infer.clone(), b"inpt", b"output", &signed);
		// The executor answers without a signature (the mock answers 200 only).
		expect_post(&state, sign_batch.clone(), &leaf_body(batched), b"", &[]);
		Inference::offchain_worker(1);
		assert!(pool.read().transactions.is_empty());

		// The next run computes and signs it again.
		let leaf = opg_settlement::merkle::Leaf {
			request: batched,
			input_hash: opg_settlement::sha256(b"inpt"),
			output_hash: opg_settlement::sha256(b"output"),
		};
		let root = opg_settlement::merkle::root(&[leaf]).unwrap();
		let root_signature =
			node_pair(2).sign(&opg_settlement::message::batch(&GENESIS_HASH, &root, 1));
		expect_post(&state, infer, b"inpt", b"output", &signed);
		expect_post(
			&state,
			sign_batch,
			&leaf_body(batched),
			b"",
			&[("x-opg-signature", format!("0x{}", hex::encode(root_signature.0)))],
		);
		Inference::offchain_worker(2);
		let calls = submitted_calls(&pool);
		let [call @ Call::submit_batch { .. }] = &calls[..] else {
			panic!("one batch submitted, not {calls:?}")
		};
		assert_ok!(Inference::validate_unsigned(TransactionSource::Local, call));
	});
}

/// A run that outlasts its block holds a lock in offchain storage: the next block's run
/// serves nothing until it is released, so no result is computed and sent twice.
#[test]
fn overlapping_worker_runs_are_serialized() {
	use polkadot_sdk::sp_runtime::offchain::storage_lock::{StorageLock, Time};
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(1, 1_000);
		set_executor_url();
		let id = request(ALICE);
		let mut lock = StorageLock::<Time>::new(b"opg::inference::worker-lock");
		let running = lock.try_lock().expect("free");
		Inference::offchain_worker(1);
		assert!(pool.read().transactions.is_empty());
		drop(running);
		expect_inference(&state, id, b"inpt", b"output");
		Inference::offchain_worker(1);
		assert_eq!(submitted_calls(&pool).len(), 1);
	});
}

/// A griefing request: a stored input no store, peer or locator holds. The executor says
/// so (`x-opg-missing: input`), and the worker declines the request instead of leaving it
/// to expire at the node's expense.
#[test]
fn a_stored_input_no_source_has_is_declined_not_left_to_expire() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(1, 1_000);
		set_executor_url();
		let id = NextRequestId::<Test>::get();
		let locator = b"http://data.example/in put.bin".to_vec();
		let input =
			Input::Stored { hash: [7; 32], size: 4, locator: BoundedVec::truncate_from(locator) };
		assert_ok!(request_with(ALICE, input, VerificationMode::Vanilla, SettlementMode::Private));
		// The locator travels to the executor, which fetches from it when no peer has the input.
		let path = format!(
			"/v1/infer/0x{}?input=0x{}&locator=http%3A%2F%2Fdata.example%2Fin%20put.bin&genesis=0x{}&request={id}&requester=0x{}",
			hex::encode([0xaa; 32]),
			hex::encode([7u8; 32]),
			hex::encode(GENESIS_HASH),
			hex::encode(ALICE.encode())
		);
		expect_post(&state, path, b"", b"not found", &[("x-opg-missing", "input".into())]);
		Inference::offchain_worker(1);
		let calls = submitted_calls(&pool);
		let [call @ Call::cannot_serve { notice, signature }] = &calls[..] else {
			panic!("one notice, not {calls:?}")
		};
		assert_eq!(notice.reason, CannotServeReason::InputUnavailable);
		assert_ok!(Inference::validate_unsigned(TransactionSource::Local, call));
		assert_ok!(Inference::cannot_serve(RuntimeOrigin::none(), *notice, *signature));
		assert!(Requests::<Test>::get(id).is_none());
		assert_eq!(pallet_node_registry::Nodes::<Test>::get(key(1)).unwrap().bond, 1_000);
		// Noted as sent: the next run does not ask again.
		Inference::offchain_worker(1);
		assert!(pool.read().transactions.is_empty());
	});
}

/// A stored ZKML input whose bytes do not match the caller's commitment: the executor
/// reports the commitment of the bytes it proved, and the worker declines with it.
#[test]
fn a_stored_zkml_input_that_does_not_match_its_commitment_is_declined() {
	use ark_std::rand::{rngs::StdRng, SeedableRng};
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let prover = zk_worker();
		let given = zkml::commitment_of(&[1, 2, 3, 4]);
		let id = zkml::zk_stored_request(given).unwrap();
		let binding = opg_zk_verifier::job_binding(&GENESIS_HASH, id, &key(1).0);
		let proven = prover.prove(&zkml::INPUT, binding, &mut StdRng::seed_from_u64(id)).unwrap();
		let query = format!(
			"input=0x{}&genesis=0x{}&request={id}&node=0x{}&commitment=0x{}",
			hex::encode(opg_settlement::sha256(&zkml::INPUT)),
			hex::encode(GENESIS_HASH),
			hex::encode(key(1).0),
			hex::encode(given)
		);
		let path = format!("/v1/prove/0x{}?{query}", hex::encode([0xbb; 32]));
		let computed = zkml::commitment_of(&zkml::INPUT);
		// An executor that proves them anyway and says what it computed: the worker
		// declines all the same (today's executor refuses with 409 before proving).
		let headers = [
			("x-opg-proof", format!("0x{}", hex::encode(&proven.proof))),
			("x-opg-input-commitment", format!("0x{}", hex::encode(computed))),
		];
		expect_post(&state, path, &[], &proven.output, &headers);
		Inference::offchain_worker(1);
		let calls = submitted_calls(&pool);
		let [Call::cannot_serve { notice, signature }] = &calls[..] else {
			panic!("one notice, not {calls:?}")
		};
		assert_eq!(notice.reason, CannotServeReason::CommitmentMismatch { computed });
		assert_ok!(Inference::cannot_serve(RuntimeOrigin::none(), *notice, *signature));
		assert!(Requests::<Test>::get(id).is_none());
	});
}

/// Regression: one bad proof made the runtime refuse a whole proven batch, its good
/// results were lost with it, and the bad one was proven again every block. The worker
/// now checks the batch as the runtime will, sends its results one at a time when it
/// fails, and remembers the result refused for good.
#[test]
fn a_bad_proof_does_not_sink_its_batch_and_is_not_proven_again() {
	use ark_std::rand::{rngs::StdRng, SeedableRng};
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let prover = zk_worker();
		let good = zkml::zk_request(VerificationMode::Zkml);
		let bad = zkml::zk_request(VerificationMode::Zkml);
		expect_proof(&state, &prover, good);
		// The executor answers `bad` with a proof bound to another request.
		let binding = opg_zk_verifier::job_binding(&GENESIS_HASH, good, &key(1).0);
		let wrong = prover.prove(&zkml::INPUT, binding, &mut StdRng::seed_from_u64(9)).unwrap();
		let query = format!(
			"genesis=0x{}&request={bad}&node=0x{}",
			hex::encode(GENESIS_HASH),
			hex::encode(key(1).0)
		);
		let path = format!("/v1/prove/0x{}?{query}", hex::encode([0xbb; 32]));
		let header = format!("0x{}", hex::encode(&wrong.proof));
		expect_post(&state, path, &zkml::INPUT, &wrong.output, &[("x-opg-proof", header)]);
		Inference::offchain_worker(1);
		let calls = submitted_calls(&pool);
		assert_eq!(calls.len(), 1, "the good result alone: {calls:?}");
		let Call::submit_proven_result { result, proof, signature } = calls[0].clone() else {
			panic!("a proven result")
		};
		assert_eq!(result.request, good);
		assert_ok!(Inference::submit_proven_result(
			RuntimeOrigin::none(),
			result,
			proof,
			signature
		));
		// Next block: the bad one is not sent to the prover again (no call is expected).
		run_to(2);
		Inference::offchain_worker(2);
		assert!(submitted_calls(&pool).is_empty());
		assert!(Requests::<Test>::contains_key(bad));
	});
}

/// Regression: a node key held by the executor (TEE mode) could not decline a request no
/// one could serve, so such a node missed the deadline and lost bond. The executor signs
/// the notice for the input it found nowhere, and the worker submits it.
#[test]
fn a_node_key_held_by_the_executor_declines_with_the_executors_signed_notice() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(2, 1_000);
		set_executor_url();
		hold_key_in_executor(2);
		let id = NextRequestId::<Test>::get();
		assert_ok!(request_with(
			ALICE,
			stored(7),
			VerificationMode::Vanilla,
			SettlementMode::Private
		));
		let path = format!(
			"/v1/infer/0x{}?input=0x{}&genesis=0x{}&request={id}&requester=0x{}",
			hex::encode([0xaa; 32]),
			hex::encode([7u8; 32]),
			hex::encode(GENESIS_HASH),
			hex::encode(ALICE.encode())
		);
		let message = opg_settlement::message::cannot_serve(
			&GENESIS_HASH,
			id,
			&[7; 32],
			opg_settlement::message::INPUT_UNAVAILABLE,
			&[0; 32],
		);
		let signature = node_pair(2).sign(&message);
		let headers = [
			("x-opg-missing", "input".to_string()),
			("x-opg-signature", format!("0x{}", hex::encode(signature.0))),
		];
		expect_post(&state, path, b"", b"not found", &headers);
		Inference::offchain_worker(1);
		let calls = submitted_calls(&pool);
		let [call @ Call::cannot_serve { notice, signature: submitted }] = &calls[..] else {
			panic!("one notice, not {calls:?}")
		};
		assert_eq!((notice.node, *submitted), (key(2), signature));
		assert_ok!(Inference::validate_unsigned(TransactionSource::Local, call));
		assert_ok!(Inference::cannot_serve(RuntimeOrigin::none(), *notice, *submitted));
		assert!(Requests::<Test>::get(id).is_none());
		assert_eq!(pallet_node_registry::Nodes::<Test>::get(key(2)).unwrap().bond, 1_000);
	});
}

/// A node key only the executor holds stays live without its operator: when its
/// heartbeat is due, the worker has the executor sign it and submits it through the
/// registry.
#[test]
fn a_node_key_held_by_the_executor_stays_live_with_heartbeats_the_executor_signs() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		register_node(2, 1_000);
		set_executor_url();
		hold_key_in_executor(2);
		// Not due yet: the executor is not asked, nothing is submitted.
		Inference::offchain_worker(System::block_number());
		assert!(pool.read().transactions.is_empty());

		run_to(System::block_number() + NodeRegistry::heartbeat_period());
		let at = System::block_number();
		let signed = node_pair(2).sign(&opg_settlement::message::heartbeat(&GENESIS_HASH, at));
		expect_post(
			&state,
			format!("/v1/heartbeat?genesis=0x{}&at={at}", hex::encode(GENESIS_HASH)),
			b"",
			b"",
			&[("x-opg-signature", format!("0x{}", hex::encode(signed.0)))],
		);
		Inference::offchain_worker(at);
		let transactions: Vec<_> = pool.write().transactions.drain(..).collect();
		let [bytes] = &transactions[..] else { panic!("one heartbeat, not {transactions:?}") };
		let RuntimeCall::NodeRegistry(pallet_node_registry::Call::submit_heartbeat {
			heartbeat,
			signature,
		}) = Extrinsic::decode(&mut &bytes[..]).unwrap().function
		else {
			panic!("a heartbeat")
		};
		assert_eq!((heartbeat.node, heartbeat.at, signature), (key(2), at, signed));
		assert_ok!(NodeRegistry::submit_heartbeat(RuntimeOrigin::none(), heartbeat, signature));
		assert_eq!(pallet_node_registry::Nodes::<Test>::get(key(2)).unwrap().last_heartbeat, at);
	});
}

/// Regression: a node key only the executor holds could not decline a stored ZKML input
/// that does not match the caller's commitment (the worker cannot sign the notice), so
/// the request expired and the node was penalized. The executor now refuses to prove
/// such bytes and signs the notice for the key it holds.
#[test]
fn a_node_key_held_by_the_executor_declines_a_commitment_mismatch_with_its_signed_notice() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let prover = zkml::prover(1);
		zkml::publish(&prover);
		zkml::register_zk_node(2);
		set_executor_url();
		hold_key_in_executor(2);
		let given = zkml::commitment_of(&[1, 2, 3, 4]);
		let id = zkml::zk_stored_request(given).unwrap();
		let input_hash = opg_settlement::sha256(&zkml::INPUT);
		let computed = zkml::commitment_of(&zkml::INPUT);
		let query = format!(
			"input=0x{}&genesis=0x{}&request={id}&node=0x{}&commitment=0x{}",
			hex::encode(input_hash),
			hex::encode(GENESIS_HASH),
			hex::encode(key(2).0),
			hex::encode(given)
		);
		let notice = opg_settlement::message::cannot_serve(
			&GENESIS_HASH,
			id,
			&input_hash,
			opg_settlement::message::COMMITMENT_MISMATCH,
			&computed,
		);
		let signed = node_pair(2).sign(&notice);
		let headers = [
			("x-opg-input-commitment", format!("0x{}", hex::encode(computed))),
			("x-opg-signature", format!("0x{}", hex::encode(signed.0))),
		];
		let path = format!("/v1/prove/0x{}?{query}", hex::encode([0xbb; 32]));
		expect_post(&state, path, &[], b"commitment mismatch", &headers);
		Inference::offchain_worker(1);
		let calls = submitted_calls(&pool);
		let [call @ Call::cannot_serve { notice, signature }] = &calls[..] else {
			panic!("one notice, not {calls:?}")
		};
		assert_eq!(notice.reason, CannotServeReason::CommitmentMismatch { computed });
		assert_eq!((notice.node, *signature), (key(2), signed));
		assert_ok!(Inference::validate_unsigned(TransactionSource::Local, call));
		assert_ok!(Inference::cannot_serve(RuntimeOrigin::none(), *notice, *signature));
		assert!(Requests::<Test>::get(id).is_none());
		assert_eq!(pallet_node_registry::Nodes::<Test>::get(key(2)).unwrap().bond, 1_000);
	});
}
