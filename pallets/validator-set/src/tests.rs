use crate::{mock::*, Error, Event, SessionPeriod, StoredSessionPeriod, Validators};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::Get},
	pallet_session::SessionManager,
	sp_runtime::DispatchError,
};

fn validators() -> Vec<AccountId> {
	Validators::<Test>::get().into_inner()
}

#[test]
fn genesis_sets_validators_and_period() {
	new_test_ext(vec![1, 2]).execute_with(|| {
		assert_eq!(validators(), vec![1, 2]);
		assert_eq!(SessionPeriod::<Test>::get(), 10);
		assert_eq!(ValidatorSet::new_session(1), Some(vec![1, 2]));
	});
}

#[test]
fn root_adds_a_validator_with_keys() {
	new_test_ext(vec![1]).execute_with(|| {
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 2));
		assert_eq!(validators(), vec![1, 2]);
		System::assert_last_event(Event::ValidatorAdded { who: 2 }.into());
		assert_eq!(ValidatorSet::new_session(2), Some(vec![1, 2]));
	});
}

#[test]
fn add_rejects_bad_input_and_changes_nothing() {
	new_test_ext(vec![1, 2, 3]).execute_with(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::signed(1), 4),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 100),
			Error::<Test>::NoSessionKeys
		);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::AlreadyValidator
		);
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), 4));
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), 5),
			Error::<Test>::TooManyValidators
		);
	});
}

#[test]
fn remove_keeps_at_least_min_validators() {
	new_test_ext(vec![1, 2]).execute_with(|| {
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 3),
			Error::<Test>::NotValidator
		);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::signed(1), 2),
			DispatchError::BadOrigin
		);
		assert_ok!(ValidatorSet::remove_validator(RuntimeOrigin::root(), 1));
		System::assert_last_event(Event::ValidatorRemoved { who: 1 }.into());
		assert_eq!(validators(), vec![2]);
		assert_noop!(
			ValidatorSet::remove_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::TooFewValidators
		);
	});
}

#[test]
fn the_session_period_is_fixed_at_genesis_and_never_read_as_zero() {
	new_test_ext(vec![1]).execute_with(|| {
		assert_eq!(<StoredSessionPeriod<Test> as Get<u64>>::get(), 10);
		SessionPeriod::<Test>::kill();
		assert_eq!(<StoredSessionPeriod<Test> as Get<u64>>::get(), 1);
	});
}

#[test]
#[should_panic(expected = "session_period must be at least one slot")]
fn a_genesis_session_period_of_zero_is_refused() {
	use polkadot_sdk::sp_runtime::BuildStorage;
	let _ = RuntimeGenesisConfig {
		validator_set: crate::GenesisConfig { validators: vec![1], session_period: 0 },
		..Default::default()
	}
	.build_storage();
}
