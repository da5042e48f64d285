//! Weights of `pallet_verification`.
//!
//! **Not yet benchmarked**: these are conservative estimates (reads and writes counted
//! from the code, 100 µs of execution each, a committee draw over up to 256 verifiers)
//! until `scripts/benchmark` covers this pallet.

#![allow(missing_docs)]

use polkadot_sdk::frame_support::weights::{constants::RocksDbWeight, Weight};

/// Weight functions needed by `pallet_verification`.
pub trait WeightInfo {
	fn set_params() -> Weight;
	fn challenge() -> Weight;
	fn commit() -> Weight;
	fn reveal() -> Weight;
	fn decide() -> Weight;
	fn set_honeypot_authority() -> Weight;
	/// Two signature checks, then possibly the case's end (its transfers).
	fn expose() -> Weight;
	/// A Groth16 proof checked: the input's commitment (up to 16 KiB of input, about
	/// 2.7 µs a byte as `pallet_inference::WeightInfo::input_commitment` measured), one
	/// verification in wasm (about 7 ms), then the case's end.
	fn prove() -> Weight;
	/// A sampling draw at a block's start (one result).
	fn sample() -> Weight;
	/// Opening a case: a committee drawn among the model's verifiers.
	fn open_case() -> Weight;
	/// Advancing a case at its deadline (an escalation's draw, or its end's transfers).
	fn advance() -> Weight;
}

const MICROS: u64 = 1_000_000;

fn estimate(micros: u64, reads: u64, writes: u64) -> Weight {
	Weight::from_parts(micros * MICROS, 8_000 + 3_000 * reads)
		.saturating_add(RocksDbWeight::get().reads(reads))
		.saturating_add(RocksDbWeight::get().writes(writes))
}

impl WeightInfo for () {
	fn set_params() -> Weight {
		estimate(100, 0, 1)
	}
	fn challenge() -> Weight {
		estimate(200, 6, 6)
	}
	fn commit() -> Weight {
		// Signature check, case record (up to 32 seats).
		estimate(300, 3, 3)
	}
	fn reveal() -> Weight {
		// A reveal may tally, escalate (a draw) or end the case (its transfers).
		estimate(2_000, 40, 40)
	}
	fn decide() -> Weight {
		estimate(1_500, 40, 40)
	}
	fn set_honeypot_authority() -> Weight {
		estimate(100, 0, 1)
	}
	fn expose() -> Weight {
		estimate(1_700, 41, 40)
	}
	fn prove() -> Weight {
		estimate(55_000, 46, 41)
	}
	fn sample() -> Weight {
		estimate(200, 4, 2)
	}
	fn open_case() -> Weight {
		estimate(1_500, 260, 12)
	}
	fn advance() -> Weight {
		estimate(2_000, 300, 40)
	}
}
