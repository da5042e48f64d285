//! A result's paths through the game, with every token they move.

use super::*;
use crate::{Assignments, CaseOf, Event, Parameters, Slashed};
use opg_verification::{ModeParams, Outcome, Params, BILLION};
use polkadot_sdk::frame_support::traits::fungible::{Inspect, InspectHold};

fn set(params: Params) {
	Parameters::<Test>::put(params);
}

fn always_sampled() {
	set(Params { sample_rate: BILLION, ..Params::DEV });
}

fn never_sampled() {
	set(Params { sample_rate: 0, ..Params::DEV });
}

fn challenge_bond_held() -> Balance {
	Balances::balance_on_hold(&crate::HoldReason::ChallengeBond.into(), &CHALLENGER)
}

#[test]
fn a_result_neither_sampled_nor_challenged_is_left_to_settlement() {
	check(|| {
		never_sampled();
		hold_result(7, node(1));
		run_to(30);
		assert!(CaseOf::<Test>::get(7).is_none());
		assert!(!held(7).disputed);
		assert_eq!(held(7).ended, None);
	});
}

#[test]
fn each_mode_is_sampled_at_its_own_rate_and_held_for_its_own_window() {
	check(|| {
		use opg_primitives::{ResultChecks, VerificationMode};
		set(Params { sample_rate: 0, challenge_window: 30, ..Params::DEV });
		assert_eq!(Verification::challenge_window(VerificationMode::Tee), 30, "none of its own");
		let tee = ModeParams { challenge_window: 12, sample_rate: BILLION };
		assert_ok!(Verification::set_mode_params(
			RuntimeOrigin::root(),
			VerificationMode::Tee,
			Some(tee)
		));
		assert!(events()
			.contains(&Event::ModeParamsSet { mode: VerificationMode::Tee, params: Some(tee) }));
		assert_eq!(Verification::challenge_window(VerificationMode::Vanilla), 30);
		assert_eq!(Verification::challenge_window(VerificationMode::Tee), 12);
		assert_eq!(Verification::challenge_window(VerificationMode::Zkml), 0);
		hold_result(7, node(1));
		hold_tee_result(8, node(1));
		run_to(3);
		assert!(CaseOf::<Test>::get(7).is_none(), "vanilla results: never sampled");
		assert!(CaseOf::<Test>::get(8).is_some(), "TEE results: always sampled");
		// Back to the game's parameters.
		assert_ok!(Verification::set_mode_params(
			RuntimeOrigin::root(),
			VerificationMode::Tee,
			None
		));
		assert_eq!(Verification::challenge_window(VerificationMode::Tee), 30);
		hold_tee_result(9, node(1));
		run_to(6);
		assert!(CaseOf::<Test>::get(9).is_none(), "sampled at the game's rate again: never");
	});
}

#[test]
fn a_sampled_result_is_checked_by_other_operators_and_upheld_by_agreement() {
	check(|| {
		always_sampled();
		hold_result(7, node(1));
		run_to(2);
		assert!(CaseOf::<Test>::get(7).is_none(), "drawn with a later block's randomness");
		run_to(3);
		let case = CaseOf::<Test>::get(7).expect("sampled");
		assert!(held(7).disputed);
		let seats = committee(case);
		assert_eq!(seats.len(), 3);
		assert!(!seats.contains(&1), "never the checked node");
		assert!(!(seats.contains(&15) && seats.contains(&16)), "one seat per operator");
		for n in &seats {
			assert_eq!(Verification::assignments(&node(*n)), vec![case]);
		}
		let operator_before = Balances::balance(&1);
		vote(case, Verdict::Valid);
		assert_eq!(held(7).ended, Some(true));
		assert_eq!(Balances::balance(&1), operator_before + 1_000);
		assert!(events().contains(&Event::CaseResolved {
			case,
			result: 7,
			outcome: Outcome::Upheld,
			slashed: 0,
			penalties: 0
		}));
		assert_eq!(Assignments::<Test>::iter().count(), 0);
	});
}

#[test]
fn a_challenged_wrong_result_is_overturned_the_node_slashed_and_the_challenger_paid() {
	check(|| {
		never_sampled();
		hold_result(7, node(1));
		let before = Balances::total_issuance();
		assert_ok!(Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7));
		let bond = Params::DEV.challenge_bond;
		assert_eq!(challenge_bond_held(), bond);
		assert!(held(7).disputed, "its window cannot lapse while challenged");
		run_to(2);
		let case = CaseOf::<Test>::get(7).unwrap();
		vote(case, Verdict::Invalid);
		// A dispute: the two operators left form the next committee.
		let second = committee(case);
		assert_eq!(second.len(), 2);
		vote(case, Verdict::Invalid);
		assert_eq!(held(7).ended, Some(false), "the client is refunded");
		assert_eq!(challenge_bond_held(), 0);
		// 10 % of the node's 10⁶ bond: half to the challenger, half shared by the five right.
		assert_eq!(Balances::balance(&vault(&node(1))), 900_000);
		assert_eq!(Balances::balance(&CHALLENGER), START + 50_000);
		let verifier_gains: Balance = (11..=16)
			.map(|n| Balances::balance(&(number(&node(n)) as u64)).saturating_sub(START))
			.sum();
		assert_eq!(verifier_gains, 50_000);
		assert_eq!(Slashed::<Test>::get(node(1)).amount, 100_000);
		assert_eq!(Balances::total_issuance(), before, "nothing is created");
	});
}

#[test]
fn a_false_challenge_costs_the_challenger_its_bond_to_the_node() {
	check(|| {
		never_sampled();
		hold_result(7, node(1));
		let operator_before = Balances::balance(&1);
		assert_ok!(Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7));
		run_to(2);
		vote(CaseOf::<Test>::get(7).unwrap(), Verdict::Valid);
		let bond = Params::DEV.challenge_bond;
		assert_eq!(Balances::balance(&CHALLENGER), START - bond);
		assert_eq!(Balances::balance(&1), operator_before + 1_000 + bond);
		assert_eq!(challenge_bond_held(), 0);
	});
}

#[test]
fn silent_committees_escalate_to_governance_and_pay_penalties_then_the_case_ends_undecided() {
	check(|| {
		always_sampled();
		hold_result(7, node(1));
		run_to(3);
		let case = CaseOf::<Test>::get(7).unwrap();
		let first = committee(case);
		// Nobody commits: the commit period ends, a new committee of the two operators left.
		run_to(3 + 10 + 1);
		let second = committee(case);
		assert_eq!(second.len(), 2);
		assert!(second.iter().all(|n| !first.contains(n)));
		// Silent again: no operator left to draw, governance decides.
		run_to(3 + 10 + 1 + 10 + 1);
		let record = Cases::<Test>::get(case).unwrap();
		assert!(matches!(record.game.phase, opg_verification::Phase::Governance { .. }));
		let treasury_before = Balances::balance(&TreasuryAccount::get());
		run_to(record.game.deadline().unwrap() + 1);
		assert_eq!(Cases::<Test>::get(case).unwrap().game.outcome(), Some(Outcome::Undecided));
		assert_eq!(held(7).ended, Some(false));
		// Five silent verifiers lost the no-reveal penalty (capped by their 10⁶ bonds).
		let penalty = Params::DEV.no_reveal_penalty.min(1_000_000);
		assert_eq!(Balances::balance(&TreasuryAccount::get()), treasury_before + 5 * penalty);
		assert_eq!(Balances::balance(&vault(&node(1))), 1_000_000, "nobody decided: no slash");
	});
}

#[test]
fn governance_decides_a_case_no_committee_could() {
	check(|| {
		never_sampled();
		// No verifier serves model 1: the case goes to governance at once.
		for n in 11..=16 {
			add_node(n, u64::from(n), 1_000_000, vec![]);
		}
		hold_result(7, node(1));
		assert_ok!(Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7));
		run_to(2);
		let case = CaseOf::<Test>::get(7).unwrap();
		assert!(committee(case).is_empty());
		assert_eq!(
			Verification::decide(RuntimeOrigin::signed(1), case, Outcome::Overturned),
			Err(polkadot_sdk::sp_runtime::DispatchError::BadOrigin)
		);
		assert_eq!(
			Verification::decide(RuntimeOrigin::root(), case, Outcome::Undecided),
			Err(crate::Error::<Test>::InvalidOutcome.into())
		);
		assert_ok!(Verification::decide(RuntimeOrigin::root(), case, Outcome::Overturned));
		assert_eq!(held(7).ended, Some(false));
		// No verifier was right: the challenger gets half, the treasury the rest.
		assert_eq!(Balances::balance(&CHALLENGER), START + 50_000);
		assert_eq!(Balances::balance(&vault(&node(1))), 900_000);
	});
}

#[test]
fn the_daily_cap_bounds_what_one_node_loses_in_a_day() {
	check(|| {
		never_sampled();
		set(Params { daily_slash_cap: 150_000, ..Params::DEV });
		for id in [7, 8] {
			hold_result(id, node(1));
			assert_ok!(Verification::challenge(RuntimeOrigin::signed(CHALLENGER), id));
		}
		run_to(2);
		for id in [7, 8] {
			let case = CaseOf::<Test>::get(id).unwrap();
			vote(case, Verdict::Invalid);
			vote(case, Verdict::Invalid);
		}
		// 100,000 for the first, what is left of 150,000 for the second.
		assert_eq!(Balances::balance(&vault(&node(1))), 850_000);
		assert_eq!(Slashed::<Test>::get(node(1)).amount, 150_000);
	});
}

#[test]
fn a_sampled_result_no_verifier_can_check_is_left_to_its_window() {
	check(|| {
		always_sampled();
		for n in 11..=16 {
			add_node(n, u64::from(n), 1_000_000, vec![]);
		}
		hold_result(7, node(1));
		run_to(30);
		assert!(CaseOf::<Test>::get(7).is_none());
		assert!(!held(7).disputed, "its node is paid when its window ends");
	});
}

#[test]
fn the_surcharge_pays_the_verifiers_that_were_right() {
	check(|| {
		always_sampled();
		hold_surcharged_result(7, node(1), 1_001);
		run_to(3);
		let case = CaseOf::<Test>::get(7).unwrap();
		let seats = committee(case);
		let operator = |n: &u8| {
			<MockNodes as opg_primitives::VerifierNodes<_, _>>::operator(&node(*n)).unwrap()
		};
		let before: Vec<Balance> = seats.iter().map(|n| Balances::balance(&operator(n))).collect();
		let treasury_before = Balances::balance(&TreasuryAccount::get());
		vote(case, Verdict::Valid);
		// 1,001 shared by three: 333 each, the remainder to the treasury.
		for (n, before) in seats.iter().zip(before) {
			assert_eq!(Balances::balance(&operator(n)), before + 333);
		}
		assert_eq!(Balances::balance(&TreasuryAccount::get()), treasury_before + 2);
		assert_eq!(held(7).result.surcharge, 0);
	});
}

#[test]
fn only_a_verifier_seated_on_its_case_may_read_what_checking_a_result_takes() {
	new_test_ext().execute_with(|| {
		hold_result(7, node(1));
		hold_result(8, node(1));
		assert_eq!(Verification::verifier_reads(&node(11), 7), None, "no case yet");
		assert_ok!(Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7));
		run_to(2);
		let case = CaseOf::<Test>::get(7).unwrap();
		let seated = committee(case);
		let reads = Verification::verifier_reads(&node(seated[0]), 7).expect("a seat");
		assert_eq!(reads.output, opg_settlement::sha256(CLAIMED_OUTPUT));
		assert_eq!(reads.input, None, "the mock's input is kept on chain");
		let input = opg_settlement::sha256(b"a private input");
		set_to_check(
			7,
			opg_primitives::ToCheck {
				model_hash: MODEL_HASH,
				input: opg_primitives::CheckInput::Stored { hash: input, locator: Vec::new() },
				output_hash: opg_settlement::sha256(CLAIMED_OUTPUT),
				output: None,
			},
		);
		for n in &seated {
			assert_eq!(Verification::verifier_reads(&node(*n), 7).unwrap().input, Some(input));
		}
		let unseated = (11..=16).find(|n| !seated.contains(n)).unwrap();
		assert_eq!(Verification::verifier_reads(&node(unseated), 7), None, "not seated");
		assert_eq!(Verification::verifier_reads(&node(1), 7), None, "the node itself");
		assert_eq!(Verification::verifier_reads(&node(seated[0]), 8), None, "another result");
		vote(case, Verdict::Valid);
		let ended = (3..60).find(|block| {
			run_to(*block);
			Verification::verifier_reads(&node(seated[0]), 7).is_none()
		});
		assert!(ended.is_some(), "a case that ended opens nothing");
		assert!(Assignments::<Test>::iter_key_prefix(node(seated[0])).next().is_none());
	});
}
