//! # OPG host functions
//!
//! [`opg_crypto::p384_verify`] runs ECDSA P-384 verification natively in the node: in the
//! wasm runtime one verification costs about 10 ms, and an AWS Nitro document needs six.
//! The node registers [`opg_crypto::HostFunctions`] with its executor; the runtime calls
//! them through [`HostP384`]. The host side is `opg-attestation`'s pure-Rust verifier,
//! the same code the runtime would run in wasm, so both paths give the same answer.

#![cfg_attr(not(feature = "std"), no_std)]

use opg_attestation::nitro::P384Verifier;
use sp_runtime_interface::{
	pass_by::{PassFatPointerAndRead, PassPointerAndRead},
	runtime_interface,
};

/// Cryptography the runtime delegates to the node.
#[runtime_interface]
pub trait OpgCrypto {
	/// Whether `signature` (`r‖s`) over `message` (hashed here with SHA-384) verifies with
	/// the SEC1 `public_key`.
	fn p384_verify(
		public_key: PassFatPointerAndRead<&[u8]>,
		message: PassFatPointerAndRead<&[u8]>,
		signature: PassPointerAndRead<&[u8; 96], 96>,
	) -> bool {
		opg_attestation::nitro::PureRust.verify(public_key, message, signature)
	}
}

/// [`P384Verifier`] through the [`opg_crypto::p384_verify`] host function.
pub struct HostP384;

impl P384Verifier for HostP384 {
	fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8; 96]) -> bool {
		opg_crypto::p384_verify(public_key, message, signature)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn host_and_pure_verifiers_agree_on_a_real_document() {
		use opg_attestation::nitro::{self, AWS_NITRO_ROOT_G1_SHA256};
		use base64::Engine;
		let text = include_str!("../../attestation/testdata/nitro/nitrite_nitro_attestation.b64");
		let text: String = text.split_whitespace().collect();
		let document = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
		let now = 1_725_719_859;
		let pure = nitro::verify_with(&document, &AWS_NITRO_ROOT_G1_SHA256, now, &nitro::PureRust);
		let host = nitro::verify_with(&document, &AWS_NITRO_ROOT_G1_SHA256, now, &HostP384);
		assert!(pure.is_ok());
		assert_eq!(pure, host);
		let mut tampered = document.clone();
		*tampered.last_mut().unwrap() ^= 1;
		assert_eq!(
			nitro::verify_with(&tampered, &AWS_NITRO_ROOT_G1_SHA256, now, &HostP384),
			Err(nitro::NitroError::BadDocumentSignature)
		);
	}
}
