//! Runtime tests on the native build: presets, block execution, fees, governance and
//! validator-set changes, driven through `Executive` as a block author would.

use crate::{
	configs::{dynamic_params::protocol, RuntimeParameters},
	genesis_config_presets::*,
	AccountId, Address, Balances, BalancesCall, ConvictionVoting, Executive, Grandpa, Header,
	OriginCaller, Preimage, Referenda, Runtime, RuntimeCall, RuntimeEvent, RuntimeGenesisConfig,
	RuntimeOrigin, Session, SessionKeys, SignedPayload, System, Timestamp, TxExtension,
	UncheckedExtrinsic, OPG, SLOT_DURATION,
};
use codec::{Decode, Encode};
use pallet_opg_origins::Origin as OpgOrigin;
use polkadot_sdk::{
	frame_metadata_hash_extension::CheckMetadataHash,
	frame_support::traits::{schedule::DispatchTime, Get, StorePreimage},
	frame_system, pallet_babe, pallet_conviction_voting, pallet_parameters, pallet_referenda,
	pallet_sudo,
	pallet_transaction_payment::ChargeTransactionPayment,
	sp_consensus_babe::{
		digests::{PreDigest, SecondaryPlainPreDigest},
		AuthorityId as BabeId, Slot, BABE_ENGINE_ID,
	},
	sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_io::TestExternalities,
	sp_keyring::Sr25519Keyring,
	sp_keystore::{testing::MemoryKeystore, KeystoreExt},
	sp_runtime::{
		generic::Era,
		traits::Header as _,
		transaction_validity::{InvalidTransaction, TransactionValidityError},
		BuildStorage, Digest, DigestItem, MultiSignature, Perbill,
	},
};
use std::sync::Arc;

fn merge_json(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge_json(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// The genesis config of a preset, as `opg-node` builds it: defaults patched by the preset.
fn preset_config(name: &str) -> RuntimeGenesisConfig {
	let patch = get_preset(&name.into()).unwrap_or_else(|| panic!("preset {name} exists"));
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge_json(&mut config, serde_json::from_slice(&patch).unwrap());
	serde_json::from_value(config).expect("preset patch matches RuntimeGenesisConfig")
}

fn new_ext(preset: &str) -> TestExternalities {
	let mut ext = TestExternalities::new(preset_config(preset).build_storage().unwrap());
	ext.register_extension(KeystoreExt(Arc::new(MemoryKeystore::new())));
	ext
}

/// The BABE slot of block zero: 2026-11-22T00:00:00Z, so that certificates meet a
/// realistic chain time.
const GENESIS_SLOT: u64 = 1_795_305_600_000 / SLOT_DURATION;

/// The slot of block `number`: every slot has its block.
fn slot_of(number: u32) -> Slot {
	Slot::from(GENESIS_SLOT + number as u64)
}

/// Authors and finalizes the next block in BABE slot `GENESIS_SLOT + number`, as the node
/// would, with a secondary pre-digest of authority 0 (no VRF output: the runtime takes
/// the node's word for the slot claim, which the node's import checks).
fn next_block() {
	let number = System::block_number() + 1;
	let claim = PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
		authority_index: 0,
		slot: slot_of(number),
	});
	next_block_with(claim);
}

/// Authors and finalizes the next block with the BABE pre-digest `claim`.
fn next_block_with(claim: PreDigest) {
	let number = System::block_number() + 1;
	let parent = System::block_hash(number - 1);
	let digest = Digest { logs: vec![DigestItem::PreRuntime(BABE_ENGINE_ID, claim.encode())] };
	Executive::initialize_block(&Header::new(
		number,
		Default::default(),
		Default::default(),
		parent,
		digest,
	));
	Timestamp::set(RuntimeOrigin::none(), (GENESIS_SLOT + number as u64) * SLOT_DURATION).unwrap();
	Executive::finalize_block();
}

fn run_blocks(count: u32) {
	for _ in 0..count {
		next_block();
	}
}

fn babe_authorities() -> Vec<BabeId> {
	pallet_babe::Authorities::<Runtime>::get()
		.into_iter()
		.map(|(id, _)| id)
		.collect()
}

fn validators() -> Vec<AccountId> {
	pallet_validator_set::Validators::<Runtime>::get().into_inner()
}

fn account(who: Sr25519Keyring) -> AccountId {
	who.to_account_id()
}

fn tx_extension(nonce: u32) -> TxExtension {
	(
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		ChargeTransactionPayment::from(0),
		CheckMetadataHash::new(false),
		frame_system::WeightReclaim::new(),
	)
}

fn signed_extrinsic(signer: Sr25519Keyring, call: RuntimeCall, nonce: u32) -> UncheckedExtrinsic {
	let extension = tx_extension(nonce);
	let payload = SignedPayload::new(call.clone(), extension.clone()).unwrap();
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	UncheckedExtrinsic::new_signed(
		call,
		Address::Id(account(signer)),
		MultiSignature::Sr25519(signature),
		extension,
	)
}

#[test]
fn every_preset_builds_its_genesis() {
	for name in preset_names() {
		let name: String = name;
		new_ext(&name).execute_with(|| {
			assert!(!validators().is_empty(), "{name}: validators");
			assert_eq!(Session::validators(), validators(), "{name}: session");
			assert_eq!(babe_authorities().len(), validators().len(), "{name}: babe authorities");
			assert_eq!(Grandpa::grandpa_authorities().len(), validators().len());
			assert_eq!(Balances::free_balance(account(Sr25519Keyring::Ferdie)), DEV_ENDOWMENT);
		});
	}
}

#[test]
fn an_authors_vrf_output_seeds_the_next_blocks_assignments() {
	use polkadot_sdk::{
		frame_support::traits::Randomness as _,
		sp_consensus_babe::{digests::SecondaryVRFPreDigest, make_vrf_sign_data},
		sp_core::crypto::VrfSecret,
	};
	new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		run_blocks(2);
		// Block 3, in the middle of epoch 0: Alice (authority 0) claims its slot with the
		// VRF output the node's BABE worker would compute.
		let slot = slot_of(3);
		let data = make_vrf_sign_data(
			&pallet_babe::Randomness::<Runtime>::get(),
			slot,
			pallet_babe::EpochIndex::<Runtime>::get(),
		);
		let vrf_signature = Sr25519Keyring::Alice.pair().vrf_sign(&data);
		next_block_with(PreDigest::SecondaryVRF(SecondaryVRFPreDigest {
			authority_index: 0,
			slot,
			vrf_signature,
		}));
		assert!(pallet_babe::AuthorVrfRandomness::<Runtime>::get().is_some());

		// Block 4 assigns with it, not with its parent hash (which block 3's author shaped).
		let number = System::block_number() + 1;
		let parent = System::block_hash(number - 1);
		let digest = DigestItem::PreRuntime(
			BABE_ENGINE_ID,
			PreDigest::SecondaryPlain(SecondaryPlainPreDigest {
				authority_index: 0,
				slot: slot_of(number),
			})
			.encode(),
		);
		Executive::initialize_block(&Header::new(
			number,
			Default::default(),
			Default::default(),
			parent,
			Digest { logs: vec![digest] },
		));
		let (vrf, _) = pallet_babe::ParentBlockRandomness::<Runtime>::random(b"opg/assign");
		let vrf = vrf.expect("block 3 carried a VRF output");
		assert_eq!(crate::Inference::assignment_randomness(), vrf);
		assert_ne!(vrf, parent);
	});
}

#[test]
fn development_has_one_validator_and_sudo_local_testnet_four_and_none() {
	new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(validators(), vec![account(Sr25519Keyring::Alice)]);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(account(Sr25519Keyring::Alice)));
	});
	new_ext(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(validators().len(), 4);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		// Without a key, sudo is unusable by anyone.
		let call = Box::new(RuntimeCall::System(frame_system::Call::remark { remark: vec![] }));
		assert!(
			crate::Sudo::sudo(RuntimeOrigin::signed(account(Sr25519Keyring::Alice)), call).is_err()
		);
	});
}

#[test]
fn unknown_preset_is_refused() {
	assert!(get_preset(&"production".into()).is_none());
}

#[test]
fn blocks_execute_and_rotate_sessions() {
	new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		run_blocks(25);
		assert_eq!(System::block_number(), 25);
		assert_eq!(Session::current_index(), 2);
		assert_eq!(Timestamp::get(), (GENESIS_SLOT + 25) * SLOT_DURATION);
	});
}

#[test]
fn signed_transfer_pays_fee_to_treasury_and_conserves_issuance() {
	new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		next_block();
		let alice = account(Sr25519Keyring::Alice);
		let bob = account(Sr25519Keyring::Bob);
		let treasury = crate::Treasury::account_id();
		let issuance = Balances::total_issuance();
		let (alice_before, bob_before) =
			(Balances::free_balance(&alice), Balances::free_balance(&bob));
		let treasury_before = Balances::free_balance(&treasury);

		let call = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
			dest: Address::Id(bob.clone()),
			value: 10 * OPG,
		});
		let xt = signed_extrinsic(Sr25519Keyring::Alice, call, 0);
		assert_eq!(Executive::apply_extrinsic(xt), Ok(Ok(())));

		let fee = System::events()
			.into_iter()
			.find_map(|record| match record.event {
				RuntimeEvent::TransactionPayment(
					polkadot_sdk::pallet_transaction_payment::Event::TransactionFeePaid {
						actual_fee,
						..
					},
				) => Some(actual_fee),
				_ => None,
			})
			.expect("fee paid");
		assert!(fee > 0 && fee < OPG / 10, "fee {fee}");
		assert_eq!(Balances::free_balance(&alice), alice_before - 10 * OPG - fee);
		assert_eq!(Balances::free_balance(&bob), bob_before + 10 * OPG);
		assert_eq!(Balances::free_balance(&treasury), treasury_before + fee);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(System::account_nonce(&alice), 1);
	});
}

#[test]
fn malformed_or_invalid_extrinsics_are_rejected_and_change_nothing() {
	new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		next_block();
		let alice = account(Sr25519Keyring::Alice);
		let before = Balances::free_balance(&alice);
		let transfer = |value| {
			RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
				dest: Address::Id(account(Sr25519Keyring::Bob)),
				value,
			})
		};

		// Garbage bytes do not decode into an extrinsic.
		assert!(UncheckedExtrinsic::decode(&mut &[0x84u8, 0xff, 0x00][..]).is_err());

		// Signed by Bob but claiming to be Alice.
		let mut forged = signed_extrinsic(Sr25519Keyring::Bob, transfer(OPG), 0);
		let genuine = signed_extrinsic(Sr25519Keyring::Alice, transfer(OPG), 0);
		forged.preamble = match (forged.preamble, genuine.preamble) {
			(
				polkadot_sdk::sp_runtime::generic::Preamble::Signed(_, sig, ext),
				polkadot_sdk::sp_runtime::generic::Preamble::Signed(addr, _, _),
			) => polkadot_sdk::sp_runtime::generic::Preamble::Signed(addr, sig, ext),
			_ => unreachable!(),
		};
		assert_eq!(
			Executive::apply_extrinsic(forged),
			Err(TransactionValidityError::Invalid(InvalidTransaction::BadProof))
		);
		// A nonce from the future, a stale one, and more than the balance.
		assert_eq!(
			Executive::apply_extrinsic(signed_extrinsic(Sr25519Keyring::Alice, transfer(OPG), 5)),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Future))
		);
		let poor = Sr25519Keyring::One;
		assert_eq!(
			Executive::apply_extrinsic(signed_extrinsic(poor, transfer(OPG), 0)),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Payment))
		);
		assert_eq!(Balances::free_balance(&alice), before);
		assert_eq!(System::account_nonce(&alice), 0);
	});
}

/// Submits `call` as a referendum on the track of `origin`, and has Alice, Bob and Charlie
/// vote aye with most of their balance.
fn pass_referendum(origin: OriginCaller, call: RuntimeCall) -> u32 {
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	let proposal = Preimage::bound(call).unwrap();
	let alice = RuntimeOrigin::signed(account(Sr25519Keyring::Alice));
	Referenda::submit(alice.clone(), Box::new(origin), proposal, DispatchTime::After(0)).unwrap();
	Referenda::place_decision_deposit(alice, index).unwrap();
	for voter in [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie] {
		let vote = pallet_conviction_voting::AccountVote::Standard {
			vote: pallet_conviction_voting::Vote {
				aye: true,
				conviction: pallet_conviction_voting::Conviction::Locked1x,
			},
			balance: 900_000 * OPG,
		};
		ConvictionVoting::vote(RuntimeOrigin::signed(account(voter)), index, vote).unwrap();
	}
	index
}

fn referendum_approved(index: u32) -> bool {
	matches!(
		pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
		Some(pallet_referenda::ReferendumInfo::Approved(..))
	)
}

#[test]
fn policy_referendum_passes_and_dispatches_with_policy_origin() {
	new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		next_block();
		let new_fee = Perbill::from_percent(7);
		let call = RuntimeCall::Parameters(pallet_parameters::Call::set_parameter {
			key_value: RuntimeParameters::Protocol(protocol::Parameters::ProtocolFee(
				protocol::ProtocolFee,
				Some(new_fee),
			)),
		});
		// Nobody may set it directly.
		assert!(crate::Parameters::set_parameter(
			RuntimeOrigin::signed(account(Sr25519Keyring::Alice)),
			match &call {
				RuntimeCall::Parameters(pallet_parameters::Call::set_parameter { key_value }) =>
					key_value.clone(),
				_ => unreachable!(),
			}
		)
		.is_err());

		let index = pass_referendum(OriginCaller::Origins(OpgOrigin::Policy), call);
		let track = pallet_referenda::ReferendumInfoFor::<Runtime>::get(index);
		assert!(
			matches!(track, Some(pallet_referenda::ReferendumInfo::Ongoing(ref s)) if s.track == 1)
		);

		let mut blocks = 0;
		while protocol::ProtocolFee::get() != new_fee {
			next_block();
			blocks += 1;
			assert!(blocks <= 40, "referendum did not enact within 40 blocks");
		}
		assert!(referendum_approved(index));
	});
}

#[test]
fn validator_added_by_referendum_takes_part_after_session_change() {
	new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		next_block();
		let bob = account(Sr25519Keyring::Bob);
		// Bob registers session keys, proving he holds them.
		let generated = SessionKeys::generate(&bob.encode(), None);
		let bob_babe: BabeId = generated.keys.babe.clone();
		Session::set_keys(
			RuntimeOrigin::signed(bob.clone()),
			generated.keys.clone(),
			generated.proof.encode(),
		)
		.unwrap();

		let call = RuntimeCall::ValidatorSet(pallet_validator_set::Call::add_validator {
			who: bob.clone(),
		});
		let index = pass_referendum(OriginCaller::Origins(OpgOrigin::ValidatorAdmin), call);
		let mut blocks = 0;
		while !validators().contains(&bob) {
			next_block();
			blocks += 1;
			assert!(blocks <= 40, "referendum did not enact within 40 blocks");
		}
		assert!(referendum_approved(index));
		assert!(!babe_authorities().contains(&bob_babe));

		// Queued at the next rotation, active from the one after.
		run_blocks(20);
		assert!(Session::validators().contains(&bob));
		assert!(babe_authorities().contains(&bob_babe));
		let grandpa_keys: Vec<_> =
			Grandpa::grandpa_authorities().into_iter().map(|(k, _)| k).collect();
		assert!(grandpa_keys.contains(&generated.keys.grandpa));
		assert_eq!(babe_authorities().len(), 2);
	});
}

#[test]
fn tracks_follow_the_timing_profile() {
	use crate::configs::TracksInfo;
	use pallet_opg_origins::{Timings, TrackTimings};
	use pallet_referenda::TracksInfo as _;
	new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(TracksInfo::check_integrity(), Ok(()));
		let names: Vec<_> = TracksInfo::tracks()
			.map(|t| {
				String::from_utf8(t.info.name.to_vec())
					.unwrap()
					.trim_end_matches('\0')
					.to_string()
			})
			.collect();
		assert_eq!(names, ["root", "policy", "validator_admin", "treasurer"]);
		assert_eq!(TracksInfo::info(1).unwrap().decision_period, 20);

		Timings::<Runtime>::put(TrackTimings::Production);
		assert_eq!(TracksInfo::info(1).unwrap().decision_period, 7 * crate::DAYS);
		assert_eq!(TracksInfo::info(0).unwrap().decision_period, 14 * crate::DAYS);
	});
	// A chain spec that sets no profile gets production periods.
	assert_eq!(RuntimeGenesisConfig::default().origins.timings, TrackTimings::Production);
}

mod node_registry {
	use super::*;
	use crate::NodeRegistry;
	use opg_dev_evidence::{nitro_document, DocumentRequest, Pcrs, DEVELOPMENT_IMAGE};
	use pallet_node_registry::{
		AllowedMeasurements, Challenges, Evidence, Roles, TrustDevelopmentRoot, VerificationModes,
	};
	use polkadot_sdk::{
		frame_support::BoundedVec,
		sp_core::{sr25519, Pair},
	};

	fn node_key() -> sr25519::Pair {
		sr25519::Pair::from_string("//opg-test-node", None).unwrap()
	}

	/// Publishes a TEE model (the first, id 0) for the node to declare: nodes declare only
	/// models someone can request.
	fn publish_model() {
		use pallet_model_hub::{testing, DType, ModelFormat};
		let schema = testing::schema(
			vec![testing::tensor(&[4], DType::F32)],
			vec![testing::tensor(&[2], DType::F32)],
		);
		let spec = testing::spec(
			"tee-model",
			ModelFormat::TorchScript,
			[0xcd; 32],
			1_000,
			schema,
			OPG,
			VerificationModes::TEE,
		);
		dispatch(RuntimeCall::ModelHub(pallet_model_hub::Call::publish {
			spec,
			verifying_key: None,
		}))
		.unwrap();
	}

	fn register_call(operator: &AccountId) -> RuntimeCall {
		publish_model();
		let node = node_key();
		let message = NodeRegistry::registration_message(operator).unwrap();
		RuntimeCall::NodeRegistry(pallet_node_registry::Call::register {
			node: node.public(),
			roles: Roles(Roles::INFERENCE),
			capabilities: pallet_node_registry::testing::capabilities::<Runtime>(
				vec![0],
				VerificationModes::TEE,
			),
			bond: protocol::MinNodeBond::get(),
			signature: node.sign(&message),
		})
	}

	fn development_document(nonce: [u8; 32]) -> Evidence {
		let request = DocumentRequest {
			node_key: node_key().public().0,
			genesis_hash: System::block_hash(0).0,
			nonce,
			operator: account(Sr25519Keyring::Alice).encode(),
			pcrs: Pcrs::development(DEVELOPMENT_IMAGE),
			now: Timestamp::get() / 1000,
		};
		Evidence::Nitro { document: BoundedVec::truncate_from(nitro_document(&request).unwrap()) }
	}

	fn dispatch(
		call: RuntimeCall,
	) -> polkadot_sdk::sp_runtime::DispatchResultWithInfo<
		polkadot_sdk::frame_support::dispatch::PostDispatchInfo,
	> {
		use polkadot_sdk::sp_runtime::traits::Dispatchable;
		call.dispatch(RuntimeOrigin::signed(account(Sr25519Keyring::Alice)))
	}

	#[test]
	fn development_presets_trust_the_development_root_and_image() {
		assert_eq!(development_measurement(), Pcrs::development(DEVELOPMENT_IMAGE).measurement());
		for preset in [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET] {
			new_ext(preset).execute_with(|| {
				assert!(TrustDevelopmentRoot::<Runtime>::get());
				let measurement = development_measurement();
				assert!(AllowedMeasurements::<Runtime>::contains_key(
					measurement.tee(),
					measurement.hash()
				));
			});
		}
	}

	/// What production chain specs start from: the default genesis, plus funds to pay with.
	fn production_ext() -> TestExternalities {
		let mut config = RuntimeGenesisConfig::default();
		config.balances.balances = vec![(account(Sr25519Keyring::Alice), 1_000_000 * OPG)];
		config.validator_set.validators = vec![DevValidator::ALICE.account()];
		config.session.keys = vec![(
			DevValidator::ALICE.account(),
			DevValidator::ALICE.account(),
			DevValidator::ALICE.session_keys(),
		)];
		TestExternalities::new(config.build_storage().unwrap())
	}

	#[test]
	fn production_genesis_rejects_development_evidence() {
		production_ext().execute_with(|| {
			next_block();
			assert!(!TrustDevelopmentRoot::<Runtime>::get());
			assert_eq!(AllowedMeasurements::<Runtime>::iter().count(), 0);
			dispatch(register_call(&account(Sr25519Keyring::Alice))).unwrap();
			let node = node_key().public();
			dispatch(RuntimeCall::NodeRegistry(pallet_node_registry::Call::request_challenge {
				node,
			}))
			.unwrap();
			let nonce = Challenges::<Runtime>::get(node).unwrap().nonce;
			let error = dispatch(RuntimeCall::NodeRegistry(
				pallet_node_registry::Call::submit_attestation {
					node,
					evidence: development_document(nonce),
				},
			))
			.unwrap_err()
			.error;
			assert_eq!(error, pallet_node_registry::Error::<Runtime>::UntrustedRoot.into());
		});
	}

	#[test]
	fn a_node_registers_and_attests_with_development_evidence() {
		new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
			next_block();
			let alice = account(Sr25519Keyring::Alice);
			dispatch(register_call(&alice)).unwrap();
			let node = node_key().public();
			dispatch(RuntimeCall::NodeRegistry(pallet_node_registry::Call::request_challenge {
				node,
			}))
			.unwrap();
			let nonce = Challenges::<Runtime>::get(node).unwrap().nonce;
			next_block();
			dispatch(RuntimeCall::NodeRegistry(pallet_node_registry::Call::submit_attestation {
				node,
				evidence: development_document(nonce),
			}))
			.unwrap();
			let record = NodeRegistry::tee_attestation(&node).unwrap();
			assert_eq!(record.measurement, development_measurement().hash());
			assert!(NodeRegistry::is_live(&node, Roles::INFERENCE));
		});
	}

	#[test]
	fn rejected_evidence_still_pays_its_fee() {
		new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
			next_block();
			let alice = account(Sr25519Keyring::Alice);
			let call = RuntimeCall::NodeRegistry(pallet_node_registry::Call::submit_attestation {
				node: node_key().public(),
				evidence: Evidence::Nitro {
					document: BoundedVec::truncate_from(vec![0u8; 16 * 1024]),
				},
			});
			let before = Balances::free_balance(&alice);
			let outcome =
				Executive::apply_extrinsic(signed_extrinsic(Sr25519Keyring::Alice, call, 0))
					.unwrap();
			assert_eq!(outcome, Err(pallet_node_registry::Error::<Runtime>::NodeNotFound.into()));
			assert!(Balances::free_balance(&alice) < before, "the failed call paid a fee");
		});
	}

	#[test]
	fn a_policy_referendum_allows_a_measurement() {
		new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
			next_block();
			let measurement = Pcrs::development("opg-inference-v2").measurement();
			let call = RuntimeCall::NodeRegistry(pallet_node_registry::Call::allow_measurement {
				measurement: measurement.clone(),
				min_security_version: 0,
			});
			// Not directly.
			assert!(dispatch(call.clone()).is_err());
			let index = pass_referendum(OriginCaller::Origins(OpgOrigin::Policy), call);
			let mut blocks = 0;
			while !AllowedMeasurements::<Runtime>::contains_key(
				measurement.tee(),
				measurement.hash(),
			) {
				next_block();
				blocks += 1;
				assert!(blocks <= 40, "referendum did not enact within 40 blocks");
			}
			assert!(referendum_approved(index));
		});
	}
}

/// A model published, a node serving it, a request paid for, and the node's unsigned,
/// node-key-signed result admitted by the pool and settled.
mod inference {
	use super::*;
	use crate::{Balance, Inference};
	use pallet_inference::{InferenceResult, Input, Output, Requests, SettlementMode};
	use pallet_model_hub::{DType, ModelFormat};
	use pallet_node_registry::{Roles, VerificationMode, VerificationModes};
	use polkadot_sdk::{
		frame_support::BoundedVec,
		sp_core::{sr25519, Pair},
		sp_runtime::transaction_validity::TransactionSource,
	};

	const PRICE: Balance = 2 * OPG;

	fn signed(who: Sr25519Keyring, call: RuntimeCall) {
		use polkadot_sdk::sp_runtime::traits::Dispatchable;
		call.dispatch(RuntimeOrigin::signed(account(who))).unwrap();
	}

	fn node_key() -> sr25519::Pair {
		sr25519::Pair::from_string("//opg-inference-node", None).unwrap()
	}

	fn publish_and_serve() {
		use pallet_model_hub::testing::{schema, spec, tensor};
		let schema = schema(vec![tensor(&[1, 784], DType::I8)], vec![tensor(&[1, 10], DType::I8)]);
		let modes = VerificationModes::VANILLA;
		let spec = spec(
			"mnist-mlp",
			ModelFormat::QuantizedInteger,
			[0xab; 32],
			50_000,
			schema,
			PRICE,
			modes,
		);
		signed(
			Sr25519Keyring::Alice,
			RuntimeCall::ModelHub(pallet_model_hub::Call::publish { spec, verifying_key: None }),
		);
		let bob = account(Sr25519Keyring::Bob);
		let message = crate::NodeRegistry::registration_message(&bob).unwrap();
		signed(
			Sr25519Keyring::Bob,
			RuntimeCall::NodeRegistry(pallet_node_registry::Call::register {
				node: node_key().public(),
				roles: Roles(Roles::INFERENCE),
				capabilities: pallet_node_registry::testing::capabilities::<Runtime>(
					vec![0],
					VerificationModes::VANILLA,
				),
				bond: protocol::MinNodeBond::get(),
				signature: node_key().sign(&message),
			}),
		);
	}

	/// A language model's answer to an on-chain request is cut at `MAX_LLM_ANSWER` bytes by
	/// the executor: it must fit the result its node submits inline, or a request asking for
	/// many tokens would make the node miss its deadline.
	#[test]
	fn a_language_models_longest_answer_fits_an_inline_result() {
		use polkadot_sdk::frame_support::traits::Get;
		let max: u32 = <Runtime as pallet_inference::Config>::MaxInlineOutput::get();
		assert!(pallet_model_hub::MAX_LLM_ANSWER <= max as usize);
	}

	/// An inline input above `MaxInlineInput` is refused when the call is decoded, before
	/// any dispatch or fee: there is no named error for it (docs/inference.md says so).
	#[test]
	fn an_inline_input_over_the_bound_does_not_decode() {
		use codec::{Compact, Decode, Encode};
		use polkadot_sdk::frame_support::traits::Get;
		let max: u32 = <Runtime as pallet_inference::Config>::MaxInlineInput::get();
		let call = RuntimeCall::Inference(pallet_inference::Call::request {
			model: 0,
			input: Input::Inline(BoundedVec::truncate_from(vec![7u8; max as usize])),
			mode: VerificationMode::Vanilla,
			settlement: SettlementMode::Individual,
			max_fee: PRICE,
			window: 10,
		});
		let encoded = call.encode();
		assert_eq!(RuntimeCall::decode(&mut &encoded[..]), Ok(call));
		// Pallet and call index, the model id (u32), the `Inline` variant, then the length.
		let length_at = 2 + 4 + 1;
		let old_length = Compact(max).encode();
		assert_eq!(encoded[length_at..length_at + old_length.len()], old_length[..]);
		let mut longer = encoded[..length_at].to_vec();
		longer.extend(Compact(max + 1).encode());
		longer.push(7);
		longer.extend(&encoded[length_at + old_length.len()..]);
		assert!(RuntimeCall::decode(&mut &longer[..]).is_err(), "one byte over the bound");
	}

	#[test]
	fn a_request_is_served_by_an_unsigned_signed_result_and_paid_after_its_window() {
		new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
			next_block();
			publish_and_serve();
			signed(
				Sr25519Keyring::Charlie,
				RuntimeCall::Inference(pallet_inference::Call::request {
					model: 0,
					// The model's input: 1 × 784 `I8`.
					input: Input::Inline(BoundedVec::truncate_from(vec![1; 784])),
					mode: VerificationMode::Vanilla,
					settlement: SettlementMode::Individual,
					// The price and the verification surcharge (5 % on the dev chain).
					max_fee: PRICE + PRICE / 20,
					window: 10,
				}),
			);
			let request = Requests::<Runtime>::get(0).unwrap();
			assert_eq!(request.surcharge, PRICE / 20);
			assert_eq!(request.node, node_key().public());
			next_block();

			let output = Output::Inline(BoundedVec::truncate_from(vec![9, 9]));
			let message = Inference::result_message(&request, 0, &output.hash()).unwrap();
			let call = RuntimeCall::Inference(pallet_inference::Call::submit_result {
				result: InferenceResult { request: 0, node: node_key().public(), output },
				signature: node_key().sign(&message),
			});
			let xt = UncheckedExtrinsic::new_bare(call.clone());
			let parent = System::parent_hash();
			assert!(Executive::validate_transaction(
				TransactionSource::External,
				xt.clone(),
				parent
			)
			.is_ok());
			// The same result signed by another key never enters the pool.
			let RuntimeCall::Inference(pallet_inference::Call::submit_result { result, .. }) = call
			else {
				unreachable!()
			};
			let forged = UncheckedExtrinsic::new_bare(RuntimeCall::Inference(
				pallet_inference::Call::submit_result {
					result,
					signature: sr25519::Pair::from_string("//Mallory", None)
						.unwrap()
						.sign(&message),
				},
			));
			assert!(Executive::validate_transaction(TransactionSource::External, forged, parent)
				.is_err());

			let (bob, treasury) = (account(Sr25519Keyring::Bob), crate::Treasury::account_id());
			let (bob_before, treasury_before) =
				(Balances::free_balance(&bob), Balances::free_balance(&treasury));
			let issuance = Balances::total_issuance();
			Executive::apply_extrinsic(xt).unwrap().unwrap();
			// Held through the verification game's challenge window, then paid.
			assert_eq!(Balances::free_balance(&bob), bob_before);
			let until = pallet_inference::HeldPayments::<Runtime>::get(0).unwrap().final_at;
			assert_eq!(
				until,
				System::block_number()
					+ pallet_verification::Parameters::<Runtime>::get().challenge_window
			);
			run_blocks(until - System::block_number());
			assert!(pallet_inference::HeldPayments::<Runtime>::get(0).is_none());
			assert_eq!(Balances::free_balance(&bob), bob_before + PRICE * 95 / 100);
			// The protocol fee, and the surcharge of a result no verifier checked.
			assert_eq!(Balances::free_balance(&treasury), treasury_before + 2 * (PRICE * 5 / 100));
			assert_eq!(Balances::total_issuance(), issuance);
			assert!(pallet_inference::Results::<Runtime>::get(0).is_some());
		});
	}
}

/// Unsigned inference results come after every operational transaction in the pool (its
/// priority counts five times its fee as a tip, which saturates with OPG's 18 decimals)
/// and before normal transactions without a tip.
#[test]
fn inference_results_rank_below_operational_and_above_untipped_normal_transactions() {
	use polkadot_sdk::{
		frame_support::{
			dispatch::{DispatchClass, DispatchInfo, Pays},
			weights::Weight,
		},
		pallet_transaction_payment,
	};
	new_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let results = <Runtime as pallet_inference::Config>::UnsignedPriority::get();
		let priority = |class, len: u32| {
			let info = DispatchInfo {
				call_weight: Weight::from_parts(1, 0),
				extension_weight: Weight::zero(),
				class,
				pays_fee: Pays::Yes,
			};
			let fee = pallet_transaction_payment::Pallet::<Runtime>::compute_fee(len, &info, 0);
			ChargeTransactionPayment::<Runtime>::get_priority(&info, len as usize, 0, fee)
		};
		for len in [1, 100, 5 * 1024 * 1024] {
			assert!(
				priority(DispatchClass::Operational, len) > results,
				"operational, {len} bytes"
			);
			assert!(priority(DispatchClass::Normal, len) < results, "normal, {len} bytes");
		}
	});
}
