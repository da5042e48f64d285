//! Fixtures for the tests and benchmarks of the registry and of the pallets and runtimes
//! built on it: a node's capabilities, and registering a node with its key's signature.

use crate::*;
use alloc::vec::Vec;
use polkadot_sdk::{
	frame_support::BoundedVec, frame_system::RawOrigin, sp_core::sr25519::Signature,
	sp_runtime::DispatchResult,
};

/// A CPU node's capabilities: serving `models` with the evidence `modes`
/// ([`VerificationModes`] flags), its executor on the loopback.
pub fn capabilities<T: Config>(models: Vec<T::ModelId>, modes: u8) -> CapabilitiesOf<T> {
	Capabilities {
		models: BoundedVec::truncate_from(models),
		modes: VerificationModes(modes),
		hardware: Hardware {
			class: HardwareClass::Cpu,
			gpu_model: BoundedVec::new(),
			gpu_memory_mib: 0,
		},
		endpoint: BoundedVec::truncate_from(b"http://127.0.0.1:8700".to_vec()),
		jobs_per_block: 1_000,
	}
}

/// Registers `node` for `operator` with `roles` ([`Roles`] flags), `capabilities` and
/// `bond`; `sign` signs the registration message with the node key (a key pair in tests,
/// the keystore through `sp_io` in benchmarks).
pub fn register<T: Config>(
	operator: T::AccountId,
	node: NodeKey,
	roles: u8,
	capabilities: CapabilitiesOf<T>,
	bond: BalanceOf<T>,
	sign: impl FnOnce(&[u8]) -> Signature,
) -> DispatchResult {
	let signature = sign(&Pallet::<T>::registration_message(&operator)?);
	Pallet::<T>::register(
		RawOrigin::Signed(operator).into(),
		node,
		Roles(roles),
		capabilities,
		bond,
		signature,
	)
}

/// Gives `node` a TEE attestation as a DCAP quote would: a TDX measurement on the
/// allow-list and a TCB level judged again at every use (the costliest record to check).
/// For benchmarks of the pallets that check attestations.
#[cfg(feature = "runtime-benchmarks")]
pub fn attest_for_benchmarks<T: Config>(node: NodeKey) {
	use polkadot_sdk::sp_runtime::traits::Bounded;
	let measurement = opg_attestation::Measurement::Tdx { mr_td: [1; 48], rtmr: [[2; 48]; 4] };
	let hash = measurement.hash();
	AllowedMeasurements::<T>::insert(
		measurement.tee(),
		hash,
		AllowedMeasurement { measurement, min_security_version: 0 },
	);
	let now = frame_system::Pallet::<T>::block_number();
	Attestations::<T>::insert(
		node,
		AttestationRecord {
			tee: TeeType::Tdx,
			measurement: hash,
			attested_at: now,
			expires_at: frame_system::pallet_prelude::BlockNumberFor::<T>::max_value(),
			tcb_status: Some(opg_attestation::TcbStatus::UpToDate),
			tcb_level: Some(opg_attestation::dcap::TcbLevel {
				date: 0,
				evaluation_data_number: u32::MAX,
			}),
			valid_until: u64::MAX,
		},
	);
}
