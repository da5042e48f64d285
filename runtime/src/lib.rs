//! # The OPG runtime
//!
//! FRAME runtime of the OPG verifiable-inference chain: the OPG token (native currency,
//! 18 decimals), transaction payment in OPG, OpenGov governance with OPG's own tracks,
//! a governance-managed validator set for Aura and GRANDPA, treasury, scheduler and
//! preimages. Compiled to wasm; the native build serves tests and the node's types.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`-style macros expand deeply.
#![recursion_limit = "512"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

// Before `apis`: its `define_benchmarks!` macros are used there.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
#[cfg(test)]
mod tests;

use polkadot_sdk::{
	frame_executive, frame_metadata_hash_extension, frame_support, frame_system,
	pallet_transaction_payment, sp_core, sp_runtime, sp_version,
};
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use polkadot_sdk::pallet_balances::Call as BalancesCall;
#[cfg(feature = "std")]
pub use polkadot_sdk::sp_runtime::BuildStorage;

use alloc::vec::Vec;

/// Opaque types for the node: it handles blocks and extrinsics without knowing the
/// runtime's call types.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
}

impl_opaque_keys! {
	/// The keys a validator registers with `session.setKeys`.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("opg"),
	impl_name: alloc::borrow::Cow::Borrowed("opg-node"),
	authoring_version: 1,
	spec_version: 100,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Target block time. Aura produces one block per slot of this length.
pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
/// Aura slot length; cannot change once the chain has started.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// Block counts for common durations.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// Decimals of the OPG token.
pub const TOKEN_DECIMALS: u8 = 18;
/// Symbol of the OPG token.
pub const TOKEN_SYMBOL: &str = "OPG";
/// One OPG in its smallest unit.
pub const OPG: Balance = 1_000_000_000_000_000_000;
/// 10^-3 OPG.
pub const MILLI_OPG: Balance = OPG / 1_000;
/// 10^-6 OPG.
pub const MICRO_OPG: Balance = OPG / 1_000_000;
/// The smallest balance an account may hold: 0.001 OPG.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_OPG;
/// SS58 prefix of OPG addresses (the generic Substrate prefix).
pub const SS58_PREFIX: u16 = 42;

/// Storage deposit for `items` storage items holding `bytes` bytes.
pub const fn deposit(items: u32, bytes: u32) -> Balance {
	items as Balance * 100 * MILLI_OPG + (bytes as Balance) * 100 * MICRO_OPG
}

/// Transaction signature; accounts are sr25519, ed25519 or ecdsa public keys.
pub type Signature = MultiSignature;
/// An account identifier.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in the smallest unit of OPG.
pub type Balance = u128;
/// Transaction counter of an account.
pub type Nonce = u32;
/// Block and state hash.
pub type Hash = sp_core::H256;
/// Block number.
pub type BlockNumber = u32;
/// The address format of extrinsics.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The checks every signed transaction passes, in order.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Extrinsic as it arrives from outside.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload a transaction signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations to run on the next runtime upgrade, besides the pallets' own.
type Migrations = ();

/// Dispatches blocks and extrinsics to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	// Core.
	#[runtime::pallet_index(0)]
	pub type System = polkadot_sdk::frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = polkadot_sdk::pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Utility = polkadot_sdk::pallet_utility;

	// The OPG token and fees.
	#[runtime::pallet_index(10)]
	pub type Balances = polkadot_sdk::pallet_balances;
	#[runtime::pallet_index(11)]
	pub type TransactionPayment = polkadot_sdk::pallet_transaction_payment;

	// Consensus. The validator set must come before Session, Session before Aura and
	// GRANDPA: genesis and session changes flow in that order.
	#[runtime::pallet_index(20)]
	pub type ValidatorSet = pallet_validator_set;
	#[runtime::pallet_index(21)]
	pub type Session = polkadot_sdk::pallet_session;
	#[runtime::pallet_index(22)]
	pub type Aura = polkadot_sdk::pallet_aura;
	#[runtime::pallet_index(23)]
	pub type Grandpa = polkadot_sdk::pallet_grandpa;

	// Inference network.
	#[runtime::pallet_index(40)]
	pub type NodeRegistry = pallet_node_registry;
	#[runtime::pallet_index(41)]
	pub type ModelHub = pallet_model_hub;
	#[runtime::pallet_index(42)]
	pub type Inference = pallet_inference;

	// Governance.
	#[runtime::pallet_index(30)]
	pub type Treasury = polkadot_sdk::pallet_treasury;
	#[runtime::pallet_index(31)]
	pub type Preimage = polkadot_sdk::pallet_preimage;
	#[runtime::pallet_index(32)]
	pub type Scheduler = polkadot_sdk::pallet_scheduler;
	#[runtime::pallet_index(33)]
	pub type ConvictionVoting = polkadot_sdk::pallet_conviction_voting;
	#[runtime::pallet_index(34)]
	pub type Referenda = polkadot_sdk::pallet_referenda;
	#[runtime::pallet_index(35)]
	pub type Origins = pallet_opg_origins;
	#[runtime::pallet_index(36)]
	pub type Parameters = polkadot_sdk::pallet_parameters;

	// Development only: the `development` preset sets a key, every other preset none.
	#[runtime::pallet_index(255)]
	pub type Sudo = polkadot_sdk::pallet_sudo;
}
