//! The executor's HTTP API (HTTP/1.1, loopback by default).
//!
//! | Method and path                           | Body            | Success                          |
//! |-------------------------------------------|-----------------|----------------------------------|
//! | `GET /health`                             |                 | `200 ok`                         |
//! | `POST /v1/infer/{model}`                  | input bytes     | `200` output bytes               |
//! | `POST /v1/infer/{model}?input={hash}`     | empty           | `200` output bytes (stored input)|
//! | `POST /v1/prove/{model}?genesis={hash}&request={id}&node={key}` | input bytes | `200` output bytes, proof in `x-opg-proof` |
//! | `PUT /v1/artifacts/{hash}`                | artifact bytes  | `201` (bytes must hash to `hash`)|
//! | `GET /v1/artifacts/{hash}`                |                 | `200` artifact bytes             |
//!
//! Hashes are 64 hex digits of SHA-256, with or without `0x`. Tensors are raw bytes as
//! the model format defines them. Successful inferences carry `x-opg-output-hash`.
//! `x-opg-proof` is the compressed Groth16 proof, 0x-hex, bound to the job (genesis hash,
//! request id, node key, each 0x-hex or decimal as shown).
//! Errors are `text/plain` with the reason: `400` malformed request, `404` model, input,
//! artifact or proving key missing, `413` body too large, `422` the model or input is invalid, `500`
//! the store failed or holds corrupted bytes.

use crate::{ContentHash, ExecError, Executor, InputSource, Job, StoreError};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{
	body::{Bytes, Incoming},
	header::{HeaderValue, CONTENT_TYPE},
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
}

impl Reply {
	fn ok(status: StatusCode, body: Vec<u8>) -> Self {
		Self { status, body, output_hash: None, proof: None }
	}

	fn error(status: StatusCode, reason: impl std::fmt::Display) -> Self {
		Self::ok(status, format!("{reason}\n").into_bytes())
	}
}

/// A SHA-256 hash from 64 hex digits, with or without `0x`.
pub fn parse_hash(text: &str) -> Option<ContentHash> {
	let digits = text.strip_prefix("0x").unwrap_or(text);
	let mut hash = [0u8; 32];
	hex::decode_to_slice(digits, &mut hash).ok()?;
	Some(hash)
}

/// `genesis=0x..&request=N&node=0x..`, in any order.
fn parse_job(query: &str) -> Option<Job> {
	let value = |name: &str| query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='));
	Some(Job {
		genesis: parse_hash(value("genesis")?)?,
		request: value("request")?.parse().ok()?,
		node: parse_hash(value("node")?)?,
	})
}

fn exec_error(error: ExecError) -> Reply {
	let status = match &error {
		ExecError::ModelNotFound(_) | ExecError::InputNotFound(_) | ExecError::NoProvingKey(_) =>
			StatusCode::NOT_FOUND,
		ExecError::Model(_) => StatusCode::UNPROCESSABLE_ENTITY,
		ExecError::Store(_) | ExecError::Prove(_) => StatusCode::INTERNAL_SERVER_ERROR,
	};
	Reply::error(status, error)
}

/// Answers one request: `path` without the query, `query` the part after `?`.
pub fn route(executor: &Executor, method: &Method, path: &str, query: Option<&str>, body: &[u8]) -> Reply {
	let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
	match (method, segments.as_slice()) {
		(&Method::GET, ["health"]) => Reply::ok(StatusCode::OK, b"ok\n".to_vec()),
		(&Method::POST, ["v1", "infer", model]) => {
			let Some(model) = parse_hash(model) else {
				return Reply::error(StatusCode::BAD_REQUEST, "the model is not a SHA-256 hash")
			};
			let stored = query.and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("input=")));
			let input = match stored {
				Some(hash) => match parse_hash(hash) {
					Some(hash) if body.is_empty() => InputSource::Stored(hash),
					Some(_) => return Reply::error(StatusCode::BAD_REQUEST, "a stored input takes no body"),
					None => return Reply::error(StatusCode::BAD_REQUEST, "the input is not a SHA-256 hash"),
				},
				None => InputSource::Inline(body),
			};
			match executor.infer(&model, input) {
				Ok(output) => Reply { output_hash: Some(crate::sha256(&output)), ..Reply::ok(StatusCode::OK, output) },
				Err(e) => exec_error(e),
			}
		},
		(&Method::POST, ["v1", "prove", model]) => {
			let Some(model) = parse_hash(model) else {
				return Reply::error(StatusCode::BAD_REQUEST, "the model is not a SHA-256 hash")
			};
			let Some(job) = query.and_then(parse_job) else {
				return Reply::error(StatusCode::BAD_REQUEST, "expected ?genesis=0x..&request=N&node=0x..")
			};
			match executor.prove(&model, body, job) {
				Ok((output, proof)) => Reply {
					output_hash: Some(crate::sha256(&output)),
					proof: Some(proof),
					..Reply::ok(StatusCode::OK, output)
				},
				Err(e) => exec_error(e),
			}
		},
		(&Method::PUT, ["v1", "artifacts", hash]) => {
			let Some(hash) = parse_hash(hash) else {
				return Reply::error(StatusCode::BAD_REQUEST, "the artifact name is not a SHA-256 hash")
			};
			match executor.store().put_expecting(&hash, body) {
				Ok(()) => Reply::ok(StatusCode::CREATED, Vec::new()),
				Err(e @ StoreError::HashMismatch { .. }) => Reply::error(StatusCode::UNPROCESSABLE_ENTITY, e),
				Err(e) => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
			}
		},
		(&Method::GET, ["v1", "artifacts", hash]) => {
			let Some(hash) = parse_hash(hash) else {
				return Reply::error(StatusCode::BAD_REQUEST, "the artifact name is not a SHA-256 hash")
			};
			match executor.store().get(&hash) {
				Ok(Some(bytes)) => Reply::ok(StatusCode::OK, bytes),
				Ok(None) => Reply::error(StatusCode::NOT_FOUND, "no such artifact"),
				Err(e) => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e),
			}
		},
		_ => Reply::error(StatusCode::NOT_FOUND, format!("no route {method} {path}")),
	}
}

async fn handle(executor: Arc<Executor>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
	let (parts, body) = request.into_parts();
	let reply = match Limited::new(body, MAX_BODY).collect().await {
		Ok(body) => {
			let body = body.to_bytes();
			let path = parts.uri.path().to_owned();
			let query = parts.uri.query().map(str::to_owned);
			// Inference is CPU-bound: keep it off the reactor threads.
			tokio::task::spawn_blocking(move || route(&executor, &parts.method, &path, query.as_deref(), &body))
				.await
				.unwrap_or_else(|e| Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e))
		},
		Err(e) => Reply::error(StatusCode::PAYLOAD_TOO_LARGE, e),
	};
	let mut response = Response::new(Full::new(Bytes::from(reply.body)));
	*response.status_mut() = reply.status;
	let content_type = if reply.status.is_success() { "application/octet-stream" } else { "text/plain" };
	response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
	if let Some(hash) = reply.output_hash {
		let value = HeaderValue::from_str(&format!("0x{}", hex::encode(hash))).expect("hex is a valid header");
		response.headers_mut().insert("x-opg-output-hash", value);
	}
	if let Some(proof) = reply.proof {
		let value = HeaderValue::from_str(&format!("0x{}", hex::encode(proof))).expect("hex is a valid header");
		response.headers_mut().insert("x-opg-proof", value);
	}
	Ok(response)
}

/// How long shutdown waits for open connections.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the API on `listener` until `shutdown` completes, then waits up to
/// [`SHUTDOWN_GRACE`] for connections in progress to finish.
pub async fn serve(executor: Arc<Executor>, listener: TcpListener, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
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
