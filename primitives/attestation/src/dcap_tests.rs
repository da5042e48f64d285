use super::*;
use sha2::{Digest, Sha256};

/// 2025-06-20T00:00:00Z: inside the windows of the `sgx_quote` and `tdx_quote` collateral.
const JUNE_2025: u64 = 1_750_377_600;
/// 2026-02-19T00:00:00Z: inside the window of the `tdx_quote_outdated` collateral.
const FEBRUARY_2026: u64 = 1_771_459_200;

fn sample(name: &str) -> (Vec<u8>, Collateral) {
	let dir = crate::nitro::tests::testdata("dcap");
	let quote = std::fs::read(format!("{dir}/{name}")).unwrap();
	let json = std::fs::read(format!("{dir}/{name}_collateral.json")).unwrap();
	(quote, serde_json::from_slice(&json).unwrap())
}

fn check(name: &str, now: u64, policy: &DcapPolicy) -> Result<Attestation, DcapError> {
	let (quote, collateral) = sample(name);
	verify(&quote, &collateral, now, policy)
}

#[test]
fn pinned_root_is_intels() {
	assert_eq!(Sha256::digest(INTEL_SGX_ROOT_CA).as_slice(), &INTEL_SGX_ROOT_CA_SHA256);
}

#[test]
fn up_to_date_tdx_quote_is_accepted() {
	let attestation = check("tdx_quote", JUNE_2025, &DcapPolicy::default()).unwrap();
	assert_eq!(attestation.tee, TeeType::Tdx);
	assert_eq!(attestation.tcb_status, Some(TcbStatus::UpToDate));
	assert_eq!(attestation.report_data.len(), 64);
	assert!(matches!(attestation.measurement, Measurement::Tdx { .. }));
	assert_eq!(attestation.measurement.tee(), TeeType::Tdx);
}

/// A quote is relied on until its first certificate or collateral expires, and its TCB
/// level is kept so that a later policy can judge it again.
#[test]
fn a_quote_is_valid_until_its_collateral_expires_and_keeps_its_tcb_level() {
	let attestation = check("tdx_quote", JUNE_2025, &DcapPolicy::default()).unwrap();
	let until = attestation.valid_until;
	assert!(until > JUNE_2025, "{until}");
	assert!(check("tdx_quote", until, &DcapPolicy::default()).is_ok());
	assert!(check("tdx_quote", until + 1, &DcapPolicy::default()).is_err());
	let level = attestation.tcb_level.unwrap();
	assert_eq!(
		level.judge(TcbStatus::UpToDate, JUNE_2025, &DcapPolicy::default()),
		Ok(TcbStatus::UpToDate)
	);
	let stricter = DcapPolicy {
		min_tcb_evaluation_data_number: level.evaluation_data_number + 1,
		..DcapPolicy::default()
	};
	assert_eq!(
		level.judge(TcbStatus::UpToDate, JUNE_2025, &stricter),
		Err(DcapError::TcbEvaluationDataNumberTooLow)
	);
}

#[test]
fn sgx_quote_needs_governance_to_allow_its_status() {
	let status = TcbStatus::ConfigurationAndSwHardeningNeeded;
	assert_eq!(
		check("sgx_quote", JUNE_2025, &DcapPolicy::default()),
		Err(DcapError::TcbStatusNotAllowed(status))
	);
	let allowing = DcapPolicy { allowed: TcbStatusSet::of(&[status]), ..Default::default() };
	let attestation = check("sgx_quote", JUNE_2025, &allowing).unwrap();
	assert_eq!(attestation.tee, TeeType::Sgx);
	assert_eq!(attestation.tcb_status, Some(status));
	assert!(matches!(attestation.measurement, Measurement::Sgx { .. }));
	// Allowing another status does not help.
	let other = DcapPolicy {
		allowed: TcbStatusSet::of(&[TcbStatus::SwHardeningNeeded]),
		..Default::default()
	};
	assert_eq!(check("sgx_quote", JUNE_2025, &other), Err(DcapError::TcbStatusNotAllowed(status)));
}

#[test]
fn out_of_date_tdx_quote_is_rejected() {
	// Its platform TCB is older than every level Intel still lists.
	let grace = DcapPolicy { out_of_date_grace_secs: u64::MAX, ..Default::default() };
	for policy in [DcapPolicy::default(), grace] {
		assert_eq!(
			check("tdx_quote_outdated", FEBRUARY_2026, &policy),
			Err(DcapError::TcbLevelNotFound)
		);
	}
}

#[test]
fn out_of_date_is_accepted_only_inside_the_grace_period() {
	let tcb_date = 1_700_000_000;
	let day = 86_400;
	for status in [TcbStatus::OutOfDate, TcbStatus::OutOfDateConfigurationNeeded] {
		// Listing the status is not enough: only a grace period admits it.
		let listed = DcapPolicy { allowed: TcbStatusSet::of(&[status]), ..Default::default() };
		assert_eq!(
			judge(status, tcb_date, 17, tcb_date, &listed),
			Err(DcapError::OutOfDateBeyondGrace)
		);
		let grace = DcapPolicy { out_of_date_grace_secs: 30 * day, ..Default::default() };
		assert_eq!(judge(status, tcb_date, 17, tcb_date + 30 * day, &grace), Ok(status));
		assert_eq!(
			judge(status, tcb_date, 17, tcb_date + 30 * day + 1, &grace),
			Err(DcapError::OutOfDateBeyondGrace)
		);
	}
}

#[test]
fn revoked_is_never_accepted() {
	let everything = DcapPolicy {
		allowed: TcbStatusSet(u16::MAX),
		out_of_date_grace_secs: u64::MAX,
		min_tcb_evaluation_data_number: 0,
	};
	assert_eq!(judge(TcbStatus::Revoked, 0, 17, 0, &everything), Err(DcapError::TcbRevoked));
}

#[test]
fn statuses_other_than_up_to_date_need_the_policy() {
	use TcbStatus::*;
	for status in [
		SwHardeningNeeded,
		ConfigurationNeeded,
		ConfigurationAndSwHardeningNeeded,
		TdRelaunchAdvised,
		TdRelaunchAdvisedConfigurationNeeded,
	] {
		assert_eq!(
			judge(status, 0, 17, 0, &DcapPolicy::default()),
			Err(DcapError::TcbStatusNotAllowed(status))
		);
		let allowing = DcapPolicy { allowed: TcbStatusSet::of(&[status]), ..Default::default() };
		assert_eq!(judge(status, 0, 17, 0, &allowing), Ok(status));
	}
	assert_eq!(judge(UpToDate, 0, 17, 0, &DcapPolicy::default()), Ok(UpToDate));
}

#[test]
fn collateral_outside_its_window_is_rejected() {
	for now in [JUNE_2025 - 30 * 86_400, JUNE_2025 + 60 * 86_400] {
		assert_eq!(
			check("tdx_quote", now, &DcapPolicy::default()),
			Err(DcapError::VerificationFailed)
		);
	}
	// The June 2025 collateral does not verify the quote of another platform.
	let (quote, _) = sample("tdx_quote_outdated");
	let (_, june) = sample("tdx_quote");
	assert_eq!(
		verify(&quote, &june, JUNE_2025, &DcapPolicy::default()),
		Err(DcapError::VerificationFailed)
	);
}

#[test]
fn minimum_tcb_evaluation_data_number_is_enforced() {
	let strict = DcapPolicy { min_tcb_evaluation_data_number: 18, ..Default::default() };
	assert_eq!(
		check("tdx_quote", JUNE_2025, &strict),
		Err(DcapError::TcbEvaluationDataNumberTooLow)
	);
	let met = DcapPolicy { min_tcb_evaluation_data_number: 17, ..Default::default() };
	assert!(check("tdx_quote", JUNE_2025, &met).is_ok());
}

#[test]
fn tampered_quotes_are_rejected() {
	for name in ["tdx_quote", "sgx_quote"] {
		let (quote, collateral) = sample(name);
		let policy = DcapPolicy { allowed: TcbStatusSet(u16::MAX), ..Default::default() };
		assert!(verify(&quote, &collateral, JUNE_2025, &policy).is_ok());
		// A report_data byte: the quote signature no longer verifies.
		let report_data_end = if name == "tdx_quote" { 48 + 584 } else { 48 + 384 };
		let mut forged = quote.clone();
		forged[report_data_end - 1] ^= 1;
		assert_eq!(
			verify(&forged, &collateral, JUNE_2025, &policy),
			Err(DcapError::VerificationFailed)
		);
		// A byte of the quote's ECDSA signature.
		let mut forged = quote.clone();
		forged[report_data_end + 4 + 10] ^= 1;
		assert_eq!(
			verify(&forged, &collateral, JUNE_2025, &policy),
			Err(DcapError::VerificationFailed)
		);
		assert_eq!(
			verify(&quote[..100], &collateral, JUNE_2025, &policy),
			Err(DcapError::MalformedQuote)
		);
		assert_eq!(verify(&[], &collateral, JUNE_2025, &policy), Err(DcapError::MalformedQuote));
	}
}

#[test]
fn wrong_quote_version_is_rejected() {
	let (mut quote, collateral) = sample("tdx_quote");
	quote[0] = 3; // v3 headers carry SGX only
	assert_eq!(
		verify(&quote, &collateral, JUNE_2025, &DcapPolicy::default()),
		Err(DcapError::MalformedQuote)
	);
}

/// Offset of TD_ATTRIBUTES in a TDX quote: header, TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM,
/// SEAMATTRIBUTES.
const TD_ATTRIBUTES: usize = 48 + 16 + 48 + 48 + 8;
/// Offset of ATTRIBUTES in an SGX quote: header, CPUSVN, MISCSELECT, reserved.
const SGX_ATTRIBUTES: usize = 48 + 16 + 4 + 28;

#[test]
fn debug_and_unsafe_td_attributes_are_rejected() {
	let policy = DcapPolicy::default();
	let (quote, collateral) = sample("tdx_quote");
	let mut debug = quote.clone();
	debug[TD_ATTRIBUTES] |= 0x01;
	assert_eq!(verify(&debug, &collateral, JUNE_2025, &policy), Err(DcapError::DebugMode));
	let mut sept_ve = quote.clone();
	sept_ve[TD_ATTRIBUTES + 3] &= !0x10;
	assert_eq!(
		verify(&sept_ve, &collateral, JUNE_2025, &policy),
		Err(DcapError::SeptVeNotDisabled)
	);
	let mut migratable = quote.clone();
	migratable[TD_ATTRIBUTES + 3] |= 0x20;
	assert_eq!(
		verify(&migratable, &collateral, JUNE_2025, &policy),
		Err(DcapError::DisallowedTdAttributes)
	);

	let (mut sgx, collateral) = sample("sgx_quote");
	sgx[SGX_ATTRIBUTES] |= 0x02;
	assert_eq!(verify(&sgx, &collateral, JUNE_2025, &policy), Err(DcapError::DebugMode));
}

#[test]
fn report_data_must_bind_key_genesis_nonce_and_operator() {
	let mut attestation = check("tdx_quote", JUNE_2025, &DcapPolicy::default()).unwrap();
	let (key, genesis, nonce, operator) = ([1u8; 32], [2u8; 32], [3u8; 32], [5u8; 32]);
	let binding = crate::Binding {
		node_key: &key,
		genesis_hash: &genesis,
		nonce: &nonce,
		operator: &operator,
	};
	assert_eq!(attestation.check_binding(&binding), Err(crate::BindingError::ReportDataMismatch));

	let mut report_data = binding.digest().to_vec();
	report_data.extend_from_slice(&[0; 32]);
	attestation.report_data = report_data.clone();
	assert_eq!(attestation.check_binding(&binding), Ok(()));
	let other_nonce = [4u8; 32];
	let replay = crate::Binding { nonce: &other_nonce, ..binding };
	assert_eq!(attestation.check_binding(&replay), Err(crate::BindingError::ReportDataMismatch));
	let other_operator = [6u8; 32];
	let stolen = crate::Binding { operator: &other_operator, ..binding };
	assert_eq!(attestation.check_binding(&stolen), Err(crate::BindingError::ReportDataMismatch));
	attestation.report_data[63] = 1;
	assert_eq!(attestation.check_binding(&binding), Err(crate::BindingError::ReportDataMismatch));
}

#[test]
fn collateral_round_trips_through_scale() {
	use codec::{Decode, Encode};
	let (_, collateral) = sample("tdx_quote");
	let encoded = collateral.encode();
	assert_eq!(Collateral::decode(&mut &encoded[..]).unwrap(), collateral);
}

#[test]
fn measurement_hashes_are_distinct_per_variant_and_field() {
	let nitro = Measurement::Nitro { pcr0: [0; 48], pcr1: [0; 48], pcr2: [0; 48], pcr8: None };
	let signed =
		Measurement::Nitro { pcr0: [0; 48], pcr1: [0; 48], pcr2: [0; 48], pcr8: Some([0; 48]) };
	let tdx = Measurement::Tdx { mr_td: [0; 48], rtmr: [[0; 48]; 4] };
	let sgx = Measurement::Sgx { mr_enclave: [0; 32], mr_signer: [0; 32], isv_prod_id: 0 };
	let other_product =
		Measurement::Sgx { mr_enclave: [0; 32], mr_signer: [0; 32], isv_prod_id: 1 };
	let hashes = [nitro.hash(), signed.hash(), tdx.hash(), sgx.hash(), other_product.hash()];
	for (i, a) in hashes.iter().enumerate() {
		for b in &hashes[i + 1..] {
			assert_ne!(a, b);
		}
	}
}

#[test]
fn scale_collateral_vector_matches_the_json() {
	use codec::Encode;
	let (_, collateral) = sample("tdx_quote");
	let path = crate::nitro::tests::testdata("dcap/tdx_quote_collateral.scale");
	let path = path.as_str();
	if std::env::var_os("OPG_WRITE_SCALE_COLLATERAL").is_some() {
		std::fs::write(path, collateral.encode()).unwrap();
	}
	assert_eq!(
		std::fs::read(path).unwrap(),
		collateral.encode(),
		"regenerate with OPG_WRITE_SCALE_COLLATERAL=1"
	);
}
