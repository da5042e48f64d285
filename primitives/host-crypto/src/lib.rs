//! # OPG host functions
//!
//! Cryptography the runtime delegates to the node, which runs it natively:
//! - [`opg_crypto::p384_verify`]: ECDSA P-384 (in the wasm runtime one verification costs
//!   about 10 ms, and an AWS Nitro document needs six), used through [`HostP384`];
//! - [`opg_crypto::bn254_groth16_prepare_key`], [`opg_crypto::bn254_groth16_verify`] and
//!   [`opg_crypto::bn254_groth16_verify_batch`]: Groth16 over BN254 for ZKML models (key
//!   checked and prepared once, at publication) and results, used through [`HostBn254`].
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
	pass_by::{
		AllocateAndReturnByCodec, PassFatPointerAndDecode, PassFatPointerAndRead,
		PassPointerAndRead,
	},
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

	/// Checks a compressed Groth16 verifying `key` (BN254) and prepares it (see
	/// `opg-zk-verifier`): the prepared key, or the error's code.
	fn bn254_groth16_prepare_key(
		key: PassFatPointerAndRead<&[u8]>,
	) -> AllocateAndReturnByCodec<Result<Vec<u8>, u8>> {
		opg_zk_verifier::prepare_key(key).map_err(ZkError::code)
	}

	/// Verifies a compressed Groth16 `proof` (BN254) for the encoded public `inputs`
	/// against a `prepared` key from [`opg_crypto::bn254_groth16_prepare_key`] (read back
	/// unchecked: the runtime passes only keys it prepared): 0 if it verifies, else the
	/// error's code.
	fn bn254_groth16_verify(
		prepared: PassFatPointerAndRead<&[u8]>,
		proof: PassFatPointerAndRead<&[u8]>,
		inputs: PassFatPointerAndRead<&[u8]>,
	) -> u8 {
		code(opg_zk_verifier::verify_prepared_inputs(prepared, proof, inputs))
	}

	/// Verifies many `(proof, inputs)` pairs against one `prepared` key as one batch: 0 if
	/// every proof verifies, else the error's code.
	fn bn254_groth16_verify_batch(
		prepared: PassFatPointerAndRead<&[u8]>,
		items: PassFatPointerAndDecode<Vec<(Vec<u8>, Vec<u8>)>>,
	) -> u8 {
		code(opg_zk_verifier::verify_batch_prepared_inputs(prepared, &items))
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
	fn prepare_key(&self, key: &[u8]) -> Result<Vec<u8>, ZkError> {
		opg_crypto::bn254_groth16_prepare_key(key).map_err(ZkError::from_code)
	}

	fn verify_inputs(&self, prepared: &[u8], proof: &[u8], inputs: &[u8]) -> Result<(), ZkError> {
		result(opg_crypto::bn254_groth16_verify(prepared, proof, inputs))
	}

	fn verify_batch_inputs(
		&self,
		prepared: &[u8],
		items: &[(Vec<u8>, Vec<u8>)],
	) -> Result<(), ZkError> {
		result(opg_crypto::bn254_groth16_verify_batch(prepared, items.to_vec()))
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
		use base64::Engine;
		use opg_attestation::nitro::{self, AWS_NITRO_ROOT_G1_SHA256};
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
		assert_eq!(HostBn254.prepare_key(VERIFYING_KEY), PureRust.prepare_key(VERIFYING_KEY));
		assert_eq!(HostBn254.prepare_key(&VERIFYING_KEY[1..]), Err(ZkError::MalformedKey));
		let prepared = HostBn254.prepare_key(VERIFYING_KEY).unwrap();
		let mut wrong = PUBLIC_INPUTS.to_vec();
		wrong[0] ^= 1;
		let mut non_canonical = PUBLIC_INPUTS.to_vec();
		non_canonical[..32].fill(0xff);
		for (key, proof, inputs) in [
			(&prepared[..], PROOF, PUBLIC_INPUTS),
			(&prepared[..], PROOF, &wrong[..]),
			(&prepared[..], PROOF, &non_canonical[..]),
			(&prepared[..], &PROOF[1..], PUBLIC_INPUTS),
			(&prepared[1..], PROOF, PUBLIC_INPUTS),
		] {
			assert_eq!(
				HostBn254.verify_inputs(key, proof, inputs),
				PureRust.verify_inputs(key, proof, inputs)
			);
		}
		assert_eq!(HostBn254.verify_inputs(&prepared, PROOF, PUBLIC_INPUTS), Ok(()));
		assert_eq!(HostBn254.verify_inputs(&prepared, PROOF, &wrong), Err(ZkError::Rejected));
		let batch = vec![(PROOF.to_vec(), PUBLIC_INPUTS.to_vec()), (PROOF.to_vec(), wrong)];
		assert_eq!(HostBn254.verify_batch_inputs(&prepared, &batch[..1]), Ok(()));
		assert_eq!(HostBn254.verify_batch_inputs(&prepared, &batch), Err(ZkError::Rejected));
		assert_eq!(HostBn254.verify_batch_inputs(&prepared, &[]), Err(ZkError::EmptyBatch));
	}
}
