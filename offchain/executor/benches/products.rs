//! The weight products of one SmolLM2-135M decode step (its 121 `x · Wᵀ`: Q·K·V, O,
//! gate·up and down of 30 layers, and the head) on the CPU, as `llm::linear::Linear` runs
//! them beside libtorch's plain `linear`, for 1, 8, 43 and 300 rows (one and eight decoding
//! sequences, and a 43- and a 300-token prompt's prefill, whose head product is computed
//! here too),
//! in f32 and bf16, in one run. Random weights of the model's shapes: the
//! time depends on shapes, not values.
//!
//! `./scripts/benchmark products` (or `cargo bench --bench products`); best of
//! `OPG_BENCH_REPS` steps (9). One libtorch thread per core, as `opg-executor serve` runs.
//! On a CPU with AVX-512, the f32 rows are timed on the AVX2 kernels too (the same bits;
//! what a CPU without AVX-512 runs), and where oneDNN multiplies bf16, the bf16 rows on
//! `few_rows.cpp`'s bf16 kernel too (what a CPU without oneDNN's bf16 kernels runs).

use opg_executor::llm::linear::{few_rows, few_rows_avx2_only, Linear};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

const SHAPES: [[i64; 2]; 4] = [[960, 576], [576, 576], [3072, 576], [576, 1536]];
const HEAD: [i64; 2] = [49152, 576];

fn best(reps: usize, mut step: impl FnMut()) -> f64 {
	step();
	(0..reps)
		.map(|_| {
			let start = Instant::now();
			step();
			start.elapsed().as_secs_f64() * 1e3
		})
		.fold(f64::INFINITY, f64::min)
}

fn main() {
	let _no_grad = tch::no_grad_guard();
	let reps: usize =
		std::env::var("OPG_BENCH_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(9);
	let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
	tch::set_num_threads(threads);
	println!("CPU, {threads} threads; f32 products on few_rows.cpp: {}\n", few_rows());
	println!("| dtype | rows | libtorch `linear` ms | `Linear` ms | kernel of `Linear` |");
	println!("|---|---|---|---|---|");
	for (name, kind) in [("f32", Kind::Float), ("bf16", Kind::BFloat16)] {
		let shapes: Vec<[i64; 2]> =
			SHAPES.iter().copied().cycle().take(4 * 30).chain([HEAD]).collect();
		let weights: Vec<Tensor> = shapes
			.iter()
			.map(|&shape| Tensor::randn(shape, (Kind::Float, Device::Cpu)).to_kind(kind))
			.collect();
		let linears: Vec<Linear> = weights.iter().map(|w| Linear::new(w.shallow_clone())).collect();
		// The bf16 kernel of a CPU without oneDNN's bf16, where this one has it.
		let bf16_rows: Vec<Linear> = if linears[0].is_packed() {
			weights.iter().filter_map(|w| Linear::bf16_rows(w.shallow_clone())).collect()
		} else {
			Vec::new()
		};
		let kernel = if linears[0].is_packed() {
			"oneDNN, packed once"
		} else if linears[0].is_few_rows() {
			"few_rows.cpp"
		} else if linears[0].is_bf16_rows() {
			"few_rows.cpp, bf16"
		} else {
			"libtorch `linear`"
		};
		// One and eight decoding sequences, and a 43- and a 300-token prompt's prefill.
		for rows in [1, 8, 43, 300] {
			let inputs =
				|width: i64| Tensor::randn([rows, width], (Kind::Float, Device::Cpu)).to_kind(kind);
			let (narrow, wide) = (inputs(576), inputs(1536));
			let x = |w: &Tensor| if w.size()[1] == 576 { &narrow } else { &wide };
			let plain = best(reps, || {
				for w in &weights {
					let _ = x(w).linear::<Tensor>(w, None);
				}
			});
			let ours = best(reps, || {
				for (w, linear) in weights.iter().zip(&linears) {
					let _ = linear.forward(x(w)).unwrap();
				}
			});
			println!("| {name} | {rows} | {plain:.1} | {ours:.1} | {kernel} |");
			let avx512 = std::is_x86_feature_detected!("avx512f");
			if linears[0].is_few_rows() && avx512 {
				if few_rows_avx2_only(true) {
					let avx2 = best(reps, || {
						for (w, linear) in weights.iter().zip(&linears) {
							let _ = linear.forward(x(w)).unwrap();
						}
					});
					println!("| {name} | {rows} | | {avx2:.1} | {kernel}, its AVX2 kernels |");
				}
				few_rows_avx2_only(false);
			}
			if bf16_rows.len() == weights.len() {
				let ours = best(reps, || {
					for (w, linear) in weights.iter().zip(&bf16_rows) {
						let _ = linear.forward(x(w)).unwrap();
					}
				});
				println!("| {name} | {rows} | | {ours:.1} | few_rows.cpp, bf16 (AVX2) |");
			}
		}
	}
}
