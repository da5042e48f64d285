//! Weights for `pallet-node-registry`.
//!
//! Estimates, not yet benchmark output. Storage accesses are counted per call and priced
//! with the runtime's database weights. Evidence verification dominates
//! `submit_*_attestation`: its computation part is the native verification time measured
//! on the shipped vectors (`docs/benchmarks.md`) times four, for wasm execution and a slower
//! reference machine. To be replaced by generated weights once the node has the
//! `benchmark pallet` subcommand (feature `runtime-benchmarks`).

#![allow(unused_parens, unused_imports)]

use core::marker::PhantomData;
use polkadot_sdk::frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed by `pallet-node-registry`.
pub trait WeightInfo {
	fn register() -> Weight;
	fn update_capabilities() -> Weight;
	fn bond_extra() -> Weight;
	fn heartbeat() -> Weight;
	fn request_challenge() -> Weight;
	fn submit_nitro_attestation() -> Weight;
	fn submit_dcap_attestation() -> Weight;
	fn unregister() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn allow_measurement() -> Weight;
	fn revoke_measurement() -> Weight;
	fn set_dcap_policy() -> Weight;
	fn revoke_node() -> Weight;
}

/// Computation of a Nitro document verification (ES384 chain of three, COSE signature).
const NITRO_VERIFICATION: Weight = Weight::from_parts(NITRO_REF_TIME, 24_000);
/// Computation of a DCAP quote verification (P-256 chains, CRLs, TCB info, QE identity).
const DCAP_VERIFICATION: Weight = Weight::from_parts(DCAP_REF_TIME, 100_000);
const NITRO_REF_TIME: u64 = 60_000_000_000;
const DCAP_REF_TIME: u64 = 80_000_000_000;

macro_rules! weights {
	($db:ty) => {
		fn register() -> Weight {
			// sr25519 verification, hold (account + holds), node insert.
			Weight::from_parts(120_000_000, 4_000).saturating_add(<$db>::get().reads_writes(4, 3))
		}
		fn update_capabilities() -> Weight {
			Weight::from_parts(20_000_000, 2_000).saturating_add(<$db>::get().reads_writes(1, 1))
		}
		fn bond_extra() -> Weight {
			Weight::from_parts(40_000_000, 4_000).saturating_add(<$db>::get().reads_writes(3, 3))
		}
		fn heartbeat() -> Weight {
			Weight::from_parts(15_000_000, 2_000).saturating_add(<$db>::get().reads_writes(1, 1))
		}
		fn request_challenge() -> Weight {
			Weight::from_parts(25_000_000, 2_000).saturating_add(<$db>::get().reads_writes(3, 2))
		}
		fn submit_nitro_attestation() -> Weight {
			NITRO_VERIFICATION.saturating_add(<$db>::get().reads_writes(6, 2))
		}
		fn submit_dcap_attestation() -> Weight {
			DCAP_VERIFICATION.saturating_add(<$db>::get().reads_writes(6, 2))
		}
		fn unregister() -> Weight {
			Weight::from_parts(20_000_000, 2_000).saturating_add(<$db>::get().reads_writes(1, 3))
		}
		fn withdraw_unbonded() -> Weight {
			Weight::from_parts(40_000_000, 4_000).saturating_add(<$db>::get().reads_writes(3, 3))
		}
		fn allow_measurement() -> Weight {
			Weight::from_parts(20_000_000, 1_000).saturating_add(<$db>::get().reads_writes(1, 1))
		}
		fn revoke_measurement() -> Weight {
			Weight::from_parts(15_000_000, 1_000).saturating_add(<$db>::get().reads_writes(1, 1))
		}
		fn set_dcap_policy() -> Weight {
			Weight::from_parts(10_000_000, 0).saturating_add(<$db>::get().writes(1))
		}
		fn revoke_node() -> Weight {
			Weight::from_parts(20_000_000, 2_000).saturating_add(<$db>::get().reads_writes(1, 3))
		}
	};
}

/// Weights for `pallet-node-registry`, using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: polkadot_sdk::frame_system::Config> WeightInfo for SubstrateWeight<T> {
	weights!(T::DbWeight);
}

/// For tests: RocksDB database weights.
impl WeightInfo for () {
	weights!(RocksDbWeight);
}
