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

#[cfg(test)]
mod tests {
	use super::*;

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
