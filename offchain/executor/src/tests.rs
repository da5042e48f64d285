use super::*;
use crate::http::{route, serve, Reply};
use hyper::{body::Bytes, Method, StatusCode};
use std::sync::Arc;

/// Answers one request as the server would.
pub(crate) fn call(
	executor: &Arc<Executor>,
	method: &Method,
	path: &str,
	query: Option<&str>,
	body: &[u8],
) -> Reply {
	let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
	runtime.block_on(route(executor, method, path, query, Bytes::copy_from_slice(body)))
}

/// A node's JSON-RPC on a loopback port, served on `runtime`: each call's `result` is
/// `answer(method, params)` (which may assert what it is asked); its URL.
pub(crate) fn mock_rpc<F>(runtime: &tokio::runtime::Handle, answer: F) -> String
where
	F: Fn(&str, &serde_json::Value) -> serde_json::Value + Send + Sync + 'static,
{
	use http_body_util::{BodyExt, Full};
	let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
	listener.set_nonblocking(true).unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	let answer = Arc::new(answer);
	runtime.spawn(async move {
		let listener = tokio::net::TcpListener::from_std(listener).unwrap();
		loop {
			let (stream, _) = listener.accept().await.unwrap();
			let answer = answer.clone();
			let service = hyper::service::service_fn(
				move |request: hyper::Request<hyper::body::Incoming>| {
					let answer = answer.clone();
					async move {
						let body = request.into_body().collect().await.unwrap().to_bytes();
						let call: serde_json::Value = serde_json::from_slice(&body).unwrap();
						let result = answer(call["method"].as_str().unwrap(), &call["params"]);
						let json = serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": result});
						Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
							Bytes::from(json.to_string()),
						)))
					}
				},
			);
			tokio::spawn(
				hyper::server::conn::http1::Builder::new()
					.serve_connection(hyper_util::rt::TokioIo::new(stream), service),
			);
		}
	});
	url
}

pub(crate) fn temp_store(name: &str) -> ArtifactStore {
	sweep_stale_stores();
	let dir = std::env::temp_dir().join(format!("opg-executor-test-{name}-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	ArtifactStore::open(dir).unwrap()
}

/// Removes the test stores of earlier runs whose process is gone, once per run: each run
/// leaves its stores behind (the language-model ones hold the model, 3.5 GB a run), which
/// once filled the disk. Linux only (a store's process is looked up in `/proc`).
fn sweep_stale_stores() {
	static SWEEP: std::sync::Once = std::sync::Once::new();
	SWEEP.call_once(|| {
		if cfg!(target_os = "linux") {
			sweep_stores_in(&std::env::temp_dir(), std::process::id());
		}
	});
}

/// Removes the `opg-executor-test-{name}-{pid}` folders under `root` of processes other
/// than `own` that are not running.
fn sweep_stores_in(root: &std::path::Path, own: u32) {
	let Ok(entries) = std::fs::read_dir(root) else { return };
	for entry in entries.flatten() {
		let name = entry.file_name().to_string_lossy().into_owned();
		let Some(rest) = name.strip_prefix("opg-executor-test-") else { continue };
		let Some(pid) = rest.rsplit('-').next().and_then(|pid| pid.parse::<u32>().ok()) else {
			continue;
		};
		if pid != own && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
			let _ = std::fs::remove_dir_all(entry.path());
		}
	}
}

#[cfg(target_os = "linux")]
#[test]
fn the_stores_of_finished_test_runs_are_swept_and_running_ones_kept() {
	let root = std::env::temp_dir().join(format!("opg-sweep-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&root);
	// A pid above the kernel's maximum (2^22) never runs; pid 1 always does.
	let stale = root.join("opg-executor-test-llm-4294967295");
	let running = root.join("opg-executor-test-llm-1");
	let own = root.join(format!("opg-executor-test-llm-{}", std::process::id()));
	let other = root.join("opg-llm-tokens-4294967295");
	for dir in [&stale, &running, &own, &other] {
		std::fs::create_dir_all(dir).unwrap();
	}
	sweep_stores_in(&root, std::process::id());
	assert!(!stale.exists(), "a finished run's store is removed");
	assert!(running.exists() && own.exists(), "running processes' stores are kept");
	assert!(other.exists(), "other folders are not touched");
	std::fs::remove_dir_all(&root).unwrap();
}

fn demo(store: &ArtifactStore) -> (ContentHash, opg_qmodel::QModel) {
	let model = opg_qmodel::generate(&[8, 6, 3], 5);
	(store.put(&model.to_bytes()).unwrap(), model)
}

#[test]
fn the_store_refuses_bytes_that_do_not_match_their_hash() {
	let store = temp_store("mismatch");
	let hash = store.put(b"model").unwrap();
	assert_eq!(hash, sha256(b"model"));
	assert_eq!(store.get(&hash).unwrap().unwrap(), b"model");
	assert!(store.get(&sha256(b"other")).unwrap().is_none());
	assert!(matches!(
		store.put_expecting(&hash, b"tampered", Kind::Cached),
		Err(StoreError::HashMismatch { .. })
	));

	// Bytes changed on disk are never served: the file is removed, to be fetched again.
	std::fs::write(store.dir().join(hex::encode(hash)), b"tampered").unwrap();
	assert!(store.get(&hash).unwrap().is_none());
	assert!(!store.dir().join(hex::encode(hash)).exists());
}

#[test]
fn evidence_is_kept_per_chain_request_and_output_and_read_back_whole() {
	let store = temp_store("evidence");
	let (genesis, output) = ([1; 32], sha256(b"answer"));
	assert!(store.evidence(&genesis, 7, &output).unwrap().is_none());
	store.keep_evidence(&genesis, 7, &output, b"{\"tokens\":[1]}", None).unwrap();
	let public = (b"{\"tokens\":[1]}".to_vec(), false);
	assert_eq!(store.evidence(&genesis, 7, &output).unwrap().unwrap(), public);
	// Another output, request or chain has none; a second answer to the same request
	// (another output) is kept beside the first.
	assert!(store.evidence(&genesis, 7, &sha256(b"other")).unwrap().is_none());
	assert!(store.evidence(&genesis, 8, &output).unwrap().is_none());
	assert!(store.evidence(&[2; 32], 7, &output).unwrap().is_none());
	store.keep_evidence(&genesis, 7, &sha256(b"other"), b"second", None).unwrap();
	assert_eq!(store.evidence(&genesis, 7, &output).unwrap().unwrap(), public);
	// A private request's evidence is kept restricted to its requester.
	store.keep_evidence(&genesis, 9, &output, b"private", Some(&[5; 32])).unwrap();
	assert_eq!(store.evidence(&genesis, 9, &output).unwrap().unwrap(), (b"private".to_vec(), true));
	assert_eq!(store.readers(&sha256(b"private")).unwrap(), Some(vec![[5; 32]]));
	// The evidence is a cached artifact: once evicted, it is gone, not served corrupt.
	store.remove(&sha256(b"second")).unwrap();
	assert!(store.evidence(&genesis, 7, &sha256(b"other")).unwrap().is_none());
	// Reopening the store keeps it, and does not count the index as artifacts.
	let used = store.used();
	let reopened = ArtifactStore::open(store.dir()).unwrap();
	assert_eq!(reopened.used(), used);
	assert!(reopened.evidence(&genesis, 7, &output).unwrap().is_some());
}

#[test]
fn a_check_upholds_the_models_output_and_finds_any_other_invalid() {
	let store = temp_store("check");
	let (hash, model) = demo(&store);
	let executor = Arc::new(Executor::new(store.clone(), None));
	let input = [3u8, 1, 4, 1, 5, 9, 2, 6];
	let output = model.evaluate_bytes(&input).unwrap();
	let path = format!("/v1/check/0x{}", hex::encode(hash));
	let query = |claimed: &[u8], input: Option<&[u8]>| {
		format!(
			"{}genesis=0x{}&request=7&output=0x{}",
			input.map_or(String::new(), |input| format!("input=0x{}&", hex::encode(sha256(input)))),
			hex::encode([9; 32]),
			hex::encode(sha256(claimed))
		)
	};
	let verdict = |reply: &Reply| reply.header("x-opg-verdict").map(String::from);
	let reply = call(&executor, &Method::POST, &path, Some(&query(&output, None)), &input);
	assert_eq!(reply.status, StatusCode::OK);
	assert_eq!(verdict(&reply).as_deref(), Some("valid"));
	let mut wrong = output.clone();
	wrong[0] ^= 1;
	let reply = call(&executor, &Method::POST, &path, Some(&query(&wrong, None)), &input);
	assert_eq!(reply.status, StatusCode::OK);
	assert_eq!(verdict(&reply).as_deref(), Some("invalid"));
	assert!(String::from_utf8_lossy(&reply.body).contains(&hex::encode(sha256(&output))));
	// A stored input: from the store; one no store, peer or locator has is missing.
	store.put(&input).unwrap();
	let reply = call(&executor, &Method::POST, &path, Some(&query(&output, Some(&input))), &[]);
	assert_eq!(verdict(&reply).as_deref(), Some("valid"));
	let reply = call(&executor, &Method::POST, &path, Some(&query(&output, Some(b"gone"))), &[]);
	assert_eq!(reply.status, StatusCode::NOT_FOUND);
	assert_eq!(reply.header("x-opg-missing"), Some("input"));
	assert_eq!(verdict(&reply), None);
	// A check names the chain, the request and the claimed output.
	let reply = call(&executor, &Method::POST, &path, Some("genesis=0x00&request=7"), &input);
	assert_eq!(reply.status, StatusCode::BAD_REQUEST);
	let no_output = format!("genesis=0x{}&request=7", hex::encode([9; 32]));
	let reply = call(&executor, &Method::POST, &path, Some(&no_output), &input);
	assert_eq!(reply.status, StatusCode::BAD_REQUEST);
	// The evidence route keeps nothing of integer models.
	let evidence =
		format!("genesis=0x{}&output=0x{}", hex::encode([9; 32]), hex::encode(sha256(&output)));
	let reply = call(&executor, &Method::GET, "/v1/evidence/7", Some(&evidence), &[]);
	assert_eq!(reply.status, StatusCode::NOT_FOUND);
	let reply = call(&executor, &Method::GET, "/v1/evidence/x", Some(&evidence), &[]);
	assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[test]
fn inference_runs_the_model_bit_exactly() {
	let store = temp_store("infer");
	let (hash, model) = demo(&store);
	let executor = Executor::new(store.clone(), None);
	let input: Vec<u8> = (0..8u8).map(|i| i.wrapping_mul(37)).collect();
	let expected = model.evaluate_bytes(&input).unwrap();
	assert_eq!(executor.infer(&hash, InputSource::Inline(&input)).unwrap(), expected);
	assert_eq!(
		store.get(&sha256(&expected)).unwrap().unwrap(),
		expected,
		"the output is kept by its hash"
	);

	let stored = store.put(&input).unwrap();
	assert_eq!(executor.infer(&hash, InputSource::Stored(stored)).unwrap(), expected);
}

#[test]
fn inference_errors_are_named() {
	let store = temp_store("errors");
	let (hash, _) = demo(&store);
	let executor = Executor::new(store.clone(), None);
	let missing = sha256(b"missing");
	assert!(matches!(
		executor.infer(&missing, InputSource::Inline(&[0; 8])),
		Err(ExecError::ModelNotFound(_))
	));
	assert!(matches!(
		executor.infer(&hash, InputSource::Stored(missing)),
		Err(ExecError::InputNotFound(_))
	));
	assert!(matches!(
		executor.infer(&hash, InputSource::Inline(&[0; 7])),
		Err(ExecError::Model(opg_qmodel::Error::InputBytes { expected: 8, found: 7 }))
	));
	let not_a_model = store.put(b"{\"format\":\"x\"}").unwrap();
	assert!(matches!(
		executor.infer(&not_a_model, InputSource::Inline(&[0; 8])),
		Err(ExecError::Model(_))
	));
}

#[test]
fn routes_answer_with_statuses() {
	let store = temp_store("routes");
	let (hash, model) = demo(&store);
	let executor = Arc::new(Executor::new(store, None));
	let model_path = format!("/v1/infer/0x{}", hex::encode(hash));

	let reply = call(&executor, &Method::GET, "/health", None, b"");
	assert_eq!(reply.status, StatusCode::OK);

	let input = [1u8, 2, 3, 4, 5, 6, 7, 8];
	let reply = call(&executor, &Method::POST, &model_path, None, &input);
	assert_eq!(reply.status, StatusCode::OK);
	assert_eq!(reply.body, model.evaluate_bytes(&input).unwrap());
	assert_eq!(reply.output_hash, Some(sha256(&reply.body)));

	assert_eq!(
		call(&executor, &Method::POST, &model_path, None, &input[..3]).status,
		StatusCode::UNPROCESSABLE_ENTITY
	);
	assert_eq!(
		call(&executor, &Method::POST, "/v1/infer/zz", None, &input).status,
		StatusCode::BAD_REQUEST
	);
	let unknown = format!("/v1/infer/{}", hex::encode(sha256(b"x")));
	assert_eq!(
		call(&executor, &Method::POST, &unknown, None, &input).status,
		StatusCode::NOT_FOUND
	);

	let artifact = format!("/v1/artifacts/{}", hex::encode(sha256(&input)));
	assert_eq!(call(&executor, &Method::GET, &artifact, None, b"").status, StatusCode::NOT_FOUND);
	assert_eq!(
		call(&executor, &Method::PUT, &artifact, None, b"wrong").status,
		StatusCode::UNPROCESSABLE_ENTITY
	);
	assert_eq!(call(&executor, &Method::PUT, &artifact, None, &input).status, StatusCode::CREATED);
	assert_eq!(call(&executor, &Method::GET, &artifact, None, b"").body, input);

	let query = format!("input={}", hex::encode(sha256(&input)));
	let reply = call(&executor, &Method::POST, &model_path, Some(&query), b"");
	assert_eq!(reply.body, model.evaluate_bytes(&input).unwrap());
	assert_eq!(
		call(&executor, &Method::POST, &model_path, Some(&query), b"x").status,
		StatusCode::BAD_REQUEST
	);

	assert_eq!(
		call(&executor, &Method::DELETE, &artifact, None, b"").status,
		StatusCode::NOT_FOUND
	);
}

#[test]
fn the_server_answers_over_tcp_and_shuts_down() {
	let store = temp_store("tcp");
	let (hash, model) = demo(&store);
	let executor = Arc::new(Executor::new(store, None));
	let runtime = tokio::runtime::Runtime::new().unwrap();
	runtime.block_on(async move {
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = listener.local_addr().unwrap();
		let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
		let server = tokio::spawn(serve(executor, listener, async move {
			let _ = stopped.await;
		}));

		let input = [9u8; 8];
		let request = format!(
			"POST /v1/infer/{} HTTP/1.1\r\nhost: x\r\ncontent-length: 8\r\nconnection: close\r\n\r\n",
			hex::encode(hash)
		);
		let response = tokio::task::spawn_blocking(move || {
			use std::io::{Read, Write};
			let mut stream = std::net::TcpStream::connect(address).unwrap();
			stream.write_all(request.as_bytes()).unwrap();
			stream.write_all(&input).unwrap();
			let mut response = Vec::new();
			stream.read_to_end(&mut response).unwrap();
			response
		})
		.await
		.unwrap();
		let text = String::from_utf8_lossy(&response).to_lowercase();
		assert!(text.starts_with("http/1.1 200"), "{text}");
		let expected = model.evaluate_bytes(&input).unwrap();
		assert!(text.contains(&format!("x-opg-output-hash: 0x{}", hex::encode(sha256(&expected)))));
		assert!(response.ends_with(&expected));

		stop.send(()).unwrap();
		server.await.unwrap().unwrap();
	});
}

/// A development setup of `model` (stored as `hash`): the keys directory the executor
/// reads (`{dir}/{hash hex}/proving.key`) and the encoded verifying key.
fn proving_keys(
	store: &ArtifactStore,
	hash: &ContentHash,
	model: &opg_qmodel::QModel,
	seed: u64,
) -> (std::path::PathBuf, Vec<u8>) {
	use ark_std::rand::{rngs::StdRng, SeedableRng};
	let keys = store.dir().join("zk-keys");
	let compiled = opg_zk::CompiledModel::new(model.clone()).unwrap();
	let key = opg_zk::setup(&compiled, &mut StdRng::seed_from_u64(seed)).unwrap();
	std::fs::create_dir_all(keys.join(hex::encode(hash))).unwrap();
	let file = std::fs::File::create(keys.join(hex::encode(hash)).join("proving.key")).unwrap();
	opg_zk::write_proving_key(&key, file).unwrap();
	(keys, opg_zk_verifier::encode_key(&key.vk))
}

#[test]
fn zkml_jobs_are_proven_for_their_job_and_verify() {
	let store = temp_store("prove");
	let (hash, model) = demo(&store);
	let (keys, verifying) = proving_keys(&store, &hash, &model, 3);

	let input = [9u8, 8, 7, 6, 5, 4, 3, 2];
	let (genesis, node) = ([0x42; 32], [0x24; 32]);
	let query =
		format!("genesis=0x{}&request=12&node=0x{}", hex::encode(genesis), hex::encode(node));
	let path = format!("/v1/prove/0x{}", hex::encode(hash));
	let without_keys = Arc::new(Executor::new(store.clone(), None));
	let reply = call(&without_keys, &Method::POST, &path, Some(&query), &input);
	assert_eq!(reply.status, StatusCode::NOT_FOUND);

	let executor = Arc::new(Executor::new(store.clone(), Some(keys)));
	let reply = call(&executor, &Method::POST, &path, Some(&query), &input);
	assert_eq!(reply.status, StatusCode::OK);
	assert_eq!(reply.body, model.evaluate_bytes(&input).unwrap());
	let statement = opg_zk_verifier::Statement {
		binding: opg_zk_verifier::job_binding(&genesis, 12, &node),
		input_commitment: opg_zk_verifier::input_commitment(&input),
		output: reply.body.clone(),
	};
	let proof = reply.proof.unwrap();
	assert_eq!(opg_zk_verifier::verify_encoded(&verifying, &proof, &statement), Ok(()));
	let other_request = opg_zk_verifier::Statement {
		binding: opg_zk_verifier::job_binding(&genesis, 13, &node),
		..statement
	};
	assert_eq!(
		opg_zk_verifier::verify_encoded(&verifying, &proof, &other_request),
		Err(opg_zk_verifier::Error::Rejected)
	);

	for bad_query in ["request=12", "genesis=0x12&request=12&node=0x12", "genesis=&request=x&node="]
	{
		assert_eq!(
			call(&executor, &Method::POST, &path, Some(bad_query), &input).status,
			StatusCode::BAD_REQUEST
		);
	}
	assert_eq!(call(&executor, &Method::POST, &path, None, &input).status, StatusCode::BAD_REQUEST);
	let short = call(&executor, &Method::POST, &path, Some(&query), &input[..7]);
	assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[test]
fn convolutional_and_version_1_models_and_stored_inputs_are_served_and_proven() {
	let store = temp_store("cnn");
	let cnn = opg_qmodel::generate_cnn(8, 2, 3, 7);
	let hash = store.put(&cnn.to_bytes()).unwrap();
	let (keys, verifying) = proving_keys(&store, &hash, &cnn, 4);
	let executor = Arc::new(Executor::new(store.clone(), Some(keys)));

	let input: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(29)).collect();
	let (genesis, node) = ([0x42; 32], [0x24; 32]);
	let query =
		format!("genesis=0x{}&request=3&node=0x{}", hex::encode(genesis), hex::encode(node));
	let reply = call(
		&executor,
		&Method::POST,
		&format!("/v1/prove/0x{}", hex::encode(hash)),
		Some(&query),
		&input,
	);
	assert_eq!(reply.status, StatusCode::OK);
	assert_eq!(reply.body, cnn.evaluate_bytes(&input).unwrap());
	let statement = opg_zk_verifier::Statement {
		binding: opg_zk_verifier::job_binding(&genesis, 3, &node),
		input_commitment: opg_zk_verifier::input_commitment(&input),
		output: reply.body.clone(),
	};
	assert_eq!(
		opg_zk_verifier::verify_encoded(&verifying, &reply.proof.unwrap(), &statement),
		Ok(())
	);

	// The same input from the store, named by its hash: the same output, a proof of it.
	let stored = store.put(&input).unwrap();
	let by_hash = format!("input=0x{}&{query}", hex::encode(stored));
	let path = format!("/v1/prove/0x{}", hex::encode(hash));
	let reply = call(&executor, &Method::POST, &path, Some(&by_hash), &[]);
	assert_eq!(reply.status, StatusCode::OK);
	assert_eq!(reply.body, statement.output);
	// The commitment of the bytes proven: what a stored request's caller had to give.
	let commitment = opg_zk_verifier::field_to_bytes(&statement.input_commitment);
	assert_eq!(
		reply.header("x-opg-input-commitment"),
		Some(format!("0x{}", hex::encode(commitment)).as_str())
	);
	assert_eq!(
		opg_zk_verifier::verify_encoded(&verifying, &reply.proof.unwrap(), &statement),
		Ok(())
	);
	assert_eq!(
		call(&executor, &Method::POST, &path, Some(&by_hash), &input).status,
		StatusCode::BAD_REQUEST
	);
	let missing = format!("input=0x{}&{query}", hex::encode(sha256(b"missing")));
	let reply = call(&executor, &Method::POST, &path, Some(&missing), &[]);
	assert_eq!(reply.status, StatusCode::NOT_FOUND);
	assert_eq!(reply.header("x-opg-missing"), Some("input"), "the node may decline the request");
	let no_model = call(
		&executor,
		&Method::POST,
		&format!("/v1/prove/0x{}", hex::encode([7; 32])),
		Some(&query),
		&input,
	);
	assert_eq!(no_model.status, StatusCode::NOT_FOUND);
	assert_eq!(no_model.header("x-opg-missing"), None, "a missing model is the node's own fault");

	// A version 1 file (dense layers, untagged) keeps its hash and runs as before.
	let mut v1 = opg_qmodel::generate(&[8, 6, 3], 5);
	v1.format = opg_qmodel::FORMAT_V1.into();
	let v1_hash = store.put(&v1.to_bytes()).unwrap();
	let input = [1u8, 2, 3, 4, 5, 6, 7, 8];
	assert_eq!(
		executor.infer(&v1_hash, InputSource::Inline(&input)).unwrap(),
		v1.evaluate_bytes(&input).unwrap()
	);
}

/// A node key only the executor holds declines a request whose stored input is found
/// nowhere: the executor signs the cannot-serve notice for the job bound to its key (and
/// nothing for a job of another key, or without a job).
#[test]
fn an_input_found_nowhere_is_declined_with_the_held_keys_signed_notice() {
	let store = temp_store("decline");
	let (hash, _) = demo(&store);
	let key = crate::signing::NodeKey::from_seed(&[5; 32]);
	let executor = Arc::new(Executor::new(store, None).with_node_key(key));
	let key = crate::signing::NodeKey::from_seed(&[5; 32]);
	let (genesis, missing) = ([0x42u8; 32], sha256(b"nowhere"));
	let notice = opg_settlement::message::cannot_serve(
		&genesis,
		12,
		&missing,
		opg_settlement::message::INPUT_UNAVAILABLE,
		&[0; 32],
	);
	let signed = |reply: &Reply| {
		assert_eq!(reply.status, StatusCode::NOT_FOUND);
		assert_eq!(reply.header("x-opg-missing"), Some("input"));
		reply.header("x-opg-signature").map(|text| {
			let bytes: [u8; 64] = opg_executor_api::parse_hex(text).unwrap().try_into().unwrap();
			crate::signing::verify(&key.public(), &notice, &bytes)
		})
	};
	let input = format!("input=0x{}", hex::encode(missing));
	let signing = format!("{input}&genesis=0x{}&request=12", hex::encode(genesis));
	let infer = format!("/v1/infer/0x{}", hex::encode(hash));
	assert_eq!(signed(&call(&executor, &Method::POST, &infer, Some(&signing), &[])), Some(true));
	assert_eq!(signed(&call(&executor, &Method::POST, &infer, Some(&input), &[])), None);
	let prove = format!("/v1/prove/0x{}", hex::encode(hash));
	let job = |node: [u8; 32]| format!("{signing}&node=0x{}", hex::encode(node));
	assert_eq!(
		signed(&call(&executor, &Method::POST, &prove, Some(&job(key.public())), &[])),
		Some(true)
	);
	assert_eq!(signed(&call(&executor, &Method::POST, &prove, Some(&job([9; 32])), &[])), None);
}

/// A node key only the executor holds stays live: the executor signs its heartbeat for
/// the block the worker names, and says why when it cannot.
#[test]
fn the_held_key_signs_the_heartbeat_the_worker_asks_for() {
	let key = crate::signing::NodeKey::from_seed(&[6; 32]);
	let public = key.public();
	let executor = Arc::new(Executor::new(temp_store("heartbeat"), None).with_node_key(key));
	let genesis = [0x42u8; 32];
	let query = format!("genesis=0x{}&at=700", hex::encode(genesis));
	let reply = call(&executor, &Method::POST, "/v1/heartbeat", Some(&query), &[]);
	assert_eq!(reply.status, StatusCode::OK);
	assert_eq!(reply.header("x-opg-node"), Some(format!("0x{}", hex::encode(public)).as_str()));
	let signature: [u8; 64] = opg_executor_api::parse_hex(reply.header("x-opg-signature").unwrap())
		.unwrap()
		.try_into()
		.unwrap();
	let message = opg_settlement::message::heartbeat(&genesis, 700);
	assert!(crate::signing::verify(&public, &message, &signature));
	assert!(!crate::signing::verify(
		&public,
		&opg_settlement::message::heartbeat(&genesis, 701),
		&signature
	));

	let malformed = call(&executor, &Method::POST, "/v1/heartbeat", Some("at=700"), &[]);
	assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
	let keyless = Arc::new(Executor::new(temp_store("heartbeat-keyless"), None));
	let reply = call(&keyless, &Method::POST, "/v1/heartbeat", Some(&query), &[]);
	assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// A stored input whose commitment is not the caller's is not proven: `409` with the
/// commitment computed here, and for a job bound to the key the executor holds, that
/// key's signed cannot-serve notice (commitment mismatch). The caller's own commitment
/// passes to the prover.
#[test]
fn a_stored_input_not_matching_the_callers_commitment_is_declined_not_proven() {
	let store = temp_store("mismatch");
	let (model, qmodel) = demo(&store);
	let input: Vec<u8> = (0..qmodel.input_len()).map(|i| i as u8).collect();
	let input_hash = store.put(&input).unwrap();
	let key = crate::signing::NodeKey::from_seed(&[7; 32]);
	let public = key.public();
	let executor = Arc::new(Executor::new(store, None).with_node_key(key));
	let computed = opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(&input));
	let genesis = [0x42u8; 32];
	let prove = format!("/v1/prove/0x{}", hex::encode(model));
	let query = |node: [u8; 32], commitment: [u8; 32]| {
		format!(
			"input=0x{}&genesis=0x{}&request=3&node=0x{}&commitment=0x{}",
			hex::encode(input_hash),
			hex::encode(genesis),
			hex::encode(node),
			hex::encode(commitment)
		)
	};

	let reply = call(&executor, &Method::POST, &prove, Some(&query(public, [9; 32])), &[]);
	assert_eq!(reply.status, StatusCode::CONFLICT);
	assert!(reply.proof.is_none(), "nothing proven");
	let found = format!("0x{}", hex::encode(computed));
	assert_eq!(reply.header("x-opg-input-commitment"), Some(found.as_str()));
	let signature: [u8; 64] = opg_executor_api::parse_hex(reply.header("x-opg-signature").unwrap())
		.unwrap()
		.try_into()
		.unwrap();
	let notice = opg_settlement::message::cannot_serve(
		&genesis,
		3,
		&input_hash,
		opg_settlement::message::COMMITMENT_MISMATCH,
		&computed,
	);
	assert!(crate::signing::verify(&public, &notice, &signature));

	// Another node's job: the same refusal, no signature.
	let reply = call(&executor, &Method::POST, &prove, Some(&query([8; 32], [9; 32])), &[]);
	assert_eq!(reply.status, StatusCode::CONFLICT);
	assert_eq!(reply.header("x-opg-signature"), None);

	// The caller's own commitment passes the check and goes on to the prover (which this
	// executor, started without proving keys, does not have).
	let reply = call(&executor, &Method::POST, &prove, Some(&query(public, computed)), &[]);
	assert_ne!(reply.status, StatusCode::CONFLICT);
	assert_eq!(reply.header("x-opg-signature"), None);
}

/// One call for many jobs: each job answered as its own `/v1/infer` call would be, each
/// result signed for its request, a wrong input refused on its own without sinking the
/// others, and the signed results accepted into a batch root.
#[test]
fn many_jobs_in_one_call_are_answered_as_their_single_calls() {
	use opg_executor_api::{decode_answers, encode_jobs};
	let store = temp_store("infer-many");
	let (hash, model) = demo(&store);
	let key = crate::signing::NodeKey::from_seed(&[6; 32]);
	let public = key.public();
	let executor = Arc::new(Executor::new(store, None).with_node_key(key));
	let genesis = [0x42u8; 32];
	let inputs: Vec<Vec<u8>> = (0..5u8).map(|n| (0..8u8).map(|i| i ^ n).collect()).collect();
	let mut jobs: Vec<(u64, &[u8])> = inputs
		.iter()
		.enumerate()
		.map(|(n, input)| (10 + n as u64, &input[..]))
		.collect();
	jobs.insert(2, (99, &b"short"[..]));
	let path = format!("/v1/infer-many/0x{}", hex::encode(hash));
	let query = format!("genesis=0x{}", hex::encode(genesis));
	let reply = call(&executor, &Method::POST, &path, Some(&query), &encode_jobs(jobs.clone()));
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	assert_eq!(reply.header("x-opg-node"), Some(format!("0x{}", hex::encode(public)).as_str()));
	let answers = decode_answers(&reply.body).unwrap();
	assert_eq!(answers.len(), jobs.len());
	let mut leaves = Vec::new();
	for ((request, input), answer) in jobs.iter().zip(&answers) {
		if *request == 99 {
			assert_eq!(answer.status, 422, "a wrong input length is refused as alone");
			assert_eq!(answer.signature, None);
			continue;
		}
		assert_eq!(answer.status, 200);
		assert_eq!(answer.body, model.evaluate_bytes(input).unwrap());
		let single = call(
			&executor,
			&Method::POST,
			&format!("/v1/infer/0x{}", hex::encode(hash)),
			None,
			input,
		);
		assert_eq!(single.body, answer.body, "the same output as a single call");
		let message = opg_settlement::message::result(
			&genesis,
			*request,
			&hash,
			&sha256(input),
			&sha256(&answer.body),
		);
		assert!(crate::signing::verify(&public, &message, &answer.signature.unwrap()));
		leaves.push((*request, sha256(input), sha256(&answer.body)));
	}
	let signed = call(
		&executor,
		&Method::POST,
		"/v1/sign-batch",
		Some(&query),
		&opg_executor_api::encode_leaves(leaves),
	);
	assert_eq!(signed.status, StatusCode::OK, "the executor recorded what it signed");

	// Unsigned without a genesis, or by an executor without a node key (the worker signs
	// with the node's keystore then); a malformed body and an unknown model are refused
	// whole.
	let unsigned = call(&executor, &Method::POST, &path, None, &encode_jobs(jobs[..1].to_vec()));
	assert_eq!(decode_answers(&unsigned.body).unwrap()[0].signature, None);
	let truncated = encode_jobs(jobs.clone());
	let truncated = &truncated[..truncated.len() - 1];
	assert_eq!(
		call(&executor, &Method::POST, &path, None, truncated).status,
		StatusCode::BAD_REQUEST
	);
	let keyless = Arc::new(Executor::new(executor.store().clone(), None));
	let reply =
		call(&keyless, &Method::POST, &path, Some(&query), &encode_jobs(jobs[..1].to_vec()));
	assert_eq!(reply.status, StatusCode::OK);
	assert_eq!(decode_answers(&reply.body).unwrap()[0].signature, None);
	let single = format!("/v1/infer/0x{}", hex::encode(hash));
	let reply =
		call(&keyless, &Method::POST, &single, Some(&format!("{query}&request=10")), jobs[0].1);
	assert_eq!(reply.status, StatusCode::OK);
	assert_eq!((reply.header("x-opg-signature"), reply.header("x-opg-node")), (None, None));
	let unknown = format!("/v1/infer-many/0x{}", hex::encode([7u8; 32]));
	let reply = call(&executor, &Method::POST, &unknown, None, &encode_jobs(jobs[..1].to_vec()));
	assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// Regression: two requests with the same output stored it at once through one partial
/// file, and all but the first failed with "No such file or directory" (found by
/// scripts/direct-bench.mjs: concurrent TorchScript calls on the same inputs).
#[test]
fn the_same_bytes_stored_at_once_by_many_requests_all_succeed() {
	let store = temp_store("concurrent-put");
	let barrier = Arc::new(std::sync::Barrier::new(8));
	let threads: Vec<_> = (0..8)
		.map(|_| {
			let (store, barrier) = (store.clone(), barrier.clone());
			std::thread::spawn(move || {
				(0..40u8)
					.map(|round| {
						barrier.wait();
						store
							.put_cached(&vec![round; 1 << 16])
							.map(|_| ())
							.map_err(|e| e.to_string())
					})
					.collect::<Vec<_>>()
			})
		})
		.collect();
	for thread in threads {
		let failed: Vec<_> = thread.join().unwrap().into_iter().filter_map(Result::err).collect();
		assert!(failed.is_empty(), "{failed:?}");
	}
	for round in 0..40u8 {
		let bytes = vec![round; 1 << 16];
		assert_eq!(store.get(&sha256(&bytes)).unwrap().unwrap(), bytes);
	}
}
