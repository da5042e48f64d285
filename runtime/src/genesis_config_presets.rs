//! Genesis presets: `development` (one validator, sudo, short governance periods) and
//! `local_testnet` (four validators, no sudo). No preset but `development` sets a sudo key.

use crate::{
	AccountId, BabeConfig, BalancesConfig, NodeRegistryConfig, OriginsConfig, RuntimeGenesisConfig,
	SessionConfig, SessionKeys, SudoConfig, ValidatorSetConfig, EXISTENTIAL_DEPOSIT, OPG,
};
use alloc::{vec, vec::Vec};
use codec::Encode;
use opg_attestation::Measurement;
use pallet_opg_origins::TrackTimings;
use polkadot_sdk::{
	frame_support::build_struct_json_patch,
	sp_consensus_babe::AuthorityId as BabeId,
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

/// A well-known dev validator: its sr25519 account (and BABE key) and ed25519 GRANDPA key,
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
		SessionKeys {
			babe: BabeId::from(self.0.public()),
			grandpa: GrandpaId::from(self.1.public()),
		}
	}
}

/// The PCRs of `opg-dev-evidence`'s development image `opg-dev-enclave`: SHA-384 of
/// `opg-dev-enclave/image`, `/kernel` and `/application`. Allowed by the development
/// presets so that local networks can attest nodes without a referendum first.
pub fn development_measurement() -> Measurement {
	Measurement::Nitro {
		pcr0: [
			0xf3, 0x8f, 0xba, 0xcd, 0xf2, 0x2e, 0x9f, 0x58, 0x00, 0x51, 0x40, 0x5b, 0xd1, 0x86,
			0x33, 0x41, 0x50, 0x90, 0x7f, 0x5f, 0xa2, 0xb7, 0xac, 0xbb, 0x1b, 0x5d, 0x21, 0x5b,
			0xf6, 0x5e, 0xac, 0x2d, 0x85, 0x10, 0x0b, 0x48, 0x5d, 0x5b, 0x71, 0xfa, 0x7b, 0x9e,
			0xa0, 0xca, 0x7a, 0xb0, 0xa0, 0xbd,
		],
		pcr1: [
			0x16, 0x27, 0x75, 0x06, 0x4f, 0x98, 0x34, 0x38, 0x60, 0x0b, 0x9a, 0xf0, 0xe7, 0x4c,
			0x77, 0xd2, 0x68, 0x1e, 0xde, 0x6b, 0x56, 0x6f, 0x73, 0xd7, 0xa7, 0x20, 0x2f, 0xe2,
			0xfc, 0x00, 0x43, 0xa5, 0x01, 0xc5, 0xc6, 0x9b, 0xef, 0xe0, 0x3c, 0xb6, 0x07, 0xa1,
			0x0e, 0x0b, 0x49, 0x7a, 0x64, 0x4d,
		],
		pcr2: [
			0x35, 0x24, 0x58, 0xf2, 0x16, 0x49, 0x7a, 0x6b, 0x29, 0x11, 0xfe, 0x3b, 0x9c, 0x85,
			0x00, 0x5e, 0xa8, 0xc7, 0xc4, 0xf5, 0x72, 0x81, 0x90, 0xde, 0x29, 0xd0, 0xf2, 0xa3,
			0x49, 0x31, 0x67, 0xb0, 0xaa, 0x39, 0xb4, 0xf0, 0xf3, 0xc5, 0x0b, 0x69, 0xc7, 0xaf,
			0xfc, 0x1b, 0x5c, 0xe7, 0xf9, 0xa1,
		],
		pcr8: None,
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
			// The treasury exists from genesis, so that fees of any size can reach it.
			balances: endowed
				.into_iter()
				.map(|a| (a, DEV_ENDOWMENT))
				.chain([(crate::Treasury::account_id(), EXISTENTIAL_DEPOSIT)])
				.collect::<Vec<_>>(),
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
		// The authorities come from the session keys above.
		babe: BabeConfig { epoch_config: crate::BABE_GENESIS_EPOCH_CONFIG },
		origins: OriginsConfig { timings },
		sudo: SudoConfig { key: sudo },
		// Development chains only: trust the development Nitro root and its image.
		node_registry: NodeRegistryConfig {
			trust_development_root: true,
			allowed_measurements: vec![(development_measurement().encode().into(), 0)],
		},
	})
}

/// Alice validates alone, holds sudo; sessions (BABE epochs) of 10 slots; governance in
/// minutes.
fn development() -> Value {
	genesis(
		vec![DevValidator::ALICE],
		dev_accounts(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		10,
		TrackTimings::Development,
	)
}

/// Alice, Bob, Charlie and Dave validate; no sudo: governance only; sessions (BABE
/// epochs) of 20 slots.
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
