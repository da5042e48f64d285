//! The executor under load, beside the bare model (run by `scripts/benchmark executor`,
//! which measures PyTorch on the same file in the same run).
//!
//! `OPG_BENCH_DIR` holds `model.pt`, `config.json` and `input.bin` from
//! `scripts/torch-model.py`; `OPG_BENCH_SECONDS` is the time per measurement (default 5).
//! Prints one JSON object per measurement:
//! - `bare`: `TorchModel::run_batch` of one input in a loop (libtorch, no executor);
//! - `queue`: `c` clients through the batch queue, in process (the executor without HTTP);
//! - `http`: `c` clients over HTTP/1.1 keep-alive on loopback, batching on and off.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use opg_executor::{
	batch::{BatchLimits, Batcher},
	http::serve,
	torch::{self, TorchModel},
	ArtifactStore, Executor, TorchConfig,
};
use std::{
	path::PathBuf,
	sync::Arc,
	time::{Duration, Instant},
};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
	sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

fn report(name: &str, extra: &str, mut latencies: Vec<Duration>, elapsed: Duration) {
	latencies.sort();
	println!(
		"{{\"bench\":\"{name}\",{extra}\"per_second\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
		latencies.len() as f64 / elapsed.as_secs_f64(),
		percentile(&latencies, 0.5),
		percentile(&latencies, 0.99)
	);
}

fn main() {
	let dir = PathBuf::from(
		std::env::var("OPG_BENCH_DIR").expect("OPG_BENCH_DIR: see scripts/benchmark executor"),
	);
	let seconds: u64 = std::env::var("OPG_BENCH_SECONDS")
		.ok()
		.and_then(|s| s.parse().ok())
		.unwrap_or(5);
	let window = Duration::from_secs(seconds);
	let model_bytes = std::fs::read(dir.join("model.pt")).unwrap();
	let config: TorchConfig =
		serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
	let input_len = torch::input_len(&config.schema);
	let input = std::fs::read(dir.join("input.bin")).unwrap()[..input_len].to_vec();
	torch::set_deterministic().unwrap();
	let device = tch::Device::cuda_if_available();
	println!(
		"{{\"device\":\"{}\",\"threads\":{}}}",
		torch::device_name(device),
		tch::get_num_threads()
	);

	// The bare model.
	let model = TorchModel::load(&model_bytes, config.schema.clone(), device).unwrap();
	for _ in 0..100 {
		model.run_batch(&[&input]).unwrap();
	}
	let (started, mut latencies) = (Instant::now(), Vec::new());
	while started.elapsed() < window {
		let call = Instant::now();
		model.run_batch(&[&input]).unwrap();
		latencies.push(call.elapsed());
	}
	report("bare", "", latencies, started.elapsed());

	// c clients through the queue and worker thread, in process (no HTTP).
	let limits = BatchLimits { queue: 256, max_batch: config.max_batch, window: Duration::ZERO };
	let batcher = Arc::new(Batcher::start(model, "bench".into(), limits, Arc::default()));
	let runtime = tokio::runtime::Runtime::new().unwrap();
	for clients in [1usize, 8, 64] {
		let started = Instant::now();
		let tasks: Vec<_> = (0..clients)
			.map(|_| {
				let (batcher, input) = (batcher.clone(), input.clone());
				runtime.spawn(async move {
					let mut latencies = Vec::new();
					while started.elapsed() < window {
						let call = Instant::now();
						batcher.submit(input.clone()).unwrap().await.unwrap().unwrap();
						latencies.push(call.elapsed());
					}
					latencies
				})
			})
			.collect();
		let mut latencies = Vec::new();
		for task in tasks {
			latencies.extend(runtime.block_on(task).unwrap());
		}
		report("queue", &format!("\"clients\":{clients},"), latencies, started.elapsed());
	}
	drop(batcher);

	// HTTP, c clients, batching on (the configured max_batch) and off (1).
	for max_batch in [config.max_batch, 1] {
		let store = ArtifactStore::open(
			std::env::temp_dir().join(format!("opg-bench-{}", std::process::id())),
		)
		.unwrap();
		let hash = store.put(&model_bytes).unwrap();
		let mut executor = Executor::new(store, None);
		let limits = BatchLimits { queue: 256, max_batch, window: Duration::ZERO };
		executor.serve_torch(hash, config.schema.clone(), None, device, limits).unwrap();
		runtime.block_on(async {
			let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
			let url = format!(
				"http://{}/v1/infer/0x{}",
				listener.local_addr().unwrap(),
				hex::encode(hash)
			);
			let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
			let server = tokio::spawn(serve(Arc::new(executor), listener, async move {
				let _ = stopped.await;
			}));
			for clients in [1usize, 8, 64] {
				let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
				let body = Bytes::from(input.clone());
				let started = Instant::now();
				let tasks: Vec<_> = (0..clients)
					.map(|_| {
						let (client, body, url) = (client.clone(), body.clone(), url.clone());
						tokio::spawn(async move {
							let mut latencies = Vec::new();
							while started.elapsed() < window {
								let call = Instant::now();
								let request = hyper::Request::post(&url)
									.body(Full::new(body.clone()))
									.unwrap();
								let response = client.request(request).await.unwrap();
								assert!(response.status().is_success(), "{}", response.status());
								response.into_body().collect().await.unwrap();
								latencies.push(call.elapsed());
							}
							latencies
						})
					})
					.collect();
				let mut latencies = Vec::new();
				for task in tasks {
					latencies.extend(task.await.unwrap());
				}
				let extra = format!("\"clients\":{clients},\"max_batch\":{max_batch},");
				report("http", &extra, latencies, started.elapsed());
			}
			stop.send(()).unwrap();
			server.await.unwrap().unwrap();
		});
	}
}
