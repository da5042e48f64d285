//! Every message a key signs, built here and nowhere else. Each starts with its own
//! domain tag, and those that count on chain with the chain's genesis hash, so a
//! signature never verifies for another purpose or another chain. Integers are
//! little-endian: request ids 8 bytes (a `u64`), leaf counts and lengths 4 bytes (`u32`),
//! times 8 bytes (`u64` milliseconds).
//!
//! `vectors/messages.json` holds, for each message, its inputs, its exact bytes and an
//! sr25519 signature by the development key `//Alice`; the Rust tests of this crate and
//! the JS tests (`tests/node/messages.test.mjs`) rebuild every message from its inputs
//! and check both.

use crate::Hash;
use alloc::vec::Vec;

/// Domain of a single result.
pub const RESULT_DOMAIN: &[u8] = b"opg/inference-result/v1";
/// Domain of a batch root.
pub const BATCH_DOMAIN: &[u8] = b"opg/inference-batch/v1";
/// Domain of a node key's registration for an operator.
pub const REGISTRATION_DOMAIN: &[u8] = b"opg/node-registration/v1";
/// Domain of a data-provenance statement.
pub const PROVENANCE_DOMAIN: &[u8] = b"opg/data-provenance/v1";
/// Domain of a node's notice that it cannot serve a request.
pub const CANNOT_SERVE_DOMAIN: &[u8] = b"opg/cannot-serve/v1";
/// Domain of a requester's permission to read a private request's input or output.
pub const ARTIFACT_READ_DOMAIN: &[u8] = b"opg/artifact-read/v1";
/// Domain separator of a node's heartbeat, sent by its off-chain worker.
pub const HEARTBEAT_DOMAIN: &[u8] = b"opg/node-heartbeat/v1";
/// Domain of a client's payment-channel voucher.
pub const VOUCHER_DOMAIN: &[u8] = b"opg/channel-voucher/v1";
/// Domain of a node's settlement of a payment channel.
pub const CHANNEL_SETTLEMENT_DOMAIN: &[u8] = b"opg/channel-settlement/v1";
/// Domain of a node's evidence for a direct (paid off-chain) answer.
pub const DIRECT_ANSWER_DOMAIN: &[u8] = b"opg/direct-answer/v1";
/// Domain of a language model's answer: [`llm_answer`].
pub const LLM_ANSWER_DOMAIN: &[u8] = b"opg/llm-answer/v1";
/// Domain of a language model's answer's activation commitments: [`llm_activations`].
pub const LLM_ACTIVATIONS_DOMAIN: &[u8] = b"opg/llm-activations/v1";
/// Domain of a verification node's commitment to its verdict: [`verdict_commit`].
pub const VERDICT_COMMIT_DOMAIN: &[u8] = b"opg/verdict-commit/v1";
/// Domain of a verification node's revealed verdict: [`verdict_reveal`].
pub const VERDICT_REVEAL_DOMAIN: &[u8] = b"opg/verdict-reveal/v1";
/// Domain of the exposure of a honeypot, signed by its node and the honeypot authority:
/// [`honeypot`].
pub const HONEYPOT_DOMAIN: &[u8] = b"opg/honeypot/v1";

/// [`cannot_serve`]'s reason: the stored input is unavailable from every source the node
/// knows (its peers, the data nodes, the input's locator); the detail is 32 zero bytes.
pub const INPUT_UNAVAILABLE: u8 = 0;
/// [`cannot_serve`]'s reason: the stored input's bytes do not match the caller's input
/// commitment (a stored ZKML request); the detail is the commitment the node computed.
pub const COMMITMENT_MISMATCH: u8 = 1;

/// What the serving node signs for one result: request, model artifact, input and output:
/// `RESULT_DOMAIN ‖ genesis ‖ u64 request ‖ model hash ‖ input hash ‖ output hash`.
pub fn result(
	genesis: &Hash,
	request: u64,
	model_hash: &Hash,
	input_hash: &Hash,
	output_hash: &Hash,
) -> Vec<u8> {
	let mut message = Vec::with_capacity(RESULT_DOMAIN.len() + 32 + 8 + 3 * 32);
	message.extend_from_slice(RESULT_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(&request.to_le_bytes());
	message.extend_from_slice(model_hash);
	message.extend_from_slice(input_hash);
	message.extend_from_slice(output_hash);
	message
}

/// What the serving node signs for a batch: the Merkle root over its leaves and their
/// count: `BATCH_DOMAIN ‖ genesis ‖ root ‖ u32 leaf count`.
pub fn batch(genesis: &Hash, root: &Hash, leaf_count: u32) -> Vec<u8> {
	let mut message = Vec::with_capacity(BATCH_DOMAIN.len() + 32 + 32 + 4);
	message.extend_from_slice(BATCH_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(root);
	message.extend_from_slice(&leaf_count.to_le_bytes());
	message
}

/// What a node key signs to be registered by an operator:
/// `REGISTRATION_DOMAIN ‖ genesis ‖ SCALE(operator account)` (32 bytes for an
/// `AccountId32`), so that no one registers a key they do not hold.
pub fn registration(genesis: &Hash, operator: &[u8]) -> Vec<u8> {
	let mut message = Vec::with_capacity(REGISTRATION_DOMAIN.len() + 32 + operator.len());
	message.extend_from_slice(REGISTRATION_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(operator);
	message
}

/// "URL `url` returned bytes hashing to `hash` at `unix_ms`", signed by a data node:
/// `PROVENANCE_DOMAIN ‖ u32 length of url ‖ url ‖ hash ‖ u64 unix_ms`.
pub fn provenance(url: &str, hash: &Hash, unix_ms: u64) -> Vec<u8> {
	let mut message = Vec::with_capacity(PROVENANCE_DOMAIN.len() + 4 + url.len() + 32 + 8);
	message.extend_from_slice(PROVENANCE_DOMAIN);
	message.extend_from_slice(&(url.len() as u32).to_le_bytes());
	message.extend_from_slice(url.as_bytes());
	message.extend_from_slice(hash);
	message.extend_from_slice(&unix_ms.to_le_bytes());
	message
}

/// What an assigned node signs to decline a request it cannot serve:
/// `CANNOT_SERVE_DOMAIN ‖ genesis ‖ u64 request ‖ input hash ‖ u8 reason ‖ 32-byte detail`
/// ([`INPUT_UNAVAILABLE`] with zeros, or [`COMMITMENT_MISMATCH`] with the commitment the
/// node computed from the input's bytes).
pub fn cannot_serve(
	genesis: &Hash,
	request: u64,
	input_hash: &Hash,
	reason: u8,
	detail: &Hash,
) -> Vec<u8> {
	let mut message = Vec::with_capacity(CANNOT_SERVE_DOMAIN.len() + 32 + 8 + 32 + 1 + 32);
	message.extend_from_slice(CANNOT_SERVE_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(&request.to_le_bytes());
	message.extend_from_slice(input_hash);
	message.push(reason);
	message.extend_from_slice(detail);
	message
}

/// What a private request's requester signs, with its account key, to read the request's
/// input or output from an executor: `ARTIFACT_READ_DOMAIN ‖ hash ‖ u64 not_after` (unix
/// seconds after which the permission is void; executors accept a short validity only).
pub fn artifact_read(hash: &Hash, not_after: u64) -> Vec<u8> {
	let mut message = Vec::with_capacity(ARTIFACT_READ_DOMAIN.len() + 32 + 8);
	message.extend_from_slice(ARTIFACT_READ_DOMAIN);
	message.extend_from_slice(hash);
	message.extend_from_slice(&not_after.to_le_bytes());
	message
}

/// What a node key signs to say its node is live at block `at` of this chain:
/// `HEARTBEAT_DOMAIN ‖ genesis ‖ u64 at`.
pub fn heartbeat(genesis: &Hash, at: u64) -> Vec<u8> {
	let mut message = Vec::with_capacity(HEARTBEAT_DOMAIN.len() + 32 + 8);
	message.extend_from_slice(HEARTBEAT_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(&at.to_le_bytes());
	message
}

/// What a client's account signs to pay on a payment channel: the channel's
/// **cumulative** amount it authorizes, this call included (the charged total before it
/// plus the call's price, or its cap for a usage-priced call), for the call with digest
/// `call_digest` (`crate::channel::call_digest`):
/// `VOUCHER_DOMAIN ‖ genesis ‖ u64 channel ‖ u128 cumulative ‖ call digest`.
pub fn voucher(genesis: &Hash, channel: u64, cumulative: u128, call_digest: &Hash) -> Vec<u8> {
	let mut message = Vec::with_capacity(VOUCHER_DOMAIN.len() + 32 + 8 + 16 + 32);
	message.extend_from_slice(VOUCHER_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(&channel.to_le_bytes());
	message.extend_from_slice(&cumulative.to_le_bytes());
	message.extend_from_slice(call_digest);
	message
}

/// What a node key signs to settle a payment channel: the charged total it claims (at
/// most its voucher's cumulative amount) and the root over the `calls` it served since
/// its last settlement (`crate::channel::ServedCall`):
/// `CHANNEL_SETTLEMENT_DOMAIN ‖ genesis ‖ u64 channel ‖ u128 total ‖ root ‖ u32 calls`.
pub fn channel_settlement(
	genesis: &Hash,
	channel: u64,
	total: u128,
	root: &Hash,
	calls: u32,
) -> Vec<u8> {
	let mut message = Vec::with_capacity(CHANNEL_SETTLEMENT_DOMAIN.len() + 32 + 8 + 16 + 32 + 4);
	message.extend_from_slice(CHANNEL_SETTLEMENT_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(&channel.to_le_bytes());
	message.extend_from_slice(&total.to_le_bytes());
	message.extend_from_slice(root);
	message.extend_from_slice(&calls.to_le_bytes());
	message
}

/// What a node key signs with a direct answer, for the client to check before it trusts
/// it: `DIRECT_ANSWER_DOMAIN ‖ genesis ‖ model hash ‖ call digest ‖ response digest ‖
/// u128 cumulative` (the paying voucher's cumulative amount; 0 for a free model).
pub fn direct_answer(
	genesis: &Hash,
	model_hash: &Hash,
	call_digest: &Hash,
	response_digest: &Hash,
	cumulative: u128,
) -> Vec<u8> {
	let mut message = Vec::with_capacity(DIRECT_ANSWER_DOMAIN.len() + 4 * 32 + 16);
	message.extend_from_slice(DIRECT_ANSWER_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(model_hash);
	message.extend_from_slice(call_digest);
	message.extend_from_slice(response_digest);
	message.extend_from_slice(&cumulative.to_le_bytes());
	message
}

/// What a node key signs with a language model's answer: `LLM_ANSWER_DOMAIN ‖ genesis ‖
/// model hash (the manifest's, which binds weights, tokenizer and chat template) ‖ call
/// digest (`crate::channel::call_digest` of the path and the exact request body) ‖
/// SHA-256(the answer's text, UTF-8) ‖ u64 seed ‖ u128 cumulative` (the paying voucher's
/// cumulative amount; 0 when unpaid).
pub fn llm_answer(
	genesis: &Hash,
	model_hash: &Hash,
	call_digest: &Hash,
	response_digest: &Hash,
	seed: u64,
	cumulative: u128,
) -> Vec<u8> {
	let mut message = Vec::with_capacity(LLM_ANSWER_DOMAIN.len() + 4 * 32 + 8 + 16);
	message.extend_from_slice(LLM_ANSWER_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(model_hash);
	message.extend_from_slice(call_digest);
	message.extend_from_slice(response_digest);
	message.extend_from_slice(&seed.to_le_bytes());
	message.extend_from_slice(&cumulative.to_le_bytes());
	message
}

/// What a node key signs with a language model's answer's activation commitments (what a
/// verification node checks the answer with): `LLM_ACTIVATIONS_DOMAIN ‖ genesis ‖ model
/// hash ‖ call digest ‖ SHA-256(the answer's text) ‖ u64 seed ‖ activations digest`
/// ([`crate::llm::activations_digest`] of the answer's tokens and commitments).
pub fn llm_activations(
	genesis: &Hash,
	model_hash: &Hash,
	call_digest: &Hash,
	response_digest: &Hash,
	seed: u64,
	activations_digest: &Hash,
) -> Vec<u8> {
	let mut message = Vec::with_capacity(LLM_ACTIVATIONS_DOMAIN.len() + 5 * 32 + 8);
	message.extend_from_slice(LLM_ACTIVATIONS_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(model_hash);
	message.extend_from_slice(call_digest);
	message.extend_from_slice(response_digest);
	message.extend_from_slice(&seed.to_le_bytes());
	message.extend_from_slice(activations_digest);
	message
}

/// What a verification node's key signs to commit to its verdict on a case (the
/// commitment is `opg_verification::commitment`, which hides the verdict):
/// `VERDICT_COMMIT_DOMAIN ‖ genesis ‖ u64 case ‖ commitment`.
pub fn verdict_commit(genesis: &Hash, case: u64, commitment: &Hash) -> Vec<u8> {
	let mut message = Vec::with_capacity(VERDICT_COMMIT_DOMAIN.len() + 32 + 8 + 32);
	message.extend_from_slice(VERDICT_COMMIT_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(&case.to_le_bytes());
	message.extend_from_slice(commitment);
	message
}

/// What a verification node's key signs to reveal its verdict on a case:
/// `VERDICT_REVEAL_DOMAIN ‖ genesis ‖ u64 case ‖ u8 verdict (0 valid, 1 invalid) ‖ salt`.
pub fn verdict_reveal(genesis: &Hash, case: u64, verdict: u8, salt: &Hash) -> Vec<u8> {
	let mut message = Vec::with_capacity(VERDICT_REVEAL_DOMAIN.len() + 32 + 8 + 1 + 32);
	message.extend_from_slice(VERDICT_REVEAL_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(&case.to_le_bytes());
	message.push(verdict);
	message.extend_from_slice(salt);
	message
}

/// What a planted result's node key and the chain's honeypot authority key both sign to
/// show that case `case`, checking request `request`, is a honeypot (a result planted to
/// be wrong): `HONEYPOT_DOMAIN ‖ genesis ‖ u64 case ‖ u64 request`.
pub fn honeypot(genesis: &Hash, case: u64, request: u64) -> Vec<u8> {
	let mut message = Vec::with_capacity(HONEYPOT_DOMAIN.len() + 32 + 8 + 8);
	message.extend_from_slice(HONEYPOT_DOMAIN);
	message.extend_from_slice(genesis);
	message.extend_from_slice(&case.to_le_bytes());
	message.extend_from_slice(&request.to_le_bytes());
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
		assert_ne!(registration(&[1; 32], &[5; 32]), registration(&[1; 32], &[6; 32]));
		assert_ne!(provenance("http://a/b", &[1; 32], 5), provenance("http://a/b", &[1; 32], 6));
		assert_ne!(artifact_read(&[1; 32], 5), artifact_read(&[1; 32], 6));
		assert_ne!(artifact_read(&[1; 32], 5), artifact_read(&[2; 32], 5));
		assert_ne!(heartbeat(&[1; 32], 5), heartbeat(&[1; 32], 6));
		assert_ne!(heartbeat(&[1; 32], 5), heartbeat(&[2; 32], 5));
		let v = voucher(&[1; 32], 2, 3, &[4; 32]);
		assert_ne!(v, voucher(&[9; 32], 2, 3, &[4; 32]));
		assert_ne!(v, voucher(&[1; 32], 9, 3, &[4; 32]));
		assert_ne!(v, voucher(&[1; 32], 2, 9, &[4; 32]));
		assert_ne!(v, voucher(&[1; 32], 2, 3, &[9; 32]));
		let commit = verdict_commit(&[1; 32], 2, &[3; 32]);
		assert_ne!(commit, verdict_commit(&[9; 32], 2, &[3; 32]));
		assert_ne!(commit, verdict_commit(&[1; 32], 9, &[3; 32]));
		assert_ne!(commit, verdict_commit(&[1; 32], 2, &[9; 32]));
		let reveal = verdict_reveal(&[1; 32], 2, 0, &[3; 32]);
		assert_ne!(reveal, verdict_reveal(&[9; 32], 2, 0, &[3; 32]));
		assert_ne!(reveal, verdict_reveal(&[1; 32], 9, 0, &[3; 32]));
		assert_ne!(reveal, verdict_reveal(&[1; 32], 2, 1, &[3; 32]));
		assert_ne!(reveal, verdict_reveal(&[1; 32], 2, 0, &[9; 32]));
		let c = channel_settlement(&[1; 32], 2, 3, &[4; 32], 5);
		assert_ne!(c, channel_settlement(&[9; 32], 2, 3, &[4; 32], 5));
		assert_ne!(c, channel_settlement(&[1; 32], 9, 3, &[4; 32], 5));
		assert_ne!(c, channel_settlement(&[1; 32], 2, 9, &[4; 32], 5));
		assert_ne!(c, channel_settlement(&[1; 32], 2, 3, &[9; 32], 5));
		assert_ne!(c, channel_settlement(&[1; 32], 2, 3, &[4; 32], 9));
		let d = direct_answer(&[1; 32], &[2; 32], &[3; 32], &[4; 32], 5);
		assert_ne!(d, direct_answer(&[9; 32], &[2; 32], &[3; 32], &[4; 32], 5));
		assert_ne!(d, direct_answer(&[1; 32], &[9; 32], &[3; 32], &[4; 32], 5));
		assert_ne!(d, direct_answer(&[1; 32], &[2; 32], &[9; 32], &[4; 32], 5));
		assert_ne!(d, direct_answer(&[1; 32], &[2; 32], &[3; 32], &[9; 32], 5));
		assert_ne!(d, direct_answer(&[1; 32], &[2; 32], &[3; 32], &[4; 32], 9));
		let l = llm_answer(&[1; 32], &[2; 32], &[3; 32], &[4; 32], 5, 6);
		assert_ne!(l, llm_answer(&[9; 32], &[2; 32], &[3; 32], &[4; 32], 5, 6));
		assert_ne!(l, llm_answer(&[1; 32], &[9; 32], &[3; 32], &[4; 32], 5, 6));
		assert_ne!(l, llm_answer(&[1; 32], &[2; 32], &[9; 32], &[4; 32], 5, 6));
		assert_ne!(l, llm_answer(&[1; 32], &[2; 32], &[3; 32], &[9; 32], 5, 6));
		assert_ne!(l, llm_answer(&[1; 32], &[2; 32], &[3; 32], &[4; 32], 9, 6));
		assert_ne!(l, llm_answer(&[1; 32], &[2; 32], &[3; 32], &[4; 32], 5, 9));
	}

	#[test]
	fn no_domain_is_a_prefix_of_another() {
		let domains = [
			RESULT_DOMAIN,
			BATCH_DOMAIN,
			REGISTRATION_DOMAIN,
			PROVENANCE_DOMAIN,
			CANNOT_SERVE_DOMAIN,
			ARTIFACT_READ_DOMAIN,
			HEARTBEAT_DOMAIN,
			VOUCHER_DOMAIN,
			CHANNEL_SETTLEMENT_DOMAIN,
			DIRECT_ANSWER_DOMAIN,
			LLM_ANSWER_DOMAIN,
			VERDICT_COMMIT_DOMAIN,
			VERDICT_REVEAL_DOMAIN,
			HONEYPOT_DOMAIN,
		];
		for (i, a) in domains.iter().enumerate() {
			for (j, b) in domains.iter().enumerate() {
				assert!(i == j || !a.starts_with(b), "{:?} starts with {:?}", a, b);
			}
		}
	}
}
