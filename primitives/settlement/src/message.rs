//! The messages a node key signs. Each starts with its own domain tag and the chain's
//! genesis hash, so a signature never verifies for another purpose or another chain.

use crate::Hash;
use alloc::vec::Vec;

/// Domain of a single result.
pub const RESULT_DOMAIN: &[u8] = b"opg/inference-result/v1";
/// Domain of a batch root.
pub const BATCH_DOMAIN: &[u8] = b"opg/inference-batch/v1";

/// What the serving node signs for one result: request, model artifact, input and output.
pub fn result(genesis: &Hash, request: u64, model_hash: &Hash, input_hash: &Hash, output_hash: &Hash) -> Vec<u8> {
	let mut message = Vec::with_capacity(RESULT_DOMAIN.len() + 32 + 8 + 3 * 32);
	message.extend_from_slice(RESULT_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(&request.to_le_bytes());
	message.extend_from_slice(model_hash);
	message.extend_from_slice(input_hash);
	message.extend_from_slice(output_hash);
	message
}

/// What the serving node signs for a batch: the Merkle root over its leaves and their count.
pub fn batch(genesis: &Hash, root: &Hash, leaf_count: u32) -> Vec<u8> {
	let mut message = Vec::with_capacity(BATCH_DOMAIN.len() + 32 + 32 + 4);
	message.extend_from_slice(BATCH_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(root);
	message.extend_from_slice(&leaf_count.to_le_bytes());
	message
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn every_field_changes_the_message() {
		let base = result(&[1; 32], 7, &[2; 32], &[3; 32], &[4; 32]);
		assert_ne!(base, result(&[9; 32], 7, &[2; 32], &[3; 32], &[4; 32]));
		assert_ne!(base, result(&[1; 32], 8, &[2; 32], &[3; 32], &[4; 32]));
		assert_ne!(base, result(&[1; 32], 7, &[9; 32], &[3; 32], &[4; 32]));
		assert_ne!(base, result(&[1; 32], 7, &[2; 32], &[9; 32], &[4; 32]));
		assert_ne!(base, result(&[1; 32], 7, &[2; 32], &[3; 32], &[9; 32]));
		let batch_message = batch(&[1; 32], &[2; 32], 3);
		assert_ne!(batch_message, batch(&[1; 32], &[2; 32], 4));
		assert!(!batch_message.starts_with(RESULT_DOMAIN));
	}
}
