//! Weights for `pallet-validator-set`.
//!
//! Estimates, not yet benchmark output: each call reads and writes the `Validators` list
//! once (at most `MaxValidators` account ids) and reads one `session.NextKeys` entry; the
//! database weights come from the runtime, the computation parts are conservative
//! guesses. To be replaced by generated weights once the node has the `benchmark pallet`
//! subcommand (feature `runtime-benchmarks`).

#![allow(unused_parens, unused_imports)]

use core::marker::PhantomData;
use polkadot_sdk::frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed by `pallet-validator-set`.
pub trait WeightInfo {
	fn add_validator() -> Weight;
	fn remove_validator() -> Weight;
	fn set_session_period() -> Weight;
}

/// Weights for `pallet-validator-set`, using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: polkadot_sdk::frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Session::NextKeys` (r:1), `ValidatorSet::Validators` (r:1 w:1)
	fn add_validator() -> Weight {
		Weight::from_parts(25_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	/// Storage: `ValidatorSet::Validators` (r:1 w:1)
	fn remove_validator() -> Weight {
		Weight::from_parts(20_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	/// Storage: `ValidatorSet::SessionPeriod` (w:1)
	fn set_session_period() -> Weight {
		Weight::from_parts(8_000_000, 0).saturating_add(T::DbWeight::get().writes(1))
	}
}

impl WeightInfo for () {
	fn add_validator() -> Weight {
		Weight::from_parts(25_000_000, 6_000)
			.saturating_add(RocksDbWeight::get().reads(2))
			.saturating_add(RocksDbWeight::get().writes(1))
	}
	fn remove_validator() -> Weight {
		Weight::from_parts(20_000_000, 6_000)
			.saturating_add(RocksDbWeight::get().reads(1))
			.saturating_add(RocksDbWeight::get().writes(1))
	}
	fn set_session_period() -> Weight {
		Weight::from_parts(8_000_000, 0).saturating_add(RocksDbWeight::get().writes(1))
	}
}
