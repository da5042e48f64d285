//! A runtime with the real node registry and model hub behind the inference pallet.

use crate as pallet_inference;
use codec::Encode;
use pallet_model_hub::{testing as models, ModelFormat};
use pallet_node_registry::{
	testing as nodes, Capabilities, NodeKey, Roles, VerificationMode, VerificationModes,
};
use polkadot_sdk::{
	frame_support::{
		assert_ok, derive_impl, parameter_types,
		traits::{tokens::imbalance::ResolveTo, ConstU32, Hooks},
		BoundedVec,
	},
	frame_system::{self, EnsureRoot},
	pallet_balances, pallet_timestamp,
	sp_core::{sr25519, Pair, H256},
	sp_io,
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
	#[runtime::pallet_index(4)]
	pub type ModelHub = pallet_model_hub;
	#[runtime::pallet_index(5)]
	pub type Inference = pallet_inference;
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
	/// Zero unless a test sets it: the other tests' balances leave it out.
	pub static RecordDeposit: Balance = 0;
}

parameter_types! {
	pub const Treasury: AccountId = 99;
	pub const MinBond: Balance = 1_000;
	pub const LivenessWindow: u64 = 50;
	pub const UnbondingPeriod: u64 = 20;
	pub const ChallengeLifetime: u64 = 5;
	pub const AttestationValidity: u64 = 1_000;
	pub const DepositBase: Balance = 10;
	pub const DepositPerByte: Balance = 0;
	pub const Penalty: Balance = 300;
	pub const CannotServeFee: Balance = 100;
	pub const MinWindow: u64 = 2;
	pub const RecordRetention: u64 = 100;
	pub const MaxWindow: u64 = 20;
}

#[derive_impl(pallet_node_registry::config_preludes::TestDefaultConfig)]
impl pallet_node_registry::Config for Test {
	type Currency = Balances;
	type Slashed = ResolveTo<Treasury, Balances>;
	type MinBond = MinBond;
	type Models = ActiveModels;
	type PolicyOrigin = EnsureRoot<AccountId>;
	type UnixTime = Timestamp;
	type LivenessWindow = LivenessWindow;
	type UnbondingPeriod = UnbondingPeriod;
	type ChallengeLifetime = ChallengeLifetime;
	type AttestationValidity = AttestationValidity;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BenchmarkHelper;
}

/// Models the hub gives serving terms for, as in the runtime.
pub struct ActiveModels;
impl polkadot_sdk::frame_support::traits::Contains<u32> for ActiveModels {
	fn contains(model: &u32) -> bool {
		<ModelHub as opg_primitives::ModelCatalog<Balance>>::serving_terms(*model).is_some()
	}
}

#[derive_impl(pallet_model_hub::config_preludes::TestDefaultConfig)]
impl pallet_model_hub::Config for Test {
	type Currency = Balances;
	type DepositBase = DepositBase;
	type DepositPerByte = DepositPerByte;
	type Usage = Inference;
}

#[derive_impl(pallet_inference::config_preludes::TestDefaultConfig)]
impl pallet_inference::Config for Test {
	type Currency = Balances;
	type Models = ModelHub;
	type Nodes = NodeRegistry;
	type ProtocolFeeSink = ResolveTo<Treasury, Balances>;
	type MissedDeadlinePenalty = Penalty;
	type CannotServeFee = CannotServeFee;
	type RecordDeposit = RecordDeposit;
	type RecordRetention = RecordRetention;
	type MinWindow = MinWindow;
	type MaxWindow = MaxWindow;
	type Randomness = MockVrf;
	type Checks = MockChecks;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BenchmarkHelper;
}

/// Stands in for the verification game: a challenge window set by a test
/// ([`set_challenge_window`]; none at first: paid at once), none for ZKML results, a
/// surcharge set by a test ([`set_surcharge`]; none at first), and a log of the results
/// held ([`held_results`]).
pub struct MockChecks;

const WINDOW_KEY: &[u8] = b":mock:challenge-window";
const HELD_KEY: &[u8] = b":mock:held-results";
const SURCHARGE_KEY: &[u8] = b":mock:surcharge";

impl opg_primitives::ResultChecks for MockChecks {
	fn challenge_window(mode: VerificationMode) -> u32 {
		match mode {
			VerificationMode::Zkml => 0,
			_ => polkadot_sdk::frame_support::storage::unhashed::get_or_default(WINDOW_KEY),
		}
	}
	fn held(id: u64) {
		let mut log = held_results();
		log.push(id);
		polkadot_sdk::frame_support::storage::unhashed::put(HELD_KEY, &log);
	}
	fn surcharge(mode: VerificationMode) -> u32 {
		match mode {
			VerificationMode::Zkml => 0,
			_ => polkadot_sdk::frame_support::storage::unhashed::get_or_default(SURCHARGE_KEY),
		}
	}
}

/// Charges vanilla and TEE requests a verification surcharge of `ppb` of their price.
pub fn set_surcharge(ppb: u32) {
	polkadot_sdk::frame_support::storage::unhashed::put(SURCHARGE_KEY, &ppb);
}

/// Holds vanilla and TEE results for `blocks` before paying them.
pub fn set_challenge_window(blocks: u32) {
	polkadot_sdk::frame_support::storage::unhashed::put(WINDOW_KEY, &blocks);
}

/// The results the verification game was told are held, in order.
pub fn held_results() -> Vec<u64> {
	polkadot_sdk::frame_support::storage::unhashed::get_or_default(HELD_KEY)
}

/// Stands in for BABE's VRF output of the parent block: set by [`run_to`] (to what the
/// parent hash is set to there) or by a test with [`set_vrf_output`]; none at first.
pub struct MockVrf;

const VRF_KEY: &[u8] = b":mock:vrf-output";

impl polkadot_sdk::frame_support::traits::Randomness<Option<H256>, u64> for MockVrf {
	fn random(_subject: &[u8]) -> (Option<H256>, u64) {
		(
			polkadot_sdk::frame_support::storage::unhashed::get(VRF_KEY),
			System::block_number().saturating_sub(1),
		)
	}
}

/// Sets the VRF output [`MockVrf`] gives.
pub fn set_vrf_output(output: H256) {
	polkadot_sdk::frame_support::storage::unhashed::put(VRF_KEY, &output);
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateBare<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> Self::Extrinsic {
		frame_system::mocking::MockUncheckedExtrinsic::<Test>::new_bare(call)
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper for BenchmarkHelper {
	fn max_nodes_per_model() -> u32 {
		use polkadot_sdk::frame_support::traits::Get;
		<Test as pallet_node_registry::Config>::MaxNodesPerModel::get()
	}

	/// A fresh model taking `input_len` bytes.
	fn serving_model(nodes: u32, input_len: u32) -> u32 {
		use polkadot_sdk::frame_support::traits::fungible::Mutate;
		let model = pallet_model_hub::NextModelId::<Test>::get();
		let schema = models::int8_vectors(input_len, 2);
		let modes = VerificationModes::VANILLA | VerificationModes::TEE;
		let spec = models::spec(
			"bench",
			ModelFormat::QuantizedInteger,
			[0xbb; 32],
			10,
			schema,
			PRICE,
			modes,
		);
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(OWNER), spec, None));
		for index in 0..nodes {
			let operator = 1_000 + index as AccountId;
			Balances::set_balance(&operator, ENDOWMENT);
			let node = sp_io::crypto::sr25519_generate(crate::NODE_KEY_TYPE, None);
			let sign = |message: &[u8]| {
				sp_io::crypto::sr25519_sign(crate::NODE_KEY_TYPE, &node, message).unwrap()
			};
			let bond = MinBond::get();
			assert_ok!(nodes::register::<Test>(
				operator,
				node,
				Roles::INFERENCE,
				capabilities(model),
				bond,
				sign
			));
		}
		model
	}

	fn attest(node: NodeKey) {
		nodes::attest_for_benchmarks::<Test>(node);
	}
}

#[cfg(feature = "runtime-benchmarks")]
pub struct BenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_node_registry::BenchmarkHelper<u32> for BenchmarkHelper {
	fn set_unix_time(secs: u64) {
		pallet_timestamp::Now::<Test>::put(secs * 1000);
	}
	fn model(index: u32) -> u32 {
		index
	}
}

/// Requesters.
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
/// Node operators: operator of node `n` is account `10 + n`.
pub fn operator(node: u8) -> AccountId {
	10 + node as AccountId
}
pub const OWNER: AccountId = 3;
pub const ENDOWMENT: Balance = 1_000_000;
pub const GENESIS_HASH: [u8; 32] = [0x11; 32];
/// 2026-11-22T00:00:00Z, the chain's time in tests.
pub const NOW: u64 = 1_795_305_600;
/// The model every test requests: id 0, price 1_000, vanilla and TEE.
pub const MODEL: u32 = 0;
pub const PRICE: Balance = 1_000;

pub fn node_pair(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[n; 32])
}

pub fn key(n: u8) -> NodeKey {
	node_pair(n).public()
}

/// Serving `model` in vanilla and TEE modes on a CPU.
pub fn capabilities(model: u32) -> Capabilities<u32, ConstU32<4>> {
	nodes::capabilities::<Test>(vec![model], VerificationModes::VANILLA | VerificationModes::TEE)
}

/// Registers node `n` serving [`MODEL`] in vanilla mode with `bond`.
pub fn register_node(n: u8, bond: Balance) {
	let sign = |message: &[u8]| node_pair(n).sign(message);
	assert_ok!(nodes::register::<Test>(
		operator(n),
		key(n),
		Roles::INFERENCE,
		capabilities(MODEL),
		bond,
		sign
	));
}

pub fn publish_model() {
	let modes = VerificationModes::VANILLA | VerificationModes::TEE;
	let schema = models::int8_vectors(4, 2);
	let spec =
		models::spec("mlp", ModelFormat::QuantizedInteger, [0xaa; 32], 10, schema, PRICE, modes);
	assert_ok!(ModelHub::publish(RuntimeOrigin::signed(OWNER), spec, None));
}

/// Attests node `n` with development Nitro evidence.
pub fn attest(n: u8) {
	assert_ok!(NodeRegistry::request_challenge(RuntimeOrigin::signed(operator(n)), key(n)));
	let nonce = pallet_node_registry::Challenges::<Test>::get(key(n)).unwrap().nonce;
	let request = opg_dev_evidence::DocumentRequest {
		node_key: key(n).0,
		genesis_hash: GENESIS_HASH,
		nonce,
		operator: operator(n).encode(),
		pcrs: opg_dev_evidence::Pcrs::development(opg_dev_evidence::DEVELOPMENT_IMAGE),
		now: NOW,
	};
	let document = opg_dev_evidence::nitro_document(&request).unwrap();
	assert_ok!(NodeRegistry::submit_attestation(
		RuntimeOrigin::signed(operator(n)),
		key(n),
		pallet_node_registry::Evidence::Nitro { document: BoundedVec::truncate_from(document) },
	));
}

/// Checks the pallets' invariants at the end of a block.
pub fn check_invariants() {
	Inference::do_try_state().expect("the inference pallet's invariants hold");
	NodeRegistry::do_try_state().expect("the node registry's invariants hold");
}

/// Runs `test` in a fresh externality of [`new_test_ext`], then checks the invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		check_invariants();
	})
}

pub fn run_to(block: u64) {
	while System::block_number() < block {
		check_invariants();
		let next = System::block_number() + 1;
		System::set_block_number(next);
		System::set_parent_hash(H256::repeat_byte(next as u8));
		set_vrf_output(H256::repeat_byte(next as u8));
		Inference::on_initialize(next);
	}
}

/// Accounts funded at genesis; the treasury too, so that small fees can reach it.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut balances =
		vec![(ALICE, ENDOWMENT), (BOB, ENDOWMENT), (OWNER, ENDOWMENT), (Treasury::get(), 1)];
	balances.extend((1..=6).map(|n| (operator(n), ENDOWMENT)));
	let development = opg_dev_evidence::Pcrs::development(opg_dev_evidence::DEVELOPMENT_IMAGE);
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
		node_registry: pallet_node_registry::GenesisConfig {
			trust_development_root: true,
			allowed_measurements: vec![(
				codec::Encode::encode(&development.measurement()).into(),
				0,
			)],
			..Default::default()
		},
		..Default::default()
	}
	.build_storage()
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.register_extension(polkadot_sdk::sp_keystore::KeystoreExt::new(
		polkadot_sdk::sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| {
		frame_system::BlockHash::<Test>::insert(0, H256(GENESIS_HASH));
		System::set_block_number(1);
		Timestamp::set_timestamp(NOW * 1000);
		publish_model();
	});
	ext
}
