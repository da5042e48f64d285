//! `opg-executor`: serves inferences to the node's off-chain worker, and manages the
//! artifact store.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use opg_executor::{
	batch::BatchLimits,
	chain::{self, ModelEntry},
	evidence::EvidenceSource,
	http,
	signing::NodeKey,
	store::Limits as StoreLimits,
	torch, ArtifactStore, Concurrency, Executor, InputSource,
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
// Parsed once at start: the size of the `serve` variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
	/// Serve the HTTP API (see the `http` module docs) until Ctrl-C.
	Serve {
		/// The node listener's address: every route, for the local node (signing for chain
		/// requests, proving, batch signing, attestation, fetching, storing artifacts). On
		/// loopback by default; any other address needs `--node-token-file`.
		#[arg(long, default_value = "127.0.0.1:8700")]
		listen: SocketAddr,
		/// A file holding the node listener's bearer token: callers (the node's off-chain
		/// worker: `opg-node --executor-token-file`) then send `authorization: Bearer
		/// {token}`, from loopback too.
		#[arg(long, value_name = "FILE")]
		node_token_file: Option<PathBuf>,
		/// The public listener's address, if any: health, unsigned inference, and reading
		/// artifacts (a private request's only by its requester), for anyone.
		#[arg(long, value_name = "ADDRESS")]
		public_listen: Option<SocketAddr>,
		/// Open connections per listener at most; the next waits until one closes.
		#[arg(long, default_value_t = http::MAX_CONNECTIONS)]
		max_connections: usize,
		/// Proofs that run at once at most (default: the core count); one more is answered
		/// 503 with retry-after.
		#[arg(long)]
		max_proving: Option<usize>,
		/// Threads all proofs share (default: one per core); a proof spreads its
		/// multi-scalar multiplications and FFTs over them.
		#[arg(long)]
		zk_threads: Option<usize>,
		/// Quantized-integer inferences that run at once at most (default: four per core);
		/// one more is answered 503 with retry-after.
		#[arg(long)]
		max_integer: Option<usize>,
		/// The artifact store folder.
		#[arg(long)]
		store: PathBuf,
		/// The store's quota in bytes (suffixes K, M, G, T: powers of 1024): cached artifacts
		/// (outputs, fetched inputs) past `--retention-s` are evicted, oldest first, to keep
		/// under it; a write that still does not fit is answered 507.
		#[arg(long, value_parser = parse_size)]
		store_quota: Option<u64>,
		/// Seconds a cached artifact (an output, a fetched input) is kept at least; longer
		/// than any request's window, so requesters can fetch outputs after settlement.
		#[arg(long, default_value_t = opg_executor::store::DEFAULT_RETENTION.as_secs())]
		retention_s: u64,
		/// Proving keys for ZKML requests: `{DIR}/{model hash hex}/proving.key`, as
		/// `opg-zk setup --out {DIR}/{model hash hex}` writes it.
		#[arg(long)]
		zk_keys: Option<PathBuf>,
		/// The TorchScript models to serve: a JSON file `{"models": [{"model", "max_batch"}]}`
		/// naming each by its model hub id (with `--chain-rpc`), or by `"hash"` and
		/// `"schema"` written out (see docs/inference-node.md).
		#[arg(long)]
		config: Option<PathBuf>,
		/// A node's JSON-RPC (`http://…`, e.g. the local node's `http://127.0.0.1:9944`):
		/// models named by id in `--config` take their artifact hash and schema from the
		/// chain's model hub.
		#[arg(long, value_name = "URL")]
		chain_rpc: Option<String>,
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
		/// results and data-provenance statements. Not in TEE mode: with `--evidence` the
		/// executor generates its key itself.
		#[arg(long, conflicts_with = "evidence")]
		node_key: Option<PathBuf>,
		/// TEE mode: the executor generates its node key at start (it never leaves the
		/// process) and attests it with documents from: dev (development documents,
		/// trusted only by dev and local chains) or nitro (the Nitro Secure Module; built
		/// with `--features nitro`).
		#[arg(long, requires = "operator")]
		evidence: Option<String>,
		/// The operator account this executor serves (hex of its SCALE encoding: the
		/// 32-byte public key of an `AccountId32`): attestation documents bind it, and
		/// `/v1/registration` signs the node key's registration for it alone.
		#[arg(long)]
		operator: Option<String>,
		/// A model hub model (by id) this executor serves to direct paid calls on its public
		/// listener, at the chain's price (repeatable): `POST /v1/infer/0x{hash}` then
		/// answers 402 without a payment-channel voucher (see docs/direct-inference.md).
		/// Needs --chain-rpc, --public-listen and the node key (--node-key or --evidence).
		#[arg(long = "direct-model", value_name = "ID", requires_all = ["chain_rpc", "public_listen"])]
		direct_models: Vec<u32>,
		/// A language model to serve (repeatable): its model hub id (with --chain-rpc: the
		/// chain's record names its manifest) or its manifest's 0x-hash, as `put-llm`
		/// prints it. OpenAI's `/v1/chat/completions`, `/v1/completions` and `/v1/models`
		/// on both listeners (see docs/llm.md).
		#[arg(long = "llm", value_name = "ID|HASH")]
		llms: Vec<String>,
		/// The element type language models run in: f32, bf16 or f16.
		#[arg(long, default_value = "f32")]
		llm_dtype: String,
		/// Sequences a language model decodes together at most (continuous batching).
		#[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
		llm_max_batch: u64,
		/// Test builds only (`--features cheats`): misbehave on purpose, for tests of the
		/// chain's checks: corrupt-outputs changes every tensor output it answers (and
		/// signs) beyond any tolerance; round-outputs moves a float output's first element to
		/// a neighbouring float, as another kind of CPU might. Production builds refuse to
		/// start with it.
		#[arg(long, value_name = "MODE")]
		cheat: Option<String>,
	},
	/// Add a language model's folder (`config.json`, `tokenizer.json`,
	/// `model.safetensors`, as scripts/llm-convert.py writes it) to the artifact store
	/// with its manifest; prints the manifest's hash (the model's) and size.
	PutLlm {
		/// The folder.
		dir: PathBuf,
		/// The name clients call it by (OpenAI's `model`).
		#[arg(long)]
		name: String,
		/// The artifact store folder.
		#[arg(long)]
		store: PathBuf,
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

/// A size in bytes, with an optional binary suffix: `512`, `64K`, `10G`.
fn parse_size(text: &str) -> Result<u64, String> {
	let text = text.trim();
	let (digits, shift) = match text.char_indices().last() {
		Some((at, unit @ ('K' | 'M' | 'G' | 'T' | 'k' | 'm' | 'g' | 't'))) => {
			let shift = match unit.to_ascii_uppercase() {
				'K' => 10,
				'M' => 20,
				'G' => 30,
				_ => 40,
			};
			(&text[..at], shift)
		},
		_ => (text, 0),
	};
	digits
		.parse::<u64>()
		.ok()
		.and_then(|n| n.checked_mul(1u64 << shift))
		.ok_or_else(|| format!("{text:?} is not a size in bytes (e.g. 512, 64K, 10G)"))
}

/// The node listener's token: the file's first line, refused if empty.
fn read_token(path: &std::path::Path) -> Result<String> {
	let text =
		std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
	let token = text.trim().to_owned();
	anyhow::ensure!(
		!token.is_empty() && !token.contains(char::is_whitespace),
		"{} holds no token (one line, no spaces)",
		path.display()
	);
	Ok(token)
}

fn parse_hash(text: &str) -> Result<[u8; 32]> {
	http::parse_hash(text)
		.with_context(|| format!("{text:?} is not a SHA-256 hash (64 hex digits)"))
}

/// The `models` of an executor configuration file.
fn read_config(path: &std::path::Path) -> Result<Vec<ModelEntry>> {
	#[derive(serde::Deserialize)]
	struct Config {
		models: Vec<ModelEntry>,
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
			node_token_file,
			public_listen,
			max_connections,
			max_proving,
			zk_threads,
			max_integer,
			store,
			store_quota,
			retention_s,
			zk_keys,
			config,
			chain_rpc,
			device,
			queue,
			batch_window_us,
			threads,
			peers,
			fetch_private_addresses,
			node_key,
			evidence,
			operator,
			direct_models,
			llms,
			llm_dtype,
			llm_max_batch,
			cheat,
		} => {
			if let Some(mode) = cheat.as_deref() {
				opg_executor::cheats::enable(mode).map_err(anyhow::Error::msg)?;
				eprintln!("opg-executor: CHEATING ({mode}): a test build, never for production");
			}
			let token = node_token_file.as_deref().map(read_token).transpose()?;
			anyhow::ensure!(
				token.is_some() || listen.ip().is_loopback(),
				"the node listener on {listen} is not on loopback: give it a --node-token-file"
			);
			anyhow::ensure!(
				public_listen != Some(listen),
				"--public-listen and --listen are the same address"
			);
			let defaults = Concurrency::default();
			let concurrency = Concurrency {
				proving: max_proving.unwrap_or(defaults.proving),
				integer: max_integer.unwrap_or(defaults.integer),
			};
			let limits =
				StoreLimits { quota: store_quota, retention: Duration::from_secs(retention_s) };
			let runtime = tokio::runtime::Runtime::new()?;
			let mut executor = Executor::new(ArtifactStore::open_with(&store, limits)?, zk_keys)
				.with_peers(peers)
				.with_private_fetch(fetch_private_addresses)
				.with_concurrency(concurrency)
				.with_durable_plants()
				.context("cannot read the store folder's honeypots file")?;
			if let Some(threads) = zk_threads {
				executor = executor.with_zk_threads(threads)?;
			}
			if let Some(path) = node_key {
				let key = NodeKey::read(&path).map_err(anyhow::Error::msg)?;
				tracing::info!(node = %format!("0x{}", hex::encode(key.public())), "holding the node key");
				executor = executor.with_node_key(key);
			}
			if let Some(source) = evidence {
				let source = EvidenceSource::parse(&source).map_err(anyhow::Error::msg)?;
				// Born here, never written: only this process can sign as the attested node.
				let key = NodeKey::generate();
				tracing::info!(node = %format!("0x{}", hex::encode(key.public())), "generated the node key (TEE mode)");
				executor = executor.with_node_key(key).with_evidence(source);
			}
			if let Some(operator) = operator {
				let operator = opg_executor_api::parse_hex(&operator)
					.filter(|bytes| !bytes.is_empty())
					.with_context(|| format!("--operator {operator:?} is not an account in hex"))?;
				executor = executor.with_operator(operator);
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
				for entry in models {
					let model = runtime
						.block_on(chain::resolve(&entry, chain_rpc.as_deref()))
						.map_err(anyhow::Error::msg)?;
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
					executor
						.serve_torch(hash, model.schema, model.tolerance, device, limits)
						.with_context(|| {
							format!("cannot serve TorchScript model {}", model.hash)
						})?;
					tracing::info!(model = %model.hash, device = %torch::device_name(device), "serving a TorchScript model");
				}
			}
			if let Some(rpc) = &chain_rpc {
				let genesis =
					runtime.block_on(chain::genesis_hash(rpc)).map_err(anyhow::Error::msg)?;
				executor = executor.with_genesis(genesis).with_chain_rpc(rpc.clone());
			}
			if !llms.is_empty() {
				let device = torch::parse_device(&device).map_err(anyhow::Error::msg)?;
				let kind =
					opg_executor::llm::model::parse_kind(&llm_dtype).map_err(anyhow::Error::msg)?;
				torch::set_deterministic().map_err(anyhow::Error::msg)?;
				if let Some(threads) = threads {
					tch::set_num_threads(threads);
				}
				for text in llms {
					let hash = match text.parse::<u32>() {
						Ok(model) => {
							let rpc = chain_rpc.as_deref().with_context(|| {
								format!("--llm {model} names a model hub id: give --chain-rpc")
							})?;
							runtime
								.block_on(chain::model_serving(rpc, model))
								.map_err(anyhow::Error::msg)?
								.artifact_hash
						},
						Err(_) => parse_hash(&text)?,
					};
					executor
						.serve_llm(hash, kind, device, llm_max_batch as usize, queue as usize)
						.map_err(anyhow::Error::msg)
						.with_context(|| format!("cannot serve language model {text}"))?;
					tracing::info!(model = %text, device = %torch::device_name(device), dtype = %llm_dtype, "serving a language model");
				}
			}
			if !direct_models.is_empty() {
				let key = executor
					.node_key()
					.context("--direct-model needs the node key: --node-key or --evidence")?;
				let tee = executor.evidence().is_some();
				let rpc = chain_rpc.clone().context("--direct-model needs --chain-rpc")?;
				let genesis =
					runtime.block_on(chain::genesis_hash(&rpc)).map_err(anyhow::Error::msg)?;
				let mut prices = std::collections::HashMap::new();
				for model in direct_models {
					let serving = runtime
						.block_on(chain::model_serving(&rpc, model))
						.map_err(anyhow::Error::msg)?;
					let price = opg_executor::payment::Price {
						model,
						amount: serving.price,
						// The evidence the answers carry: TEE-bound in TEE mode.
						mode: u8::from(tee),
					};
					tracing::info!(model, hash = %format!("0x{}", hex::encode(serving.artifact_hash)), price = %serving.price, node = %format!("0x{}", hex::encode(key.public())), "offering the model to direct paid calls");
					prices.insert(serving.artifact_hash, price);
				}
				let gateway = opg_executor::payment::Gateway::open(
					genesis,
					rpc,
					prices,
					&store.join("gateway"),
				)
				.context("cannot open the gateway's journals")?;
				executor = executor.with_gateway(gateway);
			}
			let executor = Arc::new(executor);
			runtime.block_on(async move {
				let listener = tokio::net::TcpListener::bind(listen)
					.await
					.with_context(|| format!("cannot listen on {listen}"))?;
				tracing::info!(address = %listener.local_addr()?, store = %store.display(), token = token.is_some(), "node listener");
				let public = match public_listen {
					Some(address) => {
						let listener = tokio::net::TcpListener::bind(address)
							.await
							.with_context(|| format!("cannot listen on {address}"))?;
						tracing::info!(address = %listener.local_addr()?, "public listener");
						Some(listener)
					},
					None => None,
				};
				let (stop, stopped) = tokio::sync::watch::channel(false);
				let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
					let _ = stopped.wait_for(|stop| *stop).await;
				};
				let node = http::serve_face(
					executor.clone(),
					listener,
					http::Face::Node { token },
					max_connections,
					until_stopped(stopped.clone()),
				);
				let public = async {
					match public {
						Some(listener) => {
							http::serve_face(
								executor.clone(),
								listener,
								http::Face::Public,
								max_connections,
								until_stopped(stopped.clone()),
							)
							.await
						},
						None => Ok(()),
					}
				};
				let servers = async { tokio::try_join!(node, public) };
				tokio::pin!(servers);
				tokio::select! {
					result = &mut servers => { result?; },
					_ = tokio::signal::ctrl_c() => {
						tracing::info!("shutting down: finishing the requests in progress");
						let _ = stop.send(true);
						servers.await?;
					},
				}
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
		Command::PutLlm { dir, name, store } => {
			use opg_executor::llm::manifest::{Manifest, FILES};
			let store = ArtifactStore::open(store)?;
			for file in FILES {
				let path = dir.join(file);
				let bytes = std::fs::read(&path)
					.with_context(|| format!("cannot read {}", path.display()))?;
				store.put(&bytes)?;
			}
			let manifest = Manifest::of_dir(&dir, &name)?;
			let bytes = manifest.to_bytes();
			Manifest::parse(&bytes).map_err(anyhow::Error::msg)?;
			let hash = store.put(&bytes)?;
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
