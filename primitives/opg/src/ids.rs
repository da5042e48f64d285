//! Identifiers.

/// Identifies a published model version.
pub type ModelId = u32;

/// A SHA-256 digest: how artifacts, inputs and outputs are addressed.
pub type ContentHash = [u8; 32];

/// Identifies an inference request; 8 bytes little-endian in every signed message.
pub type RequestId = u64;

/// The first id of a direct call opened for checking (`pallet-channels`): the verification
/// game names held results by one id, and on-chain requests count up from zero, far below.
pub const DIRECT_CALL_IDS: RequestId = 1 << 63;

/// Whether held result `id` is a direct call opened for checking, not an on-chain request.
pub const fn is_direct_call(id: RequestId) -> bool {
	id >= DIRECT_CALL_IDS
}

/// Identifies a settled batch.
pub type BatchId = u64;

/// The sr25519 public key a node signs its results with; its identity in the registry.
#[cfg(feature = "chain")]
pub type NodeKey = sp_core::sr25519::Public;

/// The keystore's key type of node keys: `opgn`. A node's off-chain workers sign with
/// the keys of this type (results, cannot-serve notices, heartbeats).
#[cfg(feature = "chain")]
pub const NODE_KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"opgn");

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn direct_calls_and_on_chain_requests_never_share_an_id() {
		assert!(!is_direct_call(0));
		assert!(!is_direct_call(DIRECT_CALL_IDS - 1));
		assert!(is_direct_call(DIRECT_CALL_IDS));
		assert!(is_direct_call(RequestId::MAX));
	}
}
