//! AWS Nitro Enclaves attestation documents.
//!
//! A document is a COSE_Sign1 (RFC 9052) signed with ES384 by a leaf certificate that
//! chains, through the document's `cabundle`, to the AWS Nitro Enclaves Root-G1. The checks
//! follow AWS's attestation-process document:
//!
//! 1. COSE_Sign1 structure (tag 18 optional), protected header `{1: -35}` (ES384), payload at
//!    most [`MAX_PAYLOAD`] bytes, a 96-byte `r‖s` signature;
//! 2. every payload field: types, sizes, no duplicate or unknown keys, definite or
//!    indefinite-length encodings alike;
//! 3. `cabundle[0]` is the pinned root (by SHA-256 fingerprint);
//! 4. each certificate of root → cabundle → leaf is signed by its parent (ECDSA P-384
//!    SHA-384), names its parent as issuer, is valid at `now` (the root too), and CAs carry
//!    basicConstraints `cA` within their path length and keyUsage `keyCertSign`; the leaf
//!    carries `digitalSignature`;
//! 5. the COSE signature over `Sig_structure` verifies with the leaf key;
//! 6. a debug-mode enclave (PCR0, PCR1 and PCR2 all zero) is rejected.
//!
//! Allow-lists, nonces and key binding are the caller's policy, on the normalized
//! [`Attestation`] ([`verify_attestation`]).
//!
//! Sizes: AWS's CDDL allows `user_data` and `nonce` up to 1024 bytes, and real NSM output
//! uses that much (see the `nitrite` test vector); this verifier follows the CDDL.

use crate::{
	cbor::{self, Value},
	Attestation, Measurement, TeeType,
};
use alloc::{collections::BTreeMap, string::String, vec::Vec};
use der::{asn1::ObjectIdentifier, Decode as _, Encode as _};
use p384::ecdsa::{signature::Verifier, Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use x509_cert::{
	ext::pkix::{BasicConstraints, KeyUsage},
	Certificate,
};

/// SHA-256 fingerprint of the DER of AWS Nitro Enclaves Root-G1.
pub const AWS_NITRO_ROOT_G1_SHA256: [u8; 32] = [
	0x64, 0x1a, 0x03, 0x21, 0xa3, 0xe2, 0x44, 0xef, 0xe4, 0x56, 0x46, 0x31, 0x95, 0xd6, 0x06, 0x31,
	0x7e, 0xd7, 0xcd, 0xcc, 0x3c, 0x17, 0x56, 0xe0, 0x98, 0x93, 0xf3, 0xc6, 0x8f, 0x79, 0xbb, 0x5b,
];

/// SHA-256 fingerprint of the DER of the OPG development Nitro root, the root of
/// `opg-dev-evidence`'s documents. Anyone can sign with it: only development and local
/// chains may trust it.
pub const DEVELOPMENT_ROOT_SHA256: [u8; 32] = [
	0xdd, 0x02, 0x9e, 0xc8, 0x0f, 0x1d, 0xfc, 0x6d, 0xe2, 0x80, 0x60, 0x36, 0x14, 0x67, 0x60, 0x8f,
	0xfc, 0xbc, 0xc0, 0x73, 0x83, 0xe9, 0x1d, 0xf0, 0x68, 0x96, 0xdc, 0x8c, 0xf6, 0xa4, 0x99, 0xcf,
];

/// Largest accepted COSE payload.
pub const MAX_PAYLOAD: usize = 16 * 1024;
/// Largest accepted `public_key`, `user_data` and `nonce`.
pub const MAX_BINDING_FIELD: usize = 1024;
/// Largest accepted certificate in `certificate` or `cabundle`.
pub const MAX_CERTIFICATE: usize = 1024;

const COSE_SIGN1_TAG: u64 = 18;
/// COSE algorithm ES384 is -35, encoded as CBOR negative integer 34.
const COSE_ALG_ES384: Value = Value::Negative(34);
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");

/// A payload field of the attestation document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
	/// `module_id`: the enclave's id.
	ModuleId,
	/// `digest`: the PCR hash algorithm.
	Digest,
	/// `timestamp`: milliseconds since the epoch.
	Timestamp,
	/// `pcrs`: the platform configuration registers.
	Pcrs,
	/// `certificate`: the signing certificate.
	Certificate,
	/// `cabundle`: the chain to the root.
	Cabundle,
	/// `public_key`: an optional key of the enclave.
	PublicKey,
	/// `user_data`: the enclave's data (OPG: the binding).
	UserData,
	/// `nonce`: the challenge.
	Nonce,
}

impl Field {
	fn from_key(key: &str) -> Option<Self> {
		Some(match key {
			"module_id" => Self::ModuleId,
			"digest" => Self::Digest,
			"timestamp" => Self::Timestamp,
			"pcrs" => Self::Pcrs,
			"certificate" => Self::Certificate,
			"cabundle" => Self::Cabundle,
			"public_key" => Self::PublicKey,
			"user_data" => Self::UserData,
			"nonce" => Self::Nonce,
			_ => return None,
		})
	}
}

/// ECDSA P-384 with SHA-384, the only signature algorithm of Nitro documents. Pluggable so
/// that the runtime can verify natively through a host function; [`PureRust`] everywhere
/// else.
pub trait P384Verifier {
	/// Whether `signature` (`r‖s`) over `message` verifies with `public_key` (SEC1).
	fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8; 96]) -> bool;
}

/// [`P384Verifier`] by the `p384` crate.
pub struct PureRust;

impl P384Verifier for PureRust {
	fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8; 96]) -> bool {
		let (Ok(key), Ok(signature)) =
			(VerifyingKey::from_sec1_bytes(public_key), Signature::from_slice(signature))
		else {
			return false;
		};
		key.verify(message, &signature).is_ok()
	}
}

/// Why a document was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NitroError {
	/// The bytes are not well-formed CBOR.
	MalformedCbor,
	/// Not a four-element COSE_Sign1 array (with or without tag 18).
	NotCoseSign1,
	/// The protected header is not exactly `{1: -35}` (ES384).
	BadProtectedHeader,
	/// The unprotected header is not a map.
	BadUnprotectedHeader,
	/// The payload exceeds [`MAX_PAYLOAD`].
	PayloadTooLarge,
	/// The COSE signature is not 96 bytes.
	BadSignatureLength,
	/// The payload is not a map with text keys.
	PayloadNotMap,
	/// A payload key appears twice.
	DuplicateField,
	/// The payload has a key the format does not define.
	UnknownField,
	/// A required field is absent.
	MissingField(Field),
	/// A field has the wrong CBOR type.
	WrongFieldType(Field),
	/// `module_id` is empty.
	EmptyModuleId,
	/// `digest` is not `SHA384`.
	UnsupportedDigest,
	/// `timestamp` is zero.
	ZeroTimestamp,
	/// `pcrs` has no entry or more than 32.
	BadPcrCount,
	/// A PCR index is 32 or more, or repeated.
	BadPcrIndex,
	/// A PCR value is not 32, 48 or 64 bytes.
	BadPcrLength,
	/// `cabundle` is empty.
	EmptyCabundle,
	/// A certificate is empty or larger than [`MAX_CERTIFICATE`].
	BadCertificateSize,
	/// `public_key` is empty or larger than [`MAX_BINDING_FIELD`].
	BadPublicKeySize,
	/// `user_data` is larger than [`MAX_BINDING_FIELD`].
	BadUserDataSize,
	/// `nonce` is larger than [`MAX_BINDING_FIELD`].
	BadNonceSize,
	/// A certificate is not valid DER X.509.
	MalformedCertificate,
	/// `cabundle[0]` is not the pinned root.
	UntrustedRoot,
	/// A certificate's validity starts after `now`.
	CertificateNotYetValid,
	/// A certificate's validity ended before `now`.
	CertificateExpired,
	/// A certificate does not name its parent as issuer.
	IssuerMismatch,
	/// A certificate is not signed with ECDSA P-384 SHA-384 by a P-384 key.
	UnsupportedAlgorithm,
	/// A certificate's signature does not verify with its parent's key.
	BadCertificateSignature,
	/// An issuing certificate is not a CA (basicConstraints).
	NotCa,
	/// A CA issues deeper than its pathLenConstraint allows.
	PathLengthExceeded,
	/// A certificate lacks the keyUsage its role needs.
	BadKeyUsage,
	/// The COSE signature does not verify with the leaf key.
	BadDocumentSignature,
	/// PCR0, PCR1 and PCR2 are all zero: a debug-mode enclave.
	DebugMode,
	/// PCR0, PCR1 or PCR2 is absent.
	MissingMeasuredPcr,
	/// A measured PCR (0, 1, 2 or 8) is not 48 bytes although the digest is SHA-384.
	MeasurementNotSha384,
}

/// A verified attestation document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NitroDocument {
	/// The enclave's module id.
	pub module_id: String,
	/// When the NSM produced the document, in milliseconds since the Unix epoch.
	pub timestamp_ms: u64,
	/// PCR values by index.
	pub pcrs: BTreeMap<u8, Vec<u8>>,
	/// The key the enclave bound into the document.
	pub public_key: Option<Vec<u8>>,
	/// Application data the enclave bound into the document.
	pub user_data: Option<Vec<u8>>,
	/// The challenge nonce the enclave bound into the document.
	pub nonce: Option<Vec<u8>>,
	/// When the first certificate of the chain that signed it expires (unix seconds; the
	/// leaf's, a few hours after the document on AWS): the document proves nothing after
	/// this. Zero until [`verify`] has checked the chain.
	pub valid_until: u64,
}

impl NitroDocument {
	/// The normalized attestation: measurement PCR0, PCR1, PCR2 and, for a signed image
	/// (PCR8 present and non-zero), PCR8. Fails when a measured PCR is not SHA-384 sized.
	pub fn attestation(&self) -> Result<Attestation, NitroError> {
		let pcr = |index: u8| -> Result<Option<[u8; 48]>, NitroError> {
			match self.pcrs.get(&index) {
				None => Ok(None),
				Some(value) => value
					.as_slice()
					.try_into()
					.map(Some)
					.map_err(|_| NitroError::MeasurementNotSha384),
			}
		};
		let required = |index: u8| pcr(index)?.ok_or(NitroError::MissingMeasuredPcr);
		let (pcr0, pcr1, pcr2) = (required(0)?, required(1)?, required(2)?);
		let signer = pcr(8)?.filter(|value| value.iter().any(|b| *b != 0));
		let measurement = Measurement::Nitro { pcr0, pcr1, pcr2, pcr8: signer };
		let measurement_without_signer =
			signer.map(|_| Measurement::Nitro { pcr0, pcr1, pcr2, pcr8: None });
		Ok(Attestation {
			tee: TeeType::Nitro,
			measurement,
			measurement_without_signer,
			security_version: 0,
			report_data: self.user_data.clone().unwrap_or_default(),
			public_key: self.public_key.clone(),
			nonce: self.nonce.clone(),
			timestamp_ms: Some(self.timestamp_ms),
			tcb_status: None,
			tcb_level: None,
			valid_until: self.valid_until,
		})
	}
}

/// [`verify`], then [`NitroDocument::attestation`].
pub fn verify_attestation(
	document: &[u8],
	root_fingerprint: &[u8; 32],
	now: u64,
) -> Result<Attestation, NitroError> {
	verify_attestation_with(document, root_fingerprint, now, &PureRust)
}

/// [`verify_with`], then [`NitroDocument::attestation`].
pub fn verify_attestation_with(
	document: &[u8],
	root_fingerprint: &[u8; 32],
	now: u64,
	verifier: &impl P384Verifier,
) -> Result<Attestation, NitroError> {
	verify_with(document, root_fingerprint, now, verifier)?.attestation()
}

/// Verifies `document` (raw COSE_Sign1 bytes) against the root whose DER has SHA-256
/// `root_fingerprint`, with every certificate checked at `now` (seconds since the Unix
/// epoch), and signatures checked by [`PureRust`].
pub fn verify(
	document: &[u8],
	root_fingerprint: &[u8; 32],
	now: u64,
) -> Result<NitroDocument, NitroError> {
	verify_with(document, root_fingerprint, now, &PureRust)
}

/// [`verify`] with signatures checked by `verifier`.
pub fn verify_with(
	document: &[u8],
	root_fingerprint: &[u8; 32],
	now: u64,
	verifier: &impl P384Verifier,
) -> Result<NitroDocument, NitroError> {
	let cose = parse_cose_sign1(document)?;
	let fields = parse_payload(&cose.payload)?;

	let root = fields.cabundle.first().ok_or(NitroError::EmptyCabundle)?;
	if Sha256::digest(root).as_slice() != root_fingerprint {
		return Err(NitroError::UntrustedRoot);
	}
	let (leaf_key, valid_until) =
		verify_chain(&fields.cabundle, &fields.certificate, now, verifier)?;

	let signature: [u8; 96] = cose
		.signature
		.as_slice()
		.try_into()
		.map_err(|_| NitroError::BadDocumentSignature)?;
	if !verifier.verify(&leaf_key, &sig_structure(&cose.protected, &cose.payload), &signature) {
		return Err(NitroError::BadDocumentSignature);
	}

	let mut document = fields.document;
	document.valid_until = valid_until;
	let is_zero = |index: u8| document.pcrs.get(&index).is_some_and(|v| v.iter().all(|b| *b == 0));
	if is_zero(0) && is_zero(1) && is_zero(2) {
		return Err(NitroError::DebugMode);
	}
	Ok(document)
}

struct CoseSign1 {
	protected: Vec<u8>,
	payload: Vec<u8>,
	signature: Vec<u8>,
}

fn parse_cose_sign1(bytes: &[u8]) -> Result<CoseSign1, NitroError> {
	let value = cbor::decode(bytes).map_err(|_| NitroError::MalformedCbor)?;
	let value = match value {
		Value::Tag(COSE_SIGN1_TAG, inner) => *inner,
		Value::Tag(..) => return Err(NitroError::NotCoseSign1),
		other => other,
	};
	let Value::Array(items) = value else { return Err(NitroError::NotCoseSign1) };
	let [protected, unprotected, payload, signature]: [Value; 4] =
		items.try_into().map_err(|_| NitroError::NotCoseSign1)?;
	let (Value::Bytes(protected), Value::Bytes(payload), Value::Bytes(signature)) =
		(protected, payload, signature)
	else {
		return Err(NitroError::NotCoseSign1);
	};

	match cbor::decode(&protected).map_err(|_| NitroError::BadProtectedHeader)? {
		Value::Map(entries)
			if entries.len() == 1
				&& entries[0].0 == Value::Unsigned(1)
				&& entries[0].1 == COSE_ALG_ES384 => {},
		_ => return Err(NitroError::BadProtectedHeader),
	}
	if !matches!(unprotected, Value::Map(_)) {
		return Err(NitroError::BadUnprotectedHeader);
	}
	if payload.len() > MAX_PAYLOAD {
		return Err(NitroError::PayloadTooLarge);
	}
	if signature.len() != 96 {
		return Err(NitroError::BadSignatureLength);
	}
	Ok(CoseSign1 { protected, payload, signature })
}

struct PayloadFields {
	document: NitroDocument,
	certificate: Vec<u8>,
	cabundle: Vec<Vec<u8>>,
}

fn parse_payload(payload: &[u8]) -> Result<PayloadFields, NitroError> {
	let value = cbor::decode(payload).map_err(|_| NitroError::MalformedCbor)?;
	let Value::Map(entries) = value else { return Err(NitroError::PayloadNotMap) };

	let mut seen = BTreeMap::new();
	for (key, value) in entries {
		let Value::Text(key) = key else { return Err(NitroError::PayloadNotMap) };
		let field = Field::from_key(&key).ok_or(NitroError::UnknownField)?;
		if seen.insert(field as u8, (field, value)).is_some() {
			return Err(NitroError::DuplicateField);
		}
	}
	let mut take = |field: Field| seen.remove(&(field as u8)).map(|(_, value)| value);

	let module_id = match take(Field::ModuleId).ok_or(NitroError::MissingField(Field::ModuleId))? {
		Value::Text(text) if text.is_empty() => return Err(NitroError::EmptyModuleId),
		Value::Text(text) => text,
		_ => return Err(NitroError::WrongFieldType(Field::ModuleId)),
	};
	match take(Field::Digest).ok_or(NitroError::MissingField(Field::Digest))? {
		Value::Text(text) if text == "SHA384" => {},
		Value::Text(_) => return Err(NitroError::UnsupportedDigest),
		_ => return Err(NitroError::WrongFieldType(Field::Digest)),
	}
	let timestamp_ms =
		match take(Field::Timestamp).ok_or(NitroError::MissingField(Field::Timestamp))? {
			Value::Unsigned(value) => value,
			_ => return Err(NitroError::WrongFieldType(Field::Timestamp)),
		};
	if timestamp_ms == 0 {
		return Err(NitroError::ZeroTimestamp);
	}
	let pcrs = parse_pcrs(take(Field::Pcrs).ok_or(NitroError::MissingField(Field::Pcrs))?)?;

	let certificate = bytes(Field::Certificate, take(Field::Certificate))?
		.ok_or(NitroError::MissingField(Field::Certificate))?;
	check_certificate_size(&certificate)?;
	let cabundle = match take(Field::Cabundle).ok_or(NitroError::MissingField(Field::Cabundle))? {
		Value::Array(items) => items
			.into_iter()
			.map(|item| match item {
				Value::Bytes(cert) => check_certificate_size(&cert).map(|_| cert),
				_ => Err(NitroError::WrongFieldType(Field::Cabundle)),
			})
			.collect::<Result<Vec<_>, _>>()?,
		_ => return Err(NitroError::WrongFieldType(Field::Cabundle)),
	};
	if cabundle.is_empty() {
		return Err(NitroError::EmptyCabundle);
	}

	let public_key = optional_bytes(Field::PublicKey, take(Field::PublicKey))?;
	if public_key.as_ref().is_some_and(|k| k.is_empty() || k.len() > MAX_BINDING_FIELD) {
		return Err(NitroError::BadPublicKeySize);
	}
	let user_data = optional_bytes(Field::UserData, take(Field::UserData))?;
	if user_data.as_ref().is_some_and(|d| d.len() > MAX_BINDING_FIELD) {
		return Err(NitroError::BadUserDataSize);
	}
	let nonce = optional_bytes(Field::Nonce, take(Field::Nonce))?;
	if nonce.as_ref().is_some_and(|n| n.len() > MAX_BINDING_FIELD) {
		return Err(NitroError::BadNonceSize);
	}

	Ok(PayloadFields {
		document: NitroDocument {
			module_id,
			timestamp_ms,
			pcrs,
			public_key,
			user_data,
			nonce,
			valid_until: 0,
		},
		certificate,
		cabundle,
	})
}

fn bytes(field: Field, value: Option<Value>) -> Result<Option<Vec<u8>>, NitroError> {
	match value {
		None => Ok(None),
		Some(Value::Bytes(bytes)) => Ok(Some(bytes)),
		Some(_) => Err(NitroError::WrongFieldType(field)),
	}
}

/// `public_key`, `user_data` and `nonce` may be absent or CBOR null.
fn optional_bytes(field: Field, value: Option<Value>) -> Result<Option<Vec<u8>>, NitroError> {
	match value {
		Some(Value::Null) => Ok(None),
		other => bytes(field, other),
	}
}

fn check_certificate_size(cert: &[u8]) -> Result<(), NitroError> {
	if cert.is_empty() || cert.len() > MAX_CERTIFICATE {
		return Err(NitroError::BadCertificateSize);
	}
	Ok(())
}

fn parse_pcrs(value: Value) -> Result<BTreeMap<u8, Vec<u8>>, NitroError> {
	let Value::Map(entries) = value else { return Err(NitroError::WrongFieldType(Field::Pcrs)) };
	if entries.is_empty() || entries.len() > 32 {
		return Err(NitroError::BadPcrCount);
	}
	let mut pcrs = BTreeMap::new();
	for (index, value) in entries {
		let Value::Unsigned(index) = index else {
			return Err(NitroError::WrongFieldType(Field::Pcrs));
		};
		let index = u8::try_from(index).ok().filter(|i| *i < 32).ok_or(NitroError::BadPcrIndex)?;
		let Value::Bytes(value) = value else {
			return Err(NitroError::WrongFieldType(Field::Pcrs));
		};
		if ![32, 48, 64].contains(&value.len()) {
			return Err(NitroError::BadPcrLength);
		}
		if pcrs.insert(index, value).is_some() {
			return Err(NitroError::BadPcrIndex);
		}
	}
	Ok(pcrs)
}

/// Verifies root → cabundle → leaf; returns the leaf's public key (SEC1) and the earliest
/// expiry of the chain's certificates (unix seconds).
fn verify_chain(
	cabundle: &[Vec<u8>],
	leaf: &[u8],
	now: u64,
	verifier: &impl P384Verifier,
) -> Result<(Vec<u8>, u64), NitroError> {
	let chain = cabundle
		.iter()
		.map(Vec::as_slice)
		.chain(core::iter::once(leaf))
		.map(|der| Certificate::from_der(der).map_err(|_| NitroError::MalformedCertificate))
		.collect::<Result<Vec<_>, _>>()?;

	for cert in &chain {
		check_validity(cert, now)?;
	}
	let ca_count = chain.len() - 1;
	for (position, pair) in chain.windows(2).enumerate() {
		let (issuer, subject) = (&pair[0], &pair[1]);
		// `position` CAs sit above `issuer`; `ca_count - 1 - position` CAs sit below it.
		check_ca(issuer, ca_count - 1 - position)?;
		if subject.tbs_certificate.issuer != issuer.tbs_certificate.subject {
			return Err(NitroError::IssuerMismatch);
		}
		verify_signature(subject, &p384_key(issuer)?, verifier)?;
	}
	// The root is self-signed: its own signature proves it is intact.
	verify_signature(&chain[0], &p384_key(&chain[0])?, verifier)?;

	let leaf = chain.last().expect("chain holds the leaf; qed");
	let usage = extension::<KeyUsage>(leaf, KEY_USAGE)?.ok_or(NitroError::BadKeyUsage)?;
	if !usage.digital_signature() {
		return Err(NitroError::BadKeyUsage);
	}
	let valid_until = chain
		.iter()
		.map(|cert| cert.tbs_certificate.validity.not_after.to_unix_duration().as_secs())
		.min()
		.unwrap_or_default();
	Ok((p384_key(leaf)?, valid_until))
}

fn check_validity(cert: &Certificate, now: u64) -> Result<(), NitroError> {
	let validity = &cert.tbs_certificate.validity;
	if now < validity.not_before.to_unix_duration().as_secs() {
		return Err(NitroError::CertificateNotYetValid);
	}
	if now > validity.not_after.to_unix_duration().as_secs() {
		return Err(NitroError::CertificateExpired);
	}
	Ok(())
}

/// `cert` must be a CA allowed to have `cas_below` CAs under it, and sign certificates.
fn check_ca(cert: &Certificate, cas_below: usize) -> Result<(), NitroError> {
	let constraints =
		extension::<BasicConstraints>(cert, BASIC_CONSTRAINTS)?.ok_or(NitroError::NotCa)?;
	if !constraints.ca {
		return Err(NitroError::NotCa);
	}
	if constraints.path_len_constraint.is_some_and(|limit| cas_below > limit as usize) {
		return Err(NitroError::PathLengthExceeded);
	}
	let usage = extension::<KeyUsage>(cert, KEY_USAGE)?.ok_or(NitroError::BadKeyUsage)?;
	if !usage.key_cert_sign() {
		return Err(NitroError::BadKeyUsage);
	}
	Ok(())
}

fn extension<'a, T: der::Decode<'a>>(
	cert: &'a Certificate,
	oid: ObjectIdentifier,
) -> Result<Option<T>, NitroError> {
	let Some(extensions) = &cert.tbs_certificate.extensions else { return Ok(None) };
	let mut matching = extensions.iter().filter(|e| e.extn_id == oid);
	let found = matching.next();
	if matching.next().is_some() {
		return Err(NitroError::MalformedCertificate);
	}
	found
		.map(|e| T::from_der(e.extn_value.as_bytes()).map_err(|_| NitroError::MalformedCertificate))
		.transpose()
}

/// The certificate's P-384 public key (SEC1), checked to be a point of the curve.
fn p384_key(cert: &Certificate) -> Result<Vec<u8>, NitroError> {
	let spki = &cert.tbs_certificate.subject_public_key_info;
	if spki.algorithm.oid != ID_EC_PUBLIC_KEY
		|| spki
			.algorithm
			.parameters
			.as_ref()
			.and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
			!= Some(SECP384R1)
	{
		return Err(NitroError::UnsupportedAlgorithm);
	}
	let point = spki.subject_public_key.as_bytes().ok_or(NitroError::MalformedCertificate)?;
	VerifyingKey::from_sec1_bytes(point).map_err(|_| NitroError::UnsupportedAlgorithm)?;
	Ok(point.to_vec())
}

fn verify_signature(
	cert: &Certificate,
	issuer_key: &[u8],
	verifier: &impl P384Verifier,
) -> Result<(), NitroError> {
	if cert.signature_algorithm.oid != ECDSA_WITH_SHA384
		|| cert.tbs_certificate.signature.oid != ECDSA_WITH_SHA384
	{
		return Err(NitroError::UnsupportedAlgorithm);
	}
	let tbs = cert.tbs_certificate.to_der().map_err(|_| NitroError::MalformedCertificate)?;
	let signature = cert.signature.as_bytes().ok_or(NitroError::MalformedCertificate)?;
	let signature =
		Signature::from_der(signature).map_err(|_| NitroError::BadCertificateSignature)?;
	let signature = <[u8; 96]>::try_from(signature.to_bytes().as_slice())
		.map_err(|_| NitroError::BadCertificateSignature)?;
	if !verifier.verify(issuer_key, &tbs, &signature) {
		return Err(NitroError::BadCertificateSignature);
	}
	Ok(())
}

/// CBOR of COSE's `Sig_structure` = ["Signature1", protected, h'', payload].
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
	cbor::encode(&Value::Array(alloc::vec![
		Value::Text("Signature1".into()),
		Value::Bytes(protected.to_vec()),
		Value::Bytes(Vec::new()),
		Value::Bytes(payload.to_vec()),
	]))
}

#[cfg(test)]
#[path = "nitro_tests.rs"]
pub(crate) mod tests;
