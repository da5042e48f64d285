use super::*;

#[test]
fn a_missed_deadline_penalizes_and_reassigns() {
	build_and_execute(|| {
		register_node(1, 1_000);
		register_node(2, 1_000);
		let id = request(ALICE);
		let first = assigned(id);
		let treasury = Balances::balance(&Treasury::get());
		run_to(7);
		let second = assigned(id);
		assert_ne!(first, second);
		assert_eq!(pallet_node_registry::Nodes::<Test>::get(key(first)).unwrap().bond, 700);
		assert_eq!(Balances::balance(&Treasury::get()), treasury + 300);
		assert_eq!(Requests::<Test>::get(id).unwrap().deadline, 12);
		assert!(events().contains(&Event::DeadlineMissed {
			request: id,
			node: key(first),
			penalty: 300
		}));
		assert!(!Assignments::<Test>::contains_key(key(first), id));
		assert_noop!(submit(id, first), Error::<Test>::NotAssigned);
		assert_ok!(submit(id, second));
	});
}

#[test]
fn with_no_other_node_or_after_the_last_attempt_the_fee_comes_back() {
	build_and_execute(|| {
		register_node(1, 1_000);
		let id = request(ALICE);
		run_to(7);
		assert!(Requests::<Test>::get(id).is_none());
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT);
		assert!(events().contains(&Event::RequestExpired { request: id, refunded: PRICE }));

		// Three nodes never answer: three attempts (MaxAttempts), then a refund.
		register_node(2, 1_000);
		register_node(3, 1_000);
		let id = request(BOB);
		for block in 8..40 {
			run_to(block);
			for n in 1..=3 {
				let _ = NodeRegistry::heartbeat(RuntimeOrigin::signed(operator(n)), key(n));
			}
		}
		assert!(Requests::<Test>::get(id).is_none());
		let missed = events()
			.iter()
			.filter(|e| matches!(e, Event::DeadlineMissed { request, .. } if *request == id))
			.count();
		assert_eq!(missed, 3);
		assert_eq!(Balances::balance(&BOB), ENDOWMENT);
	});
}
