use crate as pallet_model_hub;
use crate::*;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, BoundedVec},
	frame_system, pallet_balances, sp_io,
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

#[polkadot_sdk::frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeTask,
		RuntimeHoldReason,
		RuntimeFreezeReason
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type ModelHub = pallet_model_hub;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

parameter_types! {
	pub const DepositBase: Balance = 100;
	pub const DepositPerByte: Balance = 1;
}

#[derive_impl(pallet_model_hub::config_preludes::TestDefaultConfig)]
impl pallet_model_hub::Config for Test {
	type Currency = Balances;
	type DepositBase = DepositBase;
	type DepositPerByte = DepositPerByte;
	type Usage = OpenRequests;
}

parameter_types! {
	/// Models the tests declare in use by open requests.
	pub static InUse: alloc::vec::Vec<opg_primitives::ModelId> = alloc::vec::Vec::new();
}

/// Models in [`InUse`] are in use.
pub struct OpenRequests;
impl ModelUsage for OpenRequests {
	fn in_use(model: opg_primitives::ModelId) -> bool {
		InUse::get().contains(&model)
	}
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const ENDOWMENT: Balance = 1_000_000;

/// A vanilla TorchScript MLP taking a 1x784 f32 input, at version `major.0.0`.
pub fn spec(name: &str, major: u16) -> ModelSpecOf<Test> {
	use crate::testing::{schema, tensor};
	let schema = schema(vec![tensor(&[1, 784], DType::F32)], vec![tensor(&[1, 10], DType::F32)]);
	let modes = VerificationModes::VANILLA;
	let mut spec = crate::testing::spec(
		name,
		ModelFormat::TorchScript,
		[major as u8; 32],
		1_234,
		schema,
		1_000,
		modes,
	);
	spec.version.major = major;
	spec.artifact.locator = BoundedVec::truncate_from(b"http://127.0.0.1:8700/artifacts".to_vec());
	spec
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: vec![(ALICE, ENDOWMENT), (BOB, ENDOWMENT)],
			..Default::default()
		},
		..Default::default()
	}
	.build_storage()
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
