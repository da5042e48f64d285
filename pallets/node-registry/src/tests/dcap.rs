use super::*;

/// 2025-06-20T00:00:00Z: inside the sample collateral's window.
const JUNE_2025: u64 = 1_750_377_600;

fn sample(name: &str) -> Evidence {
	use codec::Encode;
	// Looked up when the test runs, so that a reused test binary reads this clone.
	let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
	let dir = format!("{manifest}/../../primitives/attestation/testdata/dcap");
	let quote = std::fs::read(format!("{dir}/{name}")).unwrap();
	let json = std::fs::read(format!("{dir}/{name}_collateral.json")).unwrap();
	let collateral: opg_attestation::dcap::Collateral = serde_json::from_slice(&json).unwrap();
	Evidence::Dcap {
		quote: BoundedVec::truncate_from(quote),
		collateral: BoundedVec::truncate_from(collateral.encode()),
	}
}

fn at_june_2025() -> polkadot_sdk::sp_io::TestExternalities {
	let mut ext = ExtBuilder::default().build();
	ext.execute_with(|| {
		polkadot_sdk::pallet_timestamp::Now::<Test>::put(JUNE_2025 * 1000);
		assert_ok!(register(1, ALICE, 5_000));
	});
	ext
}

#[test]
fn verified_quotes_must_still_bind_the_challenge() {
	// The Phala sample quotes verify, but bind someone else's report data.
	at_june_2025().execute_with(|| {
		assert_rejected(1, |_| sample("tdx_quote"), Error::<Test>::BindingMismatch);
	});
}

#[test]
fn tcb_status_follows_the_governance_policy() {
	at_june_2025().execute_with(|| {
		assert_rejected(1, |_| sample("sgx_quote"), Error::<Test>::TcbStatusNotAllowed);
		let policy = opg_attestation::dcap::DcapPolicy {
			allowed: opg_attestation::dcap::TcbStatusSet::of(&[
				opg_attestation::TcbStatus::ConfigurationAndSwHardeningNeeded,
			]),
			..Default::default()
		};
		assert_noop!(
			Registry::set_dcap_policy(RuntimeOrigin::signed(ALICE), policy),
			DispatchError::BadOrigin
		);
		assert_ok!(Registry::set_dcap_policy(RuntimeOrigin::root(), policy));
		assert_eq!(last_event(), Event::DcapPolicyChanged { policy });
		assert_rejected(1, |_| sample("sgx_quote"), Error::<Test>::BindingMismatch);
		let strict =
			opg_attestation::dcap::DcapPolicy { min_tcb_evaluation_data_number: 99, ..policy };
		assert_ok!(Registry::set_dcap_policy(RuntimeOrigin::root(), strict));
		assert_rejected(1, |_| sample("sgx_quote"), Error::<Test>::TcbEvaluationDataNumberTooLow);
	});
}

#[test]
fn bad_quotes_and_collateral_are_rejected() {
	at_june_2025().execute_with(|| {
		let Evidence::Dcap { quote, collateral } = sample("tdx_quote") else { unreachable!() };
		let garbage = Evidence::Dcap {
			quote: quote.clone(),
			collateral: BoundedVec::truncate_from(vec![1, 2, 3]),
		};
		assert_rejected(1, |_| garbage, Error::<Test>::MalformedEvidence);
		let truncated = Evidence::Dcap {
			quote: BoundedVec::truncate_from(quote[..200].to_vec()),
			collateral: collateral.clone(),
		};
		assert_rejected(1, |_| truncated, Error::<Test>::MalformedEvidence);
		polkadot_sdk::pallet_timestamp::Now::<Test>::put(NOW * 1000);
		assert_rejected(
			1,
			|_| Evidence::Dcap { quote, collateral },
			Error::<Test>::DcapVerificationFailed,
		);
	});
}

/// Regression: a DCAP policy change applied only to new attestations; a platform whose
/// TCB the new policy refuses kept serving in TEE mode until its attestation expired.
/// The policy in force is now applied to the recorded TCB level at every use.
#[test]
fn a_dcap_policy_change_applies_to_existing_attestations_at_their_next_use() {
	use opg_attestation::{
		dcap::{DcapPolicy, TcbLevel, TcbStatusSet},
		TcbStatus,
	};
	at_june_2025().execute_with(|| {
		let measurement = [7; 32];
		AllowedMeasurements::<Test>::insert(
			TeeType::Tdx,
			measurement,
			AllowedMeasurement {
				measurement: opg_attestation::Measurement::Tdx {
					mr_td: [0; 48],
					rtmr: [[0; 48]; 4],
				},
				min_security_version: 0,
			},
		);
		let status = TcbStatus::ConfigurationNeeded;
		let lenient = DcapPolicy { allowed: TcbStatusSet::of(&[status]), ..Default::default() };
		assert_ok!(Registry::set_dcap_policy(RuntimeOrigin::root(), lenient));
		Attestations::<Test>::insert(
			key(1),
			AttestationRecord {
				tee: TeeType::Tdx,
				measurement,
				attested_at: 1,
				expires_at: 100,
				tcb_status: Some(status),
				tcb_level: Some(TcbLevel { date: JUNE_2025 - 86_400, evaluation_data_number: 17 }),
				valid_until: JUNE_2025 + 86_400,
			},
		);
		assert!(Registry::tee_attestation(&key(1)).is_some());
		// Governance no longer accepts the status: the node's attestation stops counting.
		assert_ok!(Registry::set_dcap_policy(RuntimeOrigin::root(), DcapPolicy::default()));
		assert!(Registry::tee_attestation(&key(1)).is_none());
		// Nor does it once a newer evaluation data number is required.
		let newer = DcapPolicy { min_tcb_evaluation_data_number: 18, ..lenient };
		assert_ok!(Registry::set_dcap_policy(RuntimeOrigin::root(), lenient));
		assert!(Registry::tee_attestation(&key(1)).is_some());
		assert_ok!(Registry::set_dcap_policy(RuntimeOrigin::root(), newer));
		assert!(Registry::tee_attestation(&key(1)).is_none());
	});
}
