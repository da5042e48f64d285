//! sr25519 signatures that wait at once are verified together.
//!
//! A paid call's voucher is an sr25519 signature in most cases (Substrate's default
//! account key), and verifying it is most of what the gateway adds to a call. Schnorrkel
//! verifies n signatures in one multi-scalar multiplication
//! ([`schnorrkel::verify_batch`]) for less than n verifications. [`BatchVerifier`] runs one
//! thread that takes every signature queued (up to [`MAX_BATCH`]) whenever it is free and
//! verifies them together: nothing waits for a batch to fill, a signature alone is
//! verified alone, and batches grow with the load. A caller that gives up (its client
//! went away) leaves nothing behind: its verdict is dropped.
//!
//! A batch whose equation fails (one bad signature among good ones) is verified again
//! signature by signature, so each caller gets its own verdict: a client who signs
//! garbage on its own channel costs the node one batch more, never another client's call.

use schnorrkel::{signing_context, PublicKey, Signature};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Signatures verified together at most.
pub const MAX_BATCH: usize = 64;

/// One signature to verify, and where its verdict goes.
struct Job {
	key: PublicKey,
	message: Vec<u8>,
	signature: Signature,
	verdict: oneshot::Sender<bool>,
}

/// Verifies sr25519 signatures in batches on a thread of its own. See the module's docs.
pub struct BatchVerifier {
	jobs: mpsc::Sender<Job>,
}

/// Whether `signature` is `key`'s over `message` (Substrate's signing context), alone.
fn verify_one(key: &PublicKey, message: &[u8], signature: &Signature) -> bool {
	key.verify(signing_context(b"substrate").bytes(message), signature).is_ok()
}

/// The verdicts on `jobs`' signatures (key, message, signature), in their order: one
/// batch equation, and each signature alone only when it fails.
pub fn verdicts(jobs: &[(PublicKey, &[u8], Signature)]) -> Vec<bool> {
	if let [(key, message, signature)] = jobs {
		return vec![verify_one(key, message, signature)];
	}
	let transcripts =
		jobs.iter().map(|(_, message, _)| signing_context(b"substrate").bytes(message));
	let signatures: Vec<Signature> = jobs.iter().map(|(_, _, signature)| *signature).collect();
	let keys: Vec<PublicKey> = jobs.iter().map(|(key, _, _)| *key).collect();
	if schnorrkel::verify_batch(transcripts, &signatures, &keys, false).is_ok() {
		return vec![true; jobs.len()];
	}
	jobs.iter()
		.map(|(key, message, signature)| verify_one(key, message, signature))
		.collect()
}

impl BatchVerifier {
	/// A verifier with its thread started; the thread ends when the verifier is dropped.
	pub fn start() -> std::io::Result<Self> {
		let (jobs, queue) = mpsc::channel::<Job>();
		std::thread::Builder::new().name("voucher-verify".into()).spawn(move || {
			while let Ok(first) = queue.recv() {
				let mut batch = vec![first];
				while batch.len() < MAX_BATCH {
					match queue.try_recv() {
						Ok(job) => batch.push(job),
						Err(_) => break,
					}
				}
				let parts: Vec<(PublicKey, &[u8], Signature)> = batch
					.iter()
					.map(|job| (job.key, job.message.as_slice(), job.signature))
					.collect();
				let verdicts = verdicts(&parts);
				for (job, verdict) in batch.into_iter().zip(verdicts) {
					let _ = job.verdict.send(verdict);
				}
			}
		})?;
		Ok(Self { jobs })
	}

	/// Whether `signature` (schnorrkel's 64 bytes) is `key`'s sr25519 signature over
	/// `message`, verified with the signatures queued at the same time.
	pub async fn verify(&self, key: &PublicKey, message: &[u8], signature: &[u8; 64]) -> bool {
		let Ok(signature) = Signature::from_bytes(signature) else { return false };
		let (verdict, answer) = oneshot::channel();
		let job = Job { key: *key, message: message.to_vec(), signature, verdict };
		if self.jobs.send(job).is_err() {
			return false;
		}
		answer.await.unwrap_or(false)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::signing::NodeKey;

	/// `n` signatures of messages by 3 keys, and their parts.
	fn signed(n: usize) -> (Vec<PublicKey>, Vec<Vec<u8>>, Vec<[u8; 64]>) {
		let keys: Vec<NodeKey> = (0..3u8).map(|i| NodeKey::from_seed(&[i + 1; 32])).collect();
		let messages: Vec<Vec<u8>> = (0..n).map(|i| format!("voucher {i}").into_bytes()).collect();
		let signatures = messages.iter().enumerate().map(|(i, m)| keys[i % 3].sign(m)).collect();
		let publics =
			(0..n).map(|i| PublicKey::from_bytes(&keys[i % 3].public()).unwrap()).collect();
		(publics, messages, signatures)
	}

	fn parts<'a>(
		keys: &[PublicKey],
		messages: &'a [Vec<u8>],
		signatures: &[[u8; 64]],
	) -> Vec<(PublicKey, &'a [u8], Signature)> {
		(0..keys.len())
			.map(|i| {
				(keys[i], messages[i].as_slice(), Signature::from_bytes(&signatures[i]).unwrap())
			})
			.collect()
	}

	#[test]
	fn a_batch_of_good_signatures_passes_and_each_bad_one_fails_alone() {
		for n in [1, 2, 5, 16] {
			let (keys, messages, signatures) = signed(n);
			assert_eq!(verdicts(&parts(&keys, &messages, &signatures)), vec![true; n]);
			// Another message, another key, another's signature: only that one fails.
			for bad in 0..3 {
				let (mut keys, mut messages, mut signatures) =
					(keys.clone(), messages.clone(), signatures.clone());
				let i = n / 2;
				match bad {
					0 => messages[i] = b"another message".to_vec(),
					1 => {
						keys[i] =
							PublicKey::from_bytes(&NodeKey::from_seed(&[9; 32]).public()).unwrap()
					},
					_ => signatures[i] = NodeKey::from_seed(&[9; 32]).sign(&messages[i]),
				}
				let expected: Vec<bool> = (0..n).map(|j| j != i).collect();
				assert_eq!(
					verdicts(&parts(&keys, &messages, &signatures)),
					expected,
					"n {n}, bad {bad}"
				);
			}
		}
	}

	#[test]
	fn concurrent_callers_each_get_the_verdict_on_their_own_signature() {
		let runtime = tokio::runtime::Runtime::new().unwrap();
		let verifier = std::sync::Arc::new(BatchVerifier::start().unwrap());
		let (keys, messages, mut signatures) = signed(48);
		// Every third signature is another message's.
		for i in (0..48).step_by(3) {
			signatures[i] = signatures[(i + 1) % 48];
		}
		let calls: Vec<_> = (0..48)
			.map(|i| {
				let (verifier, key, message, signature) =
					(verifier.clone(), keys[i], messages[i].clone(), signatures[i]);
				runtime.spawn(async move { verifier.verify(&key, &message, &signature).await })
			})
			.collect();
		let verdicts: Vec<bool> =
			calls.into_iter().map(|call| runtime.block_on(call).unwrap()).collect();
		let expected: Vec<bool> = (0..48).map(|i| i % 3 != 0).collect();
		assert_eq!(verdicts, expected);
		// Bytes that are no signature at all.
		assert!(!runtime.block_on(verifier.verify(&keys[0], &messages[0], &[0xff; 64])));
	}
}
