//! Bond-weighted choice of the node that serves a request.
//!
//! The seed comes from the chain (see the inference pallet for what a block author can
//! bias). A node is picked with probability `bond / total bond`; a node with no bond is
//! never picked. The seed's first 16 bytes reduced modulo the total carry a bias below
//! `total / 2^128`, negligible for any real total.

/// The index of the chosen candidate, or `None` if no candidate has weight.
pub fn pick(weights: &[u128], seed: &[u8; 32]) -> Option<usize> {
	let total = weights.iter().try_fold(0u128, |sum, w| sum.checked_add(*w));
	// Saturated totals are scaled down so the walk below stays exact.
	let (weights_shift, total) = match total {
		Some(total) => (0, total),
		None => (64, weights.iter().map(|w| w >> 64).sum()),
	};
	if total == 0 {
		return None;
	}
	let mut draw = u128::from_le_bytes(seed[..16].try_into().expect("32 >= 16")) % total;
	for (index, weight) in weights.iter().enumerate() {
		let weight = weight >> weights_shift;
		if draw < weight {
			return Some(index);
		}
		draw -= weight;
	}
	None
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	fn seed(draw: u128) -> [u8; 32] {
		let mut seed = [0u8; 32];
		seed[..16].copy_from_slice(&draw.to_le_bytes());
		seed
	}

	#[test]
	fn walks_the_cumulative_weights() {
		let weights = [10, 0, 30];
		assert_eq!(pick(&weights, &seed(0)), Some(0));
		assert_eq!(pick(&weights, &seed(9)), Some(0));
		assert_eq!(pick(&weights, &seed(10)), Some(2));
		assert_eq!(pick(&weights, &seed(39)), Some(2));
		assert_eq!(pick(&weights, &seed(40)), Some(0));
		assert_eq!(pick(&[], &seed(0)), None);
		assert_eq!(pick(&[0, 0], &seed(5)), None);
		assert_eq!(pick(&[u128::MAX, u128::MAX], &seed(u128::MAX)), Some(1));
	}

	#[test]
	fn frequencies_follow_the_bonds() {
		let weights = [100, 300, 600];
		let mut counts = [0u32; 3];
		for i in 0u32..10_000 {
			counts[pick(&weights, &crate::sha256(&i.to_le_bytes())).unwrap()] += 1;
		}
		// Expected 1000/3000/6000; 5 sigma is under 250.
		for (count, expected) in counts.iter().zip([1_000, 3_000, 6_000]) {
			assert!(count.abs_diff(expected) < 250, "{counts:?}");
		}
	}

	proptest! {
		#[test]
		fn never_picks_a_zero_weight(weights in prop::collection::vec(0u128..4, 0..20), s: [u8; 32]) {
			match pick(&weights, &s) {
				Some(index) => prop_assert!(weights[index] > 0),
				None => prop_assert!(weights.iter().all(|w| *w == 0)),
			}
		}
	}
}
