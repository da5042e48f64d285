//! Identifiers.

/// Identifies a published model version.
pub type ModelId = u32;

/// A SHA-256 digest: how artifacts, inputs and outputs are addressed.
pub type ContentHash = [u8; 32];

/// Identifies an inference request; 8 bytes little-endian in every signed message.
pub type RequestId = u64;

/// Identifies a settled batch.
pub type BatchId = u64;

/// The sr25519 public key a node signs its results with; its identity in the registry.
#[cfg(feature = "chain")]
pub type NodeKey = sp_core::sr25519::Public;

/// The keystore's key type of node keys: `opgn`. A node's off-chain workers sign with
/// the keys of this type (results, cannot-serve notices, heartbeats).
#[cfg(feature = "chain")]
pub const NODE_KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"opgn");
