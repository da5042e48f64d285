//! Settlement logic of OPG inference, free of FRAME so that the runtime, the off-chain
//! executor and clients compute exactly the same thing:
//!
//! - [`merkle`]: the tree a node commits a batch of results to, and inclusion proofs;
//! - [`channel`]: payment channels: what a voucher moves, the calls a settlement covers;
//! - [`fees`]: how a payment splits between the node and the protocol;
//! - [`llm`]: what a language model's on-chain answer is checked by (its seed);
//! - [`selection`]: bond-weighted choice of the node that serves a request;
//! - [`message`]: the bytes every key signs: results, batch roots, node registrations,
//!   data provenance, channel vouchers and settlements, direct answers (with committed
//!   test vectors).
//!
//! Hashes are SHA-256, the hash the artifact store addresses content by.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod channel;
pub mod fees;
pub mod llm;
pub mod merkle;
pub mod message;
pub mod selection;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash {
	use sha2::Digest;
	sha2::Sha256::digest(data).into()
}
