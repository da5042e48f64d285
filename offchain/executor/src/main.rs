//! `opg-executor`: serves inferences to the node's off-chain worker, and manages the
//! artifact store.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use opg_executor::{http, ArtifactStore, Executor, InputSource};
use std::{net::SocketAddr, path::PathBuf, sync::Arc};

/// The OPG inference executor.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
	#[command(subcommand)]
	command: Command,
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
	http::parse_hash(text).with_context(|| format!("{text:?} is not a SHA-256 hash (64 hex digits)"))
}

fn print_artifact(hash: &[u8; 32], size: usize) {
	println!("hash: 0x{}", hex::encode(hash));
	println!("size: {size}");
}

fn main() -> Result<()> {
	match Cli::parse().command {
		Command::Serve { listen, store, zk_keys } => {
			let executor = Arc::new(Executor::new(ArtifactStore::open(&store)?, zk_keys));
			let runtime = tokio::runtime::Runtime::new()?;
			runtime.block_on(async move {
				let listener = tokio::net::TcpListener::bind(listen)
					.await
					.with_context(|| format!("cannot listen on {listen}"))?;
				eprintln!("opg-executor: serving on http://{} from {}", listener.local_addr()?, store.display());
				let shutdown = async {
					let _ = tokio::signal::ctrl_c().await;
					eprintln!("opg-executor: shutting down");
				};
				http::serve(executor, listener, shutdown).await?;
				Ok(())
			})
		},
		Command::Put { file, store } => {
			let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
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
			let input = std::fs::read(&input).with_context(|| format!("cannot read {}", input.display()))?;
			let executor = Executor::new(ArtifactStore::open(store)?, None);
			let output = executor.infer(&parse_hash(&model)?, InputSource::Inline(&input))?;
			println!("0x{}", hex::encode(output));
			Ok(())
		},
	}
}
