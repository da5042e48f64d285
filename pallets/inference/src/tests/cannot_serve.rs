//! A node that cannot serve a request says so (`cannot_serve`) instead of being slashed for
//! a request no one could answer; griefing costs the griefer the cannot-serve fee, and a
//! node that declines what it could serve gains nothing.

use super::*;

fn stored_request(who: AccountId) -> RequestId {
	let id = NextRequestId::<Test>::get();
	assert_ok!(request_with(who, stored(7), VerificationMode::Vanilla, SettlementMode::Private));
	id
}

/// Node `n`'s notice for `id`, signed by node `signer`.
fn notice(
	id: RequestId,
	n: u8,
	reason: CannotServeReason,
	signer: u8,
) -> (CannotServe, sr25519::Signature) {
	let request = Requests::<Test>::get(id).unwrap();
	let (code, detail) = reason.code_and_detail();
	let message = opg_settlement::message::cannot_serve(
		&GENESIS_HASH,
		id,
		&request.input_hash,
		code,
		&detail,
	);
	(CannotServe { request: id, node: key(n), reason }, node_pair(signer).sign(&message))
}

fn decline(id: RequestId, n: u8, reason: CannotServeReason) -> DispatchResult {
	let (notice, signature) = notice(id, n, reason, n);
	Inference::cannot_serve(RuntimeOrigin::none(), notice, signature)
}

fn bond(n: u8) -> Balance {
	pallet_node_registry::Nodes::<Test>::get(key(n)).unwrap().bond
}

#[test]
fn unservable_stored_input_does_not_slash_the_node() {
	build_and_execute(|| {
		register_node(1, 1_000);
		let id = stored_request(ALICE);
		let treasury = Balances::balance(&Treasury::get());
		let (notice, signature) = notice(id, 1, CannotServeReason::InputUnavailable, 1);
		let call = Call::<Test>::cannot_serve { notice, signature };
		assert!(Inference::validate_unsigned(TransactionSource::External, &call).is_ok());
		assert_ok!(Inference::cannot_serve(RuntimeOrigin::none(), notice, signature));

		// No other node: the request ends, its maker pays the cannot-serve fee.
		assert_eq!(bond(1), 1_000, "the node keeps its whole bond");
		assert!(Requests::<Test>::get(id).is_none());
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT - CannotServeFee::get());
		assert_eq!(Balances::balance(&Treasury::get()), treasury + CannotServeFee::get());
		assert_eq!(DeclineCounts::<Test>::get(key(1)), 1);
		let evs = events();
		assert!(evs.contains(&Event::RequestDeclined {
			request: id,
			node: key(1),
			reason: CannotServeReason::InputUnavailable
		}));
		assert!(evs.contains(&Event::RequestUnservable {
			request: id,
			refunded: PRICE - CannotServeFee::get(),
			handling_fee: CannotServeFee::get()
		}));
		// Nothing is left to miss: no deadline penalizes the node later.
		run_to(20);
		assert_eq!(bond(1), 1_000);
	});
}

#[test]
fn a_declined_request_passes_on_and_a_contradicted_decline_is_penalized() {
	build_and_execute(|| {
		register_node(1, 1_000);
		register_node(2, 1_000);
		let id = stored_request(ALICE);
		let first = assigned(id);
		assert_ok!(decline(id, first, CannotServeReason::InputUnavailable));
		let second = assigned(id);
		assert_ne!(first, second);
		assert_eq!(Requests::<Test>::get(id).unwrap().attempts, 2);
		assert!(!Assignments::<Test>::contains_key(key(first), id));
		assert_eq!(bond(first), 1_000);

		// The other node serves it: the decline was false.
		let (result, signature) =
			signed_result(id, second, Output::Hash(opg_settlement::sha256(b"out")), second);
		assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
		assert_eq!(bond(first), 1_000 - Penalty::get());
		assert!(events().contains(&Event::DeclineContradicted {
			request: id,
			node: key(first),
			penalty: Penalty::get()
		}));
		assert_eq!(Declines::<Test>::get(id).len(), 0);
	});
}

#[test]
fn a_node_that_declined_is_not_assigned_the_request_again() {
	build_and_execute(|| {
		for n in 1..=3 {
			register_node(n, 1_000);
		}
		let id = stored_request(BOB);
		let mut declined = Vec::new();
		for _ in 0..3 {
			let n = assigned(id);
			assert!(!declined.contains(&n), "node {n} declined before");
			declined.push(n);
			assert_ok!(decline(id, n, CannotServeReason::InputUnavailable));
		}
		// Three declines (MaxAttempts): the request ends, no node penalized.
		assert!(Requests::<Test>::get(id).is_none());
		assert!((1..=3).all(|n| bond(n) == 1_000));
		assert_eq!(Balances::balance(&BOB), ENDOWMENT - CannotServeFee::get());
	});
}

#[test]
fn a_stored_zkml_input_that_does_not_match_its_commitment_is_declined() {
	build_and_execute(|| {
		let prover = zkml::prover(1);
		zkml::publish(&prover);
		zkml::register_zk_node(1);
		let given = opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(&[1; 4]));
		let input = Input::Stored { hash: [9; 32], size: 4, locator: BoundedVec::new() };
		let id = NextRequestId::<Test>::get();
		assert_ok!(Inference::request_zkml_stored(
			RuntimeOrigin::signed(ALICE),
			zkml::ZK_MODEL,
			input,
			given,
			PRICE,
			5
		));
		// The node's bytes commit to something else: it shows what.
		assert_noop!(
			decline(id, 1, CannotServeReason::CommitmentMismatch { computed: given }),
			Error::<Test>::CommitmentMatches
		);
		let computed = opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(&[2; 4]));
		assert_ok!(decline(id, 1, CannotServeReason::CommitmentMismatch { computed }));
		assert!(Requests::<Test>::get(id).is_none());
		assert!(events().contains(&Event::RequestDeclined {
			request: id,
			node: key(1),
			reason: CannotServeReason::CommitmentMismatch { computed }
		}));
	});
}

#[test]
fn unjustified_or_forged_declines_are_refused_and_change_nothing() {
	build_and_execute(|| {
		register_node(1, 1_000);
		register_node(2, 1_000);
		let inline_id = request(ALICE);
		let n = assigned(inline_id);
		assert_noop!(
			decline(inline_id, n, CannotServeReason::InputUnavailable),
			Error::<Test>::InputIsInline
		);
		let id = stored_request(ALICE);
		let n = assigned(id);
		let other = if n == 1 { 2 } else { 1 };
		assert_noop!(
			decline(id, n, CannotServeReason::CommitmentMismatch { computed: [1; 32] }),
			Error::<Test>::NoCommitmentToDispute
		);
		assert_noop!(
			decline(id, other, CannotServeReason::InputUnavailable),
			Error::<Test>::NotAssigned
		);
		let (forged, signature) = notice(id, n, CannotServeReason::InputUnavailable, other);
		assert_noop!(
			Inference::cannot_serve(RuntimeOrigin::none(), forged, signature),
			Error::<Test>::BadSignature
		);
		let call = Call::<Test>::cannot_serve { notice: forged, signature };
		assert!(Inference::validate_unsigned(TransactionSource::External, &call).is_err());
		// Signed for another request: the message names the request.
		let (_, for_inline) = notice(inline_id, n, CannotServeReason::InputUnavailable, n);
		let replayed =
			CannotServe { request: id, node: key(n), reason: CannotServeReason::InputUnavailable };
		assert_noop!(
			Inference::cannot_serve(RuntimeOrigin::none(), replayed, for_inline),
			Error::<Test>::BadSignature
		);
		assert_noop!(
			Inference::cannot_serve(
				RuntimeOrigin::signed(ALICE),
				notice(id, n, CannotServeReason::InputUnavailable, n).0,
				notice(id, n, CannotServeReason::InputUnavailable, n).1
			),
			polkadot_sdk::sp_runtime::DispatchError::BadOrigin
		);
		let deadline = Requests::<Test>::get(id).unwrap().deadline;
		System::set_block_number(deadline + 1);
		assert_noop!(
			decline(id, n, CannotServeReason::InputUnavailable),
			Error::<Test>::DeadlinePassed
		);
	});
}
