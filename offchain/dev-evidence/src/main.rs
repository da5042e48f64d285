//! `opg-dev-evidence`: development Nitro attestation documents for local OPG networks.

use clap::{Parser, Subcommand};
use opg_dev_evidence::{
	development_root, nitro_document, DocumentRequest, Pcrs, DEVELOPMENT_IMAGE,
};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Parser)]
#[command(
	version,
	about = "Development TEE evidence for local OPG networks (never trusted by production chains)"
)]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Prints a Nitro-format attestation document, hex encoded, binding a node key to a
	/// chain, a challenge nonce and an operator account.
	Nitro {
		/// The node's sr25519 public key (32 bytes, hex).
		#[arg(long)]
		node_key: String,
		/// The chain's genesis hash (32 bytes, hex).
		#[arg(long)]
		genesis: String,
		/// The challenge nonce from the chain's `ChallengeIssued` event (32 bytes, hex).
		#[arg(long)]
		nonce: String,
		/// The operator's account, which submits the evidence (its SCALE encoding, hex: the
		/// 32-byte public key of an `AccountId32`).
		#[arg(long)]
		operator: String,
		/// Development image whose PCRs the document reports.
		#[arg(long, default_value = DEVELOPMENT_IMAGE)]
		image: String,
		/// Signing-certificate measurement (PCR8, 48 bytes, hex) of a signed image.
		#[arg(long)]
		pcr8: Option<String>,
		/// Production time, seconds since the Unix epoch (default: now).
		#[arg(long)]
		at: Option<u64>,
	},
	/// Prints the allow-list measurement of a development image (SCALE hex of the
	/// `Measurement` a governance proposal passes, its PCRs and its hash).
	Measurement {
		#[arg(long, default_value = DEVELOPMENT_IMAGE)]
		image: String,
		#[arg(long)]
		pcr8: Option<String>,
	},
	/// Prints the development root certificate (DER, hex).
	Root,
}

fn bytes<const N: usize>(name: &str, text: &str) -> Result<[u8; N], String> {
	let raw = hex::decode(text.trim_start_matches("0x")).map_err(|e| format!("--{name}: {e}"))?;
	raw.try_into()
		.map_err(|raw: Vec<u8>| format!("--{name}: {} bytes, expected {N}", raw.len()))
}

fn pcrs(image: &str, pcr8: Option<&str>) -> Result<Pcrs, String> {
	let mut pcrs = Pcrs::development(image);
	pcrs.pcr8 = pcr8.map(|text| bytes::<48>("pcr8", text)).transpose()?;
	Ok(pcrs)
}

fn run(cli: Cli) -> Result<String, String> {
	match cli.command {
		Command::Nitro { node_key, genesis, nonce, operator, image, pcr8, at } => {
			let now = match at {
				Some(at) => at,
				None => SystemTime::now()
					.duration_since(UNIX_EPOCH)
					.map_err(|e| e.to_string())?
					.as_secs(),
			};
			let request = DocumentRequest {
				node_key: bytes("node-key", &node_key)?,
				genesis_hash: bytes("genesis", &genesis)?,
				nonce: bytes("nonce", &nonce)?,
				operator: hex::decode(operator.trim_start_matches("0x"))
					.map_err(|e| format!("--operator: {e}"))?,
				pcrs: pcrs(&image, pcr8.as_deref())?,
				now,
			};
			let document = nitro_document(&request).map_err(|e| e.to_string())?;
			Ok(format!("0x{}", hex::encode(document)))
		},
		Command::Measurement { image, pcr8 } => {
			use codec::Encode;
			let pcrs = pcrs(&image, pcr8.as_deref())?;
			let measurement = pcrs.measurement();
			Ok(format!(
				"measurement: 0x{}\nhash: 0x{}\npcr0: 0x{}\npcr1: 0x{}\npcr2: 0x{}",
				hex::encode(measurement.encode()),
				hex::encode(measurement.hash()),
				hex::encode(pcrs.pcr0),
				hex::encode(pcrs.pcr1),
				hex::encode(pcrs.pcr2),
			))
		},
		Command::Root => {
			Ok(format!("0x{}", hex::encode(development_root().map_err(|e| e.to_string())?)))
		},
	}
}

fn main() {
	match run(Cli::parse()) {
		Ok(output) => println!("{output}"),
		Err(error) => {
			eprintln!("error: {error}");
			std::process::exit(1);
		},
	}
}
