//! The pallet's tests, by concern; helpers shared here.

mod cases;
mod hardware;
mod honeypots;
mod offchain;
mod properties;
mod referee;
mod refusals;

use crate::{mock::*, CaseId, Cases};
use opg_primitives::NodeKey;
use opg_settlement::message;
use opg_verification::{commitment, Verdict};
use polkadot_sdk::{
	frame_support::assert_ok,
	frame_system,
	sp_core::{sr25519, Pair},
};

/// The salt node `n` uses.
pub fn salt(n: u8) -> [u8; 32] {
	[n.wrapping_add(50); 32]
}

/// Node `n`'s commitment to `verdict` on `case`, and its signature of it.
pub fn signed_commit(case: CaseId, n: u8, verdict: Verdict) -> ([u8; 32], sr25519::Signature) {
	let hash = commitment(case, &node(n), verdict, &salt(n));
	(hash, pair(n).sign(&message::verdict_commit(&GENESIS, case, &hash)))
}

/// Node `n`'s signature of its reveal.
pub fn signed_reveal(case: CaseId, n: u8, verdict: Verdict) -> sr25519::Signature {
	pair(n).sign(&message::verdict_reveal(&GENESIS, case, verdict.byte(), &salt(n)))
}

/// The node number of a key (nodes 1–30).
pub fn number(key: &NodeKey) -> u8 {
	(1..=30).find(|n| node(*n) == *key).expect("a mock node")
}

/// The node numbers of a case's current committee.
pub fn committee(case: CaseId) -> Vec<u8> {
	let record = Cases::<Test>::get(case).expect("a case");
	record.game.current().map(|seat| number(&seat.verifier)).collect()
}

/// Every seat of the current round commits to `verdict`, then reveals it.
pub fn vote(case: CaseId, verdict: Verdict) {
	let seats = committee(case);
	for n in &seats {
		let (hash, signature) = signed_commit(case, *n, verdict);
		assert_ok!(Verification::commit(RuntimeOrigin::none(), case, node(*n), hash, signature));
	}
	for n in &seats {
		assert_ok!(Verification::reveal(
			RuntimeOrigin::none(),
			case,
			node(*n),
			verdict,
			salt(*n),
			signed_reveal(case, *n, verdict)
		));
	}
}

/// The pallet's events so far.
pub fn events() -> Vec<crate::Event<Test>> {
	frame_system::Pallet::<Test>::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Verification(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// Runs `test` on a fresh chain, then checks the pallet's invariants.
pub fn check(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		crate::Pallet::<Test>::do_try_state().unwrap();
	});
}
