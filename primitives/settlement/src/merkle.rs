//! The Merkle tree a node commits a batch of results to, and the calls it served on a
//! payment channel to ([`crate::channel::ServedCall`]).
//!
//! A result's leaf is `SHA-256(0x00 ‖ request id (u64 LE) ‖ input hash ‖ output hash)`, a
//! served call's `SHA-256(0x02 ‖ …)`, inner nodes `SHA-256(0x01 ‖ left ‖ right)`; the
//! prefixes keep a leaf from passing for an inner node or for a leaf of the other kind. A level with an odd count promotes its last node unchanged, so a batch of
//! `n` results has exactly `n` leaves and no duplicated leaf can prove twice.

use crate::{sha256, Hash};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// One settled result in a batch.
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
pub struct Leaf {
	/// The request.
	pub request: u64,
	/// SHA-256 of the input.
	pub input_hash: Hash,
	/// SHA-256 of the output.
	pub output_hash: Hash,
}

/// What a tree is built over: anything with a leaf hash of its own domain.
pub trait MerkleLeaf {
	/// The leaf's hash in the tree.
	fn hash(&self) -> Hash;
}

impl MerkleLeaf for Leaf {
	fn hash(&self) -> Hash {
		Leaf::hash(self)
	}
}

impl Leaf {
	/// The leaf's hash in the tree.
	pub fn hash(&self) -> Hash {
		let mut bytes = [0u8; 1 + 8 + 32 + 32];
		bytes[1..9].copy_from_slice(&self.request.to_le_bytes());
		bytes[9..41].copy_from_slice(&self.input_hash);
		bytes[41..].copy_from_slice(&self.output_hash);
		sha256(&bytes)
	}
}

fn parent(left: &Hash, right: &Hash) -> Hash {
	let mut bytes = [0u8; 1 + 32 + 32];
	bytes[0] = 1;
	bytes[1..33].copy_from_slice(left);
	bytes[33..].copy_from_slice(right);
	sha256(&bytes)
}

fn next_level(level: &[Hash]) -> Vec<Hash> {
	level
		.chunks(2)
		.map(|pair| match pair {
			[left, right] => parent(left, right),
			[last] => *last,
			_ => unreachable!("chunks(2) yields one or two"),
		})
		.collect()
}

/// The root over `leaves`, or `None` for an empty batch.
pub fn root<L: MerkleLeaf>(leaves: &[L]) -> Option<Hash> {
	let mut level: Vec<Hash> = leaves.iter().map(MerkleLeaf::hash).collect();
	while level.len() > 1 {
		level = next_level(&level);
	}
	level.first().copied()
}

/// The proof that leaf `index` of `leaf_count` is under a root.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct Proof {
	/// The leaf's position.
	pub index: u32,
	/// Leaves in the batch.
	pub leaf_count: u32,
	/// Sibling hashes from the leaf level up; promoted levels have none.
	pub siblings: Vec<Hash>,
}

/// The inclusion proof of leaf `index`, or `None` if out of range.
pub fn proof<L: MerkleLeaf>(leaves: &[L], index: usize) -> Option<Proof> {
	if index >= leaves.len() {
		return None;
	}
	let mut level: Vec<Hash> = leaves.iter().map(MerkleLeaf::hash).collect();
	let mut position = index;
	let mut siblings = Vec::new();
	while level.len() > 1 {
		let sibling = position ^ 1;
		if sibling < level.len() {
			siblings.push(level[sibling]);
		}
		level = next_level(&level);
		position /= 2;
	}
	Some(Proof { index: index as u32, leaf_count: leaves.len() as u32, siblings })
}

/// Whether `proof` shows `leaf` under `root`.
pub fn verify<L: MerkleLeaf>(root: &Hash, leaf: &L, proof: &Proof) -> bool {
	if proof.index >= proof.leaf_count {
		return false;
	}
	let mut hash = leaf.hash();
	let mut position = proof.index as usize;
	let mut width = proof.leaf_count as usize;
	let mut siblings = proof.siblings.iter();
	while width > 1 {
		let sibling = position ^ 1;
		if sibling < width {
			let Some(sibling_hash) = siblings.next() else { return false };
			hash = if position.is_multiple_of(2) {
				parent(&hash, sibling_hash)
			} else {
				parent(sibling_hash, &hash)
			};
		}
		position /= 2;
		width = width.div_ceil(2);
	}
	siblings.next().is_none() && &hash == root
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	fn leaves(n: usize) -> Vec<Leaf> {
		(0..n as u64)
			.map(|i| Leaf {
				request: i,
				input_hash: sha256(&i.to_le_bytes()),
				output_hash: [i as u8; 32],
			})
			.collect()
	}

	#[test]
	fn small_trees_by_hand() {
		let l = leaves(3);
		assert_eq!(root::<Leaf>(&[]), None);
		assert_eq!(root(&l[..1]), Some(l[0].hash()));
		assert_eq!(root(&l[..2]), Some(parent(&l[0].hash(), &l[1].hash())));
		// The third leaf is promoted, then paired.
		assert_eq!(root(&l), Some(parent(&parent(&l[0].hash(), &l[1].hash()), &l[2].hash())));
	}

	#[test]
	fn a_leaf_is_not_an_inner_node() {
		// Same 64 bytes after the prefix, different domain.
		let l = Leaf { request: 0, input_hash: [7; 32], output_hash: [9; 32] };
		let mut unprefixed = [0u8; 72];
		unprefixed[8..40].copy_from_slice(&l.input_hash);
		unprefixed[40..].copy_from_slice(&l.output_hash);
		assert_ne!(l.hash(), sha256(&unprefixed));
		assert_ne!(parent(&l.input_hash, &l.output_hash), l.hash());
	}

	#[test]
	fn rejects_tampering() {
		let l = leaves(5);
		let root = root(&l).unwrap();
		let good = proof(&l, 3).unwrap();
		assert!(verify(&root, &l[3], &good));
		// Another leaf, another position, another count, a changed or extra sibling.
		assert!(!verify(&root, &l[2], &good));
		assert!(!verify(&root, &l[3], &Proof { index: 2, ..good.clone() }));
		assert!(!verify(&root, &l[3], &Proof { leaf_count: 4, ..good.clone() }));
		assert!(!verify(&root, &l[3], &Proof { index: 5, ..good.clone() }));
		let mut changed = good.clone();
		changed.siblings[0][0] ^= 1;
		assert!(!verify(&root, &l[3], &changed));
		let mut extra = good.clone();
		extra.siblings.push([0; 32]);
		assert!(!verify(&root, &l[3], &extra));
		let mut short = good;
		short.siblings.pop();
		assert!(!verify(&root, &l[3], &short));
		assert_eq!(proof(&l, 5), None);
	}

	proptest! {
		#[test]
		fn every_leaf_proves_and_no_other(n in 1usize..70, pick in any::<prop::sample::Index>()) {
			let l = leaves(n);
			let root = root(&l).unwrap();
			for (index, leaf) in l.iter().enumerate() {
				prop_assert!(verify(&root, leaf, &proof(&l, index).unwrap()));
			}
			let index = pick.index(n);
			let mut forged = l[index];
			forged.output_hash[31] ^= 0xff;
			prop_assert!(!verify(&root, &forged, &proof(&l, index).unwrap()));
		}
	}
}
