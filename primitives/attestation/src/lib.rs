//! # OPG attestation verification
//!
//! Turns TEE evidence into one [`Attestation`], or a precise error ([`nitro::NitroError`],
//! [`dcap::DcapError`]):
//!
//! - [`nitro`]: AWS Nitro Enclaves attestation documents (COSE_Sign1, ES384), checked
//!   field by field against AWS's attestation-process rules, with the certificate chain
//!   verified to a pinned root at an injected time.
//! - [`dcap`]: Intel TDX (quote v4/v5) and SGX (quote v3) DCAP quotes through `dcap-qvl`'s
//!   pure-Rust verifier, to the pinned Intel SGX Root CA, under a governance [`dcap::DcapPolicy`].
//!
//! Both produce an [`Attestation`]; its [`Measurement`] hash is what allow-lists name.
//!
//! [`Binding`] defines what the evidence must commit to: the node key that will sign
//! results, the chain's genesis hash, a challenge nonce issued by the chain, and the
//! operator account the enclave serves.
//!
//! The crate is `no_std` and FRAME-free: the runtime, the node CLI and the executor share
//! it. Time is always an argument; nothing here reads a clock.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;

pub mod cbor;
pub mod dcap;
pub mod nitro;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// The TEE technology that produced the evidence.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum TeeType {
	/// AWS Nitro Enclaves.
	Nitro,
	/// Intel TDX (DCAP quote v4/v5).
	Tdx,
	/// Intel SGX (DCAP quote v3).
	Sgx,
}

/// SHA-256 of a TEE's measurement tuple ([`Measurement::hash`]): what an allow-list names.
pub type MeasurementHash = [u8; 32];

/// The code identity a TEE reports: what governance allows to run.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum Measurement {
	/// AWS Nitro: enclave image (PCR0), kernel and boot ramfs (PCR1), application (PCR2),
	/// and, when the entry pins the image signer, the signing certificate (PCR8).
	Nitro {
		/// PCR0: the enclave image.
		pcr0: [u8; 48],
		/// PCR1: the kernel and boot ramfs.
		pcr1: [u8; 48],
		/// PCR2: the application.
		pcr2: [u8; 48],
		/// PCR8: the image signer's certificate, when the entry pins it.
		pcr8: Option<[u8; 48]>,
	},
	/// Intel TDX: the TD's initial contents (MRTD) and its runtime measurement registers.
	Tdx {
		/// MRTD: the TD's initial contents.
		mr_td: [u8; 48],
		/// RTMR0–3: the runtime measurement registers.
		rtmr: [[u8; 48]; 4],
	},
	/// Intel SGX: the enclave (MRENCLAVE), its signer (MRSIGNER) and product id. The minimum
	/// ISVSVN is a property of the allow-list entry, compared with
	/// [`Attestation::security_version`].
	Sgx {
		/// MRENCLAVE: the enclave's contents.
		mr_enclave: [u8; 32],
		/// MRSIGNER: the enclave signer's key.
		mr_signer: [u8; 32],
		/// The product id (ISVPRODID).
		isv_prod_id: u16,
	},
}

/// Domain separator of [`Measurement::hash`], versioned.
pub const MEASUREMENT_DOMAIN: &[u8] = b"opg/measurement/v1";

impl Measurement {
	/// The TEE this measurement belongs to.
	pub fn tee(&self) -> TeeType {
		match self {
			Measurement::Nitro { .. } => TeeType::Nitro,
			Measurement::Tdx { .. } => TeeType::Tdx,
			Measurement::Sgx { .. } => TeeType::Sgx,
		}
	}

	/// SHA-256(domain ‖ SCALE encoding): distinct for every variant and every field.
	pub fn hash(&self) -> MeasurementHash {
		use codec::Encode;
		use sha2::{Digest, Sha256};
		let mut hasher = Sha256::new();
		hasher.update(MEASUREMENT_DOMAIN);
		hasher.update(self.encode());
		hasher.finalize().into()
	}
}

/// Intel TCB status of a DCAP-attested platform (absent for Nitro).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum TcbStatus {
	/// The platform is patched.
	UpToDate,
	/// Patched; software mitigations are needed.
	SwHardeningNeeded,
	/// Patched; a BIOS configuration change is needed.
	ConfigurationNeeded,
	/// Patched; configuration and software mitigations are needed.
	ConfigurationAndSwHardeningNeeded,
	/// A TCB recovery has been published that the platform lacks.
	OutOfDate,
	/// Out of date, and a configuration change is needed.
	OutOfDateConfigurationNeeded,
	/// TDX: the TD should be relaunched to pick up a TCB update.
	TdRelaunchAdvised,
	/// TDX: relaunch advised, and a configuration change is needed.
	TdRelaunchAdvisedConfigurationNeeded,
	/// The platform's keys are revoked.
	Revoked,
}

/// Verified TEE evidence, normalized across Nitro and DCAP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attestation {
	/// The TEE that produced the evidence.
	pub tee: TeeType,
	/// The full measurement the TEE reported.
	pub measurement: Measurement,
	/// Nitro with a signed image only: the measurement without PCR8, matching allow-list
	/// entries that do not pin the signer.
	pub measurement_without_signer: Option<Measurement>,
	/// SGX ISVSVN; zero for other TEEs.
	pub security_version: u16,
	/// DCAP `report_data` (64 bytes), or Nitro `user_data`.
	pub report_data: Vec<u8>,
	/// Nitro `public_key`.
	pub public_key: Option<Vec<u8>>,
	/// Nitro `nonce`; DCAP quotes carry the nonce inside `report_data`.
	pub nonce: Option<Vec<u8>>,
	/// Nitro: when the NSM signed the document (ms since the Unix epoch). DCAP quotes carry
	/// no time: their freshness comes from the nonce alone.
	pub timestamp_ms: Option<u64>,
	/// DCAP: the converged platform and QE TCB status.
	pub tcb_status: Option<TcbStatus>,
	/// DCAP: what the status was judged on besides itself, so that a later policy can be
	/// applied to the same platform ([`dcap::TcbLevel::judge`]).
	pub tcb_level: Option<dcap::TcbLevel>,
	/// When the first certificate or collateral the evidence rests on expires (unix
	/// seconds): Nitro, the earliest not-after of its certificate chain (the leaf's);
	/// DCAP, the earliest not-after or next update of its certificates, CRLs, TCB info and
	/// QE identity. The evidence proves nothing after this.
	pub valid_until: u64,
}

/// Why verified evidence does not bind what the chain expects.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum BindingError {
	/// Nitro `public_key` is absent or is not the node key.
	PublicKeyMismatch,
	/// Nitro `user_data` or DCAP `report_data` is not the binding digest.
	ReportDataMismatch,
	/// Nitro `nonce` is absent or is not the chain's challenge.
	NonceMismatch,
}

impl Attestation {
	/// Checks that the evidence binds `binding`. Nitro: `public_key` is the node key,
	/// `user_data` the binding digest and `nonce` the challenge. DCAP: `report_data` is the
	/// binding digest followed by 32 zero bytes.
	pub fn check_binding(&self, binding: &Binding) -> Result<(), BindingError> {
		let digest = binding.digest();
		match self.tee {
			TeeType::Nitro => {
				if self.public_key.as_deref() != Some(binding.node_key.as_slice()) {
					return Err(BindingError::PublicKeyMismatch);
				}
				if self.report_data != digest {
					return Err(BindingError::ReportDataMismatch);
				}
				if self.nonce.as_deref() != Some(binding.nonce.as_slice()) {
					return Err(BindingError::NonceMismatch);
				}
			},
			TeeType::Tdx | TeeType::Sgx => {
				let bound = self.report_data.len() == 64
					&& self.report_data[..32] == digest
					&& self.report_data[32..].iter().all(|b| *b == 0);
				if !bound {
					return Err(BindingError::ReportDataMismatch);
				}
			},
		}
		Ok(())
	}
}

/// What TEE evidence must be bound to, so that it cannot be replayed for another key,
/// another chain, another challenge or another operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding<'a> {
	/// The sr25519 public key that will sign the node's results.
	pub node_key: &'a [u8; 32],
	/// The genesis hash of the chain the node registers with.
	pub genesis_hash: &'a [u8; 32],
	/// The challenge nonce the chain issued for this registration.
	pub nonce: &'a [u8; 32],
	/// The SCALE encoding of the operator account the enclave was started for (32 bytes
	/// for an `AccountId32`): evidence one operator obtained cannot attest another's node.
	pub operator: &'a [u8],
}

/// Domain separator of [`Binding::digest`], versioned.
pub const BINDING_DOMAIN: &[u8] = b"opg/attestation-binding/v2";

impl Binding<'_> {
	/// SHA-256(domain ‖ node_key ‖ genesis_hash ‖ nonce ‖ operator); the operator's
	/// encoding comes last, so its length needs no prefix.
	///
	/// Nitro carries it in `user_data` (with the node key in `public_key` and the nonce in
	/// `nonce`); DCAP quotes carry it in the first 32 bytes of `report_data`, the rest zero.
	pub fn digest(&self) -> [u8; 32] {
		use sha2::{Digest, Sha256};
		let mut hasher = Sha256::new();
		hasher.update(BINDING_DOMAIN);
		hasher.update(self.node_key);
		hasher.update(self.genesis_hash);
		hasher.update(self.nonce);
		hasher.update(self.operator);
		hasher.finalize().into()
	}
}
