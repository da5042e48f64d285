//! `opg-node attestation verify`: checks TEE evidence exactly as the runtime will, before
//! an operator pays to register.

use codec::{Decode, Encode};
use opg_attestation::{
	dcap::{self, DcapPolicy, TcbStatusSet},
	nitro, Attestation, TcbStatus, TeeType,
};
use polkadot_sdk::sc_cli;
use std::{path::PathBuf, time::SystemTime};

/// TEE attestation tools.
#[derive(Debug, clap::Subcommand)]
pub enum AttestationCmd {
	/// Verify an attestation document or quote; print the normalized attestation, or the
	/// exact reason of rejection (non-zero exit).
	Verify(VerifyCmd),
}

/// The kind of evidence.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
	/// AWS Nitro Enclaves attestation document (COSE_Sign1).
	Nitro,
	/// Intel TDX DCAP quote (v4/v5).
	Tdx,
	/// Intel SGX DCAP quote (v3).
	Sgx,
}

/// Which Nitro root the document must chain to.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Root {
	/// AWS Nitro Enclaves Root-G1: what production chains trust.
	Aws,
	/// The OPG development root (`opg-dev-evidence`): development chains only.
	Dev,
}

#[derive(Debug, clap::Args)]
pub struct VerifyCmd {
	/// Evidence format.
	#[arg(long, value_enum)]
	format: Format,
	/// The evidence: raw bytes, base64 or hex.
	#[arg(long)]
	file: PathBuf,
	/// DCAP collateral: JSON as served by a PCCS (dcap-qvl's format), or its SCALE encoding
	/// (raw, base64 or hex) as submitted on chain.
	#[arg(long)]
	collateral: Option<PathBuf>,
	/// Verification time, seconds since the Unix epoch (default: now).
	#[arg(long)]
	at: Option<u64>,
	/// Nitro root to trust.
	#[arg(long, value_enum, default_value = "aws")]
	root: Root,
	/// DCAP: also accept this TCB status (repeatable), e.g. `SwHardeningNeeded`.
	#[arg(long = "allow-status")]
	allow_status: Vec<String>,
	/// DCAP: seconds an out-of-date TCB stays accepted after its TCB date.
	#[arg(long, default_value_t = 0)]
	out_of_date_grace: u64,
	/// DCAP: lowest accepted tcbEvaluationDataNumber.
	#[arg(long, default_value_t = 0)]
	min_tcb_evaluation_data_number: u32,
}

impl AttestationCmd {
	pub fn run(&self) -> sc_cli::Result<()> {
		match self {
			AttestationCmd::Verify(cmd) => {
				let attestation = cmd.verify().map_err(sc_cli::Error::Input)?;
				println!("{}", describe(&attestation));
				Ok(())
			},
		}
	}
}

/// Decodes hex (optionally `0x`-prefixed) or base64 text; anything else is taken as raw.
fn decode_input(bytes: Vec<u8>) -> Vec<u8> {
	use base64::Engine;
	let Ok(text) = std::str::from_utf8(&bytes) else { return bytes };
	let text: String = text.split_whitespace().collect();
	if let Ok(decoded) = hex::decode(text.trim_start_matches("0x")) {
		return decoded;
	}
	if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(&text) {
		return decoded;
	}
	bytes
}

fn read(path: &PathBuf) -> Result<Vec<u8>, String> {
	std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn parse_status(name: &str) -> Result<TcbStatus, String> {
	use TcbStatus::*;
	let statuses = [
		SwHardeningNeeded,
		ConfigurationNeeded,
		ConfigurationAndSwHardeningNeeded,
		TdRelaunchAdvised,
		TdRelaunchAdvisedConfigurationNeeded,
	];
	statuses
		.into_iter()
		.find(|status| format!("{status:?}").eq_ignore_ascii_case(name))
		.ok_or_else(|| format!("--allow-status {name}: expected one of {statuses:?}"))
}

impl VerifyCmd {
	fn verify(&self) -> Result<Attestation, String> {
		let evidence = decode_input(read(&self.file)?);
		let now = match self.at {
			Some(at) => at,
			None => SystemTime::now()
				.duration_since(SystemTime::UNIX_EPOCH)
				.map_err(|e| e.to_string())?
				.as_secs(),
		};
		let attestation = match self.format {
			Format::Nitro => {
				if self.collateral.is_some() {
					return Err("--collateral applies to DCAP quotes only".into());
				}
				let root = match self.root {
					Root::Aws => nitro::AWS_NITRO_ROOT_G1_SHA256,
					Root::Dev => nitro::DEVELOPMENT_ROOT_SHA256,
				};
				nitro::verify_attestation(&evidence, &root, now)
					.map_err(|e| format!("rejected: {e:?}"))?
			},
			Format::Tdx | Format::Sgx => {
				if matches!(self.root, Root::Dev) {
					return Err(
						"DCAP quotes chain to Intel's root only; --root dev is for Nitro".into()
					);
				}
				let path = self.collateral.as_ref().ok_or("DCAP quotes need --collateral")?;
				let raw = read(path)?;
				let collateral: dcap::Collateral = if raw.trim_ascii_start().starts_with(b"{") {
					serde_json::from_slice(&raw).map_err(|e| format!("collateral JSON: {e}"))?
				} else {
					Decode::decode(&mut &decode_input(raw)[..])
						.map_err(|e| format!("collateral SCALE: {e}"))?
				};
				let statuses = self
					.allow_status
					.iter()
					.map(|name| parse_status(name))
					.collect::<Result<Vec<_>, _>>()?;
				let policy = DcapPolicy {
					allowed: TcbStatusSet::of(&statuses),
					out_of_date_grace_secs: self.out_of_date_grace,
					min_tcb_evaluation_data_number: self.min_tcb_evaluation_data_number,
				};
				dcap::verify(&evidence, &collateral, now, &policy)
					.map_err(|e| format!("rejected: {e:?}"))?
			},
		};
		let expected = match self.format {
			Format::Nitro => TeeType::Nitro,
			Format::Tdx => TeeType::Tdx,
			Format::Sgx => TeeType::Sgx,
		};
		if attestation.tee != expected {
			return Err(format!("rejected: a {:?} quote, not {expected:?}", attestation.tee));
		}
		Ok(attestation)
	}
}

fn describe(attestation: &Attestation) -> String {
	let hex = |bytes: &[u8]| format!("0x{}", hex::encode(bytes));
	let value = serde_json::json!({
		"tee": format!("{:?}", attestation.tee),
		"measurementHash": hex(&attestation.measurement.hash()),
		"measurement": hex(&attestation.measurement.encode()),
		"measurementWithoutSignerHash":
			attestation.measurement_without_signer.as_ref().map(|m| hex(&m.hash())),
		"securityVersion": attestation.security_version,
		"reportData": hex(&attestation.report_data),
		"publicKey": attestation.public_key.as_deref().map(hex),
		"nonce": attestation.nonce.as_deref().map(hex),
		"timestampMs": attestation.timestamp_ms,
		"tcbStatus": attestation.tcb_status.map(|s| format!("{s:?}")),
	});
	serde_json::to_string_pretty(&value).expect("a JSON value serializes; qed")
}
