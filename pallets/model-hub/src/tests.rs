use crate::{mock::*, *};
use polkadot_sdk::frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &who)
}

/// A quantized MLP with a 1×10 `I8` output: the statement of the fixture key.
fn zkml_spec() -> ModelSpecOf<Test> {
	let mut spec = spec("mnist-int8", 1);
	spec.format = ModelFormat::QuantizedInteger;
	spec.modes = VerificationModes(VerificationModes::VANILLA | VerificationModes::ZKML);
	for tensor in spec.schema.inputs.iter_mut().chain(spec.schema.outputs.iter_mut()) {
		tensor.dtype = DType::I8;
	}
	spec
}

const VK: &[u8] = opg_zk_verifier::fixture::VERIFYING_KEY;

fn key(bytes: &[u8]) -> Option<VerifyingKeyOf<Test>> {
	Some(BoundedVec::truncate_from(bytes.to_vec()))
}

#[test]
fn publish_holds_a_deposit_by_size_and_serves_terms() {
	new_test_ext().execute_with(|| {
		let spec = spec("mnist", 1);
		let expected = 100 + codec::Encode::encoded_size(&spec) as Balance;
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), spec.clone(), None));
		let model = Models::<Test>::get(0).unwrap();
		assert_eq!((model.owner, model.deposit, model.previous), (ALICE, expected, None));
		assert_eq!(held(ALICE), expected);
		assert_eq!(
			<ModelHub as ModelCatalog<Balance>>::serving_terms(0),
			Some(ServingTerms {
				price: 1_000,
				modes: spec.modes,
				artifact_hash: [1; 32],
				input_len: spec.schema.input_len(),
				variable_input: false,
				output_len: spec.schema.output_len(),
			})
		);
		assert_eq!(
			<ModelHub as ModelCatalog<Balance>>::output_len(0),
			Some(spec.schema.output_len())
		);
		assert_eq!(<ModelHub as ModelCatalog<Balance>>::serving_terms(1), None);
	});
}

#[test]
fn versions_increase_per_owner_and_name_and_link_back() {
	new_test_ext().execute_with(|| {
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), spec("mnist", 2), None));
		for older_or_same in [1, 2] {
			assert_noop!(
				ModelHub::publish(RuntimeOrigin::signed(ALICE), spec("mnist", older_or_same), None),
				Error::<Test>::VersionNotIncreasing
			);
		}
		// Another owner, or another name, starts its own line.
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(BOB), spec("mnist", 1), None));
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), spec("cifar", 1), None));
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), spec("mnist", 3), None));
		assert_eq!(Models::<Test>::get(3).unwrap().previous, Some(0));
		// Removal keeps the floor.
		assert_ok!(ModelHub::deprecate(RuntimeOrigin::signed(ALICE), 3));
		assert_ok!(ModelHub::remove(RuntimeOrigin::signed(ALICE), 3));
		assert_noop!(
			ModelHub::publish(RuntimeOrigin::signed(ALICE), spec("mnist", 3), None),
			Error::<Test>::VersionNotIncreasing
		);
	});
}

#[test]
fn rejects_malformed_specs() {
	new_test_ext().execute_with(|| {
		let publish = |spec, key| ModelHub::publish(RuntimeOrigin::signed(ALICE), spec, key);
		let mut bad = spec("", 1);
		assert_noop!(publish(bad.clone(), None), Error::<Test>::InvalidName);
		bad.name = BoundedVec::truncate_from(vec![0xff, 0xfe]);
		assert_noop!(publish(bad, None), Error::<Test>::InvalidName);
		let mut bad = spec("m", 1);
		bad.artifact.size = 0;
		assert_noop!(publish(bad, None), Error::<Test>::EmptyArtifact);
		let mut bad = spec("m", 1);
		bad.schema.outputs = BoundedVec::new();
		assert_noop!(publish(bad, None), Error::<Test>::InvalidSchema);
		let mut bad = spec("m", 1);
		bad.schema.inputs[0].shape = BoundedVec::truncate_from(vec![1, 0]);
		assert_noop!(publish(bad, None), Error::<Test>::InvalidSchema);
		let mut bad = spec("m", 1);
		bad.schema.inputs[0].shape = BoundedVec::new();
		assert_noop!(publish(bad, None), Error::<Test>::InvalidSchema);
		for modes in [0, 0b1000] {
			let mut bad = spec("m", 1);
			bad.modes = VerificationModes(modes);
			assert_noop!(publish(bad, None), Error::<Test>::InvalidModes);
		}
		assert_noop!(publish(spec("m", 1), key(b"vk")), Error::<Test>::UnexpectedVerifyingKey);
	});
}

#[test]
fn zkml_models_need_the_integer_format_and_a_valid_key() {
	new_test_ext().execute_with(|| {
		let publish = |spec, key| ModelHub::publish(RuntimeOrigin::signed(ALICE), spec, key);
		assert_noop!(publish(zkml_spec(), None), Error::<Test>::ZkmlNeedsQuantizedModelAndKey);
		let mut torch = zkml_spec();
		torch.format = ModelFormat::TorchScript;
		assert_noop!(publish(torch, key(VK)), Error::<Test>::ZkmlNeedsQuantizedModelAndKey);
		let mut float_output = zkml_spec();
		float_output.schema.outputs[0].dtype = DType::F32;
		assert_noop!(publish(float_output, key(VK)), Error::<Test>::ZkmlNeedsQuantizedModelAndKey);
		assert_noop!(publish(zkml_spec(), key(b"not a key")), Error::<Test>::InvalidVerifyingKey);
		let mut truncated = VK.to_vec();
		truncated.pop();
		assert_noop!(publish(zkml_spec(), key(&truncated)), Error::<Test>::InvalidVerifyingKey);
		// 32 outputs pack into two field elements: four public inputs, the key takes three.
		let mut wider = zkml_spec();
		wider.schema.outputs[0].shape = BoundedVec::truncate_from(vec![1, 32]);
		assert_noop!(publish(wider, key(VK)), Error::<Test>::VerifyingKeyArity);
		// 16-bit outputs: the statement holds their bytes, two per value (16 values are 32
		// bytes: two elements again); 8- and 16-bit outputs together are refused.
		let mut wide = zkml_spec();
		wide.schema.outputs[0].dtype = DType::I16;
		wide.schema.outputs[0].shape = BoundedVec::truncate_from(vec![1, 16]);
		assert_noop!(publish(wide, key(VK)), Error::<Test>::VerifyingKeyArity);
		let mut mixed = zkml_spec();
		let mut second = mixed.schema.outputs[0].clone();
		second.dtype = DType::I16;
		mixed.schema.outputs.try_push(second).unwrap();
		assert_noop!(publish(mixed, key(VK)), Error::<Test>::ZkmlNeedsQuantizedModelAndKey);
		assert_ok!(publish(zkml_spec(), key(VK)));
		assert_eq!(VerifyingKeys::<Test>::get(0).unwrap().into_inner(), VK.to_vec());
		let prepared = opg_zk_verifier::prepare_key(VK).unwrap();
		assert_eq!(
			<ModelHub as ModelCatalog<Balance>>::prepared_verifying_key(0),
			Some(prepared.clone())
		);
		// The deposit covers the spec, the key and its prepared form.
		let stored = codec::Encode::encoded_size(&zkml_spec()) + VK.len() + prepared.len();
		assert_eq!(held(ALICE), 100 + stored as Balance);
		assert_eq!(
			Models::<Test>::get(0).unwrap().verifying_key_hash,
			Some(polkadot_sdk::sp_io::hashing::sha2_256(VK))
		);
		// Five 16-bit values are the ten bytes of the fixture key's statement.
		let mut sixteen = zkml_spec();
		sixteen.name = BoundedVec::truncate_from(b"mnist-int16".to_vec());
		sixteen.schema.outputs[0].dtype = DType::I16;
		sixteen.schema.outputs[0].shape = BoundedVec::truncate_from(vec![1, 5]);
		assert_ok!(publish(sixteen, key(VK)));
	});
}

#[test]
fn a_runtime_without_a_zkml_verifier_refuses_zkml_models() {
	assert_eq!(<() as VerifyingKeyCheck>::check(VK, 10), Err(VerifyingKeyError::Unsupported));
	let prepared = <Groth16Bn254 as VerifyingKeyCheck>::check(VK, 10).unwrap();
	assert_eq!(prepared, opg_zk_verifier::prepare_key(VK).unwrap());
	assert!(<Groth16Bn254 as VerifyingKeyCheck>::check(
		opg_zk_verifier::fixture::WIDEST_KEY,
		62 * 31
	)
	.is_ok());
	assert_eq!(<Groth16Bn254 as VerifyingKeyCheck>::check(VK, 32), Err(VerifyingKeyError::Arity));
}

#[test]
fn owner_manages_price_deprecation_and_removal() {
	new_test_ext().execute_with(|| {
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), zkml_spec(), key(VK)));
		assert_noop!(
			ModelHub::set_price(RuntimeOrigin::signed(BOB), 0, 5),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			ModelHub::set_price(RuntimeOrigin::signed(ALICE), 7, 5),
			Error::<Test>::ModelNotFound
		);
		assert_ok!(ModelHub::set_price(RuntimeOrigin::signed(ALICE), 0, 5));
		assert_eq!(<ModelHub as ModelCatalog<Balance>>::serving_terms(0).unwrap().price, 5);

		assert_noop!(
			ModelHub::remove(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::NotDeprecated
		);
		assert_noop!(ModelHub::deprecate(RuntimeOrigin::signed(BOB), 0), Error::<Test>::NotOwner);
		assert_ok!(ModelHub::deprecate(RuntimeOrigin::signed(ALICE), 0));
		assert_noop!(
			ModelHub::deprecate(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::AlreadyDeprecated
		);
		assert_eq!(<ModelHub as ModelCatalog<Balance>>::serving_terms(0), None);

		assert_noop!(ModelHub::remove(RuntimeOrigin::signed(BOB), 0), Error::<Test>::NotOwner);
		assert_ok!(ModelHub::remove(RuntimeOrigin::signed(ALICE), 0));
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT);
		assert!(VerifyingKeys::<Test>::get(0).is_none());
		assert_noop!(
			ModelHub::remove(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ModelNotFound
		);
	});
}

#[test]
fn executors_read_a_models_artifact_and_schema_until_it_is_removed() {
	new_test_ext().execute_with(|| {
		assert_eq!(ModelHub::serving(0), None, "never published");
		let spec = spec("mnist", 1);
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), spec.clone(), None));
		let expected = opg_primitives::ModelServing {
			artifact_hash: spec.artifact.hash,
			artifact_size: spec.artifact.size,
			schema: spec.schema.clone(),
			active: true,
			price: spec.price,
			modes: spec.modes,
			tolerance: None,
		};
		assert_eq!(ModelHub::serving(0), Some(expected.clone()));
		// A deprecated model is still served, for the requests already made.
		assert_ok!(ModelHub::deprecate(RuntimeOrigin::signed(ALICE), 0));
		assert_eq!(
			ModelHub::serving(0),
			Some(opg_primitives::ModelServing { active: false, ..expected })
		);
		assert_ok!(ModelHub::remove(RuntimeOrigin::signed(ALICE), 0));
		assert_eq!(ModelHub::serving(0), None);
	});
}

#[test]
fn a_model_open_requests_need_is_not_removed() {
	new_test_ext().execute_with(|| {
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), zkml_spec(), key(VK)));
		assert_ok!(ModelHub::deprecate(RuntimeOrigin::signed(ALICE), 0));
		InUse::set(vec![0]);
		assert_noop!(ModelHub::remove(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::ModelInUse);
		// Deprecated, the model still settles what was asked of it.
		assert!(<ModelHub as ModelCatalog<Balance>>::prepared_verifying_key(0).is_some());
		assert_eq!(
			<ModelHub as ModelCatalog<Balance>>::output_len(0),
			Some(zkml_spec().schema.output_len())
		);
		InUse::set(vec![]);
		assert_ok!(ModelHub::remove(RuntimeOrigin::signed(ALICE), 0));
		assert_eq!(<ModelHub as ModelCatalog<Balance>>::prepared_verifying_key(0), None);
		assert_eq!(<ModelHub as ModelCatalog<Balance>>::output_len(0), None);
	});
}

#[test]
fn an_owner_who_cannot_cover_the_deposit_publishes_nothing() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			ModelHub::publish(RuntimeOrigin::signed(3), spec("m", 1), None),
			Error::<Test>::InsufficientDeposit
		);
	});
}

/// A language model: its manifest as the artifact, a request of at most 8 KiB of chat
/// request JSON, an answer of at most 16 KiB of text.
fn llm_spec() -> ModelSpecOf<Test> {
	let bytes = |len| crate::testing::tensor(&[len], DType::U8);
	ModelSpec {
		format: ModelFormat::Llm,
		schema: crate::testing::schema(vec![bytes(8192)], vec![bytes(16384)]),
		price: 0,
		..spec("smollm2", 1)
	}
}

#[test]
fn a_language_model_takes_requests_of_any_length_up_to_its_schemas() {
	new_test_ext().execute_with(|| {
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), llm_spec(), None));
		let terms = <ModelHub as ModelCatalog<Balance>>::serving_terms(0).unwrap();
		assert_eq!((terms.input_len, terms.variable_input, terms.price), (8192, true, 0));
		assert_eq!(<ModelHub as ModelCatalog<Balance>>::output_len(0), Some(16384));
	});
}

#[test]
fn a_language_model_whose_schema_is_not_bytes_is_refused() {
	new_test_ext().execute_with(|| {
		let tensor = crate::testing::tensor;
		let not_bytes = [
			crate::testing::schema(vec![tensor(&[8], DType::I8)], vec![tensor(&[8], DType::U8)]),
			crate::testing::schema(vec![tensor(&[8], DType::U8)], vec![tensor(&[2, 8], DType::U8)]),
			crate::testing::schema(
				vec![tensor(&[8], DType::U8), tensor(&[8], DType::U8)],
				vec![tensor(&[8], DType::U8)],
			),
		];
		for schema in not_bytes {
			assert_noop!(
				ModelHub::publish(
					RuntimeOrigin::signed(ALICE),
					ModelSpec { schema, ..llm_spec() },
					None
				),
				Error::<Test>::LlmNeedsByteSchema
			);
		}
		// No ZKML for a language model: its key could not prove it.
		let zkml = ModelSpec {
			modes: VerificationModes(VerificationModes::VANILLA | VerificationModes::ZKML),
			..llm_spec()
		};
		assert_noop!(
			ModelHub::publish(RuntimeOrigin::signed(ALICE), zkml, key(VK)),
			Error::<Test>::ZkmlNeedsQuantizedModelAndKey
		);
	});
}

const TOLERANCE: Tolerance = Tolerance { absolute_ppb: 10_000, relative_ppb: 1_000_000 };

#[test]
fn a_float_model_publishes_its_tolerance_and_executors_read_it() {
	new_test_ext().execute_with(|| {
		let torchscript = ModelSpec { tolerance: Some(TOLERANCE), ..spec("mnist", 1) };
		assert!(torchscript.format.has_tolerance() && torchscript.schema.has_float_output());
		let deposit = 100 + codec::Encode::encoded_size(&torchscript) as Balance;
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), torchscript, None));
		assert_eq!(Models::<Test>::get(0).unwrap().deposit, deposit, "its bytes are paid for");
		assert_eq!(ModelHub::serving(0).unwrap().tolerance, Some(TOLERANCE));
		let onnx = ModelSpec {
			format: ModelFormat::Onnx,
			tolerance: Some(TOLERANCE),
			..spec("mnist-onnx", 1)
		};
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), onnx, None));
		assert_eq!(ModelHub::serving(1).unwrap().tolerance, Some(TOLERANCE));
	});
}

#[test]
fn only_float_results_without_a_cross_device_tolerance_are_checked_on_their_nodes_hardware() {
	new_test_ext().execute_with(|| {
		let torchscript = spec("mnist", 1);
		let tolerated = ModelSpec { tolerance: Some(TOLERANCE), ..spec("mnist-tolerated", 1) };
		let onnx = ModelSpec { format: ModelFormat::Onnx, ..spec("mnist-onnx", 1) };
		let quantized =
			ModelSpec { modes: VerificationModes(VerificationModes::VANILLA), ..zkml_spec() };
		for model in [torchscript, tolerated, quantized, llm_spec(), onnx] {
			assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), model, None));
		}
		let same_hardware =
			|model| <ModelHub as ModelCatalog<Balance>>::checked_on_same_hardware(model);
		// Judged by their bytes, a TorchScript or ONNX model's results differ by device.
		assert!(same_hardware(0));
		assert!(same_hardware(4));
		// A published tolerance is the owner's word that any device's results fall in it.
		assert!(!same_hardware(1));
		// Integers are bit-exact everywhere.
		assert!(!same_hardware(2));
		// A language model's precision is not on chain; bf16 differs across devices.
		assert!(same_hardware(3));
		// Deprecated, it is still checked as before; unknown, no restriction.
		assert_ok!(ModelHub::deprecate(RuntimeOrigin::signed(ALICE), 3));
		assert!(same_hardware(3));
		assert!(!same_hardware(9));
	});
}

#[test]
fn a_tolerance_is_refused_for_exact_models_and_outputs_without_floats() {
	new_test_ext().execute_with(|| {
		let before = Balances::balance(&ALICE);
		// A quantized model is bit-exact; a language model is judged by its evidence.
		let quantized = ModelSpec { tolerance: Some(TOLERANCE), ..zkml_spec() };
		assert_noop!(
			ModelHub::publish(RuntimeOrigin::signed(ALICE), quantized, key(VK)),
			Error::<Test>::ToleranceNotApplicable
		);
		let llm = ModelSpec { tolerance: Some(TOLERANCE), ..llm_spec() };
		assert_noop!(
			ModelHub::publish(RuntimeOrigin::signed(ALICE), llm, None),
			Error::<Test>::ToleranceNotApplicable
		);
		// A TorchScript model whose outputs are all integers has nothing to bound.
		let mut integers = ModelSpec { tolerance: Some(TOLERANCE), ..spec("classes", 1) };
		for tensor in integers.schema.outputs.iter_mut() {
			tensor.dtype = DType::I64;
		}
		assert_noop!(
			ModelHub::publish(RuntimeOrigin::signed(ALICE), integers.clone(), None),
			Error::<Test>::ToleranceNotApplicable
		);
		assert_eq!(Balances::balance(&ALICE), before);
		// Without one, it is published.
		assert_ok!(ModelHub::publish(
			RuntimeOrigin::signed(ALICE),
			ModelSpec { tolerance: None, ..integers },
			None
		));
	});
}

#[test]
fn the_v1_migration_gives_every_stored_model_no_tolerance_once() {
	use polkadot_sdk::frame_support::{
		storage::unhashed,
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	};
	new_test_ext().execute_with(|| {
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), spec("mnist", 1), None));
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(BOB), zkml_spec(), key(VK)));
		let published: Vec<_> = (0..2).map(|id| Models::<Test>::get(id).unwrap()).collect();
		// Storage as version 0 wrote it: each record without the tolerance's byte.
		for (id, model) in published.iter().enumerate() {
			let key = Models::<Test>::hashed_key_for(id as ModelId);
			let old = migrations::v1::OldModel {
				owner: model.owner,
				spec: migrations::v1::OldModelSpec {
					name: model.spec.name.clone(),
					version: model.spec.version,
					format: model.spec.format,
					artifact: model.spec.artifact.clone(),
					schema: model.spec.schema.clone(),
					price: model.spec.price,
					modes: model.spec.modes,
				},
				previous: model.previous,
				verifying_key_hash: model.verifying_key_hash,
				status: model.status,
				deposit: model.deposit,
			};
			unhashed::put_raw(&key, &codec::Encode::encode(&old));
		}
		StorageVersion::new(0).put::<ModelHub>();
		migrations::v1::MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(ModelHub::on_chain_storage_version(), StorageVersion::new(1));
		for (id, model) in published.iter().enumerate() {
			assert_eq!(Models::<Test>::get(id as ModelId).as_ref(), Some(model));
		}
		// Run again, it changes nothing.
		migrations::v1::MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Models::<Test>::get(0).as_ref(), Some(&published[0]));
	});
}

#[test]
fn a_new_chain_starts_at_the_current_storage_version() {
	use polkadot_sdk::frame_support::traits::{GetStorageVersion, StorageVersion};
	new_test_ext().execute_with(|| {
		assert_eq!(ModelHub::on_chain_storage_version(), StorageVersion::new(1));
	});
}
