//! The off-chain worker: a node serves the requests assigned to its node keys.
//!
//! After each imported block, for every sr25519 key of type [`NODE_KEY_TYPE`] in the
//! keystore, the worker reads the open requests assigned to it, asks the executor at the
//! URL in offchain storage under [`EXECUTOR_URL_KEY`] (set by `opg-node --executor-url`,
//! or the `offchain_localStorageSet` RPC) to run them, signs each result with the node key
//! and submits it as an unsigned `submit_result`; batch-mode results go together in one
//! signed `submit_batch`. Transaction validation checks them exactly as dispatch will.
//!
//! What keeps a result from being lost: requests are served earliest deadline first, and
//! not once their deadline is the current block (the result could not be included in
//! time); up to eight executor calls are in flight at once (a busy executor's `503` is
//! asked again after a pause); a run takes new jobs for a time budget, not a
//! fixed count, and a lock in
//! offchain storage keeps runs from overlapping; a result counts as submitted only once
//! the pool accepted it (a batch whose root could not be signed is served again next
//! block), and a submitted result whose request is still open a few blocks later is
//! submitted again (a pool may drop what it accepted, and a restarted node's pool is
//! empty); the executor's answers are read, body included, within a deadline. Results
//! are checked here as the runtime will check them before they are sent: a proven batch
//! that would be refused (one bad proof refuses it whole) goes one result at a time, and
//! a result the check refuses (a proof that does not verify) is remembered and not
//! computed again for the same attempt.
//!
//! A node key can also live in the executor alone (a TEE holds it, bound by its
//! attestation): its public key under [`EXECUTOR_NODE_KEY`] (`opg-node
//! --executor-node-key`) makes the worker serve it too, with the executor's signature
//! (`x-opg-signature`, asked for with `?genesis=0x..&request=N`) in place of the
//! keystore's; the executor signs batch roots too (`POST {url}/v1/sign-batch`), over
//! results it signed itself, and the key's heartbeats (`POST {url}/v1/heartbeat`), which
//! the worker submits through the registry when one is due.
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
use alloc::{collections::VecDeque, format, string::String, vec::Vec};
use codec::{Decode, Encode};
use frame_support::BoundedVec;
use frame_system::{
	offchain::{CreateBare, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use opg_executor_api as api;
use sp_core::sr25519::Signature;
use sp_runtime::{
	offchain::{
		http,
		storage_lock::{StorageLock, Time},
		Duration, StorageKind, Timestamp,
	},
	traits::{Get, Saturating},
};

/// Key type of inference node keys in the keystore: `opgn`.
pub use opg_primitives::NODE_KEY_TYPE;
/// Offchain storage key (persistent) holding the executor's base URL, UTF-8.
pub const EXECUTOR_URL_KEY: &[u8] = api::offchain_keys::URL;
/// Offchain storage key (persistent) holding the bearer token of the executor's node
/// listener, UTF-8 (set by `opg-node --executor-token-file`), sent with every call.
pub const EXECUTOR_TOKEN_KEY: &[u8] = api::offchain_keys::TOKEN;
/// Offchain storage key (persistent) holding the public node key (32 bytes) that the
/// executor holds itself, in a TEE, and signs with (set by `opg-node
/// --executor-node-key`). Its results carry the executor's signature, not the keystore's.
pub const EXECUTOR_NODE_KEY: &[u8] = api::offchain_keys::NODE_KEY;
/// Offchain storage key of the results this node has submitted and whose deadline has not
/// passed, so that a result waiting in the pool is not computed again.
const SUBMITTED_KEY: &[u8] = b"opg::inference::submitted";
/// Offchain storage key of the results the runtime's own checks refused (a proof that
/// does not verify, say) for the current attempt of their requests: they are not
/// computed again for that attempt.
const REFUSED_KEY: &[u8] = b"opg::inference::refused";
/// Offchain storage key of the lock that serializes worker runs: a run that outlasts its
/// block keeps the next one from serving (and submitting) the same requests.
const LOCK_KEY: &[u8] = b"opg::inference::worker-lock";
/// Time the executor has for one request.
const EXECUTOR_TIMEOUT_MS: u64 = 10_000;
/// Executor calls kept in flight at once: the executor runs them side by side (TorchScript
/// requests batch on libtorch) instead of one after another.
const IN_FLIGHT: usize = 8;
/// Inline jobs of one model that one executor call carries at most
/// (`/v1/infer-many`), when more jobs wait than [`IN_FLIGHT`] calls would cover.
const JOBS_PER_CALL: usize = 64;
/// How long the worker waits before calling again an executor that answered busy.
const BUSY_BACKOFF_MS: u64 = 200;
/// How long one run takes new jobs; it then finishes those it has (each within
/// [`EXECUTOR_TIMEOUT_MS`]) and leaves the rest to the next run.
const WORK_BUDGET_MS: u64 = 12_000;
/// How long the lock is held at most: the budget, one more executor call and the
/// submissions. A node that crashed mid-run serves again after this.
const LOCK_MS: u64 = WORK_BUDGET_MS + 2 * EXECUTOR_TIMEOUT_MS;
/// Blocks after which a submitted result whose request is still open is submitted again:
/// the pool may have dropped it (it answered `Ok` and never included it), or the node
/// restarted and its pool is empty.
const RESUBMIT_AFTER: u32 = 3;
/// The largest output read from the executor.
const MAX_OUTPUT: usize = 16 << 20;
const LOG_TARGET: &str = "runtime::inference";

/// (request, attempt, deadline, block submitted at) of a submitted result.
type Submitted<T> = Vec<(RequestId, u32, BlockNumberFor<T>, BlockNumberFor<T>)>;
/// (request, attempt, deadline) of a result about to be submitted.
type SubmittedEntry<T> = (RequestId, u32, BlockNumberFor<T>);
/// (request, attempt, deadline) of results refused for good.
type Refused<T> = Vec<SubmittedEntry<T>>;
/// A proven result waiting to be submitted: its model, the result, and its entry.
type Proven<T> = (ModelId, ProvenResultOf<T>, SubmittedEntry<T>);
/// What the executor answers: the output, a proof for ZKML, its signature if it signs.
type Execution = (Vec<u8>, Option<ZkProof>, Option<Signature>);

/// Why a request was not executed.
enum Failure {
	/// No node could serve it: the node declines it ([`Call::cannot_serve`]), with the
	/// executor's signature of the notice when the executor holds the node key.
	CannotServe(CannotServeReason, Option<Signature>),
	/// The executor is busy (`503`): tried again in this run, after the calls in flight.
	Busy,
	/// Anything else: tried again next run.
	Error(String),
}

/// An executor call sent and not yet answered.
struct Sent {
	pending: http::PendingRequest,
	deadline: Timestamp,
	stored: Option<ContentHash>,
	zkml: bool,
	executor_signs: bool,
}

/// An executor call for one job or for many.
enum Pending {
	/// `/v1/infer` or `/v1/prove` for one job.
	One(Result<Sent, Failure>),
	/// `/v1/infer-many` for inline jobs of one model.
	Many(Result<SentMany, Failure>),
}

/// A call for many jobs sent and not yet answered.
struct SentMany {
	pending: http::PendingRequest,
	deadline: Timestamp,
	executor_signs: bool,
}

impl From<String> for Failure {
	fn from(reason: String) -> Self {
		Self::Error(reason)
	}
}

impl From<&str> for Failure {
	fn from(reason: &str) -> Self {
		Self::Error(reason.into())
	}
}

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
		let mut lock = StorageLock::<Time>::with_deadline(LOCK_KEY, Duration::from_millis(LOCK_MS));
		let Ok(_guard) = lock.try_lock() else {
			log::debug!(target: LOG_TARGET, "the previous run is still serving");
			return;
		};
		let mut submitted: Submitted<T> =
			sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, SUBMITTED_KEY)
				.and_then(|bytes| Decode::decode(&mut &bytes[..]).ok())
				.unwrap_or_default();
		submitted.retain(|(_, _, deadline, _)| *deadline >= now);
		let mut refused: Refused<T> =
			sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, REFUSED_KEY)
				.and_then(|bytes| Decode::decode(&mut &bytes[..]).ok())
				.unwrap_or_default();
		refused.retain(|(_, _, deadline)| *deadline >= now);
		let stop_at = sp_io::offchain::timestamp().add(Duration::from_millis(WORK_BUDGET_MS));

		// The keystore's keys have the registry's worker send their heartbeats; a key the
		// executor holds has them signed there.
		for (node, _) in keys.iter().filter(|(_, executor_signs)| *executor_signs) {
			if let Some(at) = T::Nodes::heartbeat_due(node) {
				match Self::executor_heartbeat(url, at) {
					Ok(signature) => {
						T::Nodes::submit_heartbeat(node, at, signature);
					},
					Err(reason) => {
						log::warn!(target: LOG_TARGET, "heartbeat at block {at} not signed: {reason}")
					},
				}
			}
		}

		for (node, executor_signs) in keys {
			let mut leaves = Vec::new();
			let mut batched = Vec::new();
			let mut proven: Vec<Proven<T>> = Vec::new();
			let mut queue: VecDeque<(RequestId, RequestOf<T>)> =
				Self::due_assignments(node, now, &submitted, &refused).into();
			while !queue.is_empty() {
				if sp_io::offchain::timestamp() >= stop_at {
					log::info!(target: LOG_TARGET, "time budget spent: the rest waits for the next run");
					break;
				}
				// Up to IN_FLIGHT calls go out together; their answers are then taken in order.
				// When more jobs wait than that, a call carries every waiting inline job of
				// its model (up to JOBS_PER_CALL): the executor runs them together.
				let crowded = queue.len() > IN_FLIGHT;
				let mut window = Vec::new();
				while window.len() < IN_FLIGHT {
					let Some((id, request)) = queue.pop_front() else { break };
					if !crowded || !Self::runs_with_others(id, &request) {
						let sent = Self::start(url, id, node, &request, executor_signs);
						window.push((alloc::vec![(id, request)], Pending::One(sent)));
						continue;
					}
					let mut jobs = alloc::vec![(id, request)];
					let mut index = 0;
					while jobs.len() < JOBS_PER_CALL && index < queue.len() {
						let (other, next) = &queue[index];
						if next.model_hash == jobs[0].1.model_hash
							&& Self::runs_with_others(*other, next)
						{
							jobs.extend(queue.remove(index));
						} else {
							index += 1;
						}
					}
					let sent = Self::start_many(url, &jobs, executor_signs);
					window.push((jobs, Pending::Many(sent)));
				}
				let answers: Vec<_> = window
					.into_iter()
					.flat_map(|(jobs, pending)| {
						let answers = match pending {
							Pending::One(sent) => {
								let id = jobs[0].0;
								alloc::vec![sent.and_then(|sent| Self::finish(id, sent))]
							},
							Pending::Many(sent) => Self::finish_many(sent, jobs.len()),
						};
						jobs.into_iter()
							.zip(answers)
							.map(|((id, request), answer)| (id, request, answer))
					})
					.collect();
				let mut busy = Vec::new();
				for (id, request, answer) in answers {
					let (output, proof, executor_signature) = match answer {
						Ok(answer) => answer,
						Err(Failure::Busy) => {
							busy.push((id, request));
							continue;
						},
						Err(Failure::CannotServe(reason, signed)) => {
							let accepted = match (executor_signs, signed) {
								(false, _) => {
									Self::submit_cannot_serve(id, node, &request, reason, None)
								},
								(true, Some(signature)) => Self::submit_cannot_serve(
									id,
									node,
									&request,
									reason,
									Some(signature),
								),
								(true, None) => {
									log::warn!(target: LOG_TARGET, "request {id}: cannot be served ({reason:?}), and the executor that holds the node key signed no notice");
									false
								},
							};
							let entry = (id, request.attempts, request.deadline);
							Self::record(&mut submitted, [entry], now, accepted);
							continue;
						},
						Err(Failure::Error(reason)) => {
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
							batched.push((id, request.attempts, request.deadline));
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
							let Ok(message) = Self::result_message(&request, id, &output_hash)
							else {
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
							// The runtime's own check, here: a result it refuses is not
							// computed again for this attempt.
							if let Err(error) = Self::check_result(&result, &signature, None) {
								log::warn!(target: LOG_TARGET, "request {id}: the result would be refused ({error:?}); not served again in this attempt");
								refused.push(entry);
								continue;
							}
							let accepted = Self::submit(Call::submit_result { result, signature });
							if accepted {
								log::info!(target: LOG_TARGET, "request {id}: result submitted");
							}
							Self::record(&mut submitted, [entry], now, accepted);
						},
					}
				}
				// A busy executor's calls go first in the next window, after a pause.
				if !busy.is_empty() {
					for item in busy.into_iter().rev() {
						queue.push_front(item);
					}
					let pause = Duration::from_millis(BUSY_BACKOFF_MS);
					sp_io::offchain::sleep_until(sp_io::offchain::timestamp().add(pause));
				}
			}
			let max = T::MaxBatchLen::get() as usize;
			for (chunk, entries) in leaves.chunks(max).zip(batched.chunks(max)) {
				let accepted = Self::submit_leaves(node, chunk, executor_signs.then_some(url));
				Self::record(&mut submitted, entries.iter().copied(), now, accepted);
			}
			Self::submit_proven(proven, &mut submitted, &mut refused, now);
		}
		sp_io::offchain::local_storage_set(
			StorageKind::PERSISTENT,
			SUBMITTED_KEY,
			&submitted.encode(),
		);
		sp_io::offchain::local_storage_set(StorageKind::PERSISTENT, REFUSED_KEY, &refused.encode());
	}

	/// The open requests assigned to `node` that this run serves, earliest deadline first:
	/// not yet submitted for their current attempt (or submitted [`RESUBMIT_AFTER`] blocks
	/// ago and still open), not refused for good in it, and with a deadline after `now`
	/// (a result sent now is included at `now + 1` at the earliest, and must be by the
	/// deadline).
	fn due_assignments(
		node: NodeKey,
		now: BlockNumberFor<T>,
		submitted: &Submitted<T>,
		refused: &Refused<T>,
	) -> Vec<(RequestId, RequestOf<T>)> {
		let resubmit_after: BlockNumberFor<T> = RESUBMIT_AFTER.into();
		let mut due: Vec<(RequestId, RequestOf<T>)> = Assignments::<T>::iter_prefix(node)
			.filter_map(|(id, ())| Some((id, Requests::<T>::get(id)?)))
			.filter(|(id, request)| {
				let waiting = submitted.iter().any(|(r, attempt, _, at)| {
					r == id
						&& *attempt == request.attempts
						&& now < at.saturating_add(resubmit_after)
				});
				let given_up =
					refused.iter().any(|(r, attempt, _)| r == id && *attempt == request.attempts);
				!waiting && !given_up && request.deadline > now
			})
			.collect();
		due.sort_by_key(|(id, request)| (request.deadline, *id));
		due
	}

	/// Notes `entries` as submitted at `now`: those the pool `accepted`, and those that
	/// were submitted before (the pool refuses a result it still holds; it is tried again
	/// [`RESUBMIT_AFTER`] blocks later).
	fn record(
		submitted: &mut Submitted<T>,
		entries: impl IntoIterator<Item = SubmittedEntry<T>>,
		now: BlockNumberFor<T>,
		accepted: bool,
	) {
		for (id, attempt, deadline) in entries {
			let before = submitted.iter().position(|(r, a, _, _)| *r == id && *a == attempt);
			match before {
				Some(index) => submitted[index].3 = now,
				None if accepted => submitted.push((id, attempt, deadline, now)),
				None => {},
			}
		}
	}

	/// Signs the root of `leaves` with `node` (in the keystore, or held by the executor at
	/// `executor`) and submits them as one batch; whether the pool accepted it.
	fn submit_leaves(node: NodeKey, leaves: &[merkle::Leaf], executor: Option<&str>) -> bool {
		let (Some(root), Ok(genesis)) = (merkle::root(leaves), Self::genesis_hash()) else {
			return false;
		};
		let signature = match executor {
			Some(url) => match Self::executor_batch_signature(url, &genesis, leaves) {
				Ok(signature) => signature,
				Err(reason) => {
					log::warn!(target: LOG_TARGET, "batch of {} results: {reason}", leaves.len());
					return false;
				},
			},
			None => {
				let message = message::batch(&genesis, &root, leaves.len() as u32);
				let Some(signature) = sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, &node, &message)
				else {
					return false;
				};
				signature
			},
		};
		let batch = BatchResult { node, leaves: BoundedVec::truncate_from(leaves.to_vec()) };
		let accepted = Self::submit(Call::submit_batch { batch, signature });
		if accepted {
			log::info!(target: LOG_TARGET, "batch of {} results submitted", leaves.len());
		}
		accepted
	}

	/// Submits proven results: several of one model as one proven batch, checked here
	/// first as the runtime will check it (one bad proof refuses a whole batch); a batch
	/// that fails the check or that the pool refuses goes one result at a time. A result
	/// the runtime's check refuses is recorded in `refused` (not proven again for this
	/// attempt); what was submitted is recorded in `submitted`.
	fn submit_proven(
		mut proven: Vec<Proven<T>>,
		submitted: &mut Submitted<T>,
		refused: &mut Refused<T>,
		now: BlockNumberFor<T>,
	) {
		proven.sort_by_key(|(model, _, _)| *model);
		for group in proven.chunk_by(|(a, _, _), (b, _, _)| a == b) {
			for chunk in group.chunks(T::MaxBatchLen::get() as usize) {
				if chunk.len() > 1 {
					let results: BoundedVec<_, T::MaxBatchLen> = BoundedVec::truncate_from(
						chunk.iter().map(|(_, p, _)| p.clone()).collect(),
					);
					let checked = Self::check_proven_batch(&results);
					if checked.is_ok() && Self::submit(Call::submit_proven_batch { results }) {
						log::info!(target: LOG_TARGET, "{} proven results submitted as one batch", chunk.len());
						Self::record(
							submitted,
							chunk.iter().map(|(_, _, entry)| *entry),
							now,
							true,
						);
						continue;
					}
					let why = checked.err().map(|error| format!("{error:?}"));
					log::warn!(target: LOG_TARGET, "a proven batch of {} results was refused ({}): they go one at a time", chunk.len(), why.as_deref().unwrap_or("by the pool"));
				}
				for (_, single, entry) in chunk {
					let id = single.result.request;
					let (result, signature) = (&single.result, &single.signature);
					if let Err(error) = Self::check_result(result, signature, Some(&single.proof)) {
						log::warn!(target: LOG_TARGET, "request {id}: the proven result would be refused ({error:?}); not proven again in this attempt");
						refused.push(*entry);
						continue;
					}
					let accepted = Self::submit(Call::submit_proven_result {
						result: result.clone(),
						proof: single.proof.clone(),
						signature: single.signature,
					});
					if accepted {
						log::info!(target: LOG_TARGET, "request {id}: proven result submitted");
					}
					Self::record(submitted, [*entry], now, accepted);
				}
			}
		}
	}

	/// Declines request `id` with `reason`, with the executor's `signed` notice or else
	/// signed by `node` from the keystore; whether the pool accepted the notice.
	fn submit_cannot_serve(
		id: RequestId,
		node: NodeKey,
		request: &RequestOf<T>,
		reason: CannotServeReason,
		signed: Option<Signature>,
	) -> bool {
		let signature = match signed {
			Some(signature) => signature,
			None => {
				let Ok(genesis) = Self::genesis_hash() else { return false };
				let (code, detail) = reason.code_and_detail();
				let message =
					message::cannot_serve(&genesis, id, &request.input_hash, code, &detail);
				let Some(signature) = sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, &node, &message)
				else {
					return false;
				};
				signature
			},
		};
		let notice = CannotServe { request: id, node, reason };
		let accepted = Self::submit(Call::cannot_serve { notice, signature });
		if accepted {
			log::info!(target: LOG_TARGET, "request {id}: cannot be served ({reason:?}), declined");
		}
		accepted
	}

	fn submit(call: Call<T>) -> bool {
		let extrinsic = <T as CreateBare<Call<T>>>::create_bare(call.into());
		SubmitTransaction::<T, Call<T>>::submit_transaction(extrinsic).is_ok()
	}

	/// The executor's signature of its node key's heartbeat at block `at`.
	fn executor_heartbeat(url: &str, at: u64) -> Result<Signature, String> {
		let genesis = Self::genesis_hash().map_err(|_| String::from("genesis hash unknown"))?;
		let call = api::Call::Heartbeat { genesis: &genesis, at };
		let (response, deadline) = Self::post(url, &call.uri(url), Vec::new())?;
		Self::signature_header(response, deadline)
	}

	/// The signature in an executor's `200` answer, or why there is none.
	fn signature_header(
		mut response: http::Response,
		deadline: Timestamp,
	) -> Result<Signature, String> {
		let header = response.headers().find(api::header::SIGNATURE).map(String::from);
		if response.code != 200 {
			let body = Self::read_body(&mut response, deadline, 1024)?;
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

	/// The executor's signature of the batch root over `leaves`, whose results it signed.
	fn executor_batch_signature(
		url: &str,
		genesis: &opg_settlement::Hash,
		leaves: &[merkle::Leaf],
	) -> Result<Signature, String> {
		let body = api::encode_leaves(
			leaves.iter().map(|leaf| (leaf.request, leaf.input_hash, leaf.output_hash)),
		);
		let (response, deadline) =
			Self::post(url, &api::Call::SignBatch { genesis }.uri(url), body)?;
		Self::signature_header(response, deadline)
	}

	/// POSTs `body` to the executor at `url` (`uri` under it) and waits for the answer;
	/// reading its body is bounded by the same deadline ([`Self::read_body`]).
	fn post(url: &str, uri: &str, body: Vec<u8>) -> Result<(http::Response, Timestamp), String> {
		let (pending, deadline) = Self::send(url, uri, body)?;
		Ok((Self::wait(pending, deadline)?, deadline))
	}

	/// POSTs `body` to the executor at `url` (`uri` under it) without waiting: the answer
	/// is due by the returned deadline ([`Self::wait`]).
	fn send(
		url: &str,
		uri: &str,
		body: Vec<u8>,
	) -> Result<(http::PendingRequest, Timestamp), String> {
		let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(EXECUTOR_TIMEOUT_MS));
		// No chunk for an empty body: an empty chunk ends the body, and `send` then fails
		// writing its own end.
		let chunks = if body.is_empty() { Vec::new() } else { alloc::vec![body] };
		let mut request =
			http::Request::post(uri, chunks).add_header("content-type", "application/octet-stream");
		// The executor's node listener asks for its token from any address but loopback.
		let token = sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, EXECUTOR_TOKEN_KEY)
			.and_then(|token| String::from_utf8(token).ok());
		let authorization = token.as_deref().map(api::bearer);
		if let Some(value) = authorization.as_deref() {
			request = request.add_header(api::header::AUTHORIZATION, value);
		}
		let pending = request
			.deadline(deadline)
			.send()
			.map_err(|_| format!("executor at {url} unreachable"))?;
		Ok((pending, deadline))
	}

	/// The answer to a call [`Self::send`] sent, by its deadline.
	fn wait(pending: http::PendingRequest, deadline: Timestamp) -> Result<http::Response, String> {
		pending
			.try_wait(deadline)
			.map_err(|_| String::from("executor timed out"))?
			.map_err(|e| format!("executor request failed: {e:?}"))
	}

	/// Up to `limit` bytes of `response`'s body, read by `deadline`: an executor that sends
	/// its headers and then stalls cannot hold the worker.
	fn read_body(
		response: &mut http::Response,
		deadline: Timestamp,
		limit: usize,
	) -> Result<Vec<u8>, String> {
		let mut body = response.body();
		body.deadline(deadline);
		let bytes: Vec<u8> = body.by_ref().take(limit).collect();
		match body.error() {
			Some(error) => Err(format!("reading the executor's answer failed: {error:?}")),
			None => Ok(bytes),
		}
	}

	/// Whether request `id` can go to the executor in one call with others of its model:
	/// an inference (not a proof) on an inline input whose output is not private (a
	/// private output is kept for its requester alone, which a single call names).
	fn runs_with_others(id: RequestId, request: &RequestOf<T>) -> bool {
		request.mode != VerificationMode::Zkml
			&& request.settlement != SettlementMode::Private
			&& matches!(Inputs::<T>::get(id), Some(Input::Inline(_)))
	}

	/// Sends `jobs` (inline, of one model: [`Self::runs_with_others`]) to the executor at
	/// `url` in one call, without waiting for the answer ([`Self::finish_many`]).
	fn start_many(
		url: &str,
		jobs: &[(RequestId, RequestOf<T>)],
		executor_signs: bool,
	) -> Result<SentMany, Failure> {
		let genesis = Self::genesis_hash().map_err(|_| String::from("genesis hash unknown"))?;
		let inputs: Vec<(RequestId, Vec<u8>)> = jobs
			.iter()
			.map(|(id, _)| match Inputs::<T>::get(id) {
				Some(Input::Inline(bytes)) => Ok((*id, bytes.into_inner())),
				_ => Err(Failure::from("input missing")),
			})
			.collect::<Result<_, _>>()?;
		let body = api::encode_jobs(inputs.iter().map(|(id, input)| (*id, &input[..])));
		let model = &jobs.first().ok_or("no job")?.1.model_hash;
		// Always the chain: a language model's answer is sampled with the request's seed. An
		// executor without the node key answers unsigned.
		let call = api::Call::InferMany { model, genesis: Some(&genesis) };
		let (pending, deadline) = Self::send(url, &call.uri(url), body)?;
		Ok(SentMany { pending, deadline, executor_signs })
	}

	/// The answers to the `count` jobs [`Self::start_many`] sent, in order: each the output
	/// bytes, with the executor's signature when it was asked to sign.
	fn finish_many(
		sent: Result<SentMany, Failure>,
		count: usize,
	) -> Vec<Result<Execution, Failure>> {
		let all = |failure: &Failure| -> Vec<Result<Execution, Failure>> {
			(0..count)
				.map(|_| {
					Err(match failure {
						Failure::Busy => Failure::Busy,
						Failure::Error(reason) => Failure::Error(reason.clone()),
						Failure::CannotServe(reason, signature) => {
							Failure::CannotServe(*reason, *signature)
						},
					})
				})
				.collect()
		};
		let answers = sent.and_then(|SentMany { pending, deadline, executor_signs }| {
			let mut response = Self::wait(pending, deadline)?;
			if response.code == 503 || response.headers().find("retry-after").is_some() {
				return Err(Failure::Busy);
			}
			let body = Self::read_body(&mut response, deadline, MAX_OUTPUT + 1)?;
			if response.code != 200 {
				return Err(format!(
					"executor answered {}: {}",
					response.code,
					String::from_utf8_lossy(&body).trim_end()
				)
				.into());
			}
			let answers = api::decode_answers(&body)
				.filter(|answers| answers.len() == count && body.len() <= MAX_OUTPUT)
				.ok_or("the executor's answer to many jobs is malformed")?;
			Ok((answers, executor_signs))
		});
		let (answers, executor_signs) = match answers {
			Ok(answers) => answers,
			Err(failure) => return all(&failure),
		};
		answers
			.into_iter()
			.map(|answer| match answer.status {
				200 => match (executor_signs, answer.signature) {
					(false, _) => Ok((answer.body, None, None)),
					(true, Some(signature)) => {
						Ok((answer.body, None, Some(Signature::from_raw(signature))))
					},
					(true, None) => Err("the executor signed no result".into()),
				},
				503 => Err(Failure::Busy),
				status => Err(format!(
					"executor answered {status}: {}",
					String::from_utf8_lossy(&answer.body).trim_end()
				)
				.into()),
			})
			.collect()
	}

	/// Sends request `id` to the executor at `url`, without waiting for the answer
	/// ([`Self::finish`]): the executor is asked to sign when `executor_signs`.
	fn start(
		url: &str,
		id: RequestId,
		node: NodeKey,
		request: &RequestOf<T>,
		executor_signs: bool,
	) -> Result<Sent, Failure> {
		let input = Inputs::<T>::get(id).ok_or("input missing")?;
		let zkml = request.mode == VerificationMode::Zkml;
		let genesis = Self::genesis_hash().map_err(|_| String::from("genesis hash unknown"))?;
		let (stored, locator, body) = match input {
			Input::Inline(bytes) => (None, Vec::new(), bytes.into_inner()),
			Input::Stored { hash, locator, .. } => (Some(hash), locator.into_inner(), Vec::new()),
		};
		let locator = core::str::from_utf8(&locator).ok().filter(|text| !text.is_empty());
		let model = &request.model_hash;
		// A stored input's commitment: the executor refuses to prove bytes that do not match.
		let commitment = stored.and(InputCommitments::<T>::get(id));
		// A private request's input and output are served by the executor to the requester
		// alone.
		let requester = match request.settlement {
			SettlementMode::Private => Some(request.requester.encode()),
			_ => None,
		};
		let call = match zkml {
			true => api::Call::Prove {
				model,
				input: stored.as_ref(),
				locator,
				job: api::Job { genesis, request: id, node: node.0 },
				commitment: commitment.as_ref(),
				requester: requester.as_deref(),
			},
			false => api::Call::Infer {
				model,
				input: stored.as_ref(),
				locator,
				signing: Some(api::Signing { genesis, request: id }),
				requester: requester.as_deref(),
			},
		};
		let uri = call.uri(url);
		let (pending, deadline) = Self::send(url, &uri, body)?;
		Ok(Sent { pending, deadline, stored, zkml, executor_signs })
	}

	/// The answer to request `id` sent by [`Self::start`]: the output bytes, with a proof
	/// for a ZKML request, and with the executor's signature when it was asked to sign.
	fn finish(id: RequestId, sent: Sent) -> Result<Execution, Failure> {
		let Sent { pending, deadline, stored, zkml, executor_signs } = sent;
		let mut response = Self::wait(pending, deadline)?;
		let code = response.code;
		let headers = response.headers();
		let header = |name| headers.find(name).map(String::from);
		let (proof_header, signature_header) =
			(header(api::header::PROOF), header(api::header::SIGNATURE));
		let (missing, commitment_header) =
			(header(api::header::MISSING), header(api::header::INPUT_COMMITMENT));
		let decode = |text: String| api::parse_hex(&text);
		let executor_signature = |header: Option<String>| {
			header
				.filter(|_| executor_signs)
				.and_then(decode)
				.and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
				.map(Signature::from_raw)
		};
		// Busy: `503`, with `retry-after` (which no successful answer carries).
		if code == 503 || header("retry-after").is_some() {
			return Err(Failure::Busy);
		}
		if stored.is_some() && missing.as_deref() == Some(api::header::MISSING_INPUT) {
			// The executor found the input in no store, peer or locator: no node holding
			// what this one knows could serve it. An executor that holds the node key signs
			// the notice itself.
			return Err(Failure::CannotServe(
				CannotServeReason::InputUnavailable,
				executor_signature(signature_header),
			));
		}
		// A stored input's bytes that do not match the caller's commitment: the proof would
		// be refused, and no node could prove the commitment given. The executor refuses
		// to prove them (`409`, with the commitment it computed and, for a key it holds,
		// the signed notice), or, an older one, proves them and says what it computed.
		let computed = commitment_header
			.and_then(decode)
			.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
		if let (true, Some(_), Some(given), Some(computed)) =
			(zkml, stored, InputCommitments::<T>::get(id), computed)
		{
			if given != computed {
				// A refusal (no proof) carries the notice the executor signed for its key; an
				// answer with a proof carries the result's signature, no use here.
				let signed = match proof_header {
					None => executor_signature(signature_header),
					Some(_) => None,
				};
				return Err(Failure::CannotServe(
					CannotServeReason::CommitmentMismatch { computed },
					signed,
				));
			}
		}
		let body = Self::read_body(&mut response, deadline, MAX_OUTPUT + 1)?;
		if code != 200 {
			return Err(format!(
				"executor answered {code}: {}",
				String::from_utf8_lossy(&body).trim_end()
			)
			.into());
		}
		if body.len() > MAX_OUTPUT {
			return Err("output above 16 MiB".into());
		}
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
