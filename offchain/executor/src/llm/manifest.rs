//! An LLM as one artifact: a manifest naming the SHA-256 of its weights, tokenizer and
//! config (chat template included). The manifest's own hash is the model's hash, so it
//! binds all of them; the executor refuses a file whose bytes do not hash to what the
//! manifest names.

use crate::{sha256, ContentHash};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The manifest's `format`.
pub const FORMAT: &str = "opg-llm/v1";

/// The files of an LLM, by hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
	/// [`FORMAT`].
	pub format: String,
	/// The name clients call it by (OpenAI's `model`).
	pub name: String,
	/// `config.json` (0x-hex SHA-256).
	pub config: String,
	/// `tokenizer.json` (0x-hex SHA-256).
	pub tokenizer: String,
	/// `model.safetensors` (0x-hex SHA-256).
	pub weights: String,
}

/// The three files' names in a model folder.
pub const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

impl Manifest {
	/// The manifest of the files of `dir`, named `name`.
	pub fn of_dir(dir: &Path, name: &str) -> std::io::Result<Self> {
		let hash = |file: &str| -> std::io::Result<String> {
			Ok(format!("0x{}", hex::encode(sha256(&std::fs::read(dir.join(file))?))))
		};
		Ok(Self {
			format: FORMAT.into(),
			name: name.into(),
			config: hash(FILES[0])?,
			tokenizer: hash(FILES[1])?,
			weights: hash(FILES[2])?,
		})
	}

	/// Its bytes: compact JSON, fields in the order above.
	pub fn to_bytes(&self) -> Vec<u8> {
		serde_json::to_vec(self).expect("a manifest serializes")
	}

	/// Its hash: the model's.
	pub fn hash(&self) -> ContentHash {
		sha256(&self.to_bytes())
	}

	/// The manifest of `bytes`, if it is one.
	pub fn parse(bytes: &[u8]) -> Result<Self, String> {
		let manifest: Self = serde_json::from_slice(bytes)
			.map_err(|e| format!("not an LLM manifest ({FORMAT}): {e}"))?;
		if manifest.format != FORMAT {
			return Err(format!("manifest format {:?}, expected {FORMAT}", manifest.format));
		}
		if manifest.name.is_empty() || manifest.name.len() > 128 {
			return Err("a manifest's name has 1 to 128 characters".into());
		}
		for hash in [&manifest.config, &manifest.tokenizer, &manifest.weights] {
			opg_executor_api::parse_hash(hash)
				.ok_or_else(|| format!("{hash:?} is not a SHA-256 hash"))?;
		}
		Ok(manifest)
	}

	/// The hashes of config, tokenizer and weights.
	pub fn hashes(&self) -> [ContentHash; 3] {
		[&self.config, &self.tokenizer, &self.weights]
			.map(|hash| opg_executor_api::parse_hash(hash).expect("checked when parsed or made"))
	}
}
