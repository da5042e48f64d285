//! Weights for `pallet_channels`.
//!
//! Until `scripts/benchmark` has measured this pallet on the wasm runtime, these are the
//! benchmarks' storage accesses at the database weights of `RocksDbWeight` plus the
//! execution of the signature checks (`settle`: one sr25519 verification of the node key
//! and one of the client's voucher, 60 µs each on the reference machine), rounded up.

#![allow(missing_docs)]

use core::marker::PhantomData;
use polkadot_sdk::frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_channels`.
pub trait WeightInfo {
	fn open() -> Weight;
	fn top_up() -> Weight;
	fn settle() -> Weight;
	fn close() -> Weight;
	fn withdraw() -> Weight;
}

/// Weights for `pallet_channels` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: polkadot_sdk::frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn open() -> Weight {
		Weight::from_parts(60_000_000, 3_600)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	fn top_up() -> Weight {
		Weight::from_parts(45_000_000, 3_600)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn settle() -> Weight {
		Weight::from_parts(220_000_000, 6_200)
			.saturating_add(T::DbWeight::get().reads(7_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn close() -> Weight {
		Weight::from_parts(20_000_000, 3_600)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn withdraw() -> Weight {
		Weight::from_parts(50_000_000, 3_600)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
}

// For tests: the same, at RocksDB's database weights.
impl WeightInfo for () {
	fn open() -> Weight {
		Weight::from_parts(60_000_000, 3_600)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn top_up() -> Weight {
		Weight::from_parts(45_000_000, 3_600)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 3))
	}
	fn settle() -> Weight {
		Weight::from_parts(220_000_000, 6_200)
			.saturating_add(RocksDbWeight::get().reads_writes(7, 6))
	}
	fn close() -> Weight {
		Weight::from_parts(20_000_000, 3_600)
			.saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn withdraw() -> Weight {
		Weight::from_parts(50_000_000, 3_600)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 3))
	}
}
