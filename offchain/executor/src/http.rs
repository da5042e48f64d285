//! The executor's HTTP API (HTTP/1.1) on two listeners.
//!
//! The **node** listener (`--listen`, loopback by default) answers every route, for the
//! local node: to loopback callers only, or, with a token (`--node-token-file`), to callers
//! that send `authorization: Bearer {token}` (`401` otherwise; a node listener off loopback
//! needs a token). The **public** listener (`--public-listen`, optional) answers health,
//! unsigned inference and artifact reads to anyone, and `403` to every other route
//! ([`Face`], `opg_executor_api::Route::public`).
//!
//! | Method and path                           | Body            | Success                          | Listener |
//! |-------------------------------------------|-----------------|----------------------------------|----------|
//! | `GET /health`                             |                 | `200` JSON: models and devices, node key, deterministic mode | both |
//! | `GET /metrics`                            |                 | `200` Prometheus text            | node |
//! | `POST /v1/infer/{model}`                  | input bytes     | `200` output bytes               | both |
//! | `POST /v1/infer/{model}?input={hash}`     | empty           | `200` output bytes (stored input)| node |
//! | `POST /v1/infer/{model}?genesis={hash}&request={id}` | input bytes | `200` output bytes, signed by the node key | node |
//! | `POST /v1/prove/{model}?genesis={hash}&request={id}&node={key}` | input bytes | `200` output bytes, proof in `x-opg-proof` | node |
//! | `POST /v1/prove/{model}?input={hash}&genesis=…&request=…&node=…` | empty | the same, for a stored input | node |
//! | `POST /v1/fetch?url={url}`                | empty           | `200` JSON provenance statement  | node |
//! | `POST /v1/attestation?genesis={hash}&nonce={hash}` | empty  | `200` JSON `{node, document}`    | node |
//! | `POST /v1/registration?genesis={hash}`    | empty           | `200` JSON `{node, operator, signature}` | node |
//! | `POST /v1/sign-batch?genesis={hash}`      | leaves          | `200`, root and signature in headers | node |
//! | `POST /v1/check/{model}?genesis={hash}&request={id}&output={hash}[&output-len={n}]` | input bytes (or `input=`), then the claimed output's `n` bytes | `200`, verdict in `x-opg-verdict` | node |
//! | `POST /v1/honeypots/{model}`              | input bytes (or `input=`) | `201` JSON plant: the next on-chain answer on that input is wrong, once | node |
//! | `GET /v1/honeypots`                       |                 | `200` JSON: the plants not yet answered | node |
//! | `GET /v1/evidence/{request}?genesis={hash}&output={hash}` |  | `200` JSON: a language model's on-chain answer's evidence | both |
//! | `PUT /v1/artifacts/{hash}`                | artifact bytes  | `201` (bytes must hash to `hash`)| node |
//! | `GET /v1/artifacts/{hash}` (`?request={id}`: a verifier's read) |  | `200` artifact bytes | both |
//!
//! An inference or proof with a `locator` or a `requester` is the node's too. With
//! `requester={account}` (a `Private` request), the input and output are served to that
//! account alone: `GET /v1/artifacts/{hash}` then needs the requester's read permission,
//! `x-opg-account`, `x-opg-not-after` (unix seconds, at most 600 s ahead) and
//! `x-opg-signature`, its sr25519 signature of `opg_settlement::message::artifact_read`
//! (`401` without or with a bad one, `403` for another account). A verification node
//! reads it with the same permission signed by its node key and `request={id}`: served
//! only if the chain (`--chain-rpc`: `VerificationApi::verifier_reads`) seats that key on
//! the case of result `id`, whose stored input this is (or, on a permission over that
//! input, whose claimed output this is); a private answer's evidence
//! (`GET /v1/evidence`) likewise, on a permission over the request's input. A `POST
//! /v1/check` that carries its worker's permission shows it to the peers.
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
//! A later inference for the same request never replaces a recorded leaf.
//! `/v1/attestation` answers the TEE attestation document (0x-hex) that binds the node
//! key to the chain, the registry's challenge nonce and the operator (see
//! [`crate::evidence`]); `/v1/registration` the node key's signature of its registration
//! by that operator (`opg_settlement::message::registration`), which
//! `nodeRegistry.register` checks: in TEE mode the key is generated in the executor and
//! never leaves it.
//!
//! Limits: a body is refused with `413` before it is read when its declared length
//! passes the route's limit (an inline input: the model's input length once the model is
//! known, else [`MAX_INPUT`]; `sign-batch`: [`MAX_BATCH_LEAVES`] leaves; an artifact:
//! [`MAX_BODY`]; nothing elsewhere); a listener holds [`MAX_CONNECTIONS`] connections at
//! most (`--max-connections`) and gives each [`HEADER_TIMEOUT`] to send its headers;
//! proofs and integer inferences beyond their bound (`--max-proving`, `--max-integer`)
//! are answered `503` with `retry-after`.
//!
//! Errors are `text/plain` with the reason: `400` malformed request, `401` no or a wrong
//! token or read permission, `403` a route of the other listener, a caller off loopback,
//! another account's private artifact, or a URL to fetch that names a loopback, private
//! or link-local address, `404` model, input, artifact or proving key missing, `413` body
//! too large, `422` the model or input is invalid (wrong length for the schema), `502` a
//! fetched URL failed, `503` busy (a model's queue is full, or as many proofs or integer
//! inferences as allowed run; retry later, see `retry-after`), `507` the store's quota is
//! full, `500` the store or the model failed.

use crate::{batch::Refused, fetch, ContentHash, ExecError, Executor, InputSource, StoreError};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{
	body::{Bytes, Incoming},
	header::{
		HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
	},
	HeaderMap, Method, Request, Response, StatusCode,
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
	pub(crate) fn ok(status: StatusCode, body: Vec<u8>) -> Self {
		Self { status, body, output_hash: None, proof: None, headers: Vec::new(), json: false }
	}

	pub(crate) fn json(body: String) -> Self {
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
		ExecError::Store(StoreError::Full { .. }) => StatusCode::INSUFFICIENT_STORAGE,
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

fn store_error(error: StoreError) -> Reply {
	exec_error(ExecError::Store(error))
}

/// `503` with `retry-after`: a bounded resource is in use.
fn busy(reason: &str) -> Reply {
	let mut reply = Reply::error(StatusCode::SERVICE_UNAVAILABLE, reason);
	reply.headers.push(("retry-after", "1".into()));
	reply
}

/// `GET /v1/artifacts/{hash}`: anyone's, or for a private request's artifact, its
/// requester's alone, on a read permission it signed (`opg_settlement::message::
/// artifact_read`) in [`header::ACCOUNT`], [`header::NOT_AFTER`] and
/// [`header::SIGNATURE`]; or, with `request={id}`, a verification node's whose node key
/// signed the permission and which the chain shows seated on the case that checks held
/// result `id`, whose stored input this is, or whose claimed output this is on a
/// permission signed over that input ([`verifier_may_read`]).
async fn read_artifact(
	executor: &Executor,
	hash: &ContentHash,
	query: Option<&str>,
	headers: &HeaderMap,
) -> Result<Reply, Reply> {
	if let Some(readers) = executor.store().readers(hash).map_err(store_error)? {
		let request = match query_value(query, query::REQUEST) {
			Some(id) => Some(id.parse::<u64>().map_err(|_| {
				Reply::error(StatusCode::BAD_REQUEST, "the request id is not a number")
			})?),
			None => None,
		};
		let permission = ReadPermission::parse(headers, request)?.ok_or_else(|| {
			Reply::error(
				StatusCode::UNAUTHORIZED,
				"a private request's artifact: send the requester's read permission \
				 (x-opg-account, x-opg-not-after, x-opg-signature over opg/artifact-read/v1), \
				 or a seated verifier's with request=",
			)
		})?;
		// Signed over this artifact; or, a verifier's, over the input of the request whose
		// claimed output this is (a check fetches both with one permission).
		let signed = permission.verifies(hash);
		let allowed = (signed && readers.contains(&permission.account))
			|| verifier_may_read(executor, &permission, |reads| match reads.input {
				Some(input) if input == *hash => signed,
				Some(input) => reads.output == *hash && (signed || permission.verifies(&input)),
				None => false,
			})
			.await?;
		if !allowed && !signed {
			return Err(Reply::error(
				StatusCode::UNAUTHORIZED,
				"the read permission's signature does not verify",
			));
		}
		if !allowed {
			return Err(Reply::error(
				StatusCode::FORBIDDEN,
				"a private request's artifact: only its requester, or a verifier the chain \
				 seats on the case of the request named, may read it",
			));
		}
	}
	match executor.store().get(hash) {
		Ok(Some(bytes)) => Ok(Reply::ok(StatusCode::OK, bytes)),
		Ok(None) => Err(Reply::error(StatusCode::NOT_FOUND, "no such artifact")),
		Err(e) => Err(store_error(e)),
	}
}

/// Whether the chain (this executor's `--chain-rpc`) shows `permission`'s account, a node
/// key, seated in the current round of the case that checks the held result the
/// permission names, and what it may read of it passes `wanted`. `false` without a
/// request named or a chain to ask; `502` if the chain cannot be asked.
async fn verifier_may_read(
	executor: &Executor,
	permission: &ReadPermission,
	wanted: impl Fn(&opg_primitives::VerifierReads) -> bool,
) -> Result<bool, Reply> {
	let (Some(request), Some(rpc)) = (permission.request, executor.chain_rpc()) else {
		return Ok(false);
	};
	match crate::chain::verifier_reads(rpc, &permission.account, request).await {
		Ok(reads) => Ok(reads.is_some_and(|reads| wanted(&reads))),
		Err(reason) => Err(Reply::error(
			StatusCode::BAD_GATEWAY,
			format!("cannot ask the chain who checks request {request}: {reason}"),
		)),
	}
}

/// A read permission for a private artifact, as a request's headers carry it: `account`'s
/// (a requester's account, or a verification node's node key) sr25519 signature of
/// `opg_settlement::message::artifact_read(hash, not_after)`
/// ([`opg_executor_api::read_permission`]), and the held result a verifier shows it for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadPermission {
	/// The signer: a requester's account or a verifier's node key.
	pub account: [u8; 32],
	/// The unix second after which it is void.
	pub not_after: u64,
	/// The signature of `artifact_read(hash, not_after)`.
	pub signature: [u8; 64],
	/// The held result a verifier reads for (its case seats the verifier).
	pub request: Option<u64>,
}

impl ReadPermission {
	/// The permission `headers` carry, for `request`: its form and time checked (`400`
	/// malformed or too long, `401` expired), not yet its signature; `None` without one.
	pub fn parse(headers: &HeaderMap, request: Option<u64>) -> Result<Option<Self>, Reply> {
		let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
		let (Some(account), Some(not_after), Some(signature)) =
			(text(header::ACCOUNT), text(header::NOT_AFTER), text(header::SIGNATURE))
		else {
			return Ok(None);
		};
		let account = parse_hash(account).ok_or_else(|| {
			Reply::error(StatusCode::BAD_REQUEST, "x-opg-account is not 32 bytes")
		})?;
		let not_after: u64 = not_after.parse().map_err(|_| {
			Reply::error(StatusCode::BAD_REQUEST, "x-opg-not-after is not a unix second")
		})?;
		let signature = opg_executor_api::parse_hex(signature)
			.and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
			.ok_or_else(|| {
				Reply::error(StatusCode::BAD_REQUEST, "x-opg-signature is not 64 bytes")
			})?;
		let now = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map_or(0, |since| since.as_secs());
		if not_after < now {
			return Err(Reply::error(StatusCode::UNAUTHORIZED, "the read permission has expired"));
		}
		if not_after > now + opg_executor_api::MAX_READ_VALIDITY_S {
			return Err(Reply::error(
				StatusCode::BAD_REQUEST,
				format!(
					"a read permission may last {} s at most",
					opg_executor_api::MAX_READ_VALIDITY_S
				),
			));
		}
		Ok(Some(Self { account, not_after, signature, request }))
	}

	/// Whether the signature is the account's over `artifact_read(hash, not_after)`.
	pub fn verifies(&self, hash: &ContentHash) -> bool {
		let message = opg_settlement::message::artifact_read(hash, self.not_after);
		crate::signing::verify(&self.account, &message, &self.signature)
	}

	/// The headers that show it to a peer.
	pub fn headers(&self) -> Vec<(&'static str, String)> {
		opg_executor_api::read_permission(&self.account, self.not_after, &self.signature).to_vec()
	}
}

/// The requester a private request names (`?requester=0x..`), if any.
fn requester(query: Option<&str>) -> Result<Option<[u8; 32]>, Reply> {
	match query_value(query, query::REQUESTER) {
		None => Ok(None),
		Some(text) => parse_hash(text).map(Some).ok_or_else(|| {
			Reply::error(StatusCode::BAD_REQUEST, "the requester is not a 32-byte account")
		}),
	}
}

/// Runs CPU-bound work off the reactor threads.
async fn blocking<T: Send + 'static>(
	work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Reply> {
	tokio::task::spawn_blocking(work)
		.await
		.map_err(|e| Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e))
}

/// Answers one request: `path` without the query, `query` the part after `?` (as the
/// node listener does, for a caller it let in, without request headers).
pub async fn route(
	executor: &Arc<Executor>,
	method: &Method,
	path: &str,
	query: Option<&str>,
	body: Bytes,
) -> Reply {
	route_with(executor, method, path, query, &HeaderMap::new(), body).await
}

/// [`route`] with the request's headers (a private artifact's read permission).
pub async fn route_with(
	executor: &Arc<Executor>,
	method: &Method,
	path: &str,
	query: Option<&str>,
	headers: &HeaderMap,
	body: Bytes,
) -> Reply {
	let answer = match (method, Route::parse(path)) {
		(&Method::GET, Some(Route::Health)) => Ok(Reply::json(health(executor))),
		(&Method::GET, Some(Route::Metrics)) => {
			Ok(Reply::ok(StatusCode::OK, executor.metrics().render().into_bytes()))
		},
		(&Method::POST, Some(Route::Infer(model))) => infer(executor, model, query, body).await,
		(&Method::POST, Some(Route::InferMany(model))) => {
			infer_many(executor, model, query, body).await
		},
		(&Method::POST, Some(Route::Prove(model))) => prove(executor, model, query, body).await,
		(&Method::POST, Some(Route::Fetch)) => fetch_url(executor, query).await,
		(&Method::POST, Some(Route::Attestation)) => attestation(executor, query).await,
		(&Method::POST, Some(Route::Registration)) => registration(executor, query),
		(&Method::POST, Some(Route::Heartbeat)) => heartbeat(executor, query),
		(&Method::POST, Some(Route::ChannelSettlements)) => {
			channel_settlements(executor, query).await
		},
		(&Method::GET, Some(Route::Served(digest))) => served(executor, digest),
		(&Method::GET, Some(Route::Models)) => Ok(crate::openai::models(executor)),
		(&Method::POST, Some(Route::ChatCompletions)) => Ok(crate::openai::collect(
			crate::openai::complete(executor, crate::openai::Kind::Chat, path, &body).await,
		)
		.await),
		(&Method::POST, Some(Route::Completions)) => Ok(crate::openai::collect(
			crate::openai::complete(executor, crate::openai::Kind::Completion, path, &body).await,
		)
		.await),
		(&Method::POST, Some(Route::ActivationsCheck)) => {
			Ok(crate::openai::check_activations(executor, &body).await)
		},
		(&Method::POST, Some(Route::Check(model))) => {
			check(executor, model, query, headers, body).await
		},
		(&Method::GET, Some(Route::Evidence(request))) => {
			evidence(executor, request, query, headers).await
		},
		(&Method::POST, Some(Route::SignBatch)) => sign_batch(executor, query, &body),
		(&Method::POST, Some(Route::Honeypot(model))) => plant(executor, model, query, &body),
		(&Method::GET, Some(Route::Honeypots)) => {
			let plants: Vec<_> = executor.plants().list().iter().map(plant_json).collect();
			Ok(Reply::json(serde_json::json!({ "plants": plants }).to_string()))
		},
		(&Method::PUT, Some(Route::Artifact(hash))) => {
			let hash = parse_hash(hash).ok_or_else(|| {
				Reply::error(StatusCode::BAD_REQUEST, "the artifact name is not a SHA-256 hash")
			});
			hash.and_then(|hash| {
				match executor.store().put_expecting(&hash, &body, crate::Kind::Pinned) {
					Ok(()) => Ok(Reply::ok(StatusCode::CREATED, Vec::new())),
					Err(e @ StoreError::HashMismatch { .. }) => {
						Err(Reply::error(StatusCode::UNPROCESSABLE_ENTITY, e))
					},
					Err(e) => Err(store_error(e)),
				}
			})
		},
		(&Method::GET, Some(Route::Artifact(hash))) => {
			let hash = parse_hash(hash).ok_or_else(|| {
				Reply::error(StatusCode::BAD_REQUEST, "the artifact name is not a SHA-256 hash")
			});
			match hash {
				Ok(hash) => read_artifact(executor, &hash, query, headers).await,
				Err(reply) => Err(reply),
			}
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
		"operator": executor.operator().map(|operator| format!("0x{}", hex::encode(operator))),
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
	let reader = requester(query)?;
	let found = input_bytes(executor, stored, query, &body, reader, None).await;
	let (input, input_hash) = match (found, &signing, stored) {
		(Ok(found), _, _) => found,
		(Err(mut reply), Some(signing), Some(hash)) => {
			decline_unavailable(executor, &mut reply, &signing.genesis, signing.request, &hash);
			return Err(reply);
		},
		(Err(reply), _, _) => return Err(reply),
	};
	let chain = signing.as_ref().map(|signing| (signing.genesis, signing.request));
	let mut reply = run_model(executor, &model, input, &input_hash, chain, reader).await?;
	if executor.llm_of(&model).is_none() {
		cheat(&mut reply);
	}
	if let Some(opg_executor_api::Signing { genesis, request }) = signing {
		answer_planted(executor, &model, &input_hash, request, &mut reply);
		sign(executor, &mut reply, &genesis, request, &model, &input_hash);
	}
	Ok(reply)
}

/// An on-chain answer to a planted input ([`crate::honeypots`]): its output corrupted,
/// once, before it is signed. A language model's answer is changed where it is made, with
/// its evidence ([`infer_llm`]).
fn answer_planted(
	executor: &Executor,
	model: &ContentHash,
	input_hash: &ContentHash,
	request: u64,
	reply: &mut Reply,
) {
	if reply.status == StatusCode::OK
		&& reply.output_hash.is_some()
		&& executor.llm_of(model).is_none()
		&& executor.plants().take(model, input_hash)
	{
		crate::honeypots::corrupt(&mut reply.body);
		reply.output_hash = Some(crate::sha256(&reply.body));
		tracing::info!(request, input = %hex::encode(input_hash), "answered a planted honeypot wrongly");
	}
}

/// `POST /v1/honeypots/0x{model}` with the input's bytes, or `?input=0x{hash}` of a stored
/// input: plants a honeypot, a one-shot wrong answer to the next on-chain request for
/// `model` on that input ([`crate::honeypots`]); `201` with the plant as JSON, `503` when
/// [`crate::honeypots::MAX_PLANTS`] wait already.
fn plant(
	executor: &Executor,
	model: &str,
	query: Option<&str>,
	body: &Bytes,
) -> Result<Reply, Reply> {
	let model = model_hash(model)?;
	let input = match stored_input(query, body)? {
		Some(hash) => hash,
		None if body.is_empty() => {
			return Err(Reply::error(
				StatusCode::BAD_REQUEST,
				"expected the input's bytes, or input=0x.. (a stored input's SHA-256)",
			))
		},
		None => crate::sha256(body),
	};
	match executor.plants().plant(model, input) {
		Ok(true) => {},
		Ok(false) => return Err(busy("as many honeypots as allowed wait to be answered")),
		Err(e) => {
			return Err(Reply::error(
				StatusCode::INTERNAL_SERVER_ERROR,
				format!("cannot keep the honeypot in the store folder: {e}"),
			))
		},
	}
	tracing::info!(model = %hex::encode(model), input = %hex::encode(input), "honeypot planted");
	let mut reply = Reply::json(plant_json(&(model, input)).to_string());
	reply.status = StatusCode::CREATED;
	Ok(reply)
}

/// A plant as JSON: `{"model": "0x..", "input": "0x.."}`.
fn plant_json((model, input): &crate::honeypots::Plant) -> serde_json::Value {
	serde_json::json!({
		"model": format!("0x{}", hex::encode(model)),
		"input": format!("0x{}", hex::encode(input)),
	})
}

/// Runs `model` (a language, TorchScript or quantized-integer model) on `input`, for
/// on-chain request `chain` when given, keeping the output readable by `reader` alone when
/// given: the unsigned answer.
async fn run_model(
	executor: &Arc<Executor>,
	model: &ContentHash,
	input: Vec<u8>,
	input_hash: &ContentHash,
	chain: Option<([u8; 32], u64)>,
	reader: Option<[u8; 32]>,
) -> Result<Reply, Reply> {
	let model = *model;
	Ok(match (executor.llm_of(&model), executor.torch(&model)) {
		(Some(llm), _) => infer_llm(executor, &llm, &input, input_hash, chain, reader).await?,
		(None, Some(serving)) => infer_torch(executor, &model, serving, input, reader).await?,
		(None, None) => {
			if !executor.fetch_missing(&model).await.map_err(exec_error)? {
				return Err(exec_error(ExecError::ModelNotFound(model)));
			}
			let permit = executor
				.integer_permit()
				.ok_or_else(|| busy("busy: as many integer inferences as allowed run, retry"))?;
			let executor = executor.clone();
			let output = blocking(move || {
				let _running = permit;
				executor.infer_for(&model, InputSource::Inline(&input), reader.as_ref())
			})
			.await?;
			Reply::output(output.map_err(exec_error)?)
		},
	})
}

/// `POST /v1/check/0x{model}?genesis=0x..&request=N&output=0x..` (with `input=` and
/// `locator=` for a stored input): a verification node's check of held result `request`,
/// whose node claimed an output hashing to `output`. The model runs on the input; the
/// verdict, in `x-opg-verdict` (`valid` or `invalid`, the reason in the body), is by the
/// model's kind: a language model's answer by its evidence
/// ([`crate::openai::check_on_chain`]: `x-opg-missing: evidence` when no store or peer
/// had it), a TorchScript model with a published tolerance by its output within it of
/// this executor's ([`judge_within`]: the claimed output's bytes end the body when the
/// caller has them, `output-len=N`, else come from this store or the peers), any other
/// model's by the output's bytes (quantized models are bit-exact; TorchScript models run
/// in deterministic mode, where reruns on the same build and kind of CPU give the same
/// bits).
/// A stored input no store, peer or locator has is answered `404` with
/// `x-opg-missing: input`, as an inference is.
/// With `input-form=call`, the stored input is a challenged direct call's digest preimage
/// (`opg_settlement::channel::call_preimage`, which the serving node keeps and shows this
/// verifier): the model runs on the call's body, and a preimage that is no call to
/// `/v1/infer/{model}` is an invalid claim.
async fn check(
	executor: &Arc<Executor>,
	model: &str,
	query: Option<&str>,
	headers: &HeaderMap,
	body: Bytes,
) -> Result<Reply, Reply> {
	let model = model_hash(model)?;
	let bad = |reason: &str| Reply::error(StatusCode::BAD_REQUEST, reason.to_owned());
	let signing = opg_executor_api::Signing::parse(query)
		.ok_or_else(|| bad("expected ?genesis=0x..&request=N"))?;
	let claimed = query_value(query, query::OUTPUT)
		.and_then(parse_hash)
		.ok_or_else(|| bad("expected output=0x.. (the claimed output's SHA-256)"))?;
	// The claimed output's bytes may end the body (`output-len`).
	let output_len = match query_value(query, query::OUTPUT_LEN) {
		Some(len) => Some(len.parse::<usize>().map_err(|_| bad("output-len is not a length"))?),
		None => None,
	};
	let (input_len, claimed_bytes) = match opg_executor_api::split_check_body(&body, output_len) {
		Some((input, output)) => (input.len(), output.map(|_| body.slice(input.len()..))),
		None => return Err(bad("output-len is longer than the body")),
	};
	if claimed_bytes.as_ref().is_some_and(|bytes| crate::sha256(bytes) != claimed) {
		return Err(bad("the claimed output's bytes do not hash to output="));
	}
	let body = body.slice(..input_len);
	let stored = stored_input(query, &body)?;
	// The verifier's read permission (its worker's), shown to the peers for a private
	// request's input and evidence; what it reads is kept readable by it alone here.
	let permission = ReadPermission::parse(headers, Some(signing.request))?;
	let reader = permission.as_ref().map(|permission| permission.account);
	let (input, input_hash) =
		input_bytes(executor, stored, query, &body, reader, permission.as_ref()).await?;
	let as_call = query_value(query, query::INPUT_FORM) == Some(query::INPUT_FORM_CALL);
	if as_call && stored.is_none() {
		return Err(bad("input-form=call names a stored input: expected input=0x.. too"));
	}
	let (input, input_hash) = match as_call {
		true => match direct_call_input(&model, &input) {
			Ok(body) => {
				let hash = crate::sha256(&body);
				(body, hash)
			},
			Err(reason) => return Ok(verdict(false, &reason, false)),
		},
		false => (input, input_hash),
	};
	let chain = (signing.genesis, signing.request);
	let judged = match executor.llm_of(&model) {
		Some(_) if as_call => {
			return Err(Reply::error(
				StatusCode::UNPROCESSABLE_ENTITY,
				"a language model's direct call is checked by its activation evidence, not here",
			))
		},
		Some(llm) => {
			crate::openai::check_on_chain(
				executor,
				&llm,
				&input,
				chain,
				&claimed,
				permission.as_ref(),
			)
			.await?
		},
		None => match run_model(executor, &model, input, &input_hash, None, reader).await {
			Ok(reply) => {
				let output = crate::sha256(&reply.body);
				let tolerance = executor
					.torch(&model)
					.and_then(|served| Some((served.tolerance?, served.schema.clone())));
				match (output == claimed, tolerance) {
					(true, _) => crate::openai::Judged {
						valid: true,
						reason: "the output is the one claimed".into(),
						evidence_missing: false,
					},
					(false, Some((tolerance, schema))) => {
						let claimed_bytes = match claimed_bytes {
							Some(bytes) => Some(bytes.to_vec()),
							None => claimed_output(executor, &claimed, permission.as_ref()).await?,
						};
						judge_within(&tolerance, &schema, claimed_bytes.as_deref(), &reply.body)
					},
					(false, None) => crate::openai::Judged {
						valid: false,
						reason: format!("the output hashes to 0x{}", hex::encode(output)),
						evidence_missing: false,
					},
				}
			},
			// An input the model takes no output for (its length is not the schema's):
			// whatever the node claimed is not the model's.
			Err(reply) if reply.status == StatusCode::UNPROCESSABLE_ENTITY => {
				crate::openai::Judged {
					valid: false,
					reason: format!(
						"the model takes no such input: {}",
						String::from_utf8_lossy(&reply.body)
					),
					evidence_missing: false,
				}
			},
			Err(reply) => return Err(reply),
		},
	};
	tracing::info!(request = signing.request, valid = judged.valid, reason = %judged.reason, "checked");
	Ok(verdict(judged.valid, &judged.reason, judged.evidence_missing))
}

/// A check's answer: the verdict in `x-opg-verdict`, the reason in the body.
fn verdict(valid: bool, reason: &str, evidence_missing: bool) -> Reply {
	let mut reply = Reply::ok(StatusCode::OK, reason.as_bytes().to_vec());
	reply.headers.push((
		header::VERDICT,
		match valid {
			true => header::VERDICT_VALID,
			false => header::VERDICT_INVALID,
		}
		.into(),
	));
	if evidence_missing {
		reply.headers.push((header::MISSING, header::MISSING_EVIDENCE.into()));
	}
	reply
}

/// The input of a direct call to `model` from the call's digest preimage
/// (`opg_settlement::channel::call_preimage`): its body, if its path is
/// `/v1/infer/{model}`. Otherwise why the node's claim is wrong: the preimage of the digest
/// it settled is no call of this model.
fn direct_call_input(model: &ContentHash, preimage: &[u8]) -> Result<Vec<u8>, String> {
	let (path, body) = opg_settlement::channel::split_call_preimage(preimage)
		.ok_or("the call's stored request is not a call (path length, path, body)")?;
	let called = path
		.strip_prefix(opg_executor_api::path::INFER)
		.and_then(|rest| rest.strip_prefix('/'))
		.and_then(parse_hash);
	if called != Some(*model) {
		return Err(format!("the call was to {path}, not to model 0x{}", hex::encode(model)));
	}
	Ok(body.to_vec())
}

/// The verdict on a float model's `claimed` output, whose bytes differ from this
/// executor's `mine`: valid if within the model's published `tolerance` element by element
/// ([`opg_primitives::Tolerance::check`]); invalid if beyond it, or if no one has the
/// claimed output's bytes (`None`: withholding them is a failed check).
fn judge_within(
	tolerance: &opg_primitives::Tolerance,
	schema: &opg_primitives::Schema,
	claimed: Option<&[u8]>,
	mine: &[u8],
) -> crate::openai::Judged {
	let judged = |valid, reason| crate::openai::Judged { valid, reason, evidence_missing: false };
	let Some(claimed) = claimed else {
		return judged(
			false,
			"the output differs from the one claimed, whose bytes no store or peer has".into(),
		);
	};
	match tolerance.check(schema, claimed, mine) {
		Ok(()) => judged(
			true,
			format!(
				"the output is within the model's tolerance (absolute {}, relative {}) of the \
				 one claimed",
				tolerance.absolute(),
				tolerance.relative()
			),
		),
		Err(mismatch) => judged(false, mismatch.to_string()),
	}
}

/// The bytes of claimed output `hash` that the check's body did not bring (an output
/// settled by its hash): from this store, else from the peers (the serving node's among
/// them), showing them the verifier's `permission` (a private request's output is served
/// to its case's verifiers). Not stored here: a private output stays its readers'.
async fn claimed_output(
	executor: &Executor,
	hash: &ContentHash,
	permission: Option<&ReadPermission>,
) -> Result<Option<Vec<u8>>, Reply> {
	if let Some(bytes) = executor.store().get(hash).map_err(store_error)? {
		return Ok(Some(bytes));
	}
	match executor.fetch_from_peers(hash, permission).await {
		Ok(bytes) => Ok(bytes),
		// A peer that sent wrong bytes is as good as none.
		Err(error) => {
			tracing::warn!(output = %hex::encode(hash), %error, "no peer gave the claimed output");
			Ok(None)
		},
	}
}

/// `GET /v1/evidence/{request}?genesis=0x..&output=0x..`: the evidence this executor kept
/// of its answer to an on-chain request for a language model
/// ([`crate::openai::on_chain_evidence`]), JSON; `404` if it kept none. A private
/// request's evidence only on the read permission of a verifier the chain seats on the
/// request's case, signed over the request's stored input (`401` without, `403` for any
/// other).
async fn evidence(
	executor: &Executor,
	request: &str,
	query: Option<&str>,
	headers: &HeaderMap,
) -> Result<Reply, Reply> {
	let bad = |reason: &str| Reply::error(StatusCode::BAD_REQUEST, reason.to_owned());
	let request: u64 = request.parse().map_err(|_| bad("the request id is not a number"))?;
	let genesis = query_value(query, query::GENESIS)
		.and_then(parse_hash)
		.ok_or_else(|| bad("expected ?genesis=0x..&output=0x.."))?;
	let output = query_value(query, query::OUTPUT)
		.and_then(parse_hash)
		.ok_or_else(|| bad("expected ?genesis=0x..&output=0x.."))?;
	let (bytes, private) = executor
		.store()
		.evidence(&genesis, request, &output)
		.map_err(store_error)?
		.ok_or_else(|| {
			Reply::error(StatusCode::NOT_FOUND, "no evidence of that answer is kept here")
		})?;
	if private {
		let permission = ReadPermission::parse(headers, Some(request))?.ok_or_else(|| {
			Reply::error(
				StatusCode::UNAUTHORIZED,
				"a private request's evidence: send the read permission of a verifier seated \
				 on its case (x-opg-account, x-opg-not-after, x-opg-signature over \
				 opg/artifact-read/v1 of the request's input)",
			)
		})?;
		let seated = executor.genesis() == Some(genesis)
			&& verifier_may_read(executor, &permission, |reads| {
				reads.output == output
					&& reads.input.is_some_and(|input| permission.verifies(&input))
			})
			.await?;
		if !seated {
			return Err(Reply::error(
				StatusCode::FORBIDDEN,
				"a private request's evidence: only a verifier the chain seats on its case, \
				 with its permission over the request's input, may read it",
			));
		}
	}
	Ok(Reply::json(String::from_utf8_lossy(&bytes).into_owned()))
}

/// In a test build told to cheat ([`crate::cheats`]): a successful tensor output changed
/// before it is signed, as a dishonest node's would be (or, rounded, as an honest node on
/// another kind of CPU might answer). A language model's answer is changed where it is
/// made, with its evidence ([`infer_llm`]).
fn cheat(reply: &mut Reply) {
	let Some(cheat) = crate::cheats::output_cheat() else { return };
	if reply.status == StatusCode::OK && reply.output_hash.is_some() && !reply.body.is_empty() {
		crate::cheats::apply(cheat, &mut reply.body);
		reply.output_hash = Some(crate::sha256(&reply.body));
	}
}

/// `POST /v1/infer-many/0x{model}[?genesis=0x..]` with many inline inputs
/// ([`opg_executor_api::encode_jobs`]): each job answered as `POST /v1/infer` would answer
/// it alone ([`opg_executor_api::encode_answers`]), signed for chain `genesis` when given.
/// A TorchScript model's jobs go to its batcher together (they run in libtorch batches);
/// a quantized-integer model's run one after another on one integer-inference place.
async fn infer_many(
	executor: &Arc<Executor>,
	model: &str,
	query: Option<&str>,
	body: Bytes,
) -> Result<Reply, Reply> {
	let model = model_hash(model)?;
	let genesis = match query_value(query, query::GENESIS) {
		None => None,
		Some(text) => Some(parse_hash(text).ok_or_else(|| {
			Reply::error(StatusCode::BAD_REQUEST, "the genesis is not a 32-byte hash")
		})?),
	};
	let jobs = opg_executor_api::decode_jobs(&body).ok_or_else(|| {
		Reply::error(
			StatusCode::BAD_REQUEST,
			"the body is jobs: request id (u64 LE), input length (u32 LE), input",
		)
	})?;
	if jobs.len() > opg_executor_api::MAX_JOBS_PER_CALL {
		return Err(Reply::error(
			StatusCode::PAYLOAD_TOO_LARGE,
			format!("{} jobs per call at most", opg_executor_api::MAX_JOBS_PER_CALL),
		));
	}
	let requests: Vec<(u64, ContentHash)> =
		jobs.iter().map(|(request, input)| (*request, crate::sha256(input))).collect();
	let mut replies: Vec<Reply> = Vec::with_capacity(jobs.len());
	match (executor.llm_of(&model), executor.torch(&model)) {
		(Some(llm), _) => {
			// Each job its own sequence: the engine decodes them together.
			let running: Vec<_> = jobs
				.iter()
				.map(|(request, input)| {
					let (executor, llm, input) = (executor.clone(), llm.clone(), input.to_vec());
					let chain = genesis.map(|genesis| (genesis, *request));
					let input_hash = crate::sha256(&input);
					tokio::spawn(async move {
						infer_llm(&executor, &llm, &input, &input_hash, chain, None).await
					})
				})
				.collect();
			for job in running {
				let reply =
					job.await.map_err(|e| Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e));
				replies.push(reply.and_then(|reply| reply).unwrap_or_else(|reply| reply));
			}
		},
		(None, Some(_)) => {
			let running: Vec<_> = jobs
				.iter()
				.map(|(_, input)| {
					let (executor, input) = (executor.clone(), input.to_vec());
					tokio::spawn(async move {
						match executor.torch(&model) {
							Some(serving) => {
								infer_torch(&executor, &model, serving, input, None).await
							},
							None => Err(exec_error(ExecError::ModelNotFound(model))),
						}
					})
				})
				.collect();
			for job in running {
				let reply =
					job.await.map_err(|e| Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e));
				replies.push(reply.and_then(|reply| reply).unwrap_or_else(|reply| reply));
			}
			replies.iter_mut().for_each(cheat);
		},
		(None, None) => {
			if !executor.fetch_missing(&model).await.map_err(exec_error)? {
				return Err(exec_error(ExecError::ModelNotFound(model)));
			}
			let permit = executor
				.integer_permit()
				.ok_or_else(|| busy("busy: as many integer inferences as allowed run, retry"))?;
			let inputs: Vec<Vec<u8>> = jobs.iter().map(|(_, input)| input.to_vec()).collect();
			let known = executor.clone();
			let outputs = blocking(move || {
				let _running = permit;
				inputs
					.iter()
					.map(|input| known.infer_for(&model, InputSource::Inline(input), None))
					.collect::<Vec<_>>()
			})
			.await?;
			replies.extend(outputs.into_iter().map(|output| match output {
				Ok(output) => Reply::output(output),
				Err(error) => exec_error(error),
			}));
			replies.iter_mut().for_each(cheat);
		},
	}
	let answers: Vec<opg_executor_api::JobAnswer> = replies
		.into_iter()
		.zip(&requests)
		.map(|(mut reply, (request, input))| {
			if let Some(genesis) = &genesis {
				answer_planted(executor, &model, input, *request, &mut reply);
				sign(executor, &mut reply, genesis, *request, &model, input);
			}
			let signature = reply
				.header(header::SIGNATURE)
				.and_then(opg_executor_api::parse_hex)
				.and_then(|bytes| <[u8; 64]>::try_from(bytes).ok());
			opg_executor_api::JobAnswer {
				status: reply.status.as_u16(),
				signature,
				body: reply.body,
			}
		})
		.collect();
	let mut reply = Reply::ok(StatusCode::OK, opg_executor_api::encode_answers(&answers));
	if let (Some(_), Some(key)) = (genesis, executor.node_key()) {
		reply.headers.push((header::NODE, format!("0x{}", hex::encode(key.public()))));
	}
	Ok(reply)
}

/// A direct call on the public listener (`POST /v1/infer/0x{model}`) through the gateway:
/// a model it offers, paid by a voucher unless its price is zero; the answer carries the
/// node key's evidence (`opg_settlement::message::direct_answer`) and, when paid,
/// `PAYMENT-RESPONSE`. See [`crate::payment`].
pub(crate) async fn paid_infer(
	executor: &Arc<Executor>,
	model_text: &str,
	path: &str,
	headers: &HeaderMap,
	body: Bytes,
) -> Reply {
	use opg_executor_api::payment;
	let (Some(gateway), Some(key)) = (executor.gateway(), executor.node_key()) else {
		return Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "the gateway needs the node key");
	};
	let model = match model_hash(model_text) {
		Ok(model) => model,
		Err(reply) => return reply,
	};
	if executor.llm_of(&model).is_some() {
		// Priced by the token there; here a call would be priced as one.
		return Reply::error(
			StatusCode::BAD_REQUEST,
			"a language model is called at /v1/chat/completions or /v1/completions",
		);
	}
	let Some(price) = gateway.price(&model) else {
		return Reply::error(
			StatusCode::NOT_FOUND,
			format!("model 0x{} is not offered for direct calls here", hex::encode(model)),
		);
	};
	let digest = opg_settlement::channel::call_digest(path, &body);
	let accepted = match price.amount {
		0 => None,
		amount => {
			let header = headers.get(payment::SIGNATURE).and_then(|value| value.to_str().ok());
			match gateway.accept(header, &digest, amount, &key.public()).await {
				Ok(accepted) => Some(accepted),
				Err((refusal, reason)) => {
					return payment_required(
						executor,
						gateway,
						&model,
						price,
						price.amount,
						false,
						path,
						refusal,
						&reason,
					)
				},
			}
		},
	};
	// A paid call's answer is kept private to the node key, as its request is (see
	// [`keep_for_checks`]); the client has it in the response.
	let private = accepted
		.as_ref()
		.map(|_| format!("{}=0x{}", opg_executor_api::query::REQUESTER, hex::encode(key.public())));
	let mut reply = match infer(executor, model_text, private.as_deref(), body.clone()).await {
		Ok(reply) => reply,
		Err(reply) => {
			if let Some(accepted) = &accepted {
				gateway.give_back(accepted);
			}
			return reply;
		},
	};
	let response_digest = crate::sha256(&reply.body);
	let cumulative = accepted.as_ref().map_or(0, |accepted| accepted.cumulative);
	let evidence = opg_settlement::message::direct_answer(
		gateway.genesis(),
		&model,
		&digest,
		&response_digest,
		cumulative,
	);
	reply.headers.push((header::NODE, format!("0x{}", hex::encode(key.public()))));
	reply
		.headers
		.push((header::SIGNATURE, format!("0x{}", hex::encode(key.sign(&evidence)))));
	let Some(accepted) = accepted else { return reply };
	let call = opg_settlement::channel::ServedCall {
		call_digest: digest,
		response_digest,
		model_hash: model,
		mode: price.mode,
		amount: accepted.charged,
	};
	// A call the node cannot show its verifiers is not served: withholding it from a
	// challenge's verifiers fails the check.
	if let Err(error) = keep_for_checks(executor, &key.public(), path, &body, &reply.body) {
		gateway.give_back(&accepted);
		return store_error(error);
	}
	if let Err(error) = gateway.record(&accepted, &call) {
		gateway.give_back(&accepted);
		return Reply::error(
			StatusCode::INTERNAL_SERVER_ERROR,
			format!("the call's receipt could not be kept: {error}"),
		);
	}
	let response = crate::payment::response(gateway, &accepted);
	reply.headers.push((payment::RESPONSE, crate::payment::header_value(&response)));
	reply
}

/// Keeps a paid direct call's request (its digest's preimage,
/// `opg_settlement::channel::call_preimage`) and its answer in the store, cached (kept the
/// store's retention period, a day by default: longer than any challenge window), private
/// to `node` (the node key): the verifiers the chain seats on a challenge of the call read
/// them on their read permission (`GET /v1/artifacts/{digest}?request={id}`); no one else
/// does. An answer already public stays public.
fn keep_for_checks(
	executor: &Executor,
	node: &[u8; 32],
	path: &str,
	body: &[u8],
	answer: &[u8],
) -> Result<(), StoreError> {
	let preimage = opg_settlement::channel::call_preimage(path, body);
	let store = executor.store();
	store.restrict(&crate::sha256(&preimage), node)?;
	store.put_cached(&preimage)?;
	executor.restrict_unless_public(&crate::sha256(answer), node)?;
	store.put_cached(answer)?;
	Ok(())
}

/// `402` with `PAYMENT-REQUIRED`: what a call of `model` costs (`amount`, the least a
/// voucher authorizes above the channel's charged total: the price, or for a model priced
/// `per_token` the price of the prompt's tokens and one more), how to pay it, and why this
/// call was refused.
#[allow(clippy::too_many_arguments)]
pub(crate) fn payment_required(
	executor: &Executor,
	gateway: &crate::payment::Gateway,
	model: &ContentHash,
	price: crate::payment::Price,
	amount: u128,
	per_token: bool,
	path: &str,
	refusal: opg_executor_api::payment::Refusal,
	reason: &str,
) -> Reply {
	use opg_executor_api::payment;
	let node = executor.node_key().map(|key| format!("0x{}", hex::encode(key.public())));
	let operator = executor.operator().map(|operator| format!("0x{}", hex::encode(operator)));
	let required = serde_json::json!({
		"x402Version": payment::X402_VERSION,
		"error": refusal.code(),
		"resource": {"url": path, "description": format!("model {}", price.model)},
		"accepts": [{
			"scheme": payment::SCHEME,
			"network": format!("0x{}", hex::encode(gateway.genesis())),
			"amount": amount.to_string(),
			"asset": "OPG",
			"payTo": node,
			"maxTimeoutSeconds": 60,
			"extra": {
				"node": node,
				"operator": operator,
				"model": price.model,
				"modelHash": format!("0x{}", hex::encode(model)),
				"minIncrement": amount.to_string(),
				"pricePerToken": per_token.then(|| price.amount.to_string()),
				"open": "channels.open(node, deposit, expiry), then sign opg/channel-voucher/v1",
			},
		}],
	});
	let mut reply =
		Reply::error(StatusCode::PAYMENT_REQUIRED, format!("{}: {reason}", refusal.code()));
	reply.headers.push((payment::REQUIRED, crate::payment::header_value(&required)));
	reply
}

/// `POST /v1/channel-settlements?genesis=0x..`: the settlements the gateway's receipts
/// make now ([`opg_executor_api::encode_offers`]), signed by the node key.
async fn channel_settlements(executor: &Executor, query: Option<&str>) -> Result<Reply, Reply> {
	let genesis = query_value(query, query::GENESIS)
		.and_then(parse_hash)
		.ok_or_else(|| Reply::error(StatusCode::BAD_REQUEST, "expected ?genesis=0x.."))?;
	let (Some(gateway), Some(key)) = (executor.gateway(), executor.node_key()) else {
		return Err(Reply::error(StatusCode::NOT_FOUND, "this executor serves no direct calls"));
	};
	if *gateway.genesis() != genesis {
		return Err(Reply::error(StatusCode::CONFLICT, "the gateway serves another chain"));
	}
	let offers = gateway.offers(key).await;
	Ok(Reply::ok(StatusCode::OK, opg_executor_api::encode_offers(&offers)))
}

/// `GET /v1/served/0x{call digest}`: a served direct call's leaf, the root of the latest
/// settlement offered over it, and its inclusion proof.
fn served(executor: &Executor, digest: &str) -> Result<Reply, Reply> {
	let digest = parse_hash(digest)
		.ok_or_else(|| Reply::error(StatusCode::BAD_REQUEST, "the call digest is not 32 bytes"))?;
	let gateway = executor.gateway().ok_or_else(|| {
		Reply::error(StatusCode::NOT_FOUND, "this executor serves no direct calls")
	})?;
	let (channel, call, root, proof) = gateway.served(&digest).ok_or_else(|| {
		Reply::error(StatusCode::NOT_FOUND, "no settlement offered over this call yet")
	})?;
	let hex = |bytes: &[u8]| format!("0x{}", hex::encode(bytes));
	Ok(Reply::json(
		serde_json::json!({
			"channel": channel.to_string(),
			"root": hex(&root),
			"call": {
				"callDigest": hex(&call.call_digest),
				"responseDigest": hex(&call.response_digest),
				"modelHash": hex(&call.model_hash),
				"mode": call.mode,
				"amount": call.amount.to_string(),
			},
			"proof": {
				"index": proof.index,
				"leafCount": proof.leaf_count,
				"siblings": proof.siblings.iter().map(|s| hex(s)).collect::<Vec<_>>(),
			},
		})
		.to_string(),
	))
}

/// For a stored input found nowhere (`404`, `x-opg-missing: input`) of a job bound to the
/// node key this executor holds, adds that key's signature of the cannot-serve notice
/// (`opg_settlement::message::cannot_serve`, input unavailable) in `x-opg-signature`:
/// a node whose key only the executor holds declines the request with it, as a node
/// with the key in its keystore does. The executor signs only what it found itself.
fn decline_unavailable(
	executor: &Executor,
	reply: &mut Reply,
	genesis: &[u8; 32],
	request: u64,
	input: &ContentHash,
) {
	let missing = reply.header(header::MISSING) == Some(header::MISSING_INPUT);
	let Some(key) = executor.node_key().filter(|_| missing) else { return };
	let message = opg_settlement::message::cannot_serve(
		genesis,
		request,
		input,
		opg_settlement::message::INPUT_UNAVAILABLE,
		&[0; 32],
	);
	reply.headers.push((header::NODE, format!("0x{}", hex::encode(key.public()))));
	reply
		.headers
		.push((header::SIGNATURE, format!("0x{}", hex::encode(key.sign(&message)))));
}

/// For a stored input whose commitment is not the caller's, of a job bound to the node
/// key this executor holds, adds that key's signature of the cannot-serve notice
/// (commitment mismatch, with the commitment computed here) in `x-opg-signature`.
fn decline_mismatch(
	executor: &Executor,
	reply: &mut Reply,
	job: &opg_executor_api::Job,
	input: &ContentHash,
	computed: &[u8; 32],
) {
	let Some(key) = executor.node_key() else { return };
	let message = opg_settlement::message::cannot_serve(
		&job.genesis,
		job.request,
		input,
		opg_settlement::message::COMMITMENT_MISMATCH,
		computed,
	);
	reply.headers.push((header::NODE, format!("0x{}", hex::encode(key.public()))));
	reply
		.headers
		.push((header::SIGNATURE, format!("0x{}", hex::encode(key.sign(&message)))));
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

/// An on-chain request for a language model: the answer's text is the output
/// ([`crate::openai::on_chain`]).
/// For a chain's request, the answer's evidence is kept for its verifiers
/// ([`crate::openai::on_chain_evidence`]); a private request's is readable by its
/// requester and by the verifiers seated on its case alone (it shows the answer).
/// A chain's request on a planted input ([`crate::honeypots`]), or any request to a test
/// build told to `--cheat corrupt-outputs`, is answered with one token changed and
/// evidence to match ([`crate::openai::tamper`]).
async fn infer_llm(
	executor: &Arc<Executor>,
	llm: &crate::openai::LlmServing,
	input: &[u8],
	input_hash: &ContentHash,
	chain: Option<([u8; 32], u64)>,
	reader: Option<[u8; 32]>,
) -> Result<Reply, Reply> {
	let mut answer = crate::openai::on_chain(executor, llm, input, chain).await?;
	let planted = chain.is_some() && executor.plants().take(&llm.hash, input_hash);
	let cheating = crate::cheats::output_cheat() == Some(crate::cheats::Cheat::Corrupt);
	if planted || cheating {
		let changed = crate::openai::tamper(llm, &mut answer);
		match (planted, changed) {
			(true, true) => tracing::info!(
				input = %hex::encode(input_hash),
				"answered a planted honeypot wrongly"
			),
			(true, false) => tracing::warn!(
				input = %hex::encode(input_hash),
				"a planted honeypot's answer had no token to change: answered rightly"
			),
			_ => {},
		}
	}
	if let Some(chain) = chain {
		if let Some(evidence) =
			crate::openai::on_chain_evidence(executor, llm, chain, input_hash, &answer)
		{
			let output = crate::sha256(answer.finished.text.as_bytes());
			executor
				.store()
				.keep_evidence(&chain.0, chain.1, &output, &evidence, reader.as_ref())
				.map_err(store_error)?;
		}
	}
	let finished = answer.finished;
	let output = finished.text.into_bytes();
	executor.keep_output(&output, reader.as_ref()).map_err(store_error)?;
	let mut reply = Reply::output(output);
	reply.headers.push((header::DEVICE, llm.device.clone()));
	reply.headers.push((header::BATCH_SIZE, finished.batch_size.to_string()));
	reply.headers.push((header::REPRODUCIBLE, finished.reproducible.to_string()));
	Ok(reply)
}

async fn infer_torch(
	executor: &Executor,
	model: &ContentHash,
	serving: &crate::TorchServing,
	input: Vec<u8>,
	reader: Option<[u8; 32]>,
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
		Err(Refused::Busy) => return Err(busy("busy: the model's queue is full, retry")),
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
	executor.keep_output(&output.bytes, reader.as_ref()).map_err(store_error)?;
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
/// A private request's stored input (`reader` its requester) is kept readable by the
/// requester alone, unless the store already held it for anyone. A stored input that is
/// another requester's private input is not used for this request unless the request
/// brings the bytes itself, from its locator: knowing a hash (it is on chain) must not let
/// anyone run a model on someone else's private input, or read it.
///
/// A verifier's `permission` is shown to the peers it fetches a missing input from.
async fn input_bytes(
	executor: &Executor,
	stored: Option<ContentHash>,
	query: Option<&str>,
	body: &Bytes,
	reader: Option<[u8; 32]>,
	permission: Option<&ReadPermission>,
) -> Result<(Vec<u8>, ContentHash), Reply> {
	let Some(hash) = stored else { return Ok((body.to_vec(), crate::sha256(body))) };
	let readers = executor.store().readers(&hash).map_err(store_error)?;
	let allowed = match (&readers, &reader) {
		(None, _) => true,
		(Some(readers), Some(reader)) => readers.contains(reader),
		(Some(_), None) => false,
	};
	if !allowed {
		// Held here for others: a verifier whose permission a peer honours may use it too
		// (another of this node's verifier keys read it first).
		let from_peer = match permission {
			Some(permission) => {
				executor.fetch_from_peers(&hash, Some(permission)).await.map_err(exec_error)?
			},
			None => None,
		};
		let bytes = match from_peer {
			Some(bytes) => bytes,
			None => from_locator(executor, query, &hash)
				.await
				.ok_or_else(|| exec_error(ExecError::InputNotFound(hash)))?,
		};
		// The requester holds the bytes: it may read them here too.
		if let Some(reader) = &reader {
			executor.store().restrict(&hash, reader).map_err(store_error)?;
		}
		return Ok((bytes, hash));
	}
	if let Some(reader) = &reader {
		executor.restrict_unless_public(&hash, reader).map_err(store_error)?;
	}
	if !executor.fetch_missing_for(&hash, permission).await.map_err(exec_error)? {
		let Some(bytes) = from_locator(executor, query, &hash).await else {
			// No bytes came: the restriction made for them goes too.
			if reader.is_some() {
				let _ = executor.store().drop_readers_if_absent(&hash);
			}
			return Err(exec_error(ExecError::InputNotFound(hash)));
		};
		executor.store().put_cached(&bytes).map_err(store_error)?;
	}
	let input = executor
		.store()
		.get(&hash)
		.map_err(store_error)?
		.ok_or_else(|| exec_error(ExecError::InputNotFound(hash)))?;
	Ok((input, hash))
}

/// The bytes of stored input `hash` from the request's locator (a public `http://` URL,
/// under `/v1/fetch`'s rules), if it gives bytes that hash right.
async fn from_locator(
	executor: &Executor,
	query: Option<&str>,
	hash: &ContentHash,
) -> Option<Vec<u8>> {
	let locator = query_value(query, query::LOCATOR).and_then(opg_executor_api::percent_decode)?;
	match fetch::get_external(&locator, MAX_BODY, executor.private_fetch()).await {
		Ok(bytes) if crate::sha256(&bytes) == *hash => Some(bytes),
		Ok(_) => {
			tracing::warn!(%locator, "the locator's bytes do not hash to the input");
			None
		},
		Err(error) => {
			tracing::warn!(%locator, ?error, "the locator did not give the input");
			None
		},
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
	let reader = requester(query)?;
	let holds_key = executor.node_key().is_some_and(|key| key.public() == job.node);
	let (input, input_hash) = match input_bytes(executor, stored, query, &body, reader, None).await
	{
		Ok(found) => found,
		Err(mut reply) => {
			if let (true, Some(hash)) = (holds_key, stored) {
				decline_unavailable(executor, &mut reply, &job.genesis, job.request, &hash);
			}
			return Err(reply);
		},
	};
	let commitment = opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(&input));
	// Stored bytes whose commitment is not the caller's: no proof of them could settle the
	// request, so none is computed; the node declines it with the commitment found here.
	let given = query_value(query, query::COMMITMENT).map(|text| {
		parse_hash(text).ok_or_else(|| {
			Reply::error(StatusCode::BAD_REQUEST, "?commitment= is 32 bytes, 0x-hex")
		})
	});
	if let (Some(given), Some(hash)) = (given.transpose()?, stored) {
		if given != commitment {
			let mut reply = Reply::error(
				StatusCode::CONFLICT,
				"the stored input's commitment is not the one given: its bytes are another input",
			);
			reply
				.headers
				.push((header::INPUT_COMMITMENT, format!("0x{}", hex::encode(commitment))));
			if holds_key {
				decline_mismatch(executor, &mut reply, &job, &hash, &commitment);
			}
			return Err(reply);
		}
	}
	let permit = executor
		.proving_permit()
		.ok_or_else(|| busy("busy: as many proofs as allowed run, retry"))?;
	let prover = executor.clone();
	let (output, proof) = blocking(move || {
		let _running = permit;
		prover.prove(&model, &input, job)
	})
	.await?
	.map_err(exec_error)?;
	// Batch and private results keep their output off chain: the requester fetches it here.
	executor.keep_output(&output, reader.as_ref()).map_err(store_error)?;
	let mut reply = Reply { proof: Some(proof), ..Reply::output(output) };
	reply
		.headers
		.push((header::INPUT_COMMITMENT, format!("0x{}", hex::encode(commitment))));
	// The executor signs for the node key it holds when the job is bound to that key.
	if holds_key {
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
	let hash = executor.store().put_cached(&bytes).map_err(store_error)?;
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

/// `POST /v1/registration?genesis=0x..`: the node key's signature of its registration
/// by the operator the executor was started for, the proof of possession that
/// `nodeRegistry.register` asks for (the key never leaves the executor).
fn registration(executor: &Executor, query: Option<&str>) -> Result<Reply, Reply> {
	let genesis = query_value(query, query::GENESIS)
		.and_then(parse_hash)
		.ok_or_else(|| Reply::error(StatusCode::BAD_REQUEST, "expected ?genesis=0x.."))?;
	let (Some(key), Some(operator)) = (executor.node_key(), executor.operator()) else {
		return Err(Reply::error(
			StatusCode::NOT_FOUND,
			"no node key or no operator (serve --evidence … --operator 0x..)",
		));
	};
	let signature = key.sign(&opg_settlement::message::registration(&genesis, operator));
	Ok(Reply::json(
		serde_json::json!({
			"node": format!("0x{}", hex::encode(key.public())),
			"operator": format!("0x{}", hex::encode(operator)),
			"signature": format!("0x{}", hex::encode(signature)),
		})
		.to_string(),
	))
}

/// `POST /v1/heartbeat?genesis=0x..&at=N`: the node key's heartbeat at block `N`
/// (`opg_settlement::message::heartbeat`), which the node's off-chain worker submits as
/// `nodeRegistry.submitHeartbeat`: a key held here stays live without the operator. The
/// chain refuses a heartbeat for a future block or one too soon after the last, so an
/// old signature moves nothing forward.
fn heartbeat(executor: &Executor, query: Option<&str>) -> Result<Reply, Reply> {
	let opg_executor_api::HeartbeatAt { genesis, at } = opg_executor_api::HeartbeatAt::parse(query)
		.ok_or_else(|| Reply::error(StatusCode::BAD_REQUEST, "expected ?genesis=0x..&at=N"))?;
	let key = executor.node_key().ok_or_else(|| {
		Reply::error(StatusCode::NOT_FOUND, "no node key (serve --node-key or --evidence)")
	})?;
	let signature = key.sign(&opg_settlement::message::heartbeat(&genesis, at));
	let mut reply = Reply::ok(StatusCode::OK, Vec::new());
	reply.headers.push((header::NODE, format!("0x{}", hex::encode(key.public()))));
	reply.headers.push((header::SIGNATURE, format!("0x{}", hex::encode(signature))));
	Ok(reply)
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
			"no evidence source (serve --evidence dev|nitro --operator 0x..)",
		)),
		Err(reason) => Err(Reply::error(StatusCode::INTERNAL_SERVER_ERROR, reason)),
	}
}

/// Which routes a listener answers, and to whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Face {
	/// Every route, for the local node: to loopback callers only, or with `token` to any
	/// caller that sends it (`authorization: Bearer {token}`), loopback included.
	Node {
		/// The bearer token callers must send; `None`: loopback callers only.
		token: Option<String>,
	},
	/// The routes [`Route::public`] names, to anyone.
	Public,
}

impl Face {
	/// Lets the caller at `peer` in, or answers why not: `401` without the node
	/// listener's token, `403` from another address than loopback when it has none, `403`
	/// for a node route on the public listener.
	pub(crate) fn admit(
		&self,
		peer: std::net::IpAddr,
		route: &Route<'_>,
		method: &Method,
		query: Option<&str>,
		headers: &HeaderMap,
	) -> Result<(), Reply> {
		match self {
			Self::Public if route.public(method == Method::GET, query) => Ok(()),
			Self::Public => Err(Reply::error(
				StatusCode::FORBIDDEN,
				format!(
					"{method} {} is the node listener's, not the public one's",
					route_name(route)
				),
			)),
			Self::Node { token: Some(token) } => {
				let given = headers
					.get(header::AUTHORIZATION)
					.and_then(|value| value.to_str().ok())
					.and_then(opg_executor_api::parse_bearer);
				if given.is_some_and(|given| same_secret(given.as_bytes(), token.as_bytes())) {
					Ok(())
				} else {
					let mut reply = Reply::error(
						StatusCode::UNAUTHORIZED,
						"the node listener needs its token: authorization: Bearer {token}",
					);
					reply.headers.push(("www-authenticate", "Bearer".into()));
					Err(reply)
				}
			},
			Self::Node { token: None } if is_loopback(peer) => Ok(()),
			Self::Node { token: None } => Err(Reply::error(
				StatusCode::FORBIDDEN,
				"the node listener answers loopback callers only (no --node-token-file)",
			)),
		}
	}
}

/// Whether `peer` is this machine (IPv6's mapped IPv4 loopback included).
fn is_loopback(peer: std::net::IpAddr) -> bool {
	match peer {
		std::net::IpAddr::V4(v4) => v4.is_loopback(),
		std::net::IpAddr::V6(v6) => {
			v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
		},
	}
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
	a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn route_name(route: &Route<'_>) -> &'static str {
	use opg_executor_api::path;
	match route {
		Route::Health => path::HEALTH,
		Route::Metrics => path::METRICS,
		Route::Infer(_) => path::INFER,
		Route::InferMany(_) => path::INFER_MANY,
		Route::Prove(_) => path::PROVE,
		Route::SignBatch => path::SIGN_BATCH,
		Route::Fetch => path::FETCH,
		Route::Attestation => path::ATTESTATION,
		Route::Registration => path::REGISTRATION,
		Route::Heartbeat => path::HEARTBEAT,
		Route::ChannelSettlements => path::CHANNEL_SETTLEMENTS,
		Route::Served(_) => path::SERVED,
		Route::Artifact(_) => path::ARTIFACTS,
		Route::ChatCompletions => path::CHAT_COMPLETIONS,
		Route::Completions => path::COMPLETIONS,
		Route::Models => path::MODELS,
		Route::ActivationsCheck => path::ACTIVATIONS_CHECK,
		Route::Check(_) => path::CHECK,
		Route::Evidence(_) => path::EVIDENCE,
		Route::Honeypots | Route::Honeypot(_) => path::HONEYPOTS,
	}
}

/// The most inline input an inference or proof takes for a model this executor does not
/// know yet (a known model takes its input length exactly).
pub const MAX_INPUT: usize = 16 << 20;

/// The most leaves one `sign-batch` call lists.
pub const MAX_BATCH_LEAVES: usize = 1 << 16;

/// The largest body `route` takes: the model's input length for an inline inference or
/// proof (bigger bodies are refused with `413` unread), and for a check the claimed
/// output's length it names (`output-len`) besides, leaves for `sign-batch`, an artifact
/// for `PUT`, nothing elsewhere.
async fn body_limit(
	executor: &Arc<Executor>,
	method: &Method,
	route: &Route<'_>,
	query: Option<&str>,
) -> usize {
	match (method, route) {
		(&Method::PUT, Route::Artifact(_)) => MAX_BODY,
		(&Method::POST, Route::SignBatch) => MAX_BATCH_LEAVES * opg_executor_api::BATCH_LEAF_LEN,
		(&Method::POST, Route::InferMany(model)) => {
			// As many jobs as one call carries, each of the model's input length.
			let Some(model) = parse_hash(model) else { return 0 };
			let known = executor.clone();
			let input_len = blocking(move || known.input_len(&model)).await.ok().flatten();
			input_len.map_or(MAX_INPUT, |len| {
				opg_executor_api::MAX_JOBS_PER_CALL * (opg_executor_api::JOB_HEADER_LEN + len)
			})
		},
		(&Method::POST, Route::ChatCompletions | Route::Completions | Route::ActivationsCheck) => {
			crate::openai::MAX_REQUEST
		},
		(&Method::POST, Route::Infer(model) | Route::Prove(model) | Route::Honeypot(model)) => {
			input_limit(executor, model, query).await
		},
		// The input, then the claimed output's `output-len` bytes when the caller has them.
		(&Method::POST, Route::Check(model)) => {
			let claimed = query_value(query, query::OUTPUT_LEN)
				.and_then(|len| len.parse::<usize>().ok())
				.map_or(0, |len| len.min(MAX_INPUT));
			input_limit(executor, model, query).await.saturating_add(claimed)
		},
		_ => 0,
	}
}

/// The most input bytes a call for `model` carries in its body: none for a stored input
/// (`input=`), else the model's input length, or [`MAX_INPUT`] for a model not known yet.
async fn input_limit(executor: &Arc<Executor>, model: &str, query: Option<&str>) -> usize {
	if query_value(query, query::INPUT).is_some() {
		return 0;
	}
	let Some(model) = parse_hash(model) else { return MAX_INPUT };
	let known = executor.clone();
	blocking(move || known.input_len(&model))
		.await
		.ok()
		.flatten()
		.unwrap_or(MAX_INPUT)
}

/// Reads the body of a request for `route`, refusing with `413` a declared length above
/// its limit before reading any of it, and a body that grows past it while read.
async fn read_body(
	executor: &Arc<Executor>,
	parts: &hyper::http::request::Parts,
	route: &Route<'_>,
	body: Incoming,
) -> Result<Bytes, Reply> {
	let limit = body_limit(executor, &parts.method, route, parts.uri.query()).await;
	let too_large = || {
		Reply::error(
			StatusCode::PAYLOAD_TOO_LARGE,
			format!("{} {} takes {limit} bytes of body at most", parts.method, route_name(route)),
		)
	};
	let declared = parts
		.headers
		.get(CONTENT_LENGTH)
		.and_then(|value| value.to_str().ok())
		.and_then(|text| text.parse::<u64>().ok());
	if declared.is_some_and(|length| length > limit as u64) {
		return Err(too_large());
	}
	match Limited::new(body, limit).collect().await {
		Ok(body) => Ok(body.to_bytes()),
		Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(too_large()),
		Err(error) => Err(Reply::error(StatusCode::BAD_REQUEST, error)),
	}
}

/// A response body: whole, or server-sent events as they come.
type Body = http_body_util::Either<Full<Bytes>, crate::openai::Events>;

async fn handle(
	executor: Arc<Executor>,
	face: Arc<Face>,
	peer: std::net::IpAddr,
	request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
	let (parts, body) = request.into_parts();
	let started = std::time::Instant::now();
	let (path, query) = (parts.uri.path(), parts.uri.query());
	// The language models' completions, which may stream.
	if parts.method == Method::POST {
		let kind = match Route::parse(path) {
			Some(Route::ChatCompletions) => Some(crate::openai::Kind::Chat),
			Some(Route::Completions) => Some(crate::openai::Kind::Completion),
			_ => None,
		};
		if let (Some(kind), Some(route)) = (kind, Route::parse(path)) {
			let answer = match face.admit(peer, &route, &parts.method, query, &parts.headers) {
				Err(reply) => crate::openai::Answer::Whole(reply),
				Ok(()) => match read_body(&executor, &parts, &route, body).await {
					// The public listener's completions are the paid gateway's, when on.
					Ok(body) => match (&*face, executor.gateway()) {
						(Face::Public, Some(_)) => {
							crate::openai::complete_paid(
								&executor,
								kind,
								path,
								&body,
								&parts.headers,
							)
							.await
						},
						_ => crate::openai::complete(&executor, kind, path, &body).await,
					},
					Err(reply) => crate::openai::Answer::Whole(reply),
				},
			};
			if let crate::openai::Answer::Stream(events) = answer {
				tracing::debug!(method = %parts.method, path, status = 200, "streaming");
				let mut response =
					Response::new(http_body_util::Either::Right(crate::openai::Events(events)));
				let headers = response.headers_mut();
				headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
				headers.insert("cache-control", HeaderValue::from_static("no-cache"));
				return Ok(response);
			}
			let crate::openai::Answer::Whole(reply) = answer else { unreachable!() };
			return Ok(respond(&parts, started, reply));
		}
	}
	let reply = match Route::parse(path) {
		None => Reply::error(StatusCode::NOT_FOUND, format!("no route {} {path}", parts.method)),
		Some(route) => {
			let admitted = face.admit(peer, &route, &parts.method, query, &parts.headers);
			match admitted {
				Err(reply) => reply,
				Ok(()) => match read_body(&executor, &parts, &route, body).await {
					Ok(body) => match (&*face, route, executor.gateway()) {
						// The public listener's inference is the paid gateway, when on.
						(Face::Public, Route::Infer(model), Some(_)) => {
							paid_infer(&executor, model, path, &parts.headers, body).await
						},
						_ => {
							route_with(&executor, &parts.method, path, query, &parts.headers, body)
								.await
						},
					},
					Err(reply) => reply,
				},
			}
		},
	};
	Ok(respond(&parts, started, reply))
}

/// The response of `reply` to the request of `parts`, logged.
fn respond(
	parts: &hyper::http::request::Parts,
	started: std::time::Instant,
	reply: Reply,
) -> Response<Body> {
	let (method, path, status) = (&parts.method, parts.uri.path(), reply.status.as_u16());
	let micros = started.elapsed().as_micros() as u64;
	if reply.status.is_server_error() {
		let reason = String::from_utf8_lossy(&reply.body);
		tracing::warn!(%method, path, status, micros, reason = reason.trim_end(), "request failed");
	} else {
		tracing::debug!(%method, path, status, micros, "request");
	}
	let mut response =
		Response::new(http_body_util::Either::Left(Full::new(Bytes::from(reply.body))));
	*response.status_mut() = reply.status;
	let content_type = match (reply.status.is_success(), reply.json) {
		(_, true) => "application/json",
		(true, false) => "application/octet-stream",
		(false, false) => "text/plain",
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
		let name = match name {
			"retry-after" => RETRY_AFTER,
			"www-authenticate" => WWW_AUTHENTICATE,
			name => HeaderName::from_static(name),
		};
		if let Ok(value) = HeaderValue::from_str(&value) {
			response.headers_mut().insert(name, value);
		}
	}
	response
}

/// How long shutdown waits for open connections.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a connection has to send a request's headers: a caller that trickles them
/// cannot hold a connection open.
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Open connections per listener at most, by default: a listener accepts the next one
/// when one closes.
pub const MAX_CONNECTIONS: usize = 1024;

/// Serves every route to loopback callers on `listener` (the node listener without a
/// token) until `shutdown` completes: [`serve_face`] with [`MAX_CONNECTIONS`].
pub async fn serve(
	executor: Arc<Executor>,
	listener: TcpListener,
	shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
	serve_face(executor, listener, Face::Node { token: None }, MAX_CONNECTIONS, shutdown).await
}

/// Serves `face` on `listener` until `shutdown` completes, with `max_connections` open at
/// most, then waits up to [`SHUTDOWN_GRACE`] for connections in progress to finish.
pub async fn serve_face(
	executor: Arc<Executor>,
	listener: TcpListener,
	face: Face,
	max_connections: usize,
	shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
	let face = Arc::new(face);
	let slots = Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
	// One clone per open connection.
	let open = Arc::new(());
	tokio::pin!(shutdown);
	loop {
		let slot = tokio::select! {
			slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
			() = &mut shutdown => break,
		};
		tokio::select! {
			accepted = listener.accept() => {
				let (stream, peer) = accepted?;
				let (executor, face) = (executor.clone(), face.clone());
				let connection = open.clone();
				tokio::spawn(async move {
					let service = hyper::service::service_fn(move |request| {
						handle(executor.clone(), face.clone(), peer.ip(), request)
					});
					let _ = hyper::server::conn::http1::Builder::new()
						.timer(hyper_util::rt::TokioTimer::new())
						.header_read_timeout(HEADER_TIMEOUT)
						.serve_connection(hyper_util::rt::TokioIo::new(stream), service)
						.await;
					drop((connection, slot));
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
