use super::*;

pub(super) fn batch_requests(count: usize) -> Vec<RequestId> {
	(0..count)
		.map(|i| {
			let id = NextRequestId::<Test>::get();
			assert_ok!(request_with(
				ALICE,
				stored(i as u8),
				VerificationMode::Vanilla,
				SettlementMode::Batch
			));
			id
		})
		.collect()
}

pub(super) fn leaf(id: RequestId) -> Leaf {
	let input_hash = Requests::<Test>::get(id).unwrap().input_hash;
	Leaf { request: id, input_hash, output_hash: opg_settlement::sha256(&id.to_le_bytes()) }
}

pub(super) fn signed_batch(
	node: u8,
	leaves: Vec<Leaf>,
	signer: u8,
) -> (BatchResultOf<Test>, sr25519::Signature) {
	let root = merkle::root(&leaves).unwrap_or_default();
	let message = opg_settlement::message::batch(&GENESIS_HASH, &root, leaves.len() as u32);
	(
		BatchResult { node: key(node), leaves: BoundedVec::truncate_from(leaves) },
		node_pair(signer).sign(&message),
	)
}

#[test]
fn a_signed_batch_settles_every_leaf_and_proves_each() {
	build_and_execute(|| {
		register_node(1, 1_000);
		let ids = batch_requests(3);
		let leaves: Vec<Leaf> = ids.iter().map(|id| leaf(*id)).collect();
		let (batch, signature) = signed_batch(1, leaves.clone(), 1);
		let call = Call::<Test>::submit_batch { batch: batch.clone(), signature };
		assert_eq!(
			Inference::validate_unsigned(TransactionSource::External, &call)
				.unwrap()
				.provides
				.len(),
			3
		);
		let before = Balances::balance(&operator(1));
		assert_ok!(Inference::submit_batch(RuntimeOrigin::none(), batch, signature));
		assert_eq!(Balances::balance(&operator(1)), before + 3 * 950);
		assert_eq!(held(ALICE), 0);
		let root = merkle::root(&leaves).unwrap();
		for (index, id) in ids.iter().enumerate() {
			let proof = Inference::batch_proof(*id).unwrap();
			assert_eq!(
				(proof.batch, proof.node, proof.root, proof.leaf),
				(0, key(1), root, leaves[index])
			);
			assert_eq!(proof.signature, signature);
			assert!(merkle::verify(&root, &proof.leaf, &proof.proof));
		}
		assert!(events().contains(&Event::BatchSettled { batch: 0, node: key(1), root, count: 3 }));
	});
}

#[test]
fn every_check_of_a_batch_has_its_error() {
	build_and_execute(|| {
		register_node(1, 1_000);
		register_node(2, 1_000);
		let ids = batch_requests(2);
		let on_1: Vec<RequestId> = ids.iter().copied().filter(|id| assigned(*id) == 1).collect();
		let submit = |node, leaves, signer| {
			let (batch, signature) = signed_batch(node, leaves, signer);
			Inference::submit_batch(RuntimeOrigin::none(), batch, signature)
		};
		assert_noop!(submit(1, vec![], 1), Error::<Test>::EmptyBatch);
		let individual = request(ALICE);
		let individual_leaf = Leaf {
			request: individual,
			input_hash: opg_settlement::sha256(b"inpt"),
			output_hash: [0; 32],
		};
		let node_of_individual = assigned(individual);
		assert_noop!(
			submit(node_of_individual, vec![individual_leaf], node_of_individual),
			Error::<Test>::WrongSettlementMode
		);
		let any = ids[0];
		let node = assigned(any);
		assert_noop!(submit(node, vec![leaf(any)], 3 - node), Error::<Test>::BadSignature);
		assert_noop!(submit(3 - node, vec![leaf(any)], 3 - node), Error::<Test>::NotAssigned);
		assert_noop!(submit(node, vec![leaf(any), leaf(any)], node), Error::<Test>::DuplicateLeaf);
		let mut wrong_input = leaf(any);
		wrong_input.input_hash = [0xee; 32];
		assert_noop!(submit(node, vec![wrong_input], node), Error::<Test>::InputHashMismatch);
		assert_noop!(
			submit(node, vec![Leaf { request: 999, ..leaf(any) }], node),
			Error::<Test>::RequestNotFound
		);
		let _ = on_1;
	});
}
