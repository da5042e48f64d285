//! Activation commitments: how a verification node checks a language model's answer
//! without re-generating it, in the encoding of TOPLOC (Prime Intellect, arXiv 2501.16007;
//! reference implementation PyPI `toploc` 0.1.6, whose output the committed vectors pin).
//!
//! While it decodes, the serving node keeps the last hidden state (after the final norm)
//! of every position: the prompt's (its prefill), then one row per decoded token. It
//! commits to them in [`chunks`]: the prefill, then every [`DECODE_BATCHING`] decoded
//! rows. A chunk's [`Commitment`] is its [`TOP_K`] values largest in magnitude, rounded to
//! bfloat16, interpolated as a polynomial over GF(65497) through the points (position in
//! the chunk, bf16 bits): [`COMMITMENT_BYTES`] bytes however long the chunk.
//!
//! The verifier runs one prefill over prompt and answer, which gives it the same rows, and
//! [`check`](check())s each chunk: at its own top-k positions it reads the node's values off the
//! polynomial and compares sign, exponent and mantissa. Honest runs differ only by float
//! rounding (thread counts, batch positions, kernels); another model, other weights'
//! precision, another prompt or an edited answer give other activations, whose top-k
//! positions and values the polynomial does not fit. [`Thresholds`] say how much
//! difference is rounding.
//!
//! - [`bf16`]: bfloat16 rounding and parts;
//! - [`field`]: GF(65497) and the interpolation;
//! - [`commitment`]: a chunk's commitment and its bytes;
//! - [`check`](mod@check): the verifier's comparison and thresholds.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod bf16;
pub mod check;
pub mod commitment;
pub mod field;

pub use check::{check, Check, Thresholds};
pub use commitment::{Commitment, CommitmentError};

/// How many values of a chunk are committed to.
pub const TOP_K: usize = 128;

/// How many decoded rows one commitment covers (after the prefill's own).
pub const DECODE_BATCHING: usize = 32;

/// The bytes of one commitment: the modulus, then [`TOP_K`] coefficients (u16 big-endian).
pub const COMMITMENT_BYTES: usize = 2 + 2 * TOP_K;

use alloc::vec::Vec;

/// The chunks of a generation, each a flat slice of values: `prefill` (the prompt's rows,
/// flat) then `decode` (one row per decoded token, flat, rows of `width`) by
/// [`DECODE_BATCHING`] rows. An empty prefill gives no chunk of its own.
pub fn chunks<'a>(prefill: &'a [f32], decode: &'a [f32], width: usize) -> Vec<&'a [f32]> {
	chunks_by(prefill, decode, width, DECODE_BATCHING)
}

/// [`chunks`] with `batching` decoded rows a chunk.
pub fn chunks_by<'a>(
	prefill: &'a [f32],
	decode: &'a [f32],
	width: usize,
	batching: usize,
) -> Vec<&'a [f32]> {
	let mut out = Vec::new();
	if !prefill.is_empty() {
		out.push(prefill);
	}
	let step = width.max(1).saturating_mul(batching.max(1));
	out.extend(decode.chunks(step));
	out
}

/// The commitments of a generation: one per chunk of [`chunks`], each to its [`TOP_K`]
/// largest values.
pub fn commit_generation(
	prefill: &[f32],
	decode: &[f32],
	width: usize,
) -> Result<Vec<Commitment>, CommitmentError> {
	chunks(prefill, decode, width)
		.into_iter()
		.map(|chunk| Commitment::of(chunk, TOP_K))
		.collect()
}

/// Checks a generation's commitments against the verifier's own rows: one [`Check`] per
/// chunk, or `None` when the number of commitments is not the number of chunks.
pub fn check_generation(
	commitments: &[Commitment],
	prefill: &[f32],
	decode: &[f32],
	width: usize,
) -> Option<Vec<Check>> {
	let chunks = chunks(prefill, decode, width);
	(chunks.len() == commitments.len()).then(|| {
		commitments
			.iter()
			.zip(chunks)
			.map(|(commitment, chunk)| check(commitment, chunk, TOP_K))
			.collect()
	})
}
