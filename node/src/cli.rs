use polkadot_sdk::sc_cli;

/// The `opg-node` command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// Base URL of the inference executor that this node's off-chain worker sends the
	/// requests assigned to its node keys (`opgn` keys in the keystore), e.g.
	/// `http://127.0.0.1:8700`. Kept in offchain storage, so it also survives restarts.
	#[arg(long, value_name = "URL", value_parser = parse_executor_url)]
	pub executor_url: Option<String>,

	/// The public node key (0x + 64 hex digits) that the executor holds itself, as in a
	/// TEE (`opg-executor serve --node-key`): the off-chain worker also serves the requests
	/// assigned to it, signed by the executor. Kept in offchain storage.
	#[arg(long, value_name = "PUBLIC_KEY", value_parser = parse_node_key, requires = "executor_url")]
	pub executor_node_key: Option<[u8; 32]>,

	/// A file holding the bearer token of the executor's node listener (`opg-executor
	/// serve --node-token-file`): the off-chain worker sends it with every call, as the
	/// executor asks for it from any address but loopback. Kept in offchain storage.
	#[arg(long, value_name = "FILE", requires = "executor_url")]
	pub executor_token_file: Option<std::path::PathBuf>,
}

fn parse_node_key(text: &str) -> Result<[u8; 32], String> {
	let mut key = [0u8; 32];
	hex::decode_to_slice(text.strip_prefix("0x").unwrap_or(text), &mut key)
		.map_err(|_| format!("{text:?} is not a 32-byte public key in hex"))?;
	Ok(key)
}

fn parse_executor_url(url: &str) -> Result<String, String> {
	if url.starts_with("http://") || url.starts_with("https://") {
		Ok(url.trim_end_matches('/').to_owned())
	} else {
		Err(format!("{url:?} is not an http:// or https:// URL"))
	}
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys into the keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Write a chain specification (from `--chain dev|local|FILE`) to stdout or a file.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Build a chain specification (deprecated alias of `export-chain-spec`, with `--raw`).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Database meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Runtime benchmarks (only in builds with `--features runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(BenchmarkCmd),

	/// TEE attestation tools for node operators.
	#[command(subcommand)]
	Attestation(crate::attestation::AttestationCmd),
}

/// Benchmarks of the runtime.
#[cfg(feature = "runtime-benchmarks")]
#[derive(Debug, clap::Subcommand)]
pub enum BenchmarkCmd {
	/// Measure pallet extrinsics in the wasm runtime and write their weights.
	Pallet(Box<polkadot_sdk::frame_benchmarking_cli::PalletCmd>),
}
