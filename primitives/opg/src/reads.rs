//! What a seated verifier may read of the result it checks, for the serving executors that
//! hold a private request's input and answer evidence ([`VERIFIER_READS_CALL`]).
//!
//! A private request's input and the evidence of its answer are served to its requester
//! alone, except to a verification node seated in the current round of the case that
//! checks the result: it re-executes the input and checks the evidence, so withholding
//! them from it would make an honest node's result look wrong. The serving executor asks
//! its node which hashes that verifier may read; it answers nothing for any other key,
//! request or time.

use crate::ContentHash;

/// What the verifier a case seats may read of its result: the stored input (`None` for
/// an input kept on chain) and the output the node claimed (whose answer's evidence it
/// reads).
#[derive(
	Clone,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	scale_info::TypeInfo,
	Debug,
)]
pub struct VerifierReads {
	/// SHA-256 of the stored input, if the input is stored off chain.
	pub input: Option<ContentHash>,
	/// SHA-256 of the output the node claimed.
	pub output: ContentHash,
}

/// The runtime call (`state_call` method) that answers what a verifier may read:
/// `VerificationApi::verifier_reads(verifier: NodeKey, request: RequestId) ->
/// Option<VerifierReads>`, SCALE in and out; `Some` only while the verifier holds a seat
/// in the current round of the open case that checks result `request`.
pub const VERIFIER_READS_CALL: &str = "VerificationApi_verifier_reads";

#[cfg(test)]
mod tests {
	use super::*;
	use codec::{Decode, Encode};

	#[test]
	fn verifier_reads_decode_off_chain_as_they_were_encoded() {
		let reads = VerifierReads { input: Some([7; 32]), output: [9; 32] };
		let answer = Some(reads.clone()).encode();
		assert_eq!(answer[0], 1, "Some");
		assert_eq!(Option::<VerifierReads>::decode(&mut &answer[..]).unwrap(), Some(reads));
		let inline = VerifierReads { input: None, output: [9; 32] };
		assert_eq!(inline.encode().len(), 1 + 32);
		assert_eq!(Option::<VerifierReads>::decode(&mut &[0u8][..]).unwrap(), None);
	}
}
