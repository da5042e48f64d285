//! TEE attestation: verifying Nitro documents and DCAP quotes against the pinned roots at
//! chain time, matching the measurement against the governance allow-list, and whether a
//! node's attestation may be relied on now.

use super::*;
use codec::Decode;
use frame_support::{ensure, pallet_prelude::DispatchError, traits::UnixTime};
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// The node's attestation if it may be relied on now: the node is active (or exiting,
	/// for what it was assigned before), not revoked; the attestation has not expired, nor
	/// has the evidence's first certificate or collateral (chain time); its measurement is
	/// still allowed; and a DCAP platform's TCB still passes the DCAP policy in force (a
	/// governance change applies at once, to existing attestations too).
	pub fn tee_attestation(node: &NodeKey) -> Option<AttestationRecord<BlockNumberFor<T>>> {
		let record = Attestations::<T>::get(node)?;
		let now = frame_system::Pallet::<T>::block_number();
		let secs = T::UnixTime::now().as_secs();
		let tcb_allowed = match (record.tcb_status, record.tcb_level) {
			(None, _) => true,
			(Some(status), Some(level)) => {
				level.judge(status, secs, &DcapPolicy::<T>::get()).is_ok()
			},
			(Some(_), None) => false,
		};
		let usable = now <= record.expires_at
			&& secs <= record.valid_until
			&& tcb_allowed
			&& Nodes::<T>::get(node).is_some_and(|n| n.status != NodeStatus::Revoked)
			&& AllowedMeasurements::<T>::contains_key(record.tee, record.measurement);
		usable.then_some(record)
	}

	pub(crate) fn verify_evidence(evidence: &Evidence) -> Result<Attestation, DispatchError> {
		let now = T::UnixTime::now().as_secs();
		match evidence {
			Evidence::Nitro { document } => {
				// P-384 natively, through the node's host function.
				let verify = |root| {
					nitro::verify_attestation_with(document, root, now, &opg_host_crypto::HostP384)
				};
				let result = match verify(&nitro::AWS_NITRO_ROOT_G1_SHA256) {
					Err(nitro::NitroError::UntrustedRoot) if TrustDevelopmentRoot::<T>::get() => {
						verify(&nitro::DEVELOPMENT_ROOT_SHA256)
					},
					other => other,
				};
				result.map_err(|error| {
					log::debug!(target: "runtime::node-registry", "Nitro evidence rejected: {error:?}");
					Error::<T>::from(error).into()
				})
			},
			Evidence::Dcap { quote, collateral } => {
				let collateral = dcap::Collateral::decode(&mut &collateral[..])
					.map_err(|_| Error::<T>::MalformedEvidence)?;
				dcap::verify(quote, &collateral, now, &DcapPolicy::<T>::get()).map_err(|error| {
					log::debug!(target: "runtime::node-registry", "DCAP evidence rejected: {error:?}");
					Error::<T>::from(error).into()
				})
			},
		}
	}

	/// The allow-listed measurement the attestation matches: the full measurement, or
	/// for a signed Nitro image, its measurement without the signer.
	pub(crate) fn allowed_measurement(
		attestation: &Attestation,
	) -> Result<MeasurementHash, DispatchError> {
		let candidates = core::iter::once(&attestation.measurement)
			.chain(&attestation.measurement_without_signer);
		for measurement in candidates {
			let hash = measurement.hash();
			if let Some(entry) = AllowedMeasurements::<T>::get(attestation.tee, hash) {
				ensure!(
					attestation.security_version >= entry.min_security_version,
					Error::<T>::SecurityVersionTooLow
				);
				return Ok(hash);
			}
		}
		Err(Error::<T>::MeasurementNotAllowed.into())
	}
}

impl<T> From<nitro::NitroError> for Error<T> {
	fn from(error: nitro::NitroError) -> Self {
		use nitro::NitroError::*;
		match error {
			UntrustedRoot => Error::UntrustedRoot,
			CertificateExpired | CertificateNotYetValid => Error::NotValidAtChainTime,
			IssuerMismatch | NotCa | PathLengthExceeded | BadKeyUsage | UnsupportedAlgorithm => {
				Error::InvalidCertificateChain
			},
			BadCertificateSignature | BadDocumentSignature => Error::InvalidEvidenceSignature,
			DebugMode => Error::DebugEnclave,
			_ => Error::MalformedEvidence,
		}
	}
}

impl<T> From<dcap::DcapError> for Error<T> {
	fn from(error: dcap::DcapError) -> Self {
		use dcap::DcapError::*;
		match error {
			MalformedQuote | UnsupportedQuoteVersion => Error::MalformedEvidence,
			DebugMode => Error::DebugEnclave,
			SeptVeNotDisabled | DisallowedTdAttributes => Error::DisallowedTdAttributes,
			VerificationFailed => Error::DcapVerificationFailed,
			TcbRevoked | TcbStatusNotAllowed(_) | OutOfDateBeyondGrace | TcbLevelNotFound => {
				Error::TcbStatusNotAllowed
			},
			TcbEvaluationDataNumberTooLow => Error::TcbEvaluationDataNumberTooLow,
		}
	}
}
