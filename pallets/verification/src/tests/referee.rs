//! Disputes of results their node can prove (quantized models with a verifying key): the
//! Groth16 proof referees, not committees.

#![allow(deprecated)]

use super::*;
use crate::{CaseOf, Error, Event, Parameters, ProofsDue, StepKind};
use opg_verification::{Outcome, Params, Phase};
use polkadot_sdk::frame_support::{
	assert_noop,
	pallet_prelude::{TransactionSource, ValidateUnsigned},
	traits::fungible::Inspect,
	BoundedVec,
};

fn prove(case: CaseId, output: &[u8], proof: &[u8]) -> polkadot_sdk::sp_runtime::DispatchResult {
	Verification::prove(
		RuntimeOrigin::none(),
		case,
		BoundedVec::truncate_from(output.to_vec()),
		BoundedVec::truncate_from(proof.to_vec()),
	)
}

/// Result 7 of node 1, provable, challenged and found wrong by its committee.
fn disputed() -> CaseId {
	Parameters::<Test>::put(Params { sample_rate: 0, ..Params::DEV });
	hold_provable_result(7, node(1));
	assert_ok!(Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7));
	run_to(2);
	let case = CaseOf::<Test>::get(7).unwrap();
	assert_noop!(prove(case, CLAIMED_OUTPUT, &VALID_PROOF), Error::<Test>::WrongPhase);
	vote(case, Verdict::Invalid);
	assert!(events().contains(&Event::Advanced {
		case,
		step: StepKind::AwaitingProof,
		committee: vec![]
	}));
	assert!(ProofsDue::<Test>::contains_key(node(1), case), "the node's worker owes it");
	case
}

#[test]
fn a_node_that_proves_its_disputed_result_is_paid_and_the_verifiers_that_lied_pay() {
	check(|| {
		let case = disputed();
		let treasury_before = Balances::balance(&TreasuryAccount::get());
		assert_ok!(prove(case, CLAIMED_OUTPUT, &VALID_PROOF));
		assert!(events().contains(&Event::ProofAccepted { case }));
		assert_eq!(held(7).ended, Some(true), "paid to its node");
		assert_eq!(Cases::<Test>::get(case).unwrap().game.outcome(), Some(Outcome::Upheld));
		assert!(!ProofsDue::<Test>::contains_key(node(1), case));
		// Three wrong verdicts, each the wrong-verdict penalty (capped by the 10⁶ bonds).
		let penalty = Params::DEV.wrong_verdict_penalty.min(1_000_000);
		assert_eq!(Balances::balance(&TreasuryAccount::get()), treasury_before + 3 * penalty);
		assert_eq!(Balances::balance(&vault(&node(1))), 1_000_000, "not slashed");
		assert_noop!(prove(case, CLAIMED_OUTPUT, &VALID_PROOF), Error::<Test>::WrongPhase);
	});
}

#[test]
fn a_disputed_result_not_proven_by_its_deadline_is_overturned_and_its_node_slashed() {
	check(|| {
		let case = disputed();
		let Phase::Proof { until } = Cases::<Test>::get(case).unwrap().game.phase else {
			panic!("awaiting the proof")
		};
		run_to(until);
		assert_eq!(held(7).ended, None, "the last block still takes the proof");
		run_to(until + 1);
		assert_eq!(held(7).ended, Some(false), "the client is refunded");
		assert_eq!(Balances::balance(&vault(&node(1))), 900_000);
		assert!(!ProofsDue::<Test>::contains_key(node(1), case));
		crate::Pallet::<Test>::do_try_state().unwrap();
	});
}

#[test]
fn only_a_proof_of_the_claimed_output_is_taken_by_the_pool_or_dispatch() {
	check(|| {
		let case = disputed();
		let valid = |output: &[u8], proof: &[u8]| {
			Verification::validate_unsigned(
				TransactionSource::External,
				&crate::Call::prove {
					case,
					output: BoundedVec::truncate_from(output.to_vec()),
					proof: BoundedVec::truncate_from(proof.to_vec()),
				},
			)
		};
		assert!(valid(b"another output", &VALID_PROOF).is_err());
		assert!(valid(CLAIMED_OUTPUT, &[8; 128]).is_err());
		assert!(valid(CLAIMED_OUTPUT, &VALID_PROOF).is_ok());
		assert_noop!(prove(case, b"another output", &VALID_PROOF), Error::<Test>::ProofRejected);
		assert_noop!(prove(case, CLAIMED_OUTPUT, &[8; 128]), Error::<Test>::ProofRejected);
		assert_noop!(prove(case + 1, CLAIMED_OUTPUT, &VALID_PROOF), Error::<Test>::UnknownCase);
	});
}

#[test]
fn a_result_its_node_cannot_prove_goes_to_committees() {
	check(|| {
		Parameters::<Test>::put(Params { sample_rate: 0, ..Params::DEV });
		hold_result(7, node(1));
		assert_ok!(Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7));
		run_to(2);
		let case = CaseOf::<Test>::get(7).unwrap();
		vote(case, Verdict::Invalid);
		assert_eq!(committee(case).len(), 2, "escalated to the operators left");
		assert_eq!(ProofsDue::<Test>::iter().count(), 0);
	});
}
