//! Every refused call names its error and changes nothing.

// The pool's check is `ValidateUnsigned`'s until the pallet moves to `#[pallet::authorize]`.
#![allow(deprecated)]

use super::*;
use crate::{CaseOf, Error, Parameters};
use opg_verification::{Params, BILLION};
use polkadot_sdk::{
	frame_support::assert_noop,
	sp_runtime::{
		traits::{Dispatchable, ValidateUnsigned},
		transaction_validity::{InvalidTransaction, TransactionSource},
		DispatchError,
	},
};

fn sampled_case() -> CaseId {
	Parameters::<Test>::put(Params { sample_rate: BILLION, ..Params::DEV });
	hold_result(7, node(1));
	run_to(3);
	CaseOf::<Test>::get(7).unwrap()
}

#[test]
fn parameters_are_set_by_governance_only_and_must_be_valid() {
	check(|| {
		let params = Params { sample_rate: 5, ..Params::DEV };
		assert_noop!(
			Verification::set_params(RuntimeOrigin::signed(1), params),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Verification::set_params(RuntimeOrigin::root(), Params { committee: 0, ..params }),
			Error::<Test>::InvalidParams
		);
		assert_noop!(
			Verification::set_params(
				RuntimeOrigin::root(),
				Params { challenge_window: 2, ..params }
			),
			Error::<Test>::InvalidParams
		);

		assert_ok!(Verification::set_params(RuntimeOrigin::root(), params));
		assert_eq!(Parameters::<Test>::get(), params);
	});
}

#[test]
fn a_modes_own_parameters_are_set_by_governance_only_and_never_for_proofs() {
	check(|| {
		use opg_primitives::VerificationMode::{Tee, Vanilla, Zkml};
		let own = opg_verification::ModeParams { challenge_window: 12, sample_rate: 5 };
		let set = |origin, mode, params| Verification::set_mode_params(origin, mode, params);
		assert_noop!(set(RuntimeOrigin::signed(1), Tee, Some(own)), DispatchError::BadOrigin);
		assert_noop!(set(RuntimeOrigin::root(), Zkml, Some(own)), Error::<Test>::InvalidParams);
		let short = opg_verification::ModeParams { challenge_window: 2, ..own };
		assert_noop!(set(RuntimeOrigin::root(), Tee, Some(short)), Error::<Test>::InvalidParams);
		let over = opg_verification::ModeParams { sample_rate: u32::MAX, ..own };
		assert_noop!(set(RuntimeOrigin::root(), Vanilla, Some(over)), Error::<Test>::InvalidParams);
		assert_ok!(set(RuntimeOrigin::root(), Vanilla, Some(own)));
		assert_eq!(crate::ModeParameters::<Test>::get(Vanilla), Some(own));
		assert_eq!(crate::ModeParameters::<Test>::get(Tee), None);
	});
}

#[test]
fn only_a_result_in_its_window_can_be_challenged_and_only_once() {
	check(|| {
		Parameters::<Test>::put(Params { sample_rate: 0, ..Params::DEV });
		assert_noop!(
			Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7),
			Error::<Test>::NotChallengeable
		);
		hold_result(7, node(1));
		assert_noop!(
			Verification::challenge(RuntimeOrigin::signed(555), 7),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7));
		assert_noop!(
			Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 7),
			Error::<Test>::AlreadyChecked
		);
		hold_result(8, node(1));
		run_to(21);
		assert_noop!(
			Verification::challenge(RuntimeOrigin::signed(CHALLENGER), 8),
			Error::<Test>::NotChallengeable
		);
	});
}

#[test]
fn verdicts_out_of_turn_or_badly_signed_are_refused_by_the_pool_and_dispatch() {
	check(|| {
		let case = sampled_case();
		let seated = committee(case)[0];
		let outsider = (11..=16).find(|n| !committee(case).contains(n)).unwrap();
		let (hash, signature) = signed_commit(case, seated, Verdict::Valid);
		let cases: Vec<(RuntimeCall, Error<Test>)> = vec![
			(
				crate::Call::commit {
					case: case + 9,
					verifier: node(seated),
					commitment: hash,
					signature,
				}
				.into(),
				Error::UnknownCase,
			),
			(
				crate::Call::commit {
					case,
					verifier: node(seated),
					commitment: [0; 32],
					signature,
				}
				.into(),
				Error::BadSignature,
			),
			(
				{
					let (hash, signature) = signed_commit(case, outsider, Verdict::Valid);
					crate::Call::commit {
						case,
						verifier: node(outsider),
						commitment: hash,
						signature,
					}
					.into()
				},
				Error::NotSeated,
			),
			(
				crate::Call::reveal {
					case,
					verifier: node(seated),
					verdict: Verdict::Valid,
					salt: salt(seated),
					signature: signed_reveal(case, seated, Verdict::Valid),
				}
				.into(),
				Error::WrongPhase,
			),
		];
		for (call, error) in cases {
			let RuntimeCall::Verification(inner) = call.clone() else { unreachable!() };
			assert!(
				<crate::Pallet<Test> as ValidateUnsigned>::validate_unsigned(
					TransactionSource::External,
					&inner
				)
				.is_err(),
				"{error:?}"
			);
			assert_noop!(call.dispatch(RuntimeOrigin::none()), error);
		}
		assert_noop!(
			Verification::commit(RuntimeOrigin::signed(1), case, node(seated), hash, signature),
			DispatchError::BadOrigin
		);
		assert_ok!(Verification::commit(
			RuntimeOrigin::none(),
			case,
			node(seated),
			hash,
			signature
		));
		assert_noop!(
			Verification::commit(RuntimeOrigin::none(), case, node(seated), hash, signature),
			Error::<Test>::AlreadyCommitted
		);
		let stale = <crate::Pallet<Test> as ValidateUnsigned>::validate_unsigned(
			TransactionSource::External,
			&crate::Call::commit { case, verifier: node(seated), commitment: hash, signature },
		);
		assert_eq!(stale, Err(InvalidTransaction::Stale.into()));
	});
}

#[test]
fn a_reveal_must_be_what_was_committed() {
	check(|| {
		let case = sampled_case();
		let seats = committee(case);
		for n in &seats {
			let (hash, signature) = signed_commit(case, *n, Verdict::Valid);
			assert_ok!(Verification::commit(
				RuntimeOrigin::none(),
				case,
				node(*n),
				hash,
				signature
			));
		}
		let n = seats[0];
		// Signed, but not the committed verdict.
		assert_noop!(
			Verification::reveal(
				RuntimeOrigin::none(),
				case,
				node(n),
				Verdict::Invalid,
				salt(n),
				signed_reveal(case, n, Verdict::Invalid)
			),
			Error::<Test>::RevealMismatch
		);
		// The committed verdict, but another node's signature.
		assert_noop!(
			Verification::reveal(
				RuntimeOrigin::none(),
				case,
				node(n),
				Verdict::Valid,
				salt(n),
				signed_reveal(case, seats[1], Verdict::Valid)
			),
			Error::<Test>::BadSignature
		);
		assert_ok!(Verification::reveal(
			RuntimeOrigin::none(),
			case,
			node(n),
			Verdict::Valid,
			salt(n),
			signed_reveal(case, n, Verdict::Valid)
		));
	});
}
