//! Vouchers and their settlement.

use super::*;
use polkadot_sdk::sp_runtime::transaction_validity::{InvalidTransaction, TransactionSource};

#[test]
fn a_voucher_pays_the_operator_what_it_adds_less_the_protocol_fee() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 1_000);
		let treasury = free(&Treasury::get());
		assert_ok!(settle(&client, id, 200, 4));
		assert_eq!(free(&operator(1)), START + 190);
		assert_eq!(free(&Treasury::get()), treasury + 10, "5% to the treasury");
		assert_eq!(held(&client.account()), 800);
		let root = merkle::root(&calls(200, 4)).unwrap();
		assert_eq!(
			last_event(),
			Event::Settled {
				channel: id,
				index: 0,
				node: node(1),
				total: 200,
				paid: 190,
				protocol_fee: 10,
				root,
				calls: 4
			}
		);
		let kept = Settlements::<Test>::get(id, 0).unwrap();
		assert_eq!(
			(kept.root, kept.calls, kept.total, kept.amount, kept.at),
			(root, 4, 200, 200, 1)
		);
		// The next voucher moves only what it adds.
		assert_ok!(settle(&client, id, 500, 2));
		assert_eq!(free(&operator(1)), START + 190 + 285);
		assert_eq!(held(&client.account()), 500);
		assert_eq!(OpenChannels::<Test>::get(id).unwrap().settlements, 2);
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn a_node_claims_what_it_charged_under_a_voucher_and_never_more() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 1_000);
		// A usage-priced call authorized up to 400 and charged 120.
		let (charged, signature) = claiming(1, voucher(&client, id, 400), 120, &calls(1, 1));
		assert_ok!(Channels::settle(RuntimeOrigin::none(), charged, signature));
		assert_eq!(OpenChannels::<Test>::get(id).unwrap().claimed, 120);
		assert_eq!(held(&client.account()), 880);
		assert_eq!(Settlements::<Test>::get(id, 0).unwrap().total, 120);
		// The next voucher builds on the charged total: 120 + a cap of 100.
		let (next, signature) = claiming(1, voucher(&client, id, 220), 221, &calls(2, 1));
		assert_noop!(
			Channels::settle(RuntimeOrigin::none(), next, signature),
			Error::<Test>::AboveVoucher
		);
		let (next, signature) = claiming(1, voucher(&client, id, 220), 220, &calls(2, 1));
		assert_ok!(Channels::settle(RuntimeOrigin::none(), next, signature));
		assert_eq!(held(&client.account()), 780);
		// The node's signature binds the total it claims.
		let (mut raised, signature) = claiming(1, voucher(&client, id, 900), 300, &calls(3, 1));
		raised.total = 900;
		assert_noop!(
			Channels::settle(RuntimeOrigin::none(), raised, signature),
			Error::<Test>::BadNodeSignature
		);
		Channels::do_try_state().unwrap();
	});
}

#[test]
fn a_replayed_or_older_voucher_moves_nothing() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 1_000);
		let (first, signature) = settlement(1, voucher(&client, id, 200), &calls(1, 2));
		assert_ok!(Channels::settle(RuntimeOrigin::none(), first.clone(), signature));
		assert_noop!(
			Channels::settle(RuntimeOrigin::none(), first, signature),
			Error::<Test>::NotAboveClaimed
		);
		assert_noop!(settle(&client, id, 150, 1), Error::<Test>::NotAboveClaimed);
		assert_eq!(free(&operator(1)), START + 190);
	});
}

#[test]
fn a_voucher_above_the_deposit_is_refused_until_the_deposit_covers_it() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 1_000);
		assert_noop!(settle(&client, id, 1_001, 1), Error::<Test>::AboveDeposit);
		assert_ok!(Channels::top_up(RuntimeOrigin::signed(client.account()), id, 1));
		assert_ok!(settle(&client, id, 1_001, 1));
		assert_eq!(held(&client.account()), 0);
	});
}

#[test]
fn a_voucher_of_another_channel_chain_or_signer_is_refused() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 1_000);
		let other = open(&client, 1_000);
		let none = RuntimeOrigin::none;
		// Signed for the other channel.
		let mut moved = voucher(&client, other, 100);
		moved.channel = id;
		let (forged, signature) = settlement(1, moved, &calls(1, 1));
		assert_noop!(
			Channels::settle(none(), forged, signature),
			Error::<Test>::BadVoucherSignature
		);
		// Signed for another chain.
		let digest = [1; 32];
		let foreign = message::voucher(&[0x43; 32], id, 100, &digest);
		let foreign = Voucher {
			channel: id,
			cumulative: 100,
			call_digest: digest,
			signature: client.sign(&foreign),
		};
		let (forged, signature) = settlement(1, foreign, &calls(1, 1));
		assert_noop!(
			Channels::settle(none(), forged, signature),
			Error::<Test>::BadVoucherSignature
		);
		// Signed by someone else.
		let (forged, signature) =
			settlement(1, voucher(&ClientKey::new(0, 2), id, 100), &calls(1, 1));
		assert_noop!(
			Channels::settle(none(), forged, signature),
			Error::<Test>::BadVoucherSignature
		);
		// A changed amount.
		let mut raised = voucher(&client, id, 100);
		raised.cumulative = 900;
		let (forged, signature) = settlement(1, raised, &calls(1, 1));
		assert_noop!(
			Channels::settle(none(), forged, signature),
			Error::<Test>::BadVoucherSignature
		);
		assert_eq!(free(&operator(1)), START);
	});
}

#[test]
fn ed25519_and_ecdsa_accounts_pay_with_their_own_signatures() {
	new_test_ext().execute_with(|| {
		for kind in [1, 2] {
			let client = ClientKey::new(kind, 3);
			let id = open(&client, 1_000);
			assert_ok!(settle(&client, id, 300, 1));
			assert_eq!(held(&client.account()), 700);
		}
		assert_eq!(free(&operator(1)), START + 2 * 285);
	});
}

#[test]
fn only_the_channels_node_settles_with_its_own_key_over_what_it_signed() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 1_000);
		let none = RuntimeOrigin::none;
		let (wrong_node, signature) = settlement(2, voucher(&client, id, 100), &calls(1, 1));
		assert_noop!(Channels::settle(none(), wrong_node, signature), Error::<Test>::WrongNode);
		// Node 2's signature on node 1's settlement.
		let (mut forged, _) = settlement(1, voucher(&client, id, 100), &calls(1, 1));
		let (_, other) = settlement(2, voucher(&client, id, 100), &calls(1, 1));
		assert_noop!(
			Channels::settle(none(), forged.clone(), other),
			Error::<Test>::BadNodeSignature
		);
		// Another root or count than signed.
		let (_, signature) = settlement(1, voucher(&client, id, 100), &calls(1, 1));
		forged.root = [9; 32];
		assert_noop!(
			Channels::settle(none(), forged.clone(), signature),
			Error::<Test>::BadNodeSignature
		);
		let (mut recounted, signature) = settlement(1, voucher(&client, id, 100), &calls(1, 2));
		recounted.calls = 3;
		assert_noop!(
			Channels::settle(none(), recounted, signature),
			Error::<Test>::BadNodeSignature
		);
		assert_noop!(settle(&client, id, 100, 0), Error::<Test>::NoCalls);
		assert_noop!(
			Channels::settle(RuntimeOrigin::signed(client.account()), forged, signature),
			polkadot_sdk::sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn small_settlements_wait_until_the_channel_winds_down() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 1_000);
		assert_noop!(settle(&client, id, 9, 1), Error::<Test>::SettlementTooSmall);
		assert_ok!(settle(&client, id, 10, 1));
		run_to(100);
		assert_ok!(settle(&client, id, 11, 1));
	});
}

// `ValidateUnsigned` is deprecated (see the pallet); its validation is what is tested.
#[allow(deprecated)]
#[test]
fn the_pool_takes_a_settlement_only_as_dispatch_would_and_says_why_not() {
	use polkadot_sdk::frame_support::unsigned::ValidateUnsigned;
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 1_000);
		let validate = |settlement: SettlementOf<Test>, signature| {
			Channels::validate_unsigned(
				TransactionSource::External,
				&Call::settle { settlement, signature },
			)
		};
		let (good, signature) = settlement(1, voucher(&client, id, 100), &calls(1, 1));
		let valid = validate(good.clone(), signature).unwrap();
		assert_eq!(valid.provides.len(), 1);
		assert_eq!(valid.priority, u64::MAX / 2);
		let (_, other) = settlement(2, voucher(&client, id, 100), &calls(1, 1));
		assert_eq!(validate(good.clone(), other), Err(InvalidTransaction::BadSigner.into()));
		let (unpaid, signature_of_unpaid) =
			settlement(1, voucher(&ClientKey::new(0, 2), id, 100), &calls(1, 1));
		assert_eq!(validate(unpaid, signature_of_unpaid), Err(InvalidTransaction::BadProof.into()));
		let (above, signature_above) = settlement(1, voucher(&client, id, 5_000), &calls(1, 1));
		assert!(matches!(
			validate(above, signature_above),
			Err(polkadot_sdk::sp_runtime::transaction_validity::TransactionValidityError::Invalid(
				InvalidTransaction::Custom(_)
			))
		));
		assert_ok!(Channels::settle(RuntimeOrigin::none(), good.clone(), signature));
		assert_eq!(validate(good, signature), Err(InvalidTransaction::Stale.into()));
	});
}

#[test]
fn a_served_call_proves_it_was_settled_and_nothing_else_does() {
	new_test_ext().execute_with(|| {
		let client = alice();
		let id = open(&client, 1_000);
		let served = calls(7, 5);
		let (settled, signature) = settlement(1, voucher(&client, id, 100), &served);
		assert_ok!(Channels::settle(RuntimeOrigin::none(), settled, signature));
		for (index, call) in served.iter().enumerate() {
			let proof = merkle::proof(&served, index).unwrap();
			assert!(Channels::served_proof(id, 0, call, &proof));
			assert!(!Channels::served_proof(id, 1, call, &proof), "no such settlement");
			let mut forged = *call;
			forged.amount += 1;
			assert!(!Channels::served_proof(id, 0, &forged, &proof));
		}
		let unsettled = calls(8, 1)[0];
		assert!(!Channels::served_proof(
			id,
			0,
			&unsettled,
			&merkle::proof(&[unsettled], 0).unwrap()
		));
	});
}
