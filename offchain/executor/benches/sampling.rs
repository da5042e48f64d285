//! The sampler's step on a vocabulary's worth of logits (SmolLM2's 49,152), which the
//! engine runs at every sampled step and a verifier at every position of an answer it
//! replays (`llm::activations::check`): `sampling::most_likely_first` (the keys sorted by a
//! radix sort kept from call to call), beside the same keys sorted by `sort_unstable` as
//! the sampler did before (the same order: the keys are distinct), and the whole step,
//! `sampling::kept_and_draw`, at temperature 0.8 and top-p 0.95. One thread.
//!
//! `./scripts/benchmark sampling` (or `cargo bench --bench sampling`); `OPG_BENCH_REPS`
//! calls per figure (300), best of 5 rounds.

use opg_executor::llm::sampling::{
	kept_and_draw, most_likely_first, order_keys, Generator, Sampling,
};
use std::time::Instant;

/// The order as the sampler sorted it until 2026-12-07: the same keys, `sort_unstable`.
fn by_sort_unstable(logits: &[f32]) -> Vec<u32> {
	let mut keys = order_keys(logits);
	keys.sort_unstable();
	keys.into_iter().map(|key| key as u32).collect()
}

/// Milliseconds a call of `step`, the best of 5 rounds of `reps` calls.
fn time<T>(reps: usize, mut step: impl FnMut() -> T) -> f64 {
	(0..5)
		.map(|_| {
			let start = Instant::now();
			for _ in 0..reps {
				std::hint::black_box(step());
			}
			start.elapsed().as_secs_f64() * 1e3 / reps as f64
		})
		.fold(f64::INFINITY, f64::min)
}

fn main() {
	let reps: usize =
		std::env::var("OPG_BENCH_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
	// Logits of a language model's scale: a sum of uniforms, about ±10 (ties are rare).
	let mut generator = Generator::new(5);
	let logits: Vec<f32> = (0..49_152)
		.map(|_| ((0..4).map(|_| generator.next_f64()).sum::<f64>() - 2.0) as f32 * 5.0)
		.collect();
	assert_eq!(most_likely_first(&logits, 0), by_sort_unstable(&logits));
	let sampling = Sampling { temperature: 0.8, top_p: 0.95, top_k: 0, seed: 1 };
	println!("| step, 49,152 logits | ms a call |");
	println!("|---|---|");
	println!(
		"| the order, `sort_unstable` (before) | {:.3} |",
		time(reps, || by_sort_unstable(&logits))
	);
	println!(
		"| the order, `most_likely_first` | {:.3} |",
		time(reps, || most_likely_first(&logits, 0))
	);
	println!(
		"| a sampled step, `kept_and_draw` | {:.3} |",
		time(reps, || kept_and_draw(&logits, &sampling, &mut Generator::new(1)))
	);
}
