//! The game's paths, one scenario each.

mod common;
use common::*;
use opg_verification::*;

const V: Option<Verdict> = Some(Verdict::Valid);
const X: Option<Verdict> = Some(Verdict::Invalid);

fn open(referee: Referee, bond: u128) -> Case<u8> {
	Case::open(1, 100, params(), referee, false, stakes(bond), vec![1, 2, 3]).unwrap()
}

#[test]
fn an_honest_result_checked_by_an_honest_committee_is_upheld_and_the_node_paid() {
	let mut case = open(Referee::Committee, 0);
	assert_eq!(vote(&mut case, &[V, V, V], 10), Step::Resolved(Outcome::Upheld));
	let paid = paid(&case);
	assert_eq!(paid.received(&Party::Node), 1_000);
	assert_eq!(paid.received(&Party::Client), 0);
	for v in 1..=3 {
		assert_eq!(paid.received(&Party::Verifier(v)), 16);
		assert_eq!(paid.taken(&Source::VerifierBond(v)), 0);
	}
	assert_eq!(paid.received(&Party::Treasury), 2);
	assert_eq!(paid.taken(&Source::NodeBond), 0);
}

#[test]
fn a_wrong_quantized_result_without_a_proof_is_overturned_and_the_node_slashed() {
	let mut case = open(Referee::Proof, 0);
	assert_eq!(vote(&mut case, &[X, V, X], 10), Step::AwaitingProof);
	let Phase::Proof { until } = case.phase else { panic!() };
	assert_eq!(case.advance(until, |_, _| vec![]), Step::Unchanged);
	assert_eq!(case.advance(until + 1, |_, _| vec![]), Step::Resolved(Outcome::Overturned));
	let paid = paid(&case);
	assert_eq!(paid.received(&Party::Client), 1_000);
	// 10 % of 10⁶, under both caps; no challenger: verifiers 1 and 3 share it.
	assert_eq!(paid.taken(&Source::NodeBond), 100_000);
	assert_eq!(paid.received(&Party::Verifier(1)), 25 + 50_000);
	assert_eq!(paid.received(&Party::Verifier(3)), 25 + 50_000);
	assert_eq!(paid.received(&Party::Verifier(2)), 0);
	assert_eq!(paid.taken(&Source::VerifierBond(2)), params().wrong_verdict_penalty.min(1_000_000));
}

#[test]
fn a_quantized_result_proven_in_time_is_upheld_and_its_accusers_penalized() {
	let mut case = open(Referee::Proof, 0);
	assert_eq!(vote(&mut case, &[X, V, V], 10), Step::AwaitingProof);
	let Phase::Proof { until } = case.phase else { panic!() };
	assert_eq!(case.proof_accepted(until + 1), Err(CaseError::PastDeadline));
	assert_eq!(case.proof_accepted(until), Ok(Step::Resolved(Outcome::Upheld)));
	let paid = paid(&case);
	assert_eq!(paid.received(&Party::Node), 1_000);
	assert_eq!(paid.taken(&Source::NodeBond), 0);
	assert_eq!(paid.taken(&Source::VerifierBond(1)), 1_000_000);
	assert_eq!(paid.received(&Party::Verifier(2)), 25);
}

#[test]
fn a_disputed_language_model_result_goes_to_a_larger_committee_whose_majority_decides() {
	let mut case = open(Referee::Committee, 0);
	assert_eq!(vote(&mut case, &[V, X, V], 10), Step::Escalated(1));
	assert_eq!(case.current().map(|s| s.verifier).collect::<Vec<_>>(), [10, 11, 12, 13, 14]);
	assert_eq!(vote(&mut case, &[X, X, X, V, None], 20), Step::Resolved(Outcome::Overturned));
	let paid = paid(&case);
	// Right: 2 in the first round, 10, 11 and 12 in the second.
	for v in [2, 10, 11, 12] {
		assert!(paid.received(&Party::Verifier(v)) > 0, "{v}");
	}
	for v in [1, 3, 13] {
		assert_eq!(
			paid.taken(&Source::VerifierBond(v)),
			params().wrong_verdict_penalty.min(1_000_000)
		);
	}
	assert_eq!(paid.taken(&Source::VerifierBond(14)), params().no_reveal_penalty.min(1_000_000));
}

#[test]
fn one_verifier_cannot_decide_while_the_others_are_silent() {
	let mut case = open(Referee::Committee, 0);
	assert_eq!(vote(&mut case, &[V, None, None], 10), Step::Escalated(1));
	let mut case = open(Referee::Committee, 0);
	assert_eq!(vote(&mut case, &[V, X, V], 10), Step::Escalated(1));
	assert_eq!(vote(&mut case, &[X, None, None, None, V], 20), Step::Escalated(2));
}

#[test]
fn the_last_round_without_a_majority_goes_to_governance_and_an_undecided_case_returns_everything() {
	let mut case = open(Referee::Committee, 500);
	vote(&mut case, &[X, None, None], 10);
	vote(&mut case, &[None; 5], 20);
	assert_eq!(vote(&mut case, &[V, V, X, X, None], 30), Step::AwaitingGovernance);
	let until = case.deadline().unwrap();
	assert_eq!(case.decide(until, Outcome::Undecided), Err(CaseError::InvalidOutcome));
	assert_eq!(case.advance(until + 1, |_, _| vec![]), Step::Resolved(Outcome::Undecided));
	let paid = paid(&case);
	assert_eq!(paid.received(&Party::Client), 1_000);
	assert_eq!(paid.received(&Party::Challenger), 500);
	assert_eq!(paid.taken(&Source::NodeBond), 0);
	// Undecided: whoever revealed shares the surcharge, nobody is wrong, the silent pay.
	assert_eq!(paid.taken(&Source::VerifierBond(1)), 0);
	assert_eq!(paid.taken(&Source::VerifierBond(20)), 0);
	assert!(paid.taken(&Source::VerifierBond(2)) > 0);
	assert!(paid.received(&Party::Verifier(22)) > 0);
}

#[test]
fn governance_decides_within_its_period() {
	let mut case =
		Case::<u8>::open(1, 100, params(), Referee::Committee, false, stakes(500), vec![]).unwrap();
	assert_eq!(case.phase, Phase::Governance { until: 105 });
	assert_eq!(case.decide(106, Outcome::Overturned), Err(CaseError::PastDeadline));
	assert_eq!(case.decide(105, Outcome::Overturned), Ok(Step::Resolved(Outcome::Overturned)));
	let paid = paid(&case);
	// The challenger: its bond back and half the slash, no verifier being right.
	assert_eq!(paid.received(&Party::Challenger), 500 + 50_000);
	assert_eq!(paid.received(&Party::Treasury), 50 + 50_000);
}

#[test]
fn a_false_challenger_loses_its_bond_to_the_node() {
	let mut case = open(Referee::Committee, 700);
	vote(&mut case, &[V, V, V], 10);
	let paid = paid(&case);
	assert_eq!(paid.received(&Party::Node), 1_000 + 700);
	assert_eq!(paid.received(&Party::Challenger), 0);
}

#[test]
fn a_honeypot_catches_the_verifiers_that_sign_without_checking() {
	let mut case =
		Case::open(1, 100, params(), Referee::Committee, true, stakes(0), vec![1, 2, 3]).unwrap();
	assert_eq!(vote(&mut case, &[V, X, None], 10), Step::Resolved(Outcome::Overturned));
	let paid = paid(&case);
	assert_eq!(paid.taken(&Source::VerifierBond(1)), params().wrong_verdict_penalty.min(1_000_000));
	assert_eq!(paid.taken(&Source::VerifierBond(3)), params().no_reveal_penalty.min(1_000_000));
	assert_eq!(paid.received(&Party::Verifier(2)), 50);
	// No real node behind it: nothing is slashed.
	assert_eq!(paid.taken(&Source::NodeBond), 0);
}

#[test]
fn a_honeypot_shown_once_the_committee_has_committed_catches_the_valid_verdicts() {
	let params = Params { no_reveal_penalty: 1_000, wrong_verdict_penalty: 5_000, ..params() };
	let mut case =
		Case::open(1, 100, params, Referee::Committee, false, stakes(0), vec![1, 2, 3]).unwrap();
	let Phase::Commit { until } = case.phase else { panic!() };
	case.commit(until, &1, committed(1, 1, Verdict::Valid)).unwrap();
	case.commit(until, &2, committed(1, 2, Verdict::Invalid)).unwrap();
	// Shown while a seat may still commit, it would tell that seat what to say.
	assert_eq!(case.expose(until), Err(CaseError::WrongPhase));
	assert!(!case.honeypot);
	case.commit(until, &3, committed(1, 3, Verdict::Valid)).unwrap();
	let Phase::Reveal { until } = case.phase else { panic!() };
	assert_eq!(case.expose(until), Ok(Step::Unchanged));
	assert_eq!(case.expose(until), Err(CaseError::AlreadyExposed));
	// Verifier 1 reveals its "valid"; verifier 3, having seen the honeypot, hides its own.
	case.reveal(until, &1, Verdict::Valid, &salt(1)).unwrap();
	case.reveal(until, &2, Verdict::Invalid, &salt(2)).unwrap();
	assert_eq!(case.advance(until + 1, |_, _| vec![]), Step::Resolved(Outcome::Overturned));
	let paid = paid(&case);
	assert_eq!(paid.taken(&Source::VerifierBond(1)), 5_000);
	// Hiding a committed verdict costs what revealing "valid" would have.
	assert_eq!(paid.taken(&Source::VerifierBond(3)), 5_000);
	assert_eq!(paid.taken(&Source::VerifierBond(2)), 0);
	assert_eq!(paid.received(&Party::Verifier(2)), 50);
	assert_eq!(paid.received(&Party::Client), 1_000);
	assert_eq!(paid.taken(&Source::NodeBond), 0);
}

#[test]
fn a_honeypot_awaiting_its_proof_or_governance_ends_overturned_when_shown() {
	let mut case = open(Referee::Proof, 0);
	assert_eq!(vote(&mut case, &[X, V, X], 10), Step::AwaitingProof);
	let Phase::Proof { until } = case.phase else { panic!() };
	assert_eq!(case.expose(until + 1), Err(CaseError::PastDeadline));
	assert_eq!(case.expose(until), Ok(Step::Resolved(Outcome::Overturned)));
	let paid = paid(&case);
	assert_eq!(paid.taken(&Source::VerifierBond(2)), params().wrong_verdict_penalty.min(1_000_000));
	assert_eq!(paid.received(&Party::Verifier(1)), 25);
	assert_eq!(paid.taken(&Source::NodeBond), 0);

	let mut case =
		Case::<u8>::open(2, 100, params(), Referee::Committee, false, stakes(0), vec![]).unwrap();
	assert_eq!(case.expose(100), Ok(Step::Resolved(Outcome::Overturned)));
	assert_eq!(case.expose(100), Err(CaseError::AlreadyExposed));
}

#[test]
fn an_ended_case_cannot_be_shown_a_honeypot() {
	let mut case = open(Referee::Committee, 0);
	assert_eq!(vote(&mut case, &[V, V, V], 10), Step::Resolved(Outcome::Upheld));
	assert_eq!(case.expose(200), Err(CaseError::WrongPhase));
	assert!(!case.honeypot);
	assert_eq!(case.outcome(), Some(Outcome::Upheld));
}

#[test]
fn slashes_stop_at_the_incident_and_daily_caps() {
	let mut case = Case::<u8>::open(
		1,
		100,
		Params { slash_cap: 70_000, daily_slash_cap: 90_000, ..params() },
		Referee::Committee,
		false,
		stakes(0),
		vec![],
	)
	.unwrap();
	case.decide(100, Outcome::Overturned).unwrap();
	assert_eq!(payout(&case, 1_000_000, 0, |_| 0).unwrap().taken(&Source::NodeBond), 70_000);
	assert_eq!(payout(&case, 1_000_000, 50_000, |_| 0).unwrap().taken(&Source::NodeBond), 40_000);
	assert_eq!(payout(&case, 1_000_000, 95_000, |_| 0).unwrap().taken(&Source::NodeBond), 0);
	assert_eq!(payout(&case, 300_000, 0, |_| 0).unwrap().taken(&Source::NodeBond), 30_000);
}

#[test]
fn a_penalty_never_takes_more_than_the_verifiers_bond() {
	let mut case = open(Referee::Committee, 0);
	assert_eq!(vote(&mut case, &[None, V, V], 10), Step::Resolved(Outcome::Upheld));
	assert_eq!(payout(&case, 0, 0, |_| 7).unwrap().taken(&Source::VerifierBond(1)), 7);
}

#[test]
fn a_reveal_that_is_not_what_was_committed_is_refused_and_changes_nothing() {
	let mut case = open(Referee::Committee, 0);
	for v in 1..=3 {
		case.commit(100, &v, committed(1, v, Verdict::Valid)).unwrap();
	}
	let before = case.clone();
	assert_eq!(case.reveal(101, &1, Verdict::Invalid, &salt(1)), Err(CaseError::RevealMismatch));
	assert_eq!(case.reveal(101, &1, Verdict::Valid, &salt(2)), Err(CaseError::RevealMismatch));
	assert_eq!(case, before);
	case.reveal(101, &1, Verdict::Valid, &salt(1)).unwrap();
	assert_eq!(case.reveal(101, &1, Verdict::Valid, &salt(1)), Err(CaseError::AlreadyRevealed));
}

#[test]
fn calls_out_of_turn_are_refused_and_change_nothing() {
	let mut case = open(Referee::Committee, 0);
	let before = case.clone();
	assert_eq!(case.commit(100, &9, [0; 32]), Err(CaseError::NotSeated));
	assert_eq!(case.commit(103, &1, [0; 32]), Err(CaseError::PastDeadline));
	assert_eq!(case.reveal(100, &1, Verdict::Valid, &salt(1)), Err(CaseError::WrongPhase));
	assert_eq!(case.proof_accepted(100), Err(CaseError::WrongPhase));
	assert_eq!(case.decide(100, Outcome::Upheld), Err(CaseError::WrongPhase));
	assert_eq!(case, before);
	case.commit(100, &1, [0; 32]).unwrap();
	assert_eq!(case.commit(100, &1, [1; 32]), Err(CaseError::AlreadyCommitted));
	assert_eq!(case.advance(103, |_, _| vec![]), Step::Revealing);
	assert_eq!(case.reveal(104, &2, Verdict::Valid, &salt(2)), Err(CaseError::NotCommitted));
	assert_eq!(case.commit(104, &2, [1; 32]), Err(CaseError::WrongPhase));
}

#[test]
fn open_refuses_invalid_parameters_and_committees() {
	let open =
		|params, committee| Case::open(1, 0, params, Referee::Proof, false, stakes(0), committee);
	assert_eq!(open(Params { committee: 0, ..params() }, vec![1]), Err(CaseError::InvalidParams));
	assert_eq!(open(params(), vec![1, 2, 3, 4]), Err(CaseError::InvalidCommittee));
	assert_eq!(open(params(), vec![1, 1]), Err(CaseError::InvalidCommittee));
}

#[test]
fn an_escalation_without_new_verifiers_goes_to_governance() {
	let mut case = open(Referee::Committee, 0);
	// The draw offers only verifiers already seated.
	let verdict = |v| if v == 1 { Verdict::Invalid } else { Verdict::Valid };
	for v in 1..=3 {
		case.commit(100, &v, committed(1, v, verdict(v))).unwrap();
	}
	for v in 1..=3 {
		case.reveal(100, &v, verdict(v), &salt(v)).unwrap();
	}
	assert_eq!(case.advance(100, |_, _| vec![1, 2]), Step::AwaitingGovernance);
}
