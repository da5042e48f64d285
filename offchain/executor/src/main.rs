//! `opg-executor`: serves inferences to the node's off-chain worker, and manages the
//! artifact store.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use opg_executor::{
	batch::BatchLimits, evidence::EvidenceSource, http, signing::NodeKey, torch, ArtifactStore,
	Executor, InputSource, TorchConfig,
};
use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

/// The OPG inference executor.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
	#[command(subcommand)]
	command: Command,
	/// Log lines as text or as JSON objects (one per line); `RUST_LOG` filters them
	/// (default `warn,opg_executor=info`; `opg_executor=debug` logs every request).
	#[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
	log_format: String,
}

#[derive(Subcommand)]
enum Command {
	/// Serve the HTTP API (see the `http` module docs) until Ctrl-C.
	Serve {
		/// Address to listen on; keep it on loopback unless a proxy guards it.
		#[arg(long, default_value = "127.0.0.1:8700")]
		listen: SocketAddr,
		/// The artifact store folder.
		#[arg(long)]
		store: PathBuf,
		/// Proving keys for ZKML requests: `{DIR}/{model hash hex}/proving.key`, as
		/// `opg-zk setup --out {DIR}/{model hash hex}` writes it.
		#[arg(long)]
		zk_keys: Option<PathBuf>,
		/// The TorchScript models to serve: a JSON file `{"models": [{"hash", "schema",
		/// "max_batch"}]}` (see docs/inference-node.md).
		#[arg(long)]
		config: Option<PathBuf>,
		/// Where TorchScript models run: auto (CUDA 0 if present, else CPU), cpu, cuda, cuda:N.
		#[arg(long, default_value = "auto")]
		device: String,
		/// Requests that may wait per model; one more is answered 503 busy.
		#[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
		queue: u64,
		/// How long a batch waits to fill once it has a request, in microseconds. With 0,
		/// a batch is what queued while the previous one ran: no latency added when idle.
		#[arg(long, default_value_t = 0)]
		batch_window_us: u64,
		/// libtorch's intra-op CPU threads (default: libtorch's choice, the core count).
		#[arg(long)]
		threads: Option<i32>,
		/// An executor or data node to fetch missing artifacts from, by hash (repeatable).
		#[arg(long = "peer")]
		peers: Vec<String>,
		/// Let `/v1/fetch` reach loopback, private and link-local addresses (a closed
		/// network's data sources). Off by default: callers could otherwise make this
		/// node fetch from its own machine, its network or a cloud metadata service.
		#[arg(long)]
		fetch_private_addresses: bool,
		/// A file with the node key's 32-byte secret seed (hex): the executor then signs
		/// results (TEE mode) and data-provenance statements.
		#[arg(long)]
		node_key: Option<PathBuf>,
		/// Where attestation documents binding the node key come from: dev (development
		/// documents, trusted only by dev and local chains) or nitro (the Nitro Secure
		/// Module; built with `--features nitro`).
		#[arg(long, requires = "node_key")]
		evidence: Option<String>,
	},
	/// Add a file to the artifact store; prints its hash and size (what the model hub records).
	Put {
		/// The file.
		file: PathBuf,
		/// The artifact store folder.
		#[arg(long)]
		store: PathBuf,
	},
	/// Write a quantized-integer model with deterministic pseudo-random parameters (for
	/// development and benchmarks) into the store; prints its hash and size.
	Generate {
		/// Layer widths, inputs first.
		#[arg(long, value_delimiter = ',', default_value = "784,56,10")]
		widths: Vec<u32>,
		/// Parameter seed.
		#[arg(long, default_value_t = 1)]
		seed: u64,
		/// The artifact store folder.
		#[arg(long)]
		store: PathBuf,
	},
	/// Run a stored model on an input file and print the output as hex.
	Run {
		/// The model's hash.
		#[arg(long)]
		model: String,
		/// The input file (raw tensor bytes).
		#[arg(long)]
		input: PathBuf,
		/// The artifact store folder.
		#[arg(long)]
		store: PathBuf,
	},
}

fn parse_hash(text: &str) -> Result<[u8; 32]> {
	http::parse_hash(text)
		.with_context(|| format!("{text:?} is not a SHA-256 hash (64 hex digits)"))
}

/// The `models` of an executor configuration file.
fn read_config(path: &std::path::Path) -> Result<Vec<TorchConfig>> {
	#[derive(serde::Deserialize)]
	struct Config {
		models: Vec<TorchConfig>,
	}
	let text =
		std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
	let config: Config = serde_json::from_str(&text)
		.with_context(|| format!("{} is not a valid configuration", path.display()))?;
	Ok(config.models)
}

fn print_artifact(hash: &[u8; 32], size: usize) {
	println!("hash: 0x{}", hex::encode(hash));
	println!("size: {size}");
}

fn main() -> Result<()> {
	let cli = Cli::parse();
	let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
		.unwrap_or_else(|_| "warn,opg_executor=info".into());
	// arkworks traces constraint synthesis (targets gr1cs, r1cs) with spans that format the
	// whole constraint system: with them on, one proof takes minutes instead of 0.4 s.
	for quiet in ["gr1cs=off", "r1cs=off"] {
		filter = filter.add_directive(quiet.parse().expect("a valid directive"));
	}
	let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
	if cli.log_format == "json" {
		logs.json().init();
	} else {
		logs.init();
	}
	match cli.command {
		Command::Serve {
			listen,
			store,
			zk_keys,
			config,
			device,
			queue,
			batch_window_us,
			threads,
			peers,
			fetch_private_addresses,
			node_key,
			evidence,
		} => {
			let runtime = tokio::runtime::Runtime::new()?;
			let mut executor = Executor::new(ArtifactStore::open(&store)?, zk_keys)
				.with_peers(peers)
				.with_private_fetch(fetch_private_addresses);
			if let Some(path) = node_key {
				let key = NodeKey::read(&path).map_err(anyhow::Error::msg)?;
				tracing::info!(node = %format!("0x{}", hex::encode(key.public())), "holding the node key");
				executor = executor.with_node_key(key);
			}
			if let Some(source) = evidence {
				executor = executor
					.with_evidence(EvidenceSource::parse(&source).map_err(anyhow::Error::msg)?);
			}
			let models = match config {
				Some(path) => read_config(&path)?,
				None => Vec::new(),
			};
			if !models.is_empty() {
				let device = torch::parse_device(&device).map_err(anyhow::Error::msg)?;
				torch::set_deterministic().map_err(anyhow::Error::msg)?;
				if let Some(threads) = threads {
					tch::set_num_threads(threads);
				}
				for model in models {
					let hash = parse_hash(&model.hash)?;
					anyhow::ensure!(
						runtime.block_on(executor.fetch_missing(&hash))?,
						"model {} is neither in the store nor at any peer",
						model.hash
					);
					let limits = BatchLimits {
						queue: queue as usize,
						max_batch: model.max_batch.max(1),
						window: Duration::from_micros(batch_window_us),
					};
					executor.serve_torch(hash, model.schema, device, limits).with_context(
						|| format!("cannot serve TorchScript model {}", model.hash),
					)?;
					tracing::info!(model = %model.hash, device = %torch::device_name(device), "serving a TorchScript model");
				}
			}
			let executor = Arc::new(executor);
			runtime.block_on(async move {
				let listener = tokio::net::TcpListener::bind(listen)
					.await
					.with_context(|| format!("cannot listen on {listen}"))?;
				tracing::info!(address = %listener.local_addr()?, store = %store.display(), "serving");
				let shutdown = async {
					let _ = tokio::signal::ctrl_c().await;
					tracing::info!("shutting down: finishing the requests in progress");
				};
				http::serve(executor, listener, shutdown).await?;
				Ok(())
			})
		},
		Command::Put { file, store } => {
			let bytes =
				std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
			let hash = ArtifactStore::open(store)?.put(&bytes)?;
			print_artifact(&hash, bytes.len());
			Ok(())
		},
		Command::Generate { widths, seed, store } => {
			anyhow::ensure!(widths.len() >= 2, "give at least an input and an output width");
			let model = opg_qmodel::generate(&widths, seed);
			model.validate()?;
			let bytes = model.to_bytes();
			let hash = ArtifactStore::open(store)?.put(&bytes)?;
			print_artifact(&hash, bytes.len());
			Ok(())
		},
		Command::Run { model, input, store } => {
			let input = std::fs::read(&input)
				.with_context(|| format!("cannot read {}", input.display()))?;
			let executor = Executor::new(ArtifactStore::open(store)?, None);
			let output = executor.infer(&parse_hash(&model)?, InputSource::Inline(&input))?;
			println!("0x{}", hex::encode(output));
			Ok(())
		},
	}
}
