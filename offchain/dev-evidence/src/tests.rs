use super::*;
use opg_attestation::nitro::{self, NitroError, AWS_NITRO_ROOT_G1_SHA256, DEVELOPMENT_ROOT_SHA256};

/// 2026-11-22T00:00:00Z.
const NOW: u64 = 1_795_305_600;

fn request() -> DocumentRequest {
	DocumentRequest {
		node_key: [7; 32],
		genesis_hash: [8; 32],
		nonce: [9; 32],
		operator: vec![6; 32],
		pcrs: Pcrs::development(DEVELOPMENT_IMAGE),
		now: NOW,
	}
}

#[test]
fn development_root_is_the_pinned_one() {
	let root = development_root().unwrap();
	assert_eq!(<[u8; 32]>::from(sha2::Sha256::digest(&root)), DEVELOPMENT_ROOT_SHA256);
	assert_eq!(development_root().unwrap(), root, "the root is deterministic");
}

#[test]
fn documents_verify_to_the_development_root_and_bind_the_request() {
	let request = request();
	let document = nitro_document(&request).unwrap();
	let attestation = nitro::verify_attestation(&document, &DEVELOPMENT_ROOT_SHA256, NOW).unwrap();
	assert_eq!(attestation.measurement, request.pcrs.measurement());
	assert_eq!(attestation.timestamp_ms, Some(NOW * 1000));
	let binding = Binding {
		node_key: &request.node_key,
		genesis_hash: &request.genesis_hash,
		nonce: &request.nonce,
		operator: &request.operator,
	};
	assert_eq!(attestation.check_binding(&binding), Ok(()));
	let other_chain = [1; 32];
	let elsewhere = Binding { genesis_hash: &other_chain, ..binding };
	assert!(attestation.check_binding(&elsewhere).is_err());
	let other_operator = [2; 32];
	let stolen = Binding { operator: &other_operator, ..binding };
	assert!(attestation.check_binding(&stolen).is_err());
}

#[test]
fn documents_are_rejected_by_the_aws_root() {
	let document = nitro_document(&request()).unwrap();
	assert_eq!(
		nitro::verify_attestation(&document, &AWS_NITRO_ROOT_G1_SHA256, NOW),
		Err(NitroError::UntrustedRoot)
	);
}

#[test]
fn leaf_lives_three_hours() {
	let document = nitro_document(&request()).unwrap();
	let at = |now| nitro::verify_attestation(&document, &DEVELOPMENT_ROOT_SHA256, now).map(|_| ());
	assert_eq!(at(NOW + LEAF_LIFETIME), Ok(()));
	assert_eq!(at(NOW + LEAF_LIFETIME + 1), Err(NitroError::CertificateExpired));
	assert_eq!(at(NOW - 61), Err(NitroError::CertificateNotYetValid));
}

#[test]
fn signed_images_report_pcr8() {
	let mut request = request();
	request.pcrs.pcr8 = Some([5; 48]);
	let document = nitro_document(&request).unwrap();
	let attestation = nitro::verify_attestation(&document, &DEVELOPMENT_ROOT_SHA256, NOW).unwrap();
	assert_eq!(attestation.measurement, request.pcrs.measurement());
	request.pcrs.pcr8 = None;
	assert_eq!(attestation.measurement_without_signer, Some(request.pcrs.measurement()));
}
