//! # OPG inference executor
//!
//! Runs models for the node's off-chain worker. The worker finds the requests assigned to
//! its node keys and calls this executor over HTTP (the contract is `opg-executor-api`'s);
//! the worker submits the results. A result is signed by the node key where that key
//! lives: in the node's keystore (the worker signs), or in this executor (TEE mode: the
//! executor signs results and batch roots over results it signed itself, see below).
//! Models and large inputs are read from a content-addressed [`ArtifactStore`] and
//! refused unless their bytes hash to the requested hash.
//!
//! It runs two kinds of model:
//! - TorchScript models on libtorch ([`torch`]), on CUDA when present, else CPU, for the
//!   models it is configured to serve ([`TorchConfig`]), with micro-batching of
//!   concurrent requests behind a bounded queue ([`batch`]);
//! - OPG's quantized-integer models ([`opg_qmodel`]) natively, bit-exactly, and for ZKML
//!   requests proven with [`opg_zk`] when it holds the model's proving key
//!   (`{zk keys}/{model hash hex}/proving.key`, as `opg-zk setup --out` writes it).
//!
//! A model missing from the store is fetched by its hash from the configured peers
//! (other executors or data nodes) and refused unless it hashes right. With a node key
//! ([`signing::NodeKey`]) the executor signs results itself (TEE mode: the key never
//! leaves the enclave), batch roots over the results it signed (`/v1/sign-batch`), and
//! data-provenance statements. The HTTP API is in [`http`]; every message it signs is
//! built by `opg_settlement::message`.

pub mod batch;
pub mod batch_verify;
pub mod chain;
pub mod cheats;
pub mod evidence;
pub mod fetch;
pub mod honeypots;
pub mod http;
pub mod llm;
pub mod metrics;
pub mod openai;
pub mod payment;
pub mod signing;
pub mod store;
pub mod torch;

use ark_std::rand::{rngs::StdRng, SeedableRng};
use batch::{BatchLimits, Batcher};
use metrics::Metrics;
use opg_qmodel::QModel;
use opg_zk::{CompiledModel, Prover};
use serde::{Deserialize, Serialize};
use signing::NodeKey;
use std::{
	collections::HashMap,
	path::PathBuf,
	sync::{Arc, Mutex},
};
pub use store::{sha256, ArtifactStore, ContentHash, Kind, StoreError};
use torch::{Schema, TorchModel};

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
	/// A TorchScript model failed to load or run, or the input does not fit its schema.
	Torch(torch::TorchError),
}

impl std::fmt::Display for ExecError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::ModelNotFound(hash) => {
				write!(f, "model 0x{} is not in the artifact store", hex::encode(hash))
			},
			Self::InputNotFound(hash) => {
				write!(f, "input 0x{} is not in the artifact store", hex::encode(hash))
			},
			Self::Model(e) => e.fmt(f),
			Self::Store(e) => e.fmt(f),
			Self::NoProvingKey(hash) => {
				write!(f, "no proving key for model 0x{}", hex::encode(hash))
			},
			Self::Prove(e) => e.fmt(f),
			Self::Torch(e) => e.fmt(f),
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

/// What a ZKML proof is bound to (the executor API's): chain, request and node key.
pub use opg_executor_api::Job;

/// One TorchScript model to serve, as the executor's configuration file lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TorchConfig {
	/// SHA-256 of the `.pt` file, as published in the model hub (0x-hex).
	pub hash: String,
	/// Its input and output tensors, as published in the model hub.
	pub schema: Schema,
	/// Requests run together at most; 1 turns batching off.
	#[serde(default = "default_max_batch")]
	pub max_batch: usize,
	/// Its published tolerance, by which this executor judges other nodes' outputs as a
	/// verifier (`{"absolute_ppb": .., "relative_ppb": ..}`); none: by their bytes.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub tolerance: Option<opg_primitives::Tolerance>,
}

pub(crate) fn default_max_batch() -> usize {
	32
}

/// A TorchScript model being served.
pub struct TorchServing {
	/// Its queue and worker.
	pub batcher: Batcher,
	/// Its schema.
	pub schema: Schema,
	/// The device it runs on (`cpu`, `cuda:N`).
	pub device: String,
	/// Its published tolerance: a checked output within it of this executor's is valid.
	pub tolerance: Option<opg_primitives::Tolerance>,
}

/// Runs models from an artifact store, keeping parsed models and provers in memory.
pub struct Executor {
	store: ArtifactStore,
	zk_keys: Option<PathBuf>,
	models: Mutex<HashMap<ContentHash, Arc<QModel>>>,
	provers: Mutex<HashMap<ContentHash, Arc<Prover>>>,
	/// The threads every proof runs on (rayon's global pool, one per core, when `None`).
	zk_pool: Option<Arc<opg_zk::ThreadPool>>,
	torch: HashMap<ContentHash, TorchServing>,
	peers: Vec<String>,
	fetch_private: bool,
	node_key: Option<NodeKey>,
	evidence: Option<evidence::EvidenceSource>,
	operator: Option<Vec<u8>>,
	signed: Mutex<SignedResults>,
	metrics: Arc<Metrics>,
	/// Honeypots planted by the operator's verification program.
	plants: honeypots::Plants,
	proving: Arc<tokio::sync::Semaphore>,
	integer: Arc<tokio::sync::Semaphore>,
	gateway: Option<payment::Gateway>,
	llms: HashMap<ContentHash, Arc<openai::LlmServing>>,
	genesis: Option<[u8; 32]>,
	chain_rpc: Option<String>,
}

/// How many proofs and integer inferences run at once at most (each is CPU work on its
/// own thread); beyond it the HTTP API answers `503` with `retry-after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Concurrency {
	/// Proofs at once.
	pub proving: usize,
	/// Quantized-integer inferences at once.
	pub integer: usize,
}

impl Default for Concurrency {
	/// One proof per core, as a proof keeps a core busy; integer inferences are short,
	/// four per core.
	fn default() -> Self {
		let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
		Self { proving: cores, integer: 4 * cores }
	}
}

/// How many signed results the executor remembers for batch roots.
pub const SIGNED_RESULTS_KEPT: usize = 1 << 16;

/// A result the node key signed: (genesis, request, input hash, output hash).
type SignedLeaf = ([u8; 32], u64, ContentHash, ContentHash);

/// The results the node key signed: a batch root is signed only over leaves listed here,
/// so the key vouches for nothing the executor did not compute. Every result is kept as
/// it was computed, keyed by its input as well: a later call for the same request (with
/// another input, from anyone who can reach the executor) adds a leaf and never replaces
/// one, so it cannot change what the node's own batch will be signed over.
#[derive(Default)]
struct SignedResults {
	leaves: std::collections::HashSet<SignedLeaf>,
	order: std::collections::VecDeque<SignedLeaf>,
}

impl SignedResults {
	fn insert(&mut self, leaf: SignedLeaf) {
		if self.leaves.insert(leaf) {
			self.order.push_back(leaf);
		}
		while self.order.len() > SIGNED_RESULTS_KEPT {
			let oldest = self.order.pop_front().expect("longer than the bound");
			self.leaves.remove(&oldest);
		}
	}
}

/// Why a batch root was not signed.
#[derive(Debug, PartialEq, Eq)]
pub enum BatchSignError {
	/// The executor holds no node key.
	NoNodeKey,
	/// No leaves.
	Empty,
	/// This request's listed leaf (input and output) was not computed and signed here (or
	/// long ago).
	Unknown(u64),
}

impl std::fmt::Display for BatchSignError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::NoNodeKey => write!(f, "this executor holds no node key (serve --node-key)"),
			Self::Empty => write!(f, "a batch needs at least one leaf"),
			Self::Unknown(request) => write!(
				f,
				"request {request}: this executor did not compute and sign the listed leaf \
				 (this input and output)"
			),
		}
	}
}

impl Executor {
	/// An executor over `store`, proving with the keys under `zk_keys`.
	pub fn new(store: ArtifactStore, zk_keys: Option<PathBuf>) -> Self {
		Self {
			store,
			zk_keys,
			models: Mutex::default(),
			provers: Mutex::default(),
			zk_pool: None,
			torch: HashMap::new(),
			peers: Vec::new(),
			fetch_private: false,
			node_key: None,
			evidence: None,
			operator: None,
			signed: Mutex::default(),
			metrics: Arc::default(),
			proving: Arc::new(tokio::sync::Semaphore::new(Concurrency::default().proving)),
			integer: Arc::new(tokio::sync::Semaphore::new(Concurrency::default().integer)),
			gateway: None,
			llms: HashMap::new(),
			genesis: None,
			chain_rpc: None,
			plants: honeypots::Plants::default(),
		}
	}

	/// The honeypots planted here and not yet answered ([`honeypots`]).
	pub fn plants(&self) -> &honeypots::Plants {
		&self.plants
	}

	/// Keeps the honeypots planted here in the store folder's [`honeypots::PLANTS_FILE`]
	/// (those already there are planted again), so that a restart forgets none.
	pub fn with_durable_plants(mut self) -> std::io::Result<Self> {
		self.plants = honeypots::Plants::open(self.store.dir().join(honeypots::PLANTS_FILE))?;
		Ok(self)
	}

	/// Binds evidence that names no chain request (language model answers) to chain
	/// `genesis`.
	pub fn with_genesis(mut self, genesis: [u8; 32]) -> Self {
		self.genesis = Some(genesis);
		self
	}

	/// The chain this executor serves, if it was told: the gateway's, or
	/// [`Self::with_genesis`]'s.
	pub fn genesis(&self) -> Option<[u8; 32]> {
		self.genesis.or_else(|| self.gateway.as_ref().map(|gateway| *gateway.genesis()))
	}

	/// Serves the language model whose manifest is `hash` (it and the files it names must
	/// be in the store, and are refused unless they hash right): loads it in `kind` on
	/// `device` and starts its engine, decoding up to `max_batch` sequences together with
	/// up to `queue` requests waiting.
	pub fn serve_llm(
		&mut self,
		hash: ContentHash,
		kind: tch::Kind,
		device: tch::Device,
		max_batch: usize,
		queue: usize,
	) -> Result<(), String> {
		let read = |hash: &ContentHash| -> Result<Vec<u8>, String> {
			self.store
				.get(hash)
				.map_err(|e| e.to_string())?
				.ok_or_else(|| format!("0x{} is not in the artifact store", hex::encode(hash)))
		};
		let manifest = llm::manifest::Manifest::parse(&read(&hash)?)?;
		let [config, tokenizer, weights] = manifest.hashes();
		let (config, tokenizer, weights) = (read(&config)?, read(&tokenizer)?, read(&weights)?);
		let report = llm::Report {
			metrics: self.metrics.clone(),
			model: format!("0x{}", hex::encode(hash)),
		};
		let engine = llm::Engine::load_and_start(
			move || llm::LlmModel::load(&config, &tokenizer, &weights, kind, device),
			max_batch,
			queue,
			Some(report),
		)?;
		self.llms.insert(
			hash,
			Arc::new(openai::LlmServing {
				name: manifest.name,
				hash,
				engine,
				device: torch::device_name(device),
				dtype: llm::model::kind_name(kind),
			}),
		);
		Ok(())
	}

	/// The language models served.
	pub fn llms(&self) -> impl Iterator<Item = &Arc<openai::LlmServing>> {
		self.llms.values()
	}

	/// The language model whose manifest is `hash`: what the chain's model record names.
	pub fn llm_of(&self, hash: &ContentHash) -> Option<Arc<openai::LlmServing>> {
		self.llms.get(hash).cloned()
	}

	/// The language model called `model` (its manifest's name, or its hash as 0x-hex).
	pub fn llm(&self, model: &str) -> Option<Arc<openai::LlmServing>> {
		if let Some(hash) = opg_executor_api::parse_hash(model) {
			return self.llms.get(&hash).cloned();
		}
		self.llms.values().find(|serving| serving.name == model).cloned()
	}

	/// Serves direct paid calls on the public listener through `gateway` (which needs the
	/// node key: its answers carry the key's evidence).
	pub fn with_gateway(mut self, gateway: payment::Gateway) -> Self {
		self.gateway = Some(gateway);
		self
	}

	/// The direct-call gateway, if this executor offers models to paid calls.
	pub fn gateway(&self) -> Option<&payment::Gateway> {
		self.gateway.as_ref()
	}

	/// Proves on `threads` threads shared by all proofs (0: one per core, the default):
	/// fewer leave cores to other models.
	pub fn with_zk_threads(mut self, threads: usize) -> Result<Self, ExecError> {
		self.zk_pool = Some(opg_zk::thread_pool(threads).map_err(ExecError::Prove)?);
		Ok(self)
	}

	/// Bounds the proofs and integer inferences that run at once.
	pub fn with_concurrency(mut self, limits: Concurrency) -> Self {
		self.proving = Arc::new(tokio::sync::Semaphore::new(limits.proving.max(1)));
		self.integer = Arc::new(tokio::sync::Semaphore::new(limits.integer.max(1)));
		self
	}

	/// A place among the proofs running, if one is free.
	pub fn proving_permit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
		self.proving.clone().try_acquire_owned().ok()
	}

	/// A place among the integer inferences running, if one is free.
	pub fn integer_permit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
		self.integer.clone().try_acquire_owned().ok()
	}

	/// The input length in bytes of model `hash`, if it is served (TorchScript) or in the
	/// store (quantized-integer; parsed and kept in memory).
	pub fn input_len(&self, hash: &ContentHash) -> Option<usize> {
		if let Some(serving) = self.torch.get(hash) {
			return Some(torch::input_len(&serving.schema));
		}
		if !self.store.contains(hash) {
			return None;
		}
		self.model(hash).ok().map(|model| model.input_bytes())
	}

	/// Lets `/v1/fetch` reach loopback and private addresses (a closed network's data
	/// nodes); by default it reaches only public ones ([`fetch::is_public`]).
	pub fn with_private_fetch(mut self, allow: bool) -> Self {
		self.fetch_private = allow;
		self
	}

	/// Reads the chain at the node's JSON-RPC `rpc` (`http://` or `ws://`): which
	/// verifiers are seated on a result's case, to show them a private request's input
	/// and evidence.
	pub fn with_chain_rpc(mut self, rpc: String) -> Self {
		self.chain_rpc = Some(rpc);
		self
	}

	/// The node JSON-RPC this executor reads the chain at, if any.
	pub fn chain_rpc(&self) -> Option<&str> {
		self.chain_rpc.as_deref()
	}

	/// Whether `/v1/fetch` may reach loopback and private addresses.
	pub fn private_fetch(&self) -> bool {
		self.fetch_private
	}

	/// Fetches missing artifacts from `peers` (base URLs of executors or data nodes).
	pub fn with_peers(mut self, peers: Vec<String>) -> Self {
		self.peers = peers.into_iter().map(|peer| peer.trim_end_matches('/').to_owned()).collect();
		self
	}

	/// The peers missing artifacts (and language models' evidence) are fetched from.
	pub fn peers(&self) -> &[String] {
		&self.peers
	}

	/// Signs results and provenance statements with `key`.
	pub fn with_node_key(mut self, key: NodeKey) -> Self {
		self.node_key = Some(key);
		self
	}

	/// Where the TEE attestation of the node key comes from, in TEE mode.
	pub fn evidence(&self) -> Option<&evidence::EvidenceSource> {
		self.evidence.as_ref()
	}

	/// Produces attestation documents for its node key from `source`.
	pub fn with_evidence(mut self, source: evidence::EvidenceSource) -> Self {
		self.evidence = Some(source);
		self
	}

	/// The operator account (its SCALE encoding) this executor serves: attestation
	/// documents bind it, and the node key signs its registration for it alone.
	pub fn with_operator(mut self, operator: Vec<u8>) -> Self {
		self.operator = Some(operator);
		self
	}

	/// The operator account this executor serves, if set.
	pub fn operator(&self) -> Option<&[u8]> {
		self.operator.as_deref()
	}

	/// The attestation document binding the node key to the chain `genesis`, the
	/// challenge `nonce` and the operator: `Ok(None)` without a node key, an evidence
	/// source or an operator.
	pub fn attestation(
		&self,
		genesis: &[u8; 32],
		nonce: &[u8; 32],
	) -> Result<Option<Vec<u8>>, String> {
		let (Some(key), Some(source), Some(operator)) =
			(&self.node_key, self.evidence, &self.operator)
		else {
			return Ok(None);
		};
		source.document(&key.public(), genesis, nonce, operator).map(Some)
	}

	/// Serves the TorchScript model `hash` (which must be in the store: see
	/// [`Self::fetch_missing`]) on `device`: loads it and starts its batch worker. Its
	/// published `tolerance` judges other nodes' outputs when this executor checks them.
	pub fn serve_torch(
		&mut self,
		hash: ContentHash,
		schema: Schema,
		tolerance: Option<opg_primitives::Tolerance>,
		device: tch::Device,
		limits: BatchLimits,
	) -> Result<(), ExecError> {
		let bytes = self.store.get(&hash)?.ok_or(ExecError::ModelNotFound(hash))?;
		let model = TorchModel::load(&bytes, schema.clone(), device).map_err(ExecError::Torch)?;
		let batcher =
			Batcher::start(model, format!("0x{}", hex::encode(hash)), limits, self.metrics.clone());
		self.torch.insert(
			hash,
			TorchServing { batcher, schema, device: torch::device_name(device), tolerance },
		);
		Ok(())
	}

	/// The TorchScript models served.
	pub fn torch_models(&self) -> impl Iterator<Item = (&ContentHash, &TorchServing)> {
		self.torch.iter()
	}

	/// The TorchScript model `hash`, if served.
	pub fn torch(&self, hash: &ContentHash) -> Option<&TorchServing> {
		self.torch.get(hash)
	}

	/// The artifact store.
	pub fn store(&self) -> &ArtifactStore {
		&self.store
	}

	/// The node key, if the executor holds one.
	pub fn node_key(&self) -> Option<&NodeKey> {
		self.node_key.as_ref()
	}

	/// Signs the result of request `request` on chain `genesis` with the node key, and
	/// remembers it for [`Self::sign_batch`]. `None` without a node key.
	pub fn sign_result(
		&self,
		genesis: &[u8; 32],
		request: u64,
		model: &ContentHash,
		input_hash: &ContentHash,
		output_hash: &ContentHash,
	) -> Option<[u8; 64]> {
		let key = self.node_key.as_ref()?;
		self.signed.lock().expect("no panic holds the lock").insert((
			*genesis,
			request,
			*input_hash,
			*output_hash,
		));
		Some(key.sign_result(genesis, request, model, input_hash, output_hash))
	}

	/// Signs the batch of `leaves` (in order), each a result this executor computed and
	/// signed on chain `genesis`: the Merkle root, as `opg_settlement::message::batch`.
	/// Returns the root and the signature.
	pub fn sign_batch(
		&self,
		genesis: &[u8; 32],
		leaves: &[opg_settlement::merkle::Leaf],
	) -> Result<([u8; 32], [u8; 64]), BatchSignError> {
		let key = self.node_key.as_ref().ok_or(BatchSignError::NoNodeKey)?;
		let signed = self.signed.lock().expect("no panic holds the lock");
		if let Some(unknown) = leaves.iter().find(|leaf| {
			!signed
				.leaves
				.contains(&(*genesis, leaf.request, leaf.input_hash, leaf.output_hash))
		}) {
			return Err(BatchSignError::Unknown(unknown.request));
		}
		let root = opg_settlement::merkle::root(leaves).ok_or(BatchSignError::Empty)?;
		let count = u32::try_from(leaves.len()).map_err(|_| BatchSignError::Empty)?;
		Ok((root, key.sign(&opg_settlement::message::batch(genesis, &root, count))))
	}

	/// The metrics.
	pub fn metrics(&self) -> &Metrics {
		&self.metrics
	}

	/// Makes sure the artifact `hash` is in the store: if missing, asks each peer in turn
	/// and keeps the first answer whose bytes hash to `hash`. `Ok(false)` when no peer
	/// has it; the errors of peers that answered wrongly are returned only if none did.
	pub async fn fetch_missing(&self, hash: &ContentHash) -> Result<bool, ExecError> {
		self.fetch_missing_for(hash, None).await
	}

	/// [`Self::fetch_missing`], showing the peers `permission`: a seated verifier's read
	/// permission for held result `permission.request`'s input (a private request's input
	/// is served to its requester and its case's verifiers alone).
	pub async fn fetch_missing_for(
		&self,
		hash: &ContentHash,
		permission: Option<&http::ReadPermission>,
	) -> Result<bool, ExecError> {
		if self.store.contains(hash) {
			return Ok(true);
		}
		match self.fetch_from_peers(hash, permission).await? {
			Some(bytes) => {
				self.store.put_expecting(hash, &bytes, store::Kind::Cached)?;
				Ok(true)
			},
			None => Ok(false),
		}
	}

	/// The bytes of artifact `hash` from the first peer that gives bytes hashing right,
	/// showing it `permission` if any; `None` if none does, an error if a peer sent bytes
	/// that do not match and none gave the right ones.
	pub async fn fetch_from_peers(
		&self,
		hash: &ContentHash,
		permission: Option<&http::ReadPermission>,
	) -> Result<Option<Vec<u8>>, ExecError> {
		let headers = permission.map(|p| p.headers()).unwrap_or_default();
		let request = permission.and_then(|p| p.request);
		let mut refused = None;
		for peer in &self.peers {
			let url = opg_executor_api::Call::Artifact { hash, request }.uri(peer);
			match fetch::get_with(&url, http::MAX_BODY, &headers).await {
				Ok(bytes) if sha256(&bytes) == *hash => {
					tracing::info!(%url, size = bytes.len(), "artifact fetched");
					return Ok(Some(bytes));
				},
				Ok(bytes) => {
					let error = StoreError::HashMismatch { expected: *hash, found: sha256(&bytes) };
					tracing::warn!(%url, %error, "a peer sent bytes that do not match their hash");
					refused = Some(error)
				},
				Err(reason) => tracing::warn!(%url, %reason, "fetch failed"),
			}
		}
		refused.map_or(Ok(None), |e| Err(e.into()))
	}

	/// The model `hash`, parsed and validated, from memory or the store.
	pub fn model(&self, hash: &ContentHash) -> Result<Arc<QModel>, ExecError> {
		if let Some(model) = self.models.lock().expect("no panic holds the lock").get(hash) {
			return Ok(model.clone());
		}
		let bytes = self.store.get(hash)?.ok_or(ExecError::ModelNotFound(*hash))?;
		let model = Arc::new(QModel::from_bytes(&bytes).map_err(ExecError::Model)?);
		self.models
			.lock()
			.expect("no panic holds the lock")
			.insert(*hash, model.clone());
		Ok(model)
	}

	/// Runs model `model` on `input`, keeps the output in the store and returns it.
	pub fn infer(&self, model: &ContentHash, input: InputSource<'_>) -> Result<Vec<u8>, ExecError> {
		self.infer_for(model, input, None)
	}

	/// [`Self::infer`], keeping the output readable by `reader` alone when given (a private
	/// request's requester; an output already public stays public).
	pub fn infer_for(
		&self,
		model: &ContentHash,
		input: InputSource<'_>,
		reader: Option<&store::Account>,
	) -> Result<Vec<u8>, ExecError> {
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
		self.keep_output(&output, reader)?;
		Ok(output)
	}

	/// Keeps `output` in the store (cached: evictable after the retention period), readable
	/// by `reader` alone when given, unless the same bytes are already public.
	pub fn keep_output(
		&self,
		output: &[u8],
		reader: Option<&store::Account>,
	) -> Result<ContentHash, StoreError> {
		if let Some(reader) = reader {
			self.restrict_unless_public(&sha256(output), reader)?;
		}
		self.store.put_cached(output)
	}

	/// Makes artifact `hash` readable by `reader` alone, unless the store already holds it
	/// for anyone (bytes already public stay public); call it before storing the bytes.
	pub fn restrict_unless_public(
		&self,
		hash: &ContentHash,
		reader: &store::Account,
	) -> Result<(), StoreError> {
		if !self.store.contains(hash) || self.store.readers(hash)?.is_some() {
			self.store.restrict(hash, reader)?;
		}
		Ok(())
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
		let key = opg_zk::read_proving_key_file(&path).map_err(ExecError::Prove)?;
		let compiled = CompiledModel::new((*model).clone()).map_err(ExecError::Prove)?;
		let mut prover = Prover::new(compiled, key).map_err(ExecError::Prove)?;
		if let Some(pool) = &self.zk_pool {
			prover = prover.with_pool(pool.clone());
		}
		let prover = Arc::new(prover);
		self.provers
			.lock()
			.expect("no panic holds the lock")
			.insert(*hash, prover.clone());
		Ok(prover)
	}

	/// Runs model `model` on `input` and proves it for `job`: the output and the
	/// compressed Groth16 proof.
	pub fn prove(
		&self,
		model: &ContentHash,
		input: &[u8],
		job: Job,
	) -> Result<(Vec<u8>, Vec<u8>), ExecError> {
		let prover = self.prover(model)?;
		let binding = opg_zk_verifier::job_binding(&job.genesis, job.request, &job.node);
		let proven =
			prover.prove(input, binding, &mut StdRng::from_entropy()).map_err(|e| match e {
				opg_zk::Error::InputLength { expected, found } => {
					ExecError::Model(opg_qmodel::Error::InputBytes { expected, found })
				},
				other => ExecError::Prove(other),
			})?;
		Ok((proven.output, proven.proof))
	}
}

#[cfg(test)]
mod exposure_tests;
#[cfg(test)]
mod llm_tests;
#[cfg(test)]
mod payment_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod torch_tests;
