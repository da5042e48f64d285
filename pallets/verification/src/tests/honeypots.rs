//! Honeypots: a planted result shown as such once its committee has committed catches
//! the verifiers that signed it valid; both the planted node's key and the honeypot
//! authority's must sign, and never while a seat can still choose its verdict.

// The pool's check is `ValidateUnsigned`'s until the pallet moves to `#[pallet::authorize]`.
#![allow(deprecated)]

use super::*;
use crate::{CaseOf, Error, Event, HoneypotAuthority, Parameters, ProofsDue};
use opg_verification::{Outcome, Params, Phase, BILLION};
use polkadot_sdk::{
	frame_support::{assert_noop, traits::fungible::Inspect},
	sp_runtime::{
		traits::ValidateUnsigned,
		transaction_validity::{InvalidTransaction, TransactionSource},
		DispatchError,
	},
};

/// The honeypot authority's key pair (no node's).
fn authority() -> sr25519::Pair {
	sr25519::Pair::from_seed(&[99; 32])
}

/// The signatures of an exposure of `case` (checking `request`) by `node` and `authority`.
fn signed(
	case: CaseId,
	request: u64,
	node: &sr25519::Pair,
	authority: &sr25519::Pair,
) -> (sr25519::Signature, sr25519::Signature) {
	let message = message::honeypot(&GENESIS, case, request);
	(node.sign(&message), authority.sign(&message))
}

fn expose(case: CaseId, signatures: (sr25519::Signature, sr25519::Signature)) -> DispatchResult {
	Verification::expose(RuntimeOrigin::none(), case, signatures.0, signatures.1)
}

type DispatchResult = polkadot_sdk::frame_support::dispatch::DispatchResult;

/// Penalties small enough to see beside the verifiers' 10⁶ bonds; every result sampled.
fn params() -> Params {
	Params {
		sample_rate: BILLION,
		no_reveal_penalty: 1_000,
		wrong_verdict_penalty: 5_000,
		..Params::DEV
	}
}

/// A planted result of node 1, sampled: its case, its committee.
fn planted_case() -> (CaseId, Vec<u8>) {
	Parameters::<Test>::put(params());
	assert_ok!(Verification::set_honeypot_authority(
		RuntimeOrigin::root(),
		Some(authority().public())
	));
	hold_surcharged_result(7, node(1), 300);
	run_to(3);
	let case = CaseOf::<Test>::get(7).expect("sampled");
	(case, committee(case))
}

fn commit(case: CaseId, n: u8, verdict: Verdict) {
	let (hash, signature) = signed_commit(case, n, verdict);
	assert_ok!(Verification::commit(RuntimeOrigin::none(), case, node(n), hash, signature));
}

fn reveal(case: CaseId, n: u8, verdict: Verdict) {
	assert_ok!(Verification::reveal(
		RuntimeOrigin::none(),
		case,
		node(n),
		verdict,
		salt(n),
		signed_reveal(case, n, verdict)
	));
}

fn bond(n: u8) -> Balance {
	Balances::balance(&vault(&node(n)))
}

#[test]
fn a_planted_result_shown_after_its_committee_committed_catches_the_verifiers_that_said_valid() {
	check(|| {
		let (case, seats) = planted_case();
		let (lazy, honest, hider) = (seats[0], seats[1], seats[2]);
		let issuance = Balances::total_issuance();
		let honest_operator = u64::from(honest);
		let honest_before = Balances::balance(&honest_operator);
		commit(case, lazy, Verdict::Valid);
		commit(case, honest, Verdict::Invalid);
		// A seat still to commit would learn what to say.
		assert_noop!(
			expose(case, signed(case, 7, &pair(1), &authority())),
			Error::<Test>::WrongPhase
		);
		commit(case, hider, Verdict::Valid);

		assert_ok!(expose(case, signed(case, 7, &pair(1), &authority())));
		assert!(events().contains(&Event::HoneypotExposed { case, result: 7 }));
		reveal(case, lazy, Verdict::Valid);
		reveal(case, honest, Verdict::Invalid);
		// The third hides the "valid" it committed to; the reveal period ends.
		let deadline = Cases::<Test>::get(case).unwrap().game.deadline().unwrap();
		run_to(deadline + 1);

		let record = Cases::<Test>::get(case).unwrap();
		assert_eq!(record.game.outcome(), Some(Outcome::Overturned));
		assert!(record.game.honeypot);
		assert_eq!(held(7).ended, Some(false), "the planted request's client is refunded");
		assert_eq!(bond(1), 1_000_000, "the planted node is not slashed");
		assert_eq!(bond(lazy), 1_000_000 - 5_000);
		assert_eq!(bond(hider), 1_000_000 - 5_000, "hiding a committed verdict is no cheaper");
		assert_eq!(bond(honest), 1_000_000);
		assert_eq!(Balances::balance(&honest_operator), honest_before + 300, "the surcharge");
		assert_eq!(Balances::total_issuance(), issuance, "nothing is created");
	});
}

#[test]
fn a_planted_result_awaiting_its_proof_ends_overturned_when_shown() {
	check(|| {
		Parameters::<Test>::put(params());
		HoneypotAuthority::<Test>::put(authority().public());
		hold_provable_result(7, node(1));
		run_to(3);
		let case = CaseOf::<Test>::get(7).unwrap();
		vote(case, Verdict::Invalid);
		assert!(matches!(Cases::<Test>::get(case).unwrap().game.phase, Phase::Proof { .. }));
		assert!(ProofsDue::<Test>::contains_key(node(1), case));
		assert_ok!(expose(case, signed(case, 7, &pair(1), &authority())));
		assert_eq!(Cases::<Test>::get(case).unwrap().game.outcome(), Some(Outcome::Overturned));
		assert!(!ProofsDue::<Test>::contains_key(node(1), case));
		assert_eq!(held(7).ended, Some(false));
		assert_eq!(bond(1), 1_000_000);
	});
}

#[test]
fn a_case_is_shown_a_honeypot_only_with_both_keys_and_only_once() {
	check(|| {
		Parameters::<Test>::put(params());
		hold_result(7, node(1));
		run_to(3);
		let case = CaseOf::<Test>::get(7).unwrap();
		let seats = committee(case);
		for n in &seats {
			commit(case, *n, Verdict::Valid);
		}
		let both = signed(case, 7, &pair(1), &authority());
		assert_noop!(expose(case, both), Error::<Test>::NoHoneypotAuthority);
		assert_noop!(
			Verification::set_honeypot_authority(
				RuntimeOrigin::signed(1),
				Some(authority().public())
			),
			DispatchError::BadOrigin
		);
		assert_ok!(Verification::set_honeypot_authority(
			RuntimeOrigin::root(),
			Some(authority().public())
		));
		assert_eq!(HoneypotAuthority::<Test>::get(), Some(authority().public()));
		// The authority alone cannot brand another node's result: the node must sign too.
		assert_noop!(
			expose(case, signed(case, 7, &pair(2), &authority())),
			Error::<Test>::BadSignature
		);
		// Nor can a node alone dodge its slash.
		assert_noop!(
			expose(case, signed(case, 7, &pair(1), &pair(1))),
			Error::<Test>::BadSignature
		);
		// Signatures of another case, request or chain are refused.
		assert_noop!(
			expose(case, signed(case + 1, 7, &pair(1), &authority())),
			Error::<Test>::BadSignature
		);
		assert_noop!(
			expose(case, signed(case, 8, &pair(1), &authority())),
			Error::<Test>::BadSignature
		);
		assert_noop!(
			expose(case + 1, signed(case + 1, 7, &pair(1), &authority())),
			Error::<Test>::UnknownCase
		);
		assert_noop!(
			Verification::expose(RuntimeOrigin::signed(1), case, both.0, both.1),
			DispatchError::BadOrigin
		);
		assert_ok!(expose(case, both));
		assert_noop!(expose(case, both), Error::<Test>::AlreadyExposed);
		// Governance switches honeypots off.
		assert_ok!(Verification::set_honeypot_authority(RuntimeOrigin::root(), None));
		assert!(events().contains(&Event::HoneypotAuthoritySet { key: None }));
	});
}

#[test]
fn the_pool_takes_an_exposure_before_the_verdicts_of_its_block_and_refuses_a_bad_one() {
	check(|| {
		let (case, seats) = planted_case();
		for n in &seats {
			commit(case, *n, Verdict::Valid);
		}
		let validate = |call: &crate::Call<Test>| {
			<crate::Pallet<Test> as ValidateUnsigned>::validate_unsigned(
				TransactionSource::External,
				call,
			)
		};
		let (node_signature, authority_signature) = signed(case, 7, &pair(1), &authority());
		let exposure = crate::Call::expose { case, node_signature, authority_signature };
		let n = seats[0];
		let reveal = crate::Call::reveal {
			case,
			verifier: node(n),
			verdict: Verdict::Valid,
			salt: salt(n),
			signature: signed_reveal(case, n, Verdict::Valid),
		};
		let exposed = validate(&exposure).expect("valid");
		let revealed = validate(&reveal).expect("valid");
		assert!(exposed.priority > revealed.priority);
		let forged =
			crate::Call::expose { case, node_signature: authority_signature, authority_signature };
		assert_eq!(validate(&forged), Err(InvalidTransaction::BadProof.into()));
		assert_ok!(expose(case, (node_signature, authority_signature)));
		assert_eq!(validate(&exposure), Err(InvalidTransaction::Stale.into()));
	});
}
