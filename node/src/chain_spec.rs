//! Chain specifications built from the runtime's genesis presets.

use opg_runtime::{SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY};
use polkadot_sdk::{
	sc_service::{self, ChainType},
	sp_genesis_builder,
};

/// The chain specification of an OPG chain.
pub type ChainSpec = sc_service::GenericChainSpec;

fn properties() -> sc_service::Properties {
	let mut properties = sc_service::Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| "the OPG runtime wasm was not built (SKIP_WASM_BUILD?)".to_string())
}

fn from_preset(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
) -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name(name)
		.with_id(id)
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// Single-validator development chain (`--dev`, `--chain dev`): Alice validates and holds sudo.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	from_preset(
		"OPG Development",
		"opg_dev",
		ChainType::Development,
		sp_genesis_builder::DEV_RUNTIME_PRESET,
	)
}

/// Four-validator local network (`--chain local`): Alice, Bob, Charlie and Dave; no sudo.
pub fn local_testnet_chain_spec() -> Result<ChainSpec, String> {
	from_preset(
		"OPG Local Testnet",
		"opg_local_testnet",
		ChainType::Local,
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
	)
}
