//! Invariants of commitments and checks over random chunks.

use opg_activations::{
	bf16, check, check_generation, chunks, commit_generation, Commitment, Thresholds,
	COMMITMENT_BYTES, DECODE_BATCHING, TOP_K,
};
use proptest::prelude::*;

fn finite_chunk() -> impl Strategy<Value = Vec<f32>> {
	prop::collection::vec(-1.0e4f32..1.0e4, 1..3000)
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	#[test]
	fn a_chunk_checked_against_itself_passes_with_nothing_different(chunk in finite_chunk()) {
		let commitment = Commitment::of(&chunk, TOP_K).unwrap();
		let result = check(&commitment, &chunk, TOP_K);
		prop_assert_eq!(result.compared as usize, chunk.len().min(TOP_K));
		prop_assert_eq!(result.mismatches(), 0);
		prop_assert_eq!(result.mantissa_mean, 0.0);
		prop_assert!(result.passes(&Thresholds::PAPER));
	}

	#[test]
	fn a_commitment_is_its_bytes_and_reads_back_every_committed_value(chunk in finite_chunk()) {
		let commitment = Commitment::of(&chunk, TOP_K).unwrap();
		let bytes = commitment.to_bytes();
		prop_assert_eq!(bytes.len(), COMMITMENT_BYTES);
		prop_assert_eq!(Commitment::from_bytes(&bytes).unwrap(), commitment.clone());
		let bits: Vec<u16> = chunk.iter().map(|&v| bf16::from_f32(v)).collect();
		for position in opg_activations::commitment::top_k(&bits, TOP_K) {
			prop_assert_eq!(commitment.value_at(position), bits[position as usize]);
		}
	}

	#[test]
	fn any_bytes_are_a_commitment_or_a_named_refusal_never_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
		if let Ok(commitment) = Commitment::from_bytes(&bytes) {
			prop_assert_eq!(commitment.to_bytes(), bytes);
			let _ = check(&commitment, &[1.0, -2.0, 3.0], TOP_K);
		}
	}

	#[test]
	fn a_generation_has_one_chunk_for_its_prefill_and_one_per_32_decoded_rows(
		prompt_rows in 1usize..5, decoded in 0usize..100, width in 1usize..40,
	) {
		let prefill: Vec<f32> = (0..prompt_rows * width).map(|i| (i as f32).sin()).collect();
		let decode: Vec<f32> = (0..decoded * width).map(|i| (i as f32).cos()).collect();
		let expected = 1 + decoded.div_ceil(DECODE_BATCHING);
		prop_assert_eq!(chunks(&prefill, &decode, width).len(), expected);
		let commitments = commit_generation(&prefill, &decode, width).unwrap();
		let checks = check_generation(&commitments, &prefill, &decode, width).unwrap();
		prop_assert!(checks.iter().all(|c| c.passes(&Thresholds::PAPER)));
		prop_assert!(check_generation(&commitments[1..], &prefill, &decode, width).is_none());
	}
}

#[test]
fn an_edited_answer_fails_the_chunk_it_is_in_and_no_other() {
	let width = 64;
	let row = |seed: usize| -> Vec<f32> {
		(0..width)
			.map(|i| ((seed * 7919 + i * 104_729) % 10_007) as f32 / 1000.0 - 5.0)
			.collect()
	};
	let prefill: Vec<f32> = (0..3).flat_map(row).collect();
	let decode: Vec<f32> = (3..100).flat_map(row).collect();
	let commitments = commit_generation(&prefill, &decode, width).unwrap();
	let mut edited = decode.clone();
	// Rows 40..44 (the second decode chunk) as another run would have them.
	for value in &mut edited[40 * width..44 * width] {
		*value = -*value * 1.7 + 0.3;
	}
	let verdicts: Vec<bool> = check_generation(&commitments, &prefill, &edited, width)
		.unwrap()
		.iter()
		.map(|c| c.passes(&Thresholds::PAPER))
		.collect();
	assert_eq!(verdicts, [true, true, false, true, true]);
}
