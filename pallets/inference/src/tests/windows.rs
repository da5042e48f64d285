//! Results held through their challenge window ([`Config::Checks`]).

use super::*;
use opg_primitives::HeldResults;

fn settled_in_window(blocks: u32) -> RequestId {
	set_challenge_window(blocks);
	register_node(1, 1_000);
	let id = request(ALICE);
	assert_ok!(submit(id, 1));
	id
}

#[test]
fn a_vanilla_result_is_paid_when_its_window_ends() {
	build_and_execute(|| {
		let treasury_before = Balances::balance(&Treasury::get());
		let id = settled_in_window(5);
		// Settled and recorded, but the fee stays held: the operator has its bond only.
		let node_before = Balances::balance(&operator(1));
		assert_eq!(node_before, ENDOWMENT - 1_000);
		assert!(Results::<Test>::contains_key(id));
		assert_eq!(held(ALICE), PRICE);
		assert_eq!(held_results(), vec![id]);
		assert!(events().contains(&Event::PaymentHeld { request: id, until: 6 }));
		let HeldResult { price, client, final_at, .. } =
			<Inference as HeldResults<_, _>>::held(id).unwrap();
		assert_eq!((price, client, final_at), (PRICE, ALICE, 6));
		run_to(5);
		assert_eq!(held(ALICE), PRICE);
		run_to(6);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&operator(1)), node_before + 950);
		assert_eq!(Balances::balance(&Treasury::get()), treasury_before + 50);
		assert!(events().contains(&Event::PaymentReleased {
			request: id,
			paid: 950,
			protocol_fee: 50
		}));
		assert!(<Inference as HeldResults<_, _>>::held(id).is_none());
	});
}

#[test]
fn a_disputed_result_waits_past_its_window_for_the_game_to_pay_or_refund_it() {
	build_and_execute(|| {
		let id = settled_in_window(5);
		let node_before = Balances::balance(&operator(1));
		assert!(<Inference as HeldResults<_, _>>::dispute(id));
		assert!(!<Inference as HeldResults<_, _>>::dispute(id), "once");
		run_to(20);
		assert_eq!(held(ALICE), PRICE, "the window's end does not pay a disputed result");
		assert!(<Inference as HeldResults<_, _>>::conclude(id, false));
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT - RecordDeposit::get());
		assert_eq!(Balances::balance(&operator(1)), node_before);
		assert!(events().contains(&Event::PaymentRefunded { request: id, refund: PRICE }));
		assert!(!<Inference as HeldResults<_, _>>::conclude(id, true), "once");

		// Upheld: paid as at the window's end.
		register_node(2, 1_000);
		let id = request(BOB);
		let node = assigned(id);
		let before = Balances::balance(&operator(node));
		assert_ok!(submit(id, node));
		assert!(<Inference as HeldResults<_, _>>::dispute(id));
		assert!(<Inference as HeldResults<_, _>>::conclude(id, true));
		assert_eq!(Balances::balance(&operator(node)), before + 950);
	});
}

#[test]
fn a_result_cannot_be_disputed_once_its_window_has_ended() {
	build_and_execute(|| {
		let id = settled_in_window(5);
		run_to(6);
		assert!(!<Inference as HeldResults<_, _>>::dispute(id));
		assert!(!<Inference as HeldResults<_, _>>::conclude(id, false));
	});
}

#[test]
fn proven_results_are_never_held() {
	build_and_execute(|| {
		set_challenge_window(5);
		assert_eq!(<Test as Config>::Checks::challenge_window(VerificationMode::Zkml), 0);
		assert_eq!(<Test as Config>::Checks::challenge_window(VerificationMode::Tee), 5);
	});
}

#[test]
fn a_record_whose_payment_is_held_is_not_pruned() {
	build_and_execute(|| {
		let id = settled_in_window(5);
		assert!(<Inference as HeldResults<_, _>>::dispute(id));
		run_to(1 + RecordRetention::get() + 1);
		assert_noop!(
			Inference::prune_records(
				RuntimeOrigin::signed(ALICE),
				BoundedVec::truncate_from(vec![id])
			),
			Error::<Test>::NotPrunable
		);
		assert!(<Inference as HeldResults<_, _>>::conclude(id, true));
		assert_ok!(Inference::prune_records(
			RuntimeOrigin::signed(ALICE),
			BoundedVec::truncate_from(vec![id])
		));
	});
}

#[test]
fn a_held_results_input_is_kept_for_its_verifiers_until_its_payment_ends() {
	build_and_execute(|| {
		let id = settled_in_window(5);
		assert!(Inputs::<Test>::get(id).is_none(), "the request is closed");
		let held = <Inference as HeldResults<_, _>>::held(id).unwrap();
		assert!(!held.provable, "no verifying key");
		assert!(!held.same_hardware, "a quantized model is checked on any hardware");
		let to_check = <Inference as HeldResults<_, _>>::to_check(id).unwrap();
		assert_eq!(to_check.input, opg_primitives::CheckInput::Inline(b"inpt".to_vec()));
		assert_eq!(to_check.output_hash, opg_settlement::sha256(b"out"));
		assert_eq!(to_check.output.as_deref(), Some(&b"out"[..]), "the inline output's bytes");
		assert_eq!(to_check.model_hash, Results::<Test>::get(id).unwrap().model_hash);
		run_to(6);
		assert!(HeldInputs::<Test>::get(id).is_none(), "dropped once paid");
		assert!(<Inference as HeldResults<_, _>>::to_check(id).is_none());

		// Refunded by the game: dropped too.
		let id = request(BOB);
		let node = assigned(id);
		assert_ok!(submit(id, node));
		assert!(HeldInputs::<Test>::contains_key(id));
		assert!(<Inference as HeldResults<_, _>>::dispute(id));
		assert!(<Inference as HeldResults<_, _>>::conclude(id, false));
		assert!(HeldInputs::<Test>::get(id).is_none());
	});
}

#[test]
fn a_result_paid_at_once_keeps_no_input() {
	build_and_execute(|| {
		let id = settled_in_window(0);
		assert!(HeldInputs::<Test>::get(id).is_none());
		assert!(<Inference as HeldResults<_, _>>::to_check(id).is_none());
	});
}

/// A vanilla request of Alice's, `max_fee` offered.
fn surcharged_request(
	max_fee: Balance,
) -> Result<RequestId, polkadot_sdk::sp_runtime::DispatchError> {
	let id = NextRequestId::<Test>::get();
	Inference::request(
		RuntimeOrigin::signed(ALICE),
		MODEL,
		inline(b"inpt"),
		VerificationMode::Vanilla,
		SettlementMode::Individual,
		max_fee,
		5,
	)
	.map(|_| id)
	.map_err(|e| e.error)
}

#[test]
fn the_surcharge_is_held_with_the_price_and_bounded_by_the_max_fee() {
	build_and_execute(|| {
		set_challenge_window(5);
		set_surcharge(50_000_000);
		register_node(1, 1_000);
		assert_noop!(surcharged_request(PRICE + 49), Error::<Test>::FeeAboveMax);
		let id = surcharged_request(PRICE + 50).unwrap();
		assert_eq!(held(ALICE), PRICE + 50);
		assert_eq!(Requests::<Test>::get(id).unwrap().surcharge, 50);
		// ZKML results are paid at once: no surcharge.
		assert_eq!(
			<MockChecks as opg_primitives::ResultChecks>::surcharge(VerificationMode::Zkml),
			0
		);
	});
}

#[test]
fn an_unchecked_results_surcharge_goes_to_the_treasury_when_its_window_ends() {
	build_and_execute(|| {
		set_challenge_window(5);
		set_surcharge(50_000_000);
		register_node(1, 1_000);
		let id = surcharged_request(2 * PRICE).unwrap();
		let node = assigned(id);
		assert_ok!(submit(id, node));
		let held_result = <Inference as HeldResults<_, _>>::held(id).unwrap();
		assert_eq!(held_result.surcharge, 50);
		let treasury = Balances::balance(&Treasury::get());
		let operator_before = Balances::balance(&operator(node));
		run_to(6);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&operator(node)), operator_before + 950);
		assert_eq!(Balances::balance(&Treasury::get()), treasury + 50 + 50);
		assert_eq!(
			Balances::balance(&ALICE),
			ENDOWMENT - PRICE - 50 - RecordDeposit::get(),
			"the requester paid the price and the surcharge"
		);
	});
}

#[test]
fn a_case_pays_the_surcharge_to_verifiers_and_the_rest_goes_to_the_treasury() {
	build_and_execute(|| {
		set_challenge_window(5);
		set_surcharge(50_000_000);
		register_node(1, 1_000);
		let id = surcharged_request(2 * PRICE).unwrap();
		assert_ok!(submit(id, assigned(id)));
		assert!(<Inference as HeldResults<_, _>>::dispute(id));
		let verifier: AccountId = 777;
		let paid = <Inference as HeldResults<_, _>>::pay_surcharge(id, &verifier, 30);
		assert_eq!((paid, Balances::balance(&verifier)), (30, 30));
		// Never more than what is left of it.
		assert_eq!(<Inference as HeldResults<_, _>>::pay_surcharge(id, &verifier, 500), 20);
		assert_eq!(<Inference as HeldResults<_, _>>::pay_surcharge(id, &verifier, 1), 0);
		assert_eq!(held(ALICE), PRICE);
		let treasury = Balances::balance(&Treasury::get());
		assert!(<Inference as HeldResults<_, _>>::conclude(id, false));
		assert_eq!(held(ALICE), 0, "the price refunded, nothing left held");
		assert_eq!(Balances::balance(&Treasury::get()), treasury);
		assert_eq!(<Inference as HeldResults<_, _>>::pay_surcharge(id, &verifier, 1), 0);
	});
}

#[test]
fn a_request_no_node_serves_refunds_its_surcharge_too() {
	build_and_execute(|| {
		set_challenge_window(5);
		set_surcharge(50_000_000);
		register_node(1, 1_000);
		let id = surcharged_request(2 * PRICE).unwrap();
		let deadline = Requests::<Test>::get(id).unwrap().deadline;
		// Node 1 misses its deadline and no other node can take the request.
		run_to(deadline + 1);
		assert!(Requests::<Test>::get(id).is_none());
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT);
	});
}

#[test]
fn the_block_start_is_charged_the_benchmarked_weight_of_every_window_that_ends_there() {
	use crate::weights::WeightInfo;
	use polkadot_sdk::frame_support::traits::Hooks;
	build_and_execute(|| {
		set_challenge_window(5);
		register_node(1, 1_000);
		let ids = [request(ALICE), request(ALICE), request(ALICE)];
		for id in ids {
			assert_ok!(submit(id, 1));
		}
		// One of the three disputed: its window ends as theirs does, unpaid, and costs
		// the block as much (its payment is read).
		assert!(<Inference as HeldResults<_, _>>::dispute(ids[0]));
		run_to(5);
		System::set_block_number(6);
		let ending = Inference::on_initialize(6);
		assert_eq!(held(ALICE), PRICE, "two paid, the disputed one still held");
		System::set_block_number(7);
		let quiet = Inference::on_initialize(7);
		assert_eq!(
			ending.saturating_sub(<() as WeightInfo>::end_windows(3)),
			quiet.saturating_sub(<() as WeightInfo>::end_windows(0)),
		);
		assert!(ending.all_gt(quiet));
	});
}
