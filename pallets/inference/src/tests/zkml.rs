use super::*;
use ark_std::rand::{rngs::StdRng, SeedableRng};
use opg_zk::{CompiledModel, Prover};
use pallet_model_hub::{testing as models, ModelFormat};
use pallet_node_registry::{testing as nodes, Roles, VerificationModes};

/// Model 1: a 4→2 quantized MLP (the shape of the mock's schema) with vanilla and ZKML.
pub(super) const ZK_MODEL: u32 = 1;
pub(super) const INPUT: [u8; 4] = [3, 250, 17, 128];

pub(super) fn prover(seed: u64) -> Prover {
	let model = CompiledModel::new(opg_qmodel::generate(&[4, 2], 3)).unwrap();
	let key = opg_zk::setup(&model, &mut StdRng::seed_from_u64(seed)).unwrap();
	Prover::new(model, key).unwrap()
}

pub(super) fn publish(prover: &Prover) {
	let modes = VerificationModes::VANILLA | VerificationModes::ZKML;
	let schema = models::int8_vectors(4, 2);
	let spec =
		models::spec("mlp-zk", ModelFormat::QuantizedInteger, [0xbb; 32], 10, schema, PRICE, modes);
	let key = BoundedVec::truncate_from(opg_zk_verifier::encode_key(prover.verifying_key()));
	assert_ok!(ModelHub::publish(RuntimeOrigin::signed(OWNER), spec, Some(key)));
}

/// Node `n` serving [`ZK_MODEL`] in vanilla and ZKML modes.
pub(super) fn register_zk_node(n: u8) {
	let modes = VerificationModes::VANILLA | VerificationModes::ZKML;
	let capabilities = nodes::capabilities::<Test>(vec![ZK_MODEL], modes);
	let sign = |message: &[u8]| node_pair(n).sign(message);
	assert_ok!(nodes::register::<Test>(
		operator(n),
		key(n),
		Roles::INFERENCE,
		capabilities,
		1_000,
		sign
	));
}

pub(super) fn zk_request(mode: VerificationMode) -> RequestId {
	let id = NextRequestId::<Test>::get();
	assert_ok!(Inference::request(
		RuntimeOrigin::signed(ALICE),
		ZK_MODEL,
		inline(&INPUT),
		mode,
		SettlementMode::Individual,
		PRICE,
		5
	));
	id
}

/// Node `n`'s output and proof for request `id`, proven for job (`genesis`, `proven_id`,
/// `proven_node`), signed by node `n`.
fn proven(
	prover: &Prover,
	id: RequestId,
	n: u8,
	proven_id: RequestId,
	proven_node: u8,
) -> (ResultOf<Test>, ZkProof, sr25519::Signature) {
	let binding = opg_zk_verifier::job_binding(&GENESIS_HASH, proven_id, &key(proven_node).0);
	let proof = prover.prove(&INPUT, binding, &mut StdRng::seed_from_u64(id)).unwrap();
	let (result, signature) = signed_result(id, n, output(&proof.output), n);
	(result, BoundedVec::truncate_from(proof.proof), signature)
}

fn submit(result: ResultOf<Test>, proof: ZkProof, signature: sr25519::Signature) -> DispatchResult {
	Inference::submit_proven_result(RuntimeOrigin::none(), result, proof, signature)
}

#[test]
fn zkml_requests_need_an_inline_input_and_individual_settlement() {
	build_and_execute(|| {
		let prover = prover(1);
		publish(&prover);
		register_zk_node(1);
		let request = |input, settlement| {
			Inference::request(
				RuntimeOrigin::signed(ALICE),
				ZK_MODEL,
				input,
				VerificationMode::Zkml,
				settlement,
				PRICE,
				5,
			)
		};
		assert_noop!(
			request(stored(1), SettlementMode::Private),
			Error::<Test>::ZkmlNeedsInlineInput
		);
		assert_noop!(
			request(inline(&INPUT), SettlementMode::Batch),
			Error::<Test>::ZkmlNeedsInlineInput
		);
		let id = zk_request(VerificationMode::Zkml);
		let commitment =
			opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(&INPUT));
		assert_eq!(InputCommitments::<Test>::get(id), Some(commitment));
		// Vanilla requests of the same model store no commitment.
		let vanilla = zk_request(VerificationMode::Vanilla);
		assert_eq!(InputCommitments::<Test>::get(vanilla), None);
	});
}

/// A stored input of [`INPUT`]: its real SHA-256, size and no locator.
pub(super) fn stored_input() -> InputOf<Test> {
	Input::Stored {
		hash: opg_settlement::sha256(&INPUT),
		size: INPUT.len() as u64,
		locator: BoundedVec::new(),
	}
}

pub(super) fn commitment_of(input: &[u8]) -> [u8; 32] {
	opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(input))
}

pub(super) fn zk_stored_request(
	commitment: [u8; 32],
) -> Result<RequestId, sp_runtime::DispatchError> {
	let id = NextRequestId::<Test>::get();
	Inference::request_zkml_stored(
		RuntimeOrigin::signed(ALICE),
		ZK_MODEL,
		stored_input(),
		commitment,
		PRICE,
		5,
	)
	.map_err(|e| e.error)?;
	Ok(id)
}

#[test]
fn stored_zkml_requests_carry_the_callers_commitment_and_settle_against_it() {
	build_and_execute(|| {
		let prover = prover(1);
		publish(&prover);
		register_zk_node(1);
		let stored_request = |input, commitment| {
			Inference::request_zkml_stored(
				RuntimeOrigin::signed(ALICE),
				ZK_MODEL,
				input,
				commitment,
				PRICE,
				5,
			)
		};
		let commitment = commitment_of(&INPUT);
		assert_noop!(
			stored_request(inline(&INPUT), commitment),
			Error::<Test>::StoredInputExpected
		);
		// At or above the BN254 scalar field's modulus: not canonical.
		assert_noop!(
			stored_request(stored_input(), [0xff; 32]),
			Error::<Test>::InvalidInputCommitment
		);
		let empty = Input::Stored { hash: [1; 32], size: 0, locator: BoundedVec::new() };
		assert_noop!(stored_request(empty, commitment), Error::<Test>::EmptyInput);
		assert_noop!(
			Inference::request_zkml_stored(
				RuntimeOrigin::signed(ALICE),
				MODEL,
				stored_input(),
				commitment,
				PRICE,
				5
			),
			Error::<Test>::ModeNotSupported
		);

		// The input stays a hash on chain; the proof binds to the caller's commitment.
		let id = zk_stored_request(commitment).unwrap();
		assert_eq!(InputCommitments::<Test>::get(id), Some(commitment));
		assert_eq!(Inputs::<Test>::get(id), Some(stored_input()));
		assert_eq!(held(ALICE), PRICE);
		let (result, proof, signature) = proven(&prover, id, 1, id, 1);
		assert_ok!(submit(result, proof, signature));
		assert_eq!(Results::<Test>::get(id).unwrap().mode, VerificationMode::Zkml);
		assert_eq!(held(ALICE), 0);

		// A commitment to other bytes: a proof over the stored input is refused.
		let id = zk_stored_request(commitment_of(&[1, 2, 3, 4])).unwrap();
		let (result, proof, signature) = proven(&prover, id, 1, id, 1);
		assert_noop!(submit(result, proof, signature), Error::<Test>::ProofRejected);
	});
}

#[test]
fn a_valid_proof_settles_and_is_kept_as_evidence() {
	build_and_execute(|| {
		let prover = prover(1);
		publish(&prover);
		register_zk_node(1);
		let id = zk_request(VerificationMode::Zkml);
		let (result, proof, signature) = proven(&prover, id, 1, id, 1);
		let expected = prover.model().model().evaluate_bytes(&INPUT).unwrap();
		assert_eq!(result.output, output(&expected));
		let call = Call::<Test>::submit_proven_result {
			result: result.clone(),
			proof: proof.clone(),
			signature,
		};
		assert!(Inference::validate_unsigned(TransactionSource::External, &call).is_ok());
		// The same result without its proof is refused.
		assert_noop!(
			Inference::submit_result(RuntimeOrigin::none(), result.clone(), signature),
			Error::<Test>::ProofRequired
		);
		assert_ok!(submit(result, proof.clone(), signature));
		let settled = Results::<Test>::get(id).unwrap();
		assert_eq!(settled.settlement, Settlement::Proven { signature, proof });
		assert_eq!(settled.mode, VerificationMode::Zkml);
		assert_eq!(InputCommitments::<Test>::get(id), None);
		assert_eq!(held(ALICE), 0);
	});
}

#[test]
fn wrong_proofs_are_refused_and_change_nothing() {
	build_and_execute(|| {
		let prover = prover(1);
		publish(&prover);
		register_zk_node(1);
		register_zk_node(2);
		let first = zk_request(VerificationMode::Zkml);
		let id = zk_request(VerificationMode::Zkml);
		let n = assigned(id);
		let other = if n == 1 { 2 } else { 1 };
		let (result, proof, signature) = proven(&prover, id, n, id, n);

		// Tampered: a valid point from another proof, or a byte flipped.
		let (_, another, _) = proven(&prover, id, n, first, n);
		let mut mixed = proof.clone();
		mixed[96..].copy_from_slice(&another[96..]);
		assert_noop!(submit(result.clone(), mixed, signature), Error::<Test>::ProofRejected);
		let mut flipped = proof.clone();
		flipped[40] ^= 0x01;
		assert_noop!(submit(result.clone(), flipped, signature), Error::<Test>::ProofRejected);
		// A malformed encoding: too short, or an x-coordinate at the field modulus.
		assert_noop!(
			submit(result.clone(), BoundedVec::truncate_from(proof[..127].to_vec()), signature),
			Error::<Test>::ProofRejected
		);
		let mut non_canonical = proof.clone();
		non_canonical[..32].copy_from_slice(&[0xff; 32]);
		assert_noop!(
			submit(result.clone(), non_canonical, signature),
			Error::<Test>::ProofRejected
		);
		// Replayed: proven for another request, or for (and re-randomizable by) another node.
		let (_, replayed, _) = proven(&prover, id, n, first, n);
		assert_noop!(submit(result.clone(), replayed, signature), Error::<Test>::ProofRejected);
		let (_, stolen, _) = proven(&prover, id, n, id, other);
		assert_noop!(submit(result.clone(), stolen, signature), Error::<Test>::ProofRejected);
		// Another output than the one proven.
		let (mut wrong, _, _) = proven(&prover, id, n, id, n);
		let mut bytes = prover.model().model().evaluate_bytes(&INPUT).unwrap();
		bytes[0] ^= 1;
		wrong.output = output(&bytes);
		let message = Inference::result_message(
			&Requests::<Test>::get(id).unwrap(),
			id,
			&wrong.output.hash(),
		)
		.unwrap();
		assert_noop!(
			submit(wrong, proof.clone(), node_pair(n).sign(&message)),
			Error::<Test>::ProofRejected
		);
		// Another node submitting the assigned node's proof.
		let (mut by_other, _, _) = proven(&prover, id, n, id, n);
		by_other.node = key(other);
		assert_noop!(submit(by_other, proof.clone(), signature), Error::<Test>::NotAssigned);
		// A proof for a vanilla request.
		let vanilla = zk_request(VerificationMode::Vanilla);
		let v = assigned(vanilla);
		let (result_v, proof_v, signature_v) = proven(&prover, vanilla, v, vanilla, v);
		assert_noop!(submit(result_v, proof_v, signature_v), Error::<Test>::NotZkml);
		// None of these enters the pool either.
		let (_, replayed, _) = proven(&prover, id, n, first, n);
		let call = Call::<Test>::submit_proven_result {
			result: result.clone(),
			proof: replayed,
			signature,
		};
		assert_eq!(
			Inference::validate_unsigned(TransactionSource::External, &call),
			Err(InvalidTransaction::BadProof.into())
		);

		assert_ok!(submit(result, proof, signature));
	});
}

/// The statement packs the output as offset bytes (`b ^ 0x80`), 31 to an element: a byte
/// `0x80` appended packs to the same public inputs, so only the model's output length
/// keeps a proof from settling a longer output.
#[test]
fn a_proof_settles_no_output_longer_or_shorter_than_the_models() {
	build_and_execute(|| {
		let prover = prover(1);
		publish(&prover);
		register_zk_node(1);
		let id = zk_request(VerificationMode::Zkml);
		let (result, proof, _) = proven(&prover, id, 1, id, 1);
		let Output::Inline(proven_output) = &result.output else { unreachable!() };
		let mut longer = proven_output.to_vec();
		longer.push(0x80);
		assert_eq!(
			opg_zk_verifier::pack_bytes(&longer),
			opg_zk_verifier::pack_bytes(proven_output)
		);
		let shorter = proven_output[..proven_output.len() - 1].to_vec();
		for bytes in [longer, shorter] {
			let (other, signature) = signed_result(id, 1, output(&bytes), 1);
			let call = Call::<Test>::submit_proven_result {
				result: other.clone(),
				proof: proof.clone(),
				signature,
			};
			assert!(Inference::validate_unsigned(TransactionSource::External, &call).is_err());
			assert_noop!(
				submit(other, proof.clone(), signature),
				Error::<Test>::OutputLengthMismatch
			);
		}
		let (result, proof, signature) = proven(&prover, id, 1, id, 1);
		assert_ok!(submit(result, proof, signature));
	});
}

/// Deprecating a ZKML model leaves its open requests their verifying key, and the owner
/// cannot remove the model (and the key) before the last of them settles or expires.
#[test]
fn a_models_verifying_key_outlives_its_open_requests() {
	build_and_execute(|| {
		let prover = prover(1);
		publish(&prover);
		register_zk_node(1);
		let settles = zk_request(VerificationMode::Zkml);
		let expires = zk_request(VerificationMode::Zkml);
		assert_eq!(OpenRequestsPerModel::<Test>::get(ZK_MODEL), Some(2));
		assert_ok!(ModelHub::deprecate(RuntimeOrigin::signed(OWNER), ZK_MODEL));
		assert_noop!(
			ModelHub::remove(RuntimeOrigin::signed(OWNER), ZK_MODEL),
			pallet_model_hub::Error::<Test>::ModelInUse
		);
		let (result, proof, signature) = proven(&prover, settles, 1, settles, 1);
		assert_ok!(submit(result, proof, signature));
		assert_eq!(OpenRequestsPerModel::<Test>::get(ZK_MODEL), Some(1));
		assert_noop!(
			ModelHub::remove(RuntimeOrigin::signed(OWNER), ZK_MODEL),
			pallet_model_hub::Error::<Test>::ModelInUse
		);
		// The other passes its deadline with no other node: refunded, and the model is free.
		let deadline = Requests::<Test>::get(expires).unwrap().deadline;
		run_to(deadline + 2);
		assert!(!Requests::<Test>::contains_key(expires));
		assert_eq!(OpenRequestsPerModel::<Test>::get(ZK_MODEL), None);
		assert_ok!(ModelHub::remove(RuntimeOrigin::signed(OWNER), ZK_MODEL));
	});
}

fn proven_result(prover: &Prover, id: RequestId) -> ProvenResultOf<Test> {
	let n = assigned(id);
	let (result, proof, signature) = proven(prover, id, n, id, n);
	ProvenResult { result, proof, signature }
}

fn submit_batch(results: Vec<ProvenResultOf<Test>>) -> DispatchResult {
	Inference::submit_proven_batch(RuntimeOrigin::none(), BoundedVec::truncate_from(results))
}

#[test]
fn a_proven_batch_settles_every_result_or_none() {
	build_and_execute(|| {
		let prover = prover(1);
		publish(&prover);
		register_zk_node(1);
		register_zk_node(2);
		let ids: Vec<_> = (0..3).map(|_| zk_request(VerificationMode::Zkml)).collect();
		let results: Vec<_> = ids.iter().map(|id| proven_result(&prover, *id)).collect();

		assert_noop!(submit_batch(vec![]), Error::<Test>::EmptyBatch);
		assert_noop!(
			submit_batch(vec![results[0].clone(), results[0].clone()]),
			Error::<Test>::DuplicateLeaf
		);
		// One proof replayed from another request refuses the whole batch.
		let mut replayed = results.clone();
		replayed[2].proof = results[1].proof.clone();
		assert_noop!(submit_batch(replayed), Error::<Test>::ProofRejected);
		// A result without a valid signature, or of a vanilla request.
		let mut forged = results.clone();
		forged[1].signature = forged[0].signature;
		assert_noop!(submit_batch(forged), Error::<Test>::BadSignature);
		let vanilla = zk_request(VerificationMode::Vanilla);
		let mut with_vanilla = results.clone();
		with_vanilla.push(proven_result(&prover, vanilla));
		assert_noop!(submit_batch(with_vanilla), Error::<Test>::NotZkml);

		let call = Call::<Test>::submit_proven_batch {
			results: BoundedVec::truncate_from(results.clone()),
		};
		assert!(Inference::validate_unsigned(TransactionSource::External, &call).is_ok());
		assert_ok!(submit_batch(results.clone()));
		for (id, proven) in ids.iter().zip(&results) {
			let settled = Results::<Test>::get(id).unwrap();
			assert_eq!(
				settled.settlement,
				Settlement::Proven { signature: proven.signature, proof: proven.proof.clone() }
			);
		}
		assert_eq!(held(ALICE), PRICE, "only the vanilla request is still held");
		// Settled once: the same batch again finds no open request.
		assert_noop!(submit_batch(results), Error::<Test>::RequestNotFound);
	});
}

#[test]
fn a_proven_batch_answers_one_model() {
	build_and_execute(|| {
		let first = prover(1);
		publish(&first);
		// The same model published again under another name: another id, another key.
		let second = prover(2);
		let second_key = opg_zk_verifier::encode_key(second.verifying_key());
		let mut spec = pallet_model_hub::Models::<Test>::get(ZK_MODEL).unwrap().spec;
		spec.name = BoundedVec::truncate_from(b"mlp-zk-2".to_vec());
		assert_ok!(ModelHub::publish(
			RuntimeOrigin::signed(OWNER),
			spec,
			Some(BoundedVec::truncate_from(second_key))
		));
		let modes = VerificationModes::VANILLA | VerificationModes::ZKML;
		let capabilities = nodes::capabilities::<Test>(vec![ZK_MODEL, ZK_MODEL + 1], modes);
		let sign = |message: &[u8]| node_pair(1).sign(message);
		assert_ok!(nodes::register::<Test>(
			operator(1),
			key(1),
			Roles::INFERENCE,
			capabilities,
			1_000,
			sign
		));
		let a = zk_request(VerificationMode::Zkml);
		let b = NextRequestId::<Test>::get();
		assert_ok!(Inference::request(
			RuntimeOrigin::signed(ALICE),
			ZK_MODEL + 1,
			inline(&INPUT),
			VerificationMode::Zkml,
			SettlementMode::Individual,
			PRICE,
			5
		));
		let results = vec![proven_result(&first, a), proven_result(&second, b)];
		assert_noop!(submit_batch(results.clone()), Error::<Test>::MixedModels);
		assert_ok!(submit_batch(results[..1].to_vec()));
		assert_ok!(submit_batch(results[1..].to_vec()));
	});
}

#[test]
fn a_proof_under_another_key_is_refused() {
	build_and_execute(|| {
		// The hub holds the key of one setup; the node proves with another's.
		publish(&prover(1));
		register_zk_node(1);
		let other_setup = prover(2);
		let id = zk_request(VerificationMode::Zkml);
		let (result, proof, signature) = proven(&other_setup, id, 1, id, 1);
		assert_noop!(submit(result, proof, signature), Error::<Test>::ProofRejected);
	});
}

/// A vanilla result of the ZKML model settled with `output`, held through a window.
fn held_vanilla_result(output_bytes: &[u8]) -> RequestId {
	crate::mock::set_challenge_window(5);
	let id = zk_request(VerificationMode::Vanilla);
	let (result, signature) = signed_result(id, 1, output(output_bytes), 1);
	assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
	id
}

/// The ZKML model published and served by node 1, the id the next request will have, its
/// job binding, and node 1's proof of [`INPUT`] for it.
fn zk_model_and_next_proof() -> (Prover, RequestId, opg_zk_verifier::Fr, opg_zk::Proven) {
	let prover = prover(1);
	publish(&prover);
	register_zk_node(1);
	let id = NextRequestId::<Test>::get();
	let binding = opg_zk_verifier::job_binding(&GENESIS_HASH, id, &key(1).0);
	let proven = prover.prove(&INPUT, binding, &mut StdRng::seed_from_u64(1)).unwrap();
	(prover, id, binding, proven)
}

fn verify_held(id: RequestId, output: &[u8], proof: &[u8]) -> bool {
	<Inference as opg_primitives::HeldResults<_, _>>::verify_proof(id, output, proof)
}

#[test]
fn a_held_vanilla_result_of_a_zkml_model_is_proven_only_by_a_proof_of_its_own_output() {
	build_and_execute(|| {
		let (prover, id, binding, proven) = zk_model_and_next_proof();
		assert_eq!(held_vanilla_result(&proven.output), id);
		let held = <Inference as opg_primitives::HeldResults<_, _>>::held(id).unwrap();
		assert!(held.provable, "a verifying key and the input on chain");
		assert!(verify_held(id, &proven.output, &proven.proof));

		let mut other = proven.output.clone();
		other[0] ^= 1;
		assert!(!verify_held(id, &other, &proven.proof), "not the output claimed");
		let mut longer = proven.output.clone();
		longer.push(0);
		assert!(!verify_held(id, &longer, &proven.proof));
		let elsewhere = opg_zk_verifier::job_binding(&GENESIS_HASH, id + 1, &key(1).0);
		let bound_elsewhere =
			prover.prove(&INPUT, elsewhere, &mut StdRng::seed_from_u64(2)).unwrap();
		assert!(!verify_held(id, &proven.output, &bound_elsewhere.proof), "another request's");
		let other_setup = self::prover(2);
		let foreign = other_setup.prove(&INPUT, binding, &mut StdRng::seed_from_u64(3)).unwrap();
		assert!(!verify_held(id, &proven.output, &foreign.proof), "another key's");

		// Ended: nothing is held to prove.
		assert!(<Inference as opg_primitives::HeldResults<_, _>>::conclude(id, true));
		assert!(!verify_held(id, &proven.output, &proven.proof));
	});
}

#[test]
fn a_wrong_output_cannot_be_proven_by_any_proof_of_the_model() {
	build_and_execute(|| {
		let (_, id, _, honest) = zk_model_and_next_proof();
		let mut wrong = honest.output.clone();
		wrong[1] ^= 0x01;
		held_vanilla_result(&wrong);
		assert!(!verify_held(id, &wrong, &honest.proof), "the proof is of another output");
		assert!(
			!verify_held(id, &honest.output, &honest.proof),
			"the output is not the claimed one"
		);
	});
}
