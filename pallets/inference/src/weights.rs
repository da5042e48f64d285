//! Weights for `pallet_inference`. Regenerate with `scripts/benchmark inference`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use polkadot_sdk::frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed by `pallet_inference`.
pub trait WeightInfo {
	fn request() -> Weight;
	fn submit_result() -> Weight;
	fn submit_batch(n: u32, ) -> Weight;
	fn on_initialize(n: u32, ) -> Weight;
}

/// Weights for `pallet_inference`, using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: polkadot_sdk::frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn request() -> Weight {
		Weight::from_parts(60000000, 8000)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn submit_result() -> Weight {
		Weight::from_parts(90000000, 8000)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(7_u64))
	}
	fn submit_batch(n: u32, ) -> Weight {
		Weight::from_parts(60000000, 4000)
			.saturating_add(Weight::from_parts(70000000, 4_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
			.saturating_add(T::DbWeight::get().reads((6_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((5_u64).saturating_mul(n.into())))
	}
	fn on_initialize(n: u32, ) -> Weight {
		Weight::from_parts(5000000, 1000)
			.saturating_add(Weight::from_parts(120000000, 4_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().reads((40_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((6_u64).saturating_mul(n.into())))
	}
}

/// For tests: the same with RocksDB's database weights.
impl WeightInfo for () {
	fn request() -> Weight {
		Weight::from_parts(60000000, 8000)
			.saturating_add(RocksDbWeight::get().reads(8_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn submit_result() -> Weight {
		Weight::from_parts(90000000, 8000)
			.saturating_add(RocksDbWeight::get().reads(8_u64))
			.saturating_add(RocksDbWeight::get().writes(7_u64))
	}
	fn submit_batch(n: u32, ) -> Weight {
		Weight::from_parts(60000000, 4000)
			.saturating_add(Weight::from_parts(70000000, 4_000).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
			.saturating_add(RocksDbWeight::get().reads((6_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes((5_u64).saturating_mul(n.into())))
	}
	fn on_initialize(n: u32, ) -> Weight {
		Weight::from_parts(5000000, 1000)
			.saturating_add(Weight::from_parts(120000000, 4_000).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
			.saturating_add(RocksDbWeight::get().reads((40_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes((6_u64).saturating_mul(n.into())))
	}
}
