//! Intel DCAP quotes: SGX (quote v3) and TDX (quote v4/v5).
//!
//! `dcap-qvl`'s pure-Rust verifier (no `ring`, so it runs in the wasm runtime) checks the
//! quote against its collateral at an injected time: the PCK certificate chain to the
//! pinned Intel SGX Root CA, the root and PCK CRLs, the QE report and quote signatures, the
//! signed QE identity and TCB info and their validity windows, and the TCB level match.
//!
//! On top of that this module applies OPG's policy, each failure with its own
//! [`DcapError`]:
//!
//! 1. quote shape: SGX only as v3, TDX only as v4/v5;
//! 2. attributes: SGX `DEBUG` clear; TDX `DEBUG` clear, `SEPT_VE_DISABLE` set, no service TD;
//! 3. TCB status: `Revoked` never; `OutOfDate*` only while the TCB level's date plus the
//!    governance grace period has not passed; every other status but `UpToDate` only when
//!    [`DcapPolicy::allowed`] lists it;
//! 4. `tcbEvaluationDataNumber` at least [`DcapPolicy::min_tcb_evaluation_data_number`], so
//!    that old collateral cannot be replayed to downgrade the verdict.
//!
//! Quotes carry no time: freshness comes from the chain's nonce bound in `report_data`.

use crate::{Attestation, Measurement, TcbStatus, TeeType};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dcap_qvl::{
	configs::RustCryptoConfig,
	policy::{Policy, QuoteClaims},
	quote::{Quote, Report, TDAttributes},
	verify::QuoteVerifier,
};
use scale_info::TypeInfo;

pub use dcap_qvl::QuoteCollateralV3 as Collateral;

/// The Intel SGX Root CA (DER), the trust anchor of every DCAP quote.
pub const INTEL_SGX_ROOT_CA: &[u8] = include_bytes!("roots/intel_sgx_root_ca.der");

/// SHA-256 fingerprint of [`INTEL_SGX_ROOT_CA`].
pub const INTEL_SGX_ROOT_CA_SHA256: [u8; 32] = [
	0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
	0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3,
];

/// A set of [`TcbStatus`] values, one bit each.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct TcbStatusSet(pub u16);

impl TcbStatusSet {
	/// The set holding `statuses`.
	pub fn of(statuses: &[TcbStatus]) -> Self {
		Self(statuses.iter().fold(0, |bits, status| bits | Self::bit(*status)))
	}

	/// Whether `status` is in the set.
	pub fn contains(&self, status: TcbStatus) -> bool {
		self.0 & Self::bit(status) != 0
	}

	fn bit(status: TcbStatus) -> u16 {
		1 << (status as u8)
	}
}

/// Governance's acceptance rules for DCAP quotes.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct DcapPolicy {
	/// Statuses accepted besides `UpToDate` (`Revoked` and `OutOfDate*` here have no effect).
	pub allowed: TcbStatusSet,
	/// Seconds after an out-of-date TCB level's date during which it is still accepted.
	pub out_of_date_grace_secs: u64,
	/// The lowest `tcbEvaluationDataNumber` accepted.
	pub min_tcb_evaluation_data_number: u32,
}

impl Default for DcapPolicy {
	/// `UpToDate` only, no grace, any evaluation data number.
	fn default() -> Self {
		Self {
			allowed: TcbStatusSet::default(),
			out_of_date_grace_secs: 0,
			min_tcb_evaluation_data_number: 0,
		}
	}
}

/// Why a quote was rejected.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DcapError {
	/// The bytes are not a DCAP quote.
	MalformedQuote,
	/// An SGX quote that is not v3, or a TDX quote that is not v4/v5.
	UnsupportedQuoteVersion,
	/// The enclave or TD runs in debug mode.
	DebugMode,
	/// A TDX TD without `SEPT_VE_DISABLE`.
	SeptVeNotDisabled,
	/// A TDX TD bound to a service TD, migratable, or with reserved attributes.
	DisallowedTdAttributes,
	/// Signatures, certificates, CRLs or collateral do not verify at the given time.
	VerificationFailed,
	/// The platform's TCB is below every level the TCB info lists: too old to appraise.
	TcbLevelNotFound,
	/// The platform's TCB is revoked.
	TcbRevoked,
	/// The TCB status is not allowed by the policy.
	TcbStatusNotAllowed(TcbStatus),
	/// An out-of-date TCB past the grace period.
	OutOfDateBeyondGrace,
	/// The collateral's `tcbEvaluationDataNumber` is below the policy's minimum.
	TcbEvaluationDataNumberTooLow,
}

/// Verifies `quote` with `collateral` at `now` (seconds since the Unix epoch) to the pinned
/// Intel root, under `policy`.
pub fn verify(
	quote: &[u8],
	collateral: &Collateral,
	now: u64,
	policy: &DcapPolicy,
) -> Result<Attestation, DcapError> {
	let parsed = Quote::decode(&mut &quote[..]).map_err(|_| DcapError::MalformedQuote)?;
	let (tee, security_version, measurement, report_data) = inspect(&parsed)?;

	let claims = QuoteVerifier::new(INTEL_SGX_ROOT_CA.to_vec())
		.with_config::<RustCryptoConfig>()
		.verify_with_policy(quote, collateral.clone(), now, &ClaimsOnly)
		.map_err(|error| {
			// dcap-qvl reports errors as text; this one is a verdict, not a forgery.
			if alloc::format!("{error}").contains("No matching TCB level") {
				DcapError::TcbLevelNotFound
			} else {
				DcapError::VerificationFailed
			}
		})?;
	let tcb_status = judge(
		intel_status(claims.tcb.status),
		claims.platform.tcb_date_tag,
		claims.tcb.eval_data_number,
		now,
		policy,
	)?;

	Ok(Attestation {
		tee,
		measurement,
		measurement_without_signer: None,
		security_version,
		report_data: report_data.to_vec(),
		public_key: None,
		nonce: None,
		timestamp_ms: None,
		tcb_status: Some(tcb_status),
		tcb_level: Some(TcbLevel {
			date: claims.platform.tcb_date_tag,
			evaluation_data_number: claims.tcb.eval_data_number,
		}),
		// dcap-qvl refuses a quote from its earliest expiry on: the second before is the
		// last it verifies.
		valid_until: claims.earliest_expiration_date.saturating_sub(1),
	})
}

/// Appraisal is ours ([`apply_policy`]); `dcap-qvl` only verifies and reports claims.
struct ClaimsOnly;

impl Policy for ClaimsOnly {
	fn validate(&self, _: &QuoteClaims) -> anyhow::Result<()> {
		Ok(())
	}
}

fn inspect(quote: &Quote) -> Result<(TeeType, u16, Measurement, [u8; 64]), DcapError> {
	let version = quote.header.version;
	match &quote.report {
		Report::SgxEnclave(report) => {
			if version != 3 {
				return Err(DcapError::UnsupportedQuoteVersion);
			}
			if report.attributes[0] & 0x02 != 0 {
				return Err(DcapError::DebugMode);
			}
			let measurement = Measurement::Sgx {
				mr_enclave: report.mr_enclave,
				mr_signer: report.mr_signer,
				isv_prod_id: report.isv_prod_id,
			};
			Ok((TeeType::Sgx, report.isv_svn, measurement, report.report_data))
		},
		Report::TD10(_) | Report::TD15(_) | Report::TD15Ex(_) => {
			if !(4..=5).contains(&version) {
				return Err(DcapError::UnsupportedQuoteVersion);
			}
			let base = quote.report.as_td10().ok_or(DcapError::MalformedQuote)?;
			let service_td = match &quote.report {
				Report::TD15(report) => report.mr_service_td,
				Report::TD15Ex(report) => report.base.mr_service_td,
				_ => [0; 48],
			};
			let attributes =
				TDAttributes::parse(base.td_attributes).map_err(|_| DcapError::MalformedQuote)?;
			if attributes.tud != 0 {
				return Err(DcapError::DebugMode);
			}
			if !attributes.sec.sept_ve_disable {
				return Err(DcapError::SeptVeNotDisabled);
			}
			if attributes.sec.migratable
				|| attributes.sec.servtd_ext
				|| attributes.reserved != 0
				|| service_td != [0; 48]
			{
				return Err(DcapError::DisallowedTdAttributes);
			}
			let measurement = Measurement::Tdx {
				mr_td: base.mr_td,
				rtmr: [base.rt_mr0, base.rt_mr1, base.rt_mr2, base.rt_mr3],
			};
			Ok((TeeType::Tdx, 0, measurement, base.report_data))
		},
	}
}

fn intel_status(status: dcap_qvl::TcbStatus) -> TcbStatus {
	use dcap_qvl::TcbStatus as Intel;
	match status {
		Intel::UpToDate => TcbStatus::UpToDate,
		Intel::SWHardeningNeeded => TcbStatus::SwHardeningNeeded,
		Intel::ConfigurationNeeded => TcbStatus::ConfigurationNeeded,
		Intel::ConfigurationAndSWHardeningNeeded => TcbStatus::ConfigurationAndSwHardeningNeeded,
		Intel::OutOfDate => TcbStatus::OutOfDate,
		Intel::OutOfDateConfigurationNeeded => TcbStatus::OutOfDateConfigurationNeeded,
		Intel::TDRelaunchAdvised => TcbStatus::TdRelaunchAdvised,
		Intel::TDRelaunchAdvisedConfigurationNeeded => {
			TcbStatus::TdRelaunchAdvisedConfigurationNeeded
		},
		Intel::Revoked => TcbStatus::Revoked,
	}
}

/// The TCB level a quote's platform matched, beside its status: what [`judge`] needs to
/// apply a policy again later (a governance change applies to existing attestations at
/// their next use).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct TcbLevel {
	/// The date of the platform's TCB level (unix seconds).
	pub date: u64,
	/// The collateral's `tcbEvaluationDataNumber`.
	pub evaluation_data_number: u32,
}

impl TcbLevel {
	/// [`judge`] of `status` at this level.
	pub fn judge(
		&self,
		status: TcbStatus,
		now: u64,
		policy: &DcapPolicy,
	) -> Result<TcbStatus, DcapError> {
		judge(status, self.date, self.evaluation_data_number, now, policy)
	}
}

/// Applies `policy` to a verified platform: its converged TCB `status`, the date of its
/// TCB level (`tcb_date`, seconds) and the collateral's `tcbEvaluationDataNumber`.
pub fn judge(
	status: TcbStatus,
	tcb_date: u64,
	evaluation_data_number: u32,
	now: u64,
	policy: &DcapPolicy,
) -> Result<TcbStatus, DcapError> {
	match status {
		TcbStatus::UpToDate => {},
		TcbStatus::Revoked => return Err(DcapError::TcbRevoked),
		TcbStatus::OutOfDate | TcbStatus::OutOfDateConfigurationNeeded => {
			let deadline = tcb_date.saturating_add(policy.out_of_date_grace_secs);
			if policy.out_of_date_grace_secs == 0 || deadline < now {
				return Err(DcapError::OutOfDateBeyondGrace);
			}
		},
		other if policy.allowed.contains(other) => {},
		other => return Err(DcapError::TcbStatusNotAllowed(other)),
	}
	if evaluation_data_number < policy.min_tcb_evaluation_data_number {
		return Err(DcapError::TcbEvaluationDataNumberTooLow);
	}
	Ok(status)
}

#[cfg(test)]
#[path = "dcap_tests.rs"]
mod tests;
