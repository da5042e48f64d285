//! Activation commitments of an answer, and a verifier's check of them (issue 19's
//! re-execution of language models), over [`opg_activations`].
//!
//! The serving engine keeps the final hidden state of the prompt's last position and of
//! every position it feeds a generated token at ([`Prompt::hidden_every`] = 1): the rows
//! TOPLOC commits to (the prefill's, then one per decoding step). [`commit`] turns them into
//! one [`Commitment`] for the prefill and one per [`opg_activations::DECODE_BATCHING`]
//! steps.
//!
//! A verifier [`check`]s an answer with **one prefill** over the prompt and the answer (all
//! but its last token, which was never fed back): it gets the same rows, compares each
//! chunk with its commitment, and replays the seeded sampler on its own logits, token by
//! token with the answer as context, so that the tokens too are the model's choice and
//! not the node's.
//!
//! [`Prompt::hidden_every`]: super::Prompt::hidden_every

use super::{
	sampling::{self, Generator, Sampling},
	Finished, LlmModel,
};
use opg_activations::{check_generation, commit_generation, Check, Commitment, Thresholds};
use tch::{Device, Kind, Tensor};

/// The commitments of `finished`, generated with `hidden_every` = 1: one for the prompt's
/// last position, one per 32 decoding steps.
pub fn commit(finished: &Finished, width: usize) -> Result<Vec<Commitment>, String> {
	let (prefill, decode) = rows(finished, width)?;
	commit_generation(&prefill, &decode, width).map_err(|e| format!("no commitment: {e:?}"))
}

/// The prefill row and the decoding rows of `finished`'s hidden states.
fn rows(finished: &Finished, width: usize) -> Result<(Vec<f32>, Vec<f32>), String> {
	let expected = finished.ids.len();
	let prompt_end = finished.prompt_tokens.checked_sub(1).ok_or("no prompt")?;
	let positions: Vec<usize> = finished.hidden.iter().map(|h| h.position).collect();
	if positions.len() != expected
		|| positions.iter().enumerate().any(|(i, &p)| p != prompt_end + i)
		|| finished.hidden.iter().any(|h| h.values.len() != width)
	{
		return Err("the answer was not generated keeping every step's hidden state".into());
	}
	let mut values = finished.hidden.iter().flat_map(|h| h.values.iter().copied());
	let prefill: Vec<f32> = values.by_ref().take(width).collect();
	Ok((prefill, values.collect()))
}

/// How close a token the node chose must be to the verifier's replay where they differ
/// (float rounding can move a near tie): greedy, the node's token's logit within
/// `logit` of the best; sampled, the draw within `mass` (a fraction of the kept
/// probability) of the node's token's interval. Beyond that a token is refused, and an
/// answer with more than `max_refused` (a fraction of its tokens) refused ones fails.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenTolerance {
	/// In logits.
	pub logit: f32,
	/// A fraction of the probability mass the sampler kept.
	pub mass: f64,
	/// A fraction of the answer's tokens.
	pub max_refused: f64,
}

impl TokenTolerance {
	/// For f32 weights on both sides: prefill and step-by-step decoding agree to float
	/// rounding (honest answers here replay exactly), so no token may be refused.
	pub const F32: Self = Self { logit: 0.05, mass: 0.01, max_refused: 0.0 };
	/// For bf16 weights: a prefill's logits differ from decoding's by up to about 0.74
	/// (the bf16 test's measured bound is 1.5), which moves sampled draws much further;
	/// honest 256-token answers had up to 7 tokens outside 10 % of the mass
	/// (docs/verification.md, calibrated there by `benches/calibrate.rs`).
	pub const BF16: Self = Self { logit: 1.5, mass: 0.15, max_refused: 0.04 };

	/// The tolerance for weights of `kind`.
	pub fn of(kind: tch::Kind) -> Self {
		match kind {
			tch::Kind::Float | tch::Kind::Double => Self::F32,
			_ => Self::BF16,
		}
	}

	/// Whether `refused` of `tokens` tokens is within the tolerance: `max_refused` of them,
	/// rounded up (a short bf16 answer may have one near tie too many).
	pub fn allows(&self, refused: usize, tokens: usize) -> bool {
		refused as f64 <= (self.max_refused * tokens as f64).ceil()
	}
}

/// The activation thresholds for a check in weights of `kind`: [`Thresholds::F32`] for f32
/// (honest f32 answers differ by rounding alone, and the tighter mantissa bound is what
/// tells bf16 weights served as f32), the paper's for bf16 and f16.
pub fn thresholds_of(kind: tch::Kind) -> Thresholds {
	match kind {
		tch::Kind::Float | tch::Kind::Double => Thresholds::F32,
		_ => Thresholds::PAPER,
	}
}

impl Default for TokenTolerance {
	fn default() -> Self {
		Self::F32
	}
}

/// A verifier's verdict on an answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
	/// One per commitment, in order.
	pub chunks: Vec<Check>,
	/// Tokens the replayed sampler chose as the node did.
	pub tokens_same: usize,
	/// Tokens it chose otherwise, the node's being a near tie (within the tolerance).
	pub tokens_near: usize,
	/// Tokens the node could not have chosen.
	pub tokens_refused: usize,
	/// Whether every chunk passes the thresholds and the refused tokens are within the
	/// tolerance.
	pub accepted: bool,
	/// The thresholds the chunks were judged by.
	pub thresholds: Thresholds,
}

/// Why an answer could not be checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
	/// The answer does not fit its commitments (their count is not its chunks'), or there
	/// is no prompt or answer: the node's evidence is not of this answer.
	Mismatch(String),
	/// The model failed.
	Model(String),
}

impl std::fmt::Display for CheckError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::Mismatch(reason) | Self::Model(reason) => f.write_str(reason),
		}
	}
}

/// Checks an answer: `prompt` and the node's `answer` tokens (its last one included),
/// generated with `sampling`, against `commitments`, with one prefill of `model`.
pub fn check(
	model: &LlmModel,
	prompt: &[u32],
	answer: &[u32],
	sampling: &Sampling,
	commitments: &[Commitment],
	thresholds: &Thresholds,
	tolerance: &TokenTolerance,
) -> Result<Verdict, CheckError> {
	if prompt.is_empty() || answer.is_empty() {
		return Err(CheckError::Mismatch(
			"a prompt and an answer of at least one token each".into(),
		));
	}
	let width = model.llama.config().hidden_size;
	let fed: Vec<u32> = prompt.iter().chain(&answer[..answer.len() - 1]).copied().collect();
	let (hidden, logits) = model
		.llama
		.prefill_all(&fed, prompt.len() - 1)
		.map_err(|e| CheckError::Model(format!("libtorch: {e}")))?;
	// Both read where the prefill left them, by rows (the logits of 256 positions are 50 MB
	// in SmolLM2: a copy cost about 25 ms of a check).
	let hidden = f32_values(&hidden)?;
	let vocabulary = logits.size().last().copied().unwrap_or(0).max(1) as usize;
	let logits = f32_values(&logits)?.chunks(vocabulary);
	let rows = &hidden[(prompt.len() - 1) * width..];
	let (prefill, decode) = rows.split_at(width);
	let chunks = check_generation(commitments, prefill, decode, width).ok_or_else(|| {
		CheckError::Mismatch(format!(
			"{} commitments for an answer of {} tokens (it has {} chunks)",
			commitments.len(),
			answer.len(),
			1 + (answer.len() - 1).div_ceil(opg_activations::DECODE_BATCHING)
		))
	})?;
	// The sampler's steps replayed in parallel, one run of tokens per core: a sampled step
	// draws once, so the run from token i starts from the generator after i draws.
	let rows: Vec<&[f32]> = logits.collect();
	let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(rows.len());
	let per = rows.len().div_ceil(threads.max(1));
	let replay_run = |start: usize| {
		let mut generator = Generator::after(sampling.seed, start as u64);
		let mut counts = [0usize; 3];
		for (row, &token) in rows.iter().zip(answer).skip(start).take(per) {
			counts[match replay(row, sampling, &mut generator, token, tolerance) {
				Replay::Same => 0,
				Replay::Near => 1,
				Replay::Refused => 2,
			}] += 1;
		}
		counts
	};
	let runs: Vec<[usize; 3]> = std::thread::scope(|scope| {
		let started: Vec<_> = (1..threads)
			.map(|run| {
				let replay_run = &replay_run;
				scope.spawn(move || replay_run(run * per))
			})
			.collect();
		let mut runs = vec![replay_run(0)];
		runs.extend(started.into_iter().map(|run| run.join().unwrap_or([0, 0, usize::MAX])));
		runs
	});
	let count = |kind: usize| runs.iter().fold(0usize, |sum, run| sum.saturating_add(run[kind]));
	let (tokens_same, tokens_near, tokens_refused) = (count(0), count(1), count(2));
	let accepted = tolerance.allows(tokens_refused, answer.len())
		&& chunks.iter().all(|c| c.passes(thresholds));
	Ok(Verdict {
		chunks,
		tokens_same,
		tokens_near,
		tokens_refused,
		accepted,
		thresholds: *thresholds,
	})
}

/// The values of a contiguous f32 tensor on the CPU, borrowed for as long as `tensor` is.
fn f32_values(tensor: &Tensor) -> Result<&[f32], CheckError> {
	if tensor.kind() != Kind::Float || tensor.device() != Device::Cpu || !tensor.is_contiguous() {
		return Err(CheckError::Model(format!(
			"libtorch: expected a contiguous f32 tensor on the CPU, got {:?} on {:?}",
			tensor.kind(),
			tensor.device()
		)));
	}
	let len = tensor.numel();
	if len == 0 {
		return Ok(&[]);
	}
	// SAFETY: a contiguous f32 tensor on the CPU holds `numel` f32 values from its data
	// pointer (non-null, aligned: len > 0), in storage that lives while `tensor` is
	// borrowed; nothing writes to it meanwhile (the prefill's outputs are not shared).
	Ok(unsafe { std::slice::from_raw_parts(tensor.data_ptr() as *const f32, len) })
}

enum Replay {
	Same,
	Near,
	Refused,
}

/// The sampler's step on the verifier's `logits` against the node's `token` (drawing as
/// the node's generator did).
fn replay(
	logits: &[f32],
	sampling: &Sampling,
	generator: &mut Generator,
	token: u32,
	tolerance: &TokenTolerance,
) -> Replay {
	let Some(&logit) = logits.get(token as usize) else { return Replay::Refused };
	if sampling.is_greedy() {
		let best = logits[sampling::argmax(logits) as usize];
		return if logit == best && sampling::argmax(logits) == token {
			Replay::Same
		} else if best - logit <= tolerance.logit {
			Replay::Near
		} else {
			Replay::Refused
		};
	}
	let (kept, draw) = sampling::kept_and_draw(logits, sampling, generator);
	let margin = tolerance.mass * kept.iter().map(|(_, weight)| weight).sum::<f64>();
	let mut low = 0.0;
	for (index, &(candidate, weight)) in kept.iter().enumerate() {
		let high = if index + 1 == kept.len() { f64::INFINITY } else { low + weight };
		if candidate == token {
			return if draw >= low && draw < high {
				Replay::Same
			} else if draw >= low - margin && draw < high + margin {
				Replay::Near
			} else {
				Replay::Refused
			};
		}
		low += weight;
	}
	Replay::Refused
}

#[cfg(test)]
mod tests {
	use super::{f32_values, CheckError, TokenTolerance};
	use tch::{Kind, Tensor};

	#[test]
	fn a_contiguous_f32_tensor_is_read_in_place_and_any_other_is_refused() {
		let values: Vec<f32> = (0..12).map(|i| i as f32 * 0.5).collect();
		let tensor = Tensor::from_slice(&values).view([3, 4]);
		assert_eq!(f32_values(&tensor).unwrap(), &values[..]);
		assert_eq!(f32_values(&Tensor::from_slice::<f32>(&[])).unwrap(), &[] as &[f32]);
		let refused = |tensor: &Tensor| matches!(f32_values(tensor), Err(CheckError::Model(_)));
		assert!(refused(&tensor.tr()), "a transposed view is not contiguous");
		assert!(refused(&tensor.to_kind(Kind::BFloat16)), "bf16 values are not f32s");
		assert!(refused(&tensor.to_kind(Kind::Double)), "nor are f64s");
	}

	#[test]
	fn f32_allows_no_refused_token_and_bf16_a_rounded_up_share() {
		assert!(TokenTolerance::F32.allows(0, 256));
		assert!(!TokenTolerance::F32.allows(1, 256));
		assert!(TokenTolerance::BF16.allows(1, 10), "4 % of 10, rounded up, is 1");
		assert!(!TokenTolerance::BF16.allows(2, 10));
		assert!(TokenTolerance::BF16.allows(11, 256));
		assert!(!TokenTolerance::BF16.allows(12, 256));
	}
}
