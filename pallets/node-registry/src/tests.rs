use crate::{mock::*, *};
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

fn document(node: u8, genesis: [u8; 32], nonce: [u8; 32], at: u64, pcrs: Pcrs) -> Evidence {
	let request = DocumentRequest { node_key: key(node).0, genesis_hash: genesis, nonce, pcrs, now: at };
	Evidence::Nitro { document: BoundedVec::truncate_from(nitro_document(&request).unwrap()) }
}

fn dev_document(node: u8, nonce: [u8; 32]) -> Evidence {
	document(node, GENESIS_HASH, nonce, NOW, Pcrs::development(DEVELOPMENT_IMAGE))
}

fn attest(node: u8, operator: AccountId, evidence: impl FnOnce([u8; 32]) -> Evidence) -> DispatchResult {
	let nonce = challenge(node, operator);
	Registry::submit_attestation(RuntimeOrigin::signed(operator), key(node), evidence(nonce))
}

/// Issues a challenge, then checks that `evidence` answering it fails with `error` and
/// changes nothing.
fn assert_rejected(node: u8, evidence: impl FnOnce([u8; 32]) -> Evidence, error: Error<Test>) {
	let evidence = evidence(challenge(node, ALICE));
	assert_noop!(Registry::submit_attestation(RuntimeOrigin::signed(ALICE), key(node), evidence), error);
}

fn run_to(block: u64) {
	System::set_block_number(block);
}

#[test]
fn register_holds_the_bond_and_records_the_node() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_eq!(
			last_event(),
			Event::NodeRegistered { node: key(1), operator: ALICE, roles: Roles(Roles::INFERENCE), bond: 5_000 }
		);
		let node = Nodes::<Test>::get(key(1)).unwrap();
		assert_eq!((node.operator, node.bond, node.status), (ALICE, 5_000, NodeStatus::Active));
		assert_eq!(node.capabilities, capabilities());
		assert_eq!(Balances::balance_on_hold(&HoldReason::NodeBond.into(), &ALICE), 5_000);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT - 5_000);
		assert!(Registry::is_live(&key(1), Roles::INFERENCE));
		assert!(!Registry::is_live(&key(1), Roles::DATA));
		assert_eq!(Registry::tee_attestation(&key(1)), None);
	});
}

#[test]
fn bad_registrations_fail_with_named_errors_and_change_nothing() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_noop!(register(1, BOB, 5_000), Error::<Test>::NodeAlreadyRegistered);
		assert_noop!(register(2, ALICE, 999), Error::<Test>::BondTooLow);
		assert_noop!(register(2, ALICE, ENDOWMENT), Error::<Test>::InsufficientBalance);
		for roles in [0, 1 << 5] {
			assert_noop!(
				Registry::register(
					RuntimeOrigin::signed(ALICE),
					key(2),
					Roles(roles),
					capabilities(),
					5_000,
					registration_signature(2, ALICE)
				),
				Error::<Test>::InvalidRoles
			);
		}
		let mut no_modes = capabilities();
		no_modes.modes = VerificationModes(0);
		assert_noop!(
			Registry::register(
				RuntimeOrigin::signed(ALICE),
				key(2),
				Roles(Roles::INFERENCE),
				no_modes,
				5_000,
				registration_signature(2, ALICE)
			),
			Error::<Test>::InvalidModes
		);
		// Signed for another operator, or by another key: no proof of possession.
		for signature in [registration_signature(2, BOB), registration_signature(3, ALICE)] {
			assert_noop!(
				Registry::register(
					RuntimeOrigin::signed(ALICE),
					key(2),
					Roles(Roles::INFERENCE),
					capabilities(),
					5_000,
					signature
				),
				Error::<Test>::BadNodeKeySignature
			);
		}
		assert_noop!(
			Registry::register(
				RuntimeOrigin::none(),
				key(2),
				Roles(Roles::INFERENCE),
				capabilities(),
				5_000,
				registration_signature(2, ALICE)
			),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn operators_manage_only_their_own_nodes() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		let other = RuntimeOrigin::signed(BOB);
		assert_noop!(Registry::heartbeat(other.clone(), key(1)), Error::<Test>::NotOperator);
		assert_noop!(Registry::bond_extra(other.clone(), key(1), 10), Error::<Test>::NotOperator);
		assert_noop!(Registry::request_challenge(other.clone(), key(1)), Error::<Test>::NotOperator);
		assert_noop!(Registry::unregister(other.clone(), key(1)), Error::<Test>::NotOperator);
		assert_noop!(
			Registry::update_capabilities(other, key(1), capabilities()),
			Error::<Test>::NotOperator
		);
		assert_noop!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), key(9)), Error::<Test>::NodeNotFound);
	});
}

#[test]
fn capabilities_and_bond_can_change() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		let mut cpu = capabilities();
		cpu.hardware = Hardware { class: HardwareClass::Cpu, gpu_model: Default::default(), gpu_memory_mib: 0 };
		assert_ok!(Registry::update_capabilities(RuntimeOrigin::signed(ALICE), key(1), cpu.clone()));
		assert_eq!(Nodes::<Test>::get(key(1)).unwrap().capabilities, cpu);
		assert_ok!(Registry::bond_extra(RuntimeOrigin::signed(ALICE), key(1), 500));
		assert_eq!(last_event(), Event::BondIncreased { node: key(1), bond: 5_500 });
		assert_eq!(Balances::balance_on_hold(&HoldReason::NodeBond.into(), &ALICE), 5_500);
		assert_noop!(
			Registry::bond_extra(RuntimeOrigin::signed(ALICE), key(1), ENDOWMENT),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn liveness_needs_heartbeats_within_the_window() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		run_to(1 + LivenessWindow::get());
		assert!(Registry::is_live(&key(1), Roles::INFERENCE));
		run_to(2 + LivenessWindow::get());
		assert!(!Registry::is_live(&key(1), Roles::INFERENCE));
		assert_ok!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), key(1)));
		assert_eq!(last_event(), Event::Heartbeat { node: key(1) });
		assert!(Registry::is_live(&key(1), Roles::INFERENCE));
	});
}

#[test]
fn a_development_document_attests_a_node_and_consumes_the_nonce() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		let nonce = challenge(1, ALICE);
		assert_eq!(
			last_event(),
			Event::ChallengeIssued { node: key(1), nonce, expires_at: 1 + ChallengeLifetime::get() }
		);
		let evidence = dev_document(1, nonce);
		assert_ok!(Registry::submit_attestation(RuntimeOrigin::signed(ALICE), key(1), evidence.clone()));
		let measurement = Pcrs::development(DEVELOPMENT_IMAGE).measurement().hash();
		let expires_at = 1 + AttestationValidity::get();
		assert_eq!(
			last_event(),
			Event::NodeAttested { node: key(1), tee: TeeType::Nitro, measurement, expires_at }
		);
		let record = Registry::tee_attestation(&key(1)).unwrap();
		assert_eq!((record.tee, record.measurement, record.expires_at), (TeeType::Nitro, measurement, expires_at));

		// Replay: the nonce is gone.
		assert_noop!(
			Registry::submit_attestation(RuntimeOrigin::signed(ALICE), key(1), evidence),
			Error::<Test>::NoChallenge
		);
		// A new challenge gets a new nonce, and the old document does not answer it.
		let next = challenge(1, ALICE);
		assert_ne!(next, nonce);
		assert_noop!(
			Registry::submit_attestation(RuntimeOrigin::signed(ALICE), key(1), dev_document(1, nonce)),
			Error::<Test>::BindingMismatch
		);
	});
}

#[test]
fn evidence_must_bind_node_key_chain_and_nonce() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_ok!(register(2, ALICE, 5_000));
		let pcrs = Pcrs::development(DEVELOPMENT_IMAGE);
		let mismatches: [Box<dyn Fn([u8; 32]) -> Evidence>; 3] = [
			Box::new(|nonce| dev_document(2, nonce)),
			Box::new(|nonce| document(1, [0x22; 32], nonce, NOW, pcrs)),
			Box::new(|_| dev_document(1, [0x33; 32])),
		];
		for evidence in mismatches {
			let nonce = challenge(1, ALICE);
			assert_noop!(
				Registry::submit_attestation(RuntimeOrigin::signed(ALICE), key(1), evidence(nonce)),
				Error::<Test>::BindingMismatch
			);
		}
	});
}

#[test]
fn challenges_expire() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_noop!(
			Registry::submit_attestation(RuntimeOrigin::signed(ALICE), key(1), dev_document(1, [0; 32])),
			Error::<Test>::NoChallenge
		);
		let nonce = challenge(1, ALICE);
		run_to(2 + ChallengeLifetime::get());
		assert_noop!(
			Registry::submit_attestation(RuntimeOrigin::signed(ALICE), key(1), dev_document(1, nonce)),
			Error::<Test>::ChallengeExpired
		);
	});
}

#[test]
fn production_genesis_rejects_development_evidence() {
	// The default genesis (what production chain specs start from) trusts only AWS's root,
	// and no call can change that.
	let production = ExtBuilder { trust_development_root: false, ..Default::default() };
	production.build().execute_with(|| {
		assert!(!TrustDevelopmentRoot::<Test>::get());
		assert_ok!(register(1, ALICE, 5_000));
		assert_rejected(1, |nonce| dev_document(1, nonce), Error::<Test>::UntrustedRoot);
	});
	let genesis = crate::GenesisConfig::<Test>::default();
	assert!(!genesis.trust_development_root);
}

#[test]
fn stale_expired_and_tampered_documents_are_rejected() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		let pcrs = Pcrs::development(DEVELOPMENT_IMAGE);
		// Produced an hour ago: its leaf is still valid, but the document is stale.
		assert_rejected(1, |nonce| document(1, GENESIS_HASH, nonce, NOW - 3600, pcrs), Error::<Test>::StaleEvidence);
		// Produced four hours ago: its leaf certificate has expired.
		assert_rejected(1, |nonce| document(1, GENESIS_HASH, nonce, NOW - 4 * 3600, pcrs), Error::<Test>::NotValidAtChainTime);
		// Produced in an hour: not yet valid.
		assert_rejected(1, |nonce| document(1, GENESIS_HASH, nonce, NOW + 3600, pcrs), Error::<Test>::NotValidAtChainTime);
		// The last byte of the COSE signature flipped.
		assert_rejected(1, |nonce| {
				let Evidence::Nitro { mut document } = dev_document(1, nonce) else { unreachable!() };
				*document.last_mut().unwrap() ^= 1;
				Evidence::Nitro { document }
			}, Error::<Test>::InvalidEvidenceSignature);
		assert_rejected(1, |_| Evidence::Nitro { document: BoundedVec::truncate_from(vec![0xa0]) }, Error::<Test>::MalformedEvidence);
	});
}

#[test]
fn only_allowed_measurements_attest() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		let other = Pcrs::development("another-image");
		assert_rejected(1, |nonce| document(1, GENESIS_HASH, nonce, NOW, other), Error::<Test>::MeasurementNotAllowed);
		assert_noop!(
			Registry::allow_measurement(RuntimeOrigin::signed(ALICE), other.measurement(), 0),
			DispatchError::BadOrigin
		);
		assert_ok!(Registry::allow_measurement(RuntimeOrigin::root(), other.measurement(), 0));
		assert_eq!(
			last_event(),
			Event::MeasurementAllowed { tee: TeeType::Nitro, measurement: other.measurement().hash(), min_security_version: 0 }
		);
		assert_noop!(
			Registry::allow_measurement(RuntimeOrigin::root(), other.measurement(), 0),
			Error::<Test>::MeasurementAlreadyAllowed
		);
		assert_ok!(attest(1, ALICE, |nonce| document(1, GENESIS_HASH, nonce, NOW, other)));

		// A signed image matches an entry that pins its signer, or one that does not.
		let mut signed = other;
		signed.pcr8 = Some([5; 48]);
		assert_ok!(attest(1, ALICE, |nonce| document(1, GENESIS_HASH, nonce, NOW, signed)));
		assert_eq!(Registry::tee_attestation(&key(1)).unwrap().measurement, other.measurement().hash());
		let mut other_signer = other;
		other_signer.pcr8 = Some([6; 48]);
		assert_ok!(Registry::allow_measurement(RuntimeOrigin::root(), other_signer.measurement(), 0));
		assert_ok!(Registry::revoke_measurement(RuntimeOrigin::root(), TeeType::Nitro, other.measurement().hash()));
		assert_rejected(1, |nonce| document(1, GENESIS_HASH, nonce, NOW, signed), Error::<Test>::MeasurementNotAllowed);
		assert_ok!(attest(1, ALICE, |nonce| document(1, GENESIS_HASH, nonce, NOW, other_signer)));
	});
}

#[test]
fn revocation_and_expiry_take_effect_at_once() {
	ExtBuilder::default().build().execute_with(|| {
		let development = Pcrs::development(DEVELOPMENT_IMAGE).measurement().hash();
		assert_ok!(register(1, ALICE, 5_000));
		assert_ok!(register(2, ALICE, 5_000));
		assert_ok!(attest(1, ALICE, |nonce| dev_document(1, nonce)));
		assert_ok!(attest(2, ALICE, |nonce| dev_document(2, nonce)));

		// Expiry.
		run_to(1 + AttestationValidity::get());
		assert!(Registry::tee_attestation(&key(1)).is_some());
		run_to(2 + AttestationValidity::get());
		assert!(Registry::tee_attestation(&key(1)).is_none());
		// Renewal.
		assert_ok!(attest(1, ALICE, |nonce| dev_document(1, nonce)));
		assert!(Registry::tee_attestation(&key(1)).is_some());

		// Revoking a node.
		assert_noop!(Registry::revoke_node(RuntimeOrigin::signed(ALICE), key(1)), DispatchError::BadOrigin);
		assert_ok!(Registry::revoke_node(RuntimeOrigin::root(), key(1)));
		assert_eq!(last_event(), Event::NodeRevoked { node: key(1) });
		assert!(Registry::tee_attestation(&key(1)).is_none());
		assert!(!Registry::is_live(&key(1), Roles::INFERENCE));
		assert_noop!(Registry::request_challenge(RuntimeOrigin::signed(ALICE), key(1)), Error::<Test>::NodeNotActive);
		assert_noop!(Registry::revoke_node(RuntimeOrigin::root(), key(1)), Error::<Test>::NodeNotActive);

		// Revoking a measurement voids node 2's attestation, renewed or not.
		run_to(3);
		assert_ok!(attest(2, ALICE, |nonce| dev_document(2, nonce)));
		assert!(Registry::tee_attestation(&key(2)).is_some());
		assert_ok!(Registry::revoke_measurement(RuntimeOrigin::root(), TeeType::Nitro, development));
		assert_eq!(last_event(), Event::MeasurementRevoked { tee: TeeType::Nitro, measurement: development });
		assert!(Registry::tee_attestation(&key(2)).is_none());
		assert_noop!(
			Registry::revoke_measurement(RuntimeOrigin::root(), TeeType::Nitro, development),
			Error::<Test>::MeasurementNotFound
		);
		assert_rejected(2, |nonce| dev_document(2, nonce), Error::<Test>::MeasurementNotAllowed);
	});
}

#[test]
fn exit_releases_the_bond_after_the_unbonding_period() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_ok!(attest(1, ALICE, |nonce| dev_document(1, nonce)));
		assert_noop!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE), key(1)), Error::<Test>::NotUnbonding);
		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)));
		let until = 1 + UnbondingPeriod::get();
		assert_eq!(last_event(), Event::NodeUnbonding { node: key(1), until });
		assert!(Registry::tee_attestation(&key(1)).is_none());
		assert!(!Registry::is_live(&key(1), Roles::INFERENCE));
		assert_noop!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)), Error::<Test>::NodeNotActive);
		assert_noop!(Registry::heartbeat(RuntimeOrigin::signed(ALICE), key(1)), Error::<Test>::NodeNotActive);

		run_to(until - 1);
		assert_noop!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE), key(1)), Error::<Test>::StillUnbonding);
		run_to(until);
		assert_noop!(Registry::withdraw_unbonded(RuntimeOrigin::signed(BOB), key(1)), Error::<Test>::NotOperator);
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE), key(1)));
		assert_eq!(last_event(), Event::NodeRemoved { node: key(1), released: 5_000 });
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT);
		assert!(Nodes::<Test>::get(key(1)).is_none());
		// The key can register again.
		assert_ok!(register(1, ALICE, 5_000));
	});
}

#[test]
fn revoked_nodes_can_still_exit() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_ok!(Registry::revoke_node(RuntimeOrigin::root(), key(1)));
		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)));
		run_to(1 + UnbondingPeriod::get());
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE), key(1)));
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT);
	});
}

#[test]
fn slashing_takes_from_the_bond_even_while_unbonding() {
	ExtBuilder::default().build().execute_with(|| {
		let issuance = Balances::total_issuance();
		assert_ok!(register(1, ALICE, 5_000));
		assert_eq!(<Registry as NodeSlashing<Balance>>::slash(&key(1), 1_000), 1_000);
		assert_eq!(last_event(), Event::NodeSlashed { node: key(1), amount: 1_000 });
		assert_eq!(Nodes::<Test>::get(key(1)).unwrap().bond, 4_000);
		assert_eq!(Balances::balance(&SlashSink::get()), 1 + 1_000);
		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)));
		// More than the bond: takes what there is.
		assert_eq!(<Registry as NodeSlashing<Balance>>::slash(&key(1), 10_000), 4_000);
		assert_eq!(<Registry as NodeSlashing<Balance>>::slash(&key(9), 10), 0);
		run_to(1 + UnbondingPeriod::get());
		assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(ALICE), key(1)));
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT - 5_000);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// Random sequences of bonding operations: issuance is conserved, every bond is exactly
/// what is held, and every bond can be recovered.
#[test]
fn bonds_are_conserved_under_random_operations() {
	for seed in 0..64u64 {
		ExtBuilder::default().build().execute_with(|| {
			let issuance = Balances::total_issuance();
			let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
			let mut next = |bound: u64| {
				state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
				(state >> 33) % bound
			};
			for step in 0..40 {
				run_to(2 + step);
				let node = 1 + next(3) as u8;
				let operator = if next(2) == 0 { ALICE } else { BOB };
				let origin = RuntimeOrigin::signed(operator);
				let _ = match next(6) {
					0 => register(node, operator, 1_000 + next(5_000) as Balance),
					1 => Registry::bond_extra(origin, key(node), next(2_000) as Balance),
					2 => {
						<Registry as NodeSlashing<Balance>>::slash(&key(node), next(3_000) as Balance);
						Ok(())
					},
					3 => Registry::unregister(origin, key(node)),
					4 => Registry::withdraw_unbonded(origin, key(node)),
					_ => Registry::revoke_node(RuntimeOrigin::root(), key(node)),
				};
				assert_eq!(Balances::total_issuance(), issuance);
				for operator in [ALICE, BOB] {
					let bonds: Balance =
						Nodes::<Test>::iter_values().filter(|n| n.operator == operator).map(|n| n.bond).sum();
					assert_eq!(Balances::balance_on_hold(&HoldReason::NodeBond.into(), &operator), bonds);
				}
			}
			// Every node can exit and every bond comes back.
			run_to(100);
			for (node, record) in Nodes::<Test>::iter().collect::<Vec<_>>() {
				let _ = Registry::unregister(RuntimeOrigin::signed(record.operator), node);
			}
			run_to(100 + UnbondingPeriod::get());
			for (node, record) in Nodes::<Test>::iter().collect::<Vec<_>>() {
				assert_ok!(Registry::withdraw_unbonded(RuntimeOrigin::signed(record.operator), node));
			}
			for operator in [ALICE, BOB] {
				assert_eq!(Balances::balance_on_hold(&HoldReason::NodeBond.into(), &operator), 0);
			}
			assert_eq!(Balances::total_issuance(), issuance);
		});
	}
}

mod dcap_evidence {
	use super::*;

	/// 2025-06-20T00:00:00Z: inside the sample collateral's window.
	const JUNE_2025: u64 = 1_750_377_600;

	fn sample(name: &str) -> Evidence {
		use codec::Encode;
		// Looked up when the test runs, so that a reused test binary reads this clone.
		let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
		let dir = format!("{manifest}/../../primitives/attestation/testdata/dcap");
		let quote = std::fs::read(format!("{dir}/{name}")).unwrap();
		let json = std::fs::read(format!("{dir}/{name}_collateral.json")).unwrap();
		let collateral: opg_attestation::dcap::Collateral = serde_json::from_slice(&json).unwrap();
		Evidence::Dcap {
			quote: BoundedVec::truncate_from(quote),
			collateral: BoundedVec::truncate_from(collateral.encode()),
		}
	}

	fn at_june_2025() -> polkadot_sdk::sp_io::TestExternalities {
		let mut ext = ExtBuilder::default().build();
		ext.execute_with(|| {
			polkadot_sdk::pallet_timestamp::Now::<Test>::put(JUNE_2025 * 1000);
			assert_ok!(register(1, ALICE, 5_000));
		});
		ext
	}

	#[test]
	fn verified_quotes_must_still_bind_the_challenge() {
		// The Phala sample quotes verify, but bind someone else's report data.
		at_june_2025().execute_with(|| {
			assert_rejected(1, |_| sample("tdx_quote"), Error::<Test>::BindingMismatch);
		});
	}

	#[test]
	fn tcb_status_follows_the_governance_policy() {
		at_june_2025().execute_with(|| {
			assert_rejected(1, |_| sample("sgx_quote"), Error::<Test>::TcbStatusNotAllowed);
			let policy = opg_attestation::dcap::DcapPolicy {
				allowed: opg_attestation::dcap::TcbStatusSet::of(&[
					opg_attestation::TcbStatus::ConfigurationAndSwHardeningNeeded,
				]),
				..Default::default()
			};
			assert_noop!(
				Registry::set_dcap_policy(RuntimeOrigin::signed(ALICE), policy),
				DispatchError::BadOrigin
			);
			assert_ok!(Registry::set_dcap_policy(RuntimeOrigin::root(), policy));
			assert_eq!(last_event(), Event::DcapPolicyChanged { policy });
			assert_rejected(1, |_| sample("sgx_quote"), Error::<Test>::BindingMismatch);
			let strict = opg_attestation::dcap::DcapPolicy { min_tcb_evaluation_data_number: 99, ..policy };
			assert_ok!(Registry::set_dcap_policy(RuntimeOrigin::root(), strict));
			assert_rejected(1, |_| sample("sgx_quote"), Error::<Test>::TcbEvaluationDataNumberTooLow);
		});
	}

	#[test]
	fn bad_quotes_and_collateral_are_rejected() {
		at_june_2025().execute_with(|| {
			let Evidence::Dcap { quote, collateral } = sample("tdx_quote") else { unreachable!() };
			let garbage = Evidence::Dcap { quote: quote.clone(), collateral: BoundedVec::truncate_from(vec![1, 2, 3]) };
			assert_rejected(1, |_| garbage, Error::<Test>::MalformedEvidence);
			let truncated = Evidence::Dcap {
				quote: BoundedVec::truncate_from(quote[..200].to_vec()),
				collateral: collateral.clone(),
			};
			assert_rejected(1, |_| truncated, Error::<Test>::MalformedEvidence);
			polkadot_sdk::pallet_timestamp::Now::<Test>::put(NOW * 1000);
			assert_rejected(1, |_| Evidence::Dcap { quote, collateral }, Error::<Test>::DcapVerificationFailed);
		});
	}
}

mod model_index {
	use super::*;

	fn serving(model: u32) -> Vec<NodeKey> {
		ModelNodes::<Test>::get(model).into_inner()
	}

	fn candidates(model: u32, mode: VerificationMode) -> Vec<NodeKey> {
		<Registry as InferenceNodes<AccountId, Balance, u32>>::candidates(&model, mode)
			.into_iter()
			.map(|(node, _)| node)
			.collect()
	}

	#[test]
	fn follows_registration_capabilities_and_exit() {
		ExtBuilder::default().build().execute_with(|| {
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

	#[test]
	fn only_inference_nodes_are_indexed_and_revoked_ones_leave() {
		ExtBuilder::default().build().execute_with(|| {
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
		ExtBuilder::default().build().execute_with(|| {
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
		ExtBuilder::default().build().execute_with(|| {
			assert_ok!(register(1, ALICE, 1_000));
			assert_ok!(register(2, BOB, 3_000));
			assert_eq!(
				<Registry as InferenceNodes<AccountId, Balance, u32>>::candidates(&1, VerificationMode::Vanilla),
				vec![(key(1), 1_000), (key(2), 3_000)]
			);
			assert_eq!(candidates(1, VerificationMode::Zkml), vec![]);
			assert_eq!(candidates(9, VerificationMode::Vanilla), vec![]);
			assert_eq!(candidates(1, VerificationMode::Tee), vec![]);
			assert_ok!(attest(2, BOB, |nonce| dev_document(2, nonce)));
			assert_eq!(candidates(1, VerificationMode::Tee), vec![key(2)]);
			let settling = |node, mode| {
				<Registry as InferenceNodes<AccountId, Balance, u32>>::settling_operator(&key(node), mode)
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
			assert_ok!(Registry::revoke_measurement(RuntimeOrigin::root(), opg_attestation::TeeType::Nitro, measurement));
			assert_eq!(candidates(1, VerificationMode::Tee), vec![]);
			assert_eq!(settling(2, VerificationMode::Tee), None);
		});
	}
}
