//! Language-model answers: what anyone recomputes to check one.
//!
//! An on-chain request for a model in the model hub's LLM format carries the body of a
//! chat completion request; its output is the answer's text (UTF-8). A request that names
//! no `seed` is sampled with [`request_seed`] of its chain and id: no node chooses it, so a
//! verifier replays the sampler from its own logits with the same seed.

use crate::{sha256, Hash};

/// The domain of [`request_seed`].
pub const SEED_DOMAIN: &[u8] = b"opg/llm-seed/v1";

/// The seed of request `request` on chain `genesis`: the first 8 bytes, little-endian, of
/// `SHA-256(SEED_DOMAIN ‖ genesis ‖ u64 LE request)`.
pub fn request_seed(genesis: &Hash, request: u64) -> u64 {
	let mut preimage = alloc::vec::Vec::with_capacity(SEED_DOMAIN.len() + 32 + 8);
	preimage.extend_from_slice(SEED_DOMAIN);
	preimage.extend_from_slice(genesis);
	preimage.extend_from_slice(&request.to_le_bytes());
	let digest = sha256(&preimage);
	let mut seed = [0u8; 8];
	seed.copy_from_slice(&digest[..8]);
	u64::from_le_bytes(seed)
}

/// The digest a node signs an answer's activation commitments under
/// (`crate::message::llm_activations`): `SHA-256(u32 LE token count ‖ each token u32 LE ‖
/// u32 LE commitment count ‖ each commitment's bytes)`; commitments are 258 bytes each
/// (`opg-activations`).
pub fn activations_digest<'a>(
	tokens: &[u32],
	commitments: impl ExactSizeIterator<Item = &'a [u8]>,
) -> Hash {
	let mut preimage =
		alloc::vec::Vec::with_capacity(8 + 4 * tokens.len() + 258 * commitments.len());
	preimage.extend_from_slice(&(tokens.len() as u32).to_le_bytes());
	for token in tokens {
		preimage.extend_from_slice(&token.to_le_bytes());
	}
	preimage.extend_from_slice(&(commitments.len() as u32).to_le_bytes());
	for commitment in commitments {
		preimage.extend_from_slice(commitment);
	}
	sha256(&preimage)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_activations_digest_is_the_documented_one_and_binds_tokens_and_commitments() {
		// Python: hashlib.sha256((2).to_bytes(4, "little") + (7).to_bytes(4, "little")
		//   + (9).to_bytes(4, "little") + (1).to_bytes(4, "little") + bytes([5]) * 258)
		let commitment = [5u8; 258];
		let digest = activations_digest(&[7, 9], [&commitment[..]].into_iter());
		let mut preimage = alloc::vec::Vec::new();
		for word in [2u32, 7, 9, 1] {
			preimage.extend_from_slice(&word.to_le_bytes());
		}
		preimage.extend_from_slice(&commitment);
		assert_eq!(digest, sha256(&preimage));
		assert_ne!(digest, activations_digest(&[7, 8], [&commitment[..]].into_iter()));
		assert_ne!(digest, activations_digest(&[7, 9], [&[6u8; 258][..]].into_iter()));
		assert_ne!(digest, activations_digest(&[7, 9], core::iter::empty()));
	}

	#[test]
	fn the_seed_is_the_documented_digests_first_eight_bytes() {
		// Python: int.from_bytes(hashlib.sha256(b"opg/llm-seed/v1" + b"\x42" * 32
		//   + (7).to_bytes(8, "little")).digest()[:8], "little")
		assert_eq!(request_seed(&[0x42; 32], 7), 4_787_355_184_375_824_022);
	}

	#[test]
	fn each_request_and_chain_gets_its_own_seed() {
		let seed = request_seed(&[0x42; 32], 7);
		assert_ne!(seed, request_seed(&[0x42; 32], 8));
		assert_ne!(seed, request_seed(&[0x43; 32], 7));
	}
}
