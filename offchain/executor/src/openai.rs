//! The OpenAI-compatible API of the LLMs this executor serves: `POST /v1/chat/completions`,
//! `POST /v1/completions` and `GET /v1/models`, with server-sent-event streaming
//! (`stream: true`: `data:` chunks, then `data: [DONE]`), `usage`, and errors in OpenAI's
//! JSON shape. The official `openai` clients work against it unchanged.
//!
//! Every answer carries OPG's evidence — in an `opg` object of the JSON (of the last chunk
//! when streaming) and, when not streaming, in headers: the node key's sr25519 signature
//! over `opg_settlement::message::llm_answer` (genesis, the model's manifest hash, the
//! call's digest — SHA-256 of the path and the exact request body,
//! `opg_settlement::channel::call_digest` — the SHA-256 of the answer's text, and the
//! sampling seed). A client recomputes all of it from what it sent and received; see
//! docs/llm.md.

use crate::{
	http::Reply,
	llm::{self, Engine, Event, FinishReason, Message, Prompt, Refused, Sampling},
	ContentHash, Executor,
};
use hyper::body::Bytes;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// One LLM served: its engine, names and hash.
pub struct LlmServing {
	/// The manifest's name: what clients send as `model`.
	pub name: String,
	/// The manifest's hash: the model's.
	pub hash: ContentHash,
	/// The engine.
	pub engine: Engine,
	/// `cpu` or `cuda:N`.
	pub device: String,
	/// `f32`, `bf16` or `f16`.
	pub dtype: &'static str,
}

/// The most tokens an answer gets when the request names no `max_tokens`.
pub const DEFAULT_MAX_TOKENS: usize = 256;

/// The largest request body these routes take.
pub const MAX_REQUEST: usize = 1 << 20;

/// An answer: whole, or a stream of server-sent events.
pub enum Answer {
	/// A JSON body (or an error).
	Whole(Reply),
	/// `text/event-stream`: each item is one `data:` event, already framed.
	Stream(tokio::sync::mpsc::Receiver<Bytes>),
}

/// A streamed answer's body: the events as they are decoded.
pub struct Events(pub tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for Events {
	type Data = Bytes;
	type Error = std::convert::Infallible;

	fn poll_frame(
		mut self: std::pin::Pin<&mut Self>,
		cx: &mut std::task::Context<'_>,
	) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
		self.0
			.poll_recv(cx)
			.map(|event| event.map(|bytes| Ok(hyper::body::Frame::data(bytes))))
	}
}

/// The answer as one reply: a stream's events concatenated (its body is the
/// `text/event-stream` text).
pub async fn collect(answer: Answer) -> Reply {
	match answer {
		Answer::Whole(reply) => reply,
		Answer::Stream(mut events) => {
			let mut body = Vec::new();
			while let Some(bytes) = events.recv().await {
				body.extend_from_slice(&bytes);
			}
			let mut reply = Reply::json(String::new());
			reply.body = body;
			reply.json = false;
			reply
		},
	}
}

/// OpenAI's error object with `status`.
pub fn error(status: StatusCode, kind: &str, code: &str, message: impl std::fmt::Display) -> Reply {
	let body = json!({
		"error": {"message": message.to_string(), "type": kind, "param": null, "code": code}
	});
	let mut reply = Reply::json(body.to_string());
	reply.status = status;
	reply
}

fn invalid(message: impl std::fmt::Display) -> Reply {
	error(StatusCode::BAD_REQUEST, "invalid_request_error", "invalid_request", message)
}

/// `GET /v1/models`.
pub fn models(executor: &Executor) -> Reply {
	let data: Vec<Value> = executor
		.llms()
		.map(|serving| {
			json!({
				"id": serving.name,
				"object": "model",
				"created": 0,
				"owned_by": "opg",
				"opg": {
					"model_hash": format!("0x{}", hex::encode(serving.hash)),
					"device": serving.device,
					"dtype": serving.dtype,
				},
			})
		})
		.collect();
	Reply::json(json!({"object": "list", "data": data}).to_string())
}

/// A message's content: a string, or OpenAI's list of parts of which the text ones count.
#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
	Text(String),
	Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
	#[serde(rename = "type")]
	kind: String,
	#[serde(default)]
	text: Option<String>,
}

#[derive(Deserialize)]
struct ChatMessage {
	role: String,
	content: Content,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stop {
	One(String),
	Many(Vec<String>),
}

/// The fields both completion routes read; the others OpenAI defines are ignored unless
/// they ask for something this server does not do.
#[derive(Deserialize)]
struct Request {
	model: String,
	#[serde(default)]
	messages: Option<Vec<ChatMessage>>,
	#[serde(default)]
	prompt: Option<Value>,
	#[serde(default)]
	max_tokens: Option<usize>,
	#[serde(default)]
	max_completion_tokens: Option<usize>,
	#[serde(default)]
	temperature: Option<f32>,
	#[serde(default)]
	top_p: Option<f32>,
	#[serde(default)]
	top_k: Option<usize>,
	#[serde(default)]
	seed: Option<u64>,
	#[serde(default)]
	stop: Option<Stop>,
	#[serde(default)]
	stream: bool,
	#[serde(default)]
	stream_options: Option<Value>,
	#[serde(default)]
	n: Option<u32>,
}

/// Which route: chat messages through the template, or a raw prompt.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
	/// `/v1/chat/completions`.
	Chat,
	/// `/v1/completions`.
	Completion,
}

/// `POST /v1/chat/completions` or `/v1/completions` with `body`, asked at `path`, free of
/// charge.
pub async fn complete(executor: &Arc<Executor>, kind: Kind, path: &str, body: &[u8]) -> Answer {
	answer(prepare(executor, kind, path, body)).await
}

/// The same on the public listener of an executor whose gateway offers the model
/// (`--direct-model`) at a price above zero: paid by the voucher in `PAYMENT-SIGNATURE`
/// (`402` without a valid one), by tokens — the price per token times the prompt's and the
/// answer's tokens, at most what the voucher authorizes above the channel's charged total
/// (x402's `upto`), which also bounds the tokens generated. A model offered free, or not
/// offered, is served as [`complete`] serves it.
pub async fn complete_paid(
	executor: &Arc<Executor>,
	kind: Kind,
	path: &str,
	body: &[u8],
	headers: &hyper::HeaderMap,
) -> Answer {
	let mut prepared = match prepare(executor, kind, path, body) {
		Ok(prepared) => prepared,
		Err(reply) => return Answer::Whole(reply),
	};
	let (Some(gateway), Some(key)) = (executor.gateway(), executor.node_key()) else {
		return answer(Ok(prepared)).await;
	};
	let price = match gateway.price(&prepared.serving.hash) {
		Some(price) if price.amount > 0 => price,
		_ => return answer(Ok(prepared)).await,
	};
	let prompt_tokens = prepared.prompt.tokens.len() as u128;
	let minimum = price.amount.saturating_mul(prompt_tokens + 1);
	let header = headers
		.get(opg_executor_api::payment::SIGNATURE)
		.and_then(|value| value.to_str().ok());
	let accepted = match gateway
		.accept_up_to(header, &prepared.call.digest, minimum, &key.public())
		.await
	{
		Ok(accepted) => accepted,
		Err((refusal, reason)) => {
			let required = crate::http::payment_required(
				executor,
				gateway,
				&prepared.serving.hash,
				price,
				minimum,
				true,
				path,
				refusal,
				&reason,
			);
			return Answer::Whole(required);
		},
	};
	// The answer's tokens are bounded by what the voucher pays for.
	let affordable = (accepted.charged / price.amount).saturating_sub(prompt_tokens);
	prepared.prompt.max_tokens = prepared
		.prompt
		.max_tokens
		.min(usize::try_from(affordable).unwrap_or(usize::MAX));
	prepared.call.payment = Some(Payment { per_token: price.amount, mode: price.mode, accepted });
	answer(Ok(prepared)).await
}

async fn answer(prepared: Result<Prepared, Reply>) -> Answer {
	let prepared = match prepared {
		Ok(prepared) => prepared,
		Err(reply) => return Answer::Whole(reply),
	};
	let (executor, payment) = (prepared.call.executor.clone(), prepared.call.payment.clone());
	match submit(prepared) {
		Ok(Started { serving, receiver, call, stream }) => {
			if stream {
				Answer::Stream(stream_events(serving, receiver, call))
			} else {
				Answer::Whole(whole(&serving, receiver, call).await)
			}
		},
		Err(reply) => {
			refund(&executor, payment.as_ref());
			Answer::Whole(reply)
		},
	}
}

/// Gives a paid call's charge back (it was not answered).
fn refund(executor: &Executor, payment: Option<&Payment>) {
	if let (Some(payment), Some(gateway)) = (payment, executor.gateway()) {
		gateway.give_back(&payment.accepted);
	}
}

/// Charges a paid call what it used — the price per token times its prompt's and answer's
/// tokens, at most its cap — and keeps its receipt: the `PAYMENT-RESPONSE` JSON, or why
/// the receipt could not be kept (the charge is then given back).
fn charge(
	serving: &LlmServing,
	call: &mut Call,
	finished: &llm::Finished,
	text: &str,
) -> Result<Option<Value>, String> {
	let Some(payment) = call.payment.as_mut() else { return Ok(None) };
	let Some(gateway) = call.executor.gateway() else { return Ok(None) };
	let tokens = (finished.prompt_tokens + finished.ids.len()) as u128;
	gateway.charge_used(&mut payment.accepted, payment.per_token.saturating_mul(tokens));
	let served = opg_settlement::channel::ServedCall {
		call_digest: call.digest,
		response_digest: crate::sha256(text.as_bytes()),
		model_hash: serving.hash,
		mode: payment.mode,
		amount: payment.accepted.charged,
	};
	if let Err(error) = gateway.record(&payment.accepted, &served) {
		gateway.give_back(&payment.accepted);
		return Err(format!("the call's receipt could not be kept: {error}"));
	}
	Ok(Some(crate::payment::response(gateway, &payment.accepted)))
}

/// What a call asked, for its answer and evidence.
struct Call {
	kind: Kind,
	id: String,
	created: u64,
	seed: u64,
	digest: [u8; 32],
	include_usage: bool,
	executor: Arc<Executor>,
	/// A paid call's voucher and price.
	payment: Option<Payment>,
}

/// What pays a call on the paid direct path.
#[derive(Clone)]
struct Payment {
	/// The price of one token (prompt or answer).
	per_token: u128,
	/// The evidence given: `VerificationMode`'s index.
	mode: u8,
	/// The voucher, and what it is charged.
	accepted: crate::payment::Accepted,
}

impl Call {
	/// The paying voucher's cumulative amount, which the evidence signs (0 when free).
	fn cumulative(&self) -> u128 {
		self.payment.as_ref().map_or(0, |payment| payment.accepted.cumulative)
	}
}

/// A request parsed and its prompt tokenized, not yet queued.
struct Prepared {
	serving: Arc<LlmServing>,
	prompt: Prompt,
	call: Call,
	stream: bool,
}

struct Started {
	serving: Arc<LlmServing>,
	receiver: tokio::sync::mpsc::UnboundedReceiver<Event>,
	call: Call,
	stream: bool,
}

fn prepare(
	executor: &Arc<Executor>,
	kind: Kind,
	path: &str,
	body: &[u8],
) -> Result<Prepared, Reply> {
	let request: Request = serde_json::from_slice(body)
		.map_err(|e| invalid(format!("the body is not a valid request: {e}")))?;
	let serving = executor.llm(&request.model).ok_or_else(|| {
		error(
			StatusCode::NOT_FOUND,
			"invalid_request_error",
			"model_not_found",
			format!("the model {:?} is not served here (GET /v1/models lists them)", request.model),
		)
	})?;
	if request.n.is_some_and(|n| n != 1) {
		return Err(invalid("n must be 1"));
	}
	let engine = &serving.engine;
	let text = match (kind, &request.messages, &request.prompt) {
		(Kind::Chat, Some(messages), _) => {
			let messages = messages
				.iter()
				.map(|message| {
					let content = match &message.content {
						Content::Text(text) => text.clone(),
						Content::Parts(parts) => {
							if parts.iter().any(|part| part.kind != "text") {
								return Err(invalid("only text content parts are supported"));
							}
							parts.iter().filter_map(|part| part.text.as_deref()).collect()
						},
					};
					Ok(Message { role: message.role.clone(), content })
				})
				.collect::<Result<Vec<_>, Reply>>()?;
			if messages.is_empty() {
				return Err(invalid("messages is empty"));
			}
			engine.text().chat_prompt(&messages).map_err(invalid)?
		},
		(Kind::Chat, None, _) => return Err(invalid("messages is required")),
		(Kind::Completion, _, Some(Value::String(prompt))) => prompt.clone(),
		(Kind::Completion, _, Some(_)) => return Err(invalid("prompt must be one string")),
		(Kind::Completion, _, None) => return Err(invalid("prompt is required")),
	};
	let tokens = engine.text().encode(&text).map_err(invalid)?;
	let context = engine.config().max_position_embeddings;
	let max_tokens = request
		.max_completion_tokens
		.or(request.max_tokens)
		.unwrap_or_else(|| DEFAULT_MAX_TOKENS.min(context.saturating_sub(tokens.len())).max(1));
	let seed = request.seed.unwrap_or_else(rand_seed);
	let sampling = Sampling {
		temperature: request.temperature.unwrap_or(1.0),
		top_p: request.top_p.unwrap_or(1.0),
		top_k: request.top_k.unwrap_or(0),
		seed,
	};
	let stops = match request.stop {
		None => Vec::new(),
		Some(Stop::One(stop)) => vec![stop],
		Some(Stop::Many(stops)) if stops.len() <= 4 => stops,
		Some(Stop::Many(_)) => return Err(invalid("stop takes at most 4 sequences")),
	};
	let include_usage = request
		.stream_options
		.as_ref()
		.and_then(|options| options.get("include_usage"))
		.and_then(Value::as_bool)
		.unwrap_or(false);
	let call = Call {
		kind,
		id: format!(
			"{}-{}",
			if kind == Kind::Chat { "chatcmpl" } else { "cmpl" },
			hex::encode(rand_seed().to_le_bytes())
		),
		created: std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map_or(0, |d| d.as_secs()),
		seed,
		digest: opg_settlement::channel::call_digest(path, body),
		include_usage,
		executor: executor.clone(),
		payment: None,
	};
	// Every step's hidden state: the answer's activation commitments are made of them.
	let prompt = Prompt { tokens, max_tokens, sampling, stops, hidden_every: 1 };
	Ok(Prepared { serving, prompt, call, stream: request.stream })
}

/// Queues a prepared request.
fn submit(prepared: Prepared) -> Result<Started, Reply> {
	let Prepared { serving, prompt, call, stream } = prepared;
	let receiver = serving.engine.submit(prompt).map_err(refusal)?;
	Ok(Started { serving, receiver, call, stream })
}

/// The answer to a request the engine did not take.
fn refusal(refused: Refused) -> Reply {
	match refused {
		Refused::Busy => {
			let mut reply = error(
				StatusCode::TOO_MANY_REQUESTS,
				"rate_limit_error",
				"queue_full",
				"the model's queue is full; retry shortly",
			);
			reply.headers.push(("retry-after", "1".into()));
			reply
		},
		Refused::ContextOverflow(..) => error(
			StatusCode::BAD_REQUEST,
			"invalid_request_error",
			"context_length_exceeded",
			refused,
		),
		Refused::Invalid(reason) => invalid(reason),
	}
}

/// The body of `POST /v1/activations/check`.
#[derive(Deserialize)]
struct CheckRequest {
	/// The path the call was made at: `/v1/chat/completions` (the default) or
	/// `/v1/completions`.
	#[serde(default)]
	path: Option<String>,
	/// The call's request, as the client sent it.
	request: Value,
	/// The evidence's `seed` (decimal): the request's, or the one the node chose.
	seed: Value,
	/// The answer's `opg.activations`.
	activations: ActivationsJson,
}

#[derive(Deserialize)]
struct ActivationsJson {
	commitments: Vec<String>,
	tokens: Vec<u32>,
}

/// `POST /v1/activations/check`: a verifier's check of an answer of a model served here
/// (`llm::activations::check`): the prompt as the call's request makes it, the answer's
/// tokens and commitments from its evidence, the sampling its request and seed say.
/// `200` with the verdict (accepted or not); `400` for a body that is not such a check,
/// `404` for a model not served, `422` when the answer does not fit its commitments,
/// `429` when the model's queue is full.
pub async fn check_activations(executor: &Arc<Executor>, body: &[u8]) -> Reply {
	let checked: CheckRequest = match serde_json::from_slice(body) {
		Ok(checked) => checked,
		Err(e) => return invalid(format!("the body is not an activations check: {e}")),
	};
	use opg_executor_api::path::{CHAT_COMPLETIONS, COMPLETIONS};
	let path = checked.path.as_deref().unwrap_or(CHAT_COMPLETIONS);
	let kind = match path {
		CHAT_COMPLETIONS => Kind::Chat,
		COMPLETIONS => Kind::Completion,
		other => return invalid(format!("path {other:?} is not a language model's")),
	};
	let seed = match &checked.seed {
		Value::String(text) => text.parse::<u64>().ok(),
		Value::Number(number) => number.as_u64(),
		_ => None,
	};
	let Some(seed) = seed else { return invalid("seed must be a u64 (decimal)") };
	let commitments = match decode_commitments(&checked.activations.commitments) {
		Ok(commitments) => commitments,
		Err(reason) => return invalid(reason),
	};
	let request = checked.request.to_string();
	let prepared = match prepare(executor, kind, path, request.as_bytes()) {
		Ok(prepared) => prepared,
		Err(reply) => return reply,
	};
	let Prepared { serving, prompt, .. } = prepared;
	let job = llm::CheckJob {
		prompt: prompt.tokens,
		answer: checked.activations.tokens,
		sampling: Sampling { seed, ..prompt.sampling },
		commitments,
	};
	let receiver = match serving.engine.check(job) {
		Ok(receiver) => receiver,
		Err(refused) => return refusal(refused),
	};
	match receiver.await {
		Ok(Ok(verdict)) => Reply::json(
			json!({
				"model": serving.name,
				"model_hash": format!("0x{}", hex::encode(serving.hash)),
				"dtype": serving.dtype,
				"accepted": verdict.accepted,
				"chunks": verdict.chunks.iter().map(|c| json!({
					"compared": c.compared,
					"exponent_mismatches": c.exponent_mismatches,
					"sign_mismatches": c.sign_mismatches,
					"mantissa_mean": finite(c.mantissa_mean),
					"mantissa_median": finite(c.mantissa_median),
					"passes": c.passes(&verdict.thresholds),
				})).collect::<Vec<_>>(),
				"thresholds": {
					"max_mismatches": verdict.thresholds.max_mismatches,
					"max_mantissa_mean": verdict.thresholds.max_mantissa_mean,
					"max_mantissa_median": verdict.thresholds.max_mantissa_median,
				},
				"tokens": {
					"same": verdict.tokens_same,
					"near": verdict.tokens_near,
					"refused": verdict.tokens_refused,
				},
			})
			.to_string(),
		),
		Ok(Err(llm::activations::CheckError::Mismatch(reason))) => error(
			StatusCode::UNPROCESSABLE_ENTITY,
			"invalid_request_error",
			"activations_mismatch",
			reason,
		),
		Ok(Err(llm::activations::CheckError::Model(reason))) => {
			error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "model_failed", reason)
		},
		Err(_) => error(
			StatusCode::INTERNAL_SERVER_ERROR,
			"server_error",
			"engine_stopped",
			"the model's engine stopped",
		),
	}
}

/// Activation commitments as an answer's evidence writes them: base64 of 258 bytes each.
fn decode_commitments(texts: &[String]) -> Result<Vec<opg_activations::Commitment>, String> {
	use base64::Engine as _;
	texts
		.iter()
		.enumerate()
		.map(|(index, text)| {
			base64::engine::general_purpose::STANDARD
				.decode(text)
				.map_err(|e| e.to_string())
				.and_then(|bytes| {
					opg_activations::Commitment::from_bytes(&bytes).map_err(|e| format!("{e:?}"))
				})
				.map_err(|e| format!("commitment {index} is not one: {e}"))
		})
		.collect()
}

/// A float for JSON (which has no infinity): `None` for one.
fn finite(value: f64) -> Option<f64> {
	value.is_finite().then_some(value)
}

/// Cuts `text` to at most `max` bytes at the last character boundary within them; whether
/// it was longer.
fn cut(text: &mut String, max: usize) -> bool {
	if text.len() <= max {
		return false;
	}
	let end = (0..=max).rev().find(|&end| text.is_char_boundary(end)).unwrap_or(0);
	text.truncate(end);
	true
}

/// The chat completion request (the body of `POST /v1/chat/completions`) that an on-chain
/// request's `input` makes for `serving` (see [`on_chain`]).
fn on_chain_request(
	serving: &LlmServing,
	input: &[u8],
	chain: Option<([u8; 32], u64)>,
) -> Result<Vec<u8>, Reply> {
	let mut request: serde_json::Map<String, Value> = serde_json::from_slice(input)
		.map_err(|e| invalid(format!("the input is not a chat completion request: {e}")))?;
	request.insert("model".into(), Value::String(serving.name.clone()));
	request.insert("stream".into(), Value::Bool(false));
	if let (None, Some((genesis, id))) = (request.get("seed"), chain) {
		request.insert("seed".into(), Value::from(opg_settlement::llm::request_seed(&genesis, id)));
	}
	Ok(Value::Object(request).to_string().into_bytes())
}

/// An answer to an on-chain request for a language model.
pub struct OnChain {
	/// The answer, its text cut to `opg_primitives::MAX_LLM_ANSWER` bytes.
	pub finished: llm::Finished,
	/// The seed it was sampled with.
	pub seed: u64,
	/// The request's stop sequences.
	pub stops: Vec<String>,
}

/// The answer to an on-chain request for a language model (the off-chain worker's
/// `POST /v1/infer/0x{manifest hash}`): `input` is the body of a chat completion request,
/// whose `model` and `stream` need not be given (the request names the model by its
/// record; answers are whole); the output is the answer's text, UTF-8. A request that names
/// no `seed` samples with `opg_settlement::llm::request_seed` of `chain` (the chain and request
/// id) when given: a seed no node chooses, which anyone recomputes. An answer longer than
/// `opg_primitives::MAX_LLM_ANSWER` bytes is cut there (at a character boundary; finish
/// reason `length`): it always fits the result the node submits.
pub async fn on_chain(
	executor: &Arc<Executor>,
	serving: &LlmServing,
	input: &[u8],
	chain: Option<([u8; 32], u64)>,
) -> Result<OnChain, Reply> {
	let body = on_chain_request(serving, input, chain)?;
	let path = opg_executor_api::path::CHAT_COMPLETIONS;
	let prepared = prepare(executor, Kind::Chat, path, &body)?;
	let seed = prepared.prompt.sampling.seed;
	let stops = prepared.prompt.stops.clone();
	let Started { mut receiver, .. } = submit(prepared)?;
	loop {
		match receiver.recv().await {
			Some(Event::Text(_)) => {},
			Some(Event::Done(mut finished)) => {
				if cut(&mut finished.text, opg_primitives::MAX_LLM_ANSWER) {
					finished.reason = FinishReason::Length;
				}
				return Ok(OnChain { finished, seed, stops });
			},
			Some(Event::Failed(reason)) => {
				return Err(error(
					StatusCode::INTERNAL_SERVER_ERROR,
					"server_error",
					"model_failed",
					reason,
				))
			},
			None => {
				return Err(error(
					StatusCode::INTERNAL_SERVER_ERROR,
					"server_error",
					"model_failed",
					"the engine stopped",
				))
			},
		}
	}
}

/// `answer` changed as a dishonest node would serve it, its evidence still consistent:
/// the first token replaced by another (id 30, or 31 where it was 30), the text that of
/// the tokens so changed, the activations those of the honest answer, which the
/// verifier's prefill over the changed answer does not reproduce (docs/verification.md,
/// "Calibration": an edited token is always caught). A planted honeypot's answer
/// ([`crate::honeypots`]) and the test build's `--cheat corrupt-outputs`
/// ([`crate::cheats`]). `false`, the answer unchanged, where no replacement changes its
/// text.
pub fn tamper(serving: &LlmServing, answer: &mut OnChain) -> bool {
	for replacement in [30, 31] {
		let mut ids = answer.finished.ids.clone();
		match ids.first_mut() {
			Some(first) if *first == replacement => continue,
			Some(first) => *first = replacement,
			None => ids.push(replacement),
		}
		let Ok(mut text) = serving.engine.answer_text(&ids, &answer.stops) else { continue };
		cut(&mut text, opg_primitives::MAX_LLM_ANSWER);
		if text != answer.finished.text {
			answer.finished.ids = ids;
			answer.finished.text = text;
			return true;
		}
	}
	false
}

/// The evidence of an on-chain answer, which the executor keeps for the result's verifiers
/// (`GET /v1/evidence/{request}`): JSON `{genesis, request, model_hash, input_hash,
/// output_hash, seed, tokens, commitments, digest, node, signature}`, the commitments
/// base64 as in a direct answer's `opg.activations`, the signature the node key's over
/// `opg_settlement::message::llm_activations` with the input's hash as the call digest.
/// `None` when the answer was not generated keeping its hidden states.
pub fn on_chain_evidence(
	executor: &Executor,
	serving: &LlmServing,
	(genesis, request): ([u8; 32], u64),
	input_hash: &[u8; 32],
	answer: &OnChain,
) -> Option<Vec<u8>> {
	let finished = &answer.finished;
	let (commitments, digest) = committed(finished)?;
	let output_hash = crate::sha256(finished.text.as_bytes());
	let signed = opg_settlement::message::llm_activations(
		&genesis,
		&serving.hash,
		input_hash,
		&output_hash,
		answer.seed,
		&digest,
	);
	let key = executor.node_key();
	let hexed = |bytes: &[u8]| format!("0x{}", hex::encode(bytes));
	Some(
		json!({
			"genesis": hexed(genesis.as_slice()),
			"request": request,
			"model_hash": hexed(serving.hash.as_slice()),
			"input_hash": hexed(input_hash.as_slice()),
			"output_hash": hexed(output_hash.as_slice()),
			"seed": answer.seed.to_string(),
			"tokens": finished.ids,
			"commitments": commitments,
			"digest": hexed(digest.as_slice()),
			"node": key.map(|key| hexed(key.public().as_slice())),
			"signature": key.map(|key| hexed(key.sign(&signed).as_slice())),
		})
		.to_string()
		.into_bytes(),
	)
}

/// A verifier's verdict on a held result.
#[derive(Debug)]
pub struct Judged {
	/// Whether the result is the model's.
	pub valid: bool,
	/// Why, in words.
	pub reason: String,
	/// No store or peer had the evidence the verdict needs.
	pub evidence_missing: bool,
}

/// The largest evidence read from a peer.
const MAX_EVIDENCE: usize = 4 << 20;

/// A verifier's check of a language model's answer to on-chain request `chain` whose
/// output (the answer's text) the node claimed hashes to `claimed`: the answer's evidence
/// (tokens and activation commitments), from this executor's store or its peers, must
/// give that text, and pass the activation check (`llm::activations::check`) with the
/// prompt and sampling the input makes and the seed the chain and request fix. Any
/// evidence that passes makes the result valid (whoever served it: a peer cannot make an
/// answer fail that its node's own evidence shows right); no evidence, or none that
/// passes, makes it invalid. A verifier's read `permission` is shown to the peers (a
/// private request's evidence is served to the verifiers seated on its case alone).
pub async fn check_on_chain(
	executor: &Arc<Executor>,
	serving: &LlmServing,
	input: &[u8],
	chain: ([u8; 32], u64),
	claimed: &[u8; 32],
	permission: Option<&crate::http::ReadPermission>,
) -> Result<Judged, Reply> {
	// An input the model answers no request for has no right answer: whatever the node
	// claimed is not the model's.
	let unanswerable = |reply: Reply| Judged {
		valid: false,
		reason: format!(
			"the input makes no request the model answers: {}",
			String::from_utf8_lossy(&reply.body)
		),
		evidence_missing: false,
	};
	let body = match on_chain_request(serving, input, Some(chain)) {
		Ok(body) => body,
		Err(reply) => return Ok(unanswerable(reply)),
	};
	let path = opg_executor_api::path::CHAT_COMPLETIONS;
	let prompt = match prepare(executor, Kind::Chat, path, &body) {
		Ok(Prepared { prompt, .. }) => prompt,
		Err(reply) if reply.status == StatusCode::BAD_REQUEST => return Ok(unanswerable(reply)),
		Err(reply) => return Err(reply),
	};
	let (genesis, request) = chain;
	let kept = executor.store().evidence(&genesis, request, claimed).map_err(|e| {
		error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "store_failed", e.to_string())
	})?;
	let call = opg_executor_api::Call::Evidence { genesis: &genesis, request, output: claimed };
	let shown = permission.map(|permission| permission.headers()).unwrap_or_default();
	let mut sources = executor.peers().iter();
	let mut next = kept.map(|(kept, _)| ("this executor's store".to_owned(), kept));
	let (mut missing, mut refused) = (Vec::new(), Vec::new());
	loop {
		let (source, evidence) = match next.take() {
			Some(found) => found,
			None => {
				let Some(peer) = sources.next() else { break };
				match crate::fetch::get_with(&call.uri(peer), MAX_EVIDENCE, &shown).await {
					Ok(bytes) => (peer.clone(), bytes),
					Err(reason) => {
						missing.push(reason);
						continue;
					},
				}
			},
		};
		match judge_evidence(serving, &prompt, claimed, &evidence).await? {
			Ok(reason) => return Ok(Judged { valid: true, reason, evidence_missing: false }),
			Err(reason) => refused.push(format!("{source}: {reason}")),
		}
	}
	Ok(match refused.is_empty() {
		true => Judged {
			valid: false,
			reason: format!(
				"no store or peer has the answer's evidence ({})",
				match missing.is_empty() {
					true => String::from("no peers"),
					false => missing.join("; "),
				}
			),
			evidence_missing: true,
		},
		false => Judged { valid: false, reason: refused.join("; "), evidence_missing: false },
	})
}

/// The body of an on-chain answer's evidence, as a verifier reads it.
#[derive(Deserialize)]
struct Evidence {
	tokens: Vec<u32>,
	commitments: Vec<String>,
}

/// Judges one piece of evidence: `Ok(Ok(why))` when it shows the answer `claimed` is the
/// model's, `Ok(Err(why))` when it does not; `Err` when the check could not run (busy,
/// the model failed: the verifier asks again later).
async fn judge_evidence(
	serving: &LlmServing,
	prompt: &Prompt,
	claimed: &[u8; 32],
	evidence: &[u8],
) -> Result<Result<String, String>, Reply> {
	let evidence: Evidence = match serde_json::from_slice(evidence) {
		Ok(evidence) => evidence,
		Err(e) => return Ok(Err(format!("not an answer's evidence: {e}"))),
	};
	if evidence.tokens.len() > prompt.max_tokens {
		return Ok(Err(format!(
			"{} tokens, more than the request's {}",
			evidence.tokens.len(),
			prompt.max_tokens
		)));
	}
	let mut text = match serving.engine.answer_text(&evidence.tokens, &prompt.stops) {
		Ok(text) => text,
		Err(reason) => return Ok(Err(reason)),
	};
	cut(&mut text, opg_primitives::MAX_LLM_ANSWER);
	if &crate::sha256(text.as_bytes()) != claimed {
		return Ok(Err("its tokens are not the answer the node claimed".into()));
	}
	let commitments = match decode_commitments(&evidence.commitments) {
		Ok(commitments) => commitments,
		Err(reason) => return Ok(Err(reason)),
	};
	let job = llm::CheckJob {
		prompt: prompt.tokens.clone(),
		answer: evidence.tokens,
		sampling: prompt.sampling.clone(),
		commitments,
	};
	let receiver = match serving.engine.check(job) {
		Ok(receiver) => receiver,
		Err(Refused::Busy) => return Err(refusal(Refused::Busy)),
		Err(refused) => return Ok(Err(refused.to_string())),
	};
	match receiver.await {
		Ok(Ok(verdict)) if verdict.accepted => Ok(Ok(format!(
			"activations within the thresholds in {} chunks; tokens: {} the sampler's, {} near ties",
			verdict.chunks.len(),
			verdict.tokens_same,
			verdict.tokens_near
		))),
		Ok(Ok(verdict)) => Ok(Err(format!(
			"refused: {} of {} chunks outside the thresholds; {} tokens the sampler could not have chosen",
			verdict.chunks.iter().filter(|c| !c.passes(&verdict.thresholds)).count(),
			verdict.chunks.len(),
			verdict.tokens_refused
		))),
		Ok(Err(llm::activations::CheckError::Mismatch(reason))) => Ok(Err(reason)),
		Ok(Err(llm::activations::CheckError::Model(reason))) => {
			Err(error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "model_failed", reason))
		},
		Err(_) => Err(error(
			StatusCode::INTERNAL_SERVER_ERROR,
			"server_error",
			"engine_stopped",
			"the model's engine stopped",
		)),
	}
}

/// A fresh seed for a request that names none (the standard library's per-process
/// random hash keys, advanced at each call; a seed is not a secret).
fn rand_seed() -> u64 {
	use std::hash::{BuildHasher, Hasher};
	std::collections::hash_map::RandomState::new().build_hasher().finish()
}

/// The `opg` evidence object of an answer whose text is `text`.
fn evidence(serving: &LlmServing, call: &Call, text: &str, finished: &llm::Finished) -> Value {
	let response_digest = crate::sha256(text.as_bytes());
	let network = call.executor.genesis();
	let genesis = network.unwrap_or([0; 32]);
	let key = call.executor.node_key();
	let signed = opg_settlement::message::llm_answer(
		&genesis,
		&serving.hash,
		&call.digest,
		&response_digest,
		call.seed,
		call.cumulative(),
	);
	json!({
		"model_hash": format!("0x{}", hex::encode(serving.hash)),
		"network": network.map(|g| format!("0x{}", hex::encode(g))),
		"call_digest": format!("0x{}", hex::encode(call.digest)),
		"response_digest": format!("0x{}", hex::encode(response_digest)),
		"seed": call.seed.to_string(),
		"cumulative": call.cumulative().to_string(),
		"node": key.map(|key| format!("0x{}", hex::encode(key.public()))),
		"signature": key.map(|key| format!("0x{}", hex::encode(key.sign(&signed)))),
		"device": serving.device,
		"dtype": serving.dtype,
		"batch_size": finished.batch_size,
		"reproducible": finished.reproducible,
		"activations": activations(serving, call, &response_digest, finished),
	})
}

/// The answer's activation commitments (`llm::activations`), base64, with the tokens
/// generated and the node key's signature over them
/// (`opg_settlement::message::llm_activations`): what a verification node checks the
/// answer with, in one prefill, and holds the node to.
fn activations(
	serving: &LlmServing,
	call: &Call,
	response_digest: &[u8; 32],
	finished: &llm::Finished,
) -> Value {
	let Some((commitments, digest)) = committed(finished) else { return Value::Null };
	let signed = opg_settlement::message::llm_activations(
		&call.executor.genesis().unwrap_or([0; 32]),
		&serving.hash,
		&call.digest,
		response_digest,
		call.seed,
		&digest,
	);
	json!({
		"commitments": commitments,
		"tokens": finished.ids,
		"digest": format!("0x{}", hex::encode(digest)),
		"signature": call.executor.node_key().map(|key| format!("0x{}", hex::encode(key.sign(&signed)))),
	})
}

/// An answer's activation commitments (`llm::activations::commit`), base64, and their
/// digest with its tokens (`opg_settlement::llm::activations_digest`); `None` (logged) when
/// it was not generated keeping every step's hidden state.
fn committed(finished: &llm::Finished) -> Option<(Vec<String>, [u8; 32])> {
	use base64::Engine as _;
	let width = finished.hidden.first().map_or(0, |h| h.values.len());
	let commitments = match llm::activations::commit(finished, width) {
		Ok(commitments) => commitments,
		Err(error) => {
			tracing::warn!(%error, "no activation commitments");
			return None;
		},
	};
	let bytes: Vec<Vec<u8>> = commitments.iter().map(|c| c.to_bytes()).collect();
	let digest =
		opg_settlement::llm::activations_digest(&finished.ids, bytes.iter().map(|b| b.as_slice()));
	let encoded = bytes
		.iter()
		.map(|b| base64::engine::general_purpose::STANDARD.encode(b))
		.collect();
	Some((encoded, digest))
}

fn usage(finished: &llm::Finished) -> Value {
	json!({
		"prompt_tokens": finished.prompt_tokens,
		"completion_tokens": finished.ids.len(),
		"total_tokens": finished.prompt_tokens + finished.ids.len(),
	})
}

async fn whole(
	serving: &LlmServing,
	mut receiver: tokio::sync::mpsc::UnboundedReceiver<Event>,
	mut call: Call,
) -> Reply {
	let failed = |reason: &str| {
		error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "model_failed", reason)
	};
	let finished = loop {
		match receiver.recv().await {
			Some(Event::Text(_)) => {},
			Some(Event::Done(finished)) => break finished,
			Some(Event::Failed(reason)) => {
				refund(&call.executor, call.payment.as_ref());
				return failed(&reason);
			},
			None => {
				refund(&call.executor, call.payment.as_ref());
				return failed("the engine stopped");
			},
		}
	};
	let paid = match charge(serving, &mut call, &finished, &finished.text) {
		Ok(paid) => paid,
		Err(reason) => return failed(&reason),
	};
	let call = &call;
	let mut opg = evidence(serving, call, &finished.text, &finished);
	if let Some(paid) = &paid {
		opg["payment"] = paid.clone();
	}
	let choice = match call.kind {
		Kind::Chat => json!({
			"index": 0,
			"message": {"role": "assistant", "content": finished.text},
			"logprobs": null,
			"finish_reason": finished.reason.name(),
		}),
		Kind::Completion => json!({
			"index": 0,
			"text": finished.text,
			"logprobs": null,
			"finish_reason": finished.reason.name(),
		}),
	};
	let body = json!({
		"id": call.id,
		"object": if call.kind == Kind::Chat { "chat.completion" } else { "text_completion" },
		"created": call.created,
		"model": serving.name,
		"system_fingerprint": format!("opg-{}", &hex::encode(serving.hash)[..12]),
		"choices": [choice],
		"usage": usage(&finished),
		"opg": opg,
	});
	let mut reply = Reply::json(body.to_string());
	let header = |name: &'static str, field: &str| {
		opg.get(field).and_then(Value::as_str).map(|value| (name, value.to_owned()))
	};
	use opg_executor_api::header as h;
	reply.headers.extend(
		[
			header(h::NODE, "node"),
			header(h::SIGNATURE, "signature"),
			header(h::MODEL_HASH, "model_hash"),
			header(h::SEED, "seed"),
		]
		.into_iter()
		.flatten(),
	);
	reply.headers.push((h::REPRODUCIBLE, finished.reproducible.to_string()));
	if let Some(paid) = &paid {
		let value = crate::payment::header_value(paid);
		reply.headers.push((opg_executor_api::payment::RESPONSE, value));
	}
	reply
}

/// The server-sent events of a streamed answer: a first chunk with the role, one per piece
/// of text, a last one with the finish reason and the evidence (and `usage` when asked),
/// then `[DONE]`. A client that goes away stops the sequence.
fn stream_events(
	serving: Arc<LlmServing>,
	mut receiver: tokio::sync::mpsc::UnboundedReceiver<Event>,
	mut call: Call,
) -> tokio::sync::mpsc::Receiver<Bytes> {
	let (sender, events) = tokio::sync::mpsc::channel(64);
	tokio::spawn(async move {
		let (kind, id, created) = (call.kind, call.id.clone(), call.created);
		let chunk = |delta: Value, finish: Option<FinishReason>| {
			let choice = match kind {
				Kind::Chat => json!({
					"index": 0, "delta": delta, "logprobs": null,
					"finish_reason": finish.map(FinishReason::name),
				}),
				Kind::Completion => json!({
					"index": 0,
					"text": delta.get("content").cloned().unwrap_or(Value::String(String::new())),
					"logprobs": null,
					"finish_reason": finish.map(FinishReason::name),
				}),
			};
			json!({
				"id": id,
				"object": if kind == Kind::Chat { "chat.completion.chunk" } else { "text_completion" },
				"created": created,
				"model": serving.name,
				"system_fingerprint": format!("opg-{}", &hex::encode(serving.hash)[..12]),
				"choices": [choice],
			})
		};
		let frame = |value: &Value| Bytes::from(format!("data: {value}\n\n"));
		if call.kind == Kind::Chat
			&& sender
				.send(frame(&chunk(json!({"role": "assistant", "content": ""}), None)))
				.await
				.is_err()
		{
			refund(&call.executor, call.payment.as_ref());
			return;
		}
		let mut text = String::new();
		let failure = |reason: &str| {
			json!({"error": {"message": reason, "type": "server_error", "param": null,
				"code": "model_failed"}})
		};
		loop {
			match receiver.recv().await {
				Some(Event::Text(piece)) => {
					text.push_str(&piece);
					if sender.send(frame(&chunk(json!({"content": piece}), None))).await.is_err() {
						// The client went away: its sequence stops, unanswered and unpaid.
						refund(&call.executor, call.payment.as_ref());
						return;
					}
				},
				Some(Event::Done(finished)) => {
					let paid = match charge(&serving, &mut call, &finished, &text) {
						Ok(paid) => paid,
						Err(reason) => {
							let _ = sender.send(frame(&failure(&reason))).await;
							break;
						},
					};
					let mut last = chunk(json!({}), Some(finished.reason));
					last["opg"] = evidence(&serving, &call, &text, &finished);
					if let Some(paid) = paid {
						last["opg"]["payment"] = paid;
					}
					if call.include_usage {
						last["usage"] = usage(&finished);
					}
					let _ = sender.send(frame(&last)).await;
					break;
				},
				Some(Event::Failed(reason)) => {
					refund(&call.executor, call.payment.as_ref());
					let _ = sender.send(frame(&failure(&reason))).await;
					break;
				},
				None => {
					refund(&call.executor, call.payment.as_ref());
					break;
				},
			}
		}
		let _ = sender.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
	});
	events
}

#[cfg(test)]
mod tests {
	use super::cut;

	#[test]
	fn an_answer_is_cut_at_a_character_boundary_within_the_bound() {
		let mut text = String::from("abc");
		assert!(!cut(&mut text, 3));
		assert_eq!(text, "abc");
		// "é" is two bytes: a cut inside it keeps the character out.
		let mut text = String::from("aé🚀b");
		assert!(cut(&mut text, 2));
		assert_eq!(text, "a");
		let mut text = String::from("aé🚀b");
		assert!(cut(&mut text, 6));
		assert_eq!(text, "aé");
		let mut text = String::from("aé🚀b");
		assert!(cut(&mut text, 7));
		assert_eq!(text, "aé🚀");
	}
}
