//! Large language models on libtorch: a Llama-family decoder ([`model`], its weight
//! products in [`linear`]), its tokenizer
//! and chat template ([`text`]), token choice ([`sampling`]), and the [`Engine`] that
//! decodes concurrent requests together.
//!
//! A model is three files, as `scripts/llm-convert.py` writes them from a GGUF file (or as
//! a Hugging Face Llama checkpoint has them): `model.safetensors`, `tokenizer.json` and
//! `config.json` (architecture, ids of the special tokens, chat template).
//!
//! The engine owns the model on one thread. Requests wait in a bounded queue; each step
//! runs every active sequence's next token together — a new request's whole prompt
//! (prefill) beside the others' single tokens — and a finished sequence's place is taken
//! by the next request at the following step (continuous batching). Each request gets its
//! answer's text as it is decoded, then how it ended.

pub mod activations;
pub mod config;
pub mod fused;
pub mod linear;
pub mod manifest;
pub mod model;
pub mod phases;
pub mod sampling;
pub mod text;

pub use config::LlmConfig;
pub use model::{KvCache, Llama, Slot};
pub use sampling::{Generator, Sampling};
pub use text::{Detokenizer, Message, Text};

use crate::metrics::Metrics;
use std::{
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc,
	},
	time::Instant,
};
use tch::{Device, Kind};

/// A model and its text side.
pub struct LlmModel {
	/// The decoder (libtorch tensors: `Send`, not `Sync`; one thread runs it).
	pub llama: Llama,
	/// Its tokenizer and chat template, shared with the threads that prepare requests.
	pub text: Arc<Text>,
	/// The tokens that end an answer.
	pub eos: Vec<u32>,
}

impl LlmModel {
	/// The model of a `config.json`, `tokenizer.json` and `model.safetensors`, in `kind`
	/// on `device`.
	pub fn load(
		config_json: &[u8],
		tokenizer_json: &[u8],
		safetensors: &[u8],
		kind: Kind,
		device: Device,
	) -> Result<Self, String> {
		let config = LlmConfig::parse(config_json)?;
		let eos = config.eos_ids();
		let text = Arc::new(Text::new(
			tokenizer_json,
			config.chat_template.clone(),
			config.bos_token_id,
			eos.first().copied(),
		)?);
		if text.vocab_size() > config.vocab_size {
			return Err(format!(
				"the tokenizer has {} tokens but the model {}",
				text.vocab_size(),
				config.vocab_size
			));
		}
		let llama = Llama::load(config, safetensors, kind, device)
			.map_err(|e| format!("model.safetensors: {e}"))?;
		Ok(Self { llama, text, eos })
	}

	/// The model of the three files in `dir`.
	pub fn load_dir(dir: &std::path::Path, kind: Kind, device: Device) -> Result<Self, String> {
		let read = |name: &str| {
			std::fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()))
		};
		Self::load(
			&read("config.json")?,
			&read("tokenizer.json")?,
			&read("model.safetensors")?,
			kind,
			device,
		)
	}
}

/// What a request asks.
#[derive(Clone, Debug)]
pub struct Prompt {
	/// The prompt's tokens.
	pub tokens: Vec<u32>,
	/// The most tokens to generate.
	pub max_tokens: usize,
	/// How to choose them.
	pub sampling: Sampling,
	/// Texts that end the answer (left out of it).
	pub stops: Vec<String>,
	/// Keep the final hidden state (after the last norm) of the prompt's last position and
	/// of every `hidden_every`-th generated token's (0: none): what a verifier's
	/// activation commitments are computed from.
	pub hidden_every: usize,
}

/// The final hidden state of one position of a sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct HiddenState {
	/// The position (0 is the prompt's first token).
	pub position: usize,
	/// The state, `hidden_size` values (after the last norm, in f32).
	pub values: Vec<f32>,
}

/// Why an answer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
	/// An end-of-sequence token or a stop sequence.
	Stop,
	/// `max_tokens`, or the model's context, was reached.
	Length,
}

impl FinishReason {
	/// OpenAI's name of it.
	pub fn name(self) -> &'static str {
		match self {
			Self::Stop => "stop",
			Self::Length => "length",
		}
	}
}

/// How an answer ended.
#[derive(Clone, Debug)]
pub struct Finished {
	/// Why.
	pub reason: FinishReason,
	/// The prompt's tokens.
	pub prompt_tokens: usize,
	/// The tokens generated (an end-of-sequence token included).
	pub ids: Vec<u32>,
	/// The answer's whole text.
	pub text: String,
	/// The most sequences decoded together while it ran.
	pub batch_size: usize,
	/// Whether rerunning it gives the same bits: it ran alone, with deterministic
	/// algorithms.
	pub reproducible: bool,
	/// The hidden states [`Prompt::hidden_every`] asked for, by position.
	pub hidden: Vec<HiddenState>,
}

/// What the engine sends a request, in order: text pieces, then the end.
#[derive(Clone, Debug)]
pub enum Event {
	/// More of the answer's text.
	Text(String),
	/// The answer is complete.
	Done(Finished),
	/// The model failed.
	Failed(String),
}

/// Why a request was not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
	/// The queue is full: try again later.
	Busy,
	/// The prompt and `max_tokens` do not fit the model's context (tokens asked, context).
	ContextOverflow(usize, usize),
	/// The request is unusable (empty prompt, zero tokens, bad sampling parameters).
	Invalid(String),
}

impl std::fmt::Display for Refused {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::Busy => write!(f, "the model's queue is full"),
			Self::ContextOverflow(asked, context) => write!(
				f,
				"the prompt and max_tokens take {asked} tokens; the model's context is {context}"
			),
			Self::Invalid(reason) => f.write_str(reason),
		}
	}
}

struct Job {
	prompt: Prompt,
	events: tokio::sync::mpsc::UnboundedSender<Event>,
	queued: Instant,
}

/// Where an engine reports its work (`GET /metrics`): each step as a batch (the sequences
/// it ran and the model's time), each request's outcome and time from queueing to its
/// answer, the requests waiting.
#[derive(Clone)]
pub struct Report {
	/// The executor's metrics.
	pub metrics: Arc<Metrics>,
	/// The model's label there: its manifest hash, `0x`-prefixed hex.
	pub model: String,
}

/// Runs `update` on `report`'s metrics, if there are any.
fn report(report: Option<&Report>, update: impl FnOnce(&Metrics, &str)) {
	if let Some(report) = report {
		update(&report.metrics, &report.model);
	}
}

/// A verifier's check of an answer ([`activations::check`]), run between decoding steps.
pub struct CheckJob {
	/// The prompt's tokens.
	pub prompt: Vec<u32>,
	/// The answer's tokens, its last included.
	pub answer: Vec<u32>,
	/// How the answer was sampled (its seed included).
	pub sampling: Sampling,
	/// The answer's commitments.
	pub commitments: Vec<opg_activations::Commitment>,
}

/// What the engine's thread is given.
enum Work {
	Generate(Job),
	Check(
		CheckJob,
		tokio::sync::oneshot::Sender<Result<activations::Verdict, activations::CheckError>>,
	),
}

/// The engine serving one model.
pub struct Engine {
	text: Arc<Text>,
	config: LlmConfig,
	queue: std::sync::mpsc::SyncSender<Work>,
	waiting: Arc<AtomicUsize>,
	max_batch: usize,
	report: Option<Report>,
}

/// One sequence being decoded.
struct Active {
	job: Job,
	slot: Slot,
	/// The tokens to run next: the prompt, then each chosen token.
	next: Vec<u32>,
	ids: Vec<u32>,
	generator: Generator,
	detokenizer: Detokenizer,
	batch_size: usize,
	hidden: Vec<HiddenState>,
}

impl Engine {
	/// An engine for `model` (which its thread takes) decoding up to `max_batch` sequences
	/// together, with up to `queue` requests waiting, reporting to `report`.
	pub fn start(model: LlmModel, max_batch: usize, queue: usize, report: Option<Report>) -> Self {
		let (sender, receiver) = std::sync::mpsc::sync_channel(queue.max(1));
		let waiting = Arc::new(AtomicUsize::new(0));
		let max_batch = max_batch.max(1);
		let engine = Self {
			text: model.text.clone(),
			config: model.llama.config().clone(),
			queue: sender,
			waiting: waiting.clone(),
			max_batch,
			report: report.clone(),
		};
		std::thread::Builder::new()
			.name("opg-llm".into())
			.spawn(move || run(&model, &receiver, &waiting, max_batch, report.as_ref()))
			.expect("a thread for the engine");
		engine
	}

	/// An engine whose thread loads its model with `load` first: libtorch's CPU threads
	/// are then the ones that run it (a model loaded on another thread decodes slower
	/// beside that thread's idle OpenMP team). `load`'s error, if it fails.
	pub fn load_and_start(
		load: impl FnOnce() -> Result<LlmModel, String> + Send + 'static,
		max_batch: usize,
		queue: usize,
		report: Option<Report>,
	) -> Result<Self, String> {
		let (sender, receiver) = std::sync::mpsc::sync_channel(queue.max(1));
		let waiting = Arc::new(AtomicUsize::new(0));
		let max_batch = max_batch.max(1);
		let (loaded, outcome) = std::sync::mpsc::channel();
		let running = waiting.clone();
		let reporting = report.clone();
		std::thread::Builder::new()
			.name("opg-llm".into())
			.spawn(move || match load() {
				Ok(model) => {
					let _ = loaded.send(Ok((model.text.clone(), model.llama.config().clone())));
					run(&model, &receiver, &running, max_batch, reporting.as_ref())
				},
				Err(error) => {
					let _ = loaded.send(Err(error));
				},
			})
			.map_err(|e| format!("no thread for the engine: {e}"))?;
		let (text, config) =
			outcome.recv().map_err(|_| String::from("the engine's thread stopped"))??;
		Ok(Self { text, config, queue: sender, waiting, max_batch, report })
	}

	/// The model's tokenizer and chat template.
	pub fn text(&self) -> &Text {
		&self.text
	}

	/// The model's architecture.
	pub fn config(&self) -> &LlmConfig {
		&self.config
	}

	/// The text of an answer of `ids` that ends at `stops`, as the engine made it while
	/// decoding them: an end-of-sequence token ends it (and is not text), a stop sequence
	/// cuts it there. An error if tokens follow its end (the engine never makes them).
	pub fn answer_text(&self, ids: &[u32], stops: &[String]) -> Result<String, String> {
		let eos = self.config.eos_ids();
		let mut detokenizer = Detokenizer::new(stops.to_vec());
		for (index, &id) in ids.iter().enumerate() {
			let ended = if eos.contains(&id) {
				true
			} else {
				detokenizer.push(&self.text, id)?;
				detokenizer.stopped()
			};
			if ended && index + 1 != ids.len() {
				return Err(format!("{} tokens follow the answer's end", ids.len() - index - 1));
			}
		}
		detokenizer.finish();
		Ok(detokenizer.text().to_owned())
	}

	/// The most sequences decoded together.
	pub fn max_batch(&self) -> usize {
		self.max_batch
	}

	/// Requests queued and not yet decoding.
	pub fn waiting(&self) -> usize {
		self.waiting.load(Ordering::Relaxed)
	}

	/// Queues `prompt`; its answer arrives on the returned receiver.
	pub fn submit(
		&self,
		prompt: Prompt,
	) -> Result<tokio::sync::mpsc::UnboundedReceiver<Event>, Refused> {
		let submitted = self.queue_generation(prompt);
		report(self.report.as_ref(), |metrics, model| match &submitted {
			Ok(_) => {},
			Err(Refused::Busy) => metrics.busy(model),
			Err(_) => metrics.request(model, "invalid"),
		});
		submitted
	}

	fn queue_generation(
		&self,
		prompt: Prompt,
	) -> Result<tokio::sync::mpsc::UnboundedReceiver<Event>, Refused> {
		if prompt.tokens.is_empty() {
			return Err(Refused::Invalid("the prompt is empty".into()));
		}
		if prompt.max_tokens == 0 {
			return Err(Refused::Invalid("max_tokens must be at least 1".into()));
		}
		prompt.sampling.check().map_err(Refused::Invalid)?;
		let context = self.config.max_position_embeddings;
		let asked = prompt.tokens.len().saturating_add(prompt.max_tokens);
		if asked > context {
			return Err(Refused::ContextOverflow(asked, context));
		}
		let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
		self.waiting.fetch_add(1, Ordering::Relaxed);
		// Counted before it is queued, so that the engine, which counts it out when it
		// admits it, never takes the gauge below the true depth.
		report(self.report.as_ref(), |metrics, model| metrics.queue_depth(model, 1));
		let job = Job { prompt, events, queued: Instant::now() };
		match self.queue.try_send(Work::Generate(job)) {
			Ok(()) => Ok(receiver),
			Err(_) => {
				self.waiting.fetch_sub(1, Ordering::Relaxed);
				report(self.report.as_ref(), |metrics, model| metrics.queue_depth(model, -1));
				Err(Refused::Busy)
			},
		}
	}

	/// Queues a verifier's check of an answer (one prefill over prompt and answer, which
	/// the decoding sequences wait for); the verdict arrives on the returned receiver.
	pub fn check(
		&self,
		job: CheckJob,
	) -> Result<
		tokio::sync::oneshot::Receiver<Result<activations::Verdict, activations::CheckError>>,
		Refused,
	> {
		if job.prompt.is_empty() || job.answer.is_empty() {
			return Err(Refused::Invalid(
				"a prompt and an answer of at least one token each".into(),
			));
		}
		job.sampling.check().map_err(Refused::Invalid)?;
		let context = self.config.max_position_embeddings;
		let asked = job.prompt.len().saturating_add(job.answer.len());
		if asked > context {
			return Err(Refused::ContextOverflow(asked, context));
		}
		let (reply, receiver) = tokio::sync::oneshot::channel();
		self.waiting.fetch_add(1, Ordering::Relaxed);
		match self.queue.try_send(Work::Check(job, reply)) {
			Ok(()) => Ok(receiver),
			Err(_) => {
				self.waiting.fetch_sub(1, Ordering::Relaxed);
				Err(Refused::Busy)
			},
		}
	}
}

/// The engine's loop: admit, step, answer, until every sender is gone.
fn run(
	model: &LlmModel,
	receiver: &std::sync::mpsc::Receiver<Work>,
	waiting: &AtomicUsize,
	max_batch: usize,
	reporting: Option<&Report>,
) {
	let outcome = |outcome: &'static str| {
		report(reporting, |metrics, model| metrics.request(model, outcome));
	};
	let mut active: Vec<Active> = Vec::new();
	let new_cache = || model.llama.cache(max_batch).map_err(|e| format!("libtorch: {e}"));
	let mut cache = new_cache();
	loop {
		// Idle: a fresh cache gives back what long sequences grew (or retries one that
		// could not be allocated).
		if active.is_empty()
			&& cache.as_ref().map_or(true, |cache| cache.capacity() > model::INITIAL_CAPACITY)
		{
			cache = new_cache();
		}
		// Admit: block for work when idle, else take what waits without blocking.
		while active.len() < max_batch {
			let job = if active.is_empty() {
				match receiver.recv() {
					Ok(job) => job,
					Err(_) => return,
				}
			} else {
				match receiver.try_recv() {
					Ok(job) => job,
					Err(_) => break,
				}
			};
			waiting.fetch_sub(1, Ordering::Relaxed);
			let job = match job {
				Work::Generate(job) => {
					report(reporting, |metrics, model| metrics.queue_depth(model, -1));
					job
				},
				Work::Check(check, reply) => {
					if !reply.is_closed() {
						let verdict = activations::check(
							model,
							&check.prompt,
							&check.answer,
							&check.sampling,
							&check.commitments,
							&activations::thresholds_of(model.llama.kind()),
							&activations::TokenTolerance::of(model.llama.kind()),
						);
						let _ = reply.send(verdict);
					}
					continue;
				},
			};
			if job.events.is_closed() {
				outcome("cancelled");
				continue;
			}
			let slot = match cache.as_mut() {
				Ok(cache) => cache.open().ok_or_else(|| String::from("no free slot")),
				Err(e) => Err(e.clone()),
			};
			match slot {
				Ok(slot) => active.push(Active {
					next: job.prompt.tokens.clone(),
					generator: Generator::new(job.prompt.sampling.seed),
					detokenizer: Detokenizer::new(job.prompt.stops.clone()),
					ids: Vec::new(),
					batch_size: 0,
					hidden: Vec::new(),
					slot,
					job,
				}),
				Err(e) => {
					outcome("failed");
					let _ = job.events.send(Event::Failed(e));
				},
			}
		}
		let Ok(cache) = cache.as_mut() else { continue };
		// Clients gone: their sequences stop.
		active.retain(|sequence| {
			let gone = sequence.job.events.is_closed();
			if gone {
				outcome("cancelled");
				cache.close(sequence.slot);
			}
			!gone
		});
		if active.is_empty() {
			continue;
		}
		let batch_size = active.len();
		let inputs: Vec<(Slot, &[u32])> =
			active.iter().map(|s| (s.slot, s.next.as_slice())).collect();
		let every = |s: &Active| s.job.prompt.hidden_every;
		// The hidden states asked for at this step: after the prompt, then every n tokens.
		let wanted: Vec<bool> = active
			.iter()
			.map(|s| every(s) > 0 && (s.ids.is_empty() || s.ids.len() % every(s) == 0))
			.collect();
		let started = Instant::now();
		let outputs = model.llama.forward(cache, &inputs).and_then(|(hidden, logits)| {
			let hidden = match wanted.contains(&true) {
				true => Some(Vec::<Vec<f32>>::try_from(hidden)?),
				false => None,
			};
			Ok((hidden, Vec::<Vec<f32>>::try_from(logits)?))
		});
		report(reporting, |metrics, model| metrics.batch(model, batch_size, started.elapsed()));
		let (hidden, logits) = match outputs {
			Ok(outputs) => outputs,
			Err(e) => {
				for sequence in active.drain(..) {
					outcome("failed");
					cache.close(sequence.slot);
					let _ = sequence.job.events.send(Event::Failed(format!("libtorch: {e}")));
				}
				continue;
			},
		};
		let mut finished = Vec::new();
		for (index, (sequence, row)) in active.iter_mut().zip(&logits).enumerate() {
			sequence.batch_size = sequence.batch_size.max(batch_size);
			if let (true, Some(hidden)) = (wanted[index], &hidden) {
				let position = cache.len(sequence.slot) - 1;
				sequence.hidden.push(HiddenState { position, values: hidden[index].clone() });
			}
			let token =
				sampling::choose(row, &sequence.job.prompt.sampling, &mut sequence.generator);
			sequence.ids.push(token);
			sequence.next = vec![token];
			let reason = if model.eos.contains(&token) {
				Some(FinishReason::Stop)
			} else {
				match sequence.detokenizer.push(&model.text, token) {
					Ok(piece) => {
						if !piece.is_empty() {
							let _ = sequence.job.events.send(Event::Text(piece));
						}
						if sequence.detokenizer.stopped() {
							Some(FinishReason::Stop)
						} else if sequence.ids.len() >= sequence.job.prompt.max_tokens
							|| cache.len(sequence.slot) >= cache.limit()
						{
							Some(FinishReason::Length)
						} else {
							None
						}
					},
					Err(e) => {
						outcome("failed");
						let _ = sequence.job.events.send(Event::Failed(e));
						finished.push((index, None));
						continue;
					},
				}
			};
			if let Some(reason) = reason {
				finished.push((index, Some(reason)));
			}
		}
		for (index, reason) in finished.into_iter().rev() {
			let mut sequence = active.swap_remove(index);
			cache.close(sequence.slot);
			let Some(reason) = reason else { continue };
			outcome("ok");
			report(reporting, |metrics, model| {
				metrics.latency(model, sequence.job.queued.elapsed())
			});
			let rest = sequence.detokenizer.finish();
			if !rest.is_empty() {
				let _ = sequence.job.events.send(Event::Text(rest));
			}
			let _ = sequence.job.events.send(Event::Done(Finished {
				reason,
				prompt_tokens: sequence.job.prompt.tokens.len(),
				text: sequence.detokenizer.text().to_owned(),
				ids: sequence.ids,
				batch_size: sequence.batch_size,
				reproducible: sequence.batch_size == 1 && crate::torch::deterministic_algorithms(),
				hidden: sequence.hidden,
			}));
		}
	}
}

/// Runs `prompt` alone to its end, on this thread, as the engine would: the answer's text
/// and how it ended.
pub fn generate(model: &LlmModel, prompt: &Prompt) -> Result<Finished, String> {
	let (sender, receiver) = std::sync::mpsc::sync_channel(1);
	let (events, mut answer) = tokio::sync::mpsc::unbounded_channel();
	sender
		.send(Work::Generate(Job { prompt: prompt.clone(), events, queued: Instant::now() }))
		.map_err(|_| String::from("the queue is closed"))?;
	drop(sender);
	// The loop ends once the job is done and the queue is empty and closed.
	run(model, &receiver, &AtomicUsize::new(1), 1, None);
	loop {
		match answer.try_recv() {
			Ok(Event::Text(_)) => {},
			Ok(Event::Done(finished)) => return Ok(finished),
			Ok(Event::Failed(reason)) => return Err(reason),
			Err(_) => return Err("the engine gave no answer".into()),
		}
	}
}
