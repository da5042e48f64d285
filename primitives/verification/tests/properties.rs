//! The dispute game over random sequences of moves: whatever anyone does and whenever,
//! a refused move changes nothing, every case ends by its bound, and its end creates no
//! token and releases everything it held exactly once.

mod common;
use common::*;
use opg_verification::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// One move: what, by whom (a seat index), with which verdict, and whether the salt is
/// the committed one; then time goes on by `wait` blocks (0 to 2).
#[derive(Clone, Debug)]
struct Move {
	kind: u8,
	who: u8,
	invalid: bool,
	honest_salt: bool,
	wait: u8,
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
	prop::collection::vec(
		(0u8..7, 0u8..40, any::<bool>(), prop::bool::weighted(0.9), 0u8..3).prop_map(
			|(kind, who, invalid, honest_salt, wait)| Move {
				kind,
				who,
				invalid,
				honest_salt,
				wait,
			},
		),
		0..80,
	)
}

fn game_params() -> impl Strategy<Value = Params> {
	(
		1u8..5,
		1u8..7,
		1u8..4,
		1u32..4,
		1u32..4,
		1u32..5,
		1u32..6,
		0u128..2_000,
		0u128..2_000,
		0u32..=BILLION,
		0u32..=BILLION,
	)
		.prop_map(
			|(
				committee,
				escalation,
				rounds,
				commit,
				reveal,
				proof,
				governance,
				no_reveal,
				wrong,
				slash,
				challenger,
			)| Params {
				committee,
				escalation,
				rounds,
				commit_period: commit,
				reveal_period: reveal,
				proof_period: proof,
				governance_period: governance,
				no_reveal_penalty: no_reveal,
				wrong_verdict_penalty: wrong,
				slash,
				challenger_share: challenger,
				slash_cap: 1_000_000,
				daily_slash_cap: 1_500_000,
				..Params::DEV
			},
		)
}

/// Plays `moves` on a case opened at block 10, advancing it at every block as the chain
/// does: a seat's verdict is valid unless the move says invalid and `lying` allows it;
/// `governance` and `proofs` allow those moves; `lying` also allows showing the case a
/// honeypot ([`Case::expose`]). Returns the case once ended, after
/// advancing block by block to its bound, and asserts the bound.
fn play(
	mut case: Case<u8>,
	moves: &[Move],
	lying: bool,
	governance: bool,
	proofs: bool,
) -> Case<u8> {
	let opened = 10;
	let end = opened + case.params.longest_case();
	let mut now = opened;
	let mut next = 100u8;
	let mut draw = |_round: u8, size: u8| {
		let committee: Vec<u8> = (next..next.saturating_add(size)).collect();
		next = next.saturating_add(size);
		committee
	};
	for m in moves {
		let before = case.clone();
		let seats: Vec<u8> = case.seats.iter().map(|s| s.verifier).collect();
		let who = seats.get(usize::from(m.who) % seats.len().max(1)).copied().unwrap_or(m.who);
		let verdict = if m.invalid && lying { Verdict::Invalid } else { Verdict::Valid };
		let salt_of = |v| if m.honest_salt { salt(v) } else { [0xEE; 32] };
		let refused = match m.kind {
			0 => case.commit(now, &who, commitment(case.id, &who, verdict, &salt_of(who))).err(),
			1 => case.reveal(now, &who, verdict, &salt(who)).err(),
			2 if proofs => case.proof_accepted(now).err(),
			3 if governance => case
				.decide(now, if m.invalid { Outcome::Overturned } else { Outcome::Upheld })
				.err(),
			6 if lying => case.expose(now).err(),
			_ => {
				case.advance(now, &mut draw);
				None
			},
		};
		if refused.is_some() {
			assert_eq!(case, before, "a refused move changed the case");
		}
		if let Some(deadline) = case.deadline() {
			assert!(deadline < end, "deadline {deadline} past the bound {end}");
		}
		// The chain advances every case at every block (the pallet: at each deadline's next).
		for _ in 0..m.wait {
			now += 1;
			case.advance(now, &mut draw);
		}
	}
	while now <= end && case.outcome().is_none() {
		case.advance(now, &mut draw);
		now += 1;
	}
	assert!(case.outcome().is_some(), "still open at {end}: {:?}", case.phase);
	case
}

fn opened(
	params: Params,
	referee: bool,
	honeypot: bool,
	stakes: Stakes,
	committee: u8,
) -> Case<u8> {
	let committee = (1..=committee.min(params.committee)).collect();
	let referee = if referee { Referee::Proof } else { Referee::Committee };
	Case::open(7, 10, params, referee, honeypot, stakes, committee).unwrap()
}

fn stakes_strategy() -> impl Strategy<Value = Stakes> {
	(0u128..1_000_000, 0u128..100_000, prop_oneof![Just(0u128), 1u128..100_000])
		.prop_map(|(price, surcharge, challenge_bond)| Stakes { price, surcharge, challenge_bond })
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(2_000))]

	#[test]
	fn every_case_ends_in_time_and_pays_out_exactly_what_it_holds(
		params in game_params(),
		referee: bool,
		honeypot in prop::bool::weighted(0.1),
		stakes in stakes_strategy(),
		committee in 0u8..5,
		moves in moves(),
		node_bond in 0u128..10_000_000,
		slashed_today in 0u128..2_000_000,
		verifier_bonds in prop::collection::vec(0u128..3_000, 256),
	) {
		let case = play(opened(params, referee, honeypot, stakes, committee), &moves, true, true, true);
		// A honeypot shown during the game ends overturned, whatever else happens.
		if case.honeypot && !honeypot {
			prop_assert_eq!(case.outcome(), Some(Outcome::Overturned));
		}
		let bond = |v: &u8| verifier_bonds[usize::from(*v)];
		let paid = payout(&case, node_bond, slashed_today, bond).unwrap();
		// Every held amount is paid out in full.
		prop_assert_eq!(paid.taken(&Source::Payment), stakes.price);
		prop_assert_eq!(paid.taken(&Source::Surcharge), stakes.surcharge);
		prop_assert_eq!(paid.taken(&Source::ChallengeBond), stakes.challenge_bond);
		// Bonds lose at most what the rules allow.
		let slash = paid.taken(&Source::NodeBond);
		prop_assert!(slash <= node_bond && slash <= params.slash_cap);
		prop_assert!(slash <= params.daily_slash_cap.saturating_sub(slashed_today));
		for seat in &case.seats {
			let penalty = paid.taken(&Source::VerifierBond(seat.verifier));
			prop_assert!(penalty <= bond(&seat.verifier));
			prop_assert!(penalty <= params.no_reveal_penalty.max(params.wrong_verdict_penalty));
		}
		// Nothing is created: what is received is what is taken, and nothing is zero.
		let total_taken: u128 = paid.transfers.iter().map(|t| t.amount).sum();
		let mut received = BTreeMap::<String, u128>::new();
		for t in &paid.transfers {
			prop_assert!(t.amount > 0);
			*received.entry(format!("{:?}", t.to)).or_default() += t.amount;
		}
		prop_assert_eq!(received.values().sum::<u128>(), total_taken);
		// Only an overturned real result slashes; only an upheld one pays the node.
		if case.outcome() != Some(Outcome::Overturned) || case.honeypot {
			prop_assert_eq!(slash, 0);
		}
		if case.outcome() != Some(Outcome::Upheld) {
			prop_assert_eq!(paid.received(&Party::Node), 0);
		}
	}

	#[test]
	fn an_honest_result_is_never_overturned_by_honest_or_silent_verifiers(
		params in game_params(),
		referee: bool,
		stakes in stakes_strategy(),
		committee in 0u8..5,
		moves in moves(),
	) {
		// No verifier lies, governance never steps in: whatever the order and timing.
		let case = play(opened(params, referee, false, stakes, committee), &moves, false, false, true);
		prop_assert_ne!(case.outcome(), Some(Outcome::Overturned));
		let paid = paid(&case);
		prop_assert_eq!(paid.taken(&Source::NodeBond), 0);
		prop_assert_eq!(paid.received(&Party::Client), if case.outcome() == Some(Outcome::Upheld) { 0 } else { stakes.price });
	}

	#[test]
	fn a_wrong_result_never_pays_its_node_while_verifiers_only_say_invalid(
		params in game_params(),
		referee: bool,
		stakes in stakes_strategy(),
		committee in 0u8..5,
		moves in moves(),
	) {
		// Every verdict is "invalid"; the node cannot prove a wrong result; no governance.
		let moves: Vec<Move> = moves.into_iter().map(|m| Move { invalid: true, ..m }).collect();
		let case = play(opened(params, referee, false, stakes, committee), &moves, true, false, false);
		prop_assert_ne!(case.outcome(), Some(Outcome::Upheld));
		prop_assert_eq!(paid(&case).received(&Party::Node), 0);
	}
}
