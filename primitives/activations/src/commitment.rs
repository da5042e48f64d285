//! A chunk's commitment: its top-k values as a polynomial, and the bytes of it.

use crate::{bf16, field};
use alloc::vec::Vec;

/// The smallest modulus tried (the reference's: above 2^15).
pub const MIN_MODULUS: u16 = (1 << 15) + 1;

/// Why a chunk has no commitment, or bytes are not one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitmentError {
	/// The chunk has no value.
	Empty,
	/// The chunk has a NaN or an infinity: no model's hidden state does.
	NotFinite,
	/// No modulus in [`MIN_MODULUS`]`..=65497` keeps the top-k positions apart.
	NoModulus,
	/// The bytes are not a modulus and at least one coefficient (an even length ≥ 4).
	Length,
	/// The modulus is outside [`MIN_MODULUS`]`..=65497` (the reference's null commitment,
	/// all zeros, is one).
	Modulus,
	/// A coefficient is not below the field's prime.
	Coefficient,
}

/// A commitment to the `k` values of largest magnitude of a chunk: the polynomial through
/// (position mod `modulus`, bf16 bits) over GF(65497), `k` coefficients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
	/// What positions are reduced by before the polynomial is evaluated at them: the
	/// largest at most 65497 under which the committed positions stay distinct.
	pub modulus: u16,
	/// Constant first; as many as the values committed to (zeros above the degree).
	pub coefficients: Vec<u16>,
}

/// The positions of the `k` values of largest magnitude among bf16 `bits` (ties: the lower
/// position first), at most `bits.len()` of them, in no particular order.
pub fn top_k(bits: &[u16], k: usize) -> Vec<u32> {
	let mut positions: Vec<u32> = (0..bits.len() as u32).collect();
	let k = k.min(positions.len());
	if k == 0 {
		return Vec::new();
	}
	let order = |a: &u32, b: &u32| {
		bf16::magnitude(bits[*b as usize])
			.cmp(&bf16::magnitude(bits[*a as usize]))
			.then(a.cmp(b))
	};
	if k < positions.len() {
		positions.select_nth_unstable_by(k - 1, order);
		positions.truncate(k);
	}
	positions
}

/// The largest modulus in [`MIN_MODULUS`]`..=65497` under which `positions` stay distinct.
fn injective_modulus(positions: &[u32]) -> Option<u16> {
	let mut reduced = Vec::with_capacity(positions.len());
	(MIN_MODULUS..=field::P as u16).rev().find(|&modulus| {
		reduced.clear();
		reduced.extend(positions.iter().map(|p| p % u32::from(modulus)));
		reduced.sort_unstable();
		reduced.windows(2).all(|pair| pair[0] != pair[1])
	})
}

impl Commitment {
	/// The commitment to the `k` values of `chunk` largest in magnitude, rounded to bf16.
	pub fn of(chunk: &[f32], k: usize) -> Result<Self, CommitmentError> {
		if chunk.is_empty() || k == 0 {
			return Err(CommitmentError::Empty);
		}
		if chunk.iter().any(|value| !value.is_finite()) {
			return Err(CommitmentError::NotFinite);
		}
		let bits: Vec<u16> = chunk.iter().map(|&value| bf16::from_f32(value)).collect();
		let positions = top_k(&bits, k);
		let modulus = injective_modulus(&positions).ok_or(CommitmentError::NoModulus)?;
		let xs: Vec<u32> = positions.iter().map(|p| p % u32::from(modulus)).collect();
		let ys: Vec<u32> = positions.iter().map(|&p| u32::from(bits[p as usize])).collect();
		let mut coefficients = field::interpolate(&xs, &ys).ok_or(CommitmentError::NoModulus)?;
		coefficients.resize(k, 0);
		Ok(Self { modulus, coefficients })
	}

	/// The committed bf16 bits at `position` (of the chunk): meaningful where `position`
	/// is one of those committed to.
	pub fn value_at(&self, position: u32) -> u16 {
		// Below the prime, which is below 2^16.
		field::evaluate(&self.coefficients, position % u32::from(self.modulus)) as u16
	}

	/// The bytes: the modulus, then the coefficients, u16 big-endian (the reference's
	/// `ProofPoly.to_bytes`): [`crate::COMMITMENT_BYTES`] for [`crate::TOP_K`].
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(2 + 2 * self.coefficients.len());
		out.extend_from_slice(&self.modulus.to_be_bytes());
		for coefficient in &self.coefficients {
			out.extend_from_slice(&coefficient.to_be_bytes());
		}
		out
	}

	/// The commitment of `bytes` ([`Self::to_bytes`]).
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, CommitmentError> {
		if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
			return Err(CommitmentError::Length);
		}
		let mut words = bytes.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
		let modulus = words.next().ok_or(CommitmentError::Length)?;
		if !(MIN_MODULUS..=field::P as u16).contains(&modulus) {
			return Err(CommitmentError::Modulus);
		}
		let coefficients: Vec<u16> = words.collect();
		if coefficients.iter().any(|&c| u32::from(c) >= field::P) {
			return Err(CommitmentError::Coefficient);
		}
		Ok(Self { modulus, coefficients })
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	#[test]
	fn top_k_takes_the_largest_magnitudes_and_the_lower_position_of_a_tie() {
		let bits: Vec<u16> =
			[0.5f32, -4.0, 2.0, 4.0, -0.25].iter().map(|&v| bf16::from_f32(v)).collect();
		let mut top = top_k(&bits, 2);
		top.sort();
		assert_eq!(top, vec![1, 3]);
		let mut top = top_k(&bits, 3);
		top.sort();
		assert_eq!(top, vec![1, 2, 3]);
		let tied: Vec<u16> = [1.0f32, 1.0, 1.0].iter().map(|&v| bf16::from_f32(v)).collect();
		assert_eq!(top_k(&tied, 1), vec![0]);
		assert_eq!(top_k(&tied, 5).len(), 3, "no more positions than values");
	}

	#[test]
	fn the_committed_values_are_read_back_at_their_positions() {
		let chunk: Vec<f32> = (0..1000).map(|i| ((i * 7919) % 1000) as f32 / 100.0 - 5.0).collect();
		let commitment = Commitment::of(&chunk, 128).unwrap();
		let bits: Vec<u16> = chunk.iter().map(|&v| bf16::from_f32(v)).collect();
		for position in top_k(&bits, 128) {
			assert_eq!(commitment.value_at(position), bits[position as usize]);
		}
		assert_eq!(commitment.to_bytes().len(), crate::COMMITMENT_BYTES);
		assert_eq!(Commitment::from_bytes(&commitment.to_bytes()), Ok(commitment));
	}

	#[test]
	fn positions_that_collide_under_the_prime_get_a_smaller_modulus() {
		let mut chunk = vec![0.0f32; 70_000];
		chunk[1] = 1.0;
		chunk[65_498] = 2.0;
		chunk[3] = -3.0;
		let commitment = Commitment::of(&chunk, 3).unwrap();
		assert_eq!(commitment.modulus, 65_496);
		assert_eq!(commitment.value_at(65_498), bf16::from_f32(2.0));
		assert_eq!(commitment.value_at(1), bf16::from_f32(1.0));
	}

	#[test]
	fn a_chunk_without_values_or_with_a_non_finite_one_has_no_commitment() {
		assert_eq!(Commitment::of(&[], 128), Err(CommitmentError::Empty));
		assert_eq!(Commitment::of(&[1.0, f32::NAN], 128), Err(CommitmentError::NotFinite));
		assert_eq!(Commitment::of(&[1.0, f32::INFINITY], 128), Err(CommitmentError::NotFinite));
	}

	#[test]
	fn bytes_that_are_not_a_commitment_are_refused() {
		assert_eq!(Commitment::from_bytes(&[0xff, 0xd9]), Err(CommitmentError::Length));
		assert_eq!(Commitment::from_bytes(&[0xff, 0xd9, 0]), Err(CommitmentError::Length));
		assert_eq!(Commitment::from_bytes(&[0; 258]), Err(CommitmentError::Modulus));
		assert_eq!(Commitment::from_bytes(&[0xff, 0xda, 0, 0]), Err(CommitmentError::Modulus));
		assert_eq!(Commitment::from_bytes(&[0x80, 0x00, 0, 0]), Err(CommitmentError::Modulus));
		assert_eq!(
			Commitment::from_bytes(&[0xff, 0xd9, 0xff, 0xd9]),
			Err(CommitmentError::Coefficient)
		);
		assert!(Commitment::from_bytes(&[0x80, 0x01, 0xff, 0xd8]).is_ok());
	}
}
