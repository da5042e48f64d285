//! # Development TEE evidence
//!
//! Produces AWS-Nitro-format attestation documents (COSE_Sign1, ES384) for a node key,
//! a chain and a challenge nonce, signed through a development CA chain:
//!
//! ```text
//! OPG development Nitro root  (self-signed, CA)
//!   └─ OPG development Nitro intermediate  (CA, pathLen 0)
//!        └─ leaf, valid three hours like an NSM leaf, one per document
//! ```
//!
//! The CA keys derive from public seeds, so every build yields the same root, whose
//! fingerprint is [`opg_attestation::nitro::DEVELOPMENT_ROOT_SHA256`]. Documents verify
//! only on chains whose genesis trusts that root (the development and local presets):
//! anyone can produce them, so they prove nothing about hardware.

use der::{
	asn1::{BitString, GeneralizedTime, ObjectIdentifier, OctetString, UtcTime},
	Any, Encode,
};
use opg_attestation::{
	cbor::{self, Value},
	nitro::sig_structure,
	Binding, Measurement,
};
use p384::ecdsa::{signature::Signer, Signature, SigningKey};
use sha2::{Digest, Sha384};
use std::{str::FromStr, time::Duration};
use x509_cert::{
	certificate::{TbsCertificate, Version},
	ext::{
		pkix::{BasicConstraints, KeyUsage, KeyUsages},
		Extension,
	},
	name::Name,
	serial_number::SerialNumber,
	spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned},
	time::{Time, Validity},
	Certificate,
};

const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");

/// 2020-01-01T00:00:00Z and 2099-12-31T23:59:59Z: the development CAs' validity.
const CA_NOT_BEFORE: u64 = 1_577_836_800;
const CA_NOT_AFTER: u64 = 4_102_444_799;
/// An NSM leaf certificate lives about three hours.
const LEAF_LIFETIME: u64 = 3 * 3600;

/// Why a document could not be produced.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
	fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
		f.write_str(&self.0)
	}
}

impl std::error::Error for Error {}

impl From<der::Error> for Error {
	fn from(error: der::Error) -> Self {
		Error(format!("DER encoding: {error}"))
	}
}

/// The PCRs of a development enclave: what its documents report and what an allow-list
/// entry for it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pcrs {
	/// PCR0: the enclave image.
	pub pcr0: [u8; 48],
	/// PCR1: the kernel and boot ramfs.
	pub pcr1: [u8; 48],
	/// PCR2: the application.
	pub pcr2: [u8; 48],
	/// The image signer; `None` for an unsigned image (PCR8 reported as zeros).
	pub pcr8: Option<[u8; 48]>,
}

impl Pcrs {
	/// PCRs of the named development image: SHA-384 of `name` with a per-PCR label.
	pub fn development(name: &str) -> Self {
		let pcr = |label: &str| -> [u8; 48] { Sha384::digest(format!("{name}/{label}")).into() };
		Pcrs { pcr0: pcr("image"), pcr1: pcr("kernel"), pcr2: pcr("application"), pcr8: None }
	}

	/// The allow-list entry matching these PCRs.
	pub fn measurement(&self) -> Measurement {
		Measurement::Nitro { pcr0: self.pcr0, pcr1: self.pcr1, pcr2: self.pcr2, pcr8: self.pcr8 }
	}
}

/// Name of the image whose [`Pcrs::development`] the development genesis presets allow.
pub const DEVELOPMENT_IMAGE: &str = "opg-dev-enclave";

/// What a document binds and reports.
#[derive(Clone, Debug)]
pub struct DocumentRequest {
	/// The sr25519 node key, carried in `public_key`.
	pub node_key: [u8; 32],
	/// The chain's genesis hash.
	pub genesis_hash: [u8; 32],
	/// The chain's challenge nonce, carried in `nonce`.
	pub nonce: [u8; 32],
	/// The SCALE encoding of the operator's account the enclave serves (32 bytes for an
	/// `AccountId32`).
	pub operator: Vec<u8>,
	/// The enclave's PCRs.
	pub pcrs: Pcrs,
	/// When the document is produced (seconds since the Unix epoch): the document's
	/// timestamp and the start of its leaf certificate's validity.
	pub now: u64,
}

struct Ca {
	key: SigningKey,
	certificate: Vec<u8>,
	name: Name,
}

fn seeded_key(seed: &[u8]) -> SigningKey {
	let scalar = Sha384::digest([b"opg/dev-evidence/".as_slice(), seed].concat());
	SigningKey::from_slice(&scalar).expect("a SHA-384 output is a valid P-384 scalar; qed")
}

fn time(secs: u64) -> Result<Time, Error> {
	let at = Duration::from_secs(secs);
	// RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
	Ok(if secs < 2_524_608_000 {
		Time::UtcTime(UtcTime::from_unix_duration(at)?)
	} else {
		Time::GeneralTime(GeneralizedTime::from_unix_duration(at)?)
	})
}

fn extension(
	id: ObjectIdentifier,
	critical: bool,
	value: &impl Encode,
) -> Result<Extension, Error> {
	Ok(Extension { extn_id: id, critical, extn_value: OctetString::new(value.to_der()?)? })
}

struct CertificateSpec<'a> {
	serial: u8,
	subject: Name,
	key: &'a SigningKey,
	validity: (u64, u64),
	/// `Some(path length)` for a CA.
	ca: Option<u8>,
}

fn certificate(spec: CertificateSpec, issuer: Option<&Ca>) -> Result<Vec<u8>, Error> {
	let point = spec.key.verifying_key().to_encoded_point(false);
	let usage = match spec.ca {
		Some(_) => KeyUsages::KeyCertSign | KeyUsages::CRLSign,
		None => KeyUsages::DigitalSignature.into(),
	};
	let constraints = BasicConstraints { ca: spec.ca.is_some(), path_len_constraint: spec.ca };
	let signature_algorithm = AlgorithmIdentifierOwned { oid: ECDSA_WITH_SHA384, parameters: None };
	let tbs = TbsCertificate {
		version: Version::V3,
		serial_number: SerialNumber::new(&[spec.serial])?,
		signature: signature_algorithm.clone(),
		issuer: issuer.map_or_else(|| spec.subject.clone(), |ca| ca.name.clone()),
		validity: Validity {
			not_before: time(spec.validity.0)?,
			not_after: time(spec.validity.1)?,
		},
		subject: spec.subject,
		subject_public_key_info: SubjectPublicKeyInfoOwned {
			algorithm: AlgorithmIdentifierOwned {
				oid: ID_EC_PUBLIC_KEY,
				parameters: Some(Any::encode_from(&SECP384R1)?),
			},
			subject_public_key: BitString::from_bytes(point.as_bytes())?,
		},
		issuer_unique_id: None,
		subject_unique_id: None,
		extensions: Some(vec![
			extension(BASIC_CONSTRAINTS, true, &constraints)?,
			extension(KEY_USAGE, true, &KeyUsage(usage))?,
		]),
	};
	let signer = issuer.map_or(spec.key, |ca| &ca.key);
	let signature: Signature = signer.sign(&tbs.to_der()?);
	let certificate = Certificate {
		tbs_certificate: tbs,
		signature_algorithm,
		signature: BitString::from_bytes(signature.to_der().as_bytes())?,
	};
	Ok(certificate.to_der()?)
}

fn name(common_name: &str) -> Result<Name, Error> {
	Name::from_str(&format!("CN={common_name},O=OPG development"))
		.map_err(|e| Error(format!("name {common_name}: {e}")))
}

fn development_cas() -> Result<(Ca, Ca), Error> {
	let validity = (CA_NOT_BEFORE, CA_NOT_AFTER);
	let root_key = seeded_key(b"root");
	let root_name = name("OPG development Nitro root")?;
	let root_spec = CertificateSpec {
		serial: 1,
		subject: root_name.clone(),
		key: &root_key,
		validity,
		ca: Some(1),
	};
	let root = Ca { certificate: certificate(root_spec, None)?, key: root_key, name: root_name };

	let key = seeded_key(b"intermediate");
	let subject = name("OPG development Nitro intermediate")?;
	let spec =
		CertificateSpec { serial: 2, subject: subject.clone(), key: &key, validity, ca: Some(0) };
	let intermediate = Ca { certificate: certificate(spec, Some(&root))?, key, name: subject };
	Ok((root, intermediate))
}

/// DER of the development root certificate.
pub fn development_root() -> Result<Vec<u8>, Error> {
	Ok(development_cas()?.0.certificate)
}

/// A Nitro-format attestation document (COSE_Sign1 bytes) for `request`, binding its node
/// key (`public_key`), [`Binding::digest`] (`user_data`) and nonce (`nonce`).
pub fn nitro_document(request: &DocumentRequest) -> Result<Vec<u8>, Error> {
	let (root, intermediate) = development_cas()?;
	let leaf_key = seeded_key(&[b"leaf".as_slice(), &request.node_key, &request.nonce].concat());
	let leaf_spec = CertificateSpec {
		serial: 3,
		subject: name("OPG development enclave")?,
		key: &leaf_key,
		validity: (request.now.saturating_sub(60), request.now + LEAF_LIFETIME),
		ca: None,
	};
	let leaf = certificate(leaf_spec, Some(&intermediate))?;

	let binding = Binding {
		node_key: &request.node_key,
		genesis_hash: &request.genesis_hash,
		nonce: &request.nonce,
		operator: &request.operator,
	};
	let pcrs = request.pcrs;
	let pcr_entries: Vec<(Value, Value)> = (0u64..16)
		.map(|index| {
			let value = match index {
				0 => pcrs.pcr0,
				1 => pcrs.pcr1,
				2 => pcrs.pcr2,
				8 => pcrs.pcr8.unwrap_or([0; 48]),
				_ => [0; 48],
			};
			(Value::Unsigned(index), Value::Bytes(value.to_vec()))
		})
		.collect();

	let text = |s: &str| Value::Text(s.into());
	let payload = cbor::encode(&Value::Map(vec![
		(text("module_id"), text("opg-dev-enclave")),
		(text("digest"), text("SHA384")),
		(text("timestamp"), Value::Unsigned(request.now * 1000)),
		(text("pcrs"), Value::Map(pcr_entries)),
		(text("certificate"), Value::Bytes(leaf)),
		(
			text("cabundle"),
			Value::Array(vec![
				Value::Bytes(root.certificate),
				Value::Bytes(intermediate.certificate),
			]),
		),
		(text("public_key"), Value::Bytes(request.node_key.to_vec())),
		(text("user_data"), Value::Bytes(binding.digest().to_vec())),
		(text("nonce"), Value::Bytes(request.nonce.to_vec())),
	]));
	// Protected header {1: -35}: alg ES384.
	let protected = cbor::encode(&Value::Map(vec![(Value::Unsigned(1), Value::Negative(34))]));
	let signature: Signature = leaf_key.sign(&sig_structure(&protected, &payload));
	Ok(cbor::encode(&Value::Tag(
		18,
		Box::new(Value::Array(vec![
			Value::Bytes(protected),
			Value::Map(Vec::new()),
			Value::Bytes(payload),
			Value::Bytes(signature.to_bytes().to_vec()),
		])),
	)))
}

#[cfg(test)]
mod tests;
