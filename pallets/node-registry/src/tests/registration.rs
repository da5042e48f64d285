use super::*;

#[test]
fn register_holds_the_bond_and_records_the_node() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_eq!(
			last_event(),
			Event::NodeRegistered {
				node: key(1),
				operator: ALICE,
				roles: Roles(Roles::INFERENCE),
				bond: 5_000
			}
		);
		let node = Nodes::<Test>::get(key(1)).unwrap();
		assert_eq!((node.operator, node.bond, node.status), (ALICE, 5_000, NodeStatus::Active));
		assert_eq!(node.capabilities, capabilities());
		assert_eq!(Balances::balance_on_hold(&HoldReason::NodeBond.into(), &ALICE), 5_000);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT - 5_000);
		assert!(Registry::is_live(&key(1), Roles::INFERENCE));
		assert!(!Registry::is_live(&key(1), Roles::DATA));
		assert_eq!(Registry::tee_attestation(&key(1)), None);
	});
}

#[test]
fn bad_registrations_fail_with_named_errors_and_change_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_noop!(register(1, BOB, 5_000), Error::<Test>::NodeAlreadyRegistered);
		assert_noop!(register(2, ALICE, 999), Error::<Test>::BondTooLow);
		assert_noop!(register(2, ALICE, ENDOWMENT), Error::<Test>::InsufficientBalance);
		for roles in [0, 1 << 5] {
			assert_noop!(
				Registry::register(
					RuntimeOrigin::signed(ALICE),
					key(2),
					Roles(roles),
					capabilities(),
					5_000,
					registration_signature(2, ALICE)
				),
				Error::<Test>::InvalidRoles
			);
		}
		let mut no_modes = capabilities();
		no_modes.modes = VerificationModes(0);
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(ALICE),
				key(2),
				Roles(Roles::INFERENCE),
				no_modes,
				5_000,
				registration_signature(2, ALICE)
			),
			Error::<Test>::InvalidModes
		);
		// Signed for another operator, or by another key: no proof of possession.
		for signature in [registration_signature(2, BOB), registration_signature(3, ALICE)] {
			assert_noop!(
				Registry::register(
					RuntimeOrigin::signed(ALICE),
					key(2),
					Roles(Roles::INFERENCE),
					capabilities(),
					5_000,
					signature
				),
				Error::<Test>::BadNodeKeySignature
			);
		}
		assert_noop!(
			Registry::register(
				RuntimeOrigin::none(),
				key(2),
				Roles(Roles::INFERENCE),
				capabilities(),
				5_000,
				registration_signature(2, ALICE)
			),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn operators_manage_only_their_own_nodes() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		let other = RuntimeOrigin::signed(BOB);
		assert_noop!(Registry::heartbeat(other.clone(), key(1)), Error::<Test>::NotOperator);
		assert_noop!(Registry::bond_extra(other.clone(), key(1), 10), Error::<Test>::NotOperator);
		assert_noop!(
			Registry::request_challenge(other.clone(), key(1)),
			Error::<Test>::NotOperator
		);
		assert_noop!(Registry::unregister(other.clone(), key(1)), Error::<Test>::NotOperator);
		assert_noop!(
			Registry::update_capabilities(other, key(1), capabilities()),
			Error::<Test>::NotOperator
		);
		assert_noop!(
			Registry::heartbeat(RuntimeOrigin::signed(ALICE), key(9)),
			Error::<Test>::NodeNotFound
		);
	});
}

#[test]
fn capabilities_and_bond_can_change() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		let mut cpu = capabilities();
		cpu.hardware = Hardware {
			class: HardwareClass::Cpu,
			gpu_model: Default::default(),
			gpu_memory_mib: 0,
		};
		assert_ok!(Registry::update_capabilities(
			RuntimeOrigin::signed(ALICE),
			key(1),
			cpu.clone()
		));
		assert_eq!(Nodes::<Test>::get(key(1)).unwrap().capabilities, cpu);
		assert_ok!(Registry::bond_extra(RuntimeOrigin::signed(ALICE), key(1), 500));
		assert_eq!(last_event(), Event::BondIncreased { node: key(1), bond: 5_500 });
		assert_eq!(Balances::balance_on_hold(&HoldReason::NodeBond.into(), &ALICE), 5_500);
		assert_noop!(
			Registry::bond_extra(RuntimeOrigin::signed(ALICE), key(1), ENDOWMENT),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn liveness_needs_heartbeats_within_the_window() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		run_to(1 + LivenessWindow::get());
		assert!(Registry::is_live(&key(1), Roles::INFERENCE));
		run_to(2 + LivenessWindow::get());
		assert!(!Registry::is_live(&key(1), Roles::INFERENCE));
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), key(1)));
		assert_eq!(last_event(), Event::Heartbeat { node: key(1) });
		assert!(Registry::is_live(&key(1), Roles::INFERENCE));
	});
}

/// A node that serves no job a block would never be assigned one: its declaration is an
/// error, not a silent exclusion.
#[test]
fn an_inference_node_declares_at_least_one_job_a_block() {
	ExtBuilder::default().build_and_execute(|| {
		let mut idle = capabilities();
		idle.jobs_per_block = 0;
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(ALICE),
				key(1),
				Roles(Roles::INFERENCE),
				idle.clone(),
				5_000,
				registration_signature(1, ALICE)
			),
			Error::<Test>::NoJobsPerBlock
		);
		// A verification node serves no inference jobs.
		assert_ok!(Registry::register(
			RuntimeOrigin::signed(ALICE),
			key(2),
			Roles(Roles::VERIFIER),
			idle.clone(),
			5_000,
			registration_signature(2, ALICE)
		));
		assert_ok!(register(1, ALICE, 5_000));
		assert_noop!(
			Registry::update_capabilities(RuntimeOrigin::signed(ALICE), key(1), idle),
			Error::<Test>::NoJobsPerBlock
		);
	});
}
