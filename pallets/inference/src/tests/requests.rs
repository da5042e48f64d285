use super::*;
use polkadot_sdk::sp_core::H256;
use std::collections::BTreeSet;

#[test]
fn a_request_holds_the_fee_and_is_assigned() {
	build_and_execute(|| {
		register_node(1, 1_000);
		let id = request(ALICE);
		assert_eq!(held(ALICE), PRICE);
		let stored = Requests::<Test>::get(id).unwrap();
		assert_eq!(
			(stored.node, stored.deadline, stored.attempts, stored.fee),
			(key(1), 6, 1, PRICE)
		);
		assert_eq!(stored.input_hash, opg_settlement::sha256(b"inpt"));
		assert!(Assignments::<Test>::contains_key(key(1), id));
		assert_eq!(Deadlines::<Test>::iter_key_prefix(6).collect::<Vec<_>>(), vec![id]);
		assert_eq!(AssignedCount::<Test>::get(key(1)), Some(1));
		assert!(events().contains(&Event::RequestAssigned {
			request: id,
			node: key(1),
			deadline: 6
		}));
	});
}

#[test]
fn bad_requests_are_refused_and_change_nothing() {
	build_and_execute(|| {
		let vanilla = VerificationMode::Vanilla;
		let individual = SettlementMode::Individual;
		assert_noop!(
			request_with(ALICE, inline(b"xxxx"), vanilla, individual),
			Error::<Test>::NoNodeAvailable
		);
		register_node(1, 1_000);
		assert_noop!(
			Inference::request(
				RuntimeOrigin::signed(ALICE),
				7,
				inline(b"xxxx"),
				vanilla,
				individual,
				PRICE,
				5
			),
			Error::<Test>::ModelUnavailable
		);
		assert_noop!(
			request_with(ALICE, inline(b"xxxx"), VerificationMode::Zkml, individual),
			Error::<Test>::ModeNotSupported
		);
		assert_noop!(
			request_with(ALICE, inline(b"xxxx"), vanilla, SettlementMode::Private),
			Error::<Test>::PrivateInputMustBeStored
		);
		assert_noop!(
			request_with(
				ALICE,
				Input::Stored { hash: [1; 32], size: 0, locator: BoundedVec::new() },
				vanilla,
				SettlementMode::Private
			),
			Error::<Test>::EmptyInput
		);
		assert_noop!(
			Inference::request(
				RuntimeOrigin::signed(ALICE),
				MODEL,
				inline(b"xxxx"),
				vanilla,
				individual,
				PRICE - 1,
				5
			),
			Error::<Test>::FeeAboveMax
		);
		for window in [0, 1, 21] {
			assert_noop!(
				Inference::request(
					RuntimeOrigin::signed(ALICE),
					MODEL,
					inline(b"xxxx"),
					vanilla,
					individual,
					PRICE,
					window
				),
				Error::<Test>::InvalidWindow
			);
		}
		assert_noop!(
			request_with(77, inline(b"xxxx"), vanilla, individual),
			Error::<Test>::InsufficientBalance
		);
		// A TEE request needs an attested node.
		assert_noop!(
			request_with(ALICE, inline(b"xxxx"), VerificationMode::Tee, individual),
			Error::<Test>::NoNodeAvailable
		);
	});
}

/// No node could answer an input the model cannot take: such a request would only cost
/// the assigned node its bond at the deadline, for the price of one transaction.
#[test]
fn an_input_of_another_length_than_the_models_is_refused() {
	build_and_execute(|| {
		register_node(1, 1_000);
		let vanilla = VerificationMode::Vanilla;
		let stored_of = |size| Input::Stored { hash: [1; 32], size, locator: BoundedVec::new() };
		for input in [inline(b"xxx"), inline(b"xxxxx")] {
			assert_noop!(
				request_with(ALICE, input, vanilla, SettlementMode::Individual),
				Error::<Test>::InputLengthMismatch
			);
		}
		// Nothing is empty, inline as stored.
		assert_noop!(
			request_with(ALICE, inline(b""), vanilla, SettlementMode::Individual),
			Error::<Test>::EmptyInput
		);
		for size in [3, 5, u64::MAX] {
			assert_noop!(
				request_with(ALICE, stored_of(size), vanilla, SettlementMode::Private),
				Error::<Test>::InputLengthMismatch
			);
		}
		assert_ok!(request_with(ALICE, stored_of(4), vanilla, SettlementMode::Private));
		assert_ok!(request_with(ALICE, inline(b"xxxx"), vanilla, SettlementMode::Individual));
	});
}

#[test]
fn a_deprecated_model_takes_no_requests() {
	build_and_execute(|| {
		register_node(1, 1_000);
		assert_ok!(ModelHub::deprecate(RuntimeOrigin::signed(OWNER), MODEL));
		assert_noop!(
			request_with(
				ALICE,
				inline(b"xxxx"),
				VerificationMode::Vanilla,
				SettlementMode::Individual
			),
			Error::<Test>::ModelUnavailable
		);
	});
}

#[test]
fn assignment_follows_the_bonds() {
	build_and_execute(|| {
		register_node(1, 1_000);
		register_node(2, 9_000);
		let mut counts = [0u32; 2];
		for block in 2..202 {
			run_to(block);
			let id = request(ALICE);
			counts[assigned(id) as usize - 1] += 1;
			let (result, signature) = signed_result(id, assigned(id), output(b"o"), assigned(id));
			assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
			for n in [1, 2] {
				assert_ok!(NodeRegistry::heartbeat(RuntimeOrigin::signed(operator(n)), key(n)));
			}
		}
		// Expected 20 / 180.
		assert!(counts[0] > 5 && counts[0] < 45, "{counts:?}");
	});
}

#[test]
fn the_parent_blocks_author_cannot_steer_assignments_through_its_hash() {
	// Under Aura the seed was the parent hash, which its author shapes at will by
	// choosing and ordering extrinsics: here, 64 parent hashes sent the same request to
	// both nodes. The seed is the VRF output now; the parent hash changes nothing.
	build_and_execute(|| {
		register_node(1, 5_000);
		register_node(2, 5_000);
		run_to(2);
		let assignment_under = |parent: u8, vrf: u8| {
			set_vrf_output(H256::repeat_byte(vrf));
			System::set_parent_hash(H256::repeat_byte(parent));
			let id = NextRequestId::<Test>::get();
			Inference::choose_node(id, MODEL, VerificationMode::Vanilla, 0, 5, &[]).unwrap()
		};
		let under_one_vrf: BTreeSet<_> =
			(0..64).map(|parent| assignment_under(parent, 7)).collect();
		assert_eq!(under_one_vrf.len(), 1, "the parent hash moved the assignment");
		let under_many_vrfs: BTreeSet<_> = (0..64).map(|vrf| assignment_under(7, vrf)).collect();
		assert_eq!(under_many_vrfs.len(), 2, "the VRF output seeds the assignment");
	});
}

#[test]
fn without_a_vrf_output_the_parent_hash_seeds_the_assignment() {
	// Only a block whose parent is genesis has no VRF output before it.
	build_and_execute(|| {
		System::set_parent_hash(H256::repeat_byte(9));
		assert_eq!(Inference::assignment_randomness(), H256::repeat_byte(9));
		set_vrf_output(H256::repeat_byte(3));
		assert_eq!(Inference::assignment_randomness(), H256::repeat_byte(3));
	});
}

#[test]
fn a_nodes_assignments_are_read_page_by_page() {
	build_and_execute(|| {
		register_node(1, 1_000);
		// Four deadlines fit in a mock block: the last three are made a block later.
		let ids: Vec<RequestId> = (0..7)
			.map(|i| {
				if i == 4 {
					run_to(2);
				}
				request(ALICE)
			})
			.collect();
		let mut seen: Vec<RequestId> = Vec::new();
		let mut after = None;
		loop {
			let page = Inference::assignments_page(key(1), after, 3);
			assert!(page.len() <= 3);
			seen.extend(&page);
			if page.len() < 3 {
				break;
			}
			after = page.last().copied();
		}
		seen.sort();
		assert_eq!(seen, ids, "every assignment once, over pages of 3");
		assert_eq!(Inference::assignments_page(key(1), None, 0), Vec::<RequestId>::new());
		assert_eq!(Inference::assignments_page(key(2), None, 10), Vec::<RequestId>::new());
		assert_eq!(
			Inference::assignments_page(key(1), None, u32::MAX).len(),
			7,
			"the cap is far above 7"
		);
	});
}

#[test]
fn a_request_pays_for_the_nodes_its_model_lists_not_the_most_a_model_may_have() {
	use polkadot_sdk::frame_support::dispatch::GetDispatchInfo;
	build_and_execute(|| {
		register_node(1, 1_000);
		let input = inline(b"inpt");
		let declared = Call::<Test>::request {
			model: MODEL,
			input: input.clone(),
			mode: VerificationMode::Vanilla,
			settlement: SettlementMode::Individual,
			max_fee: PRICE,
			window: 5,
		}
		.get_dispatch_info()
		.call_weight;
		let info = Inference::request(
			RuntimeOrigin::signed(ALICE),
			MODEL,
			input.clone(),
			VerificationMode::Vanilla,
			SettlementMode::Individual,
			PRICE,
			5,
		)
		.unwrap();
		let charged = Inference::request_weight(VerificationMode::Vanilla, &input, 1);
		assert_eq!(info.actual_weight, Some(charged));
		assert!(charged.ref_time() < declared.ref_time(), "{charged} < {declared}");
		assert_eq!(declared, Inference::request_weight(VerificationMode::Vanilla, &input, 8));
	});
}

#[test]
fn a_language_models_request_takes_any_input_up_to_its_schemas_length() {
	use pallet_model_hub::{testing as models, DType, ModelFormat};
	use pallet_node_registry::{testing as nodes, Roles, VerificationModes};
	build_and_execute(|| {
		let bytes = |len| models::tensor(&[len], DType::U8);
		let schema = models::schema(vec![bytes(16)], vec![bytes(64)]);
		let spec = models::spec(
			"llm",
			ModelFormat::Llm,
			[0xcc; 32],
			10,
			schema,
			PRICE,
			VerificationModes::VANILLA,
		);
		let llm = pallet_model_hub::NextModelId::<Test>::get();
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(OWNER), spec, None));
		let sign = |message: &[u8]| node_pair(1).sign(message);
		assert_ok!(nodes::register::<Test>(
			operator(1),
			key(1),
			Roles::INFERENCE,
			capabilities(llm),
			1_000,
			sign
		));
		let ask = |input: &[u8]| {
			Inference::request(
				RuntimeOrigin::signed(ALICE),
				llm,
				inline(input),
				VerificationMode::Vanilla,
				SettlementMode::Individual,
				PRICE,
				5,
			)
			.map(drop)
			.map_err(|e| e.error)
		};
		assert_ok!(ask(br#"{"messages":[]}"#));
		assert_ok!(ask(&[b' '; 16]));
		assert_noop!(ask(&[b' '; 17]), Error::<Test>::InputLengthMismatch);
		assert_noop!(ask(b""), Error::<Test>::EmptyInput);
		// A fixed-length model still takes its length only.
		register_node(2, 1_000);
		assert_noop!(
			request_with(
				ALICE,
				inline(b"xxx"),
				VerificationMode::Vanilla,
				SettlementMode::Individual
			),
			Error::<Test>::InputLengthMismatch
		);
	});
}

#[test]
fn no_request_takes_an_id_of_the_direct_calls_range() {
	build_and_execute(|| {
		register_node(1, 1_000);
		NextRequestId::<Test>::put(opg_primitives::DIRECT_CALL_IDS);
		assert_noop!(
			request_with(
				ALICE,
				inline(b"inpt"),
				VerificationMode::Vanilla,
				SettlementMode::Individual
			),
			Error::<Test>::NoRequestIdLeft
		);
		NextRequestId::<Test>::put(opg_primitives::DIRECT_CALL_IDS - 1);
		assert_eq!(request(ALICE), opg_primitives::DIRECT_CALL_IDS - 1);
	});
}
