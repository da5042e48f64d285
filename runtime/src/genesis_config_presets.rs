//! Genesis presets: `development` (one validator, sudo, short governance periods) and
//! `local_testnet` (four validators, no sudo). No preset but `development` sets a sudo key.

use crate::{
	AccountId, BalancesConfig, OriginsConfig, RuntimeGenesisConfig, SessionConfig, SessionKeys,
	SudoConfig, ValidatorSetConfig, OPG,
};
use alloc::{vec, vec::Vec};
use pallet_opg_origins::TrackTimings;
use polkadot_sdk::{
	frame_support::build_struct_json_patch,
	sp_consensus_aura::sr25519::AuthorityId as AuraId,
	sp_consensus_grandpa::AuthorityId as GrandpaId,
	sp_genesis_builder::{self, PresetId},
	sp_keyring::{Ed25519Keyring, Sr25519Keyring},
};
use serde_json::Value;

/// What every dev account holds at genesis.
pub const DEV_ENDOWMENT: u128 = 1_000_000 * OPG;

/// The accounts funded by the development presets.
pub fn dev_accounts() -> Vec<AccountId> {
	[
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Eve,
		Sr25519Keyring::Ferdie,
	]
	.iter()
	.map(|k| k.to_account_id())
	.collect()
}

/// A well-known dev validator: its sr25519 account (and Aura key) and ed25519 GRANDPA key,
/// both derived from the same `//Name` seed, as `opg-node --alice` etc. insert them.
#[derive(Clone, Copy)]
pub struct DevValidator(pub Sr25519Keyring, pub Ed25519Keyring);

impl DevValidator {
	pub const ALICE: Self = Self(Sr25519Keyring::Alice, Ed25519Keyring::Alice);
	pub const BOB: Self = Self(Sr25519Keyring::Bob, Ed25519Keyring::Bob);
	pub const CHARLIE: Self = Self(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie);
	pub const DAVE: Self = Self(Sr25519Keyring::Dave, Ed25519Keyring::Dave);

	/// The validator's account.
	pub fn account(self) -> AccountId {
		self.0.to_account_id()
	}

	/// The validator's session keys.
	pub fn session_keys(self) -> SessionKeys {
		SessionKeys { aura: AuraId::from(self.0.public()), grandpa: GrandpaId::from(self.1.public()) }
	}
}

fn genesis(
	validators: Vec<DevValidator>,
	endowed: Vec<AccountId>,
	sudo: Option<AccountId>,
	session_period: u32,
	timings: TrackTimings,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed.into_iter().map(|a| (a, DEV_ENDOWMENT)).collect::<Vec<_>>(),
		},
		validator_set: ValidatorSetConfig {
			validators: validators.iter().map(|v| v.account()).collect::<Vec<_>>(),
			session_period,
		},
		session: SessionConfig {
			keys: validators
				.iter()
				.map(|v| (v.account(), v.account(), v.session_keys()))
				.collect::<Vec<_>>(),
		},
		origins: OriginsConfig { timings },
		sudo: SudoConfig { key: sudo },
	})
}

/// Alice validates alone, holds sudo; sessions of 10 blocks; governance in minutes.
fn development() -> Value {
	genesis(
		vec![DevValidator::ALICE],
		dev_accounts(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		10,
		TrackTimings::Development,
	)
}

/// Alice, Bob, Charlie and Dave validate; no sudo: governance only.
fn local_testnet() -> Value {
	genesis(
		vec![DevValidator::ALICE, DevValidator::BOB, DevValidator::CHARLIE, DevValidator::DAVE],
		dev_accounts(),
		None,
		20,
		TrackTimings::Development,
	)
}

/// The JSON patch of the preset `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_testnet(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of all presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
