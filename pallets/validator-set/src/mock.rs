use crate as pallet_validator_set;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::ValidatorRegistration},
	frame_system::{self, EnsureRoot},
	sp_io,
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;

#[polkadot_sdk::frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(RuntimeCall, RuntimeEvent, RuntimeError, RuntimeOrigin, RuntimeTask)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type ValidatorSet = pallet_validator_set;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

std::thread_local! {
	/// Accounts at or above 100 that were given keys.
	static REGISTERED: std::cell::RefCell<std::collections::BTreeSet<AccountId>> = Default::default();
}

/// Accounts 1..=99 have session keys; 100 and above only when given some.
pub struct KeysBelow100;
impl ValidatorRegistration<AccountId> for KeysBelow100 {
	fn is_registered(id: &AccountId) -> bool {
		*id < 100 || REGISTERED.with(|set| set.borrow().contains(id))
	}
}

parameter_types! {
	pub const MaxValidators: u32 = 4;
	pub const MinValidators: u32 = 1;
}

impl pallet_validator_set::Config for Test {
	type ManagerOrigin = EnsureRoot<AccountId>;
	type KeysRegistration = KeysBelow100;
	type MaxValidators = MaxValidators;
	type MinValidators = MinValidators;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = GiveKeys;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct GiveKeys;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for GiveKeys {
	fn register_keys(who: &AccountId) {
		REGISTERED.with(|set| set.borrow_mut().insert(*who));
	}
}

pub fn new_test_ext(validators: Vec<AccountId>) -> sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig {
		validator_set: pallet_validator_set::GenesisConfig { validators, session_period: 10 },
		..Default::default()
	}
	.build_storage()
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
