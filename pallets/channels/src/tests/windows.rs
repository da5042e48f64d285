//! Settlements held through their challenge window ([`Config::Checks`]).

use super::*;
use polkadot_sdk::frame_support::traits::Hooks;

/// Every event of the channels pallet so far, oldest first.
fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Channels(event) => Some(event),
			_ => None,
		})
		.collect()
}

#[test]
fn a_settlement_is_held_in_the_clients_hold_through_its_window_then_paid() {
	new_test_ext().execute_with(|| {
		set_challenge_window(5);
		let client = alice();
		let id = open(&client, 1_000);
		let treasury = free(&Treasury::get());
		assert_ok!(settle(&client, id, 200, 4));
		assert!(events().contains(&Event::PaymentHeld { channel: id, index: 0, until: 6 }));
		assert_eq!(free(&operator(1)), START, "nothing paid in the window");
		assert_eq!(free(&Treasury::get()), treasury);
		assert_eq!(held(&client.account()), 1_000, "800 left on the channel, 200 claimed and held");
		assert_eq!(OpenChannels::<Test>::get(id).unwrap().claimed, 200);
		let kept = HeldSettlements::<Test>::get(id, 0).unwrap();
		assert_eq!(
			(kept.client, kept.operator, kept.paid, kept.protocol_fee, kept.final_at),
			(client.account(), operator(1), 190, 10, 6)
		);
		Channels::do_try_state().unwrap();
		run_to(5);
		assert_eq!(free(&operator(1)), START);
		Channels::do_try_state().unwrap();
		run_to(6);
		assert_eq!(free(&operator(1)), START + 190);
		assert_eq!(free(&Treasury::get()), treasury + 10);
		assert_eq!(held(&client.account()), 800);
		assert_eq!(
			last_event(),
			Event::PaymentReleased { channel: id, index: 0, paid: 190, protocol_fee: 10 }
		);
		assert!(HeldSettlements::<Test>::get(id, 0).is_none());
		assert_eq!(WindowEnds::<Test>::iter().count(), 0);
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn each_settlement_of_a_channel_ends_its_own_window() {
	new_test_ext().execute_with(|| {
		set_challenge_window(5);
		let client = alice();
		let id = open(&client, 1_000);
		assert_ok!(settle(&client, id, 200, 1));
		run_to(3);
		assert_ok!(settle(&client, id, 500, 1));
		assert!(events().contains(&Event::PaymentHeld { channel: id, index: 1, until: 8 }));
		run_to(6);
		assert_eq!(free(&operator(1)), START + 190, "the first is paid, the second still held");
		assert_eq!(held(&client.account()), 800);
		Channels::do_try_state().unwrap();
		run_to(8);
		assert_eq!(free(&operator(1)), START + 190 + 285);
		assert_eq!(held(&client.account()), 500);
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn a_withdrawn_channels_held_settlement_is_still_paid_when_its_window_ends() {
	new_test_ext().execute_with(|| {
		set_challenge_window(10);
		let client = alice();
		let id = open(&client, 1_000);
		assert_ok!(settle(&client, id, 200, 1));
		assert_ok!(Channels::close(RuntimeOrigin::signed(client.account()), id));
		run_to(1 + DisputePeriod::get());
		assert_ok!(Channels::withdraw(RuntimeOrigin::signed(client.account()), id));
		assert_eq!(last_event(), Event::Withdrawn { channel: id, refund: 800 });
		assert_eq!(held(&client.account()), 200, "what the node claimed stays held");
		Channels::do_try_state().unwrap();
		run_to(11);
		assert_eq!(free(&operator(1)), START + 190);
		assert_eq!(held(&client.account()), 0);
		assert_eq!(free(&client.account()), START - 200);
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn a_held_settlement_its_operator_cannot_receive_goes_back_to_the_client() {
	new_test_ext().execute_with(|| {
		set_challenge_window(5);
		let client = alice();
		let id = open(&client, 1_000);
		assert_ok!(settle(&client, id, 200, 1));
		// An operator account that cannot take 190 more.
		assert_ok!(Balances::force_set_balance(RuntimeOrigin::root(), operator(1), u128::MAX - 50));
		run_to(6);
		assert_eq!(last_event(), Event::PaymentRefunded { channel: id, index: 0, refund: 200 });
		assert_eq!(free(&operator(1)), u128::MAX - 50);
		assert_eq!(held(&client.account()), 800);
		assert_eq!(free(&client.account()), START - 800);
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn with_no_window_a_settlement_is_paid_at_once_and_nothing_is_held() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 1_000);
		assert_ok!(settle(&client, id, 200, 1));
		assert_eq!(free(&operator(1)), START + 190);
		assert!(!events().iter().any(|event| matches!(event, Event::PaymentHeld { .. })));
		assert_eq!(HeldSettlements::<Test>::iter().count(), 0);
		assert_eq!(Channels::on_initialize(2), <() as WeightInfo>::end_windows(0));
	});
}
