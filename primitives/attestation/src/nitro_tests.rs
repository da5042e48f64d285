use super::*;
use crate::cbor::{self, Value};
use base64::Engine;

const NITRITE_TIME: u64 = 1_725_719_859; // 2024-09-07 14:37:39 UTC
const NITRITE_DEBUG_TIME: u64 = 1_725_719_886;
const EVERVAULT_TIME: u64 = 1_665_582_606; // 2022-10-12 13:50:06 UTC

/// The test data folder of this crate, looked up when the test runs: a test binary that
/// cargo reuses from a clone at another path still reads this clone's files.
pub(crate) fn testdata(path: &str) -> String {
	format!("{}/testdata/{path}", std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test"))
}

fn vector(name: &str) -> Vec<u8> {
	let raw = std::fs::read(testdata(&format!("nitro/{name}"))).unwrap();
	if name.ends_with(".b64") {
		let text: String = String::from_utf8(raw).unwrap().split_whitespace().collect();
		base64::engine::general_purpose::STANDARD.decode(text).unwrap()
	} else {
		raw
	}
}

fn aws_root() -> &'static [u8; 32] {
	&AWS_NITRO_ROOT_G1_SHA256
}

#[test]
fn pinned_fingerprint_is_the_aws_root_pem() {
	let pem = std::fs::read_to_string(testdata("nitro/aws_nitro_root_g1.pem")).unwrap();
	let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
	let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
	assert_eq!(Sha256::digest(&der).as_slice(), &AWS_NITRO_ROOT_G1_SHA256);
}

#[test]
fn real_document_verifies_inside_its_window() {
	let doc = verify(&vector("nitrite_nitro_attestation.b64"), aws_root(), NITRITE_TIME).unwrap();
	assert!(doc.module_id.starts_with("i-0a22e5c5f24d22174-enc"));
	assert_eq!(doc.timestamp_ms, 1_725_719_859_545);
	assert_eq!(&doc.pcrs[&0][..4], &[0xe7, 0x2a, 0x46, 0xca]);
	assert_eq!(doc.pcrs.len(), 16);
	assert_eq!(doc.public_key.as_ref().map(Vec::len), Some(1024));
	assert_eq!(doc.user_data.as_ref().map(Vec::len), Some(1024));
	assert_eq!(doc.nonce.as_ref().map(Vec::len), Some(1024));
	// An hour later the leaf is still valid.
	assert!(
		verify(&vector("nitrite_nitro_attestation.b64"), aws_root(), NITRITE_TIME + 3600).is_ok()
	);
}

/// The document says until when it can be relied on: its chain's first expiry (the
/// leaf's, hours after the document), past which verification itself fails.
#[test]
fn a_document_is_valid_until_its_first_certificate_expires() {
	let bytes = vector("nitrite_nitro_attestation.b64");
	let doc = verify(&bytes, aws_root(), NITRITE_TIME).unwrap();
	let until = doc.valid_until;
	assert!(until > NITRITE_TIME && until < NITRITE_TIME + 86_400, "{until}");
	assert_eq!(doc.attestation().unwrap().valid_until, until);
	assert!(verify(&bytes, aws_root(), until).is_ok());
	assert_eq!(verify(&bytes, aws_root(), until + 1), Err(NitroError::CertificateExpired));
}

#[test]
fn real_document_is_rejected_outside_its_window() {
	let doc = vector("nitrite_nitro_attestation.b64");
	assert_eq!(
		verify(&doc, aws_root(), NITRITE_TIME + 86_400),
		Err(NitroError::CertificateExpired)
	);
	assert_eq!(
		verify(&doc, aws_root(), NITRITE_TIME - 86_400),
		Err(NitroError::CertificateNotYetValid)
	);
	// Before the root itself was issued (2019-10-28).
	assert_eq!(verify(&doc, aws_root(), 1_500_000_000), Err(NitroError::CertificateNotYetValid));
}

#[test]
fn debug_mode_documents_are_rejected() {
	assert_eq!(
		verify(&vector("nitrite_nitro_attestation_debug.b64"), aws_root(), NITRITE_DEBUG_TIME),
		Err(NitroError::DebugMode)
	);
	assert_eq!(
		verify(&vector("evervault_debug_mode_doc.bin"), aws_root(), EVERVAULT_TIME),
		Err(NitroError::DebugMode)
	);
}

#[test]
fn self_signed_document_is_rejected() {
	let result = verify(&vector("nitrite_selfsigned_attestation.b64"), aws_root(), NITRITE_TIME);
	assert_eq!(result, Err(NitroError::BadUnprotectedHeader));
	// With a well-formed header it still fails: its cabundle is null, no chain to a root.
	let mut cose = cose_parts(&vector("nitrite_selfsigned_attestation.b64"));
	cose[1] = Value::Map(vec![]);
	assert_eq!(
		verify(&encode(&Value::Array(cose)), aws_root(), NITRITE_TIME),
		Err(NitroError::WrongFieldType(Field::Cabundle))
	);
}

#[test]
fn wrong_root_is_rejected() {
	let mut other = AWS_NITRO_ROOT_G1_SHA256;
	other[0] ^= 1;
	assert_eq!(
		verify(&vector("nitrite_nitro_attestation.b64"), &other, NITRITE_TIME),
		Err(NitroError::UntrustedRoot)
	);
}

#[test]
fn flipped_signature_byte_is_rejected() {
	let mut cose = cose_parts(&vector("nitrite_nitro_attestation.b64"));
	let Value::Bytes(signature) = &mut cose[3] else { panic!() };
	signature[10] ^= 0x01;
	assert_eq!(
		verify(&encode(&Value::Array(cose)), aws_root(), NITRITE_TIME),
		Err(NitroError::BadDocumentSignature)
	);
}

#[test]
fn tampered_payload_breaks_the_signature() {
	let doc = with_payload(|fields| set(fields, "module_id", Value::Text("i-forged".into())));
	assert_eq!(verify(&doc, aws_root(), NITRITE_TIME), Err(NitroError::BadDocumentSignature));
}

#[test]
fn tampered_intermediate_certificate_is_rejected() {
	let doc = with_payload(|fields| {
		let Some(Value::Array(bundle)) = get_mut(fields, "cabundle") else { panic!() };
		let Value::Bytes(cert) = &mut bundle[1] else { panic!() };
		let last = cert.len() - 5;
		cert[last] ^= 0x01; // inside the signature value
	});
	assert_eq!(verify(&doc, aws_root(), NITRITE_TIME), Err(NitroError::BadCertificateSignature));
}

#[test]
fn cose_structure_checks() {
	let original = cose_parts(&vector("nitrite_nitro_attestation.b64"));

	let mut bad_alg = original.clone();
	bad_alg[0] = Value::Bytes(encode(&Value::Map(vec![(Value::Unsigned(1), Value::Negative(6))])));
	assert_eq!(check(bad_alg), Err(NitroError::BadProtectedHeader));

	let mut short_signature = original.clone();
	short_signature[3] = Value::Bytes(vec![0; 64]);
	assert_eq!(check(short_signature), Err(NitroError::BadSignatureLength));

	let mut huge_payload = original.clone();
	huge_payload[2] = Value::Bytes(vec![0; MAX_PAYLOAD + 1]);
	assert_eq!(check(huge_payload), Err(NitroError::PayloadTooLarge));

	assert_eq!(check(original[..3].to_vec()), Err(NitroError::NotCoseSign1));
	assert_eq!(verify(&[0xff, 0x00], aws_root(), NITRITE_TIME), Err(NitroError::MalformedCbor));
	let tagged = Value::Tag(18, Box::new(Value::Array(original.clone())));
	assert!(verify(&encode(&tagged), aws_root(), NITRITE_TIME).is_ok());
	let wrong_tag = Value::Tag(98, Box::new(Value::Array(original)));
	assert_eq!(
		verify(&encode(&wrong_tag), aws_root(), NITRITE_TIME),
		Err(NitroError::NotCoseSign1)
	);
}

#[test]
fn field_rules() {
	type Mutation = fn(&mut Vec<(Value, Value)>);
	let cases: [(Mutation, NitroError); 16] = [
		(|f| set(f, "module_id", Value::Text(String::new())), NitroError::EmptyModuleId),
		(|f| set(f, "digest", Value::Text("SHA256".into())), NitroError::UnsupportedDigest),
		(|f| set(f, "timestamp", Value::Unsigned(0)), NitroError::ZeroTimestamp),
		(
			|f| set(f, "timestamp", Value::Text("now".into())),
			NitroError::WrongFieldType(Field::Timestamp),
		),
		(
			|f| pcrs(f).push((Value::Unsigned(40), Value::Bytes(vec![0; 48]))),
			NitroError::BadPcrIndex,
		),
		(|f| pcrs(f)[3].1 = Value::Bytes(vec![0; 20]), NitroError::BadPcrLength),
		(|f| pcrs(f).clear(), NitroError::BadPcrCount),
		(
			|f| {
				let p = pcrs(f);
				p.clear();
				p.extend((0..33).map(|i| (Value::Unsigned(i % 32), Value::Bytes(vec![1; 48]))));
			},
			NitroError::BadPcrCount,
		),
		(
			|f| set(f, "nonce", Value::Bytes(vec![1; MAX_BINDING_FIELD + 1])),
			NitroError::BadNonceSize,
		),
		(
			|f| set(f, "user_data", Value::Bytes(vec![1; MAX_BINDING_FIELD + 1])),
			NitroError::BadUserDataSize,
		),
		(|f| set(f, "public_key", Value::Bytes(vec![])), NitroError::BadPublicKeySize),
		(|f| set(f, "cabundle", Value::Array(vec![])), NitroError::EmptyCabundle),
		(
			|f| set(f, "certificate", Value::Bytes(vec![0; MAX_CERTIFICATE + 1])),
			NitroError::BadCertificateSize,
		),
		(
			|f| f.retain(|(k, _)| k != &Value::Text("digest".into())),
			NitroError::MissingField(Field::Digest),
		),
		(
			|f| f.push((Value::Text("digest".into()), Value::Text("SHA384".into()))),
			NitroError::DuplicateField,
		),
		(|f| f.push((Value::Text("debug".into()), Value::Bool(true))), NitroError::UnknownField),
	];
	for (index, (mutate, expected)) in cases.into_iter().enumerate() {
		let doc = with_payload(mutate);
		assert_eq!(verify(&doc, aws_root(), NITRITE_TIME), Err(expected), "case {index}");
	}
}

#[test]
fn null_binding_fields_are_absent() {
	let cose = cose_parts(&vector("nitrite_nitro_attestation.b64"));
	let Value::Bytes(payload) = &cose[2] else { panic!() };
	let Value::Map(mut fields) = cbor::decode(payload).unwrap() else { panic!() };
	set(&mut fields, "nonce", Value::Null);
	let parsed = parse_payload(&encode(&Value::Map(fields))).unwrap();
	assert_eq!(parsed.document.nonce, None);
}

#[test]
fn indefinite_length_encodings_are_accepted() {
	let cose = cose_parts(&vector("nitrite_nitro_attestation.b64"));
	let Value::Bytes(payload) = &cose[2] else { panic!() };
	let definite = parse_payload(payload).unwrap();
	// The payload map has 9 entries: header 0xa9. Re-frame it as an indefinite-length map.
	assert_eq!(payload[0], 0xa9);
	let mut indefinite = vec![0xbf];
	indefinite.extend_from_slice(&payload[1..]);
	indefinite.push(0xff);
	let parsed = parse_payload(&indefinite).unwrap();
	assert_eq!(parsed.document, definite.document);
	assert_eq!(parsed.cabundle, definite.cabundle);
}

#[test]
fn measurement_covers_pcr_0_1_2_and_a_non_zero_pcr8() {
	let doc = verify(&vector("nitrite_nitro_attestation.b64"), aws_root(), NITRITE_TIME).unwrap();
	let attestation = doc.attestation().unwrap();
	assert_eq!(attestation.tee, crate::TeeType::Nitro);
	let crate::Measurement::Nitro { pcr0, pcr8, .. } = &attestation.measurement else { panic!() };
	assert_eq!(pcr0.as_slice(), doc.pcrs[&0].as_slice());
	// The nitrite image is unsigned: PCR8 is zero, so not part of the measurement.
	assert_eq!(*pcr8, None);
	assert_eq!(attestation.measurement_without_signer, None);

	let mut signed = doc.clone();
	signed.pcrs.insert(8, vec![7; 48]);
	let signed = signed.attestation().unwrap();
	assert_ne!(signed.measurement.hash(), attestation.measurement.hash());
	assert_eq!(signed.measurement_without_signer.unwrap().hash(), attestation.measurement.hash());

	let mut unrelated = doc.clone();
	unrelated.pcrs.get_mut(&4).unwrap()[0] ^= 1;
	assert_eq!(unrelated.attestation().unwrap().measurement, attestation.measurement);
	let mut changed = doc.clone();
	changed.pcrs.get_mut(&2).unwrap()[0] ^= 1;
	assert_ne!(changed.attestation().unwrap().measurement, attestation.measurement);

	let mut short = doc.clone();
	short.pcrs.insert(1, vec![1; 32]);
	assert_eq!(short.attestation(), Err(NitroError::MeasurementNotSha384));
	let mut missing = doc;
	missing.pcrs.remove(&2);
	assert_eq!(missing.attestation(), Err(NitroError::MissingMeasuredPcr));
}

fn encode(value: &Value) -> Vec<u8> {
	cbor::encode(value)
}

fn cose_parts(document: &[u8]) -> Vec<Value> {
	match cbor::decode(document).unwrap() {
		Value::Array(items) => items,
		Value::Tag(_, inner) => match *inner {
			Value::Array(items) => items,
			_ => panic!(),
		},
		_ => panic!(),
	}
}

fn check(parts: Vec<Value>) -> Result<NitroDocument, NitroError> {
	verify(&encode(&Value::Array(parts)), aws_root(), NITRITE_TIME)
}

/// The nitrite document with its payload map changed by `mutate`, signature untouched.
fn with_payload(mutate: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
	let mut cose = cose_parts(&vector("nitrite_nitro_attestation.b64"));
	let Value::Bytes(payload) = &cose[2] else { panic!() };
	let Value::Map(mut fields) = cbor::decode(payload).unwrap() else { panic!() };
	mutate(&mut fields);
	cose[2] = Value::Bytes(encode(&Value::Map(fields)));
	encode(&Value::Array(cose))
}

fn get_mut<'a>(fields: &'a mut [(Value, Value)], key: &str) -> Option<&'a mut Value> {
	fields.iter_mut().find(|(k, _)| k == &Value::Text(key.into())).map(|(_, v)| v)
}

fn set(fields: &mut [(Value, Value)], key: &str, value: Value) {
	*get_mut(fields, key).unwrap() = value;
}

fn pcrs(fields: &mut [(Value, Value)]) -> &mut Vec<(Value, Value)> {
	match get_mut(fields, "pcrs") {
		Some(Value::Map(entries)) => entries,
		_ => panic!(),
	}
}

#[test]
fn binding_requires_key_digest_and_nonce() {
	use crate::BindingError;
	let (key, genesis, nonce) = ([1u8; 32], [2u8; 32], [3u8; 32]);
	let operator = [5u8; 32];
	let binding = crate::Binding {
		node_key: &key,
		genesis_hash: &genesis,
		nonce: &nonce,
		operator: &operator,
	};
	let mut doc =
		verify_attestation(&vector("nitrite_nitro_attestation.b64"), aws_root(), NITRITE_TIME)
			.unwrap();
	// The real document binds 1024 bytes of 0x01 everywhere: none of ours.
	assert_eq!(doc.check_binding(&binding), Err(BindingError::PublicKeyMismatch));

	doc.public_key = Some(key.to_vec());
	doc.report_data = binding.digest().to_vec();
	doc.nonce = Some(nonce.to_vec());
	assert_eq!(doc.check_binding(&binding), Ok(()));

	let other_chain = [9u8; 32];
	let replayed = crate::Binding { genesis_hash: &other_chain, ..binding };
	assert_eq!(doc.check_binding(&replayed), Err(BindingError::ReportDataMismatch));
	let other_nonce = [4u8; 32];
	let stale = crate::Binding { nonce: &other_nonce, ..binding };
	assert_eq!(doc.check_binding(&stale), Err(BindingError::ReportDataMismatch));
	let other_operator = [6u8; 32];
	let stolen = crate::Binding { operator: &other_operator, ..binding };
	assert_eq!(doc.check_binding(&stolen), Err(BindingError::ReportDataMismatch));
	doc.report_data = stale.digest().to_vec();
	assert_eq!(doc.check_binding(&stale), Err(BindingError::NonceMismatch));
	doc.nonce = None;
	assert_eq!(doc.check_binding(&binding), Err(BindingError::ReportDataMismatch));
}

#[test]
fn binding_digest_is_domain_separated_and_ordered() {
	let (a, b) = ([1u8; 32], [2u8; 32]);
	let one = crate::Binding { node_key: &a, genesis_hash: &b, nonce: &a, operator: &b }.digest();
	let swapped =
		crate::Binding { node_key: &b, genesis_hash: &a, nonce: &a, operator: &b }.digest();
	assert_ne!(one, swapped);
	let mut plain = Sha256::new();
	plain.update(a);
	plain.update(b);
	plain.update(a);
	plain.update(b);
	assert_ne!(one.as_slice(), plain.finalize().as_slice());
}
