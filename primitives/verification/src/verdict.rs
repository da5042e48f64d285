//! A verifier's verdict, and the commitment it publishes before revealing it.
//!
//! A verifier first publishes `commitment(case, verifier, verdict, salt)` and only after
//! the commit period the verdict and salt; until then nobody, the other verifiers
//! included, can tell its verdict, and once committed it cannot change it. The salt is 32
//! random bytes the verifier keeps: without it, the two possible verdicts could be
//! tried against the commitment.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use opg_settlement::{sha256, Hash};
use scale_info::TypeInfo;

/// What a verifier found when it re-executed a result.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Verdict {
	/// Its re-execution agrees with the result (within the model kind's rule).
	Valid,
	/// It does not, or the node withheld the inputs and outputs to check.
	Invalid,
}

impl Verdict {
	/// The byte the commitment covers: 0 valid, 1 invalid.
	pub fn byte(self) -> u8 {
		match self {
			Verdict::Valid => 0,
			Verdict::Invalid => 1,
		}
	}
}

/// `sha256("opg/verdict/v1" ‖ case (u64 LE) ‖ verifier (its SCALE bytes: a node key's 32)
/// ‖ verdict byte ‖ salt)`.
pub fn commitment(case: u64, verifier: &impl Encode, verdict: Verdict, salt: &[u8; 32]) -> Hash {
	let mut bytes = b"opg/verdict/v1".to_vec();
	bytes.extend_from_slice(&case.to_le_bytes());
	verifier.encode_to(&mut bytes);
	bytes.push(verdict.byte());
	bytes.extend_from_slice(salt);
	sha256(&bytes)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn every_field_changes_the_commitment() {
		let base = commitment(7, &[1u8; 32], Verdict::Valid, &[2; 32]);
		assert_ne!(base, commitment(8, &[1u8; 32], Verdict::Valid, &[2; 32]));
		assert_ne!(base, commitment(7, &[3u8; 32], Verdict::Valid, &[2; 32]));
		assert_ne!(base, commitment(7, &[1u8; 32], Verdict::Invalid, &[2; 32]));
		assert_ne!(base, commitment(7, &[1u8; 32], Verdict::Valid, &[4; 32]));
		assert_eq!(base, commitment(7, &[1u8; 32], Verdict::Valid, &[2; 32]));
	}

	#[test]
	fn the_bytes_are_the_documented_ones() {
		let mut bytes = b"opg/verdict/v1".to_vec();
		bytes.extend_from_slice(&7u64.to_le_bytes());
		bytes.extend_from_slice(&[1; 32]);
		bytes.push(1);
		bytes.extend_from_slice(&[2; 32]);
		assert_eq!(commitment(7, &[1u8; 32], Verdict::Invalid, &[2; 32]), sha256(&bytes));
	}
}
