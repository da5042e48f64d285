//! Which results are re-executed, and by whom.
//!
//! Both read a `seed` the checked node could not predict when it answered: the chain's
//! randomness of a block after the result landed (the pallet says which), and the
//! result's `subject` (its digest), so that every result gets its own independent draw.

use crate::BILLION;
use alloc::vec::Vec;
use opg_settlement::{selection::pick, sha256, Hash};

fn derive(domain: &[u8], seed: &Hash, subject: &Hash, extra: &[u8]) -> Hash {
	let mut bytes = Vec::with_capacity(domain.len() + 64 + extra.len());
	bytes.extend_from_slice(domain);
	bytes.extend_from_slice(seed);
	bytes.extend_from_slice(subject);
	bytes.extend_from_slice(extra);
	sha256(&bytes)
}

/// Whether the result `subject` is drawn for re-execution at `rate` parts per billion:
/// `u64(sha256("opg/sample" ‖ seed ‖ subject)[..8], LE) mod 10⁹ < rate` (bias below
/// 10⁹/2⁶⁴).
pub fn sampled(seed: &Hash, subject: &Hash, rate: u32) -> bool {
	let draw = derive(b"opg/sample", seed, subject, &[]);
	let draw = u64::from_le_bytes(draw[..8].try_into().expect("32 >= 8"));
	draw % u64::from(BILLION) < u64::from(rate.min(BILLION))
}

/// A verification node that may be drawn.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Candidate<V, O> {
	/// Its node key.
	pub verifier: V,
	/// The account that bonded it: a committee seats at most one node per operator.
	pub operator: O,
	/// Its bond: the weight of its draw; a node without bond is never drawn.
	pub bond: u128,
}

/// The indices into `candidates` of a committee of up to `size` verifiers for `subject`
/// in `round`, drawn by bond without replacement: never a candidate `excluded` says no
/// to (the checked node's operator, verifiers already seated in the case), at most one
/// node per operator. Fewer than `size` when fewer operators are eligible. Draw `i`
/// reads `sha256("opg/committee" ‖ seed ‖ subject ‖ round ‖ i)` ([`pick`]).
pub fn draw<V, O: PartialEq>(
	seed: &Hash,
	subject: &Hash,
	round: u8,
	candidates: &[Candidate<V, O>],
	size: u8,
	excluded: impl Fn(&Candidate<V, O>) -> bool,
) -> Vec<usize> {
	let mut weights: Vec<u128> = candidates
		.iter()
		.map(|candidate| if excluded(candidate) { 0 } else { candidate.bond })
		.collect();
	let mut chosen = Vec::new();
	for i in 0..size {
		let draw_seed = derive(b"opg/committee", seed, subject, &[round, i]);
		let Some(index) = pick(&weights, &draw_seed) else { break };
		chosen.push(index);
		for (weight, candidate) in weights.iter_mut().zip(candidates) {
			if candidate.operator == candidates[index].operator {
				*weight = 0;
			}
		}
	}
	chosen
}

/// [`draw`] among the candidates `preferred` says yes to (a checked node's hardware class,
/// for results whose honest values differ by device); among every candidate only when
/// none of the preferred can be drawn, so that preferring never leaves a committee empty
/// that [`draw`] would fill: a node cannot escape its checks by declaring something no one
/// else shares.
pub fn draw_preferring<V, O: PartialEq>(
	seed: &Hash,
	subject: &Hash,
	round: u8,
	candidates: &[Candidate<V, O>],
	size: u8,
	excluded: impl Fn(&Candidate<V, O>) -> bool,
	preferred: impl Fn(&Candidate<V, O>) -> bool,
) -> Vec<usize> {
	let chosen = draw(seed, subject, round, candidates, size, |c| excluded(c) || !preferred(c));
	if chosen.is_empty() {
		draw(seed, subject, round, candidates, size, excluded)
	} else {
		chosen
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	fn candidate(verifier: u8, operator: u8, bond: u128) -> Candidate<u8, u8> {
		Candidate { verifier, operator, bond }
	}

	#[test]
	fn the_sampled_fraction_follows_the_rate() {
		let seed = sha256(b"block");
		let count = (0u32..20_000)
			.filter(|i| sampled(&seed, &sha256(&i.to_le_bytes()), BILLION / 10))
			.count();
		// Expected 2,000; 5 sigma is about 212.
		assert!(count.abs_diff(2_000) < 212, "{count}");
		assert!(!sampled(&seed, &sha256(b"r"), 0));
		assert!(sampled(&seed, &sha256(b"r"), BILLION));
		assert!(sampled(&seed, &sha256(b"r"), u32::MAX));
	}

	#[test]
	fn another_seed_or_subject_draws_again() {
		let (a, b) = (sha256(b"a"), sha256(b"b"));
		let draws = |seed: &Hash, subject: &Hash| {
			(0u32..64)
				.map(|i| {
					sampled(seed, &sha256(&[subject, &i.to_le_bytes()[..]].concat()), BILLION / 2)
				})
				.collect::<Vec<_>>()
		};
		assert_ne!(draws(&a, &a), draws(&b, &a));
		assert_ne!(draws(&a, &a), draws(&a, &b));
		assert_eq!(draws(&a, &b), draws(&a, &b));
	}

	#[test]
	fn a_committee_never_seats_the_nodes_operator_nor_two_nodes_of_one_operator() {
		let candidates = [
			candidate(0, 9, 100),
			candidate(1, 1, 100),
			candidate(2, 1, 100),
			candidate(3, 2, 100),
		];
		for i in 0u32..200 {
			let chosen = draw(&sha256(&i.to_le_bytes()), &sha256(b"r"), 0, &candidates, 3, |c| {
				c.operator == 9
			});
			// Operator 9 is the checked node's; operators 1 and 2 get one seat each.
			assert_eq!(chosen.len(), 2);
			assert!(chosen.contains(&3));
			assert!(chosen.contains(&1) ^ chosen.contains(&2));
		}
	}

	#[test]
	fn seats_follow_the_bonds() {
		let candidates = [candidate(0, 0, 100), candidate(1, 1, 900)];
		let first = (0u32..10_000)
			.filter(|i| {
				draw(&sha256(&i.to_le_bytes()), &sha256(b"r"), 0, &candidates, 1, |_| false) == [1]
			})
			.count();
		// Expected 9,000; 5 sigma is 150.
		assert!(first.abs_diff(9_000) < 150, "{first}");
	}

	#[test]
	fn rounds_draw_independently() {
		let candidates: Vec<_> = (0..20).map(|i| candidate(i, i, 100)).collect();
		let seed = sha256(b"s");
		let round = |r| draw(&seed, &sha256(b"r"), r, &candidates, 5, |_| false);
		assert_ne!(round(0), round(1));
		assert_eq!(round(1), round(1));
	}

	proptest! {
		#[test]
		fn a_committee_is_eligible_distinct_and_as_large_as_it_can_be(
			bonds in prop::collection::vec((0u8..6, 0u128..4), 0..16),
			size in 0u8..8,
			excluded_operator in 0u8..6,
			seed: [u8; 32],
		) {
			let candidates: Vec<_> = bonds.iter().enumerate().map(|(i, (operator, bond))| candidate(i as u8, *operator, *bond)).collect();
			let chosen = draw(&seed, &sha256(b"r"), 0, &candidates, size, |c| c.operator == excluded_operator);
			let mut operators: Vec<u8> = chosen.iter().map(|i| candidates[*i].operator).collect();
			for i in &chosen {
				prop_assert!(candidates[*i].bond > 0);
				prop_assert_ne!(candidates[*i].operator, excluded_operator);
			}
			operators.sort();
			operators.dedup();
			prop_assert_eq!(operators.len(), chosen.len());
			let mut eligible: Vec<u8> = candidates.iter().filter(|c| c.bond > 0 && c.operator != excluded_operator).map(|c| c.operator).collect();
			eligible.sort();
			eligible.dedup();
			prop_assert_eq!(chosen.len(), eligible.len().min(usize::from(size)));
		}

		#[test]
		fn a_preferring_draw_seats_the_preferred_whenever_one_can_sit_and_else_draws_as_before(
			bonds in prop::collection::vec((0u8..6, 0u128..4, any::<bool>()), 0..16),
			size in 1u8..8,
			excluded_operator in 0u8..6,
			seed: [u8; 32],
		) {
			// The verifier's id is its index; `gpu` marks the preferred.
			let gpu: Vec<bool> = bonds.iter().map(|(_, _, gpu)| *gpu).collect();
			let candidates: Vec<_> = bonds.iter().enumerate().map(|(i, (operator, bond, _))| candidate(i as u8, *operator, *bond)).collect();
			let excluded = |c: &Candidate<u8, u8>| c.operator == excluded_operator;
			let chosen = draw_preferring(&seed, &sha256(b"r"), 0, &candidates, size, excluded, |c| gpu[usize::from(c.verifier)]);
			let mut preferred_operators: Vec<u8> = candidates.iter()
				.filter(|c| c.bond > 0 && !excluded(c) && gpu[usize::from(c.verifier)])
				.map(|c| c.operator)
				.collect();
			preferred_operators.sort();
			preferred_operators.dedup();
			if preferred_operators.is_empty() {
				prop_assert_eq!(chosen, draw(&seed, &sha256(b"r"), 0, &candidates, size, excluded));
			} else {
				prop_assert!(chosen.iter().all(|i| gpu[*i]), "only the preferred: {:?}", chosen);
				prop_assert_eq!(chosen.len(), preferred_operators.len().min(usize::from(size)));
			}
		}
	}
}
