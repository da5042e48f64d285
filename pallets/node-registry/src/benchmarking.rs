//! Benchmarks for `pallet-node-registry`.
//!
//! Evidence verification runs on real vectors at a time inside their windows: the AWS
//! Nitro document from `nitrite` (a five-certificate chain to the AWS root) and Phala's TDX
//! quote with its Intel collateral. Neither binds a challenge of this chain, so the call
//! ends in `BindingMismatch` after the full verification; the attestation write a bound
//! document adds is made in the measured block too.

use super::*;
use crate::pallet::{
	AllowedMeasurements, Attestations, BalanceOf, Call, CapabilitiesOf, Challenges, Config,
	DcapPolicy, Error, ModelNodes, Nodes, Pallet,
};
use alloc::vec;
use codec::Decode;
use frame_benchmarking::v2::*;
use frame_support::{
	assert_ok,
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use frame_system::RawOrigin;
use opg_attestation::{dcap, TcbStatus};
use sp_runtime::traits::{Bounded, Hash, One, Saturating, UniqueSaturatedInto, Zero};

use polkadot_sdk::frame_benchmarking;

/// The real AWS Nitro document of `nitrite`, base64.
const NITRITE_DOCUMENT: &[u8] =
	include_bytes!("../../../primitives/attestation/testdata/nitro/nitrite_nitro_attestation.b64");
/// 2024-09-07T14:37:39Z: inside the nitrite document's leaf validity.
const NITRITE_TIME: u64 = 1_725_719_859;
/// Phala's TDX quote and its collateral (SCALE), UpToDate on 2025-06-20.
const TDX_QUOTE: &[u8] = include_bytes!("../../../primitives/attestation/testdata/dcap/tdx_quote");
const TDX_COLLATERAL: &[u8] =
	include_bytes!("../../../primitives/attestation/testdata/dcap/tdx_quote_collateral.scale");
const JUNE_2025: u64 = 1_750_377_600;

const KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"opgn");

fn funded_operator<T: Config>() -> T::AccountId {
	let operator: T::AccountId = account("operator", 0, 0);
	T::Currency::set_balance(&operator, BalanceOf::<T>::max_value() / 4u32.into());
	operator
}

fn set_genesis_hash<T: Config>() {
	let hash = T::Hashing::hash(b"opg benchmark genesis");
	frame_system::BlockHash::<T>::insert(
		frame_system::pallet_prelude::BlockNumberFor::<T>::zero(),
		hash,
	);
}

/// The most models a node may serve, each already served by all but one of the most
/// nodes a model may have: the worst case of the model index.
fn capabilities<T: Config>() -> CapabilitiesOf<T> {
	let models: alloc::vec::Vec<T::ModelId> =
		(0..T::MaxModels::get()).map(T::BenchmarkHelper::model).collect();
	for model in &models {
		let others = (1..T::MaxNodesPerModel::get()).map(|i| NodeKey::from_raw([i as u8; 32]));
		ModelNodes::<T>::insert(
			model,
			BoundedVec::truncate_from(others.collect::<alloc::vec::Vec<_>>()),
		);
	}
	Capabilities {
		models: BoundedVec::truncate_from(models),
		modes: VerificationModes(VerificationModes::ALL),
		hardware: Hardware {
			class: HardwareClass::Gpu,
			gpu_model: BoundedVec::truncate_from(vec![b'G'; 64]),
			gpu_memory_mib: 81_559,
		},
		endpoint: BoundedVec::truncate_from(vec![b'e'; 256]),
		jobs_per_block: u32::MAX,
	}
}

/// A registered, active node of a funded operator, with the minimum bond held.
fn registered_node<T: Config>() -> (T::AccountId, NodeKey) {
	set_genesis_hash::<T>();
	let operator = funded_operator::<T>();
	let node = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
	let sign = |message: &[u8]| {
		sp_io::crypto::sr25519_sign(KEY_TYPE, &node, message).expect("key generated")
	};
	let (capabilities, bond) = (capabilities::<T>(), T::MinBond::get());
	assert_ok!(crate::testing::register::<T>(
		operator.clone(),
		node,
		Roles::ALL,
		capabilities,
		bond,
		sign
	));
	(operator, node)
}

fn nitrite_document() -> Evidence {
	use base64::Engine;
	let text: alloc::vec::Vec<u8> =
		NITRITE_DOCUMENT.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
	let document = base64::engine::general_purpose::STANDARD.decode(text).expect("valid base64");
	Evidence::Nitro { document: BoundedVec::truncate_from(document) }
}

/// Leaves an open challenge and the measurement of `evidence` allowed, at `time`.
fn prepare_attestation<T: Config>(node: NodeKey, measurement: Measurement, time: u64) {
	T::BenchmarkHelper::set_unix_time(time);
	let expires_at = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
	Challenges::<T>::insert(node, Challenge { nonce: [7; 32], expires_at });
	AllowedMeasurements::<T>::insert(
		measurement.tee(),
		measurement.hash(),
		AllowedMeasurement { measurement, min_security_version: 0 },
	);
}

fn record<T: Config>(
	tee: TeeType,
) -> AttestationRecord<frame_system::pallet_prelude::BlockNumberFor<T>> {
	let now = frame_system::Pallet::<T>::block_number();
	AttestationRecord {
		tee,
		measurement: [1; 32],
		attested_at: now,
		expires_at: now,
		tcb_status: None,
		tcb_level: None,
		valid_until: u64::MAX,
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register() {
		set_genesis_hash::<T>();
		let operator = funded_operator::<T>();
		let node = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
		let message = Pallet::<T>::registration_message(&operator).unwrap();
		let signature = sp_io::crypto::sr25519_sign(KEY_TYPE, &node, &message).unwrap();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(operator),
			node,
			Roles(Roles::ALL),
			capabilities::<T>(),
			T::MinBond::get(),
			signature,
		);

		assert!(Nodes::<T>::contains_key(node));
	}

	#[benchmark]
	fn update_capabilities() {
		let (operator, node) = registered_node::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), node, capabilities::<T>());
	}

	#[benchmark]
	fn bond_extra() {
		let (operator, node) = registered_node::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), node, T::MinBond::get());
	}

	#[benchmark]
	fn heartbeat() {
		let (operator, node) = registered_node::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), node);
	}

	/// A heartbeat from the node's off-chain worker: the node key's signature checked.
	#[benchmark]
	fn submit_heartbeat() {
		let (_, node) = registered_node::<T>();
		let at = frame_system::Pallet::<T>::block_number()
			.saturating_add(Pallet::<T>::heartbeat_period());
		frame_system::Pallet::<T>::set_block_number(at);
		let genesis: [u8; 32] = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero())
			.as_ref()
			.try_into()
			.expect("32 bytes");
		let message = opg_settlement::message::heartbeat(&genesis, at.unique_saturated_into());
		let signature =
			sp_io::crypto::sr25519_sign(KEY_TYPE, &node, &message).expect("key generated");

		#[extrinsic_call]
		_(RawOrigin::None, Heartbeat { node, at }, signature);

		assert_eq!(Nodes::<T>::get(node).expect("registered").last_heartbeat, at);
	}

	/// A live node takes, in a model's full list, the slot of a node that fell silent.
	/// Both declare the most models (the taker one fewer, to have room): the records
	/// rewritten are the largest.
	#[benchmark]
	fn take_slot() {
		let (operator, idle) = registered_node::<T>();
		let model = T::BenchmarkHelper::model(0);
		let later = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::LivenessWindow::get())
			.saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(later);
		let taker = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
		let sign = |message: &[u8]| {
			sp_io::crypto::sr25519_sign(KEY_TYPE, &taker, message).expect("key generated")
		};
		// `idle`'s capabilities (the model lists stay as `registered_node` left them: full,
		// `idle` last), with models of their own.
		let mut declared = Nodes::<T>::get(idle).expect("registered").capabilities;
		let max = T::MaxModels::get();
		declared.models = BoundedVec::truncate_from(
			(max + 1..2 * max)
				.map(T::BenchmarkHelper::model)
				.collect::<alloc::vec::Vec<_>>(),
		);
		assert_ok!(crate::testing::register::<T>(
			operator.clone(),
			taker,
			Roles::ALL,
			declared,
			T::MinBond::get(),
			sign
		));

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), taker, model, idle);

		assert!(ModelNodes::<T>::get(model).contains(&taker));
	}

	#[benchmark]
	fn request_challenge() {
		let (operator, node) = registered_node::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), node);

		assert!(Challenges::<T>::contains_key(node));
	}

	#[benchmark]
	fn submit_nitro_attestation() {
		let (operator, node) = registered_node::<T>();
		let evidence = nitrite_document();
		let Evidence::Nitro { document } = &evidence else { unreachable!() };
		let measurement =
			nitro::verify_attestation(document, &nitro::AWS_NITRO_ROOT_G1_SHA256, NITRITE_TIME)
				.expect("the nitrite document verifies at its time")
				.measurement;
		prepare_attestation::<T>(node, measurement, NITRITE_TIME);

		#[block]
		{
			let result =
				Pallet::<T>::submit_attestation(RawOrigin::Signed(operator).into(), node, evidence);
			assert_eq!(result, Err(Error::<T>::BindingMismatch.into()));
			Attestations::<T>::insert(node, record::<T>(TeeType::Nitro));
		}
	}

	#[benchmark]
	fn submit_dcap_attestation() {
		let (operator, node) = registered_node::<T>();
		let collateral =
			dcap::Collateral::decode(&mut &TDX_COLLATERAL[..]).expect("SCALE collateral");
		let policy = dcap::DcapPolicy::default();
		let measurement = dcap::verify(TDX_QUOTE, &collateral, JUNE_2025, &policy)
			.expect("the TDX sample verifies in June 2025")
			.measurement;
		prepare_attestation::<T>(node, measurement, JUNE_2025);
		DcapPolicy::<T>::put(policy);
		let evidence = Evidence::Dcap {
			quote: BoundedVec::truncate_from(TDX_QUOTE.to_vec()),
			collateral: BoundedVec::truncate_from(TDX_COLLATERAL.to_vec()),
		};

		#[block]
		{
			let result =
				Pallet::<T>::submit_attestation(RawOrigin::Signed(operator).into(), node, evidence);
			assert_eq!(result, Err(Error::<T>::BindingMismatch.into()));
			let mut record = record::<T>(TeeType::Tdx);
			record.tcb_status = Some(TcbStatus::UpToDate);
			Attestations::<T>::insert(node, record);
		}
	}

	#[benchmark]
	fn unregister() {
		let (operator, node) = registered_node::<T>();
		Attestations::<T>::insert(node, record::<T>(TeeType::Nitro));

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), node);
	}

	#[benchmark]
	fn withdraw_unbonded() {
		let (operator, node) = registered_node::<T>();
		assert_ok!(Pallet::<T>::unregister(RawOrigin::Signed(operator.clone()).into(), node));
		let later =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		frame_system::Pallet::<T>::set_block_number(later);

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), node);

		assert!(!Nodes::<T>::contains_key(node));
	}

	#[benchmark]
	fn allow_measurement() -> Result<(), BenchmarkError> {
		let origin =
			T::PolicyOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let measurement =
			Measurement::Nitro { pcr0: [1; 48], pcr1: [2; 48], pcr2: [3; 48], pcr8: Some([4; 48]) };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, measurement, 0);

		Ok(())
	}

	#[benchmark]
	fn revoke_measurement() -> Result<(), BenchmarkError> {
		let origin =
			T::PolicyOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let measurement = Measurement::Tdx { mr_td: [1; 48], rtmr: [[2; 48]; 4] };
		let hash = measurement.hash();
		AllowedMeasurements::<T>::insert(
			TeeType::Tdx,
			hash,
			AllowedMeasurement { measurement, min_security_version: 0 },
		);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, TeeType::Tdx, hash);

		Ok(())
	}

	#[benchmark]
	fn set_dcap_policy() -> Result<(), BenchmarkError> {
		let origin =
			T::PolicyOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let policy = dcap::DcapPolicy {
			allowed: dcap::TcbStatusSet::of(&[TcbStatus::SwHardeningNeeded]),
			out_of_date_grace_secs: 86_400,
			min_tcb_evaluation_data_number: 17,
		};

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, policy);

		Ok(())
	}

	#[benchmark]
	fn revoke_node() -> Result<(), BenchmarkError> {
		let origin =
			T::PolicyOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let (_, node) = registered_node::<T>();
		Attestations::<T>::insert(node, record::<T>(TeeType::Nitro));

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, node);

		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
