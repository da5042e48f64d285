//! A runtime with balances and the verification pallet. Settlement and the node registry
//! are tables here: held results ([`hold_result`]) whose payment moves from client to
//! operator when upheld, and nodes ([`add_node`]) whose bonds are the balances of their
//! vault accounts, so that every token the game moves is a real transfer.

use crate as pallet_verification;
use opg_primitives::{
	CheckInput, HardwareClass, HeldResult, HeldResults, ModelId, NodeKey, RequestId, ToCheck,
	VerificationMode, Verifier, VerifierNodes,
};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{fungible::Mutate, tokens::Preservation, Randomness},
	},
	frame_system::{self, EnsureRoot},
	pallet_balances,
	sp_core::{sr25519, Pair, H256},
	sp_runtime::BuildStorage,
};
use std::{cell::RefCell, collections::BTreeMap};

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
	pub type Verification = pallet_verification;
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
	pub const TreasuryAccount: AccountId = 999;
}

#[derive_impl(pallet_verification::config_preludes::TestDefaultConfig)]
impl pallet_verification::Config for Test {
	type Currency = Balances;
	type Results = MockResults;
	type Nodes = MockNodes;
	type Randomness = MockRandomness;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type Treasury = TreasuryAccount;
	type ProofWeight = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BenchmarkHelper;
}

/// Held results and verifiers for the benchmarks' test suite, their keys in the keystore.
#[cfg(feature = "runtime-benchmarks")]
pub struct BenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::benchmarking::BenchmarkHelper<Test> for BenchmarkHelper {
	fn max_verifiers() -> u32 {
		20
	}

	fn held_result(verifiers: u32) -> RequestId {
		let generate =
			|| polkadot_sdk::sp_io::crypto::sr25519_generate(opg_primitives::NODE_KEY_TYPE, None);
		let node = generate();
		add_key(node, 900, 1_000_000, vec![]);
		for index in 0..verifiers {
			add_key(generate(), 1_000 + u64::from(index), 1_000_000, vec![1]);
		}
		let id = RESULTS.with(|r| r.borrow().len() as RequestId);
		hold_surcharged_result(id, node, 1_000);
		// As in the runtime: checked on its node's GPU, which no verifier shares.
		RESULTS.with(|r| r.borrow_mut().get_mut(&id).unwrap().result.same_hardware = true);
		NODES.with(|n| n.borrow_mut().get_mut(&node).unwrap().hardware = HardwareClass::Gpu);
		id
	}
}

/// [`new_test_ext`] with no node at all and a keystore: what the benchmarks start from.
#[cfg(feature = "runtime-benchmarks")]
pub fn bench_ext() -> polkadot_sdk::sp_io::TestExternalities {
	use polkadot_sdk::sp_keystore::{testing::MemoryKeystore, KeystoreExt};
	let mut ext = new_test_ext();
	ext.execute_with(|| NODES.with(|n| n.borrow_mut().clear()));
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;
}

impl<C> frame_system::offchain::CreateBare<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: Self::RuntimeCall) -> Self::Extrinsic {
		frame_system::mocking::MockUncheckedExtrinsic::<Test>::new_bare(call)
	}
}

/// A held result of the mock's settlement, and how it ended.
#[derive(Clone, Debug)]
pub struct Held {
	pub result: HeldResult<AccountId, Balance>,
	/// What re-executing it takes.
	pub to_check: ToCheck,
	pub disputed: bool,
	/// `Some(true)`: paid to the operator; `Some(false)`: refunded.
	pub ended: Option<bool>,
}

/// A node of the mock's registry.
#[derive(Clone, Debug)]
pub struct MockNode {
	pub operator: AccountId,
	/// Has the `VERIFIER` role and serves these models.
	pub verifies: Vec<ModelId>,
	/// The hardware it declares ([`set_hardware`]; CPU by default).
	pub hardware: HardwareClass,
}

thread_local! {
	static RESULTS: RefCell<BTreeMap<RequestId, Held>> = const { RefCell::new(BTreeMap::new()) };
	static NODES: RefCell<BTreeMap<NodeKey, MockNode>> = const { RefCell::new(BTreeMap::new()) };
	static RANDOM: RefCell<H256> = const { RefCell::new(H256::zero()) };
}

/// Settlement of the mock.
pub struct MockResults;

impl HeldResults<AccountId, Balance> for MockResults {
	fn held(id: RequestId) -> Option<HeldResult<AccountId, Balance>> {
		RESULTS
			.with(|r| r.borrow().get(&id).filter(|h| h.ended.is_none()).map(|h| h.result.clone()))
	}
	fn to_check(id: RequestId) -> Option<ToCheck> {
		RESULTS
			.with(|r| r.borrow().get(&id).filter(|h| h.ended.is_none()).map(|h| h.to_check.clone()))
	}
	fn verify_proof(id: RequestId, output: &[u8], proof: &[u8]) -> bool {
		Self::to_check(id).is_some_and(|to_check| {
			to_check.output_hash == opg_settlement::sha256(output) && proof == VALID_PROOF
		})
	}
	fn dispute(id: RequestId) -> bool {
		RESULTS.with(|r| match r.borrow_mut().get_mut(&id) {
			Some(held) if held.ended.is_none() && !held.disputed => {
				held.disputed = true;
				true
			},
			_ => false,
		})
	}
	fn pay_surcharge(id: RequestId, to: &AccountId, amount: Balance) -> Balance {
		let Some(held) = RESULTS.with(|r| r.borrow().get(&id).cloned()) else { return 0 };
		if held.ended.is_some() {
			return 0;
		}
		let amount = amount.min(held.result.surcharge);
		Balances::transfer(&held.result.client, to, amount, Preservation::Expendable).unwrap();
		RESULTS.with(|r| r.borrow_mut().get_mut(&id).unwrap().result.surcharge -= amount);
		amount
	}
	fn conclude(id: RequestId, upheld: bool) -> bool {
		let Some(held) = RESULTS.with(|r| r.borrow().get(&id).cloned()) else { return false };
		if held.ended.is_some() {
			return false;
		}
		if upheld {
			// The payment was the client's, held by settlement: it moves to the operator.
			Balances::transfer(
				&held.result.client,
				&held.result.operator,
				held.result.price,
				Preservation::Expendable,
			)
			.unwrap();
		}
		// What is left of the surcharge goes to the treasury.
		Balances::transfer(
			&held.result.client,
			&TreasuryAccount::get(),
			held.result.surcharge,
			Preservation::Expendable,
		)
		.unwrap();
		RESULTS.with(|r| r.borrow_mut().get_mut(&id).unwrap().ended = Some(upheld));
		true
	}
}

/// The mock's settlement record of result `id`.
pub fn held(id: RequestId) -> Held {
	RESULTS.with(|r| r.borrow()[&id].clone())
}

/// Result `id` of `node` for model 1, price 1,000 from client 100, held now with a
/// 20-block window, as settlement does (it tells the pallet).
pub fn hold_result(id: RequestId, node: NodeKey) {
	let operator = NODES.with(|n| n.borrow()[&node].operator);
	let now = crate::Pallet::<Test>::now();
	let result = HeldResult {
		node,
		operator,
		client: CLIENT,
		model: 1,
		mode: VerificationMode::Vanilla,
		price: 1_000,
		surcharge: 0,
		subject: opg_settlement::sha256(&id.to_le_bytes()),
		final_at: now + 20,
		provable: false,
		same_hardware: false,
	};
	let to_check = ToCheck {
		model_hash: MODEL_HASH,
		input: CheckInput::Inline(id.to_le_bytes().to_vec()),
		output_hash: opg_settlement::sha256(CLAIMED_OUTPUT),
		output: Some(CLAIMED_OUTPUT.to_vec()),
	};
	RESULTS.with(|r| {
		r.borrow_mut()
			.insert(id, Held { result, to_check, disputed: false, ended: None })
	});
	<crate::Pallet<Test> as opg_primitives::ResultChecks>::held(id);
}

/// The registry of the mock.
pub struct MockNodes;

/// The account holding node `key`'s bond.
pub fn vault(key: &NodeKey) -> AccountId {
	10_000 + u64::from(key.0[0]) * 256 + u64::from(key.0[1])
}

impl VerifierNodes<AccountId, Balance> for MockNodes {
	fn verifiers(model: &ModelId) -> Vec<Verifier<AccountId, Balance>> {
		NODES.with(|n| {
			n.borrow()
				.iter()
				.filter(|(_, node)| node.verifies.contains(model))
				.map(|(key, node)| Verifier {
					node: *key,
					operator: node.operator,
					bond: Balances::free_balance(vault(key)),
					hardware: node.hardware,
				})
				.collect()
		})
	}
	fn operator(node: &NodeKey) -> Option<AccountId> {
		NODES.with(|n| n.borrow().get(node).map(|node| node.operator))
	}
	fn hardware(node: &NodeKey) -> Option<HardwareClass> {
		NODES.with(|n| n.borrow().get(node).map(|node| node.hardware))
	}
	fn bond(node: &NodeKey) -> Balance {
		Balances::free_balance(vault(node))
	}
	fn pay_from_bond(node: &NodeKey, amount: Balance, to: &AccountId) -> Balance {
		let amount = amount.min(Self::bond(node));
		Balances::transfer(&vault(node), to, amount, Preservation::Expendable).map_or(0, |_| amount)
	}
}

/// Node `n`'s key pair.
pub fn pair(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[n; 32])
}

/// Node `n`'s key.
pub fn node(n: u8) -> NodeKey {
	pair(n).public()
}

/// Registers node `n` of `operator` with `bond`, verifying `models`.
pub fn add_node(n: u8, operator: AccountId, bond: Balance, verifies: Vec<ModelId>) {
	add_key(node(n), operator, bond, verifies);
}

/// Registers node `key` of `operator` with `bond`, verifying `models`.
pub fn add_key(key: NodeKey, operator: AccountId, bond: Balance, verifies: Vec<ModelId>) {
	NODES.with(|nodes| {
		nodes
			.borrow_mut()
			.insert(key, MockNode { operator, verifies, hardware: HardwareClass::Cpu })
	});
	Balances::set_balance(&vault(&key), bond);
}

/// Node `n` declares `hardware`.
pub fn set_hardware(n: u8, hardware: HardwareClass) {
	NODES.with(|nodes| {
		nodes.borrow_mut().get_mut(&node(n)).expect("a mock node").hardware = hardware
	});
}

/// The mock's randomness: settable.
pub struct MockRandomness;

impl Randomness<Option<H256>, u64> for MockRandomness {
	fn random(subject: &[u8]) -> (Option<H256>, u64) {
		let seed = RANDOM.with(|r| *r.borrow());
		let mut bytes = seed.as_bytes().to_vec();
		bytes.extend_from_slice(subject);
		(Some(H256(opg_settlement::sha256(&bytes))), 0)
	}
}

/// Sets the randomness of the blocks from now on.
pub fn set_random(seed: u8) {
	RANDOM.with(|r| *r.borrow_mut() = H256([seed; 32]));
}

/// The artifact hash of model 1.
pub const MODEL_HASH: [u8; 32] = [0xaa; 32];
/// The output every held result's node claimed.
pub const CLAIMED_OUTPUT: &[u8] = b"output";

/// Result `id`, held now like [`hold_result`], whose requester paid `surcharge`.
pub fn hold_surcharged_result(id: RequestId, node: NodeKey, surcharge: Balance) {
	hold_result(id, node);
	RESULTS.with(|r| r.borrow_mut().get_mut(&id).unwrap().result.surcharge = surcharge);
}

/// The one proof the mock's settlement accepts (of the claimed output).
pub const VALID_PROOF: [u8; 128] = [7; 128];

/// Result `id`, held now like [`hold_result`], with TEE evidence (the mock's window stays
/// 20 blocks).
pub fn hold_tee_result(id: RequestId, node: NodeKey) {
	hold_result(id, node);
	RESULTS.with(|r| r.borrow_mut().get_mut(&id).unwrap().result.mode = VerificationMode::Tee);
}

/// Result `id`, held now like [`hold_result`], of a model its node can prove.
pub fn hold_provable_result(id: RequestId, node: NodeKey) {
	hold_result(id, node);
	RESULTS.with(|r| r.borrow_mut().get_mut(&id).unwrap().result.provable = true);
}

/// Result `id`, held now like [`hold_result`], of a model whose results only verifiers on
/// its node's hardware may check (a language model's).
pub fn hold_same_hardware_result(id: RequestId, node: NodeKey) {
	hold_result(id, node);
	RESULTS.with(|r| r.borrow_mut().get_mut(&id).unwrap().result.same_hardware = true);
}

/// Sets what re-executing held result `id` takes.
pub fn set_to_check(id: RequestId, to_check: ToCheck) {
	RESULTS.with(|r| r.borrow_mut().get_mut(&id).unwrap().to_check = to_check);
}

/// The genesis hash the mock chain has.
pub const GENESIS: [u8; 32] = [0x42; 32];
/// The requester of every held result.
pub const CLIENT: AccountId = 100;
/// A challenger.
pub const CHALLENGER: AccountId = 101;
/// What accounts start with.
pub const START: Balance = 1_000_000 * opg_verification::OPG;

/// A chain at block 1 where the client, the challenger, the treasury and operators 1–9
/// hold [`START`]; node 1 (operator 1) serves; verifiers 11–15 (operators 11–15, node 16 of
/// operator 15 too) each bond 10⁶ and verify model 1.
pub fn new_test_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let mut balances = vec![(CLIENT, START), (CHALLENGER, START), (TreasuryAccount::get(), START)];
	balances.extend((1..=20).map(|operator| (operator, START)));
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
	ext.execute_with(|| {
		frame_system::BlockHash::<Test>::insert(0, H256::from(GENESIS));
		System::set_block_number(1);
		RESULTS.with(|r| r.borrow_mut().clear());
		NODES.with(|n| n.borrow_mut().clear());
		set_random(7);
		add_node(1, 1, 1_000_000, vec![]);
		for n in 11..=15 {
			add_node(n, u64::from(n), 1_000_000, vec![1]);
		}
		add_node(16, 15, 1_000_000, vec![1]);
	});
	ext
}

/// Runs blocks up to `n`, each starting with the pallet's hook.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		System::set_block_number(System::block_number() + 1);
		crate::Pallet::<Test>::on_block(System::block_number());
	}
}
