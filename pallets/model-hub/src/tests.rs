use crate::{mock::*, *};
use pallet_node_registry::VerificationModes;
use polkadot_sdk::frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
	BoundedVec,
};

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &who)
}

fn zkml_spec() -> ModelSpecOf<Test> {
	let mut spec = spec("mnist-int8", 1);
	spec.format = ModelFormat::QuantizedInteger;
	spec.modes = VerificationModes(VerificationModes::VANILLA | VerificationModes::ZKML);
	spec
}

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
			Some(ServingTerms { price: 1_000, modes: spec.modes, artifact_hash: [1; 32] })
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
		assert_noop!(publish(torch, key(b"vk")), Error::<Test>::ZkmlNeedsQuantizedModelAndKey);
		assert_noop!(publish(zkml_spec(), key(b"not a key")), Error::<Test>::InvalidVerifyingKey);
		assert_ok!(publish(zkml_spec(), key(b"vk-bytes")));
		assert_eq!(VerifyingKeys::<Test>::get(0).unwrap().into_inner(), b"vk-bytes".to_vec());
		assert_eq!(
			Models::<Test>::get(0).unwrap().verifying_key_hash,
			Some(polkadot_sdk::sp_io::hashing::sha2_256(b"vk-bytes"))
		);
	});
}

#[test]
fn a_runtime_without_a_zkml_verifier_refuses_zkml_models() {
	assert_eq!(<() as VerifyingKeyCheck>::check(b"vk"), Err(VerifyingKeyError::Unsupported));
}

#[test]
fn owner_manages_price_deprecation_and_removal() {
	new_test_ext().execute_with(|| {
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(ALICE), zkml_spec(), key(b"vk-bytes")));
		assert_noop!(ModelHub::set_price(RuntimeOrigin::signed(BOB), 0, 5), Error::<Test>::NotOwner);
		assert_noop!(ModelHub::set_price(RuntimeOrigin::signed(ALICE), 7, 5), Error::<Test>::ModelNotFound);
		assert_ok!(ModelHub::set_price(RuntimeOrigin::signed(ALICE), 0, 5));
		assert_eq!(<ModelHub as ModelCatalog<Balance>>::serving_terms(0).unwrap().price, 5);

		assert_noop!(ModelHub::remove(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::NotDeprecated);
		assert_noop!(ModelHub::deprecate(RuntimeOrigin::signed(BOB), 0), Error::<Test>::NotOwner);
		assert_ok!(ModelHub::deprecate(RuntimeOrigin::signed(ALICE), 0));
		assert_noop!(ModelHub::deprecate(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::AlreadyDeprecated);
		assert_eq!(<ModelHub as ModelCatalog<Balance>>::serving_terms(0), None);

		assert_noop!(ModelHub::remove(RuntimeOrigin::signed(BOB), 0), Error::<Test>::NotOwner);
		assert_ok!(ModelHub::remove(RuntimeOrigin::signed(ALICE), 0));
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT);
		assert!(VerifyingKeys::<Test>::get(0).is_none());
		assert_noop!(ModelHub::remove(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::ModelNotFound);
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
