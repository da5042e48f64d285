//! TorchScript on libtorch (on CUDA where the machine has a GPU, else CPU),
//! micro-batching, peers, signing. The model and PyTorch's reference outputs come from
//! `scripts/torch-model.py`, run with the Python whose torch this executor links.

use super::*;
use crate::{
	batch::{BatchLimits, Batcher, Refused},
	http::route,
	tests::{call, temp_store},
	torch::{DType, TensorSpec, TorchError},
};
use hyper::{body::Bytes, Method, StatusCode};
use std::{
	sync::{Arc, OnceLock},
	time::Duration,
};
use tch::Device;

/// Checks an sr25519 signature as the runtime does (`sp_io::crypto::sr25519_verify`).
fn verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
	let public = schnorrkel::PublicKey::from_bytes(public).unwrap();
	let signature = schnorrkel::Signature::from_bytes(signature).unwrap();
	public
		.verify(schnorrkel::signing_context(b"substrate").bytes(message), &signature)
		.is_ok()
}

/// The test model: 16 → 32 → 4 with softmax, eight inputs and PyTorch's outputs.
struct Fixture {
	model: Vec<u8>,
	config: TorchConfig,
	inputs: Vec<Vec<u8>>,
	expected: Vec<Vec<f32>>,
}

fn fixture() -> &'static Fixture {
	static FIXTURE: OnceLock<Fixture> = OnceLock::new();
	FIXTURE.get_or_init(|| {
		torch::set_deterministic().unwrap();
		assert!(torch::deterministic_algorithms());
		let dir = std::env::temp_dir().join(format!("opg-torch-fixture-{}", std::process::id()));
		let script = std::path::PathBuf::from(
			std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"),
		)
		.join("../../scripts/torch-model.py");
		let python = env!("OPG_TORCH_PYTHON");
		let status = std::process::Command::new(python)
			.arg(&script)
			.arg("--out")
			.arg(&dir)
			.stdout(std::process::Stdio::null())
			.status()
			.unwrap_or_else(|e| panic!("cannot run {python} (scripts/setup installs it): {e}"));
		assert!(status.success(), "{} failed", script.display());
		let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
		let config: TorchConfig = serde_json::from_slice(&read("config.json")).unwrap();
		let floats = |bytes: Vec<u8>| -> Vec<f32> {
			bytes
				.chunks_exact(4)
				.map(|b| f32::from_le_bytes(b.try_into().unwrap()))
				.collect()
		};
		let inputs = read("input.bin").chunks_exact(16 * 4).map(<[u8]>::to_vec).collect();
		let expected = floats(read("expected.bin")).chunks_exact(4).map(<[f32]>::to_vec).collect();
		Fixture { model: read("model.pt"), config, inputs, expected }
	})
}

/// CUDA where the machine has a GPU, else CPU: the same tests run on both.
fn device() -> Device {
	Device::cuda_if_available()
}

fn load(schema: torch::Schema) -> TorchModel {
	TorchModel::load(&fixture().model, schema, device()).unwrap()
}

fn floats(bytes: &[u8]) -> Vec<f32> {
	bytes
		.chunks_exact(4)
		.map(|b| f32::from_le_bytes(b.try_into().unwrap()))
		.collect()
}

fn assert_close(found: &[f32], expected: &[f32]) {
	assert_eq!(found.len(), expected.len());
	for (a, b) in found.iter().zip(expected) {
		assert!((a - b).abs() <= 1e-6 + 1e-5 * b.abs(), "{found:?} is not {expected:?}");
	}
}

#[test]
fn torchscript_outputs_match_pytorch() {
	let fixture = fixture();
	let model = load(fixture.config.schema.clone());
	for (input, expected) in fixture.inputs.iter().zip(&fixture.expected) {
		let outputs = model.run_batch(&[input]).unwrap();
		assert_close(&floats(&outputs[0]), expected);
		assert_eq!(
			model.run_batch(&[input]).unwrap(),
			outputs,
			"a batch of one is bit-reproducible"
		);
	}
}

#[test]
fn batched_requests_match_their_single_runs() {
	let fixture = fixture();
	let limits = BatchLimits { queue: 16, max_batch: 8, window: Duration::from_millis(50) };
	let batcher =
		Batcher::start(load(fixture.config.schema.clone()), "test".into(), limits, Arc::default());
	let answers: Vec<_> = fixture
		.inputs
		.iter()
		.map(|input| batcher.submit(input.clone()).unwrap())
		.collect();
	let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
	let outputs: Vec<_> = answers
		.into_iter()
		.map(|answer| runtime.block_on(answer).unwrap().unwrap())
		.collect();
	for (output, expected) in outputs.iter().zip(&fixture.expected) {
		assert_close(&floats(&output.bytes), expected);
		assert_eq!(output.reproducible, output.batch_size == 1);
	}
	assert!(outputs.iter().any(|output| output.batch_size > 1), "queued requests ran together");
}

#[test]
fn a_full_queue_answers_busy_and_the_queued_jobs_still_run() {
	let fixture = fixture();
	let limits = BatchLimits { queue: 2, max_batch: 4, window: Duration::ZERO };
	let metrics = Arc::new(Metrics::default());
	let (batcher, worker) = Batcher::new("test".into(), limits, metrics.clone());
	let first = batcher.submit(fixture.inputs[0].clone()).unwrap();
	let second = batcher.submit(fixture.inputs[1].clone()).unwrap();
	assert_eq!(batcher.submit(fixture.inputs[2].clone()).err(), Some(Refused::Busy));
	assert!(metrics.render().contains("opg_executor_queue_depth{model=\"test\"} 2"));
	assert!(metrics
		.render()
		.contains("opg_executor_requests_total{model=\"test\",outcome=\"busy\"} 1"));

	let model = load(fixture.config.schema.clone());
	let running = std::thread::spawn(move || worker.run(&model));
	let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
	assert_close(&floats(&runtime.block_on(first).unwrap().unwrap().bytes), &fixture.expected[0]);
	assert_close(&floats(&runtime.block_on(second).unwrap().unwrap().bytes), &fixture.expected[1]);
	// Dropping the queue stops the worker once it is drained.
	drop(batcher);
	running.join().unwrap();
	assert!(metrics.render().contains("opg_executor_queue_depth{model=\"test\"} 0"));
}

#[test]
fn wrong_shapes_dtypes_and_files_are_clear_errors() {
	let fixture = fixture();
	let schema = fixture.config.schema.clone();
	let model = load(schema.clone());
	let short: &[u8] = &[0; 63];
	assert!(matches!(
		model.run_batch(&[&fixture.inputs[0], short]),
		Err(TorchError::InputLength { expected: 64, found: 63 })
	));

	let wrong_output = torch::Schema { outputs: tensors(&[1, 5], DType::F32), ..schema.clone() };
	let error = load(wrong_output).run_batch(&[&fixture.inputs[0]]).unwrap_err();
	assert!(matches!(error, TorchError::Output(_)), "{error}");
	let wrong_dtype = torch::Schema { outputs: tensors(&[1, 4], DType::F16), ..schema.clone() };
	assert!(matches!(
		load(wrong_dtype).run_batch(&[&fixture.inputs[0]]),
		Err(TorchError::Output(_))
	));
	let integer_input = torch::Schema { inputs: tensors(&[1, 16], DType::I32), ..schema.clone() };
	let error = load(integer_input).run_batch(&[&fixture.inputs[0]]).unwrap_err();
	assert!(matches!(error, TorchError::Torch(_)), "libtorch refuses, without a crash: {error}");

	let empty = torch::Schema { inputs: tensors(&[1, 0], DType::F32), ..schema.clone() };
	assert!(matches!(
		TorchModel::load(&fixture.model, empty, device()),
		Err(TorchError::Schema(_))
	));
	assert!(matches!(
		TorchModel::load(b"not torchscript", schema, device()),
		Err(TorchError::Torch(_))
	));
}

/// An executor serving the test model over the test store, signing with a known key.
fn serving(name: &str) -> (Arc<Executor>, ContentHash, NodeKey) {
	let fixture = fixture();
	let store = temp_store(name);
	let hash = store.put(&fixture.model).unwrap();
	assert_eq!(
		format!("0x{}", hex::encode(hash)),
		fixture.config.hash,
		"the script reports the model's hash"
	);
	let mut executor = Executor::new(store, None).with_node_key(NodeKey::from_seed(&[7; 32]));
	let limits = BatchLimits { queue: 8, max_batch: 8, window: Duration::ZERO };
	executor
		.serve_torch(hash, fixture.config.schema.clone(), None, device(), limits)
		.unwrap();
	(Arc::new(executor), hash, NodeKey::from_seed(&[7; 32]))
}

#[test]
fn the_api_runs_torchscript_reports_the_device_and_signs_results() {
	let fixture = fixture();
	let (executor, hash, key) = serving("torch-api");
	let path = format!("/v1/infer/0x{}", hex::encode(hash));
	let genesis = [0x42u8; 32];
	let query = format!("genesis=0x{}&request=9", hex::encode(genesis));
	let input = &fixture.inputs[3];
	let reply = call(&executor, &Method::POST, &path, Some(&query), input);
	assert_eq!(reply.status, StatusCode::OK);
	assert_close(&floats(&reply.body), &fixture.expected[3]);
	assert_eq!(reply.header("x-opg-device"), Some(torch::device_name(device()).as_str()));
	assert_eq!(reply.header("x-opg-batch-size"), Some("1"));
	assert_eq!(reply.header("x-opg-reproducible"), Some("true"));
	assert_eq!(
		reply.header("x-opg-node"),
		Some(format!("0x{}", hex::encode(key.public())).as_str())
	);
	let signature: [u8; 64] = hex::decode(&reply.header("x-opg-signature").unwrap()[2..])
		.unwrap()
		.try_into()
		.unwrap();
	let message =
		opg_settlement::message::result(&genesis, 9, &hash, &sha256(input), &sha256(&reply.body));
	assert!(verify(&key.public(), &message, &signature), "the node key signed the result message");
	let other_request =
		opg_settlement::message::result(&genesis, 10, &hash, &sha256(input), &sha256(&reply.body));
	assert!(!verify(&key.public(), &other_request, &signature));

	let short = call(&executor, &Method::POST, &path, None, &input[..60]);
	assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
	assert!(
		String::from_utf8_lossy(&short.body).contains("64"),
		"the error names the expected size"
	);
	assert_eq!(
		call(&executor, &Method::POST, &path, Some("genesis=0x12&request=9"), input).status,
		StatusCode::BAD_REQUEST
	);
	assert_eq!(
		call(&executor, &Method::POST, &path, Some("request=9"), input).status,
		StatusCode::BAD_REQUEST
	);

	let health = call(&executor, &Method::GET, "/health", None, b"");
	let health: serde_json::Value = serde_json::from_slice(&health.body).unwrap();
	assert_eq!(health["models"][0]["device"], torch::device_name(device()));
	assert_eq!(health["deterministic"], true);
	assert_eq!(health["models"][0]["hash"], fixture.config.hash);
	let metrics =
		String::from_utf8(call(&executor, &Method::GET, "/metrics", None, b"").body).unwrap();
	let model = &fixture.config.hash;
	assert!(
		metrics.contains(&format!(
			"opg_executor_requests_total{{model=\"{model}\",outcome=\"ok\"}} 1"
		)),
		"{metrics}"
	);
	assert!(metrics.contains(&format!(
		"opg_executor_requests_total{{model=\"{model}\",outcome=\"invalid\"}} 1"
	)));
	assert!(metrics.contains(&format!("opg_executor_batch_size_count{{model=\"{model}\"}} 1")));
}

/// Serves one canned HTTP response to every connection; returns its base URL.
async fn canned_server(body: &'static [u8]) -> String {
	use tokio::io::{AsyncReadExt, AsyncWriteExt};
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	tokio::spawn(async move {
		while let Ok((mut stream, _)) = listener.accept().await {
			let mut request = [0u8; 4096];
			let _ = stream.read(&mut request).await;
			let head = format!(
				"HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
				body.len()
			);
			let _ = stream.write_all(head.as_bytes()).await;
			let _ = stream.write_all(body).await;
		}
	});
	url
}

#[test]
fn missing_models_come_from_peers_and_wrong_bytes_are_refused() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	runtime.block_on(async {
		let holder_store = temp_store("peer-holder");
		let model = opg_qmodel::generate(&[8, 6, 3], 5);
		let hash = holder_store.put(&model.to_bytes()).unwrap();
		let holder = Arc::new(Executor::new(holder_store, None));
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let peer = format!("http://{}", listener.local_addr().unwrap());
		tokio::spawn(crate::http::serve(holder, listener, std::future::pending()));

		let path = format!("/v1/infer/0x{}", hex::encode(hash));
		let input = Bytes::from_static(&[1, 2, 3, 4, 5, 6, 7, 8]);
		let liar = canned_server(b"not the model").await;
		let fooled =
			Arc::new(Executor::new(temp_store("peer-fooled"), None).with_peers(vec![liar.clone()]));
		let reply = route(&fooled, &Method::POST, &path, None, input.clone()).await;
		assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
		assert!(
			String::from_utf8_lossy(&reply.body).contains("was expected"),
			"a hash mismatch is named"
		);
		assert!(!fooled.store().contains(&hash), "wrong bytes are not kept");

		let fetching =
			Arc::new(Executor::new(temp_store("peer-fetching"), None).with_peers(vec![liar, peer]));
		let reply = route(&fetching, &Method::POST, &path, None, input.clone()).await;
		assert_eq!(reply.status, StatusCode::OK);
		assert_eq!(reply.body, model.evaluate_bytes(&input).unwrap());
		assert!(fetching.store().contains(&hash), "the fetched model is kept by its hash");

		let alone = Arc::new(Executor::new(temp_store("peer-alone"), None));
		assert_eq!(
			route(&alone, &Method::POST, &path, None, input).await.status,
			StatusCode::NOT_FOUND
		);
	});
}

/// A stored input no peer holds is fetched from the request's locator, and kept only if
/// its bytes hash to the input; otherwise the executor answers `404` with
/// `x-opg-missing: input`, on which the node declines the request.
#[test]
fn a_stored_input_comes_from_its_locator_when_no_peer_has_it() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	runtime.block_on(async {
		let store = temp_store("locator");
		let model = opg_qmodel::generate(&[8, 6, 3], 5);
		let hash = store.put(&model.to_bytes()).unwrap();
		let input: &'static [u8] = b"\x01\x02\x03\x04\x05\x06\x07\x08";
		let source = canned_server(input).await;
		let wrong = canned_server(b"\x08\x07\x06\x05\x04\x03\x02\x01").await;
		let path = format!("/v1/infer/0x{}", hex::encode(hash));
		let query = |locator: &str| {
			format!(
				"input=0x{}&locator={}",
				hex::encode(sha256(input)),
				opg_executor_api::percent_encode(locator)
			)
		};
		let guarded = Arc::new(Executor::new(store.clone(), None));
		let closed = Arc::new(Executor::new(store.clone(), None).with_private_fetch(true));

		// Loopback locators are refused by default (as /v1/fetch refuses them).
		let refused =
			route(&guarded, &Method::POST, &path, Some(&query(&source)), Bytes::new()).await;
		assert_eq!(refused.status, StatusCode::NOT_FOUND);
		assert_eq!(refused.header("x-opg-missing"), Some("input"));
		// Bytes that do not hash to the input are not the input.
		let reply = route(&closed, &Method::POST, &path, Some(&query(&wrong)), Bytes::new()).await;
		assert_eq!(reply.status, StatusCode::NOT_FOUND);
		assert_eq!(reply.header("x-opg-missing"), Some("input"));
		assert!(!store.contains(&sha256(input)));
		// The right bytes are fetched, checked, kept and run.
		let reply = route(&closed, &Method::POST, &path, Some(&query(&source)), Bytes::new()).await;
		assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
		assert_eq!(reply.body, model.evaluate_bytes(input).unwrap());
		assert!(store.contains(&sha256(input)));
	});
}

/// Another requester's private input is not run for a request that only knows its hash
/// (it is on chain): the request must bring the bytes from its locator.
#[test]
fn another_requesters_private_input_needs_its_bytes_not_its_hash() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	runtime.block_on(async {
		let store = temp_store("private-input-use");
		let model = opg_qmodel::generate(&[8, 6, 3], 5);
		let hash = store.put(&model.to_bytes()).unwrap();
		let input: &'static [u8] = b"\x11\x12\x13\x14\x15\x16\x17\x18";
		let executor = Arc::new(Executor::new(store.clone(), None).with_private_fetch(true));
		let (alice, mallory) = ([0xa1u8; 32], [0x3au8; 32]);
		executor.restrict_unless_public(&sha256(input), &alice).unwrap();
		store.put_cached(input).unwrap();
		let path = format!("/v1/infer/0x{}", hex::encode(hash));
		let ask = |requester: Option<[u8; 32]>, locator: Option<&str>| {
			let mut query = format!("input=0x{}", hex::encode(sha256(input)));
			if let Some(locator) = locator {
				query += &format!("&locator={}", opg_executor_api::percent_encode(locator));
			}
			if let Some(requester) = requester {
				query += &format!("&requester=0x{}", hex::encode(requester));
			}
			let executor = executor.clone();
			let path = path.clone();
			async move { route(&executor, &Method::POST, &path, Some(&query), Bytes::new()).await }
		};
		assert_eq!(ask(Some(alice), None).await.status, StatusCode::OK, "its requester's");
		for stranger in [Some(mallory), None] {
			let refused = ask(stranger, None).await;
			assert_eq!(refused.status, StatusCode::NOT_FOUND, "{stranger:?}");
			assert_eq!(refused.header("x-opg-missing"), Some("input"));
		}
		assert_eq!(store.readers(&sha256(input)).unwrap(), Some(vec![alice]));
		// Bringing the bytes proves holding them: the request runs, and may read them.
		let source = canned_server(input).await;
		let reply = ask(Some(mallory), Some(&source)).await;
		assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
		assert_eq!(reply.body, model.evaluate_bytes(input).unwrap());
		assert_eq!(store.readers(&sha256(input)).unwrap(), Some(vec![alice, mallory]));
	});
}

#[test]
fn data_nodes_store_and_sign_what_a_url_returned() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	runtime.block_on(async {
		let source = canned_server(b"external input").await;
		let key = NodeKey::from_seed(&[9; 32]);
		let url = format!("{source}/data?x=1");
		let query = format!("url={}", url.replace('?', "%3F").replace('=', "%3D"));
		// By default a caller cannot make the node fetch from its own machine.
		let guarded = Arc::new(Executor::new(temp_store("data-node-guarded"), None));
		let reply = route(&guarded, &Method::POST, "/v1/fetch", Some(&query), Bytes::new()).await;
		assert_eq!(reply.status, StatusCode::FORBIDDEN);
		assert!(String::from_utf8_lossy(&reply.body).contains("not a public address"));
		assert!(!guarded.store().contains(&sha256(b"external input")), "nothing fetched");
		// The canned source is on loopback: this data node's operator allows that.
		let node = Arc::new(
			Executor::new(temp_store("data-node"), None)
				.with_node_key(NodeKey::from_seed(&[9; 32]))
				.with_private_fetch(true),
		);
		let reply = route(&node, &Method::POST, "/v1/fetch", Some(&query), Bytes::new()).await;
		assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
		let statement: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
		let hash = sha256(b"external input");
		assert_eq!(statement["url"], url);
		assert_eq!(statement["hash"], format!("0x{}", hex::encode(hash)));
		assert_eq!(node.store().get(&hash).unwrap().unwrap(), b"external input");
		let signature: [u8; 64] = hex::decode(&statement["signature"].as_str().unwrap()[2..])
			.unwrap()
			.try_into()
			.unwrap();
		let time_ms = statement["time_ms"].as_u64().unwrap();
		assert!(verify(
			&key.public(),
			&opg_settlement::message::provenance(&url, &hash, time_ms),
			&signature
		));
		assert!(!verify(
			&key.public(),
			&opg_settlement::message::provenance(&url, &sha256(b"other"), time_ms),
			&signature
		));

		for bad in ["url=https://example.org/x", "url=http://127.0.0.1:1/closed", "nothing=1"] {
			let status =
				route(&node, &Method::POST, "/v1/fetch", Some(bad), Bytes::new()).await.status;
			assert!(
				status == StatusCode::BAD_GATEWAY || status == StatusCode::BAD_REQUEST,
				"{bad}: {status}"
			);
		}
	});
}

#[test]
fn the_executor_attests_the_key_it_generated_for_its_operator_and_proves_possession() {
	use opg_attestation::{nitro, Binding};
	let key = NodeKey::generate();
	let public = key.public();
	assert_ne!(public, NodeKey::generate().public(), "every start has its own key");
	let operator = [0x0au8; 32];
	let store = temp_store("attestation");
	let executor = Arc::new(
		Executor::new(store.clone(), None)
			.with_node_key(key)
			.with_evidence(crate::evidence::EvidenceSource::Development)
			.with_operator(operator.to_vec()),
	);
	let (genesis, nonce) = ([0x42u8; 32], [0x99u8; 32]);
	let query = format!("genesis=0x{}&nonce=0x{}", hex::encode(genesis), hex::encode(nonce));
	let reply = call(&executor, &Method::POST, "/v1/attestation", Some(&query), b"");
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
	assert_eq!(answer["node"], format!("0x{}", hex::encode(public)));
	let document = hex::decode(&answer["document"].as_str().unwrap()[2..]).unwrap();
	let now = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.unwrap()
		.as_secs();
	let attestation =
		nitro::verify_attestation(&document, &nitro::DEVELOPMENT_ROOT_SHA256, now).unwrap();
	let binding =
		Binding { node_key: &public, genesis_hash: &genesis, nonce: &nonce, operator: &operator };
	assert_eq!(attestation.check_binding(&binding), Ok(()));
	let other_nonce = [0x98u8; 32];
	assert!(attestation.check_binding(&Binding { nonce: &other_nonce, ..binding }).is_err());
	let other_operator = [0x0bu8; 32];
	assert!(attestation
		.check_binding(&Binding { operator: &other_operator, ..binding })
		.is_err());

	// The proof of possession for the registration, by the operator it was started for.
	let query = format!("genesis=0x{}", hex::encode(genesis));
	let reply = call(&executor, &Method::POST, "/v1/registration", Some(&query), b"");
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
	assert_eq!(answer["operator"], format!("0x{}", hex::encode(operator)));
	let signature: [u8; 64] = hex::decode(&answer["signature"].as_str().unwrap()[2..])
		.unwrap()
		.try_into()
		.unwrap();
	let message = opg_settlement::message::registration(&genesis, &operator);
	assert!(crate::signing::verify(&public, &message, &signature));
	let elsewhere = opg_settlement::message::registration(&genesis, &other_operator);
	assert!(!crate::signing::verify(&public, &elsewhere, &signature));

	assert_eq!(
		call(&executor, &Method::POST, "/v1/attestation", Some("genesis=0x12"), b"").status,
		StatusCode::BAD_REQUEST
	);
	assert_eq!(
		call(&executor, &Method::POST, "/v1/registration", None, b"").status,
		StatusCode::BAD_REQUEST
	);
	let keyless = Arc::new(
		Executor::new(store, None).with_evidence(crate::evidence::EvidenceSource::Development),
	);
	let query = format!("genesis=0x{}&nonce=0x{}", hex::encode(genesis), hex::encode(nonce));
	assert_eq!(
		call(&keyless, &Method::POST, "/v1/attestation", Some(&query), b"").status,
		StatusCode::NOT_FOUND
	);
	assert_eq!(
		call(&keyless, &Method::POST, "/v1/registration", Some(&query), b"").status,
		StatusCode::NOT_FOUND
	);
}

#[test]
fn batch_roots_are_signed_only_over_results_the_executor_signed() {
	use opg_settlement::{merkle, message};
	let fixture = fixture();
	let (executor, hash, key) = serving("sign-batch");
	let genesis = [0x42u8; 32];
	let path = format!("/v1/infer/0x{}", hex::encode(hash));
	let mut leaves = Vec::new();
	for (request, input) in [(5u64, &fixture.inputs[0]), (6, &fixture.inputs[1])] {
		let query = format!("genesis=0x{}&request={request}", hex::encode(genesis));
		let reply = call(&executor, &Method::POST, &path, Some(&query), input);
		assert_eq!(reply.status, StatusCode::OK);
		leaves.push(merkle::Leaf {
			request,
			input_hash: sha256(input),
			output_hash: sha256(&reply.body),
		});
	}
	let body = |leaves: &[merkle::Leaf]| {
		opg_executor_api::encode_leaves(
			leaves.iter().map(|leaf| (leaf.request, leaf.input_hash, leaf.output_hash)),
		)
	};
	let query = format!("genesis=0x{}", hex::encode(genesis));
	let sign = |query: &str, bytes: &[u8]| {
		call(&executor, &Method::POST, "/v1/sign-batch", Some(query), bytes)
	};

	// Anyone who can reach the executor asks for request 5 again with another input:
	// a leaf is added, none replaced, and the node's batch still signs.
	let other = call(
		&executor,
		&Method::POST,
		&path,
		Some(&format!("genesis=0x{}&request=5", hex::encode(genesis))),
		&fixture.inputs[2],
	);
	assert_eq!(other.status, StatusCode::OK);

	let reply = sign(&query, &body(&leaves));
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let root = merkle::root(&leaves).unwrap();
	assert_eq!(reply.header("x-opg-batch-root"), Some(format!("0x{}", hex::encode(root)).as_str()));
	let signature: [u8; 64] = hex::decode(&reply.header("x-opg-signature").unwrap()[2..])
		.unwrap()
		.try_into()
		.unwrap();
	assert!(verify(&key.public(), &message::batch(&genesis, &root, 2), &signature));

	// Nothing it did not compute, on this chain: another request, another output, another
	// input, another chain.
	let mut unknown = leaves.clone();
	unknown[1].request = 7;
	assert_eq!(sign(&query, &body(&unknown)).status, StatusCode::CONFLICT);
	let mut forged_output = leaves.clone();
	forged_output[0].output_hash = sha256(b"another output");
	assert_eq!(sign(&query, &body(&forged_output)).status, StatusCode::CONFLICT);
	let mut forged_input = leaves.clone();
	forged_input[0].input_hash = sha256(b"another input");
	assert_eq!(sign(&query, &body(&forged_input)).status, StatusCode::CONFLICT);
	let other_chain = format!("genesis=0x{}", hex::encode([0x43u8; 32]));
	assert_eq!(sign(&other_chain, &body(&leaves[..1])).status, StatusCode::CONFLICT);
	assert_eq!(sign(&query, &[]).status, StatusCode::BAD_REQUEST);
	assert_eq!(sign(&query, &[1, 2, 3]).status, StatusCode::BAD_REQUEST);
	let keyless = Arc::new(Executor::new(executor.store().clone(), None));
	assert_eq!(
		call(&keyless, &Method::POST, "/v1/sign-batch", Some(&query), &body(&leaves[..1])).status,
		StatusCode::NOT_FOUND
	);
}

/// One tensor of `shape` and `dtype`, as a schema's list of inputs or outputs.
fn tensors(
	shape: &[u32],
	dtype: DType,
) -> opg_primitives::BoundedVec<TensorSpec, opg_primitives::MaxTensors> {
	opg_primitives::BoundedVec::truncate_from(vec![TensorSpec::new(shape, dtype).unwrap()])
}

/// One call for many TorchScript jobs: they reach libtorch together, and each output is
/// the single run's.
#[test]
fn many_torchscript_jobs_in_one_call_run_as_batches() {
	use opg_executor_api::{decode_answers, encode_jobs};
	let fixture = fixture();
	let store = temp_store("torch-infer-many");
	let hash = store.put(&fixture.model).unwrap();
	let mut executor = Executor::new(store, None);
	let limits = BatchLimits { queue: 16, max_batch: 8, window: Duration::from_millis(50) };
	executor
		.serve_torch(hash, fixture.config.schema.clone(), None, device(), limits)
		.unwrap();
	let executor = Arc::new(executor);
	let jobs: Vec<(u64, &[u8])> = fixture
		.inputs
		.iter()
		.enumerate()
		.map(|(n, input)| (n as u64, &input[..]))
		.collect();
	let path = format!("/v1/infer-many/0x{}", hex::encode(hash));
	let reply = call(&executor, &Method::POST, &path, None, &encode_jobs(jobs));
	assert_eq!(reply.status, StatusCode::OK);
	let answers = decode_answers(&reply.body).unwrap();
	assert_eq!(answers.len(), fixture.inputs.len());
	for (answer, expected) in answers.iter().zip(&fixture.expected) {
		assert_eq!(answer.status, 200);
		assert_close(&floats(&answer.body), expected);
	}
	let metrics = executor.metrics().render();
	let batches: usize = metrics
		.lines()
		.find_map(|line| {
			line.strip_prefix("opg_executor_batch_size_count")?
				.rsplit(' ')
				.next()?
				.parse()
				.ok()
		})
		.unwrap();
	assert!(
		batches < fixture.inputs.len(),
		"{} jobs ran in {batches} batches",
		fixture.inputs.len()
	);
}

/// An executor serving the test model with a published tolerance.
fn serving_within(
	name: &str,
	tolerance: opg_primitives::Tolerance,
) -> (Arc<Executor>, ContentHash) {
	let fixture = fixture();
	let store = temp_store(name);
	let hash = store.put(&fixture.model).unwrap();
	let mut executor = Executor::new(store, None);
	let limits = BatchLimits { queue: 8, max_batch: 8, window: Duration::ZERO };
	executor
		.serve_torch(hash, fixture.config.schema.clone(), Some(tolerance), device(), limits)
		.unwrap();
	(Arc::new(executor), hash)
}

/// The output `output` with its first element scaled by `1 + by`.
fn nudged(output: &[u8], by: f32) -> Vec<u8> {
	let mut values = floats(output);
	values[0] *= 1.0 + by;
	values.iter().flat_map(|value| value.to_le_bytes()).collect()
}

/// A verifier's check of a TorchScript result (`POST /v1/check`): the claimed output
/// `claimed` (its bytes after the input when `with_bytes`); the verdict and reason.
fn check(
	executor: &Arc<Executor>,
	hash: &ContentHash,
	input: &[u8],
	claimed: &[u8],
	with_bytes: bool,
) -> (Option<String>, String) {
	let mut query = format!(
		"genesis=0x{}&request=7&output=0x{}",
		hex::encode([0x42; 32]),
		hex::encode(crate::sha256(claimed))
	);
	let mut body = input.to_vec();
	if with_bytes {
		query.push_str(&format!("&output-len={}", claimed.len()));
		body.extend_from_slice(claimed);
	}
	let reply = call(
		executor,
		&Method::POST,
		&format!("/v1/check/0x{}", hex::encode(hash)),
		Some(&query),
		&body,
	);
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	(reply.header("x-opg-verdict").map(str::to_owned), String::from_utf8_lossy(&reply.body).into())
}

#[test]
fn a_float_models_output_is_checked_within_its_published_tolerance() {
	let fixture = fixture();
	// 1e-6 absolute, 1e-4 relative.
	let tolerance = opg_primitives::Tolerance { absolute_ppb: 1_000, relative_ppb: 100_000 };
	let (verifier, hash) = serving_within("torch-tolerance", tolerance);
	let input = &fixture.inputs[3];
	let path = format!("/v1/infer/0x{}", hex::encode(hash));
	let honest = call(&verifier, &Method::POST, &path, None, input).body;
	assert_ne!(floats(&honest)[0], 0.0, "a nudge changes the first element");
	let valid = Some("valid".to_owned());
	let invalid = Some("invalid".to_owned());

	// The same bytes, as in deterministic mode on the same build: valid at once.
	assert_eq!(check(&verifier, &hash, input, &honest, true).0, valid);
	assert_eq!(check(&verifier, &hash, input, &honest, false).0, valid);
	// Rounded differently (another CPU kind) within the tolerance: valid.
	let near = nudged(&honest, 1e-5);
	let (verdict, reason) = check(&verifier, &hash, input, &near, true);
	assert_eq!(verdict, valid, "{reason}");
	assert!(reason.contains("within the model's tolerance"), "{reason}");
	// Beyond it: invalid, the element named.
	let far = nudged(&honest, 1e-2);
	let (verdict, reason) = check(&verifier, &hash, input, &far, true);
	assert_eq!(verdict, invalid, "{reason}");
	assert!(reason.contains("output 0, element 0"), "{reason}");
	// An output settled by its hash whose bytes no store or peer has: withheld, invalid.
	let (verdict, reason) = check(&verifier, &hash, input, &near, false);
	assert_eq!(verdict, invalid, "{reason}");
	assert!(reason.contains("no store or peer has"), "{reason}");
	// Once its store has them (a peer's fetch, the serving node's own), they are judged.
	verifier.store().put_cached(&near).unwrap();
	assert_eq!(check(&verifier, &hash, input, &near, false).0, valid);

	// A model published without a tolerance is judged by its bytes.
	let (exact, exact_hash, _) = serving("torch-no-tolerance");
	assert_eq!(exact_hash, hash);
	let (verdict, reason) = check(&exact, &hash, input, &near, true);
	assert_eq!(verdict, invalid, "{reason}");
	assert!(reason.contains("hashes to"), "{reason}");
	assert_eq!(check(&exact, &hash, input, &honest, true).0, valid);
}

#[test]
fn a_checks_claimed_output_bytes_must_be_the_claimed_hash_and_fit_the_body() {
	let fixture = fixture();
	let tolerance = opg_primitives::Tolerance { absolute_ppb: 1_000, relative_ppb: 100_000 };
	let (verifier, hash) = serving_within("torch-tolerance-bad", tolerance);
	let input = &fixture.inputs[3];
	let path = format!("/v1/check/0x{}", hex::encode(hash));
	let claimed = vec![0u8; 16];
	let query = |output: &[u8], len: &str| {
		format!(
			"genesis=0x{}&request=7&output=0x{}&output-len={len}",
			hex::encode([0x42; 32]),
			hex::encode(crate::sha256(output))
		)
	};
	let body = [&input[..], &claimed[..]].concat();
	for (query, reason) in [
		(query(b"another output", "16"), "do not hash"),
		(query(&claimed, &(body.len() + 1).to_string()), "longer than the body"),
		(query(&claimed, "x"), "not a length"),
	] {
		let reply = call(&verifier, &Method::POST, &path, Some(&query), &body);
		assert_eq!(reply.status, StatusCode::BAD_REQUEST);
		let text = String::from_utf8_lossy(&reply.body);
		assert!(text.contains(reason), "{text}");
	}
}
