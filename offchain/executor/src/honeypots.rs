//! Honeypots: wrong answers a verification program plants on its own node, so that a
//! verifier that signs "valid" without checking is caught (docs/verification.md,
//! "Honeypots").
//!
//! The program's node operator plants an input ([`Plants::plant`], `POST
//! /v1/honeypots/0x{model}` on the node listener); the next **on-chain** request for that
//! model on that input is answered wrongly, once ([`Plants::take`], then [`corrupt`]; a
//! language model's answer has its first token changed, its evidence made to match:
//! [`crate::openai::tamper`]), and signed as any answer. The program makes that request itself, with an input no one else
//! would send (random bytes): a plant never touches an unsigned or direct call, nor any
//! other input. Once the result's committee has committed, the program's authority key
//! and the node's key show the case a honeypot (`verification.expose`): the case is
//! overturned without slashing the node, and the verifiers that signed it valid pay.
//!
//! Plants live in memory (a restart forgets them: the request is then answered rightly,
//! which the program sees when its case is upheld) and are bounded ([`MAX_PLANTS`]).

use crate::store::ContentHash;
use std::{collections::HashSet, sync::Mutex};

/// The most plants not yet answered.
pub const MAX_PLANTS: usize = 1024;

/// A plant: the model's artifact hash and the input's SHA-256.
pub type Plant = (ContentHash, ContentHash);

/// The plants not yet answered.
#[derive(Default)]
pub struct Plants(Mutex<HashSet<Plant>>);

impl Plants {
	/// Plants a wrong answer to the next on-chain request for `model` on the input hashing
	/// to `input`; `false` if [`MAX_PLANTS`] wait already (planting it again is no change).
	pub fn plant(&self, model: ContentHash, input: ContentHash) -> bool {
		let mut plants = self.0.lock().unwrap_or_else(|e| e.into_inner());
		if plants.len() >= MAX_PLANTS && !plants.contains(&(model, input)) {
			return false;
		}
		plants.insert((model, input));
		true
	}

	/// Whether `(model, input)` was planted; the plant is used up.
	pub fn take(&self, model: &ContentHash, input: &ContentHash) -> bool {
		let mut plants = self.0.lock().unwrap_or_else(|e| e.into_inner());
		!plants.is_empty() && plants.remove(&(*model, *input))
	}

	/// The plants not yet answered, sorted.
	pub fn list(&self) -> Vec<Plant> {
		let plants = self.0.lock().unwrap_or_else(|e| e.into_inner());
		let mut list: Vec<Plant> = plants.iter().copied().collect();
		list.sort();
		list
	}
}

/// A planted answer's output: the last byte's lowest bit flipped (a float's exponent, an
/// integer's high byte, a text's last character), beyond any published tolerance.
pub fn corrupt(output: &mut [u8]) {
	if let Some(last) = output.last_mut() {
		*last ^= 0x01;
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_plant_is_answered_once_for_its_model_and_input_alone() {
		let plants = Plants::default();
		assert!(plants.plant([1; 32], [2; 32]));
		assert!(!plants.take(&[1; 32], &[3; 32]), "another input");
		assert!(!plants.take(&[9; 32], &[2; 32]), "another model");
		assert_eq!(plants.list(), vec![([1; 32], [2; 32])]);
		assert!(plants.take(&[1; 32], &[2; 32]));
		assert!(!plants.take(&[1; 32], &[2; 32]), "used up");
		assert!(plants.list().is_empty());
	}

	#[test]
	fn plants_are_bounded_and_planting_again_changes_nothing() {
		let plants = Plants::default();
		for i in 0..MAX_PLANTS {
			assert!(plants.plant([0; 32], crate::sha256(&i.to_le_bytes())));
		}
		assert!(!plants.plant([0; 32], [0xff; 32]), "full");
		assert!(plants.plant([0; 32], crate::sha256(&0usize.to_le_bytes())), "already there");
		assert_eq!(plants.list().len(), MAX_PLANTS);
	}

	#[test]
	fn a_corrupted_output_differs_in_its_last_byte_alone() {
		let mut output = vec![1, 2, 3];
		corrupt(&mut output);
		assert_eq!(output, vec![1, 2, 2]);
		let mut empty: Vec<u8> = Vec::new();
		corrupt(&mut empty);
		assert!(empty.is_empty());
	}
}
