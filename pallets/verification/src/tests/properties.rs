//! The game on chain over random sequences of results, challenges, verdicts, honeypot
//! exposures and blocks:
//! no token is created, every challenge bond and every disputed payment is released,
//! paid or slashed, and nothing stays held or scheduled once every case's bound has passed.

use super::*;
use crate::{Assignments, CaseOf, Challenges, Checks, Parameters, ToSample};
use opg_verification::{Params, BILLION};
use polkadot_sdk::frame_support::traits::fungible::InspectHold;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Move {
	/// Node 1 or 2 (of operators 1 and 15: the latter shares an operator with verifiers)
	/// gets a result held.
	Hold(bool),
	/// Someone challenges result `n` (modulo those held).
	Challenge(u8),
	/// A seat of case `n` commits (or reveals) a verdict, honestly salted or not.
	Commit {
		case: u8,
		seat: u8,
		invalid: bool,
	},
	Reveal {
		case: u8,
		seat: u8,
		invalid: bool,
		honest: bool,
	},
	/// The honeypot authority and the case's node show case `n` a honeypot.
	Expose(u8),
	/// Governance decides case `n`.
	Decide {
		case: u8,
		overturn: bool,
	},
	/// Blocks pass.
	Wait(u8),
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
	prop::collection::vec(
		prop_oneof![
			any::<bool>().prop_map(Move::Hold),
			any::<u8>().prop_map(Move::Challenge),
			(any::<u8>(), any::<u8>(), any::<bool>())
				.prop_map(|(case, seat, invalid)| Move::Commit { case, seat, invalid }),
			(any::<u8>(), any::<u8>(), any::<bool>(), prop::bool::weighted(0.9)).prop_map(
				|(case, seat, invalid, honest)| Move::Reveal { case, seat, invalid, honest }
			),
			(any::<u8>(), any::<bool>())
				.prop_map(|(case, overturn)| Move::Decide { case, overturn }),
			any::<u8>().prop_map(Move::Expose),
			(0u8..12).prop_map(Move::Wait),
		],
		0..60,
	)
}

/// The honeypot authority's key pair.
fn authority() -> polkadot_sdk::sp_core::sr25519::Pair {
	Pair::from_seed(&[99; 32])
}

fn seat_of(case: CaseId, seat: u8) -> Option<u8> {
	let seats = committee(case);
	(!seats.is_empty()).then(|| seats[usize::from(seat) % seats.len()])
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(200))]

	#[test]
	fn nothing_is_created_and_nothing_stays_held(moves in moves(), sample in prop::bool::weighted(0.5)) {
		new_test_ext().execute_with(|| {
			let params = Params { sample_rate: if sample { BILLION / 2 } else { 0 }, ..Params::DEV };
			Parameters::<Test>::put(params);
			crate::HoneypotAuthority::<Test>::put(authority().public());
			let issuance = Balances::total_issuance();
			let mut results = 0u64;
			for m in &moves {
				let cases = crate::NextCaseId::<Test>::get().max(1);
				// Refused calls are part of the game: only their effects are checked.
				match m.clone() {
					Move::Hold(second) => {
						let surcharge = Balance::from(results as u32 * 37 % 101);
						hold_surcharged_result(results, node(if second { 16 } else { 1 }), surcharge);
						results += 1;
					},
					Move::Challenge(n) => {
						let _ = Verification::challenge(RuntimeOrigin::signed(CHALLENGER), u64::from(n) % results.max(1));
					},
					Move::Commit { case, seat, invalid } => {
						let case = u64::from(case) % cases;
						if let Some(n) = Cases::<Test>::get(case).and_then(|_| seat_of(case, seat)) {
							let verdict = if invalid { Verdict::Invalid } else { Verdict::Valid };
							let (hash, signature) = signed_commit(case, n, verdict);
							let _ = Verification::commit(RuntimeOrigin::none(), case, node(n), hash, signature);
						}
					},
					Move::Reveal { case, seat, invalid, honest } => {
						let case = u64::from(case) % cases;
						if let Some(n) = Cases::<Test>::get(case).and_then(|_| seat_of(case, seat)) {
							let verdict = if invalid { Verdict::Invalid } else { Verdict::Valid };
							let salt = if honest { salt(n) } else { [0; 32] };
							let signature = pair(n).sign(&message::verdict_reveal(&GENESIS, case, verdict.byte(), &salt));
							let _ = Verification::reveal(RuntimeOrigin::none(), case, node(n), verdict, salt, signature);
						}
					},
					Move::Expose(case) => {
						let case = u64::from(case) % cases;
						if let Some(record) = Cases::<Test>::get(case) {
							let signed = message::honeypot(&GENESIS, case, record.result);
							let node = pair(number(&record.node));
							let _ = Verification::expose(RuntimeOrigin::none(), case, node.sign(&signed), authority().sign(&signed));
						}
					},
					Move::Decide { case, overturn } => {
						let outcome = if overturn { opg_verification::Outcome::Overturned } else { opg_verification::Outcome::Upheld };
						let _ = Verification::decide(RuntimeOrigin::root(), u64::from(case) % cases, outcome);
					},
					Move::Wait(blocks) => run_to(System::block_number() + u64::from(blocks)),
				}
				crate::Pallet::<Test>::do_try_state().unwrap();
				prop_assert_eq!(Balances::total_issuance(), issuance);
			}
			// Every case opened by now ends within its bound.
			run_to(System::block_number() + 2 + params.longest_case());
			crate::Pallet::<Test>::do_try_state().unwrap();
			prop_assert_eq!(Balances::total_issuance(), issuance);
			prop_assert_eq!(Balances::balance_on_hold(&crate::HoldReason::ChallengeBond.into(), &CHALLENGER), 0);
			for (_, record) in Cases::<Test>::iter() {
				prop_assert!(record.game.outcome().is_some(), "a case is still open");
				if record.game.honeypot {
					prop_assert_eq!(record.game.outcome(), Some(opg_verification::Outcome::Overturned));
				}
			}
			for id in 0..results {
				if CaseOf::<Test>::contains_key(id) {
					prop_assert!(held(id).ended.is_some(), "a checked result's payment is still held");
					prop_assert_eq!(held(id).result.surcharge, 0, "a checked result's surcharge is left");
				}
			}
			prop_assert_eq!(Assignments::<Test>::iter().count(), 0);
			prop_assert_eq!(Checks::<Test>::iter().count(), 0);
			prop_assert_eq!(Challenges::<Test>::iter().count(), 0);
			prop_assert_eq!(ToSample::<Test>::iter().count(), 0);
			Ok(())
		})?;
	}
}
