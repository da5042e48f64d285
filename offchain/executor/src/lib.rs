//! # OPG inference executor
//!
//! Runs models for the node's off-chain worker. The worker finds the requests assigned to
//! its node keys and calls this executor over HTTP; the worker, not the executor, signs
//! and submits results. Models and large inputs are read from a content-addressed
//! [`ArtifactStore`] and refused unless their bytes hash to the requested hash.
//!
//! This first executor runs OPG's quantized-integer models ([`opg_qmodel`]) natively,
//! bit-exactly. The HTTP API is in [`http`].

pub mod http;
pub mod store;

use opg_qmodel::QModel;
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};
pub use store::{sha256, ArtifactStore, ContentHash, StoreError};

/// Why an inference failed.
#[derive(Debug)]
pub enum ExecError {
	/// The model is not in the artifact store.
	ModelNotFound(ContentHash),
	/// The stored input is not in the artifact store.
	InputNotFound(ContentHash),
	/// The artifact is not a valid model, or the input does not fit it.
	Model(opg_qmodel::Error),
	/// The store failed or holds bytes that do not match their hash.
	Store(StoreError),
}

impl std::fmt::Display for ExecError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::ModelNotFound(hash) => write!(f, "model 0x{} is not in the artifact store", hex::encode(hash)),
			Self::InputNotFound(hash) => write!(f, "input 0x{} is not in the artifact store", hex::encode(hash)),
			Self::Model(e) => e.fmt(f),
			Self::Store(e) => e.fmt(f),
		}
	}
}

impl std::error::Error for ExecError {}

impl From<StoreError> for ExecError {
	fn from(e: StoreError) -> Self {
		Self::Store(e)
	}
}

/// Where an inference's input comes from.
pub enum InputSource<'a> {
	/// The bytes themselves.
	Inline(&'a [u8]),
	/// An artifact in the store.
	Stored(ContentHash),
}

/// Runs models from an artifact store, keeping parsed models in memory.
pub struct Executor {
	store: ArtifactStore,
	models: Mutex<HashMap<ContentHash, Arc<QModel>>>,
}

impl Executor {
	/// An executor over `store`.
	pub fn new(store: ArtifactStore) -> Self {
		Self { store, models: Mutex::new(HashMap::new()) }
	}

	/// The artifact store.
	pub fn store(&self) -> &ArtifactStore {
		&self.store
	}

	/// The model `hash`, parsed and validated, from memory or the store.
	pub fn model(&self, hash: &ContentHash) -> Result<Arc<QModel>, ExecError> {
		if let Some(model) = self.models.lock().expect("no panic holds the lock").get(hash) {
			return Ok(model.clone());
		}
		let bytes = self.store.get(hash)?.ok_or(ExecError::ModelNotFound(*hash))?;
		let model = Arc::new(QModel::from_bytes(&bytes).map_err(ExecError::Model)?);
		self.models.lock().expect("no panic holds the lock").insert(*hash, model.clone());
		Ok(model)
	}

	/// Runs model `model` on `input`, keeps the output in the store and returns it.
	pub fn infer(&self, model: &ContentHash, input: InputSource<'_>) -> Result<Vec<u8>, ExecError> {
		let model = self.model(model)?;
		let stored;
		let input = match input {
			InputSource::Inline(bytes) => bytes,
			InputSource::Stored(hash) => {
				stored = self.store.get(&hash)?.ok_or(ExecError::InputNotFound(hash))?;
				&stored
			},
		};
		let output = model.evaluate_bytes(input).map_err(ExecError::Model)?;
		// Batch and private settlement keep outputs off chain: the requester fetches them
		// here by the hash the chain records.
		self.store.put(&output)?;
		Ok(output)
	}
}

#[cfg(test)]
mod tests;
