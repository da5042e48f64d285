//! Payment channels: what a voucher may move, and the calls a node commits to when it
//! settles one.
//!
//! A client holds a deposit for a node. Each paid call, the client signs a **voucher**
//! ([`crate::message::voucher`]) naming the channel's **cumulative** amount it authorizes,
//! this call included: the total charged before it plus at most what the call may cost
//! (x402's `upto`: a per-call price exactly, or a cap for a usage-priced call). The node
//! charges what the call cost and reports the new charged total, on which the client
//! builds its next voucher. A settlement claims a new charged **total** under the
//! highest voucher the node holds and moves the difference from what was claimed before
//! ([`claim`]): never more than the voucher, never more than the deposit, nothing for a
//! total at or below the claimed one, so a replayed or older voucher moves nothing. With
//! it the node commits to the calls it served since its last settlement: the Merkle root
//! ([`crate::merkle`]) over their [`ServedCall`]s, whose amounts add up to what it
//! claims, so that anyone holding a served answer can prove later that it was settled.

use crate::{sha256, Hash};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Why a voucher moves nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClaimError {
	/// The voucher's cumulative amount is not above what was already claimed.
	NotAboveClaimed,
	/// The voucher's cumulative amount is above the channel's deposit.
	AboveDeposit,
	/// The claimed total is above the voucher's cumulative amount.
	AboveVoucher,
}

/// What claiming the charged `total` under a voucher for `cumulative` moves on a channel
/// holding `deposit` (everything ever deposited) of which `claimed` was already paid:
/// `total - claimed`, with `total ≤ cumulative ≤ deposit`.
pub fn claim(
	deposit: u128,
	claimed: u128,
	cumulative: u128,
	total: u128,
) -> Result<u128, ClaimError> {
	if cumulative > deposit {
		return Err(ClaimError::AboveDeposit);
	}
	if total > cumulative {
		return Err(ClaimError::AboveVoucher);
	}
	match total.checked_sub(claimed) {
		Some(amount) if amount > 0 => Ok(amount),
		_ => Err(ClaimError::NotAboveClaimed),
	}
}

/// One call a node served on a channel, as it commits to it when it settles: what was
/// asked, what was answered, by which model, with which evidence, for how much.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
)]
pub struct ServedCall {
	/// The digest of the call ([`call_digest`]), which the paying voucher names.
	pub call_digest: Hash,
	/// SHA-256 of the response body.
	pub response_digest: Hash,
	/// The model's artifact hash.
	pub model_hash: Hash,
	/// The evidence given: `opg_primitives::VerificationMode`'s SCALE index (0 vanilla,
	/// 1 TEE, 2 ZKML).
	pub mode: u8,
	/// What the call was charged.
	pub amount: u128,
}

impl ServedCall {
	/// The leaf's hash: `SHA-256(0x02 ‖ call digest ‖ response digest ‖ model hash ‖ u8
	/// mode ‖ u128 amount LE)`.
	pub fn hash(&self) -> Hash {
		let mut bytes = [0u8; 1 + 32 * 3 + 1 + 16];
		bytes[0] = 2;
		bytes[1..33].copy_from_slice(&self.call_digest);
		bytes[33..65].copy_from_slice(&self.response_digest);
		bytes[65..97].copy_from_slice(&self.model_hash);
		bytes[97] = self.mode;
		bytes[98..].copy_from_slice(&self.amount.to_le_bytes());
		sha256(&bytes)
	}
}

impl crate::merkle::MerkleLeaf for ServedCall {
	fn hash(&self) -> Hash {
		ServedCall::hash(self)
	}
}

/// The digest of a direct call: `SHA-256(u32 length of path ‖ path ‖ body)`, the path
/// being what the client asked (`/v1/infer/0x{model}`), the body its input.
pub fn call_digest(path: &str, body: &[u8]) -> Hash {
	use sha2::Digest;
	let mut hasher = sha2::Sha256::new();
	hasher.update((path.len() as u32).to_le_bytes());
	hasher.update(path.as_bytes());
	hasher.update(body);
	hasher.finalize().into()
}

/// The bytes [`call_digest`] hashes: `u32 LE length of path ‖ path ‖ body`. A serving
/// node keeps them, by the digest, for the verifiers of a challenged call.
pub fn call_preimage(path: &str, body: &[u8]) -> alloc::vec::Vec<u8> {
	let mut bytes = alloc::vec::Vec::with_capacity(4 + path.len() + body.len());
	bytes.extend_from_slice(&(path.len() as u32).to_le_bytes());
	bytes.extend_from_slice(path.as_bytes());
	bytes.extend_from_slice(body);
	bytes
}

/// The path and body of a call's [`call_preimage`]; `None` if the bytes are not one (too
/// short for their length prefix, or a path that is not UTF-8).
pub fn split_call_preimage(bytes: &[u8]) -> Option<(&str, &[u8])> {
	let (length, rest) = bytes.split_first_chunk::<4>()?;
	let length = usize::try_from(u32::from_le_bytes(*length)).ok()?;
	if rest.len() < length {
		return None;
	}
	let (path, body) = rest.split_at(length);
	Some((core::str::from_utf8(path).ok()?, body))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::merkle;
	use proptest::prelude::*;

	#[test]
	fn a_claim_moves_what_it_adds_and_never_more_than_the_voucher_or_the_deposit() {
		assert_eq!(claim(100, 0, 30, 30), Ok(30));
		assert_eq!(claim(100, 30, 100, 100), Ok(70));
		assert_eq!(claim(100, 30, 100, 45), Ok(15), "a usage-priced call charged below its cap");
		assert_eq!(
			claim(100, 30, 30, 30),
			Err(ClaimError::NotAboveClaimed),
			"a replay moves nothing"
		);
		assert_eq!(claim(100, 30, 20, 20), Err(ClaimError::NotAboveClaimed), "an older voucher");
		assert_eq!(claim(100, 30, 60, 61), Err(ClaimError::AboveVoucher));
		assert_eq!(claim(100, 30, 101, 50), Err(ClaimError::AboveDeposit));
		assert_eq!(claim(0, 0, 0, 0), Err(ClaimError::NotAboveClaimed));
	}

	#[test]
	fn every_field_of_a_served_call_changes_its_leaf() {
		let base = ServedCall {
			call_digest: [1; 32],
			response_digest: [2; 32],
			model_hash: [3; 32],
			mode: 0,
			amount: 5,
		};
		let changed = [
			ServedCall { call_digest: [9; 32], ..base },
			ServedCall { response_digest: [9; 32], ..base },
			ServedCall { model_hash: [9; 32], ..base },
			ServedCall { mode: 1, ..base },
			ServedCall { amount: 6, ..base },
		];
		for other in changed {
			assert_ne!(base.hash(), other.hash(), "{other:?}");
		}
		// Not a result's leaf with the same bytes after the prefix.
		let result = merkle::Leaf { request: 0, input_hash: [1; 32], output_hash: [2; 32] };
		assert_ne!(base.hash(), result.hash());
	}

	#[test]
	fn the_call_digest_separates_path_from_body() {
		assert_ne!(call_digest("/v1/infer/0x01", b"ab"), call_digest("/v1/infer/0x01a", b"b"));
		assert_eq!(call_digest("/p", b"x"), call_digest("/p", b"x"));
	}

	proptest! {
		/// However claims arrive (in order, repeated, stale, too high, above their
		/// voucher), the node receives exactly the highest valid claimed total: never more
		/// than the highest voucher, never more than the deposit.
		#[test]
		fn claims_add_up_to_the_highest_valid_total(
			deposit in 0u128..1_000_000,
			claims in proptest::collection::vec((0u128..1_200_000, 0u128..1_200_000), 0..40),
		) {
			let mut claimed = 0u128;
			let mut paid = 0u128;
			for (cumulative, total) in &claims {
				if let Ok(amount) = claim(deposit, claimed, *cumulative, *total) {
					claimed += amount;
					paid += amount;
				}
				prop_assert!(claimed <= deposit);
			}
			let valid = |(cumulative, total): &&(u128, u128)| *cumulative <= deposit && total <= cumulative;
			let highest_total = claims.iter().filter(valid).map(|(_, total)| *total).max().unwrap_or(0);
			let highest_voucher = claims.iter().map(|(cumulative, _)| *cumulative).filter(|v| *v <= deposit).max().unwrap_or(0);
			prop_assert_eq!(paid, highest_total);
			prop_assert!(paid <= highest_voucher);
		}

		#[test]
		fn every_served_call_proves_under_its_settlement_root(n in 1usize..40) {
			let calls: alloc::vec::Vec<ServedCall> = (0..n)
				.map(|i| ServedCall {
					call_digest: sha256(&i.to_le_bytes()),
					response_digest: [i as u8; 32],
					model_hash: [7; 32],
					mode: 0,
					amount: i as u128,
				})
				.collect();
			let root = merkle::root(&calls).unwrap();
			for (index, call) in calls.iter().enumerate() {
				let proof = merkle::proof(&calls, index).unwrap();
				prop_assert!(merkle::verify(&root, call, &proof));
				let mut forged = *call;
				forged.amount += 1;
				prop_assert!(!merkle::verify(&root, &forged, &proof));
			}
		}
	}

	#[test]
	fn a_calls_preimage_hashes_to_its_digest_and_splits_back() {
		let bytes = call_preimage("/v1/infer/0x01", b"\x00body");
		assert_eq!(crate::sha256(&bytes), call_digest("/v1/infer/0x01", b"\x00body"));
		assert_eq!(split_call_preimage(&bytes), Some(("/v1/infer/0x01", &b"\x00body"[..])));
		assert_eq!(split_call_preimage(&call_preimage("", b"")), Some(("", &b""[..])));
	}

	#[test]
	fn bytes_that_are_no_calls_preimage_do_not_split() {
		assert_eq!(split_call_preimage(&[]), None);
		assert_eq!(split_call_preimage(&[5, 0, 0]), None, "no whole length");
		assert_eq!(split_call_preimage(&[5, 0, 0, 0, b'/', b'v']), None, "a path cut short");
		assert_eq!(split_call_preimage(&[2, 0, 0, 0, 0xff, 0xfe]), None, "not UTF-8");
	}

	proptest! {
		#[test]
		fn every_path_and_body_split_back_from_their_preimage(
			path in ".{0,40}",
			body in proptest::collection::vec(any::<u8>(), 0..64),
		) {
			let bytes = call_preimage(&path, &body);
			prop_assert_eq!(split_call_preimage(&bytes), Some((path.as_str(), &body[..])));
			prop_assert_eq!(crate::sha256(&bytes), call_digest(&path, &body));
		}
	}
}
