//! The off-chain worker: a node serves the requests assigned to its node keys.
//!
//! After each imported block, for every sr25519 key of type [`NODE_KEY_TYPE`] in the
//! keystore, the worker reads the open requests assigned to it, asks the executor at the
//! URL in offchain storage under [`EXECUTOR_URL_KEY`] (set by `opg-node --executor-url`,
//! or the `offchain_localStorageSet` RPC) to run them, signs each result with the node key
//! and submits it as an unsigned `submit_result`; batch-mode results go together in one
//! signed `submit_batch`. Transaction validation checks them exactly as dispatch will.
//!
//! A node key can also live in the executor alone (a TEE holds it, bound by its
//! attestation): its public key under [`EXECUTOR_NODE_KEY`] (`opg-node
//! --executor-node-key`) makes the worker serve it too, with the executor's signature
//! (`x-opg-signature`, asked for with `?genesis=0x..&request=N`) in place of the
//! keystore's; the executor signs batch roots too (`POST {url}/v1/sign-batch`), over
//! results it signed itself.
//!
//! ZKML requests go to the executor's prover instead; their results are submitted with
//! the proof as `submit_proven_result`, or, several of one model, as one
//! `submit_proven_batch` whose proofs the runtime verifies together.
//!
//! The executor's HTTP contract (paths, queries, headers) is `opg-executor-api`'s: an
//! inference is `POST {url}/v1/infer/0x{model hash}` with the inline input as body, or
//! with `?input=0x{input hash}` for a stored input; a ZKML request goes to
//! `/v1/prove/0x{model hash}` with the job the proof binds (genesis, request, node key),
//! and the proof comes back in `x-opg-proof`.

use super::*;
use alloc::{format, string::String, vec::Vec};
use codec::{Decode, Encode};
use frame_support::BoundedVec;
use frame_system::{
	offchain::{CreateBare, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use opg_executor_api as api;
use sp_core::{crypto::KeyTypeId, sr25519::Signature};
use sp_runtime::{
	offchain::{http, Duration, StorageKind},
	traits::Get,
};

/// Key type of inference node keys in the keystore: `opgn`.
pub const NODE_KEY_TYPE: KeyTypeId = KeyTypeId(*b"opgn");
/// Offchain storage key (persistent) holding the executor's base URL, UTF-8.
pub const EXECUTOR_URL_KEY: &[u8] = b"opg::executor-url";
/// Offchain storage key (persistent) holding the public node key (32 bytes) that the
/// executor holds itself, in a TEE, and signs with (set by `opg-node
/// --executor-node-key`). Its results carry the executor's signature, not the keystore's.
pub const EXECUTOR_NODE_KEY: &[u8] = b"opg::executor-node-key";
/// Offchain storage key of the results this node has submitted and whose deadline has not
/// passed, so that a result waiting in the pool is not computed again.
const SUBMITTED_KEY: &[u8] = b"opg::inference::submitted";
/// Time the executor has for one request.
const EXECUTOR_TIMEOUT_MS: u64 = 10_000;
/// Requests served per block, so that one block's worker run stays short.
const MAX_JOBS_PER_BLOCK: usize = 32;
/// The largest output read from the executor.
const MAX_OUTPUT: usize = 16 << 20;
const LOG_TARGET: &str = "runtime::inference";

/// (request, attempt, deadline) of a submitted result.
type Submitted<T> = Vec<SubmittedEntry<T>>;
/// One entry of [`Submitted`].
type SubmittedEntry<T> = (RequestId, u32, BlockNumberFor<T>);
/// A proven result waiting to be submitted: its model, the result, and its entry.
type Proven<T> = (ModelId, ProvenResultOf<T>, SubmittedEntry<T>);
/// What the executor answers: the output, a proof for ZKML, its signature if it signs.
type Execution = (Vec<u8>, Option<ZkProof>, Option<Signature>);

impl<T: Config> Pallet<T> {
	pub(crate) fn serve_assignments(now: BlockNumberFor<T>) {
		// (key, whether the executor signs with it rather than the keystore)
		let mut keys: Vec<(NodeKey, bool)> = sp_io::crypto::sr25519_public_keys(NODE_KEY_TYPE)
			.into_iter()
			.map(|key| (key, false))
			.collect();
		let executor_key =
			sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, EXECUTOR_NODE_KEY)
				.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
				.map(NodeKey::from);
		if let Some(key) = executor_key {
			if !keys.iter().any(|(known, _)| *known == key) {
				keys.push((key, true));
			}
		}
		if keys.is_empty() {
			return;
		}
		let Some(url) =
			sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, EXECUTOR_URL_KEY)
				.and_then(|url| String::from_utf8(url).ok())
		else {
			log::warn!(target: LOG_TARGET, "node keys in the keystore but no executor URL: start opg-node with --executor-url");
			return;
		};
		let url = url.trim_end_matches('/');
		let mut submitted: Submitted<T> =
			sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, SUBMITTED_KEY)
				.and_then(|bytes| Decode::decode(&mut &bytes[..]).ok())
				.unwrap_or_default();
		submitted.retain(|(_, _, deadline)| *deadline >= now);

		let mut jobs = 0;
		for (node, executor_signs) in keys {
			let mut leaves = Vec::new();
			let mut proven: Vec<Proven<T>> = Vec::new();
			for (id, ()) in Assignments::<T>::iter_prefix(node) {
				if jobs == MAX_JOBS_PER_BLOCK {
					break;
				}
				let Some(request) = Requests::<T>::get(id) else { continue };
				let already = submitted
					.iter()
					.any(|(r, attempt, _)| *r == id && *attempt == request.attempts);
				if already || request.deadline < now {
					continue;
				}
				jobs += 1;
				let (output, proof, executor_signature) =
					match Self::execute(url, id, node, &request, executor_signs) {
						Ok(answer) => answer,
						Err(reason) => {
							log::warn!(target: LOG_TARGET, "request {id}: {reason}");
							continue;
						},
					};
				let output_hash = opg_settlement::sha256(&output);
				let output = match request.settlement {
					SettlementMode::Batch => {
						leaves.push(merkle::Leaf {
							request: id,
							input_hash: request.input_hash,
							output_hash,
						});
						submitted.push((id, request.attempts, request.deadline));
						continue;
					},
					SettlementMode::Private => Output::Hash(output_hash),
					SettlementMode::Individual => match BoundedVec::try_from(output) {
						Ok(bytes) => Output::Inline(bytes),
						Err(_) => {
							log::warn!(target: LOG_TARGET, "request {id}: output above the inline limit");
							continue;
						},
					},
				};
				let signature = match executor_signature {
					Some(signature) => signature,
					None => {
						let Ok(message) = Self::result_message(&request, id, &output_hash) else {
							return;
						};
						let Some(signature) =
							sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, &node, &message)
						else {
							continue;
						};
						signature
					},
				};
				let result = InferenceResult { request: id, node, output };
				let entry = (id, request.attempts, request.deadline);
				match proof {
					Some(proof) => proven.push((
						request.model,
						ProvenResult { result, proof, signature },
						entry,
					)),
					None => {
						if Self::submit(Call::submit_result { result, signature }) {
							log::info!(target: LOG_TARGET, "request {id}: result submitted");
							submitted.push(entry);
						}
					},
				}
			}
			for chunk in leaves.chunks(T::MaxBatchLen::get() as usize) {
				Self::submit_leaves(node, chunk, executor_signs.then_some(url));
			}
			Self::submit_proven(proven, &mut submitted);
		}
		sp_io::offchain::local_storage_set(
			StorageKind::PERSISTENT,
			SUBMITTED_KEY,
			&submitted.encode(),
		);
	}

	/// Signs the root of `leaves` with `node` (in the keystore, or held by the executor at
	/// `executor`) and submits them as one batch.
	fn submit_leaves(node: NodeKey, leaves: &[merkle::Leaf], executor: Option<&str>) {
		let (Some(root), Ok(genesis)) = (merkle::root(leaves), Self::genesis_hash()) else {
			return;
		};
		let signature = match executor {
			Some(url) => match Self::executor_batch_signature(url, &genesis, leaves) {
				Ok(signature) => signature,
				Err(reason) => {
					log::warn!(target: LOG_TARGET, "batch of {} results: {reason}", leaves.len());
					return;
				},
			},
			None => {
				let message = message::batch(&genesis, &root, leaves.len() as u32);
				let Some(signature) = sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, &node, &message)
				else {
					return;
				};
				signature
			},
		};
		let batch = BatchResult { node, leaves: BoundedVec::truncate_from(leaves.to_vec()) };
		if Self::submit(Call::submit_batch { batch, signature }) {
			log::info!(target: LOG_TARGET, "batch of {} results submitted", leaves.len());
		}
	}

	/// Submits proven results: alone, or several of one model as one proven batch; what
	/// was submitted is added to `submitted`.
	fn submit_proven(mut proven: Vec<Proven<T>>, submitted: &mut Submitted<T>) {
		proven.sort_by_key(|(model, _, _)| *model);
		for group in proven.chunk_by(|(a, _, _), (b, _, _)| a == b) {
			for chunk in group.chunks(T::MaxBatchLen::get() as usize) {
				let call = match chunk {
					[(_, single, _)] => Call::submit_proven_result {
						result: single.result.clone(),
						proof: single.proof.clone(),
						signature: single.signature,
					},
					_ => Call::submit_proven_batch {
						results: BoundedVec::truncate_from(
							chunk.iter().map(|(_, p, _)| p.clone()).collect(),
						),
					},
				};
				if Self::submit(call) {
					log::info!(target: LOG_TARGET, "{} proven result(s) submitted", chunk.len());
					submitted.extend(chunk.iter().map(|(_, _, entry)| *entry));
				}
			}
		}
	}

	fn submit(call: Call<T>) -> bool {
		let extrinsic = <T as CreateBare<Call<T>>>::create_bare(call.into());
		SubmitTransaction::<T, Call<T>>::submit_transaction(extrinsic).is_ok()
	}

	/// The executor's signature of the batch root over `leaves`, whose results it signed.
	fn executor_batch_signature(
		url: &str,
		genesis: &opg_settlement::Hash,
		leaves: &[merkle::Leaf],
	) -> Result<Signature, String> {
		let ids = api::encode_request_ids(leaves.iter().map(|leaf| leaf.request));
		let mut response = Self::post(url, &api::Call::SignBatch { genesis }.uri(url), ids)?;
		let header = response.headers().find(api::header::SIGNATURE).map(String::from);
		if response.code != 200 {
			let body: Vec<u8> = response.body().take(1024).collect();
			return Err(format!(
				"executor answered {}: {}",
				response.code,
				String::from_utf8_lossy(&body).trim_end()
			));
		}
		header
			.and_then(|text| api::parse_hex(&text))
			.and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
			.map(Signature::from_raw)
			.ok_or_else(|| {
				format!("the executor's answer has no valid {} header", api::header::SIGNATURE)
			})
	}

	/// POSTs `body` to the executor at `url` (`uri` under it) and waits for the answer.
	fn post(url: &str, uri: &str, body: Vec<u8>) -> Result<http::Response, String> {
		let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(EXECUTOR_TIMEOUT_MS));
		// No chunk for an empty body: an empty chunk ends the body, and `send` then fails
		// writing its own end.
		let chunks = if body.is_empty() { Vec::new() } else { alloc::vec![body] };
		let pending = http::Request::post(uri, chunks)
			.add_header("content-type", "application/octet-stream")
			.deadline(deadline)
			.send()
			.map_err(|_| format!("executor at {url} unreachable"))?;
		pending
			.try_wait(deadline)
			.map_err(|_| String::from("executor timed out"))?
			.map_err(|e| format!("executor request failed: {e:?}"))
	}

	/// Runs request `id` on the executor and returns the output bytes, with a proof for a
	/// ZKML request, and with the executor's signature when `executor_signs`.
	fn execute(
		url: &str,
		id: RequestId,
		node: NodeKey,
		request: &RequestOf<T>,
		executor_signs: bool,
	) -> Result<Execution, String> {
		let input = Inputs::<T>::get(id).ok_or("input missing")?;
		let zkml = request.mode == VerificationMode::Zkml;
		let genesis = Self::genesis_hash().map_err(|_| String::from("genesis hash unknown"))?;
		let (stored, body) = match input {
			Input::Inline(bytes) => (None, bytes.into_inner()),
			Input::Stored { hash, .. } => (Some(hash), Vec::new()),
		};
		let model = &request.model_hash;
		let call = match zkml {
			true => api::Call::Prove {
				model,
				input: stored.as_ref(),
				job: api::Job { genesis, request: id, node: node.0 },
			},
			false => api::Call::Infer {
				model,
				input: stored.as_ref(),
				signing: executor_signs.then_some(api::Signing { genesis, request: id }),
			},
		};
		let uri = call.uri(url);
		let mut response = Self::post(url, &uri, body)?;
		let code = response.code;
		let proof_header = response.headers().find(api::header::PROOF).map(String::from);
		let signature_header = response.headers().find(api::header::SIGNATURE).map(String::from);
		let body: Vec<u8> = response.body().take(MAX_OUTPUT + 1).collect();
		if code != 200 {
			return Err(format!(
				"executor answered {code}: {}",
				String::from_utf8_lossy(&body).trim_end()
			));
		}
		if body.len() > MAX_OUTPUT {
			return Err("output above 16 MiB".into());
		}
		let decode = |text: String| api::parse_hex(&text);
		let signature = match executor_signs {
			true => Some(
				signature_header
					.and_then(decode)
					.and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
					.map(Signature::from_raw)
					.ok_or_else(|| {
						format!(
							"the executor's answer has no valid {} header",
							api::header::SIGNATURE
						)
					})?,
			),
			false => None,
		};
		if !zkml {
			return Ok((body, None, signature));
		}
		let proof = proof_header
			.and_then(decode)
			.and_then(|bytes| ZkProof::try_from(bytes).ok())
			.ok_or_else(|| {
			format!("the executor's answer has no valid {} header", api::header::PROOF)
		})?;
		Ok((body, Some(proof), signature))
	}
}
