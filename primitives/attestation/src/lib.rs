//! # OPG attestation verification
//!
//! Turns TEE evidence into one [`Attestation`], or a precise [`Error`]:
//!
//! - [`nitro`]: AWS Nitro Enclaves attestation documents (COSE_Sign1, ES384), checked
//!   field by field against AWS's attestation-process rules, with the certificate chain
//!   verified to a pinned root at an injected time.
//!
//! [`Binding`] defines what the evidence must commit to: the node key that will sign
//! results, the chain's genesis hash, and a challenge nonce issued by the chain.
//!
//! The crate is `no_std` and FRAME-free: the runtime, the node CLI and the executor share
//! it. Time is always an argument; nothing here reads a clock.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod cbor;
pub mod nitro;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// The TEE technology that produced the evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub enum TeeType {
	/// AWS Nitro Enclaves.
	Nitro,
	/// Intel TDX (DCAP quote v4/v5).
	Tdx,
	/// Intel SGX (DCAP quote v3).
	Sgx,
}

/// SHA-256 of a TEE's measurement tuple: what an allow-list names.
pub type MeasurementHash = [u8; 32];

/// What TEE evidence must be bound to, so that it cannot be replayed for another key,
/// another chain or another challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding<'a> {
	/// The sr25519 public key that will sign the node's results.
	pub node_key: &'a [u8; 32],
	/// The genesis hash of the chain the node registers with.
	pub genesis_hash: &'a [u8; 32],
	/// The challenge nonce the chain issued for this registration.
	pub nonce: &'a [u8; 32],
}

/// Domain separator of [`Binding::digest`], versioned.
pub const BINDING_DOMAIN: &[u8] = b"opg/attestation-binding/v1";

impl Binding<'_> {
	/// SHA-256(domain ‖ node_key ‖ genesis_hash ‖ nonce).
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
		hasher.finalize().into()
	}
}
