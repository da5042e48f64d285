use crate as pallet_node_registry;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::ConstU32},
	frame_system::{self, EnsureRoot},
	pallet_balances, pallet_timestamp,
	sp_core::{sr25519, Pair, H256},
	sp_io,
	sp_keystore::{testing::MemoryKeystore, KeystoreExt},
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
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(3)]
	pub type NodeRegistry = pallet_node_registry;
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

#[derive_impl(pallet_timestamp::config_preludes::TestDefaultConfig)]
impl pallet_timestamp::Config for Test {}

parameter_types! {
	pub const MinBond: Balance = 1_000;
	pub const LivenessWindow: u64 = 10;
	pub const UnbondingPeriod: u64 = 20;
	pub const ChallengeLifetime: u64 = 5;
	pub const AttestationValidity: u64 = 100;
	/// Where slashed bonds go.
	pub const SlashSink: AccountId = 99;
}

#[derive_impl(pallet_node_registry::config_preludes::TestDefaultConfig)]
impl pallet_node_registry::Config for Test {
	type Currency = Balances;
	type Slashed =
		polkadot_sdk::frame_support::traits::tokens::imbalance::ResolveTo<SlashSink, Balances>;
	type MinBond = MinBond;
	type Models = PublishedModels;
	type MaxNodesPerModel = ConstU32<3>;
	type PolicyOrigin = EnsureRoot<AccountId>;
	type UnixTime = Timestamp;
	type LivenessWindow = LivenessWindow;
	type UnbondingPeriod = UnbondingPeriod;
	type ChallengeLifetime = ChallengeLifetime;
	type AttestationValidity = AttestationValidity;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TimestampHelper;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;
	type RuntimeCall = RuntimeCall;
}

/// Heartbeats go to the pool as bare extrinsics.
impl<C> frame_system::offchain::CreateBare<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> Self::Extrinsic {
		frame_system::mocking::MockUncheckedExtrinsic::<Test>::new_bare(call)
	}
}

#[cfg(feature = "runtime-benchmarks")]
pub struct TimestampHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_node_registry::BenchmarkHelper<u32> for TimestampHelper {
	fn set_unix_time(secs: u64) {
		pallet_timestamp::Now::<Test>::put(secs * 1000);
	}
	fn model(index: u32) -> u32 {
		index
	}
}

/// Models 0 to [`UNPUBLISHED`] − 1 are published and active; no other is.
pub struct PublishedModels;
impl polkadot_sdk::frame_support::traits::Contains<u32> for PublishedModels {
	fn contains(model: &u32) -> bool {
		*model < UNPUBLISHED
	}
}
/// The first model id no one published.
pub const UNPUBLISHED: u32 = 16;

/// The operators' funded accounts.
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const ENDOWMENT: Balance = 1_000_000;
pub const GENESIS_HASH: [u8; 32] = [0x11; 32];
/// 2026-11-22T00:00:00Z, the chain's time in tests.
pub const NOW: u64 = 1_795_305_600;

/// The node key of test node `n`.
pub fn node_pair(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[n; 32])
}

pub struct ExtBuilder {
	pub trust_development_root: bool,
	pub allowed_measurements: Vec<(opg_attestation::Measurement, u16)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		let development = opg_dev_evidence::Pcrs::development(opg_dev_evidence::DEVELOPMENT_IMAGE);
		Self {
			trust_development_root: true,
			allowed_measurements: vec![(development.measurement(), 0)],
		}
	}
}

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		let storage = RuntimeGenesisConfig {
			balances: pallet_balances::GenesisConfig {
				balances: vec![(ALICE, ENDOWMENT), (BOB, ENDOWMENT), (SlashSink::get(), 1)],
				..Default::default()
			},
			node_registry: pallet_node_registry::GenesisConfig {
				trust_development_root: self.trust_development_root,
				allowed_measurements: self
					.allowed_measurements
					.iter()
					.map(|(m, v)| (codec::Encode::encode(m).into(), *v))
					.collect(),
				..Default::default()
			},
			..Default::default()
		}
		.build_storage()
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.register_extension(KeystoreExt(std::sync::Arc::new(MemoryKeystore::new())));
		ext.execute_with(|| {
			frame_system::BlockHash::<Test>::insert(0, H256(GENESIS_HASH));
			System::set_block_number(1);
			Timestamp::set_timestamp(NOW * 1000);
		});
		ext
	}

	/// Runs `test` in the externality [`Self::build`] makes, then checks the invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			NodeRegistry::do_try_state().expect("the node registry's invariants hold");
		})
	}
}
