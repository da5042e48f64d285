//! Opening, topping up, closing and withdrawing.

use super::*;

#[test]
fn opening_a_channel_holds_its_deposit_for_the_node() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 500);
		assert_eq!(held(&client.account()), 500);
		assert_eq!(free(&client.account()), START - 500);
		let channel = OpenChannels::<Test>::get(id).unwrap();
		assert_eq!((channel.node, channel.deposit, channel.claimed), (node(1), 500, 0));
		assert_eq!(
			last_event(),
			Event::Opened {
				channel: id,
				client: client.account(),
				node: node(1),
				deposit: 500,
				expiry: 100
			}
		);
		assert_eq!(open(&client, 100), id + 1, "ids are consecutive");
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn a_channel_is_opened_only_to_a_serving_node_with_enough_deposit_and_time() {
	new_test_ext().execute_with(|| {
		let who = RuntimeOrigin::signed(alice().account());
		assert_noop!(Channels::open(who.clone(), node(3), 500, 100), Error::<Test>::NodeNotServing);
		assert_noop!(Channels::open(who.clone(), node(1), 99, 100), Error::<Test>::DepositTooLow);
		// Block 1 + a dispute period of 5: the expiry must come after block 6.
		assert_noop!(Channels::open(who.clone(), node(1), 500, 6), Error::<Test>::ExpiryTooSoon);
		assert_noop!(
			Channels::open(who, node(1), START + 1, 100),
			Error::<Test>::InsufficientBalance
		);
		assert_eq!(NextChannelId::<Test>::get(), 0);
	});
}

#[test]
fn a_client_tops_up_only_its_own_open_channel() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 500);
		assert_ok!(Channels::top_up(RuntimeOrigin::signed(client.account()), id, 250));
		assert_eq!(held(&client.account()), 750);
		assert_eq!(OpenChannels::<Test>::get(id).unwrap().deposit, 750);
		assert_eq!(last_event(), Event::ToppedUp { channel: id, amount: 250, deposit: 750 });
		let other = ClientKey::new(1, 2).account();
		assert_noop!(
			Channels::top_up(RuntimeOrigin::signed(other), id, 1),
			Error::<Test>::NotClient
		);
		let origin = RuntimeOrigin::signed(client.account());
		assert_noop!(Channels::top_up(origin.clone(), 9, 1), Error::<Test>::UnknownChannel);
		assert_noop!(Channels::top_up(origin.clone(), id, 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Channels::top_up(origin.clone(), id, START),
			Error::<Test>::InsufficientBalance
		);
		run_to(100);
		assert_noop!(Channels::top_up(origin.clone(), id, 1), Error::<Test>::ChannelExpired);
		run_to(50);
		assert_ok!(Channels::close(origin.clone(), id));
		assert_noop!(Channels::top_up(origin, id, 1), Error::<Test>::ChannelClosing);
	});
}

#[test]
fn a_closed_channel_is_withdrawn_after_its_dispute_period_with_what_was_not_claimed() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 500);
		assert_ok!(settle(&client, id, 120, 3));
		let origin = RuntimeOrigin::signed(client.account());
		assert_noop!(Channels::withdraw(origin.clone(), id), Error::<Test>::NotWithdrawable);
		assert_ok!(Channels::close(origin.clone(), id));
		assert_eq!(last_event(), Event::Closing { channel: id, closes_at: 6 });
		assert_noop!(Channels::close(origin.clone(), id), Error::<Test>::AlreadyClosing);
		// The node may still settle in the dispute period, a small remainder included.
		run_to(5);
		assert_ok!(settle(&client, id, 125, 1));
		assert_noop!(Channels::withdraw(origin.clone(), id), Error::<Test>::NotWithdrawable);
		run_to(6);
		let stranger = RuntimeOrigin::signed(ClientKey::new(0, 2).account());
		assert_noop!(Channels::withdraw(stranger, id), Error::<Test>::NotClient);
		assert_ok!(Channels::withdraw(origin.clone(), id));
		assert_eq!(last_event(), Event::Withdrawn { channel: id, refund: 375 });
		assert_eq!(held(&client.account()), 0);
		assert_eq!(free(&client.account()), START - 125);
		assert!(!OpenChannels::<Test>::contains_key(id));
		// Settlements stay provable; the channel takes no more.
		assert!(Settlements::<Test>::contains_key(id, 1));
		assert_noop!(settle(&client, id, 130, 1), Error::<Test>::UnknownChannel);
		assert_noop!(Channels::withdraw(origin, id), Error::<Test>::UnknownChannel);
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn a_channel_the_node_never_settles_is_withdrawn_after_its_expiry_without_closing() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 500);
		let origin = RuntimeOrigin::signed(client.account());
		run_to(99);
		assert_noop!(Channels::withdraw(origin.clone(), id), Error::<Test>::NotWithdrawable);
		run_to(100);
		assert_ok!(Channels::withdraw(origin, id));
		assert_eq!(free(&client.account()), START);
		assert_eq!(held(&client.account()), 0);
	});
}

#[test]
fn a_revoked_nodes_channel_is_still_withdrawn() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 500);
		set_operator(node(1), None);
		assert_noop!(settle(&client, id, 100, 1), Error::<Test>::NodeNotServing);
		let origin = RuntimeOrigin::signed(client.account());
		assert_ok!(Channels::close(origin.clone(), id));
		run_to(6);
		assert_ok!(Channels::withdraw(origin, id));
		assert_eq!(free(&client.account()), START);
	});
}
