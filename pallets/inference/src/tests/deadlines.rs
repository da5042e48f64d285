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

/// Regression: a block held at most `MaxDeadlinesPerBlock` deadlines, and requests beyond
/// them failed `DeadlineBlockFull` after paying their transaction fees. Any number now
/// share a deadline; those beyond `MaxExpiriesPerBlock` (4 here) expire in the next
/// blocks, earliest first, and none is answerable after its deadline.
#[test]
fn deadlines_never_refuse_a_request_and_expire_over_the_next_blocks() {
	build_and_execute(|| {
		register_node(1, 100_000);
		let ids: Vec<RequestId> = (0..10).map(|_| request(ALICE)).collect();
		assert_eq!(Deadlines::<Test>::iter_key_prefix(6).count(), 10);
		assert_ok!(submit(ids[0], 1));
		run_to(7);
		let expired = |ids: &[RequestId]| {
			ids.iter().filter(|id| !Requests::<Test>::contains_key(**id)).count()
		};
		// Block 7 handles four of the nine left; the others are refused all the same.
		assert_eq!(expired(&ids[1..]), 4);
		assert_eq!(ExpiryCursor::<Test>::get(), 6);
		let late = *ids[1..].iter().find(|id| Requests::<Test>::contains_key(**id)).unwrap();
		assert_noop!(submit(late, 1), Error::<Test>::DeadlinePassed);
		run_to(8);
		assert_eq!(expired(&ids[1..]), 8);
		// The last one, then the cursor catches up with the chain.
		run_to(9);
		assert_eq!(expired(&ids[1..]), 9);
		assert_eq!(ExpiryCursor::<Test>::get(), 9);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT - PRICE);
	});
}

/// Regression: a node was assigned any number of requests, and slashed for those it
/// could not answer in time. A node is now assigned at most its declared jobs per
/// block times the request's window; a request beyond every node's queue is refused
/// when made, and a node with room takes the rest.
#[test]
fn a_node_is_assigned_no_more_than_it_declared_it_serves() {
	build_and_execute(|| {
		let sign = |message: &[u8]| node_pair(1).sign(message);
		let mut slow = capabilities(MODEL);
		slow.jobs_per_block = 1;
		assert_ok!(pallet_node_registry::testing::register::<Test>(
			operator(1),
			key(1),
			pallet_node_registry::Roles::INFERENCE,
			slow,
			1_000,
			sign
		));
		// One job a block, a window of five blocks: five requests.
		let ids: Vec<RequestId> = (0..5).map(|_| request(ALICE)).collect();
		assert_eq!(AssignedCount::<Test>::get(key(1)), Some(5));
		assert_noop!(
			request_with(
				ALICE,
				inline(b"inpt"),
				VerificationMode::Vanilla,
				SettlementMode::Individual
			),
			Error::<Test>::NoNodeAvailable
		);
		// A longer window leaves room for more.
		assert_ok!(Inference::request(
			RuntimeOrigin::signed(ALICE),
			MODEL,
			inline(b"inpt"),
			VerificationMode::Vanilla,
			SettlementMode::Individual,
			PRICE,
			6
		));
		// Served requests free their places.
		assert_ok!(submit(ids[0], 1));
		assert_ok!(submit(ids[1], 1));
		assert_eq!(assigned(request(ALICE)), 1);
		// A node with room takes what the full one cannot.
		register_node(2, 1_000);
		assert_eq!(assigned(request(ALICE)), 2);
		assert_eq!(AssignedCount::<Test>::get(key(1)), Some(5));
	});
}
