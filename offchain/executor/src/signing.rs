//! The node key held in-process: signs TEE-mode results and data-provenance statements.
//!
//! In TEE mode the key lives only inside the enclave that its attestation document
//! binds (see docs/inference-node.md): the executor, not the node, signs the result
//! message that the runtime checks, `opg_settlement::message::result`.

use crate::ContentHash;
use schnorrkel::{signing_context, ExpansionMode, Keypair, MiniSecretKey};
use std::path::Path;

/// An sr25519 node key (Substrate's signing context and seed expansion).
pub struct NodeKey {
	keypair: Keypair,
}

impl NodeKey {
	/// The key of a 32-byte secret seed.
	pub fn from_seed(seed: &[u8; 32]) -> Self {
		let secret = MiniSecretKey::from_bytes(seed).expect("32 bytes are a mini secret key");
		Self { keypair: secret.expand_to_keypair(ExpansionMode::Ed25519) }
	}

	/// A new key from the operating system's randomness, as a TEE generates its node key
	/// at start: it exists only in this process's memory.
	pub fn generate() -> Self {
		Self { keypair: MiniSecretKey::generate().expand_to_keypair(ExpansionMode::Ed25519) }
	}

	/// Reads the seed from a file holding it as 64 hex digits (with or without `0x`);
	/// the same seed inserted in a keystore as `0x..` is the same key.
	pub fn read(path: &Path) -> Result<Self, String> {
		let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
		let digits = text.trim();
		let mut seed = [0u8; 32];
		hex::decode_to_slice(digits.strip_prefix("0x").unwrap_or(digits), &mut seed).map_err(
			|_| format!("{}: expected a 32-byte secret seed as 64 hex digits", path.display()),
		)?;
		Ok(Self::from_seed(&seed))
	}

	/// The public key, as the node registry records it.
	pub fn public(&self) -> [u8; 32] {
		self.keypair.public.to_bytes()
	}

	/// Signs `message` as `sp_core::sr25519::Pair::sign` does.
	pub fn sign(&self, message: &[u8]) -> [u8; 64] {
		self.keypair.sign(signing_context(b"substrate").bytes(message)).to_bytes()
	}

	/// Signs the result of request `request` on the chain `genesis`: the message the
	/// inference pallet verifies.
	pub fn sign_result(
		&self,
		genesis: &[u8; 32],
		request: u64,
		model: &ContentHash,
		input: &ContentHash,
		output: &ContentHash,
	) -> [u8; 64] {
		self.sign(&opg_settlement::message::result(genesis, request, model, input, output))
	}
}

/// Whether `signature` is `public`'s sr25519 signature of `message` (Substrate's signing
/// context): how an account's signature, e.g. a private artifact's read permission, is
/// checked.
pub fn verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
	schnorrkel::PublicKey::from_bytes(public)
		.is_ok_and(|public| verify_with(&public, message, signature))
}

/// [`verify`] with the public key already decompressed: a caller that checks many
/// signatures of one key (a payment channel's client's) decompresses it once.
pub fn verify_with(public: &schnorrkel::PublicKey, message: &[u8], signature: &[u8; 64]) -> bool {
	schnorrkel::Signature::from_bytes(signature).is_ok_and(|signature| {
		public.verify(signing_context(b"substrate").bytes(message), &signature).is_ok()
	})
}
