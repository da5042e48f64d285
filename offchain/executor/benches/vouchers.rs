//! What a paid direct call's cryptography costs on one core: the evidence's sr25519
//! signature (`NodeKey::sign`), the voucher's verification from the account's bytes
//! (`signing::verify`) and with the client's key decompressed once (`signing::verify_with`),
//! and the gateway's batch verification of n vouchers (`batch_verify::verdicts`, per
//! voucher), in one run.
//!
//! `cargo bench --bench vouchers` in `offchain/executor`; best of `OPG_BENCH_REPS` rounds
//! (9) of 2,000 operations.

use opg_executor::{
	batch_verify,
	signing::{self, NodeKey},
};
use schnorrkel::{PublicKey, Signature};
use std::time::Instant;

const OPS: usize = 2_000;

/// Microseconds per operation: the best of `reps` rounds of `OPS` (`step(i)` is one).
fn per_op(reps: usize, mut step: impl FnMut(usize)) -> f64 {
	(0..reps)
		.map(|_| {
			let start = Instant::now();
			for i in 0..OPS {
				step(i);
			}
			start.elapsed().as_secs_f64() * 1e6 / OPS as f64
		})
		.fold(f64::INFINITY, f64::min)
}

fn main() {
	let reps: usize =
		std::env::var("OPG_BENCH_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(9);
	// Messages as long as a voucher's (`opg_settlement::message::voucher`).
	let clients: Vec<NodeKey> = (0..16u8).map(|i| NodeKey::from_seed(&[i + 1; 32])).collect();
	let messages: Vec<Vec<u8>> = (0..OPS).map(|i| format!("{i:0>96}").into_bytes()).collect();
	let signatures: Vec<[u8; 64]> =
		messages.iter().enumerate().map(|(i, m)| clients[i % 16].sign(m)).collect();
	let accounts: Vec<[u8; 32]> = clients.iter().map(NodeKey::public).collect();
	let keys: Vec<PublicKey> = accounts.iter().map(|a| PublicKey::from_bytes(a).unwrap()).collect();
	let node = NodeKey::from_seed(&[99; 32]);

	println!("| operation | µs each |");
	println!("|---|---|");
	let sign = per_op(reps, |i| {
		std::hint::black_box(node.sign(&messages[i]));
	});
	println!("| evidence signature (`NodeKey::sign`) | {sign:.1} |");
	let verify = per_op(reps, |i| {
		assert!(signing::verify(&accounts[i % 16], &messages[i], &signatures[i]));
	});
	println!("| voucher verification from the account (`signing::verify`) | {verify:.1} |");
	let kept = per_op(reps, |i| {
		assert!(signing::verify_with(&keys[i % 16], &messages[i], &signatures[i]));
	});
	println!("| voucher verification, key kept (`signing::verify_with`) | {kept:.1} |");
	let parsed: Vec<Signature> =
		signatures.iter().map(|s| Signature::from_bytes(s).unwrap()).collect();
	for n in [2, 4, 8, 16] {
		let batch = per_op(reps, |i| {
			if i % n == 0 && i + n <= OPS {
				let jobs: Vec<(PublicKey, &[u8], Signature)> =
					(i..i + n).map(|j| (keys[j % 16], messages[j].as_slice(), parsed[j])).collect();
				assert!(batch_verify::verdicts(&jobs).iter().all(|ok| *ok));
			}
		});
		println!("| batch of {n} vouchers (`batch_verify::verdicts`), per voucher | {batch:.1} |");
	}
}
