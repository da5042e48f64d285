//! The off-chain worker of the verification game: a verification node checks the cases it
//! is seated in; an inference node proves its disputed results.
//!
//! After each imported block, for every sr25519 node key (`opgn`) in the keystore with
//! seats in open cases ([`Assignments`]), the worker:
//! - in a round's **commit** phase, has the node's executor check the result once (the
//!   URL in offchain storage under `opg_executor_api::offchain_keys::URL`, set by
//!   `opg-node --executor-url`): `POST {url}/v1/check/0x{model}?genesis=..&request=..&
//!   output=0x{claimed}` with the input kept on chain for the case
//!   ([`opg_primitives::HeldResults::to_check`]) and, when the chain holds it, the claimed
//!   output after it (`output-len=N`), or with `input=0x{hash}` for a stored
//!   input, which the executor fetches from the serving node's artifact store, its peers
//!   or the locator, showing the verifier's read permission (the node key's signature of
//!   `opg_settlement::message::artifact_read`: a private request's input and evidence
//!   are served to the verifiers seated on its case). The executor re-executes the model and judges by the model's kind
//!   (output bytes for quantized models, and for float models without a published
//!   tolerance, else the output within it; the answer's activation
//!   evidence for language models; see docs/verification.md) and answers the verdict in
//!   `x-opg-verdict`; an input that cannot be had is [`Verdict::Invalid`] (withholding it
//!   is a failed check). The verdict and a fresh random salt are kept in offchain storage,
//!   then the commitment is submitted as an unsigned `commit` signed by the node key;
//! - in the **reveal** phase, submits the kept verdict and salt as `reveal`.
//!
//! The same worker serves the other side of a dispute: for each node key in the keystore
//! (or held by the executor) whose result awaits its Groth16 proof ([`ProofsDue`]), it
//! asks the executor to prove the result (`POST {url}/v1/prove/0x{model}` with the job:
//! chain, request, node) and submits the output and proof as an unsigned `prove` only if
//! they prove the output the node claimed — an executor that served a wrong output proves
//! the true one, which does not. Both outcomes are kept in offchain storage, so a proof is
//! made once.
//!
//! An executor that cannot be reached or answers an error leaves the seat for the next
//! block (no verdict is guessed). A transaction the pool already holds is refused as a
//! duplicate, so each block submits again what the chain does not show yet. A key the
//! executor holds itself (TEE mode) is not served here: a verifier's key is in its
//! node's keystore.

use super::*;
use alloc::{format, string::String, vec::Vec};
use codec::{Decode, Encode};
use frame_support::BoundedVec;
use frame_system::offchain::{CreateBare, SubmitTransaction};
use opg_executor_api as api;
use opg_primitives::NODE_KEY_TYPE;
use opg_verification::Phase;
use sp_runtime::offchain::{
	http,
	storage_lock::{StorageLock, Time},
	Duration, StorageKind,
};

/// Offchain storage key of the verdicts this node reached and not yet revealed:
/// (case, verifier, round, verdict, salt).
pub const VERDICTS_KEY: &[u8] = b"opg::verification::verdicts";
/// Offchain storage key of the lock that keeps worker runs from overlapping.
const LOCK_KEY: &[u8] = b"opg::verification::worker-lock";
/// Time the executor has for one re-execution.
const EXECUTOR_TIMEOUT_MS: u64 = 30_000;
/// How long a verifier's read permission for a stored input lasts, in seconds (the
/// serving executor accepts at most `opg_executor_api::MAX_READ_VALIDITY_S`).
const READ_VALIDITY_S: u64 = 300;
/// The largest output read from the executor.
const MAX_OUTPUT: usize = 16 << 20;
const LOG_TARGET: &str = "runtime::verification";

/// Offchain storage key of the proofs this node owes for its disputed results: (case,
/// output and proof, or `None` when its executor's proof does not prove the output held).
pub const PROOFS_KEY: &[u8] = b"opg::verification::proofs";

/// A verdict reached and kept until revealed.
type Kept = (CaseId, NodeKey, u8, Verdict, [u8; 32]);
/// An output and its proof.
type Proven = (Vec<u8>, Vec<u8>);
/// A proof made, or found impossible (`None`), for a case.
type Proof = (CaseId, Option<Proven>);
/// An executor's answer: its status, the headers asked for, its body.
type Answer = (u16, Vec<Option<String>>, Vec<u8>);

impl<T: Config> Pallet<T> {
	/// Serves the seats and the proofs of this node's keys (see the module's documentation).
	pub(crate) fn serve() {
		let mut keys = sp_io::crypto::sr25519_public_keys(NODE_KEY_TYPE);
		let seated: Vec<(NodeKey, CaseId)> = keys
			.iter()
			.flat_map(|key| Assignments::<T>::iter_key_prefix(key).map(move |case| (*key, case)))
			.collect();
		// A node key the executor holds (TEE mode) owes proofs of its results too.
		let executor_key = sp_io::offchain::local_storage_get(
			StorageKind::PERSISTENT,
			api::offchain_keys::NODE_KEY,
		)
		.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
		.map(NodeKey::from);
		if let Some(key) = executor_key.filter(|key| !keys.contains(key)) {
			keys.push(key);
		}
		let owed: Vec<(NodeKey, CaseId)> = keys
			.iter()
			.flat_map(|key| ProofsDue::<T>::iter_key_prefix(key).map(move |case| (*key, case)))
			.collect();
		let mut proofs: Vec<Proof> =
			sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, PROOFS_KEY)
				.and_then(|bytes| Decode::decode(&mut &bytes[..]).ok())
				.unwrap_or_default();
		let proofs_before = proofs.len();
		proofs.retain(|(case, _)| owed.iter().any(|(_, owed)| owed == case));
		let mut kept: Vec<Kept> =
			sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, VERDICTS_KEY)
				.and_then(|bytes| Decode::decode(&mut &bytes[..]).ok())
				.unwrap_or_default();
		// Verdicts of cases that ended, or rounds that passed, are of no more use.
		let before = kept.len();
		kept.retain(|(case, key, round, _, _)| {
			seated.contains(&(*key, *case))
				&& Cases::<T>::get(case).is_some_and(|record| record.game.round == *round)
		});
		let mut changed = kept.len() != before;
		let mut proofs_changed = proofs.len() != proofs_before;
		let save = |changed: bool, kept: &Vec<Kept>, proofs_changed: bool, proofs: &Vec<Proof>| {
			if changed {
				sp_io::offchain::local_storage_set(
					StorageKind::PERSISTENT,
					VERDICTS_KEY,
					&kept.encode(),
				);
			}
			if proofs_changed {
				sp_io::offchain::local_storage_set(
					StorageKind::PERSISTENT,
					PROOFS_KEY,
					&proofs.encode(),
				);
			}
		};
		if seated.is_empty() && owed.is_empty() {
			save(changed, &kept, proofs_changed, &proofs);
			return;
		}
		let Some(url) =
			sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, api::offchain_keys::URL)
				.and_then(|url| String::from_utf8(url).ok())
		else {
			log::warn!(target: LOG_TARGET, "seated in cases or owing proofs but no executor URL: start opg-node with --executor-url");
			return;
		};
		let url = url.trim_end_matches('/');
		let mut lock = StorageLock::<Time>::with_deadline(
			LOCK_KEY,
			Duration::from_millis(2 * EXECUTOR_TIMEOUT_MS),
		);
		let Ok(_guard) = lock.try_lock() else { return };
		let Ok(genesis) = Self::genesis_hash() else { return };

		for (key, case) in seated {
			let Some(record) = Cases::<T>::get(case) else { continue };
			let round = record.game.round;
			let Some(seat) = record.game.current().find(|seat| seat.verifier == key) else {
				continue;
			};
			match record.game.phase {
				Phase::Commit { .. } if seat.commitment.is_none() => {
					let known = kept
						.iter()
						.find(|(c, k, r, _, _)| *c == case && *k == key && *r == round)
						.map(|(_, _, _, verdict, salt)| (*verdict, *salt));
					let (verdict, salt) = match known {
						Some(known) => known,
						None => match Self::check(url, &genesis, key, record.result) {
							Ok(verdict) => {
								let salt = sp_io::offchain::random_seed();
								kept.push((case, key, round, verdict, salt));
								changed = true;
								log::info!(target: LOG_TARGET, "case {case}: result {} re-executed: {verdict:?}", record.result);
								(verdict, salt)
							},
							Err(reason) => {
								log::warn!(target: LOG_TARGET, "case {case}: not checked yet: {reason}");
								continue;
							},
						},
					};
					let commitment = game::commitment(case, &key, verdict, &salt);
					let message = message::verdict_commit(&genesis, case, &commitment);
					let Some(signature) =
						sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, &key, &message)
					else {
						continue;
					};
					if Self::submit(Call::commit { case, verifier: key, commitment, signature }) {
						log::info!(target: LOG_TARGET, "case {case}: verdict committed");
					}
				},
				Phase::Reveal { .. } if seat.commitment.is_some() && seat.verdict.is_none() => {
					let Some((verdict, salt)) = kept
						.iter()
						.find(|(c, k, r, _, _)| *c == case && *k == key && *r == round)
						.map(|(_, _, _, verdict, salt)| (*verdict, *salt))
					else {
						log::error!(target: LOG_TARGET, "case {case}: committed, but the verdict and salt are lost: it cannot be revealed");
						continue;
					};
					let message = message::verdict_reveal(&genesis, case, verdict.byte(), &salt);
					let Some(signature) =
						sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, &key, &message)
					else {
						continue;
					};
					let call = Call::reveal { case, verifier: key, verdict, salt, signature };
					if Self::submit(call) {
						log::info!(target: LOG_TARGET, "case {case}: verdict revealed: {verdict:?}");
					}
				},
				_ => {},
			}
		}
		for (key, case) in owed {
			let Some(record) = Cases::<T>::get(case) else { continue };
			let known = proofs.iter().find(|(c, _)| *c == case).map(|(_, proof)| proof.clone());
			let proof = match known {
				Some(known) => known,
				None => match Self::proof_of(url, &genesis, key, record.result) {
					Ok(proof) => {
						proofs.push((case, proof.clone()));
						proofs_changed = true;
						proof
					},
					Err(reason) => {
						log::warn!(target: LOG_TARGET, "case {case}: not proven yet: {reason}");
						continue;
					},
				},
			};
			let Some((output, proof)) = proof else { continue };
			let (Ok(output), Ok(proof)) =
				(BoundedVec::try_from(output), BoundedVec::try_from(proof))
			else {
				continue;
			};
			if Self::submit(Call::prove { case, output, proof }) {
				log::info!(target: LOG_TARGET, "case {case}: result {} proven", record.result);
			}
		}
		save(changed, &kept, proofs_changed, &proofs);
	}

	/// Asks the executor at `url` to prove held result `result` of `node`: the output and
	/// proof if they prove the output held, `None` if they do not (a node that served a
	/// wrong output cannot prove it).
	fn proof_of(
		url: &str,
		genesis: &[u8; 32],
		node: NodeKey,
		result: RequestId,
	) -> Result<Option<Proven>, String> {
		let to_check = T::Results::to_check(result).ok_or("the result is no longer held")?;
		let CheckInput::Inline(input) = to_check.input else {
			return Err("only an input kept on chain can be proven".into());
		};
		let call = api::Call::Prove {
			model: &to_check.model_hash,
			input: None,
			locator: None,
			job: api::Job { genesis: *genesis, request: result, node: node.0 },
			commitment: None,
			requester: None,
		};
		let (code, headers, output) =
			Self::post(url, &call.uri(url), input, &[], &[api::header::PROOF])?;
		if code != 200 {
			return Err(format!(
				"executor answered {code}: {}",
				String::from_utf8_lossy(&output[..output.len().min(512)]).trim_end()
			));
		}
		let proof = headers[0]
			.as_deref()
			.and_then(api::parse_hex)
			.ok_or_else(|| format!("the executor's answer has no valid {}", api::header::PROOF))?;
		if !T::Results::verify_proof(result, &output, &proof) {
			log::warn!(target: LOG_TARGET, "result {result}: the executor's proof does not prove the output held: it cannot be proven");
			return Ok(None);
		}
		Ok(Some((output, proof)))
	}

	/// Has the executor at `url` re-execute result `result` and judge it
	/// (`POST {url}/v1/check/0x{model}`): its verdict; [`Verdict::Invalid`] too when the
	/// input cannot be had (withholding it is a failed check).
	///
	/// A stored input goes with the verifier's read permission (`key`'s signature of
	/// `message::artifact_read` of the input's hash, valid [`READ_VALIDITY_S`]), which its
	/// executor shows to the serving node's: a private request's input and evidence are
	/// served to its requester and to the verifiers seated on its case alone.
	fn check(
		url: &str,
		genesis: &[u8; 32],
		key: NodeKey,
		result: RequestId,
	) -> Result<Verdict, String> {
		let to_check = T::Results::to_check(result).ok_or("the result is no longer held")?;
		let (stored, locator, mut body) = match &to_check.input {
			CheckInput::Inline(bytes) => (None, None, bytes.clone()),
			CheckInput::Stored { hash, locator } => {
				let locator = core::str::from_utf8(locator).ok().filter(|text| !text.is_empty());
				(Some(*hash), locator, Vec::new())
			},
			// A direct call's request: its digest's preimage, in the serving node's store.
			CheckInput::Call { digest } => (Some(*digest), None, Vec::new()),
		};
		let input_is_call = matches!(to_check.input, CheckInput::Call { .. });
		let mut permission = Vec::new();
		if let Some(hash) = &stored {
			let not_after = sp_io::offchain::timestamp().unix_millis() / 1000 + READ_VALIDITY_S;
			let message = message::artifact_read(hash, not_after);
			if let Some(signature) = sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, &key, &message) {
				permission.extend(api::read_permission(&key.0, not_after, &signature.0));
			}
		}
		// The claimed output the chain holds follows the input: a float model's output is
		// judged within its tolerance of the executor's.
		let output_len = to_check.output.as_ref().map(|output| {
			body.extend_from_slice(output);
			output.len()
		});
		// The chain and request name the seed a language model samples with.
		let call = api::Call::Check {
			model: &to_check.model_hash,
			input: stored.as_ref(),
			input_is_call,
			locator,
			signing: api::Signing { genesis: *genesis, request: result },
			output: &to_check.output_hash,
			output_len,
		};
		let (code, headers, reason) = Self::post(
			url,
			&call.uri(url),
			body,
			&permission,
			&[api::header::VERDICT, api::header::MISSING],
		)?;
		let reason = String::from_utf8_lossy(&reason[..reason.len().min(512)]).into_owned();
		if stored.is_some() && headers[1].as_deref() == Some(api::header::MISSING_INPUT) {
			log::info!(target: LOG_TARGET, "result {result}: its input cannot be had: {reason}");
			return Ok(Verdict::Invalid);
		}
		if code != 200 {
			return Err(format!("executor answered {code}: {}", reason.trim_end()));
		}
		match headers[0].as_deref() {
			Some(api::header::VERDICT_VALID) => Ok(Verdict::Valid),
			Some(api::header::VERDICT_INVALID) => {
				log::info!(target: LOG_TARGET, "result {result} found invalid: {reason}");
				Ok(Verdict::Invalid)
			},
			_ => Err(format!("the executor's answer has no {}", api::header::VERDICT)),
		}
	}

	/// POSTs `body` to the executor at `url` (`uri` under it) with its token and the
	/// `extra` headers, and reads the answer within [`EXECUTOR_TIMEOUT_MS`]: its status,
	/// the values of `wanted` headers, and its body (at most [`MAX_OUTPUT`] bytes).
	fn post(
		url: &str,
		uri: &str,
		body: Vec<u8>,
		extra: &[(&str, String)],
		wanted: &[&str],
	) -> Result<Answer, String> {
		let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(EXECUTOR_TIMEOUT_MS));
		let chunks = if body.is_empty() { Vec::new() } else { alloc::vec![body] };
		let mut request =
			http::Request::post(uri, chunks).add_header("content-type", "application/octet-stream");
		for (name, value) in extra {
			request = request.add_header(name, value);
		}
		let token =
			sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, api::offchain_keys::TOKEN)
				.and_then(|token| String::from_utf8(token).ok());
		let authorization = token.as_deref().map(api::bearer);
		if let Some(value) = authorization.as_deref() {
			request = request.add_header(api::header::AUTHORIZATION, value);
		}
		let pending = request
			.deadline(deadline)
			.send()
			.map_err(|_| format!("executor at {url} unreachable"))?;
		let mut response = pending
			.try_wait(deadline)
			.map_err(|_| String::from("executor timed out"))?
			.map_err(|e| format!("executor request failed: {e:?}"))?;
		let headers = response.headers();
		let found = wanted.iter().map(|name| headers.find(name).map(String::from)).collect();
		let code = response.code;
		let mut reader = response.body();
		reader.deadline(deadline);
		let bytes: Vec<u8> = reader.by_ref().take(MAX_OUTPUT + 1).collect();
		if let Some(error) = reader.error() {
			return Err(format!("reading the executor's answer failed: {error:?}"));
		}
		if bytes.len() > MAX_OUTPUT {
			return Err("answer above 16 MiB".into());
		}
		Ok((code, found, bytes))
	}

	fn submit(call: Call<T>) -> bool {
		let extrinsic = <T as CreateBare<Call<T>>>::create_bare(call.into());
		SubmitTransaction::<T, Call<T>>::submit_transaction(extrinsic).is_ok()
	}
}
