// Results are validated through the deprecated `ValidateUnsigned` (see lib.rs).
#![allow(deprecated)]

use crate::{mock::*, *};
use opg_settlement::merkle::{self, Leaf};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		pallet_prelude::{TransactionSource, ValidateUnsigned},
		traits::fungible::{Inspect, InspectHold},
		BoundedVec,
	},
	sp_core::{sr25519, Pair},
	sp_runtime::{traits::Zero, DispatchResult},
};

type Balance = crate::mock::Balance;

fn inline(bytes: &[u8]) -> InputOf<Test> {
	Input::Inline(BoundedVec::truncate_from(bytes.to_vec()))
}

fn stored(tag: u8) -> InputOf<Test> {
	Input::Stored { hash: [tag; 32], size: 100, locator: BoundedVec::new() }
}

fn request_with(who: AccountId, input: InputOf<Test>, mode: VerificationMode, settlement: SettlementMode) -> DispatchResult {
	Inference::request(RuntimeOrigin::signed(who), MODEL, input, mode, settlement, PRICE, 5)
}

fn request(who: AccountId) -> RequestId {
	let id = NextRequestId::<Test>::get();
	assert_ok!(request_with(who, inline(b"input"), VerificationMode::Vanilla, SettlementMode::Individual));
	id
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::RequestFee.into(), &who)
}

fn output(bytes: &[u8]) -> Output<<Test as Config>::MaxInlineOutput> {
	Output::Inline(BoundedVec::truncate_from(bytes.to_vec()))
}

/// The result of node `n` for `id`, signed by `signer`.
fn signed_result(id: RequestId, n: u8, out: Output<<Test as Config>::MaxInlineOutput>, signer: u8) -> (ResultOf<Test>, sr25519::Signature) {
	let request = Requests::<Test>::get(id).unwrap();
	let message = Inference::result_message(&request, id, &out.hash()).unwrap();
	(InferenceResult { request: id, node: key(n), output: out }, node_pair(signer).sign(&message))
}

fn submit(id: RequestId, n: u8) -> DispatchResult {
	let (result, signature) = signed_result(id, n, output(b"out"), n);
	Inference::submit_result(RuntimeOrigin::none(), result, signature)
}

fn assigned(id: RequestId) -> u8 {
	let node = Requests::<Test>::get(id).unwrap().node;
	(1..=6).find(|n| key(*n) == node).unwrap()
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Inference(event) => Some(event),
			_ => None,
		})
		.collect()
}

mod requests {
	use super::*;

	#[test]
	fn a_request_holds_the_fee_and_is_assigned() {
		new_test_ext().execute_with(|| {
			register_node(1, 1_000);
			let id = request(ALICE);
			assert_eq!(held(ALICE), PRICE);
			let stored = Requests::<Test>::get(id).unwrap();
			assert_eq!((stored.node, stored.deadline, stored.attempts, stored.fee), (key(1), 6, 1, PRICE));
			assert_eq!(stored.input_hash, opg_settlement::sha256(b"input"));
			assert!(Assignments::<Test>::contains_key(key(1), id));
			assert_eq!(Deadlines::<Test>::get(6).into_inner(), vec![id]);
			assert!(events().contains(&Event::RequestAssigned { request: id, node: key(1), deadline: 6 }));
		});
	}

	#[test]
	fn bad_requests_are_refused_and_change_nothing() {
		new_test_ext().execute_with(|| {
			let vanilla = VerificationMode::Vanilla;
			let individual = SettlementMode::Individual;
			assert_noop!(request_with(ALICE, inline(b"x"), vanilla, individual), Error::<Test>::NoNodeAvailable);
			register_node(1, 1_000);
			assert_noop!(
				Inference::request(RuntimeOrigin::signed(ALICE), 7, inline(b"x"), vanilla, individual, PRICE, 5),
				Error::<Test>::ModelUnavailable
			);
			assert_noop!(
				request_with(ALICE, inline(b"x"), VerificationMode::Zkml, individual),
				Error::<Test>::ModeNotSupported
			);
			assert_noop!(
				request_with(ALICE, inline(b"x"), vanilla, SettlementMode::Private),
				Error::<Test>::PrivateInputMustBeStored
			);
			assert_noop!(
				request_with(ALICE, Input::Stored { hash: [1; 32], size: 0, locator: BoundedVec::new() }, vanilla, SettlementMode::Private),
				Error::<Test>::EmptyInput
			);
			assert_noop!(
				Inference::request(RuntimeOrigin::signed(ALICE), MODEL, inline(b"x"), vanilla, individual, PRICE - 1, 5),
				Error::<Test>::FeeAboveMax
			);
			for window in [0, 1, 21] {
				assert_noop!(
					Inference::request(RuntimeOrigin::signed(ALICE), MODEL, inline(b"x"), vanilla, individual, PRICE, window),
					Error::<Test>::InvalidWindow
				);
			}
			assert_noop!(request_with(77, inline(b"x"), vanilla, individual), Error::<Test>::InsufficientBalance);
			// A TEE request needs an attested node.
			assert_noop!(request_with(ALICE, inline(b"x"), VerificationMode::Tee, individual), Error::<Test>::NoNodeAvailable);
			// MaxDeadlinesPerBlock is 4.
			for _ in 0..4 {
				request(ALICE);
			}
			assert_noop!(request_with(ALICE, inline(b"x"), vanilla, individual), Error::<Test>::DeadlineBlockFull);
		});
	}

	#[test]
	fn a_deprecated_model_takes_no_requests() {
		new_test_ext().execute_with(|| {
			register_node(1, 1_000);
			assert_ok!(ModelHub::deprecate(RuntimeOrigin::signed(OWNER), MODEL));
			assert_noop!(
				request_with(ALICE, inline(b"x"), VerificationMode::Vanilla, SettlementMode::Individual),
				Error::<Test>::ModelUnavailable
			);
		});
	}

	#[test]
	fn assignment_follows_the_bonds() {
		new_test_ext().execute_with(|| {
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
}

mod results {
	use super::*;

	#[test]
	fn a_valid_result_pays_the_node_and_the_treasury_once() {
		new_test_ext().execute_with(|| {
			register_node(1, 1_000);
			let id = request(ALICE);
			let issuance = Balances::total_issuance();
			let (node_before, treasury_before) = (Balances::balance(&operator(1)), Balances::balance(&Treasury::get()));
			let (result, signature) = signed_result(id, 1, output(b"out"), 1);
			assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result.clone(), signature));
			assert_eq!(Balances::balance(&operator(1)), node_before + 950);
			assert_eq!(Balances::balance(&Treasury::get()), treasury_before + 50);
			assert_eq!(Balances::balance(&ALICE), ENDOWMENT - PRICE);
			assert_eq!(held(ALICE), 0);
			assert_eq!(Balances::total_issuance(), issuance);
			let settled = Results::<Test>::get(id).unwrap();
			assert_eq!((settled.paid, settled.protocol_fee, settled.output.clone()), (950, 50, output(b"out")));
			assert!(Requests::<Test>::get(id).is_none() && Inputs::<Test>::get(id).is_none());
			assert!(!Assignments::<Test>::contains_key(key(1), id));
			assert!(Deadlines::<Test>::get(6).is_empty());
			// No second settlement.
			assert_noop!(Inference::submit_result(RuntimeOrigin::none(), result, signature), Error::<Test>::RequestNotFound);
		});
	}

	#[test]
	fn every_check_of_a_result_has_its_error() {
		new_test_ext().execute_with(|| {
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
			assert_noop!(Inference::submit_result(none(), result, signature), Error::<Test>::BadSignature);
			let (mut result, signature) = signed_result(id, node, output(b"out"), node);
			result.output = output(b"forged");
			assert_noop!(Inference::submit_result(none(), result, signature), Error::<Test>::BadSignature);
			// A hash for an individual request.
			let (result, signature) = signed_result(id, node, Output::Hash([1; 32]), node);
			assert_noop!(Inference::submit_result(none(), result, signature), Error::<Test>::WrongSettlementMode);
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
		new_test_ext().execute_with(|| {
			register_node(1, 1_000);
			let id = request(ALICE);
			let (result, signature) = signed_result(id, 1, output(b"out"), 1);
			run_to(6);
			assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result.clone(), signature));
			let id = request(ALICE);
			let (result, signature) = signed_result(id, 1, output(b"out"), 1);
			// Block 12 handles the deadline of block 11; with one node the request expires.
			run_to(12);
			assert_noop!(Inference::submit_result(RuntimeOrigin::none(), result, signature), Error::<Test>::RequestNotFound);
		});
	}

	#[test]
	fn private_requests_keep_only_hashes() {
		new_test_ext().execute_with(|| {
			register_node(1, 1_000);
			let id = NextRequestId::<Test>::get();
			assert_ok!(request_with(ALICE, stored(5), VerificationMode::Vanilla, SettlementMode::Private));
			let (result, signature) = signed_result(id, 1, output(b"inline"), 1);
			assert_noop!(Inference::submit_result(RuntimeOrigin::none(), result, signature), Error::<Test>::WrongSettlementMode);
			let (result, signature) = signed_result(id, 1, Output::Hash([9; 32]), 1);
			assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
			let settled = Results::<Test>::get(id).unwrap();
			assert_eq!((settled.input_hash, settled.output), ([5; 32], Output::Hash([9; 32])));
		});
	}

	#[test]
	fn tee_results_need_a_valid_attestation_at_settlement() {
		new_test_ext().execute_with(|| {
			register_node(1, 1_000);
			attest(1);
			let id = NextRequestId::<Test>::get();
			assert_ok!(request_with(ALICE, inline(b"x"), VerificationMode::Tee, SettlementMode::Individual));
			let measurement = pallet_node_registry::Attestations::<Test>::get(key(1)).unwrap().measurement;
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
		new_test_ext().execute_with(|| {
			register_node(1, 1_000);
			attest(1);
			let id = NextRequestId::<Test>::get();
			assert_ok!(request_with(ALICE, inline(b"x"), VerificationMode::Tee, SettlementMode::Individual));
			assert_ok!(submit(id, 1));
			assert_eq!(Results::<Test>::get(id).unwrap().mode, VerificationMode::Tee);
		});
	}

	fn opg_attestation_tee() -> pallet_node_registry::TeeType {
		pallet_node_registry::TeeType::Nitro
	}

	#[test]
	fn the_pool_admits_only_results_that_would_settle() {
		new_test_ext().execute_with(|| {
			register_node(1, 1_000);
			let id = request(ALICE);
			let (result, signature) = signed_result(id, 1, output(b"out"), 1);
			let call = Call::<Test>::submit_result { result: result.clone(), signature };
			let valid = Inference::validate_unsigned(TransactionSource::External, &call).unwrap();
			assert_eq!(valid.provides, vec![(b"OpgInference".to_vec(), (TX_TAG, id)).encode_tag()]);
			assert_eq!(valid.longevity, 6);
			let (_, wrong) = signed_result(id, 1, output(b"out"), 2);
			let forged = Call::<Test>::submit_result { result, signature: wrong };
			assert!(Inference::validate_unsigned(TransactionSource::External, &forged).is_err());
			assert!(Inference::validate_unsigned(TransactionSource::External, &Call::<Test>::request {
				model: MODEL,
				input: inline(b"x"),
				mode: VerificationMode::Vanilla,
				settlement: SettlementMode::Individual,
				max_fee: PRICE,
				window: 5,
			})
			.is_err());
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
}

mod batches {
	use super::*;

	fn batch_requests(count: usize) -> Vec<RequestId> {
		(0..count)
			.map(|i| {
				let id = NextRequestId::<Test>::get();
				assert_ok!(request_with(ALICE, stored(i as u8), VerificationMode::Vanilla, SettlementMode::Batch));
				id
			})
			.collect()
	}

	fn leaf(id: RequestId) -> Leaf {
		let input_hash = Requests::<Test>::get(id).unwrap().input_hash;
		Leaf { request: id, input_hash, output_hash: opg_settlement::sha256(&id.to_le_bytes()) }
	}

	fn signed_batch(node: u8, leaves: Vec<Leaf>, signer: u8) -> (BatchResultOf<Test>, sr25519::Signature) {
		let root = merkle::root(&leaves).unwrap_or_default();
		let message = opg_settlement::message::batch(&GENESIS_HASH, &root, leaves.len() as u32);
		(BatchResult { node: key(node), leaves: BoundedVec::truncate_from(leaves) }, node_pair(signer).sign(&message))
	}

	#[test]
	fn a_signed_batch_settles_every_leaf_and_proves_each() {
		new_test_ext().execute_with(|| {
			register_node(1, 1_000);
			let ids = batch_requests(3);
			let leaves: Vec<Leaf> = ids.iter().map(|id| leaf(*id)).collect();
			let (batch, signature) = signed_batch(1, leaves.clone(), 1);
			let call = Call::<Test>::submit_batch { batch: batch.clone(), signature };
			assert_eq!(Inference::validate_unsigned(TransactionSource::External, &call).unwrap().provides.len(), 3);
			let before = Balances::balance(&operator(1));
			assert_ok!(Inference::submit_batch(RuntimeOrigin::none(), batch, signature));
			assert_eq!(Balances::balance(&operator(1)), before + 3 * 950);
			assert_eq!(held(ALICE), 0);
			let root = merkle::root(&leaves).unwrap();
			for (index, id) in ids.iter().enumerate() {
				let proof = Inference::batch_proof(*id).unwrap();
				assert_eq!((proof.batch, proof.node, proof.root, proof.leaf), (0, key(1), root, leaves[index]));
				assert_eq!(proof.signature, signature);
				assert!(merkle::verify(&root, &proof.leaf, &proof.proof));
			}
			assert!(events().contains(&Event::BatchSettled { batch: 0, node: key(1), root, count: 3 }));
		});
	}

	#[test]
	fn every_check_of_a_batch_has_its_error() {
		new_test_ext().execute_with(|| {
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
			let individual_leaf = Leaf { request: individual, input_hash: opg_settlement::sha256(b"input"), output_hash: [0; 32] };
			let node_of_individual = assigned(individual);
			assert_noop!(submit(node_of_individual, vec![individual_leaf], node_of_individual), Error::<Test>::WrongSettlementMode);
			let any = ids[0];
			let node = assigned(any);
			assert_noop!(submit(node, vec![leaf(any)], 3 - node), Error::<Test>::BadSignature);
			assert_noop!(submit(3 - node, vec![leaf(any)], 3 - node), Error::<Test>::NotAssigned);
			assert_noop!(submit(node, vec![leaf(any), leaf(any)], node), Error::<Test>::DuplicateLeaf);
			let mut wrong_input = leaf(any);
			wrong_input.input_hash = [0xee; 32];
			assert_noop!(submit(node, vec![wrong_input], node), Error::<Test>::InputHashMismatch);
			assert_noop!(submit(node, vec![Leaf { request: 999, ..leaf(any) }], node), Error::<Test>::RequestNotFound);
			let _ = on_1;
		});
	}
}

mod deadlines {
	use super::*;

	#[test]
	fn a_missed_deadline_penalizes_and_reassigns() {
		new_test_ext().execute_with(|| {
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
			assert!(events().contains(&Event::DeadlineMissed { request: id, node: key(first), penalty: 300 }));
			assert!(!Assignments::<Test>::contains_key(key(first), id));
			assert_noop!(submit(id, first), Error::<Test>::NotAssigned);
			assert_ok!(submit(id, second));
		});
	}

	#[test]
	fn with_no_other_node_or_after_the_last_attempt_the_fee_comes_back() {
		new_test_ext().execute_with(|| {
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
			let missed = events().iter().filter(|e| matches!(e, Event::DeadlineMissed { request, .. } if *request == id)).count();
			assert_eq!(missed, 3);
			assert_eq!(Balances::balance(&BOB), ENDOWMENT);
		});
	}
}

/// Random sequences of requests, results, batches, timeouts, slashes and exits: total
/// issuance is conserved, nothing is settled twice, and once every deadline has passed
/// no fee is held.
/// Random sequences of publish / deprecate / remove, request, result, batch, timeout,
/// heartbeat, slash and exit: total issuance is conserved, no request settles twice, every
/// fee and deposit held is accounted for, and after the last deadline nothing stays held.
#[test]
fn issuance_is_conserved_and_every_fee_is_paid_or_returned() {
	for seed in 0..48u64 {
		new_test_ext().execute_with(|| {
			let issuance = Balances::total_issuance();
			let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
			let mut next = |bound: u64| {
				state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
				(state >> 33) % bound
			};
			for n in 1..=4 {
				register_node(n, 1_000 + next(4_000) as Balance);
			}
			let mut settled = std::collections::BTreeSet::new();
			for step in 0..60u64 {
				run_to(2 + step);
				let requester = if next(2) == 0 { ALICE } else { BOB };
				let _ = match next(8) {
					0 | 1 => request_with(requester, inline(&[next(255) as u8]), VerificationMode::Vanilla, SettlementMode::Individual),
					2 => request_with(requester, stored(next(255) as u8), VerificationMode::Vanilla, SettlementMode::Batch),
					3 => {
						// Some node answers one of its requests, maybe not its own.
						let open: Vec<RequestId> = Requests::<Test>::iter_keys().collect();
						match open.get(next(open.len().max(1) as u64) as usize) {
							Some(id) if Requests::<Test>::get(id).unwrap().settlement == SettlementMode::Individual => {
								let node = if next(4) == 0 { 1 + next(4) as u8 } else { assigned(*id) };
								let result = submit(*id, node);
								if result.is_ok() {
									assert!(settled.insert(*id), "request {id} settled twice");
								}
								result
							},
							_ => Ok(()),
						}
					},
					4 => {
						let node = 1 + next(4) as u8;
						let leaves: Vec<Leaf> = Assignments::<Test>::iter_prefix(key(node))
							.map(|(id, _)| id)
							.filter(|id| Requests::<Test>::get(id).unwrap().settlement == SettlementMode::Batch)
							.map(|id| Leaf { request: id, input_hash: Requests::<Test>::get(id).unwrap().input_hash, output_hash: [1; 32] })
							.collect();
						let root = merkle::root(&leaves).unwrap_or_default();
						let signature = node_pair(node).sign(&opg_settlement::message::batch(&GENESIS_HASH, &root, leaves.len() as u32));
						let ids: Vec<RequestId> = leaves.iter().map(|l| l.request).collect();
						let result = Inference::submit_batch(
							RuntimeOrigin::none(),
							BatchResult { node: key(node), leaves: BoundedVec::truncate_from(leaves) },
							signature,
						);
						if result.is_ok() {
							for id in ids {
								assert!(settled.insert(id), "request {id} settled twice");
							}
						}
						result
					},
					5 => {
						let n = 1 + next(4) as u8;
						NodeRegistry::heartbeat(RuntimeOrigin::signed(operator(n)), key(n))
					},
					6 => {
						// The owner publishes a new version, or deprecates or removes one.
						let versions: Vec<u32> = pallet_model_hub::Models::<Test>::iter_keys().filter(|id| *id != MODEL).collect();
						let version = versions.get(next(versions.len().max(1) as u64) as usize).copied();
						let owner = RuntimeOrigin::signed(OWNER);
						match (next(3), version) {
							(0, _) | (_, None) => {
								let mut spec = pallet_model_hub::Models::<Test>::get(MODEL).unwrap().spec;
								spec.version.patch = 1 + step as u16;
								ModelHub::publish(owner, spec, None)
							},
							(1, Some(id)) => ModelHub::deprecate(owner, id),
							(_, Some(id)) => ModelHub::remove(owner, id),
						}
					},
					_ => {
						let n = 1 + next(4) as u8;
						if next(3) == 0 {
							NodeRegistry::unregister(RuntimeOrigin::signed(operator(n)), key(n))
						} else {
							<NodeRegistry as pallet_node_registry::NodeSlashing<Balance>>::slash(&key(n), next(500) as Balance);
							Ok(())
						}
					},
				};
				assert_eq!(Balances::total_issuance(), issuance);
				let open_fees: Balance = Requests::<Test>::iter_values().filter(|r| r.requester == ALICE).map(|r| r.fee).sum();
				assert_eq!(held(ALICE), open_fees);
				let deposits: Balance = pallet_model_hub::Models::<Test>::iter_values().map(|m| m.deposit).sum();
				let reason: RuntimeHoldReason = pallet_model_hub::HoldReason::ModelDeposit.into();
				assert_eq!(Balances::balance_on_hold(&reason, &OWNER), deposits);
			}
			// Every deadline passes: nothing stays held.
			run_to(2 + 60 + 20 * 3 + 1);
			assert_eq!(Requests::<Test>::iter().count(), 0);
			assert!(held(ALICE).is_zero() && held(BOB).is_zero());
			assert_eq!(Balances::total_issuance(), issuance);
		});
	}
}

mod zkml {
	use super::*;
	use ark_std::rand::{rngs::StdRng, SeedableRng};
	use opg_zk::{CompiledModel, Prover};
	use pallet_model_hub::{Artifact, DType, ModelFormat, ModelSpec, Schema, TensorSpec, Version};
	use pallet_node_registry::{Roles, VerificationModes};

	/// Model 1: a 4→2 quantized MLP (the shape of the mock's schema) with vanilla and ZKML.
	pub(super) const ZK_MODEL: u32 = 1;
	pub(super) const INPUT: [u8; 4] = [3, 250, 17, 128];

	pub(super) fn prover(seed: u64) -> Prover {
		let model = CompiledModel::new(opg_qmodel::generate(&[4, 2], 3)).unwrap();
		let key = opg_zk::setup(&model, &mut StdRng::seed_from_u64(seed)).unwrap();
		Prover::new(model, key).unwrap()
	}

	pub(super) fn publish(prover: &Prover) {
		let tensor = |len| TensorSpec { shape: BoundedVec::truncate_from(vec![len]), dtype: DType::I8, quantization: None };
		assert_ok!(ModelHub::publish(
			RuntimeOrigin::signed(OWNER),
			ModelSpec {
				name: BoundedVec::truncate_from(b"mlp-zk".to_vec()),
				version: Version { major: 1, minor: 0, patch: 0 },
				format: ModelFormat::QuantizedInteger,
				artifact: Artifact { hash: [0xbb; 32], size: 10, locator: BoundedVec::new() },
				schema: Schema {
					inputs: BoundedVec::truncate_from(vec![tensor(4)]),
					outputs: BoundedVec::truncate_from(vec![tensor(2)]),
				},
				price: PRICE,
				modes: VerificationModes(VerificationModes::VANILLA | VerificationModes::ZKML),
			},
			Some(BoundedVec::truncate_from(opg_zk_verifier::encode_key(prover.verifying_key()))),
		));
	}

	/// Node `n` serving [`ZK_MODEL`] in vanilla and ZKML modes.
	pub(super) fn register_zk_node(n: u8) {
		let mut capabilities = capabilities(ZK_MODEL);
		capabilities.modes = VerificationModes(VerificationModes::VANILLA | VerificationModes::ZKML);
		let message = NodeRegistry::registration_message(&operator(n)).unwrap();
		assert_ok!(NodeRegistry::register(
			RuntimeOrigin::signed(operator(n)),
			key(n),
			Roles(Roles::INFERENCE),
			capabilities,
			1_000,
			node_pair(n).sign(&message),
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
	fn proven(prover: &Prover, id: RequestId, n: u8, proven_id: RequestId, proven_node: u8) -> (ResultOf<Test>, ZkProof, sr25519::Signature) {
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
		new_test_ext().execute_with(|| {
			let prover = prover(1);
			publish(&prover);
			register_zk_node(1);
			let request = |input, settlement| {
				Inference::request(RuntimeOrigin::signed(ALICE), ZK_MODEL, input, VerificationMode::Zkml, settlement, PRICE, 5)
			};
			assert_noop!(request(stored(1), SettlementMode::Private), Error::<Test>::ZkmlNeedsInlineInput);
			assert_noop!(request(inline(&INPUT), SettlementMode::Batch), Error::<Test>::ZkmlNeedsInlineInput);
			let id = zk_request(VerificationMode::Zkml);
			let commitment = opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(&INPUT));
			assert_eq!(InputCommitments::<Test>::get(id), Some(commitment));
			// Vanilla requests of the same model store no commitment.
			let vanilla = zk_request(VerificationMode::Vanilla);
			assert_eq!(InputCommitments::<Test>::get(vanilla), None);
		});
	}

	/// A stored input of [`INPUT`]: its real SHA-256, size and no locator.
	pub(super) fn stored_input() -> InputOf<Test> {
		Input::Stored { hash: opg_settlement::sha256(&INPUT), size: INPUT.len() as u64, locator: BoundedVec::new() }
	}

	pub(super) fn commitment_of(input: &[u8]) -> [u8; 32] {
		opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(input))
	}

	pub(super) fn zk_stored_request(commitment: [u8; 32]) -> Result<RequestId, sp_runtime::DispatchError> {
		let id = NextRequestId::<Test>::get();
		Inference::request_zkml_stored(RuntimeOrigin::signed(ALICE), ZK_MODEL, stored_input(), commitment, PRICE, 5)?;
		Ok(id)
	}

	#[test]
	fn stored_zkml_requests_carry_the_callers_commitment_and_settle_against_it() {
		new_test_ext().execute_with(|| {
			let prover = prover(1);
			publish(&prover);
			register_zk_node(1);
			let stored_request = |input, commitment| {
				Inference::request_zkml_stored(RuntimeOrigin::signed(ALICE), ZK_MODEL, input, commitment, PRICE, 5)
			};
			let commitment = commitment_of(&INPUT);
			assert_noop!(stored_request(inline(&INPUT), commitment), Error::<Test>::StoredInputExpected);
			// At or above the BN254 scalar field's modulus: not canonical.
			assert_noop!(stored_request(stored_input(), [0xff; 32]), Error::<Test>::InvalidInputCommitment);
			let empty = Input::Stored { hash: [1; 32], size: 0, locator: BoundedVec::new() };
			assert_noop!(stored_request(empty, commitment), Error::<Test>::EmptyInput);
			assert_noop!(
				Inference::request_zkml_stored(RuntimeOrigin::signed(ALICE), MODEL, stored_input(), commitment, PRICE, 5),
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
		new_test_ext().execute_with(|| {
			let prover = prover(1);
			publish(&prover);
			register_zk_node(1);
			let id = zk_request(VerificationMode::Zkml);
			let (result, proof, signature) = proven(&prover, id, 1, id, 1);
			let expected = prover.model().model().evaluate_bytes(&INPUT).unwrap();
			assert_eq!(result.output, output(&expected));
			let call = Call::<Test>::submit_proven_result { result: result.clone(), proof: proof.clone(), signature };
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
		new_test_ext().execute_with(|| {
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
			assert_noop!(submit(result.clone(), BoundedVec::truncate_from(proof[..127].to_vec()), signature), Error::<Test>::ProofRejected);
			let mut non_canonical = proof.clone();
			non_canonical[..32].copy_from_slice(&[0xff; 32]);
			assert_noop!(submit(result.clone(), non_canonical, signature), Error::<Test>::ProofRejected);
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
			let message = Inference::result_message(&Requests::<Test>::get(id).unwrap(), id, &wrong.output.hash()).unwrap();
			assert_noop!(submit(wrong, proof.clone(), node_pair(n).sign(&message)), Error::<Test>::ProofRejected);
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
			let call = Call::<Test>::submit_proven_result { result: result.clone(), proof: replayed, signature };
			assert!(Inference::validate_unsigned(TransactionSource::External, &call).is_err());

			assert_ok!(submit(result, proof, signature));
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
		new_test_ext().execute_with(|| {
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

			let call = Call::<Test>::submit_proven_batch { results: BoundedVec::truncate_from(results.clone()) };
			assert!(Inference::validate_unsigned(TransactionSource::External, &call).is_ok());
			assert_ok!(submit_batch(results.clone()));
			for (id, proven) in ids.iter().zip(&results) {
				let settled = Results::<Test>::get(id).unwrap();
				assert_eq!(settled.settlement, Settlement::Proven { signature: proven.signature, proof: proven.proof.clone() });
			}
			assert_eq!(held(ALICE), PRICE, "only the vanilla request is still held");
			// Settled once: the same batch again finds no open request.
			assert_noop!(submit_batch(results), Error::<Test>::RequestNotFound);
		});
	}

	#[test]
	fn a_proven_batch_answers_one_model() {
		new_test_ext().execute_with(|| {
			let first = prover(1);
			publish(&first);
			// The same model published again under another name: another id, another key.
			let second = prover(2);
			let second_key = opg_zk_verifier::encode_key(second.verifying_key());
			let mut spec = pallet_model_hub::Models::<Test>::get(ZK_MODEL).unwrap().spec;
			spec.name = BoundedVec::truncate_from(b"mlp-zk-2".to_vec());
			assert_ok!(ModelHub::publish(RuntimeOrigin::signed(OWNER), spec, Some(BoundedVec::truncate_from(second_key))));
			let mut capabilities = capabilities(ZK_MODEL);
			capabilities.models = BoundedVec::truncate_from(vec![ZK_MODEL, ZK_MODEL + 1]);
			capabilities.modes = VerificationModes(VerificationModes::VANILLA | VerificationModes::ZKML);
			let message = NodeRegistry::registration_message(&operator(1)).unwrap();
			assert_ok!(NodeRegistry::register(
				RuntimeOrigin::signed(operator(1)),
				key(1),
				Roles(Roles::INFERENCE),
				capabilities,
				1_000,
				node_pair(1).sign(&message),
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
		new_test_ext().execute_with(|| {
			// The hub holds the key of one setup; the node proves with another's.
			publish(&prover(1));
			register_zk_node(1);
			let other_setup = prover(2);
			let id = zk_request(VerificationMode::Zkml);
			let (result, proof, signature) = proven(&other_setup, id, 1, id, 1);
			assert_noop!(submit(result, proof, signature), Error::<Test>::ProofRejected);
		});
	}
}

mod offchain_worker {
	use super::*;
	use codec::Decode;
	use polkadot_sdk::{
		frame_support::traits::Hooks,
		sp_core::offchain::{
			testing::{OffchainState, PendingRequest, PoolState, TestOffchainExt, TestTransactionPoolExt},
			OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
		},
		sp_io::TestExternalities,
		sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt},
	};
	use parking_lot::RwLock;
	use std::sync::Arc;

	type Extrinsic = polkadot_sdk::frame_system::mocking::MockUncheckedExtrinsic<Test>;
	type Shared<T> = Arc<RwLock<T>>;
	const EXECUTOR: &str = "http://executor.test";

	/// A test chain whose keystore holds node 1's key, with an off-chain worker
	/// environment: HTTP expectations and a transaction pool.
	fn worker_ext() -> (TestExternalities, Shared<OffchainState>, Shared<PoolState>) {
		let mut ext = new_test_ext();
		let (offchain, state) = TestOffchainExt::new();
		let (pool, pool_state) = TestTransactionPoolExt::new();
		let keystore = MemoryKeystore::new();
		keystore.sr25519_generate_new(NODE_KEY_TYPE, Some(&format!("0x{}", hex::encode([1u8; 32])))).unwrap();
		ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
		ext.register_extension(OffchainDbExt::new(offchain));
		ext.register_extension(TransactionPoolExt::new(pool));
		ext.register_extension(KeystoreExt::new(keystore));
		(ext, state, pool_state)
	}

	/// Expects the worker to POST `body` to the executor at `path` (after its URL), and
	/// answers `response` with `headers`.
	fn expect_post(state: &RwLock<OffchainState>, path: String, body: &[u8], response: &[u8], headers: &[(&str, String)]) {
		state.write().expect_request(PendingRequest {
			method: "POST".into(),
			uri: format!("{EXECUTOR}{path}"),
			headers: vec![("content-type".into(), "application/octet-stream".into())],
			body: body.to_vec(),
			response: Some(response.to_vec()),
			response_headers: headers.iter().map(|(name, value)| (name.to_string(), value.clone())).collect(),
			sent: true,
			..Default::default()
		});
	}

	fn expect_inference(state: &RwLock<OffchainState>, input: &[u8], output: &[u8]) {
		expect_post(state, format!("/v1/infer/0x{}", hex::encode([0xaa; 32])), input, output, &[]);
	}

	fn submitted_calls(pool: &RwLock<PoolState>) -> Vec<Call<Test>> {
		pool.write()
			.transactions
			.drain(..)
			.map(|bytes| match Extrinsic::decode(&mut &bytes[..]).unwrap().function {
				RuntimeCall::Inference(call) => call,
				other => panic!("unexpected call {other:?}"),
			})
			.collect()
	}

	fn set_executor_url() {
		sp_io::offchain::local_storage_set(
			polkadot_sdk::sp_core::offchain::StorageKind::PERSISTENT,
			EXECUTOR_URL_KEY,
			EXECUTOR.as_bytes(),
		);
	}

	#[test]
	fn the_worker_runs_an_assignment_and_submits_a_result_that_settles() {
		let (mut ext, state, pool) = worker_ext();
		ext.execute_with(|| {
			register_node(1, 1_000);
			let id = request(ALICE);

			// No executor URL: nothing is requested or submitted.
			Inference::offchain_worker(1);
			assert!(pool.read().transactions.is_empty());

			set_executor_url();
			expect_inference(&state, b"input", b"output");
			Inference::offchain_worker(1);
			let calls = submitted_calls(&pool);
			assert_eq!(calls.len(), 1);
			// Submitted once: the next run neither calls the executor nor submits again.
			Inference::offchain_worker(1);
			assert!(pool.read().transactions.is_empty());

			let call = calls.into_iter().next().unwrap();
			assert_ok!(Inference::validate_unsigned(TransactionSource::Local, &call));
			let Call::submit_result { result, signature } = call else { panic!("a single result") };
			assert_eq!(result.output, output(b"output"));
			assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
			assert_eq!(Results::<Test>::get(id).unwrap().settlement, Settlement::Single { signature });
		});
	}

	#[test]
	fn a_node_key_held_by_the_executor_is_served_with_the_executors_signatures() {
		let (mut ext, state, pool) = worker_ext();
		ext.execute_with(|| {
			// Node 2's key is not in the keystore: only the executor holds it.
			register_node(2, 1_000);
			set_executor_url();
			sp_io::offchain::local_storage_set(
				polkadot_sdk::sp_core::offchain::StorageKind::PERSISTENT,
				EXECUTOR_NODE_KEY,
				&key(2).0,
			);
			let expect = |id: RequestId, signature: Option<sr25519::Signature>| {
				let path = format!("/v1/infer/0x{}?genesis=0x{}&request={id}", hex::encode([0xaa; 32]), hex::encode(GENESIS_HASH));
				let headers: Vec<_> =
					signature.iter().map(|s| ("x-opg-signature", format!("0x{}", hex::encode(s.0)))).collect();
				expect_post(&state, path, b"input", b"output", &headers);
			};

			let id = request(ALICE);
			let (_, signature) = signed_result(id, 2, output(b"output"), 2);
			expect(id, Some(signature));
			Inference::offchain_worker(1);
			let calls = submitted_calls(&pool);
			let [call] = &calls[..] else { panic!("one result submitted, not {calls:?}") };
			assert_ok!(Inference::validate_unsigned(TransactionSource::Local, call));
			let Call::submit_result { result, signature: submitted } = call.clone() else { panic!("a single result") };
			assert_eq!((result.node, submitted), (key(2), signature), "the executor's signature, for its key");
			assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, submitted));

			// Batch settlement: the executor signs the root over the results it signed.
			let batched = NextRequestId::<Test>::get();
			assert_ok!(request_with(ALICE, inline(b"input"), VerificationMode::Vanilla, SettlementMode::Batch));
			let (_, leaf_signature) = signed_result(batched, 2, output(b"output"), 2);
			expect(batched, Some(leaf_signature));
			let leaf = opg_settlement::merkle::Leaf {
				request: batched,
				input_hash: opg_settlement::sha256(b"input"),
				output_hash: opg_settlement::sha256(b"output"),
			};
			let root = opg_settlement::merkle::root(&[leaf]).unwrap();
			let root_signature = node_pair(2).sign(&opg_settlement::message::batch(&GENESIS_HASH, &root, 1));
			expect_post(
				&state,
				format!("/v1/sign-batch?genesis=0x{}", hex::encode(GENESIS_HASH)),
				&batched.to_le_bytes(),
				b"",
				&[("x-opg-signature", format!("0x{}", hex::encode(root_signature.0)))],
			);
			Inference::offchain_worker(1);
			let calls = submitted_calls(&pool);
			let [call @ Call::submit_batch { batch, signature: submitted }] = &calls[..] else {
				panic!("one batch submitted, not {calls:?}")
			};
			assert_eq!((batch.node, *submitted), (key(2), root_signature));
			assert_ok!(Inference::validate_unsigned(TransactionSource::Local, call));

			// An answer without the executor's signature is not submitted.
			let unsigned = request(ALICE);
			expect(unsigned, None);
			Inference::offchain_worker(1);
			assert!(pool.read().transactions.is_empty());
			assert_eq!(Results::<Test>::get(id).unwrap().settlement, Settlement::Single { signature });
		});
	}

	/// The executor's answer to the prove call for request `id` of node 1: the output and a
	/// real proof from `prover`, which is returned.
	fn expect_proof(state: &RwLock<OffchainState>, prover: &opg_zk::Prover, id: RequestId) -> Vec<u8> {
		use ark_std::rand::{rngs::StdRng, SeedableRng};
		let binding = opg_zk_verifier::job_binding(&GENESIS_HASH, id, &key(1).0);
		let proven = prover.prove(&zkml::INPUT, binding, &mut StdRng::seed_from_u64(id)).unwrap();
		let query = format!("genesis=0x{}&request={id}&node=0x{}", hex::encode(GENESIS_HASH), hex::encode(key(1).0));
		let path = format!("/v1/prove/0x{}?{query}", hex::encode([0xbb; 32]));
		expect_post(state, path, &zkml::INPUT, &proven.output, &[("x-opg-proof", format!("0x{}", hex::encode(&proven.proof)))]);
		proven.proof
	}

	/// The ZKML model published, node 1 serving it, the executor URL set; its prover.
	fn zk_worker() -> opg_zk::Prover {
		let prover = zkml::prover(1);
		zkml::publish(&prover);
		zkml::register_zk_node(1);
		set_executor_url();
		prover
	}

	#[test]
	fn zkml_assignments_go_to_the_prover_and_settle_with_its_proof() {
		let (mut ext, state, pool) = worker_ext();
		ext.execute_with(|| {
			let prover = zk_worker();
			let id = zkml::zk_request(VerificationMode::Zkml);
			let expected = expect_proof(&state, &prover, id);
			Inference::offchain_worker(1);
			let call = submitted_calls(&pool).into_iter().next().expect("one result");
			assert_ok!(Inference::validate_unsigned(TransactionSource::Local, &call));
			let Call::submit_proven_result { result, proof, signature } = call else { panic!("a proven result") };
			assert_eq!(proof.to_vec(), expected);
			assert_ok!(Inference::submit_proven_result(RuntimeOrigin::none(), result, proof.clone(), signature));
			assert_eq!(Results::<Test>::get(id).unwrap().settlement, Settlement::Proven { signature, proof });
		});
	}

	#[test]
	fn stored_zkml_assignments_are_proven_from_the_store() {
		use ark_std::rand::{rngs::StdRng, SeedableRng};
		let (mut ext, state, pool) = worker_ext();
		ext.execute_with(|| {
			let prover = zk_worker();
			let id = zkml::zk_stored_request(zkml::commitment_of(&zkml::INPUT)).unwrap();
			let binding = opg_zk_verifier::job_binding(&GENESIS_HASH, id, &key(1).0);
			let proven = prover.prove(&zkml::INPUT, binding, &mut StdRng::seed_from_u64(id)).unwrap();
			let query = format!(
				"input=0x{}&genesis=0x{}&request={id}&node=0x{}",
				hex::encode(opg_settlement::sha256(&zkml::INPUT)),
				hex::encode(GENESIS_HASH),
				hex::encode(key(1).0)
			);
			let path = format!("/v1/prove/0x{}?{query}", hex::encode([0xbb; 32]));
			let header = format!("0x{}", hex::encode(&proven.proof));
			expect_post(&state, path, &[], &proven.output, &[("x-opg-proof", header)]);
			Inference::offchain_worker(1);
			let call = submitted_calls(&pool).into_iter().next().expect("one result");
			let Call::submit_proven_result { result, proof, signature } = call else { panic!("a proven result") };
			assert_ok!(Inference::submit_proven_result(RuntimeOrigin::none(), result, proof, signature));
			assert!(Results::<Test>::get(id).is_some());
		});
	}

	#[test]
	fn zkml_results_of_one_model_go_as_one_proven_batch() {
		let (mut ext, state, pool) = worker_ext();
		ext.execute_with(|| {
			let prover = zk_worker();
			let ids = [zkml::zk_request(VerificationMode::Zkml), zkml::zk_request(VerificationMode::Zkml)];
			// The worker serves assignments in storage order.
			for (id, ()) in Assignments::<Test>::iter_prefix(key(1)) {
				expect_proof(&state, &prover, id);
			}
			Inference::offchain_worker(1);
			let calls = submitted_calls(&pool);
			assert_eq!(calls.len(), 1);
			let call = calls.into_iter().next().unwrap();
			assert_ok!(Inference::validate_unsigned(TransactionSource::Local, &call));
			let Call::submit_proven_batch { results } = call else { panic!("one proven batch") };
			assert_eq!(results.len(), 2);
			assert_ok!(Inference::submit_proven_batch(RuntimeOrigin::none(), results));
			assert!(ids.iter().all(|id| Results::<Test>::contains_key(id)));
		});
	}

	#[test]
	fn private_and_batch_results_go_as_hashes_and_one_signed_batch() {
		let (mut ext, state, pool) = worker_ext();
		ext.execute_with(|| {
			register_node(1, 1_000);
			set_executor_url();
			let private = NextRequestId::<Test>::get();
			assert_ok!(request_with(ALICE, stored(7), VerificationMode::Vanilla, SettlementMode::Private));
			let batched = NextRequestId::<Test>::get();
			assert_ok!(request_with(ALICE, inline(b"a"), VerificationMode::Vanilla, SettlementMode::Batch));
			assert_ok!(request_with(ALICE, inline(b"b"), VerificationMode::Vanilla, SettlementMode::Batch));

			// The worker serves assignments in storage order.
			for (id, ()) in Assignments::<Test>::iter_prefix(key(1)) {
				if id == private {
					let path = format!("/v1/infer/0x{}?input=0x{}", hex::encode([0xaa; 32]), hex::encode([7u8; 32]));
					expect_post(&state, path, b"", b"secret", &[]);
				} else if id == batched {
					expect_inference(&state, b"a", b"A");
				} else {
					expect_inference(&state, b"b", b"B");
				}
			}
			Inference::offchain_worker(1);

			let calls = submitted_calls(&pool);
			assert_eq!(calls.len(), 2);
			for call in calls {
				assert_ok!(Inference::validate_unsigned(TransactionSource::Local, &call));
				match call {
					Call::submit_result { result, signature } => {
						assert_eq!(result.request, private);
						assert_eq!(result.output, Output::Hash(opg_settlement::sha256(b"secret")));
						assert_ok!(Inference::submit_result(RuntimeOrigin::none(), result, signature));
					},
					Call::submit_batch { batch, signature } => {
						let mut outputs: Vec<_> = batch.leaves.iter().map(|leaf| (leaf.request, leaf.output_hash)).collect();
						outputs.sort();
						let expected = vec![
							(batched, opg_settlement::sha256(b"A")),
							(batched + 1, opg_settlement::sha256(b"B")),
						];
						assert_eq!(outputs, expected);
						assert_ok!(Inference::submit_batch(RuntimeOrigin::none(), batch, signature));
					},
					other => panic!("unexpected call {other:?}"),
				}
			}
			assert!(Requests::<Test>::iter().next().is_none(), "every request settled");
		});
	}
}
