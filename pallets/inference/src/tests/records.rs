//! Records are not kept for free: each request holds a record deposit, returned when its
//! settled record is pruned after the retention period, or at once if it ends unserved.

use super::{
	batches::{batch_requests, leaf, signed_batch},
	*,
};

fn deposit_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::RecordDeposit.into(), &who)
}

fn prune(ids: &[RequestId]) -> DispatchResult {
	Inference::prune_records(RuntimeOrigin::signed(BOB), BoundedVec::truncate_from(ids.to_vec()))
}

#[test]
fn a_settled_record_is_kept_for_its_retention_then_pruned_with_its_deposit_back() {
	build_and_execute(|| {
		RecordDeposit::set(50);
		register_node(1, 1_000);
		let id = request(ALICE);
		assert_eq!((held(ALICE), deposit_held(ALICE)), (PRICE, 50));
		assert_ok!(submit(id, 1));
		// Settled: the fee is paid, the deposit stays with the record.
		assert_eq!((held(ALICE), deposit_held(ALICE)), (0, 50));
		let at = Results::<Test>::get(id).unwrap().at;
		run_to(at + RecordRetention::get() - 1);
		assert_noop!(prune(&[id]), Error::<Test>::NotPrunable);
		run_to(at + RecordRetention::get());
		// Unknown or repeated ids refuse the whole call.
		assert_noop!(prune(&[id, 99]), Error::<Test>::NotPrunable);
		assert_noop!(prune(&[id, id]), Error::<Test>::NotPrunable);
		assert_ok!(prune(&[id]));
		assert_eq!(events().last(), Some(&Event::RecordsPruned { count: 1, released: 50 }));
		assert!(Results::<Test>::get(id).is_none());
		assert_eq!(deposit_held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT - PRICE);
	});
}

#[test]
fn a_request_that_ends_unserved_returns_its_deposit_at_once() {
	build_and_execute(|| {
		RecordDeposit::set(50);
		register_node(1, 1_000);
		let id = request(ALICE);
		run_to(7);
		assert!(Requests::<Test>::get(id).is_none());
		assert_eq!((held(ALICE), deposit_held(ALICE)), (0, 0));
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT);
		// A requester who cannot cover the deposit cannot request.
		RecordDeposit::set(ENDOWMENT);
		assert_noop!(
			request_with(
				ALICE,
				inline(b"inpt"),
				VerificationMode::Vanilla,
				SettlementMode::Individual
			),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn a_batch_is_kept_until_its_last_record_is_pruned() {
	build_and_execute(|| {
		RecordDeposit::set(50);
		register_node(1, 1_000);
		let ids = batch_requests(2);
		let (batch, signature) = signed_batch(1, ids.iter().map(|id| leaf(*id)).collect(), 1);
		assert_ok!(Inference::submit_batch(RuntimeOrigin::none(), batch, signature));
		run_to(1 + RecordRetention::get());
		assert_ok!(prune(&ids[..1]));
		assert!(Inference::batch_proof(ids[1]).is_some(), "the other record still proves");
		assert_eq!(BatchRecordsLeft::<Test>::get(0), Some(1));
		assert_ok!(prune(&ids[1..]));
		assert!(Batches::<Test>::get(0).is_none() && BatchRecordsLeft::<Test>::get(0).is_none());
		assert_eq!(deposit_held(ALICE), 0);
	});
}
