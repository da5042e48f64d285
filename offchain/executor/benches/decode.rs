//! A decode step of the language-model engine, phase by phase (`llm::phases`): where the
//! time of one step goes at batch 1 and at 8 sequences, on the CPU or on CUDA — what the
//! CUDA decode goal of issue 18 needs first (docs/benchmarks.md: about 46 ms a step on an
//! H200 for one sequence as for eight).
//!
//! `OPG_LLM_DIR=<scripts/llm-convert.py output> cargo bench --bench decode`;
//! `OPG_BENCH_DEVICE` (`cpu` or `cuda`; CUDA when there is one), `OPG_BENCH_DTYPES`
//! (`f32,bf16`), `OPG_BENCH_STEPS` (32 steps measured after 4 unmeasured, per batch);
//! `OPG_BENCH_AVX2=1` runs the f32 products on the AVX2 kernels on an AVX-512 CPU (what a
//! CPU without AVX-512 runs; the same bits).
//! Each batch's steps run twice: plain (the step's time as the engine runs it), then with
//! every phase timed (on CUDA the device is synchronized after each phase, so the phases
//! add up to more than a plain step: their shares are what matters). One libtorch thread
//! per core, deterministic algorithms, as `opg-executor serve` runs.

use opg_executor::llm::{model::parse_kind, phases, LlmModel};
use std::time::Instant;
use tch::Device;

fn env_or(name: &str, default: &str) -> String {
	std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn median(mut values: Vec<f64>) -> f64 {
	values.sort_by(f64::total_cmp);
	values[values.len() / 2]
}

/// The prompt `scripts/llm-bench.py` sends, as the chat template writes it.
const CHAT: &str = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by \
	Hugging Face<|im_end|>\n<|im_start|>user\nWrite a long story about a lighthouse keeper who \
	finds a map.<|im_end|>\n<|im_start|>assistant\n";

fn print_phases(totals: std::collections::BTreeMap<&'static str, phases::Phase>, runs: usize) {
	println!("\n| phase | ms a run | share | marks a run |\n|---|---|---|---|");
	let mut rows: Vec<_> = totals.into_iter().collect();
	rows.sort_by_key(|row| std::cmp::Reverse(row.1.time));
	let sum: f64 = rows.iter().map(|(_, p)| p.time.as_secs_f64()).sum();
	for (name, phase) in rows {
		let ms = phase.time.as_secs_f64() * 1e3 / runs as f64;
		println!(
			"| {name} | {ms:.3} | {:.1} % | {} |",
			100.0 * phase.time.as_secs_f64() / sum,
			phase.count / runs as u64
		);
	}
	println!();
}

fn main() {
	let dir = std::path::PathBuf::from(
		std::env::var("OPG_LLM_DIR").expect("OPG_LLM_DIR: the output of scripts/llm-convert.py"),
	);
	let device = match env_or("OPG_BENCH_DEVICE", "").as_str() {
		"cpu" => Device::Cpu,
		"cuda" => Device::Cuda(0),
		_ => Device::cuda_if_available(),
	};
	let steps: usize = env_or("OPG_BENCH_STEPS", "32").parse().expect("OPG_BENCH_STEPS");
	let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
	tch::set_num_threads(threads);
	opg_executor::torch::set_deterministic().unwrap();
	let avx2 =
		env_or("OPG_BENCH_AVX2", "") == "1" && opg_executor::llm::linear::few_rows_avx2_only(true);
	let kernels = if avx2 { ", f32 products on the AVX2 kernels" } else { "" };
	println!("device {}, {threads} threads{kernels}\n", opg_executor::torch::device_name(device));
	for dtype in env_or("OPG_BENCH_DTYPES", "f32,bf16").split(',') {
		let kind = parse_kind(dtype).unwrap();
		let model = LlmModel::load_dir(&dir, kind, device).unwrap();
		let prompt = model.text.encode("The lighthouse keeper looked at the sea and").unwrap();
		// The chat prompt of scripts/llm-bench.py (system and user turns, 43 tokens).
		let chat = model.text.encode(CHAT).unwrap();
		// Prefill: `batch` prompts in one step from an empty cache, as the engine admits
		// requests that arrive together.
		for batch in [1usize, 8] {
			let llama = &model.llama;
			let prefill = || {
				let mut cache = llama.cache(batch).unwrap();
				let slots: Vec<_> = (0..batch).map(|_| cache.open().unwrap()).collect();
				let sequences: Vec<_> = slots.iter().map(|&slot| (slot, chat.as_slice())).collect();
				let started = Instant::now();
				let _logits = llama.forward(&mut cache, &sequences).unwrap();
				started.elapsed().as_secs_f64() * 1e3
			};
			prefill();
			let runs = steps.div_ceil(4).max(3);
			let plain = median((0..runs).map(|_| prefill()).collect());
			phases::measure(true);
			let timed: f64 = (0..runs).map(|_| prefill()).sum::<f64>() / runs as f64;
			let totals = phases::totals();
			phases::measure(false);
			println!(
				"{dtype}, prefill of {batch} prompt(s) of {} tokens: {plain:.2} ms (median of {runs}), \
				 {:.0} tokens/s; phases timed: {timed:.2} ms",
				chat.len(),
				(batch * chat.len()) as f64 / plain * 1e3
			);
			print_phases(totals, runs);
		}
		for batch in [1usize, 8] {
			let llama = &model.llama;
			let mut cache = llama.cache(batch).unwrap();
			let slots: Vec<_> = (0..batch).map(|_| cache.open().unwrap()).collect();
			// Every sequence's prompt, then steps of one token each (token ids from the
			// prompt: the step's cost does not depend on which).
			let sequences: Vec<_> = slots.iter().map(|&slot| (slot, prompt.as_slice())).collect();
			let _prefilled = llama.forward(&mut cache, &sequences).unwrap();
			let mut step = |i: usize| {
				let token = [prompt[i % prompt.len()]];
				let sequences: Vec<_> = slots.iter().map(|&slot| (slot, &token[..])).collect();
				let started = Instant::now();
				let _logits = llama.forward(&mut cache, &sequences).unwrap();
				started.elapsed().as_secs_f64() * 1e3
			};
			for i in 0..4 {
				step(i);
			}
			let plain = median((0..steps).map(&mut step).collect());
			phases::measure(true);
			let timed: f64 = (0..steps).map(&mut step).sum::<f64>() / steps as f64;
			let totals = phases::totals();
			phases::measure(false);
			println!(
				"{dtype}, {batch} sequence(s): a step {plain:.2} ms (median of {steps}); \
				 phases timed: {timed:.2} ms a step"
			);
			print_phases(totals, steps);
		}
	}
}
