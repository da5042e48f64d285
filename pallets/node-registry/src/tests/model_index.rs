use super::*;

fn serving(model: u32) -> Vec<NodeKey> {
	ModelNodes::<Test>::get(model).into_inner()
}

fn candidates(model: u32, mode: VerificationMode) -> Vec<NodeKey> {
	<Registry as InferenceNodes<AccountId, Balance, u32>>::candidates(&model, mode)
		.into_iter()
		.map(|candidate| candidate.node)
		.collect()
}

#[test]
fn follows_registration_capabilities_and_exit() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 1_000));
		assert_eq!((serving(1), serving(2)), (vec![key(1)], vec![key(1)]));
		let mut moved = capabilities();
		moved.models = BoundedVec::truncate_from(vec![2, 3]);
		assert_ok!(Registry::update_capabilities(RuntimeOrigin::signed(ALICE), key(1), moved));
		assert_eq!((serving(1), serving(2), serving(3)), (vec![], vec![key(1)], vec![key(1)]));
		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)));
		assert_eq!((serving(2), serving(3)), (vec![], vec![]));
		assert_eq!(ModelNodes::<Test>::iter().count(), 0);
	});
}

/// What a direct call's challenge asks: whether the node lists the model it names,
/// whatever its status (a node that stops serving can still be challenged for its calls).
#[test]
fn a_node_lists_the_models_of_its_capabilities_whatever_its_status() {
	ExtBuilder::default().build_and_execute(|| {
		let lists = |node: u8, model: u32| {
			<Registry as InferenceNodes<AccountId, Balance, u32>>::lists(&key(node), &model)
		};
		assert!(!lists(1, 1), "not registered");
		assert_ok!(register(1, ALICE, 1_000));
		assert!(lists(1, 1) && lists(1, 2) && !lists(1, 3));
		assert_ok!(Registry::revoke_node(RuntimeOrigin::root(), key(1)));
		assert!(lists(1, 1), "revoked, still its capabilities");
	});
}

#[test]
fn only_inference_nodes_are_indexed_and_revoked_ones_leave() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Registry::register(
			RuntimeOrigin::signed(BOB),
			key(2),
			Roles(Roles::DATA),
			capabilities(),
			1_000,
			registration_signature(2, BOB),
		));
		assert_eq!(serving(1), vec![]);
		assert_ok!(register(1, ALICE, 1_000));
		assert_ok!(Registry::revoke_node(RuntimeOrigin::root(), key(1)));
		assert_eq!(serving(1), vec![]);
		// A revoked node exits without touching the index again.
		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)));
	});
}

#[test]
fn rejects_duplicates_and_a_full_model() {
	ExtBuilder::default().build_and_execute(|| {
		let mut twice = capabilities();
		twice.models = BoundedVec::truncate_from(vec![1, 1]);
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(ALICE),
				key(1),
				Roles(Roles::INFERENCE),
				twice,
				1_000,
				registration_signature(1, ALICE),
			),
			Error::<Test>::DuplicateModel
		);
		// MaxNodesPerModel is 3 in the mock.
		for node in 1..=3 {
			assert_ok!(register(node, ALICE, 1_000));
		}
		assert_noop!(register(4, BOB, 1_000), Error::<Test>::TooManyNodesForModel);
	});
}

#[test]
fn candidates_are_live_serve_the_mode_and_tee_ones_are_attested() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 1_000));
		assert_ok!(register(2, BOB, 3_000));
		assert_eq!(
			<Registry as InferenceNodes<AccountId, Balance, u32>>::candidates(
				&1,
				VerificationMode::Vanilla
			),
			vec![
				Candidate { node: key(1), bond: 1_000, jobs_per_block: 64 },
				Candidate { node: key(2), bond: 3_000, jobs_per_block: 64 }
			]
		);
		assert_eq!(candidates(1, VerificationMode::Zkml), vec![]);
		assert_eq!(candidates(9, VerificationMode::Vanilla), vec![]);
		assert_eq!(candidates(1, VerificationMode::Tee), vec![]);
		let pcrs = Pcrs::development(DEVELOPMENT_IMAGE);
		assert_ok!(attest(2, BOB, |nonce| operator_document(
			2,
			BOB,
			GENESIS_HASH,
			nonce,
			NOW,
			pcrs
		)));
		assert_eq!(candidates(1, VerificationMode::Tee), vec![key(2)]);
		let settling = |node, mode| {
			<Registry as InferenceNodes<AccountId, Balance, u32>>::settling_operator(
				&key(node),
				mode,
			)
		};
		assert_eq!(settling(2, VerificationMode::Tee), Some(BOB));
		assert_eq!(settling(1, VerificationMode::Tee), None);
		assert_eq!(settling(1, VerificationMode::Vanilla), Some(ALICE));

		// Node 1 misses its heartbeats; node 2 keeps sending them.
		run_to(1 + LivenessWindow::get() + 1);
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(BOB), key(2)));
		assert_eq!(candidates(1, VerificationMode::Vanilla), vec![key(2)]);
		// A revoked measurement takes node 2 out of TEE service at once.
		let measurement = Attestations::<Test>::get(key(2)).unwrap().measurement;
		assert_ok!(Registry::revoke_measurement(
			RuntimeOrigin::root(),
			opg_attestation::TeeType::Nitro,
			measurement
		));
		assert_eq!(candidates(1, VerificationMode::Tee), vec![]);
		assert_eq!(settling(2, VerificationMode::Tee), None);
	});
}

/// A slot in a model's node list (at most `MaxNodesPerModel`) is only taken for a model
/// someone can request: published and active.
#[test]
fn only_published_active_models_are_declared() {
	ExtBuilder::default().build_and_execute(|| {
		let mut unpublished = capabilities();
		unpublished.models = BoundedVec::truncate_from(vec![1, UNPUBLISHED]);
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(ALICE),
				key(1),
				Roles(Roles::INFERENCE),
				unpublished.clone(),
				1_000,
				registration_signature(1, ALICE),
			),
			Error::<Test>::ModelUnavailable
		);
		assert_ok!(register(1, ALICE, 1_000));
		assert_noop!(
			Registry::update_capabilities(RuntimeOrigin::signed(ALICE), key(1), unpublished),
			Error::<Test>::ModelUnavailable
		);
		assert_eq!(serving(UNPUBLISHED), vec![]);
	});
}

/// Regression: a model's full node list kept nodes that had stopped sending heartbeats,
/// so a live node could not serve the model at all. A live node now takes the slot of
/// one that is not live, which stops declaring the model.
#[test]
fn a_node_that_is_not_live_yields_its_slot_to_a_live_one() {
	ExtBuilder::default().build_and_execute(|| {
		// MaxNodesPerModel is 3: nodes 1, 2 and 3 fill models 1 and 2.
		for node in 1..=3 {
			assert_ok!(register(node, ALICE, 1_000));
		}
		let mut none = capabilities();
		none.models = BoundedVec::new();
		assert_ok!(Registry::register(
			RuntimeOrigin::signed(BOB),
			key(4),
			Roles(Roles::INFERENCE),
			none,
			1_000,
			registration_signature(4, BOB),
		));
		let take = |idle: u8| Registry::take_slot(RuntimeOrigin::signed(BOB), key(4), 1, key(idle));
		assert_noop!(take(1), Error::<Test>::NodeStillLive);
		// LivenessWindow is 10: node 1 goes quiet, the others send heartbeats.
		run_to(12);
		for (node, operator) in [(2, ALICE), (3, ALICE), (4, BOB)] {
			assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(operator), key(node)));
		}
		assert_noop!(
			Registry::take_slot(RuntimeOrigin::signed(ALICE), key(4), 1, key(1)),
			Error::<Test>::NotOperator
		);
		assert_noop!(take(5), Error::<Test>::NotInModelList);
		assert_noop!(
			Registry::take_slot(RuntimeOrigin::signed(BOB), key(4), UNPUBLISHED, key(1)),
			Error::<Test>::ModelUnavailable
		);
		assert_ok!(take(1));
		assert_eq!(last_event(), Event::SlotTaken { model: 1, node: key(4), idle: key(1) });
		assert_eq!(serving(1), vec![key(4), key(2), key(3)]);
		assert_eq!(Nodes::<Test>::get(key(1)).unwrap().capabilities.models.into_inner(), vec![2]);
		assert_eq!(Nodes::<Test>::get(key(4)).unwrap().capabilities.models.into_inner(), vec![1]);
		assert_noop!(take(1), Error::<Test>::DuplicateModel);
		// A list with room is joined with update_capabilities instead.
		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(3)));
		assert_noop!(
			Registry::take_slot(RuntimeOrigin::signed(BOB), key(4), 2, key(1)),
			Error::<Test>::ModelListNotFull
		);
	});
}
