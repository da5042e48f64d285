//! Configuration of every pallet in the runtime.

mod governance;

pub use governance::{
	dynamic_params, PolicyOrigin, RuntimeParameters, TracksInfo, ValidatorAdminOrigin,
};

use crate::{
	deposit, AccountId, Babe, Balance, Balances, Block, BlockNumber, Hash, Inference, ModelHub,
	NodeRegistry, Nonce, OriginCaller, PalletInfo, Preimage, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Session, SessionKeys,
	System, Treasury, ValidatorSet, Verification, DAYS, EXISTENTIAL_DEPOSIT, HOURS, MICRO_OPG,
	MILLI_SECS_PER_BLOCK, OPG, SLOT_DURATION, SS58_PREFIX, VERSION,
};
use polkadot_sdk::{
	frame_support::{
		self, derive_impl, parameter_types,
		traits::{
			fungible::HoldConsideration, tokens::imbalance::ResolveTo, ConstU32, ConstU64, ConstU8,
			Contains, EqualPrivilegeOnly, LinearStoragePrice, VariantCountOf,
		},
		weights::{
			constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
			ConstantMultiplier, Weight,
		},
		PalletId,
	},
	frame_system::{
		self,
		limits::{BlockLength, BlockWeights},
		EnsureRoot,
	},
	pallet_babe, pallet_balances, pallet_grandpa, pallet_preimage, pallet_scheduler,
	pallet_session, pallet_sudo, pallet_timestamp,
	pallet_transaction_payment::{self, FungibleAdapter, Multiplier, TargetedFeeAdjustment},
	pallet_utility, sp_core,
	sp_runtime::{
		traits::{ConvertInto, OpaqueKeys},
		transaction_validity::TransactionPriority,
		FixedPointNumber, Perbill, Perquintill,
	},
	sp_version::RuntimeVersion,
};

/// A quarter of each block is reserved for operational extrinsics.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	/// Two seconds of compute in a six-second block.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	pub RuntimeBlockLength: BlockLength =
		BlockLength::builder().max_length(5 * 1024 * 1024).modify_max_length_for_class(
			frame_support::dispatch::DispatchClass::Normal,
			|max| *max = NORMAL_DISPATCH_RATIO * *max,
		).build();
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	/// The node stores state in ParityDB (no RocksDB in its build).
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Babe;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = frame_support::traits::ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// Fee per unit of weight: with the length fee, a transfer costs about 0.077 OPG (measured).
	pub const WeightFee: Balance = 100_000_000;
	/// Fee per byte of an extrinsic: 10 micro-OPG.
	pub const LengthFee: Balance = 10 * MICRO_OPG;
	/// Blocks are kept a quarter full on average; fees rise above, fall below.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(75, 1_000_000);
	pub MinimumMultiplier: Multiplier = Multiplier::saturating_from_rational(1, 10u128);
	pub MaximumMultiplier: Multiplier = Multiplier::saturating_from_integer(100);
	pub TreasuryAccount: AccountId = Treasury::account_id();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// Fees and tips go to the treasury.
	type OnChargeTransaction = FungibleAdapter<Balances, ResolveTo<TreasuryAccount, Balances>>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = ConstantMultiplier<Balance, WeightFee>;
	type LengthToFee = ConstantMultiplier<Balance, LengthFee>;
	type FeeMultiplierUpdate = TargetedFeeAdjustment<
		Self,
		TargetBlockFullness,
		AdjustmentVariable,
		MinimumMultiplier,
		MaximumMultiplier,
	>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const MaxValidators: u32 = 100;
	pub const MinValidators: u32 = 1;
}

impl pallet_validator_set::Config for Runtime {
	type ManagerOrigin = governance::ValidatorAdminOrigin;
	type KeysRegistration = Session;
	type MaxValidators = MaxValidators;
	type MinValidators = MinValidators;
	type WeightInfo = pallet_validator_set::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::Helper;
}

parameter_types! {
	/// A node that sent no heartbeat for 10 minutes is not live.
	pub const NodeLivenessWindow: BlockNumber = 100;
	/// A bond is released a week after its node exits, so settlement can still slash it.
	pub const NodeUnbondingPeriod: BlockNumber = 7 * DAYS;
	/// A challenge nonce can be answered for 5 minutes.
	pub const ChallengeLifetime: BlockNumber = 50;
	/// Nodes renew their TEE attestation daily.
	pub const AttestationValidity: BlockNumber = DAYS;
	/// A Nitro document's timestamp may be 10 minutes away from chain time.
	pub const MaxEvidenceAge: u64 = 600;
	pub const MaxModelsPerNode: u32 = 64;
	/// The candidates of one assignment, each read when a request is made.
	pub const MaxNodesPerModel: u32 = 32;
}

/// The models a node may declare it serves: those the model hub takes requests for.
pub struct ActiveModels;
impl Contains<u32> for ActiveModels {
	fn contains(model: &u32) -> bool {
		<ModelHub as pallet_model_hub::ModelCatalog<Balance>>::serving_terms(*model).is_some()
	}
}

impl pallet_node_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Slashed = ResolveTo<TreasuryAccount, Balances>;
	/// Set by governance on the policy track.
	type MinBond = dynamic_params::protocol::MinNodeBond;
	type ModelId = u32;
	type Models = ActiveModels;
	type MaxModels = MaxModelsPerNode;
	type MaxNodesPerModel = MaxNodesPerModel;
	type PolicyOrigin = PolicyOrigin;
	type UnixTime = pallet_timestamp::Pallet<Runtime>;
	type LivenessWindow = NodeLivenessWindow;
	type UnbondingPeriod = NodeUnbondingPeriod;
	type ChallengeLifetime = ChallengeLifetime;
	type AttestationValidity = AttestationValidity;
	type MaxEvidenceAge = MaxEvidenceAge;
	type WeightInfo = pallet_node_registry::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::Helper;
}

parameter_types! {
	/// Every published model version holds 1 OPG plus 0.01 OPG per stored byte.
	pub const ModelDepositBase: Balance = OPG;
	pub const ModelDepositPerByte: Balance = OPG / 100;
	/// A Groth16 BN254 key with the most public inputs the verifier takes (2,312 bytes).
	pub const MaxVerifyingKeyLen: u32 = opg_zk_verifier::MAX_KEY_LEN as u32;
}

impl pallet_model_hub::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = ModelDepositBase;
	type DepositPerByte = ModelDepositPerByte;
	type MaxVerifyingKeyLen = MaxVerifyingKeyLen;
	/// Checked and prepared natively in the node (`opg-host-crypto`).
	type VerifyingKeyCheck = pallet_model_hub::Groth16Bn254<opg_host_crypto::HostBn254>;
	/// A model with open requests is kept until they settle or expire.
	type Usage = Inference;
	type WeightInfo = pallet_model_hub::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A node answers within 2 to 600 blocks (12 s to 1 h).
	pub const MinInferenceWindow: BlockNumber = 2;
	pub const MaxInferenceWindow: BlockNumber = HOURS;
	/// Results of inference beat ordinary unsigned transactions in the pool.
	pub const InferenceUnsignedPriority: TransactionPriority = TransactionPriority::MAX / 2;
}

impl pallet_inference::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = ModelHub;
	type Nodes = NodeRegistry;
	/// Set by governance on the policy track.
	type ProtocolFee = dynamic_params::protocol::ProtocolFee;
	type ProtocolFeeSink = ResolveTo<TreasuryAccount, Balances>;
	/// Set by governance on the policy track.
	type MissedDeadlinePenalty = dynamic_params::protocol::MissedDeadlinePenalty;
	/// Set by governance on the policy track.
	type CannotServeFee = dynamic_params::protocol::CannotServeFee;
	/// Set by governance on the policy track.
	type RecordDeposit = dynamic_params::protocol::RecordDeposit;
	/// Set by governance on the policy track.
	type RecordRetention = dynamic_params::protocol::RecordRetention;
	type MinWindow = MinInferenceWindow;
	type MaxWindow = MaxInferenceWindow;
	type MaxAttempts = ConstU32<3>;
	type MaxInlineInput = ConstU32<{ 16 * 1024 }>;
	type MaxInlineOutput = ConstU32<{ 16 * 1024 }>;
	type MaxBatchLen = ConstU32<256>;
	type MaxExpiriesPerBlock = ConstU32<256>;
	type MaxCandidates = MaxNodesPerModel;
	type UnsignedPriority = InferenceUnsignedPriority;
	/// The VRF output of the parent block's author: its author could only withhold the
	/// block, not choose the value (see the pallet's docs on what remains biasable).
	type Randomness = pallet_babe::ParentBlockRandomness<Runtime>;
	/// Groth16 verification runs natively in the node (`opg-host-crypto`).
	type ProofVerifier = opg_host_crypto::HostBn254;
	/// Vanilla and TEE results are held through the verification game's challenge window.
	type Checks = Verification;
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::Helper;
}

impl pallet_channels::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Nodes = NodeRegistry;
	/// An account's own signature: sr25519, ed25519 or ECDSA.
	type ClientSignature = crate::Signature;
	type ClientSigner = <crate::Signature as polkadot_sdk::sp_runtime::traits::Verify>::Signer;
	/// Set by governance on the policy track, as inference's.
	type ProtocolFee = dynamic_params::protocol::ProtocolFee;
	type ProtocolFeeSink = ResolveTo<TreasuryAccount, Balances>;
	/// Set by governance on the policy track.
	type MinDeposit = dynamic_params::protocol::ChannelMinDeposit;
	/// Set by governance on the policy track.
	type MinSettlement = dynamic_params::protocol::ChannelMinSettlement;
	/// Set by governance on the policy track.
	type DisputePeriod = dynamic_params::protocol::ChannelDisputePeriod;
	/// As inference results: above ordinary unsigned transactions.
	type UnsignedPriority = InferenceUnsignedPriority;
	/// Settlements are held through the verification game's challenge window of vanilla
	/// results.
	type Checks = Verification;
	/// A challenged call is a case of the verification game.
	type Challenges = Verification;
	type Models = ModelHub;
	type WeightInfo = pallet_channels::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::Helper;
}

impl pallet_verification::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// On-chain results, and direct calls challenged on `channels`.
	type Results = opg_primitives::BothPaths<Inference, crate::Channels>;
	type Nodes = NodeRegistry;
	/// As inference assignments: the VRF output of the parent block's author.
	type Randomness = pallet_babe::ParentBlockRandomness<Runtime>;
	/// Parameters and cases no committee could decide: the `policy` track.
	type GovernanceOrigin = PolicyOrigin;
	/// Penalties of verifiers that did not reveal or were wrong.
	type Treasury = TreasuryAccount;
	type BlocksPerDay = ConstU64<{ DAYS as u64 }>;
	/// As inference results: above ordinary unsigned transactions.
	type UnsignedPriority = InferenceUnsignedPriority;
	type WeightInfo = pallet_verification::weights::SubstrateWeight<Runtime>;
	type ProofWeight = VerificationProofWeight;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::Helper;
}

parameter_types! {
	/// What checking a disputed result's Groth16 proof costs at most: settlement's
	/// measured commitment of its longest inline input and one verification.
	pub VerificationProofWeight: Weight = {
		use pallet_inference::WeightInfo as _;
		type Measured = pallet_inference::weights::SubstrateWeight<Runtime>;
		let longest = <<Runtime as pallet_inference::Config>::MaxInlineInput as
			frame_support::traits::Get<u32>>::get();
		Measured::input_commitment(longest).saturating_add(Measured::verify_proof())
	};
}

/// Off-chain workers submit results as bare (unsigned) extrinsics.
impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = crate::UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> crate::UncheckedExtrinsic {
		crate::UncheckedExtrinsic::new_bare(call)
	}
}

#[cfg(feature = "runtime-benchmarks")]
mod benchmark_helpers {
	use super::*;
	use polkadot_sdk::{
		sp_consensus_babe::AuthorityId as BabeId,
		sp_core::{ed25519, sr25519},
	};

	/// Sets what OPG's pallet benchmarks need.
	pub struct Helper;

	/// Publishes an integer model taking vanilla and TEE requests of `input_len` bytes,
	/// from an owner of its own; its id.
	fn publish_benchmark_model(input_len: u32) -> u32 {
		use pallet_model_hub::{testing as models, ModelFormat, VerificationModes};
		use polkadot_sdk::{
			frame_benchmarking::account,
			frame_support::{assert_ok, traits::fungible::Mutate},
		};
		let model = pallet_model_hub::NextModelId::<Runtime>::get();
		let owner: AccountId = account("model-owner", model, 0);
		assert_ok!(Balances::mint_into(&owner, 1_000 * OPG));
		let schema = models::int8_vectors(input_len, 10);
		let spec = models::spec(
			"benchmark",
			ModelFormat::QuantizedInteger,
			[7; 32],
			1,
			schema,
			OPG,
			VerificationModes::VANILLA | VerificationModes::TEE,
		);
		assert_ok!(ModelHub::publish(RuntimeOrigin::signed(owner), spec, None));
		model
	}

	impl pallet_node_registry::BenchmarkHelper<u32> for Helper {
		fn set_unix_time(secs: u64) {
			pallet_timestamp::Now::<Runtime>::put(secs * 1000);
		}
		/// Publishes models until `index` is one.
		fn model(index: u32) -> u32 {
			use polkadot_sdk::frame_support::traits::Get;
			while pallet_model_hub::NextModelId::<Runtime>::get() <= index {
				publish_benchmark_model(
					<Runtime as pallet_inference::Config>::MaxInlineInput::get(),
				);
			}
			index
		}
	}

	impl pallet_inference::benchmarking::BenchmarkHelper for Helper {
		fn max_nodes_per_model() -> u32 {
			MaxNodesPerModel::get()
		}

		fn serving_model(nodes: u32, input_len: u32) -> u32 {
			let model = publish_benchmark_model(input_len);
			for index in 0..nodes {
				register_benchmark_node(index, model);
			}
			model
		}

		fn attest(node: pallet_node_registry::NodeKey) {
			pallet_node_registry::testing::attest_for_benchmarks::<Runtime>(node);
		}
	}

	impl pallet_verification::benchmarking::BenchmarkHelper<Runtime> for Helper {
		fn max_verifiers() -> u32 {
			// The model's one inference node takes a place of its list.
			MaxNodesPerModel::get() - 1
		}

		fn held_result(verifiers: u32) -> u64 {
			use pallet_inference::{
				InferenceResult, Input, Output, SettlementMode, VerificationMode,
			};
			use pallet_node_registry::Roles;
			use polkadot_sdk::{
				frame_benchmarking::account,
				frame_support::{assert_ok, traits::fungible::Mutate, BoundedVec},
				sp_io,
			};
			let input_len = 784;
			let model = publish_benchmark_model(input_len);
			let node = register_benchmark_node(0, model);
			for index in 0..verifiers {
				register_node_as("verifier-operator", index, model, Roles::VERIFIER);
			}
			// The worst case of every committee draw: the model's results are checked on
			// their node's hardware (a float model judged by its bytes), and no verifier
			// shares the node's GPU, so each draw finds none of its class, then draws among
			// all.
			pallet_model_hub::Models::<Runtime>::mutate(model, |record| {
				if let Some(record) = record {
					record.spec.format = pallet_model_hub::ModelFormat::TorchScript;
				}
			});
			pallet_node_registry::Nodes::<Runtime>::mutate(node, |record| {
				if let Some(record) = record {
					record.capabilities.hardware.class = pallet_node_registry::HardwareClass::Gpu;
				}
			});
			let requester: AccountId = account("requester", 0, 0);
			assert_ok!(Balances::mint_into(&requester, 1_000_000 * OPG));
			let id = pallet_inference::NextRequestId::<Runtime>::get();
			assert_ok!(Inference::request(
				RuntimeOrigin::signed(requester),
				model,
				Input::Inline(BoundedVec::truncate_from(alloc::vec![1u8; input_len as usize])),
				VerificationMode::Vanilla,
				SettlementMode::Individual,
				1_000 * OPG,
				MinInferenceWindow::get(),
			));
			let open = pallet_inference::Requests::<Runtime>::get(id).expect("requested");
			let output = Output::Inline(BoundedVec::truncate_from(alloc::vec![2u8; 10]));
			let message =
				Inference::result_message(&open, id, &output.hash()).expect("genesis set");
			let signature =
				sp_io::crypto::sr25519_sign(pallet_inference::NODE_KEY_TYPE, &open.node, &message)
					.expect("generated in the keystore");
			assert_ok!(Inference::submit_result(
				RuntimeOrigin::none(),
				InferenceResult { request: id, node: open.node, output },
				signature
			));
			id
		}
	}

	/// Registers inference node `index` (a key generated in the keystore, its operator
	/// funded) serving `model` in vanilla and TEE mode; its key.
	fn register_benchmark_node(index: u32, model: u32) -> pallet_node_registry::NodeKey {
		register_node_as("node-operator", index, model, pallet_node_registry::Roles::INFERENCE)
	}

	/// Registers node `index` with `roles` (a key generated in the keystore, its operator,
	/// `operators` number `index`, funded) serving `model` in vanilla and TEE mode; its key.
	fn register_node_as(
		operators: &'static str,
		index: u32,
		model: u32,
		roles: u8,
	) -> pallet_node_registry::NodeKey {
		use alloc::vec;
		use pallet_node_registry::{testing as nodes, VerificationModes};
		use polkadot_sdk::{
			frame_benchmarking::account,
			frame_support::{
				assert_ok,
				traits::{fungible::Mutate, Get},
			},
			sp_io,
		};

		let modes = VerificationModes::VANILLA | VerificationModes::TEE;
		let operator: AccountId = account(operators, index, 0);
		assert_ok!(Balances::mint_into(&operator, 1_000_000 * OPG));
		let key_type = pallet_inference::NODE_KEY_TYPE;
		let node = sp_io::crypto::sr25519_generate(key_type, None);
		let sign = |message: &[u8]| {
			sp_io::crypto::sr25519_sign(key_type, &node, message).expect("key generated")
		};
		let mut capabilities = nodes::capabilities::<Runtime>(vec![model], modes);
		capabilities.endpoint = Default::default();
		let bond = dynamic_params::protocol::MinNodeBond::get();
		assert_ok!(nodes::register::<Runtime>(operator, node, roles, capabilities, bond, sign));
		node
	}

	/// The key type of the benchmarks' channel clients.
	const CLIENT_KEY_TYPE: polkadot_sdk::sp_core::crypto::KeyTypeId =
		polkadot_sdk::sp_core::crypto::KeyTypeId(*b"opgc");

	impl pallet_channels::benchmarking::BenchmarkHelper<Runtime> for Helper {
		fn serving_node() -> pallet_node_registry::NodeKey {
			use polkadot_sdk::frame_support::traits::Get;
			let input_len = <Runtime as pallet_inference::Config>::MaxInlineInput::get();
			register_benchmark_node(0, publish_benchmark_model(input_len))
		}

		fn client() -> AccountId {
			let key = polkadot_sdk::sp_io::crypto::sr25519_generate(CLIENT_KEY_TYPE, None);
			AccountId::from(key)
		}

		fn sign(client: &AccountId, message: &[u8]) -> crate::Signature {
			let public = sr25519::Public::from_raw(*client.as_ref());
			polkadot_sdk::sp_io::crypto::sr25519_sign(CLIENT_KEY_TYPE, &public, message)
				.expect("generated by client()")
				.into()
		}

		fn served_model() -> (u32, [u8; 32]) {
			let model = pallet_model_hub::NextModelId::<Runtime>::get().saturating_sub(1);
			let hash = pallet_model_hub::Models::<Runtime>::get(model)
				.map(|record| record.spec.artifact.hash)
				.unwrap_or_default();
			(model, hash)
		}
	}

	impl pallet_validator_set::BenchmarkHelper<AccountId> for Helper {
		fn register_keys(who: &AccountId) {
			let raw: [u8; 32] = *who.as_ref();
			let keys = SessionKeys {
				babe: BabeId::from(sr25519::Public::from_raw(raw)),
				grandpa: pallet_grandpa::AuthorityId::from(ed25519::Public::from_raw(raw)),
			};
			pallet_session::NextKeys::<Runtime>::insert(who, keys);
		}
	}
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	/// A session is a BABE epoch: it ends when the epoch does.
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	type SessionManager = ValidatorSet;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = frame_support::traits::ConstU128<OPG>;
}

parameter_types! {
	pub const ExpectedBlockTime: u64 = MILLI_SECS_PER_BLOCK;
}

/// BABE's epoch, and so the session, in slots: the validator set's `SessionPeriod`,
/// fixed at genesis (the node's BABE client reads it once; it never changes after).
pub struct EpochDuration;

impl frame_support::traits::Get<u64> for EpochDuration {
	fn get() -> u64 {
		u64::from(pallet_validator_set::StoredSessionPeriod::<Runtime>::get())
	}
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	/// Session changes enact BABE's epoch changes.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = Session;
	type WeightInfo = ();
	type MaxAuthorities = MaxValidators;
	type MaxNominators = ConstU32<0>;
	/// Equivocation reports are not taken (as for GRANDPA): there is no staking to slash.
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxValidators;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

parameter_types! {
	pub const PreimageBaseDeposit: Balance = deposit(2, 64);
	pub const PreimageByteDeposit: Balance = deposit(0, 1);
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

parameter_types! {
	pub MaximumSchedulerWeight: Weight =
		Perbill::from_percent(80) * RuntimeBlockWeights::get().max_block;
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const TreasuryPalletId: PalletId = PalletId(*b"py/trsry");
}
