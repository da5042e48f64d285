//! The registry's tests by concern; shared helpers here, the mock runtime in `crate::mock`.

use crate::{mock::*, *};
use codec::Encode;
use opg_dev_evidence::{nitro_document, DocumentRequest, Pcrs, DEVELOPMENT_IMAGE};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::fungible::{Inspect, InspectHold},
		BoundedVec,
	},
	sp_core::{sr25519, Pair},
	sp_runtime::{DispatchError, DispatchResult},
};

type Registry = NodeRegistry;

fn key(n: u8) -> NodeKey {
	node_pair(n).public()
}

fn capabilities() -> CapabilitiesOf<Test> {
	Capabilities {
		models: BoundedVec::truncate_from(vec![1, 2]),
		modes: VerificationModes(VerificationModes::VANILLA | VerificationModes::TEE),
		hardware: Hardware {
			class: HardwareClass::Gpu,
			gpu_model: BoundedVec::truncate_from(b"NVIDIA H100 80GB HBM3".to_vec()),
			gpu_memory_mib: 81_559,
		},
		endpoint: BoundedVec::truncate_from(b"http://127.0.0.1:8700".to_vec()),
		jobs_per_block: 64,
	}
}

fn registration_signature(node: u8, operator: AccountId) -> sr25519::Signature {
	node_pair(node).sign(&Registry::registration_message(&operator).unwrap())
}

fn register(node: u8, operator: AccountId, bond: Balance) -> DispatchResult {
	Registry::register(
		RuntimeOrigin::signed(operator),
		key(node),
		Roles(Roles::INFERENCE),
		capabilities(),
		bond,
		registration_signature(node, operator),
	)
}

fn last_event() -> Event<Test> {
	System::events()
		.into_iter()
		.rev()
		.find_map(|record| match record.event {
			RuntimeEvent::NodeRegistry(event) => Some(event),
			_ => None,
		})
		.expect("a node-registry event")
}

fn challenge(node: u8, operator: AccountId) -> [u8; 32] {
	assert_ok!(Registry::request_challenge(RuntimeOrigin::signed(operator), key(node)));
	Challenges::<Test>::get(key(node)).unwrap().nonce
}

/// Development evidence for node `node`, bound to `genesis`, `nonce` and operator ALICE.
fn document(node: u8, genesis: [u8; 32], nonce: [u8; 32], at: u64, pcrs: Pcrs) -> Evidence {
	operator_document(node, ALICE, genesis, nonce, at, pcrs)
}

fn operator_document(
	node: u8,
	operator: AccountId,
	genesis: [u8; 32],
	nonce: [u8; 32],
	at: u64,
	pcrs: Pcrs,
) -> Evidence {
	let request = DocumentRequest {
		node_key: key(node).0,
		genesis_hash: genesis,
		nonce,
		operator: operator.encode(),
		pcrs,
		now: at,
	};
	Evidence::Nitro { document: BoundedVec::truncate_from(nitro_document(&request).unwrap()) }
}

fn dev_document(node: u8, nonce: [u8; 32]) -> Evidence {
	document(node, GENESIS_HASH, nonce, NOW, Pcrs::development(DEVELOPMENT_IMAGE))
}

fn attest(
	node: u8,
	operator: AccountId,
	evidence: impl FnOnce([u8; 32]) -> Evidence,
) -> DispatchResult {
	let nonce = challenge(node, operator);
	Registry::submit_attestation(RuntimeOrigin::signed(operator), key(node), evidence(nonce))
}

/// Issues a challenge, then checks that `evidence` answering it fails with `error` and
/// changes nothing.
fn assert_rejected(node: u8, evidence: impl FnOnce([u8; 32]) -> Evidence, error: Error<Test>) {
	let evidence = evidence(challenge(node, ALICE));
	assert_noop!(
		Registry::submit_attestation(RuntimeOrigin::signed(ALICE), key(node), evidence),
		error
	);
}

fn run_to(block: u64) {
	NodeRegistry::do_try_state().expect("the node registry's invariants hold");
	System::set_block_number(block);
}

mod attestation;
mod dcap;
mod exit;
mod heartbeat;
mod model_index;
mod properties;
mod registration;
mod verifiers;
