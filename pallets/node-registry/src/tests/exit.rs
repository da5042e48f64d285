use super::*;

#[test]
fn exit_releases_the_bond_after_the_unbonding_period() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_ok!(attest(1, ALICE, |nonce| dev_document(1, nonce)));
		assert_noop!(
			Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE), key(1)),
			Error::<Test>::NotUnbonding
		);
		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)));
		let until = 1 + UnbondingPeriod::get();
		assert_eq!(last_event(), Event::NodeUnbonding { node: key(1), until });
		// No new assignment; the attestation still counts for what it was assigned.
		assert!(Registry::tee_attestation(&key(1)).is_some());
		assert!(!Registry::is_live(&key(1), Roles::INFERENCE));
		assert!(ModelNodes::<Test>::get(1).is_empty());
		assert_noop!(
			Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)),
			Error::<Test>::NodeNotActive
		);
		assert_noop!(
			Registry::heartbeat(RuntimeOrigin::signed(ALICE), key(1)),
			Error::<Test>::NodeNotActive
		);

		run_to(until - 1);
		assert_noop!(
			Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE), key(1)),
			Error::<Test>::StillUnbonding
		);
		run_to(until);
		assert_noop!(
			Registry::withdraw_unbonded(RuntimeOrigin::signed(BOB), key(1)),
			Error::<Test>::NotOperator
		);
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE), key(1)));
		assert_eq!(last_event(), Event::NodeRemoved { node: key(1), released: 5_000 });
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT);
		assert!(Nodes::<Test>::get(key(1)).is_none());
		assert!(Attestations::<Test>::get(key(1)).is_none());
		// The key can register again.
		assert_ok!(register(1, ALICE, 5_000));
	});
}

#[test]
fn revoked_nodes_can_still_exit() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_ok!(Registry::revoke_node(RuntimeOrigin::root(), key(1)));
		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)));
		run_to(1 + UnbondingPeriod::get());
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE), key(1)));
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT);
	});
}

#[test]
fn slashing_takes_from_the_bond_even_while_unbonding() {
	ExtBuilder::default().build_and_execute(|| {
		let issuance = Balances::total_issuance();
		assert_ok!(register(1, ALICE, 5_000));
		assert_eq!(<Registry as NodeSlashing<Balance>>::slash(&key(1), 1_000), 1_000);
		assert_eq!(last_event(), Event::NodeSlashed { node: key(1), amount: 1_000 });
		assert_eq!(Nodes::<Test>::get(key(1)).unwrap().bond, 4_000);
		assert_eq!(Balances::balance(&SlashSink::get()), 1 + 1_000);
		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)));
		// More than the bond: takes what there is.
		assert_eq!(<Registry as NodeSlashing<Balance>>::slash(&key(1), 10_000), 4_000);
		assert_eq!(<Registry as NodeSlashing<Balance>>::slash(&key(9), 10), 0);
		run_to(1 + UnbondingPeriod::get());
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE), key(1)));
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT - 5_000);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}
