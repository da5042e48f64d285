//! The verifiers' off-chain worker: re-execution, commit, reveal, against a mock executor.

#![allow(deprecated)]

use super::*;
use crate::{offchain::VERDICTS_KEY, Call, CaseOf, Event};
use codec::Decode;
use opg_primitives::{CheckInput, RequestId, ToCheck};
use opg_verification::Outcome;
use parking_lot::RwLock;
use polkadot_sdk::{
	frame_support::{
		pallet_prelude::{TransactionSource, ValidateUnsigned},
		traits::Hooks,
	},
	sp_core::offchain::{
		testing::{
			OffchainState, PendingRequest, PoolState, TestOffchainExt, TestTransactionPoolExt,
		},
		OffchainDbExt, OffchainWorkerExt, StorageKind, TransactionPoolExt,
	},
	sp_io::{self, TestExternalities},
	sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt},
};
use std::sync::Arc;

type Extrinsic = polkadot_sdk::frame_system::mocking::MockUncheckedExtrinsic<Test>;
type Shared<T> = Arc<RwLock<T>>;
/// The read permissions a worker's requests carried that verified: account, validity.
type Seen = Shared<Vec<([u8; 32], u64)>>;
const EXECUTOR: &str = "http://executor.test";

/// A test chain whose keystore holds the keys of verifiers 11–16 (and not node 1's), with
/// an off-chain worker environment: HTTP expectations and a transaction pool.
fn worker_ext() -> (TestExternalities, Shared<OffchainState>, Shared<PoolState>) {
	worker_ext_with(11..=16)
}

/// A test chain whose keystore holds the keys of `nodes`, with an off-chain worker
/// environment.
fn worker_ext_with(
	nodes: impl IntoIterator<Item = u8>,
) -> (TestExternalities, Shared<OffchainState>, Shared<PoolState>) {
	let mut ext = new_test_ext();
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let keystore = MemoryKeystore::new();
	for n in nodes {
		let seed = format!("0x{}", hex::encode([n; 32]));
		keystore
			.sr25519_generate_new(opg_primitives::NODE_KEY_TYPE, Some(&seed))
			.unwrap();
	}
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	(ext, state, pool_state)
}

fn set_executor_url() {
	sp_io::offchain::local_storage_set(
		StorageKind::PERSISTENT,
		opg_executor_api::offchain_keys::URL,
		EXECUTOR.as_bytes(),
	);
}

/// The check of result `id`'s inline input (its id's bytes, as the mock holds it), whose
/// node claimed `CLAIMED_OUTPUT`.
fn check_path(id: RequestId, query: &str) -> String {
	format!(
		"{EXECUTOR}/v1/check/0x{}?{query}genesis=0x{}&request={id}&output=0x{}",
		hex::encode(MODEL_HASH),
		hex::encode(GENESIS),
		hex::encode(opg_settlement::sha256(CLAIMED_OUTPUT))
	)
}

/// The check of result `id` whose input and claimed output the chain holds (the mock's):
/// the output's length in the query, its bytes after the input's.
fn inline_check(id: RequestId) -> (String, Vec<u8>) {
	(
		format!("{}&output-len={}", check_path(id, ""), CLAIMED_OUTPUT.len()),
		[&id.to_le_bytes()[..], CLAIMED_OUTPUT].concat(),
	)
}

/// Expects the worker to have result `id` checked `times` times, answered with the
/// executor's `verdict` (`x-opg-verdict`).
fn expect_check(state: &RwLock<OffchainState>, id: RequestId, times: usize, verdict: &str) {
	for _ in 0..times {
		let (uri, body) = inline_check(id);
		state.write().expect_request(PendingRequest {
			method: "POST".into(),
			uri,
			headers: vec![("content-type".into(), "application/octet-stream".into())],
			body,
			response: Some(b"the reason".to_vec()),
			response_headers: vec![("x-opg-verdict".into(), verdict.into())],
			sent: true,
			..Default::default()
		});
	}
}

fn submitted(pool: &RwLock<PoolState>) -> Vec<Call<Test>> {
	pool.write()
		.transactions
		.drain(..)
		.map(|bytes| match Extrinsic::decode(&mut &bytes[..]).unwrap().function {
			RuntimeCall::Verification(call) => call,
			other => panic!("unexpected call {other:?}"),
		})
		.collect()
}

/// Checks each call as the pool does, then dispatches it as a block would.
fn include(calls: Vec<Call<Test>>) {
	for call in calls {
		assert_ok!(Verification::validate_unsigned(TransactionSource::Local, &call));
		assert_ok!(match call {
			Call::commit { case, verifier, commitment, signature } => {
				Verification::commit(RuntimeOrigin::none(), case, verifier, commitment, signature)
			},
			Call::reveal { case, verifier, verdict, salt, signature } => {
				Verification::reveal(
					RuntimeOrigin::none(),
					case,
					verifier,
					verdict,
					salt,
					signature,
				)
			},
			other => panic!("unexpected call {other:?}"),
		});
	}
}

/// Result 7 of node 1, challenged; its case open with three seats of the keystore's keys.
fn challenged() -> CaseId {
	hold_result(7, node(1));
	assert_ok!(Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7));
	run_to(2);
	let case = CaseOf::<Test>::get(7).unwrap();
	assert_eq!(committee(case).len(), 3);
	case
}

fn verdicts(calls: &[Call<Test>]) -> Vec<Verdict> {
	calls
		.iter()
		.map(|call| match call {
			Call::reveal { verdict, .. } => *verdict,
			other => panic!("not a reveal: {other:?}"),
		})
		.collect()
}

#[test]
fn each_seat_re_executes_the_result_commits_then_reveals_and_an_honest_result_stands() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let case = challenged();
		// No executor URL: nothing is asked or submitted.
		Verification::offchain_worker(2);
		assert!(pool.read().transactions.is_empty());

		set_executor_url();
		expect_check(&state, 7, 3, "valid");
		Verification::offchain_worker(2);
		let commits = submitted(&pool);
		assert_eq!(commits.len(), 3, "one commit per seat");
		include(commits);
		// Every seat committed: the round reveals; the kept verdicts are revealed without
		// running the model again.
		Verification::offchain_worker(2);
		let reveals = submitted(&pool);
		assert_eq!(verdicts(&reveals), vec![Verdict::Valid; 3]);
		include(reveals);
		assert_eq!(held(7).ended, Some(true), "paid to its node");
		assert!(events().iter().any(|event| matches!(
			event,
			Event::CaseResolved { case: c, outcome: Outcome::Upheld, .. } if *c == case
		)));
		// The case ended: nothing left to do, nothing kept.
		Verification::offchain_worker(3);
		assert!(pool.read().transactions.is_empty());
		let kept = sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, VERDICTS_KEY);
		assert_eq!(kept, Some(codec::Encode::encode(&Vec::<u8>::new())));
		crate::Pallet::<Test>::do_try_state().unwrap();
	});
}

#[test]
fn a_result_the_executor_finds_invalid_is_judged_invalid() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let case = challenged();
		set_executor_url();
		expect_check(&state, 7, 3, "invalid");
		Verification::offchain_worker(2);
		include(submitted(&pool));
		Verification::offchain_worker(2);
		let reveals = submitted(&pool);
		assert_eq!(verdicts(&reveals), vec![Verdict::Invalid; 3]);
		include(reveals);
		assert!(events().iter().any(|event| matches!(
			event,
			Event::Advanced { case: c, step: crate::StepKind::Escalated, .. } if *c == case
		)));
	});
}

#[test]
fn an_executor_that_gives_no_verdict_leaves_the_seat_for_the_next_block() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		challenged();
		set_executor_url();
		// An answer without a verdict, then one with an unknown verdict: nothing is
		// guessed, nothing committed.
		for headers in [vec![], vec![("x-opg-verdict", "maybe")]] {
			for _ in 0..3 {
				let (uri, body) = inline_check(7);
				state.write().expect_request(PendingRequest {
					method: "POST".into(),
					uri,
					headers: vec![("content-type".into(), "application/octet-stream".into())],
					body,
					response: Some(b"no verdict".to_vec()),
					response_headers: headers
						.iter()
						.map(|(n, v): &(&str, &str)| (n.to_string(), v.to_string()))
						.collect(),
					sent: true,
					..Default::default()
				});
			}
			Verification::offchain_worker(2);
			assert!(pool.read().transactions.is_empty());
		}
		// The next answer with a verdict is committed.
		expect_check(&state, 7, 3, "valid");
		Verification::offchain_worker(2);
		assert_eq!(submitted(&pool).len(), 3);
	});
}

/// The worker's offchain environment, seen through [`Permissions`].
fn worker_ext_checking_permissions(
) -> (TestExternalities, Shared<OffchainState>, Shared<PoolState>, Seen) {
	let mut ext = new_test_ext();
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let keystore = MemoryKeystore::new();
	for n in 11..=16u8 {
		let seed = format!("0x{}", hex::encode([n; 32]));
		keystore
			.sr25519_generate_new(opg_primitives::NODE_KEY_TYPE, Some(&seed))
			.unwrap();
	}
	let seen = Shared::default();
	ext.register_extension(OffchainWorkerExt::new(Permissions {
		inner: offchain.clone(),
		uris: Default::default(),
		pending: Default::default(),
		seen: seen.clone(),
	}));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	(ext, state, pool_state, seen)
}

/// The test offchain environment, but a request's read permission (`x-opg-account`,
/// `x-opg-not-after`, `x-opg-signature`: randomized sr25519, which no expectation can
/// name) is checked here: the signature must verify for the account over
/// `artifact_read` of the input the request names; the request then carries
/// `x-opg-signature: verified` alone, and the account and validity are kept in `seen`.
struct Permissions {
	inner: TestOffchainExt,
	uris: std::collections::HashMap<u16, String>,
	pending: std::collections::HashMap<u16, ([u8; 32], u64)>,
	seen: Seen,
}

impl polkadot_sdk::sp_core::offchain::Externalities for Permissions {
	fn is_validator(&self) -> bool {
		self.inner.is_validator()
	}
	fn network_state(&self) -> Result<polkadot_sdk::sp_core::offchain::OpaqueNetworkState, ()> {
		self.inner.network_state()
	}
	fn timestamp(&mut self) -> polkadot_sdk::sp_core::offchain::Timestamp {
		self.inner.timestamp()
	}
	fn sleep_until(&mut self, deadline: polkadot_sdk::sp_core::offchain::Timestamp) {
		self.inner.sleep_until(deadline)
	}
	fn random_seed(&mut self) -> [u8; 32] {
		self.inner.random_seed()
	}
	fn http_request_start(
		&mut self,
		method: &str,
		uri: &str,
		meta: &[u8],
	) -> Result<polkadot_sdk::sp_core::offchain::HttpRequestId, ()> {
		let id = self.inner.http_request_start(method, uri, meta)?;
		self.uris.insert(id.0, uri.into());
		Ok(id)
	}
	fn http_request_add_header(
		&mut self,
		id: polkadot_sdk::sp_core::offchain::HttpRequestId,
		name: &str,
		value: &str,
	) -> Result<(), ()> {
		let entry = self.pending.entry(id.0).or_default();
		match name {
			opg_executor_api::header::ACCOUNT => {
				entry.0 = opg_executor_api::parse_hash(value).unwrap();
				Ok(())
			},
			opg_executor_api::header::NOT_AFTER => {
				entry.1 = value.parse().unwrap();
				Ok(())
			},
			opg_executor_api::header::SIGNATURE => {
				let (account, not_after) = *entry;
				let uri = &self.uris[&id.0];
				let input =
					opg_executor_api::query_value(uri.split_once('?').map(|(_, q)| q), "input")
						.and_then(opg_executor_api::parse_hash)
						.unwrap();
				let signature =
					<[u8; 64]>::try_from(opg_executor_api::parse_hex(value).unwrap()).unwrap();
				let valid = sr25519::Pair::verify(
					&sr25519::Signature::from_raw(signature),
					opg_settlement::message::artifact_read(&input, not_after),
					&sr25519::Public::from_raw(account),
				);
				if valid {
					self.seen.write().push((account, not_after));
				}
				let shown = if valid { "verified" } else { "does not verify" };
				self.inner.http_request_add_header(id, name, shown)
			},
			_ => self.inner.http_request_add_header(id, name, value),
		}
	}
	fn http_request_write_body(
		&mut self,
		id: polkadot_sdk::sp_core::offchain::HttpRequestId,
		chunk: &[u8],
		deadline: Option<polkadot_sdk::sp_core::offchain::Timestamp>,
	) -> Result<(), polkadot_sdk::sp_core::offchain::HttpError> {
		self.inner.http_request_write_body(id, chunk, deadline)
	}
	fn http_response_wait(
		&mut self,
		ids: &[polkadot_sdk::sp_core::offchain::HttpRequestId],
		deadline: Option<polkadot_sdk::sp_core::offchain::Timestamp>,
	) -> Vec<polkadot_sdk::sp_core::offchain::HttpRequestStatus> {
		self.inner.http_response_wait(ids, deadline)
	}
	fn http_response_headers(
		&mut self,
		id: polkadot_sdk::sp_core::offchain::HttpRequestId,
	) -> Vec<(Vec<u8>, Vec<u8>)> {
		self.inner.http_response_headers(id)
	}
	fn http_response_read_body(
		&mut self,
		id: polkadot_sdk::sp_core::offchain::HttpRequestId,
		buffer: &mut [u8],
		deadline: Option<polkadot_sdk::sp_core::offchain::Timestamp>,
	) -> Result<usize, polkadot_sdk::sp_core::offchain::HttpError> {
		self.inner.http_response_read_body(id, buffer, deadline)
	}
	fn set_authorized_nodes(
		&mut self,
		nodes: Vec<polkadot_sdk::sp_core::OpaquePeerId>,
		authorized_only: bool,
	) {
		self.inner.set_authorized_nodes(nodes, authorized_only)
	}
}

#[test]
fn an_input_no_store_serves_is_a_failed_check() {
	let (mut ext, state, pool, seen) = worker_ext_checking_permissions();
	ext.execute_with(|| {
		let case = challenged();
		let input = opg_settlement::sha256(b"withheld");
		set_to_check(
			7,
			ToCheck {
				model_hash: MODEL_HASH,
				input: CheckInput::Stored { hash: input, locator: Vec::new() },
				output_hash: opg_settlement::sha256(CLAIMED_OUTPUT),
				output: None,
			},
		);
		set_executor_url();
		for _ in 0..3 {
			state.write().expect_request(PendingRequest {
				method: "POST".into(),
				uri: check_path(7, &format!("input=0x{}&", hex::encode(input))),
				headers: vec![
					("content-type".into(), "application/octet-stream".into()),
					("x-opg-signature".into(), "verified".into()),
				],
				response: Some(b"input not found".to_vec()),
				response_headers: vec![("x-opg-missing".into(), "input".into())],
				sent: true,
				..Default::default()
			});
		}
		Verification::offchain_worker(2);
		// Each seat asked with its own read permission of the input, valid 300 s from the
		// worker's clock (0 here), which its executor shows to the serving node's.
		let mut readers: Vec<u8> = seen
			.read()
			.iter()
			.map(|(account, not_after)| {
				assert_eq!(*not_after, 300);
				number(&NodeKey::from_raw(*account))
			})
			.collect();
		readers.sort();
		let mut seated = committee(case);
		seated.sort();
		assert_eq!(readers, seated);
		include(submitted(&pool));
		Verification::offchain_worker(2);
		assert_eq!(verdicts(&submitted(&pool)), vec![Verdict::Invalid; 3]);
		assert!(Cases::<Test>::get(case).is_some());
	});
}

#[test]
fn a_commit_not_yet_included_is_submitted_again_with_the_same_commitment_and_no_rerun() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		challenged();
		set_executor_url();
		expect_check(&state, 7, 3, "valid");
		Verification::offchain_worker(2);
		let commitments = |calls: Vec<Call<Test>>| -> Vec<_> {
			calls
				.into_iter()
				.map(|call| match call {
					Call::commit { verifier, commitment, .. } => (verifier, commitment),
					other => panic!("not a commit: {other:?}"),
				})
				.collect()
		};
		let first = commitments(submitted(&pool));
		// No HTTP expectation left: a second re-execution would fail the test.
		Verification::offchain_worker(2);
		assert_eq!(commitments(submitted(&pool)), first);
	});
}

#[test]
fn a_node_without_seats_asks_nothing_of_its_executor() {
	let (mut ext, _state, pool) = worker_ext();
	ext.execute_with(|| {
		set_executor_url();
		crate::Parameters::<Test>::put(opg_verification::Params {
			sample_rate: 0,
			..opg_verification::Params::DEV
		});
		hold_result(7, node(1));
		run_to(3);
		Verification::offchain_worker(3);
		assert!(pool.read().transactions.is_empty());
	});
}

/// Result 7 of node 1, provable, challenged, found wrong by its committee: node 1 owes a
/// proof.
fn owing_a_proof() -> CaseId {
	crate::Parameters::<Test>::put(opg_verification::Params {
		sample_rate: 0,
		..opg_verification::Params::DEV
	});
	hold_provable_result(7, node(1));
	assert_ok!(Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7));
	run_to(2);
	let case = CaseOf::<Test>::get(7).unwrap();
	vote(case, Verdict::Invalid);
	assert!(crate::ProofsDue::<Test>::contains_key(node(1), case));
	case
}

/// Expects node 1's worker to ask its executor for a proof of result 7, answered with
/// `output` and the mock's valid proof.
fn expect_proof(state: &RwLock<OffchainState>, output: &[u8]) {
	let call = opg_executor_api::Call::Prove {
		model: &MODEL_HASH,
		input: None,
		locator: None,
		job: opg_executor_api::Job { genesis: GENESIS, request: 7, node: node(1).0 },
		commitment: None,
		requester: None,
	};
	state.write().expect_request(PendingRequest {
		method: "POST".into(),
		uri: call.uri(EXECUTOR),
		headers: vec![("content-type".into(), "application/octet-stream".into())],
		body: 7u64.to_le_bytes().to_vec(),
		response: Some(output.to_vec()),
		response_headers: vec![("x-opg-proof".into(), format!("0x{}", hex::encode(VALID_PROOF)))],
		sent: true,
		..Default::default()
	});
}

#[test]
fn a_node_proves_its_disputed_result_once_and_is_paid() {
	let (mut ext, state, pool) = worker_ext_with([1]);
	ext.execute_with(|| {
		let case = owing_a_proof();
		set_executor_url();
		expect_proof(&state, CLAIMED_OUTPUT);
		Verification::offchain_worker(2);
		let calls = submitted(&pool);
		assert!(matches!(&calls[..], [Call::prove { case: c, .. }] if *c == case));
		// Not included yet: submitted again from what was kept, without proving again.
		Verification::offchain_worker(2);
		assert_eq!(submitted(&pool), calls);
		let Call::prove { case, output, proof } = calls[0].clone() else { unreachable!() };
		assert_ok!(Verification::validate_unsigned(
			TransactionSource::Local,
			&Call::prove { case, output: output.clone(), proof: proof.clone() }
		));
		assert_ok!(Verification::prove(RuntimeOrigin::none(), case, output, proof));
		assert_eq!(held(7).ended, Some(true));
		Verification::offchain_worker(3);
		assert!(pool.read().transactions.is_empty());
	});
}

#[test]
fn a_node_whose_executor_proves_another_output_submits_nothing() {
	let (mut ext, state, pool) = worker_ext_with([1]);
	ext.execute_with(|| {
		owing_a_proof();
		set_executor_url();
		expect_proof(&state, b"what the model really outputs");
		Verification::offchain_worker(2);
		assert!(pool.read().transactions.is_empty());
		// Remembered: the executor is not asked again.
		Verification::offchain_worker(3);
		assert!(pool.read().transactions.is_empty());
	});
}

/// A challenged direct call is checked on its request, fetched by the call's digest with
/// `input-form=call`: the digest's preimage is what the serving node keeps.
#[test]
fn a_direct_calls_request_is_fetched_by_its_digest_as_a_call() {
	let (mut ext, state, pool, seen) = worker_ext_checking_permissions();
	ext.execute_with(|| {
		let case = challenged();
		let digest = opg_settlement::channel::call_digest("/v1/infer/0x01", b"body");
		set_to_check(
			7,
			ToCheck {
				model_hash: MODEL_HASH,
				input: CheckInput::Call { digest },
				output_hash: opg_settlement::sha256(CLAIMED_OUTPUT),
				output: None,
			},
		);
		set_executor_url();
		for _ in 0..3 {
			state.write().expect_request(PendingRequest {
				method: "POST".into(),
				uri: check_path(7, &format!("input=0x{}&input-form=call&", hex::encode(digest))),
				headers: vec![
					("content-type".into(), "application/octet-stream".into()),
					("x-opg-signature".into(), "verified".into()),
				],
				response: Some(b"the output hashes to 0x00".to_vec()),
				response_headers: vec![("x-opg-verdict".into(), "invalid".into())],
				sent: true,
				..Default::default()
			});
		}
		Verification::offchain_worker(2);
		assert_eq!(seen.read().len(), 3, "each seat shows its read permission of the call");
		include(submitted(&pool));
		Verification::offchain_worker(2);
		assert_eq!(verdicts(&submitted(&pool)), vec![Verdict::Invalid; 3]);
		let verifier = committee(case)[0];
		let reads = Verification::verifier_reads(&node(verifier), 7).unwrap();
		assert_eq!(reads.input, Some(digest), "the serving node lets it read the call");
	});
}
