//! # OPG attestation verification
//!
//! Turns TEE evidence into one [`Attestation`], or a precise [`Error`]:
//!
//! - [`nitro`]: AWS Nitro Enclaves attestation documents (COSE_Sign1, ES384), checked
//!   field by field against AWS's attestation-process rules, with the certificate chain
//!   verified to a pinned root at an injected time.
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
