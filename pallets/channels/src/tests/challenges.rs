//! Served calls challenged: a settled call of a held settlement opened as a held result of
//! the verification game ([`Pallet::challenge_call`], `HeldResults`).

use super::*;
use opg_primitives::{CheckInput, HeldResults, DIRECT_CALL_IDS};

/// Bob, who challenges.
fn bob() -> AccountId {
	ClientKey::new(1, 2).account()
}

/// Four calls of 50 each by [`MODEL`], the last two of `mode`'s evidence and model.
fn priced_calls(model_hash: [u8; 32], mode: u8) -> Vec<ServedCall> {
	calls(7, 4)
		.into_iter()
		.enumerate()
		.map(|(i, call)| ServedCall {
			amount: 50,
			model_hash: if i >= 2 { model_hash } else { MODEL_HASH },
			mode: if i >= 2 { mode } else { 0 },
			..call
		})
		.collect()
}

/// `client` opens a channel of 1,000 and node 1 settles 200 over `calls`, held for a
/// window of 5 blocks (until block 6); the channel.
fn held_settlement(client: &ClientKey, calls: &[ServedCall]) -> ChannelId {
	set_challenge_window(5);
	let id = open(client, 1_000);
	let (settlement, signature) = settlement(1, voucher(client, id, 200), calls);
	assert_ok!(Channels::settle(RuntimeOrigin::none(), settlement, signature));
	id
}

/// Bob challenges call `position` of `calls`, settlement 0 of `channel`, as `model`'s.
fn challenge(
	channel: ChannelId,
	model: ModelId,
	calls: &[ServedCall],
	position: usize,
) -> DispatchResult {
	let proof = merkle::proof(calls, position).unwrap();
	Channels::challenge_call(
		RuntimeOrigin::signed(bob()),
		channel,
		0,
		model,
		calls[position],
		proof,
	)
}

#[test]
fn a_challenged_call_keeps_its_settlement_held_until_its_case_upholds_it() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let calls = priced_calls(MODEL_HASH, 0);
		let channel = held_settlement(&client, &calls);
		assert_ok!(challenge(channel, MODEL, &calls, 1));
		let id = DIRECT_CALL_IDS;
		assert_eq!(challenged(), vec![(bob(), id)]);
		assert_eq!(
			last_event(),
			Event::CallChallenged {
				id,
				channel,
				index: 0,
				position: 1,
				call_digest: calls[1].call_digest,
				challenger: bob(),
			}
		);
		assert_eq!(Disputes::<Test>::get(channel, 0), Some(1));
		assert_eq!(WindowEnds::<Test>::iter().count(), 0, "not paid when the window ends");
		Channels::do_try_state().unwrap();
		run_to(10);
		assert_eq!(free(&operator(1)), START, "held past its window while its case is open");
		assert!(HeldSettlements::<Test>::contains_key(channel, 0));
		Channels::do_try_state().unwrap();
		assert!(<Channels as HeldResults<_, _>>::conclude(id, true));
		assert_eq!(free(&operator(1)), START + 190, "upheld after its window: paid at once");
		assert_eq!(held(&client.account()), 800);
		assert!(OpenedCalls::<Test>::iter().next().is_none());
		assert!(OpenedLeaves::<Test>::iter().next().is_none());
		assert!(Disputes::<Test>::iter().next().is_none());
		assert!(!<Channels as HeldResults<_, _>>::conclude(id, true), "ended once");
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn a_call_found_wrong_is_refunded_to_its_client_and_the_rest_paid_at_the_windows_end() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let calls = priced_calls(MODEL_HASH, 0);
		let channel = held_settlement(&client, &calls);
		let treasury = free(&Treasury::get());
		assert_ok!(challenge(channel, MODEL, &calls, 2));
		run_to(3);
		assert!(<Channels as HeldResults<_, _>>::conclude(DIRECT_CALL_IDS, false));
		assert_eq!(
			last_event(),
			Event::CallRefunded { id: DIRECT_CALL_IDS, channel, index: 0, refund: 50 }
		);
		assert_eq!(held(&client.account()), 950, "800 on the channel, 150 still held");
		let kept = HeldSettlements::<Test>::get(channel, 0).unwrap();
		// A quarter of each share, the fee's rounded down.
		assert_eq!((kept.paid, kept.protocol_fee), (142, 8), "both shares gave in proportion");
		assert!(WindowEnds::<Test>::contains_key(6, (channel, 0)), "its window ends as before");
		Channels::do_try_state().unwrap();
		run_to(6);
		assert_eq!(free(&operator(1)), START + 142);
		assert_eq!(free(&Treasury::get()), treasury + 8);
		assert_eq!(held(&client.account()), 800);
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn a_settlement_with_two_calls_challenged_is_paid_when_both_cases_end() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let calls = priced_calls(MODEL_HASH, 0);
		let channel = held_settlement(&client, &calls);
		assert_ok!(challenge(channel, MODEL, &calls, 0));
		assert_ok!(challenge(channel, MODEL, &calls, 3));
		assert_eq!(Disputes::<Test>::get(channel, 0), Some(2));
		run_to(8);
		assert!(<Channels as HeldResults<_, _>>::conclude(DIRECT_CALL_IDS + 1, false));
		assert_eq!(free(&operator(1)), START, "the other case is still open");
		Channels::do_try_state().unwrap();
		assert!(<Channels as HeldResults<_, _>>::conclude(DIRECT_CALL_IDS, true));
		assert_eq!(free(&operator(1)), START + 142);
		assert_eq!(held(&client.account()), 800);
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn the_game_reads_a_challenged_call_as_a_held_result() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let calls = priced_calls(MODEL_HASH, 1);
		let channel = held_settlement(&client, &calls);
		assert_ok!(challenge(channel, MODEL, &calls, 3));
		let id = DIRECT_CALL_IDS;
		let held = <Channels as HeldResults<_, _>>::held(id).unwrap();
		assert_eq!(
			(held.node, held.operator, held.client.clone(), held.model, held.mode),
			(node(1), operator(1), client.account(), MODEL, VerificationMode::Tee)
		);
		assert_eq!((held.price, held.surcharge, held.final_at), (50, 0, 6));
		assert_eq!(held.subject, calls[3].hash());
		assert!(!held.provable);
		let to_check = <Channels as HeldResults<_, _>>::to_check(id).unwrap();
		assert_eq!(to_check.model_hash, MODEL_HASH);
		assert_eq!(to_check.input, CheckInput::Call { digest: calls[3].call_digest });
		assert_eq!((to_check.output_hash, to_check.output), (calls[3].response_digest, None));
		assert_eq!(<Channels as HeldResults<_, _>>::pay_surcharge(id, &bob(), 10), 0);
		assert!(!<Channels as HeldResults<_, _>>::verify_proof(id, b"out", b"proof"));
		assert!(!<Channels as HeldResults<_, _>>::dispute(id + 1), "no such call");
		assert!(<Channels as HeldResults<_, _>>::held(id + 1).is_none());
	});
}

#[test]
fn bad_challenges_are_refused_and_change_nothing() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let calls = priced_calls(LLM_HASH, 0);
		let channel = held_settlement(&client, &calls);
		let mut wrong = calls[1];
		wrong.amount = 49;
		let proof = merkle::proof(&calls, 1).unwrap();
		assert_noop!(
			Channels::challenge_call(RuntimeOrigin::signed(bob()), channel, 0, MODEL, wrong, proof),
			Error::<Test>::NotServed
		);
		let other_position = merkle::proof(&calls, 0).unwrap();
		assert_noop!(
			Channels::challenge_call(
				RuntimeOrigin::signed(bob()),
				channel,
				0,
				MODEL,
				calls[1],
				other_position
			),
			Error::<Test>::NotServed
		);
		assert_noop!(challenge(channel, 9, &calls, 1), Error::<Test>::WrongModel);
		// A model of the same artifact the node does not serve: its verifiers could be the
		// challenger's.
		assert_noop!(challenge(channel, COPY, &calls, 1), Error::<Test>::WrongModel);
		assert_noop!(challenge(channel, LLM, &calls, 1), Error::<Test>::WrongModel);
		assert_noop!(challenge(channel, LLM, &calls, 2), Error::<Test>::NotCheckable);
		assert_noop!(
			Channels::challenge_call(
				RuntimeOrigin::signed(bob()),
				channel,
				1,
				MODEL,
				calls[1],
				merkle::proof(&calls, 1).unwrap()
			),
			Error::<Test>::NotHeld
		);
		assert_ok!(challenge(channel, MODEL, &calls, 1));
		assert_noop!(challenge(channel, MODEL, &calls, 1), Error::<Test>::AlreadyOpened);
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn a_zkml_call_or_one_past_its_window_cannot_be_challenged() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let calls = priced_calls(MODEL_HASH, 2);
		let channel = held_settlement(&client, &calls);
		assert_noop!(challenge(channel, MODEL, &calls, 2), Error::<Test>::NotCheckable);
		run_to(5);
		// The window's last block.
		assert_ok!(challenge(channel, MODEL, &calls, 0));
		assert!(<Channels as HeldResults<_, _>>::conclude(DIRECT_CALL_IDS, true));
		run_to(6);
		assert_noop!(challenge(channel, MODEL, &calls, 1), Error::<Test>::NotHeld);
	});
}

#[test]
fn a_call_of_a_settlement_paid_at_once_or_of_a_withdrawn_channel_cannot_be_challenged() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let calls = priced_calls(MODEL_HASH, 0);
		let id = open(&client, 1_000);
		let (paid_at_once, signature) = settlement(1, voucher(&client, id, 200), &calls);
		assert_ok!(Channels::settle(RuntimeOrigin::none(), paid_at_once, signature));
		assert_noop!(challenge(id, MODEL, &calls, 0), Error::<Test>::NotHeld);

		// A window longer than the dispute period: the client withdraws within it.
		set_challenge_window(20);
		let bob_client = ClientKey::new(0, 3);
		let channel = open(&bob_client, 1_000);
		let (held_long, signature) = settlement(1, voucher(&bob_client, channel, 200), &calls);
		assert_ok!(Channels::settle(RuntimeOrigin::none(), held_long, signature));
		assert_ok!(Channels::close(RuntimeOrigin::signed(bob_client.account()), channel));
		run_to(System::block_number() + DisputePeriod::get());
		assert_ok!(Channels::withdraw(RuntimeOrigin::signed(bob_client.account()), channel));
		assert_noop!(challenge(channel, MODEL, &calls, 0), Error::<Test>::UnknownChannel);
	});
}
