//! What the executor exposes, and to whom: the node and public listeners, body limits,
//! connection and concurrency bounds, private artifacts, and the store's quota and
//! self-repair (issue 16, section 4).

use super::*;
use crate::{
	http::{route, route_with, serve_face, Face},
	signing::NodeKey,
	store::Limits,
	tests::temp_store,
};
use hyper::{body::Bytes, HeaderMap, Method, StatusCode};
use opg_executor_api::{header, Route};
use std::{
	io::{Read, Write},
	net::{IpAddr, SocketAddr},
	sync::Arc,
	time::Duration,
};

fn demo(store: &ArtifactStore) -> (ContentHash, opg_qmodel::QModel) {
	let model = opg_qmodel::generate(&[8, 6, 3], 5);
	(store.put(&model.to_bytes()).unwrap(), model)
}

/// A raw HTTP/1.1 exchange: writes `head` (request line and headers, without the blank
/// line), then `body`, and reads the answer until the server closes; `None` if nothing
/// came within `wait`.
fn exchange(address: SocketAddr, head: &str, body: &[u8], wait: Duration) -> Option<String> {
	let mut stream = std::net::TcpStream::connect(address).unwrap();
	stream.set_read_timeout(Some(wait)).unwrap();
	stream
		.write_all(format!("{head}\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
		.unwrap();
	let _ = stream.write_all(body);
	let mut response = Vec::new();
	match stream.read_to_end(&mut response) {
		Ok(_) if !response.is_empty() => Some(String::from_utf8_lossy(&response).to_lowercase()),
		Ok(_) => None,
		Err(_) if !response.is_empty() => Some(String::from_utf8_lossy(&response).to_lowercase()),
		Err(_) => None,
	}
}

fn status(answer: &str) -> u16 {
	answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0)
}

/// Serves `face` for `executor` on a loopback port in a runtime of its own; the listener
/// stops when the returned runtime is dropped.
fn listen(
	executor: Arc<Executor>,
	face: Face,
	max_connections: usize,
) -> (tokio::runtime::Runtime, SocketAddr) {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
	let address = listener.local_addr().unwrap();
	runtime.spawn(serve_face(executor, listener, face, max_connections, std::future::pending()));
	(runtime, address)
}

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn the_node_listener_with_a_token_refuses_callers_without_it() {
	let store = temp_store("token");
	let executor = Arc::new(Executor::new(store, None));
	let (_server, address) =
		listen(executor, Face::Node { token: Some("s3cret".into()) }, http::MAX_CONNECTIONS);
	let answer = exchange(address, "GET /health HTTP/1.1", b"", WAIT).unwrap();
	assert_eq!(status(&answer), 401, "{answer}");
	assert!(answer.contains("www-authenticate: bearer"), "{answer}");
	let wrong =
		exchange(address, "GET /health HTTP/1.1\r\nauthorization: Bearer s3cres", b"", WAIT);
	assert_eq!(status(&wrong.unwrap()), 401);
	let basic = exchange(address, "GET /health HTTP/1.1\r\nauthorization: Basic s3cret", b"", WAIT);
	assert_eq!(status(&basic.unwrap()), 401);
	let right =
		exchange(address, "GET /health HTTP/1.1\r\nauthorization: Bearer s3cret", b"", WAIT);
	assert_eq!(status(&right.unwrap()), 200);
}

#[test]
fn the_node_listener_without_a_token_admits_loopback_callers_only() {
	let face = Face::Node { token: None };
	let admit = |peer: &str| {
		let peer: IpAddr = peer.parse().unwrap();
		face.admit(peer, &Route::Attestation, &Method::POST, None, &HeaderMap::new())
	};
	for loopback in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"] {
		assert!(admit(loopback).is_ok(), "{loopback}");
	}
	for other in ["192.0.2.7", "10.0.0.1", "::ffff:192.0.2.7", "2001:db8::1"] {
		let refused = admit(other).unwrap_err();
		assert_eq!(refused.status, StatusCode::FORBIDDEN, "{other}");
	}
}

#[test]
fn the_public_listener_answers_public_routes_only() {
	let store = temp_store("public");
	let (model, _) = demo(&store);
	let artifact = store.put(b"a public artifact").unwrap();
	let executor = Arc::new(Executor::new(store, None));
	let (_server, address) = listen(executor, Face::Public, http::MAX_CONNECTIONS);
	let model = hex::encode(model);
	let ask = |head: &str, body: &[u8]| status(&exchange(address, head, body, WAIT).unwrap());
	assert_eq!(ask("GET /health HTTP/1.1", b""), 200);
	assert_eq!(ask(&format!("GET /v1/artifacts/{} HTTP/1.1", hex::encode(artifact)), b""), 200);
	let infer = format!("POST /v1/infer/{model} HTTP/1.1\r\ncontent-length: 8");
	assert_eq!(ask(&infer, &[1; 8]), 200, "an unsigned inference is public");
	let genesis = hex::encode([7; 32]);
	for head in [
		format!("POST /v1/infer/{model}?genesis=0x{genesis}&request=1 HTTP/1.1\r\ncontent-length: 8"),
		format!("POST /v1/infer/{model}?input=0x{genesis} HTTP/1.1\r\ncontent-length: 8"),
		format!("POST /v1/prove/{model}?genesis=0x{genesis}&request=1&node=0x{genesis} HTTP/1.1\r\ncontent-length: 8"),
		format!("POST /v1/check/{model}?genesis=0x{genesis}&request=1&output=0x{genesis} HTTP/1.1\r\ncontent-length: 8"),
		format!("PUT /v1/artifacts/{} HTTP/1.1\r\ncontent-length: 8", hex::encode(sha256(&[1; 8]))),
		"POST /v1/attestation?genesis=0x00&nonce=0x00 HTTP/1.1\r\ncontent-length: 8".into(),
		"POST /v1/sign-batch?genesis=0x00 HTTP/1.1\r\ncontent-length: 8".into(),
		"POST /v1/fetch?url=http%3A%2F%2F127.0.0.1%2F HTTP/1.1\r\ncontent-length: 8".into(),
		"GET /metrics HTTP/1.1\r\ncontent-length: 8".into(),
		format!("POST /v1/honeypots/{model} HTTP/1.1\r\ncontent-length: 8"),
		"GET /v1/honeypots HTTP/1.1\r\ncontent-length: 8".into(),
	] {
		assert_eq!(ask(&head, &[1; 8]), 403, "{head}");
	}
}

#[test]
fn a_body_larger_than_the_routes_limit_is_refused_unread() {
	let store = temp_store("limits");
	let (model, _) = demo(&store);
	let executor = Arc::new(Executor::new(store, None));
	let (_server, address) = listen(executor, Face::Node { token: None }, http::MAX_CONNECTIONS);
	let model = hex::encode(model);
	// The head alone: a server that read the declared body would wait for it (and time out
	// here) instead of answering.
	let unread = |head: &str| status(&exchange(address, head, b"", WAIT).expect("answered unread"));
	assert_eq!(unread(&format!("POST /v1/infer/{model} HTTP/1.1\r\ncontent-length: 9")), 413);
	assert_eq!(unread("GET /health HTTP/1.1\r\ncontent-length: 1"), 413);
	assert_eq!(
		unread(&format!(
			"POST /v1/infer/{model}?input=0x{} HTTP/1.1\r\ncontent-length: 1",
			hex::encode([1; 32])
		)),
		413,
		"a stored input takes no body"
	);
	let leaves = http::MAX_BATCH_LEAVES * opg_executor_api::BATCH_LEAF_LEN + 1;
	assert_eq!(
		unread(&format!("POST /v1/sign-batch?genesis=0x00 HTTP/1.1\r\ncontent-length: {leaves}")),
		413
	);
	// A chunked body that grows past the limit while read.
	let chunked = exchange(
		address,
		&format!("POST /v1/infer/{model} HTTP/1.1\r\ntransfer-encoding: chunked"),
		b"10\r\n0123456789abcdef\r\n0\r\n\r\n",
		WAIT,
	);
	assert_eq!(status(&chunked.unwrap()), 413);
	// A check takes the input and the claimed output's `output-len` bytes after it
	// (regression: it once took the input's length alone, so a verifier's check of a
	// result whose output the chain holds was refused, and no case was ever decided).
	let genesis = hex::encode([7; 32]);
	let claimed = hex::encode(sha256(&[2; 4]));
	let check = |len: usize| {
		format!(
			"POST /v1/check/{model}?genesis=0x{genesis}&request=1&output=0x{claimed}&output-len=4 \
			 HTTP/1.1\r\ncontent-length: {len}"
		)
	};
	assert_eq!(unread(&check(13)), 413);
	let answer =
		exchange(address, &check(12), &[[3; 8].as_slice(), &[2; 4]].concat(), WAIT).unwrap();
	assert_eq!(status(&answer), 200, "{answer}");
	// The model's input length exactly is taken; one byte short is the model's error.
	let exact = format!("POST /v1/infer/{model} HTTP/1.1\r\ncontent-length: 8");
	assert_eq!(status(&exchange(address, &exact, &[3; 8], WAIT).unwrap()), 200);
	let short = format!("POST /v1/infer/{model} HTTP/1.1\r\ncontent-length: 7");
	assert_eq!(status(&exchange(address, &short, &[3; 7], WAIT).unwrap()), 422);
}

#[test]
fn a_listener_holds_a_connection_over_its_limit_until_one_closes() {
	let store = temp_store("connections");
	let executor = Arc::new(Executor::new(store, None));
	let (_server, address) = listen(executor, Face::Node { token: None }, 1);
	let first = std::net::TcpStream::connect(address).unwrap();
	// The first connection takes the only place: the second is not served meanwhile.
	std::thread::sleep(Duration::from_millis(200));
	let second = std::thread::spawn(move || {
		exchange(address, "GET /health HTTP/1.1", b"", Duration::from_millis(700))
	});
	assert_eq!(second.join().unwrap(), None, "answered beyond the connection limit");
	drop(first);
	let answer = exchange(address, "GET /health HTTP/1.1", b"", WAIT).unwrap();
	assert_eq!(status(&answer), 200);
}

#[test]
fn integer_inference_and_proving_beyond_their_bound_are_answered_busy() {
	let store = temp_store("busy");
	let (model, _) = demo(&store);
	let executor = Arc::new(
		Executor::new(store, None).with_concurrency(Concurrency { proving: 1, integer: 1 }),
	);
	let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
	let path = |route: &str| format!("{route}/0x{}", hex::encode(model));
	let infer = || {
		runtime.block_on(route(
			&executor,
			&Method::POST,
			&path("/v1/infer"),
			None,
			Bytes::from_static(&[1; 8]),
		))
	};
	let job =
		format!("genesis=0x{}&request=1&node=0x{}", hex::encode([1; 32]), hex::encode([2; 32]));
	let prove = || {
		runtime.block_on(route(
			&executor,
			&Method::POST,
			&path("/v1/prove"),
			Some(&job),
			Bytes::from_static(&[1; 8]),
		))
	};
	let (running_proof, running_inference) =
		(executor.proving_permit().unwrap(), executor.integer_permit().unwrap());
	for reply in [infer(), prove()] {
		assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
		assert_eq!(reply.header("retry-after"), Some("1"));
	}
	drop((running_proof, running_inference));
	assert_eq!(infer().status, StatusCode::OK);
	// With the place free, the proof goes on (and fails for want of a proving key).
	assert_eq!(prove().status, StatusCode::NOT_FOUND);
}

/// A read permission for `hash` signed by `key`, valid until `not_after`.
fn permission(key: &NodeKey, hash: &ContentHash, not_after: u64) -> HeaderMap {
	let mut headers = HeaderMap::new();
	let signature = key.sign(&opg_settlement::message::artifact_read(hash, not_after));
	let hex = |bytes: &[u8]| format!("0x{}", hex::encode(bytes)).parse().unwrap();
	headers.insert(header::ACCOUNT, hex(&key.public()));
	headers.insert(header::NOT_AFTER, not_after.to_string().parse().unwrap());
	headers.insert(header::SIGNATURE, hex(&signature));
	headers
}

fn now() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.unwrap()
		.as_secs()
}

#[test]
fn a_private_requests_output_is_served_to_its_requester_alone() {
	let store = temp_store("private");
	let (model, evaluated) = demo(&store);
	let executor = Arc::new(Executor::new(store, None));
	let (requester, other) = (NodeKey::from_seed(&[1; 32]), NodeKey::from_seed(&[2; 32]));
	let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
	let input = [5u8; 8];
	let query = format!("requester=0x{}", hex::encode(requester.public()));
	let reply = runtime.block_on(route(
		&executor,
		&Method::POST,
		&format!("/v1/infer/0x{}", hex::encode(model)),
		Some(&query),
		Bytes::copy_from_slice(&input),
	));
	assert_eq!(reply.status, StatusCode::OK);
	let output = evaluated.evaluate_bytes(&input).unwrap();
	let hash = sha256(&output);
	let read = |headers: HeaderMap| {
		runtime.block_on(route_with(
			&executor,
			&Method::GET,
			&format!("/v1/artifacts/0x{}", hex::encode(hash)),
			None,
			&headers,
			Bytes::new(),
		))
	};
	assert_eq!(
		read(HeaderMap::new()).status,
		StatusCode::UNAUTHORIZED,
		"knowing the hash is not enough"
	);
	let granted = read(permission(&requester, &hash, now() + 60));
	assert_eq!((granted.status, granted.body), (StatusCode::OK, output.clone()));
	assert_eq!(read(permission(&other, &hash, now() + 60)).status, StatusCode::FORBIDDEN);
	assert_eq!(read(permission(&requester, &hash, now() - 1)).status, StatusCode::UNAUTHORIZED);
	assert_eq!(
		read(permission(&requester, &hash, now() + opg_executor_api::MAX_READ_VALIDITY_S + 60))
			.status,
		StatusCode::BAD_REQUEST,
		"a permission may not last long"
	);
	let mut forged = permission(&other, &hash, now() + 60);
	forged
		.insert(header::ACCOUNT, format!("0x{}", hex::encode(requester.public())).parse().unwrap());
	assert_eq!(read(forged).status, StatusCode::UNAUTHORIZED, "another key's signature");
	let elsewhere = permission(&requester, &[0; 32], now() + 60);
	let mut replayed = permission(&requester, &hash, now() + 60);
	replayed.insert(header::SIGNATURE, elsewhere.get(header::SIGNATURE).unwrap().clone());
	assert_eq!(read(replayed).status, StatusCode::UNAUTHORIZED, "a permission for another hash");
}

#[test]
fn bytes_already_public_stay_public_and_a_new_private_input_is_restricted() {
	let store = temp_store("private-input");
	let executor = Executor::new(store.clone(), None);
	let reader = NodeKey::from_seed(&[1; 32]).public();
	let public = store.put(b"published").unwrap();
	executor.restrict_unless_public(&public, &reader).unwrap();
	assert_eq!(store.readers(&public).unwrap(), None);
	let fresh = sha256(b"a private input");
	executor.restrict_unless_public(&fresh, &reader).unwrap();
	store.put_cached(b"a private input").unwrap();
	assert_eq!(store.readers(&fresh).unwrap(), Some(vec![reader]));
	// Another private request of the same bytes adds its requester.
	let second = NodeKey::from_seed(&[2; 32]).public();
	executor.restrict_unless_public(&fresh, &second).unwrap();
	assert_eq!(store.readers(&fresh).unwrap(), Some(vec![reader, second]));
	// A private input that never came leaves no restriction behind.
	let never = sha256(b"never fetched");
	executor.restrict_unless_public(&never, &reader).unwrap();
	store.drop_readers_if_absent(&never).unwrap();
	store.drop_readers_if_absent(&fresh).unwrap();
	assert_eq!(store.readers(&never).unwrap(), None);
	assert_eq!(store.readers(&fresh).unwrap(), Some(vec![reader, second]), "stored: kept");
}

fn quota_store(name: &str, quota: u64, retention: Duration) -> ArtifactStore {
	let dir = temp_store(name).dir().to_path_buf();
	ArtifactStore::open_with(dir, Limits { quota: Some(quota), retention }).unwrap()
}

/// Backdates the cached artifact `hash` by `age`.
fn age(store: &ArtifactStore, hash: &ContentHash, age: Duration) {
	let marker = store.dir().join(".cached").join(hex::encode(hash));
	let file = std::fs::File::options().write(true).open(marker).unwrap();
	file.set_modified(std::time::SystemTime::now() - age).unwrap();
}

#[test]
fn the_store_evicts_cached_artifacts_oldest_first_to_stay_under_its_quota() {
	let store = quota_store("quota", 100, Duration::from_secs(60));
	let pinned = store.put(&[1; 40]).unwrap();
	let older = store.put_cached(&[2; 30]).unwrap();
	let newer = store.put_cached(&[3; 30]).unwrap();
	age(&store, &older, Duration::from_secs(300));
	age(&store, &newer, Duration::from_secs(200));
	assert_eq!(store.used(), 100);
	let added = store.put(&[4; 30]).unwrap();
	assert!(!store.contains(&older), "the oldest cached artifact is evicted");
	assert!(store.contains(&newer) && store.contains(&pinned) && store.contains(&added));
	assert_eq!(store.used(), 100);
}

#[test]
fn nothing_pinned_or_within_retention_is_evicted() {
	let store = quota_store("quota-full", 100, Duration::from_secs(3600));
	let pinned = store.put(&[1; 50]).unwrap();
	let young = store.put_cached(&[2; 40]).unwrap();
	assert!(matches!(store.put_cached(&[3; 20]), Err(StoreError::Full { needed: 20, quota: 100 })));
	assert!(store.contains(&pinned) && store.contains(&young));
	assert_eq!(store.used(), 90);
	// Stored again as pinned, a cached artifact is never evicted.
	store.put(&[2; 40]).unwrap();
	assert!(!store.dir().join(".cached").join(hex::encode(young)).exists());
	assert!(matches!(store.put_cached(&[3; 20]), Err(StoreError::Full { .. })));
}

#[test]
fn a_full_store_is_answered_507() {
	let store = quota_store("quota-507", 10, Duration::from_secs(3600));
	let executor = Arc::new(Executor::new(store, None));
	let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
	let bytes = [7u8; 11];
	let reply = runtime.block_on(route(
		&executor,
		&Method::PUT,
		&format!("/v1/artifacts/0x{}", hex::encode(sha256(&bytes))),
		None,
		Bytes::copy_from_slice(&bytes),
	));
	assert_eq!(reply.status, StatusCode::INSUFFICIENT_STORAGE);
}

#[test]
fn a_reopened_store_counts_its_bytes_and_drops_partial_writes() {
	let store = temp_store("reopen");
	store.put(&[1; 10]).unwrap();
	store.put_cached(&[2; 5]).unwrap();
	let partial = store.dir().join(".deadbeef.partial");
	std::fs::write(&partial, [0; 99]).unwrap();
	let reopened = ArtifactStore::open(store.dir()).unwrap();
	assert_eq!(reopened.used(), 15);
	assert!(!partial.exists());
}

#[test]
fn a_corrupt_artifact_is_replaced_by_a_good_copy() {
	let store = temp_store("corrupt");
	let (model, _) = demo(&store);
	let good = store.get(&model).unwrap().unwrap();
	std::fs::write(store.dir().join(hex::encode(model)), b"bit rot").unwrap();
	// A fresh process: nothing verified yet.
	let store = ArtifactStore::open(store.dir()).unwrap();
	let executor = Executor::new(store.clone(), None);
	assert!(matches!(
		executor.infer(&model, InputSource::Inline(&[1; 8])),
		Err(ExecError::ModelNotFound(_))
	));
	assert!(!store.contains(&model), "the corrupt file is gone");
	store.put_expecting(&model, &good, Kind::Pinned).unwrap();
	assert!(executor.infer(&model, InputSource::Inline(&[1; 8])).is_ok());
	// A corrupt copy found when storing is overwritten too.
	std::fs::write(store.dir().join(hex::encode(model)), b"bit rot").unwrap();
	let store = ArtifactStore::open(store.dir()).unwrap();
	store.put(&good).unwrap();
	assert_eq!(store.get(&model).unwrap(), Some(good));
}

/// A node's JSON-RPC answering `VerificationApi::verifier_reads` from `seats` (a verifier
/// key and request, what it may read), served on `runtime`; its URL.
fn chain_with_seats(
	runtime: &tokio::runtime::Runtime,
	seats: Vec<(([u8; 32], u64), opg_primitives::VerifierReads)>,
) -> String {
	use opg_primitives::codec::{Decode, Encode};
	crate::tests::mock_rpc(runtime.handle(), move |method, params| {
		assert_eq!(method, "state_call");
		assert_eq!(params[0], opg_primitives::VERIFIER_READS_CALL);
		let args = opg_executor_api::parse_hex(params[1].as_str().unwrap()).unwrap();
		let asked = <([u8; 32], u64)>::decode(&mut &args[..]).unwrap();
		let reads = seats.iter().find(|(seat, _)| *seat == asked).map(|(_, reads)| reads);
		serde_json::json!(format!("0x{}", hex::encode(reads.cloned().encode())))
	})
}

#[test]
fn a_private_input_and_its_evidence_are_read_by_the_verifiers_the_chain_seats_alone() {
	let store = temp_store("private-verifier");
	let genesis = [0x42; 32];
	let (requester, seated, other) =
		(NodeKey::from_seed(&[1; 32]), NodeKey::from_seed(&[3; 32]), NodeKey::from_seed(&[4; 32]));
	let input = store.put_cached(b"a private input").unwrap();
	store.restrict(&input, &requester.public()).unwrap();
	let output = sha256(b"the answer");
	store
		.keep_evidence(&genesis, 7, &output, b"{\"tokens\":[]}", Some(&requester.public()))
		.unwrap();
	store.keep_evidence(&genesis, 10, &output, b"{\"public\":1}", None).unwrap();
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let reads = |input| opg_primitives::VerifierReads { input, output };
	let rpc = chain_with_seats(
		&runtime,
		vec![
			((seated.public(), 7), reads(Some(input))),
			((seated.public(), 9), reads(Some([9; 32]))),
		],
	);
	let executor = Arc::new(Executor::new(store, None).with_genesis(genesis).with_chain_rpc(rpc));
	let read = |query: &str, headers: HeaderMap| {
		runtime.block_on(route_with(
			&executor,
			&Method::GET,
			&format!("/v1/artifacts/0x{}", hex::encode(input)),
			Some(query).filter(|query| !query.is_empty()),
			&headers,
			Bytes::new(),
		))
	};
	let valid = now() + 60;
	let granted = read("request=7", permission(&seated, &input, valid));
	assert_eq!((granted.status, granted.body), (StatusCode::OK, b"a private input".to_vec()));
	assert_eq!(read("request=7", HeaderMap::new()).status, StatusCode::UNAUTHORIZED);
	assert_eq!(read("", permission(&seated, &input, valid)).status, StatusCode::FORBIDDEN);
	assert_eq!(
		read("request=8", permission(&seated, &input, valid)).status,
		StatusCode::FORBIDDEN,
		"not seated on that request's case"
	);
	assert_eq!(
		read("request=9", permission(&seated, &input, valid)).status,
		StatusCode::FORBIDDEN,
		"seated, but that request's input is another"
	);
	assert_eq!(
		read("request=7", permission(&other, &input, valid)).status,
		StatusCode::FORBIDDEN,
		"a node key the chain does not seat"
	);
	assert_eq!(
		read("request=7", permission(&seated, &[0; 32], valid)).status,
		StatusCode::UNAUTHORIZED,
		"a permission for another hash"
	);
	assert_eq!(
		read("request=x", permission(&seated, &input, valid)).status,
		StatusCode::BAD_REQUEST
	);
	let requester_reads = read("", permission(&requester, &input, valid));
	assert_eq!(requester_reads.status, StatusCode::OK, "its requester still reads it");
	// The request's claimed output, private too: its seated verifiers read it on the
	// permission they sign over its input (a check fetches both with one), or over it.
	executor.store().put_cached(b"the answer").unwrap();
	executor.store().restrict(&output, &requester.public()).unwrap();
	let read_output = |query: &str, headers: HeaderMap| {
		runtime.block_on(route_with(
			&executor,
			&Method::GET,
			&format!("/v1/artifacts/0x{}", hex::encode(output)),
			Some(query).filter(|query| !query.is_empty()),
			&headers,
			Bytes::new(),
		))
	};
	let granted = read_output("request=7", permission(&seated, &input, valid));
	assert_eq!((granted.status, granted.body), (StatusCode::OK, b"the answer".to_vec()));
	assert_eq!(
		read_output("request=7", permission(&seated, &output, valid)).status,
		StatusCode::OK
	);
	assert_eq!(
		read_output("request=7", permission(&seated, &[0; 32], valid)).status,
		StatusCode::UNAUTHORIZED,
		"signed over neither the request's input nor this output"
	);
	assert_eq!(
		read_output("request=7", permission(&other, &input, valid)).status,
		StatusCode::UNAUTHORIZED,
		"a node key the chain does not seat"
	);
	assert_eq!(read_output("", permission(&seated, &output, valid)).status, StatusCode::FORBIDDEN);
	assert_eq!(read_output("", permission(&requester, &output, valid)).status, StatusCode::OK);
	// Without a chain to ask, no verifier is seated.
	let blind = Arc::new(Executor::new(ArtifactStore::open(executor.store().dir()).unwrap(), None));
	let reply = runtime.block_on(route_with(
		&blind,
		&Method::GET,
		&format!("/v1/artifacts/0x{}", hex::encode(input)),
		Some("request=7"),
		&permission(&seated, &input, valid),
		Bytes::new(),
	));
	assert_eq!(reply.status, StatusCode::FORBIDDEN);

	// The answer's evidence: the same permission, over the request's input, opens it.
	let evidence = |request: u64, headers: HeaderMap| {
		runtime.block_on(route_with(
			&executor,
			&Method::GET,
			&format!("/v1/evidence/{request}"),
			Some(&format!("genesis=0x{}&output=0x{}", hex::encode(genesis), hex::encode(output))),
			&headers,
			Bytes::new(),
		))
	};
	let shown = evidence(7, permission(&seated, &input, valid));
	assert_eq!((shown.status, shown.body), (StatusCode::OK, b"{\"tokens\":[]}".to_vec()));
	assert_eq!(evidence(7, HeaderMap::new()).status, StatusCode::UNAUTHORIZED);
	assert_eq!(evidence(7, permission(&other, &input, valid)).status, StatusCode::FORBIDDEN);
	assert_eq!(
		evidence(7, permission(&seated, &output, valid)).status,
		StatusCode::FORBIDDEN,
		"a permission over anything but the request's input"
	);
	assert_eq!(
		evidence(7, permission(&requester, &input, valid)).status,
		StatusCode::FORBIDDEN,
		"the evidence is for verifiers"
	);
	assert_eq!(evidence(10, HeaderMap::new()).status, StatusCode::OK, "public evidence");
}

#[test]
fn a_verifier_checks_a_private_result_with_its_permission_and_keeps_what_it_read_private() {
	let serving_store = temp_store("private-serving");
	let (model, evaluated) = demo(&serving_store);
	let genesis = [0x42; 32];
	let (requester, verifier, second) =
		(NodeKey::from_seed(&[1; 32]), NodeKey::from_seed(&[3; 32]), NodeKey::from_seed(&[5; 32]));
	let input = [5u8; 8];
	let input_hash = serving_store.put_cached(&input).unwrap();
	serving_store.restrict(&input_hash, &requester.public()).unwrap();
	let claimed = sha256(&evaluated.evaluate_bytes(&input).unwrap());
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let reads = opg_primitives::VerifierReads { input: Some(input_hash), output: claimed };
	let rpc = chain_with_seats(
		&runtime,
		vec![((verifier.public(), 7), reads.clone()), ((second.public(), 7), reads)],
	);
	let serving =
		Arc::new(Executor::new(serving_store, None).with_genesis(genesis).with_chain_rpc(rpc));
	let (_server, address) = listen(serving, Face::Public, http::MAX_CONNECTIONS);
	let checker = Arc::new(
		Executor::new(temp_store("private-checker"), None)
			.with_peers(vec![format!("http://{address}")]),
	);
	let check = |headers: HeaderMap| {
		runtime.block_on(route_with(
			&checker,
			&Method::POST,
			&format!("/v1/check/0x{}", hex::encode(model)),
			Some(&format!(
				"input=0x{}&genesis=0x{}&request=7&output=0x{}",
				hex::encode(input_hash),
				hex::encode(genesis),
				hex::encode(claimed)
			)),
			&headers,
			Bytes::new(),
		))
	};
	// Without its permission the serving node withholds the input.
	let withheld = check(HeaderMap::new());
	assert_eq!(withheld.status, StatusCode::NOT_FOUND);
	assert_eq!(withheld.header(header::MISSING), Some(header::MISSING_INPUT));
	let checked = check(permission(&verifier, &input_hash, now() + 60));
	assert_eq!(checked.status, StatusCode::OK, "{}", String::from_utf8_lossy(&checked.body));
	assert_eq!(checked.header(header::VERDICT), Some(header::VERDICT_VALID));
	// What it read and computed stays private in the verifier's store too.
	assert_eq!(checker.store().readers(&input_hash).unwrap(), Some(vec![verifier.public()]));
	assert_eq!(checker.store().readers(&claimed).unwrap(), Some(vec![verifier.public()]));
	// A second key of the same verification node, seated on the case too, may not use
	// what the first read until the serving node honours its own permission.
	let again = check(permission(&second, &input_hash, now() + 60));
	assert_eq!(again.header(header::VERDICT), Some(header::VERDICT_VALID));
	let both = Some(vec![verifier.public(), second.public()]);
	assert_eq!(checker.store().readers(&input_hash).unwrap(), both);
	let unseated = check(permission(&NodeKey::from_seed(&[6; 32]), &input_hash, now() + 60));
	assert_eq!(unseated.status, StatusCode::NOT_FOUND, "a key the chain does not seat");
}

#[test]
fn a_planted_input_is_answered_wrongly_once_and_only_on_chain() {
	let store = temp_store("honeypots");
	let (model, _) = demo(&store);
	let executor = Arc::new(Executor::new(store, None).with_node_key(NodeKey::from_seed(&[4; 32])));
	let path = |route: &str| format!("{route}/0x{}", hex::encode(model));
	let infer = |query: Option<&str>, input: &[u8]| {
		crate::tests::call(&executor, &Method::POST, &path("/v1/infer"), query, input)
	};
	let (planted, other) = ([7u8; 8], [9u8; 8]);
	let truth = infer(None, &planted).body;
	assert_eq!(truth.len(), 3);

	let reply =
		crate::tests::call(&executor, &Method::POST, &path("/v1/honeypots"), None, &planted);
	assert_eq!(reply.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&reply.body));
	let plant: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
	let input = format!("0x{}", hex::encode(sha256(&planted)));
	assert_eq!(plant["input"], input);
	let listed = crate::tests::call(&executor, &Method::GET, "/v1/honeypots", None, b"");
	let listed: serde_json::Value = serde_json::from_slice(&listed.body).unwrap();
	assert_eq!(listed["plants"][0]["input"], input);

	// Unsigned calls and other inputs are answered rightly; the plant waits.
	assert_eq!(infer(None, &planted).body, truth);
	let chain = "genesis=0x0101010101010101010101010101010101010101010101010101010101010101";
	assert_eq!(infer(Some(&format!("{chain}&request=1")), &other).body, infer(None, &other).body);
	assert_eq!(executor.plants().list().len(), 1);
	// The on-chain request on the planted input: answered wrongly, signed, once.
	let wrong = infer(Some(&format!("{chain}&request=2")), &planted);
	assert_eq!(wrong.status, StatusCode::OK);
	assert_ne!(wrong.body, truth);
	assert_eq!(wrong.body.len(), truth.len());
	assert_eq!(wrong.output_hash, Some(sha256(&wrong.body)), "the wrong output's hash");
	assert!(wrong.header(header::SIGNATURE).is_some(), "signed as any answer");
	assert!(executor.plants().list().is_empty(), "used up");
	assert_eq!(infer(Some(&format!("{chain}&request=3")), &planted).body, truth);

	// Through /v1/infer-many too: the planted job alone.
	assert!(executor.plants().plant(model, sha256(&planted)).unwrap());
	let jobs = opg_executor_api::encode_jobs([(4, &other[..]), (5, &planted[..])]);
	let many =
		crate::tests::call(&executor, &Method::POST, &path("/v1/infer-many"), Some(chain), &jobs);
	let answers = opg_executor_api::decode_answers(&many.body).unwrap();
	assert_eq!(answers[0].body, infer(None, &other).body);
	assert_ne!(answers[1].body, truth);
	assert!(executor.plants().list().is_empty());

	// Nothing to plant.
	let empty = crate::tests::call(&executor, &Method::POST, &path("/v1/honeypots"), None, b"");
	assert_eq!(empty.status, StatusCode::BAD_REQUEST);
}

/// A paid direct call's request and answer are kept, private to the node key, for the
/// verifiers of a challenge of it: a verifier the chain seats on the call's case reads the
/// request by its digest and checks the answer on the call's body; no one else reads it.
#[test]
fn a_challenged_direct_call_is_checked_on_the_request_its_node_kept() {
	use crate::payment_tests::{channel, mock_chain, Client, GENESIS};
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let alice = Client::new(0);
	let channels =
		std::sync::Mutex::new(std::collections::HashMap::from([(1, channel(&alice, 100))]));
	let gateway_rpc = mock_chain(&runtime, Arc::new(channels), 10);
	let serving_store = temp_store("direct-serving");
	let (model, evaluated) = demo(&serving_store);
	let dir = std::env::temp_dir().join(format!("opg-direct-checks-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	let prices = std::collections::HashMap::from([(
		model,
		crate::payment::Price { model: 0, amount: 10, mode: 0 },
	)]);
	let gateway = crate::payment::Gateway::open(GENESIS, gateway_rpc, prices, &dir).unwrap();
	let node = NodeKey::from_seed(&[7; 32]);
	let path = format!("/v1/infer/0x{}", hex::encode(model));
	let input = [5u8; 8];
	let digest = opg_settlement::channel::call_digest(&path, &input);
	let answer = evaluated.evaluate_bytes(&input).unwrap();
	let claimed = sha256(&answer);
	let (verifier, id) = (NodeKey::from_seed(&[3; 32]), opg_primitives::DIRECT_CALL_IDS);
	let reads = opg_primitives::VerifierReads { input: Some(digest), output: claimed };
	let seats = chain_with_seats(&runtime, vec![((verifier.public(), id), reads)]);
	let serving = Arc::new(
		Executor::new(serving_store, None)
			.with_node_key(NodeKey::from_seed(&[7; 32]))
			.with_gateway(gateway)
			.with_genesis(GENESIS)
			.with_chain_rpc(seats),
	);
	let mut headers = HeaderMap::new();
	headers.insert("payment-signature", alice.pay(1, 10, &path, &input).parse().unwrap());
	let reply = runtime.block_on(crate::http::paid_infer(
		&serving,
		&format!("0x{}", hex::encode(model)),
		&path,
		&headers,
		Bytes::copy_from_slice(&input),
	));
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	assert_eq!(reply.body, answer);
	// Kept, for the node's verifiers alone: the call's preimage and the answer.
	let kept = serving.store().get(&digest).unwrap().unwrap();
	assert_eq!(kept, opg_settlement::channel::call_preimage(&path, &input));
	assert_eq!(serving.store().readers(&digest).unwrap(), Some(vec![node.public()]));
	assert_eq!(serving.store().readers(&claimed).unwrap(), Some(vec![node.public()]));
	let (_server, address) = listen(serving, Face::Public, http::MAX_CONNECTIONS);

	let checker_store = temp_store("direct-checker");
	demo(&checker_store);
	let checker =
		Arc::new(Executor::new(checker_store, None).with_peers(vec![format!("http://{address}")]));
	let check = |output: &ContentHash, input: &ContentHash, headers: HeaderMap| {
		runtime.block_on(route_with(
			&checker,
			&Method::POST,
			&format!("/v1/check/0x{}", hex::encode(model)),
			Some(&format!(
				"input=0x{}&input-form=call&genesis=0x{}&request={id}&output=0x{}",
				hex::encode(input),
				hex::encode(GENESIS),
				hex::encode(output)
			)),
			&headers,
			Bytes::new(),
		))
	};
	let withheld = check(&claimed, &digest, HeaderMap::new());
	assert_eq!(withheld.status, StatusCode::NOT_FOUND, "no permission, no request");
	assert_eq!(withheld.header(header::MISSING), Some(header::MISSING_INPUT));
	let checked = check(&claimed, &digest, permission(&verifier, &digest, now() + 60));
	assert_eq!(checked.status, StatusCode::OK, "{}", String::from_utf8_lossy(&checked.body));
	assert_eq!(checked.header(header::VERDICT), Some(header::VERDICT_VALID));
	assert_eq!(checker.store().readers(&digest).unwrap(), Some(vec![verifier.public()]));
	let wrong = check(&[0; 32], &digest, permission(&verifier, &digest, now() + 60));
	assert_eq!(wrong.header(header::VERDICT), Some(header::VERDICT_INVALID));

	// A request whose path names another model is no call of this one: the claim is wrong.
	let elsewhere = opg_settlement::channel::call_preimage("/v1/infer/0x01", &input);
	let elsewhere = checker.store().put(&elsewhere).unwrap();
	let misnamed = check(&claimed, &elsewhere, HeaderMap::new());
	assert_eq!(misnamed.header(header::VERDICT), Some(header::VERDICT_INVALID));
	assert!(String::from_utf8_lossy(&misnamed.body).contains("the call was to /v1/infer/0x01"));
	// And bytes that are no call's preimage at all.
	let garbage = checker.store().put(&[9, 0, 0, 0, b'/']).unwrap();
	let unparsed = check(&claimed, &garbage, HeaderMap::new());
	assert_eq!(unparsed.header(header::VERDICT), Some(header::VERDICT_INVALID));
}
