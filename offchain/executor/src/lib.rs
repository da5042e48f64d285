//! # OPG inference executor
//!
//! Runs models for the node's off-chain worker. The worker finds the requests assigned to
//! its node keys and calls this executor over HTTP; the worker, not the executor, signs
//! and submits results. Models and large inputs are read from a content-addressed
//! [`ArtifactStore`] and refused unless their bytes hash to the requested hash.
//!
//! This first executor runs OPG's quantized-integer models ([`opg_qmodel`]) natively,
//! bit-exactly, and for ZKML requests proves them with [`opg_zk`] when it holds the
//! model's proving key (`{zk keys}/{model hash hex}/proving.key`, as `opg-zk setup --out`
//! writes it). The HTTP API is in [`http`].

pub mod http;
pub mod store;

use ark_std::rand::{rngs::StdRng, SeedableRng};
use opg_qmodel::QModel;
use opg_zk::{CompiledModel, Prover};
use std::{
	collections::HashMap,
	path::PathBuf,
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
	/// This executor holds no proving key for the model.
	NoProvingKey(ContentHash),
	/// The model cannot be compiled or proven, or its key file is unreadable.
	Prove(opg_zk::Error),
}

impl std::fmt::Display for ExecError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::ModelNotFound(hash) => write!(f, "model 0x{} is not in the artifact store", hex::encode(hash)),
			Self::InputNotFound(hash) => write!(f, "input 0x{} is not in the artifact store", hex::encode(hash)),
			Self::Model(e) => e.fmt(f),
			Self::Store(e) => e.fmt(f),
			Self::NoProvingKey(hash) => write!(f, "no proving key for model 0x{}", hex::encode(hash)),
			Self::Prove(e) => e.fmt(f),
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

/// The job a ZKML proof is bound to.
#[derive(Clone, Copy, Debug)]
pub struct Job {
	/// The chain's genesis hash.
	pub genesis: [u8; 32],
	/// The request id.
	pub request: u64,
	/// The assigned node's key.
	pub node: [u8; 32],
}

/// Runs models from an artifact store, keeping parsed models and provers in memory.
pub struct Executor {
	store: ArtifactStore,
	zk_keys: Option<PathBuf>,
	models: Mutex<HashMap<ContentHash, Arc<QModel>>>,
	provers: Mutex<HashMap<ContentHash, Arc<Prover>>>,
}

impl Executor {
	/// An executor over `store`, proving with the keys under `zk_keys`.
	pub fn new(store: ArtifactStore, zk_keys: Option<PathBuf>) -> Self {
		Self { store, zk_keys, models: Mutex::default(), provers: Mutex::default() }
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

	/// The prover of model `hash`: compiled, with its proving key, from memory or disk.
	fn prover(&self, hash: &ContentHash) -> Result<Arc<Prover>, ExecError> {
		if let Some(prover) = self.provers.lock().expect("no panic holds the lock").get(hash) {
			return Ok(prover.clone());
		}
		let model = self.model(hash)?;
		let path = self
			.zk_keys
			.as_ref()
			.map(|keys| keys.join(hex::encode(hash)).join("proving.key"))
			.filter(|path| path.is_file())
			.ok_or(ExecError::NoProvingKey(*hash))?;
		let file = std::fs::File::open(&path).map_err(|e| ExecError::Prove(e.into()))?;
		let key = opg_zk::read_proving_key(std::io::BufReader::new(file)).map_err(ExecError::Prove)?;
		let compiled = CompiledModel::new((*model).clone()).map_err(ExecError::Prove)?;
		let prover = Arc::new(Prover::new(compiled, key).map_err(ExecError::Prove)?);
		self.provers.lock().expect("no panic holds the lock").insert(*hash, prover.clone());
		Ok(prover)
	}

	/// Runs model `model` on `input` and proves it for `job`: the output and the
	/// compressed Groth16 proof.
	pub fn prove(&self, model: &ContentHash, input: &[u8], job: Job) -> Result<(Vec<u8>, Vec<u8>), ExecError> {
		let prover = self.prover(model)?;
		let binding = opg_zk_verifier::job_binding(&job.genesis, job.request, &job.node);
		let proven = prover.prove(input, binding, &mut StdRng::from_entropy()).map_err(|e| match e {
			opg_zk::Error::InputLength { expected, found } =>
				ExecError::Model(opg_qmodel::Error::InputLength { expected, found }),
			other => ExecError::Prove(other),
		})?;
		Ok((proven.output, proven.proof))
	}
}

#[cfg(test)]
mod tests;
