use super::*;

#[test]
fn a_valid_result_pays_the_node_and_the_treasury_once() {
	build_and_execute(|| {
		register_node(1, 1_000);
		let id = request(ALICE);
		let issuance = Balances::total_issuance();
		let (node_before, treasury_before) =
			(Balances::balance(&operator(1)), Balances::balance(&Treasury::get()));
		let (result, signature) = signed_result(id, 1, output(b"out"), 1);
		assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result.clone(), signature));
		assert_eq!(Balances::balance(&operator(1)), node_before + 950);
		assert_eq!(Balances::balance(&Treasury::get()), treasury_before + 50);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT - PRICE);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::total_issuance(), issuance);
		let settled = Results::<Test>::get(id).unwrap();
		assert_eq!(
			(settled.paid, settled.protocol_fee, settled.output.clone()),
			(950, 50, output(b"out"))
		);
		assert!(Requests::<Test>::get(id).is_none() && Inputs::<Test>::get(id).is_none());
		assert!(!Assignments::<Test>::contains_key(key(1), id));
		assert!(Deadlines::<Test>::iter_prefix(6).next().is_none());
		assert_eq!(AssignedCount::<Test>::get(key(1)), None);
		// No second settlement.
		assert_noop!(
			Inference::submit_result(RuntimeOrigin::none(), result, signature),
			Error::<Test>::RequestNotFound
		);
	});
}

#[test]
fn every_check_of_a_result_has_its_error() {
	build_and_execute(|| {
		register_node(1, 1_000);
		register_node(2, 1_000);
		let id = request(ALICE);
		let node = assigned(id);
		let other = 3 - node;
		let none = RuntimeOrigin::none;
		// Another node, even signing correctly for itself.
		assert_noop!(submit(id, other), Error::<Test>::NotAssigned);
		// Signed by another key, or over another output.
		let (result, signature) = signed_result(id, node, output(b"out"), other);
		assert_noop!(
			Inference::submit_result(none(), result, signature),
			Error::<Test>::BadSignature
		);
		let (mut result, signature) = signed_result(id, node, output(b"out"), node);
		result.output = output(b"forged");
		assert_noop!(
			Inference::submit_result(none(), result, signature),
			Error::<Test>::BadSignature
		);
		// A hash for an individual request.
		let (result, signature) = signed_result(id, node, Output::Hash([1; 32]), node);
		assert_noop!(
			Inference::submit_result(none(), result, signature),
			Error::<Test>::WrongSettlementMode
		);
		// Signed origins cannot submit results.
		let (result, signature) = signed_result(id, node, output(b"out"), node);
		assert!(Inference::submit_result(RuntimeOrigin::signed(ALICE), result, signature).is_err());
		// A revoked node cannot settle.
		assert_ok!(NodeRegistry::revoke_node(RuntimeOrigin::root(), key(node)));
		assert_noop!(submit(id, node), Error::<Test>::NodeCannotSettle);
	});
}

#[test]
fn a_late_result_is_refused() {
	build_and_execute(|| {
		register_node(1, 1_000);
		let id = request(ALICE);
		let (result, signature) = signed_result(id, 1, output(b"out"), 1);
		run_to(6);
		assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result.clone(), signature));
		let id = request(ALICE);
		let (result, signature) = signed_result(id, 1, output(b"out"), 1);
		// Block 12 handles the deadline of block 11; with one node the request expires.
		run_to(12);
		assert_noop!(
			Inference::submit_result(RuntimeOrigin::none(), result, signature),
			Error::<Test>::RequestNotFound
		);
	});
}

#[test]
fn private_requests_keep_only_hashes() {
	build_and_execute(|| {
		register_node(1, 1_000);
		let id = NextRequestId::<Test>::get();
		assert_ok!(request_with(
			ALICE,
			stored(5),
			VerificationMode::Vanilla,
			SettlementMode::Private
		));
		let (result, signature) = signed_result(id, 1, output(b"inline"), 1);
		assert_noop!(
			Inference::submit_result(RuntimeOrigin::none(), result, signature),
			Error::<Test>::WrongSettlementMode
		);
		let (result, signature) = signed_result(id, 1, Output::Hash([9; 32]), 1);
		assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
		let settled = Results::<Test>::get(id).unwrap();
		assert_eq!((settled.input_hash, settled.output), ([5; 32], Output::Hash([9; 32])));
	});
}

#[test]
fn tee_results_need_a_valid_attestation_at_settlement() {
	build_and_execute(|| {
		register_node(1, 1_000);
		attest(1);
		let id = NextRequestId::<Test>::get();
		assert_ok!(request_with(
			ALICE,
			inline(b"xxxx"),
			VerificationMode::Tee,
			SettlementMode::Individual
		));
		let measurement =
			pallet_node_registry::Attestations::<Test>::get(key(1)).unwrap().measurement;
		assert_ok!(NodeRegistry::revoke_measurement(
			RuntimeOrigin::root(),
			opg_attestation_tee(),
			measurement
		));
		assert_noop!(submit(id, 1), Error::<Test>::NodeCannotSettle);
		// A vanilla request of the same node still settles.
		let vanilla = request(ALICE);
		assert_ok!(submit(vanilla, 1));
	});
}

#[test]
fn tee_results_settle_while_attested() {
	build_and_execute(|| {
		register_node(1, 1_000);
		attest(1);
		let id = NextRequestId::<Test>::get();
		assert_ok!(request_with(
			ALICE,
			inline(b"xxxx"),
			VerificationMode::Tee,
			SettlementMode::Individual
		));
		assert_ok!(submit(id, 1));
		assert_eq!(Results::<Test>::get(id).unwrap().mode, VerificationMode::Tee);
	});
}

fn opg_attestation_tee() -> pallet_node_registry::TeeType {
	pallet_node_registry::TeeType::Nitro
}

#[test]
fn the_pool_admits_only_results_that_would_settle() {
	build_and_execute(|| {
		register_node(1, 1_000);
		let id = request(ALICE);
		let (result, signature) = signed_result(id, 1, output(b"out"), 1);
		let call = Call::<Test>::submit_result { result: result.clone(), signature };
		let valid = Inference::validate_unsigned(TransactionSource::External, &call).unwrap();
		assert_eq!(valid.provides, vec![(b"OpgInference".to_vec(), (TX_TAG, id)).encode_tag()]);
		assert_eq!(valid.longevity, 6);
		let (_, wrong) = signed_result(id, 1, output(b"out"), 2);
		let forged = Call::<Test>::submit_result { result: result.clone(), signature: wrong };
		// Each refusal says why: a bad signature, another node, a settled request.
		let refusal = |call: &Call<Test>| match Inference::validate_unsigned(
			TransactionSource::External,
			call,
		) {
			Err(TransactionValidityError::Invalid(invalid)) => invalid,
			other => panic!("refused as invalid, not {other:?}"),
		};
		assert_eq!(refusal(&forged), InvalidTransaction::BadSigner);
		let mut elsewhere = result.clone();
		elsewhere.node = key(2);
		let not_assigned = Call::<Test>::submit_result { result: elsewhere, signature };
		let index = codec::Encode::encode(&Error::<Test>::NotAssigned)[0];
		assert_eq!(refusal(&not_assigned), InvalidTransaction::Custom(index));
		assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
		assert_eq!(refusal(&call), InvalidTransaction::Stale);
		assert!(Inference::validate_unsigned(
			TransactionSource::External,
			&Call::<Test>::request {
				model: MODEL,
				input: inline(b"xxxx"),
				mode: VerificationMode::Vanilla,
				settlement: SettlementMode::Individual,
				max_fee: PRICE,
				window: 5,
			}
		)
		.is_err());
	});
}

/// Regression: the pool's checks ran again in `pre_dispatch` and then in dispatch, so a
/// block verified each signature and proof twice while the weight counted them once.
/// `pre_dispatch` now checks only what can go stale between pool and block.
#[test]
fn pre_dispatch_checks_only_what_can_have_changed_since_the_pool() {
	build_and_execute(|| {
		register_node(1, 1_000);
		let id = request(ALICE);
		let (result, signature) = signed_result(id, 1, output(b"out"), 1);
		let (_, wrong) = signed_result(id, 1, output(b"out"), 2);
		let forged = Call::<Test>::submit_result { result: result.clone(), signature: wrong };
		// The signature is dispatch's to check: a forged result an author includes fails
		// there and changes nothing.
		assert_ok!(Inference::pre_dispatch(&forged));
		assert_noop!(
			Inference::submit_result(RuntimeOrigin::none(), result.clone(), wrong),
			Error::<Test>::BadSignature
		);
		let call = Call::<Test>::submit_result { result: result.clone(), signature };
		assert_ok!(Inference::pre_dispatch(&call));
		assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
		assert_eq!(
			Inference::pre_dispatch(&call),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Stale))
		);
	});
}

trait EncodeTag {
	fn encode_tag(&self) -> Vec<u8>;
}
impl<T: codec::Encode> EncodeTag for T {
	fn encode_tag(&self) -> Vec<u8> {
		codec::Encode::encode(self)
	}
}

/// Regression: `unregister` took a node out of service at once, so the requests it had
/// been assigned could no longer settle and it lost bond for each. Now it is assigned
/// nothing new and finishes what it has, TEE results included, without penalty.
#[test]
fn an_exiting_node_finishes_its_assigned_requests_without_penalty() {
	build_and_execute(|| {
		register_node(1, 1_000);
		attest(1);
		let vanilla = request(ALICE);
		let tee_id = NextRequestId::<Test>::get();
		assert_ok!(request_with(
			ALICE,
			inline(b"inpt"),
			VerificationMode::Tee,
			SettlementMode::Individual
		));
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(operator(1)), key(1)));
		assert_noop!(
			request_with(
				ALICE,
				inline(b"inpt"),
				VerificationMode::Vanilla,
				SettlementMode::Individual
			),
			Error::<Test>::NoNodeAvailable
		);
		assert_ok!(submit(vanilla, 1));
		assert_ok!(submit(tee_id, 1));
		assert!(Results::<Test>::contains_key(vanilla) && Results::<Test>::contains_key(tee_id));
		assert_eq!(pallet_node_registry::Nodes::<Test>::get(key(1)).unwrap().bond, 1_000);
	});
}

#[test]
fn a_vanilla_result_is_refunded_the_attestation_check_a_tee_result_pays() {
	use polkadot_sdk::frame_support::dispatch::GetDispatchInfo;
	build_and_execute(|| {
		register_node(1, 1_000);
		let id = request(ALICE);
		let (result, signature) = signed_result(id, 1, output(b"out"), 1);
		let declared = Call::<Test>::submit_result { result: result.clone(), signature }
			.get_dispatch_info()
			.call_weight;
		let info = Inference::submit_result(RuntimeOrigin::none(), result, signature).unwrap();
		let vanilla = <() as WeightInfo>::submit_result(3);
		assert_eq!(declared, <() as WeightInfo>::submit_result_tee(3));
		assert_eq!(info.actual_weight, Some(vanilla));
		assert!(vanilla.ref_time() < declared.ref_time());
	});
}
