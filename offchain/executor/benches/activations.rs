//! What checking a language model's answer costs beside producing it (issue 19's goal:
//! checking a 256-token answer costs at most 0.1× of generating it): the engine generates
//! an answer keeping every step's hidden state and commits to it, then a verifier checks
//! it with one prefill over prompt and answer (`llm::activations::check`), on the same
//! machine, weights and threads, in one run.
//!
//! `./scripts/benchmark activations` (or `OPG_LLM_DIR=<llm-convert.py output> cargo bench
//! --bench activations`); `OPG_BENCH_REPS` answers per dtype (3). One libtorch thread per
//! core, deterministic algorithms: as `opg-executor serve` runs. Beside each check, its
//! prefill is run again alone and timed, with its attention phase (`llm::phases`): the rest
//! of a check is the sampler's replay and the chunks' comparison.

use opg_executor::llm::{self, activations, phases, LlmModel, Message, Prompt, Sampling};
use std::time::Instant;
use tch::{Device, Kind};

fn median(mut values: Vec<f64>) -> f64 {
	values.sort_by(f64::total_cmp);
	values[values.len() / 2]
}

fn main() {
	let dir = std::path::PathBuf::from(
		std::env::var("OPG_LLM_DIR").expect("OPG_LLM_DIR: see scripts/benchmark activations"),
	);
	let reps: usize =
		std::env::var("OPG_BENCH_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
	let device = Device::cuda_if_available();
	// As `opg-executor serve --threads N` runs (scripts/llm-bench.py: one per core).
	let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
	tch::set_num_threads(threads);
	opg_executor::torch::set_deterministic().unwrap();
	println!("device {}, {threads} threads\n", opg_executor::torch::device_name(device));
	println!(
		"| dtype | answer tokens | generate s (no hidden states kept) | generate s | commit ms | check s | check ÷ generate | its prefill s | attention s | accepted |"
	);
	println!("|---|---|---|---|---|---|---|---|---|---|");
	for (name, kind) in [("f32", Kind::Float), ("bf16", Kind::BFloat16)] {
		let model = LlmModel::load_dir(&dir, kind, device).unwrap();
		let width = model.llama.config().hidden_size;
		let messages = [Message {
			role: "user".into(),
			content: "Write a long story about a lighthouse keeper and the sea.".into(),
		}];
		let tokens = model.text.encode(&model.text.chat_prompt(&messages).unwrap()).unwrap();
		let (mut generate, mut commit, mut check, mut counts) = (vec![], vec![], vec![], vec![]);
		let (mut plain, mut prefill, mut attention) = (vec![], vec![], vec![]);
		let mut all_accepted = true;
		for rep in 0..reps {
			let sampling =
				Sampling { temperature: 0.8, top_p: 0.95, top_k: 0, seed: 100 + rep as u64 };
			let prompt = Prompt {
				tokens: tokens.clone(),
				max_tokens: 256,
				sampling: sampling.clone(),
				stops: Vec::new(),
				hidden_every: 1,
			};
			let started = Instant::now();
			let without =
				llm::generate(&model, &Prompt { hidden_every: 0, ..prompt.clone() }).unwrap();
			plain.push(started.elapsed().as_secs_f64());
			let started = Instant::now();
			let answer = llm::generate(&model, &prompt).unwrap();
			generate.push(started.elapsed().as_secs_f64());
			assert_eq!(without.ids, answer.ids, "keeping hidden states changes no token");
			let started = Instant::now();
			let commitments = activations::commit(&answer, width).unwrap();
			commit.push(started.elapsed().as_secs_f64() * 1e3);
			let started = Instant::now();
			let verdict = activations::check(
				&model,
				&tokens,
				&answer.ids,
				&sampling,
				&commitments,
				&activations::thresholds_of(kind),
				&activations::TokenTolerance::of(kind),
			)
			.unwrap();
			check.push(started.elapsed().as_secs_f64());
			// The check's prefill again, alone and timed by phase: the rest of a check is
			// the sampler's replay and the chunks' comparison.
			let fed: Vec<u32> =
				tokens.iter().chain(&answer.ids[..answer.ids.len() - 1]).copied().collect();
			phases::measure(true);
			let started = Instant::now();
			let _prefilled = model.llama.prefill_all(&fed, tokens.len() - 1).unwrap();
			prefill.push(started.elapsed().as_secs_f64());
			let totals = phases::totals();
			phases::measure(false);
			attention.push(totals.get("attention (prompts)").map_or(0.0, |p| p.time.as_secs_f64()));
			counts.push(answer.ids.len() as f64);
			if !verdict.accepted {
				eprintln!("{name}, seed {}: not accepted: {verdict:?}", sampling.seed);
			}
			all_accepted &= verdict.accepted;
		}
		let (generate, check) = (median(generate), median(check));
		println!(
			"| {name} | {} | {:.2} | {generate:.2} | {:.2} | {check:.3} | {:.3} | {:.3} | {:.3} | {} |",
			median(counts),
			median(plain),
			median(commit),
			check / generate,
			median(prefill),
			median(attention),
			if all_accepted { "all" } else { "not all" },
		);
	}
}
