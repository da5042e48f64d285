//! # OPG host functions
//!
//! Cryptography the runtime delegates to the node, which runs it natively:
//! - [`opg_crypto::p384_verify`]: ECDSA P-384 (in the wasm runtime one verification costs
//!   about 10 ms, and an AWS Nitro document needs six), used through [`HostP384`];
//! - [`opg_crypto::bn254_groth16_verify`] and [`opg_crypto::bn254_groth16_verify_batch`]:
//!   Groth16 over BN254 for ZKML results, used through [`HostBn254`].
//!
//! The node registers [`opg_crypto::HostFunctions`] with its executor. The host side is
//! the same pure-Rust code the runtime would run in wasm (`opg-attestation`,
//! `opg-zk-verifier`), so both paths give the same answer. Every function is version 1;
//! a change of behaviour adds a `#[version(2)]` beside it, never an edit, so that old
//! blocks replay with the code they were built with.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use opg_attestation::nitro::P384Verifier;
use opg_zk_verifier::{Error as ZkError, Groth16Verifier};
use sp_runtime_interface::{
	pass_by::{PassFatPointerAndDecode, PassFatPointerAndRead, PassPointerAndRead},
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

	/// Verifies a compressed Groth16 `proof` (BN254) for the encoded public `inputs`
	/// against the compressed verifying `key` (see `opg-zk-verifier`): 0 if it verifies,
	/// else the error's code.
	fn bn254_groth16_verify(
		key: PassFatPointerAndRead<&[u8]>,
		proof: PassFatPointerAndRead<&[u8]>,
		inputs: PassFatPointerAndRead<&[u8]>,
	) -> u8 {
		code(opg_zk_verifier::verify_encoded_inputs(key, proof, inputs))
	}

	/// Verifies many `(proof, inputs)` pairs for one `key` as one batch: 0 if every proof
	/// verifies, else the error's code.
	fn bn254_groth16_verify_batch(
		key: PassFatPointerAndRead<&[u8]>,
		items: PassFatPointerAndDecode<Vec<(Vec<u8>, Vec<u8>)>>,
	) -> u8 {
		code(opg_zk_verifier::verify_batch_encoded_inputs(key, &items))
	}
}

/// A verification result as a host function's return code.
#[cfg(not(substrate_runtime))]
fn code(result: Result<(), ZkError>) -> u8 {
	result.map_or_else(ZkError::code, |()| 0)
}

/// The inverse of [`code`].
fn result(code: u8) -> Result<(), ZkError> {
	if code == 0 {
		Ok(())
	} else {
		Err(ZkError::from_code(code))
	}
}

/// [`Groth16Verifier`] through the BN254 host functions.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostBn254;

impl Groth16Verifier for HostBn254 {
	fn verify_inputs(&self, key: &[u8], proof: &[u8], inputs: &[u8]) -> Result<(), ZkError> {
		result(opg_crypto::bn254_groth16_verify(key, proof, inputs))
	}

	fn verify_batch_inputs(&self, key: &[u8], items: &[(Vec<u8>, Vec<u8>)]) -> Result<(), ZkError> {
		result(opg_crypto::bn254_groth16_verify_batch(key, items.to_vec()))
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

	#[test]
	fn host_and_pure_groth16_verifiers_agree() {
		use opg_zk_verifier::{fixture::*, PureRust};
		let mut wrong = PUBLIC_INPUTS.to_vec();
		wrong[0] ^= 1;
		let mut non_canonical = PUBLIC_INPUTS.to_vec();
		non_canonical[..32].fill(0xff);
		for (key, proof, inputs) in [
			(VERIFYING_KEY, PROOF, PUBLIC_INPUTS),
			(VERIFYING_KEY, PROOF, &wrong[..]),
			(VERIFYING_KEY, PROOF, &non_canonical[..]),
			(VERIFYING_KEY, &PROOF[1..], PUBLIC_INPUTS),
			(&VERIFYING_KEY[1..], PROOF, PUBLIC_INPUTS),
		] {
			assert_eq!(HostBn254.verify_inputs(key, proof, inputs), PureRust.verify_inputs(key, proof, inputs));
		}
		assert_eq!(HostBn254.verify_inputs(VERIFYING_KEY, PROOF, PUBLIC_INPUTS), Ok(()));
		assert_eq!(HostBn254.verify_inputs(VERIFYING_KEY, PROOF, &wrong), Err(ZkError::Rejected));
		let batch = vec![(PROOF.to_vec(), PUBLIC_INPUTS.to_vec()), (PROOF.to_vec(), wrong)];
		assert_eq!(HostBn254.verify_batch_inputs(VERIFYING_KEY, &batch[..1]), Ok(()));
		assert_eq!(HostBn254.verify_batch_inputs(VERIFYING_KEY, &batch), Err(ZkError::Rejected));
		assert_eq!(HostBn254.verify_batch_inputs(VERIFYING_KEY, &[]), Err(ZkError::EmptyBatch));
	}
}
