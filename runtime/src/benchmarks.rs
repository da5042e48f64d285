//! The pallets `opg-node benchmark pallet` measures (build with `--features
//! runtime-benchmarks`; see `scripts/benchmark`).

pub use crate::{
	Balances, Channels, Inference, ModelHub, NodeRegistry, Runtime, Timestamp, ValidatorSet,
	Verification,
};
pub use polkadot_sdk::frame_system_benchmarking::Pallet as SystemBench;

impl polkadot_sdk::frame_system_benchmarking::Config for Runtime {}

polkadot_sdk::frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_validator_set, ValidatorSet]
	[pallet_node_registry, NodeRegistry]
	[pallet_model_hub, ModelHub]
	[pallet_inference, Inference]
	[pallet_channels, Channels]
	[pallet_verification, Verification]
);
