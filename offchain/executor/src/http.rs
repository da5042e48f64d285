//! The executor's HTTP API (HTTP/1.1, loopback by default).
//!
//! | Method and path                           | Body            | Success                          |
//! |-------------------------------------------|-----------------|----------------------------------|
//! | `GET /health`                             |                 | `200` JSON: models and devices, node key, deterministic mode |
//! | `GET /metrics`                            |                 | `200` Prometheus text            |
//! | `POST /v1/infer/{model}`                  | input bytes     | `200` output bytes               |
//! | `POST /v1/infer/{model}?input={hash}`     | empty           | `200` output bytes (stored input)|
//! | `POST /v1/infer/{model}?genesis={hash}&request={id}` | input bytes | `200` output bytes, signed by the node key |
//! | `POST /v1/prove/{model}?genesis={hash}&request={id}&node={key}` | input bytes | `200` output bytes, proof in `x-opg-proof` |
//! | `POST /v1/prove/{model}?input={hash}&genesis=…&request=…&node=…` | empty | the same, for a stored input |
//! | `POST /v1/fetch?url={url}`                | empty           | `200` JSON provenance statement  |
//! | `POST /v1/attestation?genesis={hash}&nonce={hash}` | empty  | `200` JSON `{node, document}`    |
//! | `POST /v1/sign-batch?genesis={hash}`      | leaves          | `200`, root and signature in headers |
//! | `PUT /v1/artifacts/{hash}`                | artifact bytes  | `201` (bytes must hash to `hash`)|
//! | `GET /v1/artifacts/{hash}`                |                 | `200` artifact bytes             |
//!
//! Hashes are 64 hex digits of SHA-256, with or without `0x`. Tensors are raw bytes:
//! little-endian, in the order and shapes of the model's schema for TorchScript models,
//! as the model format defines them for quantized-integer models. Successful inferences
//! carry `x-opg-output-hash`; TorchScript inferences also `x-opg-device` (`cpu`,
//! `cuda:N`), `x-opg-batch-size` and `x-opg-reproducible` (`true` when rerunning the
//! input alone on this device type gives the same bits). With `genesis` and `request`
//! and a node key, `x-opg-node` and `x-opg-signature` carry the node key's sr25519
//! signature of the result message (`opg_settlement::message::result`).
//! `x-opg-proof` is the compressed Groth16 proof, 0x-hex, bound to the job (genesis hash,
//! request id, node key, each 0x-hex or decimal as shown); when the job's node key is the
//! executor's own, the proven result is signed too.
//! A missing model or stored input is first fetched by hash from the configured peers.
//! `/v1/fetch` (a data node) GETs an external `http://` URL, at a public address only
//! unless the operator allows private ones (`403` otherwise; no redirect is followed),
//! stores the bytes by hash and
//! answers `{"url", "hash", "size", "time_ms", "node", "signature"}`, the signature over
//! `opg_settlement::message::provenance` (`node` and `signature` null without a key).
//! `/v1/sign-batch` takes the batch's leaves (request id u64 little-endian, input hash,
//! output hash; 72 bytes each, in order), each a result this executor computed and
//! signed, and signs their Merkle root (`opg_settlement::message::batch`):
//! `x-opg-batch-root`, `x-opg-signature`; `409` for a leaf it did not compute and sign.
//! A later inference for the same request never replaces a recorded leaf. `/v1/attestation` answers the TEE attestation document (0x-hex) that binds the node key
//! to the chain and the registry's challenge nonce (see [`crate::evidence`]).
//! Errors are `text/plain` with the reason: `400` malformed request, `404` model, input,
//! artifact or proving key missing, `413` body too large, `422` the model or input is
//! invalid (wrong length for the schema), `403` a URL to fetch names a loopback, private
//! or link-local address, `502` a fetched URL failed, `503` the model's
//! queue is full (retry later, see `retry-after`), `500` the store failed or holds
//! corrupted bytes, or the model failed.

use crate::{batch::Refused, fetch, ContentHash, ExecError, Executor, InputSource, StoreError};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{
	body::{Bytes, Incoming},
	header::{HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER},
	Method, Request, Response, StatusCode,
};
use std::{convert::Infallible, future::Future, sync::Arc};
use tokio::net::TcpListener;

/// The largest request body: an artifact upload.
pub const MAX_BODY: usize = 256 << 20;

/// An answer before it becomes an HTTP response.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
	/// The status.
	pub status: StatusCode,
	/// The body.
	pub body: Vec<u8>,
	/// The output hash of a successful inference.
	pub output_hash: Option<ContentHash>,
	/// The proof of a successful ZKML inference.
	pub proof: Option<Vec<u8>>,
	/// Further `x-opg-*` headers (device, batch, signature, ...) and `retry-after`.
	pub headers: Vec<(&'static str, String)>,
	/// `application/json` rather than octets.
	pub json: bool,
}

impl Reply {
	fn ok(status: StatusCode, body: Vec<u8>) -> Self {
		Self { status, body, output_hash: None, proof: None, headers: Vec::new(), json: false }
	}

	fn json(body: String) -> Self {
		Self { json: true, ..Self::ok(StatusCode::OK, body.into_bytes()) }
	}

	fn error(status: StatusCode, reason: impl std::fmt::Display) -> Self {
		Self::ok(status, format!("{reason}\n").into_bytes())
	}

	fn output(output: Vec<u8>) -> Self {
		Self { output_hash: Some(crate::sha256(&output)), ..Self::ok(StatusCode::OK, output) }
	}

	/// The value of header `name`, if set.
	pub fn header(&self, name: &str) -> Option<&str> {
		self.headers
			.iter()
			.find(|(key, _)| *key == name)
			.map(|(_, value)| value.as_str())
	}
}

pub use opg_executor_api::parse_hash;
use opg_executor_api::{header, query, query_value, Route};

fn exec_error(error: ExecError) -> Reply {
	let status = match &error {
		ExecError::ModelNotFound(_) | ExecError::InputNotFound(_) | ExecError::NoProvingKey(_) => {
			StatusCode::NOT_FOUND
		},
		ExecError::Model(_) | ExecError::Torch(crate::torch::TorchError::InputLength { .. }) => {
			StatusCode::UNPROCESSABLE_ENTITY
		},
		ExecError::Store(_) | ExecError::Prove(_) | ExecError::Torch(_) => {
			StatusCode::INTERNAL_SERVER_ERROR
		},
	};
	let missing_input = matches!(error, ExecError::InputNotFound(_));
	let mut reply = Reply::error(status, error);
	if missing_input {
		reply.headers.push((header::MISSING, header::MISSING_INPUT.into()));
	}
	reply
}

/// Runs CPU-bound work off the reactor threads.
async fn blocking<T: Send + 'static>(
	work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Reply> {
	tokio::task::spawn_blocking(work)
		.await
		.map_err(|e| Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e))
}

/// Answers one request: `path` without the query, `query` the part after `?`.
pub async fn route(
	executor: &Arc<Executor>,
	method: &Method,
	path: &str,
	query: Option<&str>,
	body: Bytes,
) -> Reply {
	let answer = match (method, Route::parse(path)) {
		(&Method::GET, Some(Route::Health)) => Ok(Reply::json(health(executor))),
		(&Method::GET, Some(Route::Metrics)) => {
			Ok(Reply::ok(StatusCode::OK, executor.metrics().render().into_bytes()))
		},
		(&Method::POST, Some(Route::Infer(model))) => infer(executor, model, query, body).await,
		(&Method::POST, Some(Route::Prove(model))) => prove(executor, model, query, body).await,
		(&Method::POST, Some(Route::Fetch)) => fetch_url(executor, query).await,
		(&Method::POST, Some(Route::Attestation)) => attestation(executor, query).await,
		(&Method::POST, Some(Route::SignBatch)) => sign_batch(executor, query, &body),
		(&Method::PUT, Some(Route::Artifact(hash))) => {
			let hash = parse_hash(hash).ok_or_else(|| {
				Reply::error(StatusCode::BAD_REQUEST, "the artifact name is not a SHA-256 hash")
			});
			hash.map(|hash| match executor.store().put_expecting(&hash, &body) {
				Ok(()) => Reply::ok(StatusCode::CREATED, Vec::new()),
				Err(e @ StoreError::HashMismatch { .. }) => {
					Reply::error(StatusCode::UNPROCESSABLE_ENTITY, e)
				},
				Err(e) => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
			})
		},
		(&Method::GET, Some(Route::Artifact(hash))) => {
			let hash = parse_hash(hash).ok_or_else(|| {
				Reply::error(StatusCode::BAD_REQUEST, "the artifact name is not a SHA-256 hash")
			});
			hash.map(|hash| match executor.store().get(&hash) {
				Ok(Some(bytes)) => Reply::ok(StatusCode::OK, bytes),
				Ok(None) => Reply::error(StatusCode::NOT_FOUND, "no such artifact"),
				Err(e) => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
			})
		},
		_ => Err(Reply::error(StatusCode::NOT_FOUND, format!("no route {method} {path}"))),
	};
	answer.unwrap_or_else(|reply| reply)
}

/// The `/health` answer: the device and queue of every TorchScript model served.
fn health(executor: &Executor) -> String {
	let models: Vec<_> = executor
		.torch_models()
		.map(|(hash, serving)| {
			serde_json::json!({
				"hash": format!("0x{}", hex::encode(hash)),
				"format": "torchscript",
				"device": serving.device,
			})
		})
		.collect();
	serde_json::json!({
		"status": "ok",
		"deterministic": crate::torch::deterministic_algorithms(),
		"models": models,
		"node": executor.node_key().map(|key| format!("0x{}", hex::encode(key.public()))),
	})
	.to_string()
}

fn model_hash(text: &str) -> Result<ContentHash, Reply> {
	parse_hash(text)
		.ok_or_else(|| Reply::error(StatusCode::BAD_REQUEST, "the model is not a SHA-256 hash"))
}

async fn infer(
	executor: &Arc<Executor>,
	model: &str,
	query: Option<&str>,
	body: Bytes,
) -> Result<Reply, Reply> {
	let model = model_hash(model)?;
	let stored = stored_input(query, &body)?;
	let signing = match (query_value(query, query::GENESIS), query_value(query, query::REQUEST)) {
		(None, None) => None,
		(Some(_), Some(_)) => Some(opg_executor_api::Signing::parse(query).ok_or_else(|| {
			Reply::error(StatusCode::BAD_REQUEST, "expected ?genesis=0x..&request=N")
		})?),
		_ => {
			return Err(Reply::error(
				StatusCode::BAD_REQUEST,
				"signing needs both genesis and request",
			))
		},
	};
	if signing.is_some() && executor.node_key().is_none() {
		return Err(Reply::error(
			StatusCode::NOT_FOUND,
			"this executor holds no node key (serve --node-key)",
		));
	}
	let (input, input_hash) = input_bytes(executor, stored, query, &body).await?;
	let mut reply = match executor.torch(&model) {
		Some(serving) => infer_torch(executor, &model, serving, input).await?,
		None => {
			if !executor.fetch_missing(&model).await.map_err(exec_error)? {
				return Err(exec_error(ExecError::ModelNotFound(model)));
			}
			let executor = executor.clone();
			let output =
				blocking(move || executor.infer(&model, InputSource::Inline(&input))).await?;
			Reply::output(output.map_err(exec_error)?)
		},
	};
	if let Some(opg_executor_api::Signing { genesis, request }) = signing {
		sign(executor, &mut reply, &genesis, request, &model, &input_hash);
	}
	Ok(reply)
}

/// Adds the node key's signature of a successful inference's result message.
fn sign(
	executor: &Executor,
	reply: &mut Reply,
	genesis: &[u8; 32],
	request: u64,
	model: &ContentHash,
	input: &ContentHash,
) {
	let (Some(output), Some(key)) = (reply.output_hash, executor.node_key()) else { return };
	if let Some(signature) = executor.sign_result(genesis, request, model, input, &output) {
		reply.headers.push((header::NODE, format!("0x{}", hex::encode(key.public()))));
		reply.headers.push((header::SIGNATURE, format!("0x{}", hex::encode(signature))));
	}
}

/// `POST /v1/sign-batch?genesis=0x..` with the batch's leaves
/// ([`opg_executor_api::encode_leaves`]), in order.
fn sign_batch(executor: &Executor, query: Option<&str>, body: &[u8]) -> Result<Reply, Reply> {
	let genesis = query_value(query, query::GENESIS)
		.and_then(parse_hash)
		.ok_or_else(|| Reply::error(StatusCode::BAD_REQUEST, "expected ?genesis=0x.."))?;
	let leaves: Vec<_> = opg_executor_api::decode_leaves(body)
		.ok_or_else(|| {
			Reply::error(
				StatusCode::BAD_REQUEST,
				"the body is leaves: request id (u64 LE), input hash, output hash (72 bytes each)",
			)
		})?
		.into_iter()
		.map(|(request, input_hash, output_hash)| opg_settlement::merkle::Leaf {
			request,
			input_hash,
			output_hash,
		})
		.collect();
	match executor.sign_batch(&genesis, &leaves) {
		Ok((root, signature)) => {
			let mut reply = Reply::ok(StatusCode::OK, Vec::new());
			reply.headers.push((header::BATCH_ROOT, format!("0x{}", hex::encode(root))));
			reply.headers.push((header::SIGNATURE, format!("0x{}", hex::encode(signature))));
			Ok(reply)
		},
		Err(e @ crate::BatchSignError::NoNodeKey) => Err(Reply::error(StatusCode::NOT_FOUND, e)),
		Err(e @ crate::BatchSignError::Empty) => Err(Reply::error(StatusCode::BAD_REQUEST, e)),
		Err(e @ crate::BatchSignError::Unknown(_)) => Err(Reply::error(StatusCode::CONFLICT, e)),
	}
}

async fn infer_torch(
	executor: &Executor,
	model: &ContentHash,
	serving: &crate::TorchServing,
	input: Vec<u8>,
) -> Result<Reply, Reply> {
	let name = format!("0x{}", hex::encode(model));
	let expected = crate::torch::input_len(&serving.schema);
	if input.len() != expected {
		executor.metrics().request(&name, "invalid");
		let error = crate::torch::TorchError::InputLength { expected, found: input.len() };
		return Err(exec_error(ExecError::Torch(error)));
	}
	let answer = match serving.batcher.submit(input) {
		Ok(answer) => answer,
		Err(Refused::Busy) => {
			let mut reply = Reply::error(
				StatusCode::SERVICE_UNAVAILABLE,
				"busy: the model's queue is full, retry",
			);
			reply.headers.push(("retry-after", "1".into()));
			return Err(reply);
		},
		Err(Refused::Stopped) => {
			return Err(Reply::error(
				StatusCode::INTERNAL_SERVER_ERROR,
				"the model's worker has stopped",
			))
		},
	};
	let output = match answer.await {
		Ok(Ok(output)) => output,
		Ok(Err(e)) => {
			executor.metrics().request(&name, "failed");
			return Err(Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e));
		},
		Err(_) => {
			return Err(Reply::error(
				StatusCode::INTERNAL_SERVER_ERROR,
				"the model's worker has stopped",
			))
		},
	};
	executor.metrics().request(&name, "ok");
	// Batch and private settlement keep outputs off chain: the requester fetches them here.
	executor.store().put(&output.bytes).map_err(|e| exec_error(e.into()))?;
	let mut reply = Reply::output(output.bytes);
	reply.headers.push((header::DEVICE, serving.device.clone()));
	reply.headers.push((header::BATCH_SIZE, output.batch_size.to_string()));
	reply.headers.push((header::REPRODUCIBLE, output.reproducible.to_string()));
	Ok(reply)
}

/// The stored input a request names (`?input=0x{sha256}`, with an empty body), if any.
fn stored_input(query: Option<&str>, body: &Bytes) -> Result<Option<ContentHash>, Reply> {
	match query_value(query, query::INPUT) {
		Some(hash) => match parse_hash(hash) {
			Some(hash) if body.is_empty() => Ok(Some(hash)),
			Some(_) => Err(Reply::error(StatusCode::BAD_REQUEST, "a stored input takes no body")),
			None => Err(Reply::error(StatusCode::BAD_REQUEST, "the input is not a SHA-256 hash")),
		},
		None => Ok(None),
	}
}

/// The input bytes and their hash: the stored input (fetched from peers if missing, then
/// from the request's `locator`, a public `http://` URL whose bytes must hash right), or
/// the body.
async fn input_bytes(
	executor: &Executor,
	stored: Option<ContentHash>,
	query: Option<&str>,
	body: &Bytes,
) -> Result<(Vec<u8>, ContentHash), Reply> {
	match stored {
		Some(hash) => {
			if !executor.fetch_missing(&hash).await.map_err(exec_error)? {
				let locator =
					query_value(query, query::LOCATOR).and_then(opg_executor_api::percent_decode);
				let Some(locator) = locator else {
					return Err(exec_error(ExecError::InputNotFound(hash)));
				};
				match fetch::get_external(&locator, MAX_BODY, executor.private_fetch()).await {
					Ok(bytes) if crate::sha256(&bytes) == hash => {
						executor.store().put(&bytes).map_err(|e| exec_error(e.into()))?;
					},
					Ok(_) => {
						tracing::warn!(%locator, "the locator's bytes do not hash to the input");
						return Err(exec_error(ExecError::InputNotFound(hash)));
					},
					Err(error) => {
						tracing::warn!(%locator, ?error, "the locator did not give the input");
						return Err(exec_error(ExecError::InputNotFound(hash)));
					},
				}
			}
			let input = executor
				.store()
				.get(&hash)
				.map_err(|e| exec_error(e.into()))?
				.unwrap_or_default();
			Ok((input, hash))
		},
		None => Ok((body.to_vec(), crate::sha256(body))),
	}
}

async fn prove(
	executor: &Arc<Executor>,
	model: &str,
	query: Option<&str>,
	body: Bytes,
) -> Result<Reply, Reply> {
	let model = model_hash(model)?;
	let job = opg_executor_api::Job::parse(query).ok_or_else(|| {
		Reply::error(StatusCode::BAD_REQUEST, "expected ?genesis=0x..&request=N&node=0x..")
	})?;
	let stored = stored_input(query, &body)?;
	if !executor.fetch_missing(&model).await.map_err(exec_error)? {
		return Err(exec_error(ExecError::ModelNotFound(model)));
	}
	let (input, input_hash) = input_bytes(executor, stored, query, &body).await?;
	let commitment = opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(&input));
	let prover = executor.clone();
	let (output, proof) =
		blocking(move || prover.prove(&model, &input, job)).await?.map_err(exec_error)?;
	let mut reply = Reply { proof: Some(proof), ..Reply::output(output) };
	reply
		.headers
		.push((header::INPUT_COMMITMENT, format!("0x{}", hex::encode(commitment))));
	// The executor signs for the node key it holds when the job is bound to that key.
	if executor.node_key().is_some_and(|key| key.public() == job.node) {
		sign(executor, &mut reply, &job.genesis, job.request, &model, &input_hash);
	}
	Ok(reply)
}

async fn fetch_url(executor: &Executor, query: Option<&str>) -> Result<Reply, Reply> {
	let url = query_value(query, query::URL)
		.and_then(opg_executor_api::percent_decode)
		.ok_or_else(|| Reply::error(StatusCode::BAD_REQUEST, "expected ?url=http://..."))?;
	let bytes =
		fetch::get_external(&url, MAX_BODY, executor.private_fetch())
			.await
			.map_err(|error| match error {
				fetch::ExternalError::Refused(reason) => {
					Reply::error(StatusCode::FORBIDDEN, reason)
				},
				fetch::ExternalError::Invalid(reason) => {
					Reply::error(StatusCode::BAD_REQUEST, reason)
				},
				fetch::ExternalError::Failed(reason) => {
					Reply::error(StatusCode::BAD_GATEWAY, reason)
				},
			})?;
	let time_ms = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |since| since.as_millis() as u64);
	let hash = executor.store().put(&bytes).map_err(|e| exec_error(e.into()))?;
	let (node, signature) = match executor.node_key() {
		Some(key) => (
			Some(format!("0x{}", hex::encode(key.public()))),
			Some(format!(
				"0x{}",
				hex::encode(key.sign(&opg_settlement::message::provenance(&url, &hash, time_ms)))
			)),
		),
		None => (None, None),
	};
	Ok(Reply::json(
		serde_json::json!({
			"url": url,
			"hash": format!("0x{}", hex::encode(hash)),
			"size": bytes.len(),
			"time_ms": time_ms,
			"node": node,
			"signature": signature,
		})
		.to_string(),
	))
}

async fn attestation(executor: &Arc<Executor>, query: Option<&str>) -> Result<Reply, Reply> {
	let hash = |name| query_value(query, name).and_then(parse_hash);
	let (Some(genesis), Some(nonce)) = (hash(query::GENESIS), hash(query::NONCE)) else {
		return Err(Reply::error(
			StatusCode::BAD_REQUEST,
			"expected ?genesis=0x..&nonce=0x.. (32 bytes each)",
		));
	};
	let producer = executor.clone();
	match blocking(move || producer.attestation(&genesis, &nonce)).await? {
		Ok(Some(document)) => Ok(Reply::json(
			serde_json::json!({
				"node": executor.node_key().map(|key| format!("0x{}", hex::encode(key.public()))),
				"document": format!("0x{}", hex::encode(document)),
			})
			.to_string(),
		)),
		Ok(None) => Err(Reply::error(
			StatusCode::NOT_FOUND,
			"no node key or evidence source (serve --node-key --evidence)",
		)),
		Err(reason) => Err(Reply::error(StatusCode::INTERNAL_SERVER_ERROR, reason)),
	}
}

async fn handle(
	executor: Arc<Executor>,
	request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
	let (parts, body) = request.into_parts();
	let started = std::time::Instant::now();
	let reply = match Limited::new(body, MAX_BODY).collect().await {
		Ok(body) => {
			route(&executor, &parts.method, parts.uri.path(), parts.uri.query(), body.to_bytes())
				.await
		},
		Err(e) => Reply::error(StatusCode::PAYLOAD_TOO_LARGE, e),
	};
	let (method, path, status) = (&parts.method, parts.uri.path(), reply.status.as_u16());
	let micros = started.elapsed().as_micros() as u64;
	if reply.status.is_server_error() {
		let reason = String::from_utf8_lossy(&reply.body);
		tracing::warn!(%method, path, status, micros, reason = reason.trim_end(), "request failed");
	} else {
		tracing::debug!(%method, path, status, micros, "request");
	}
	let mut response = Response::new(Full::new(Bytes::from(reply.body)));
	*response.status_mut() = reply.status;
	let content_type = match (reply.status.is_success(), reply.json) {
		(true, true) => "application/json",
		(true, false) => "application/octet-stream",
		(false, _) => "text/plain",
	};
	response
		.headers_mut()
		.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
	let hex_header = |bytes: &[u8]| {
		HeaderValue::from_str(&format!("0x{}", hex::encode(bytes))).expect("hex is a valid header")
	};
	if let Some(hash) = reply.output_hash {
		response.headers_mut().insert(header::OUTPUT_HASH, hex_header(&hash));
	}
	if let Some(proof) = reply.proof {
		response.headers_mut().insert(header::PROOF, hex_header(&proof));
	}
	for (name, value) in reply.headers {
		let name = if name == "retry-after" { RETRY_AFTER } else { HeaderName::from_static(name) };
		if let Ok(value) = HeaderValue::from_str(&value) {
			response.headers_mut().insert(name, value);
		}
	}
	Ok(response)
}

/// How long shutdown waits for open connections.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the API on `listener` until `shutdown` completes, then waits up to
/// [`SHUTDOWN_GRACE`] for connections in progress to finish.
pub async fn serve(
	executor: Arc<Executor>,
	listener: TcpListener,
	shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
	// One clone per open connection.
	let open = Arc::new(());
	tokio::pin!(shutdown);
	loop {
		tokio::select! {
			accepted = listener.accept() => {
				let (stream, _) = accepted?;
				let executor = executor.clone();
				let connection = open.clone();
				tokio::spawn(async move {
					let service = hyper::service::service_fn(move |request| handle(executor.clone(), request));
					let _ = hyper::server::conn::http1::Builder::new()
						.serve_connection(hyper_util::rt::TokioIo::new(stream), service)
						.await;
					drop(connection);
				});
			},
			() = &mut shutdown => break,
		}
	}
	let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
	while Arc::strong_count(&open) > 1 && tokio::time::Instant::now() < deadline {
		tokio::time::sleep(std::time::Duration::from_millis(20)).await;
	}
	Ok(())
}
