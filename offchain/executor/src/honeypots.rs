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
//! Plants are bounded ([`MAX_PLANTS`]) and, in a serving executor, kept in a file of its
//! store folder ([`PLANTS_FILE`], one `0x{model} 0x{input}` line each, rewritten whole and
//! renamed into place on every change): a restart between a plant and its request still
//! answers it wrongly, and a plant answered before a restart is not answered again.

use crate::store::ContentHash;
use std::{
	collections::HashSet,
	io,
	path::{Path, PathBuf},
	sync::Mutex,
};

/// The most plants not yet answered.
pub const MAX_PLANTS: usize = 1024;

/// A plant: the model's artifact hash and the input's SHA-256.
pub type Plant = (ContentHash, ContentHash);

/// The file of a store folder that keeps its executor's plants.
pub const PLANTS_FILE: &str = "honeypots";

/// The plants not yet answered: in memory only ([`Plants::default`]), or also in a file
/// ([`Plants::open`]).
#[derive(Default)]
pub struct Plants {
	plants: Mutex<HashSet<Plant>>,
	file: Option<PathBuf>,
}

impl Plants {
	/// The plants kept in `file`, which is created on the first plant. A line that is not
	/// a plant is an error: the executor does not start on a file it cannot read.
	pub fn open(file: impl Into<PathBuf>) -> io::Result<Self> {
		let file = file.into();
		let mut plants = HashSet::new();
		match std::fs::read_to_string(&file) {
			Ok(text) => {
				for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
					let plant = parse(line).ok_or_else(|| {
						io::Error::new(
							io::ErrorKind::InvalidData,
							format!(
								"{}:{}: not `0x{{model}} 0x{{input}}`",
								file.display(),
								number + 1
							),
						)
					})?;
					plants.insert(plant);
				}
			},
			Err(e) if e.kind() == io::ErrorKind::NotFound => {},
			Err(e) => return Err(e),
		}
		Ok(Self { plants: Mutex::new(plants), file: Some(file) })
	}

	/// Plants a wrong answer to the next on-chain request for `model` on the input hashing
	/// to `input`; `Ok(false)` if [`MAX_PLANTS`] wait already (planting it again is no
	/// change). An error if its file could not be written: then nothing is planted.
	pub fn plant(&self, model: ContentHash, input: ContentHash) -> io::Result<bool> {
		let mut plants = self.plants.lock().unwrap_or_else(|e| e.into_inner());
		if plants.contains(&(model, input)) {
			return Ok(true);
		}
		if plants.len() >= MAX_PLANTS {
			return Ok(false);
		}
		plants.insert((model, input));
		if let Err(e) = self.save(&plants) {
			plants.remove(&(model, input));
			return Err(e);
		}
		Ok(true)
	}

	/// Whether `(model, input)` was planted; the plant is used up (and its file rewritten
	/// before the wrong answer is made: should that fail, the error is logged and the plant
	/// stays used up in memory).
	pub fn take(&self, model: &ContentHash, input: &ContentHash) -> bool {
		let mut plants = self.plants.lock().unwrap_or_else(|e| e.into_inner());
		if plants.is_empty() || !plants.remove(&(*model, *input)) {
			return false;
		}
		if let Err(e) = self.save(&plants) {
			tracing::error!(error = %e, "cannot rewrite the honeypots file; a restart would plant this input again");
		}
		true
	}

	/// The plants not yet answered, sorted.
	pub fn list(&self) -> Vec<Plant> {
		let plants = self.plants.lock().unwrap_or_else(|e| e.into_inner());
		sorted(&plants)
	}

	/// Writes `plants` to the file, if there is one: a new file renamed over the old, so
	/// that a crash leaves one or the other whole.
	fn save(&self, plants: &HashSet<Plant>) -> io::Result<()> {
		let Some(file) = &self.file else { return Ok(()) };
		let text: String = sorted(plants)
			.iter()
			.map(|(model, input)| format!("0x{} 0x{}\n", hex::encode(model), hex::encode(input)))
			.collect();
		let new = file.with_extension("new");
		write_synced(&new, text.as_bytes())?;
		std::fs::rename(&new, file)
	}
}

fn sorted(plants: &HashSet<Plant>) -> Vec<Plant> {
	let mut list: Vec<Plant> = plants.iter().copied().collect();
	list.sort();
	list
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
	use std::io::Write;
	let mut file = std::fs::File::create(path)?;
	file.write_all(bytes)?;
	file.sync_all()
}

/// A line of the plants file.
fn parse(line: &str) -> Option<Plant> {
	let (model, input) = line.split_once(' ')?;
	let hash = |text: &str| -> Option<ContentHash> {
		hex::decode(text.strip_prefix("0x")?).ok()?.try_into().ok()
	};
	Some((hash(model)?, hash(input.trim_end())?))
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
		assert!(plants.plant([1; 32], [2; 32]).unwrap());
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
			assert!(plants.plant([0; 32], crate::sha256(&i.to_le_bytes())).unwrap());
		}
		assert!(!plants.plant([0; 32], [0xff; 32]).unwrap(), "full");
		assert!(
			plants.plant([0; 32], crate::sha256(&0usize.to_le_bytes())).unwrap(),
			"already there"
		);
		assert_eq!(plants.list().len(), MAX_PLANTS);
	}

	#[test]
	fn plants_outlive_a_restart_and_one_answered_before_it_is_not_answered_again() {
		let store = crate::tests::temp_store("plants-restart");
		let file = store.dir().join(PLANTS_FILE);
		let plants = Plants::open(&file).unwrap();
		assert!(plants.list().is_empty(), "no file yet: no plant");
		assert!(plants.plant([1; 32], [2; 32]).unwrap());
		assert!(plants.plant([1; 32], [3; 32]).unwrap());
		drop(plants);
		let restarted = Plants::open(&file).unwrap();
		assert_eq!(restarted.list(), vec![([1; 32], [2; 32]), ([1; 32], [3; 32])]);
		assert!(restarted.take(&[1; 32], &[2; 32]));
		drop(restarted);
		let again = Plants::open(&file).unwrap();
		assert!(!again.take(&[1; 32], &[2; 32]), "answered before the restart");
		assert_eq!(again.list(), vec![([1; 32], [3; 32])]);
		assert!(!store.dir().join("honeypots.new").exists(), "renamed into place");
	}

	#[test]
	fn a_plants_file_the_executor_cannot_read_stops_it_and_a_failed_write_plants_nothing() {
		let store = crate::tests::temp_store("plants-unreadable");
		let file = store.dir().join(PLANTS_FILE);
		std::fs::write(&file, format!("0x{} 0x12\n", hex::encode([1u8; 32]))).unwrap();
		let error = Plants::open(&file).err().expect("a short input hash");
		assert_eq!(error.kind(), io::ErrorKind::InvalidData);
		assert!(error.to_string().contains(":1:"), "{error}");
		// A file in a folder that is gone: the plant is refused, not kept in memory alone.
		let gone = Plants::open(store.dir().join("missing").join(PLANTS_FILE)).unwrap();
		assert!(gone.plant([1; 32], [2; 32]).is_err());
		assert!(gone.list().is_empty());
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
