use super::*;

#[test]
fn a_development_document_attests_a_node_and_consumes_the_nonce() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		let nonce = challenge(1, ALICE);
		assert_eq!(
			last_event(),
			Event::ChallengeIssued {
				node: key(1),
				nonce,
				expires_at: 1 + ChallengeLifetime::get()
			}
		);
		let evidence = dev_document(1, nonce);
		assert_ok!(Registry::submit_attestation(
			RuntimeOrigin::signed(ALICE),
			key(1),
			evidence.clone()
		));
		let measurement = Pcrs::development(DEVELOPMENT_IMAGE).measurement().hash();
		let expires_at = 1 + AttestationValidity::get();
		assert_eq!(
			last_event(),
			Event::NodeAttested { node: key(1), tee: TeeType::Nitro, measurement, expires_at }
		);
		let record = Registry::tee_attestation(&key(1)).unwrap();
		assert_eq!(
			(record.tee, record.measurement, record.expires_at),
			(TeeType::Nitro, measurement, expires_at)
		);

		// Replay: the nonce is gone.
		assert_noop!(
			Registry::submit_attestation(RuntimeOrigin::signed(ALICE), key(1), evidence),
			Error::<Test>::NoChallenge
		);
		// A new challenge gets a new nonce, and the old document does not answer it.
		let next = challenge(1, ALICE);
		assert_ne!(next, nonce);
		assert_noop!(
			Registry::submit_attestation(
				RuntimeOrigin::signed(ALICE),
				key(1),
				dev_document(1, nonce)
			),
			Error::<Test>::BindingMismatch
		);
	});
}

#[test]
fn evidence_must_bind_node_key_chain_nonce_and_operator() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_ok!(register(2, ALICE, 5_000));
		let pcrs = Pcrs::development(DEVELOPMENT_IMAGE);
		let mismatches: [Box<dyn Fn([u8; 32]) -> Evidence>; 4] = [
			Box::new(|nonce| dev_document(2, nonce)),
			Box::new(|nonce| document(1, [0x22; 32], nonce, NOW, pcrs)),
			Box::new(|_| dev_document(1, [0x33; 32])),
			// An enclave started for another operator cannot attest ALICE's node.
			Box::new(|nonce| operator_document(1, BOB, GENESIS_HASH, nonce, NOW, pcrs)),
		];
		for evidence in mismatches {
			let nonce = challenge(1, ALICE);
			assert_noop!(
				Registry::submit_attestation(RuntimeOrigin::signed(ALICE), key(1), evidence(nonce)),
				Error::<Test>::BindingMismatch
			);
		}
	});
}

#[test]
fn challenges_expire() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_noop!(
			Registry::submit_attestation(
				RuntimeOrigin::signed(ALICE),
				key(1),
				dev_document(1, [0; 32])
			),
			Error::<Test>::NoChallenge
		);
		let nonce = challenge(1, ALICE);
		run_to(2 + ChallengeLifetime::get());
		assert_noop!(
			Registry::submit_attestation(
				RuntimeOrigin::signed(ALICE),
				key(1),
				dev_document(1, nonce)
			),
			Error::<Test>::ChallengeExpired
		);
	});
}

#[test]
fn production_genesis_rejects_development_evidence() {
	// The default genesis (what production chain specs start from) trusts only AWS's root,
	// and no call can change that.
	let production = ExtBuilder { trust_development_root: false, ..Default::default() };
	production.build_and_execute(|| {
		assert!(!TrustDevelopmentRoot::<Test>::get());
		assert_ok!(register(1, ALICE, 5_000));
		assert_rejected(1, |nonce| dev_document(1, nonce), Error::<Test>::UntrustedRoot);
	});
	let genesis = crate::GenesisConfig::<Test>::default();
	assert!(!genesis.trust_development_root);
}

#[test]
fn stale_expired_and_tampered_documents_are_rejected() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		let pcrs = Pcrs::development(DEVELOPMENT_IMAGE);
		// Produced an hour ago: its leaf is still valid, but the document is stale.
		assert_rejected(
			1,
			|nonce| document(1, GENESIS_HASH, nonce, NOW - 3600, pcrs),
			Error::<Test>::StaleEvidence,
		);
		// Produced four hours ago: its leaf certificate has expired.
		assert_rejected(
			1,
			|nonce| document(1, GENESIS_HASH, nonce, NOW - 4 * 3600, pcrs),
			Error::<Test>::NotValidAtChainTime,
		);
		// Produced in an hour: not yet valid.
		assert_rejected(
			1,
			|nonce| document(1, GENESIS_HASH, nonce, NOW + 3600, pcrs),
			Error::<Test>::NotValidAtChainTime,
		);
		// The last byte of the COSE signature flipped.
		assert_rejected(
			1,
			|nonce| {
				let Evidence::Nitro { mut document } = dev_document(1, nonce) else {
					unreachable!()
				};
				*document.last_mut().unwrap() ^= 1;
				Evidence::Nitro { document }
			},
			Error::<Test>::InvalidEvidenceSignature,
		);
		assert_rejected(
			1,
			|_| Evidence::Nitro { document: BoundedVec::truncate_from(vec![0xa0]) },
			Error::<Test>::MalformedEvidence,
		);
	});
}

#[test]
fn only_allowed_measurements_attest() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		let other = Pcrs::development("another-image");
		assert_rejected(
			1,
			|nonce| document(1, GENESIS_HASH, nonce, NOW, other),
			Error::<Test>::MeasurementNotAllowed,
		);
		assert_noop!(
			Registry::allow_measurement(RuntimeOrigin::signed(ALICE), other.measurement(), 0),
			DispatchError::BadOrigin
		);
		assert_ok!(Registry::allow_measurement(RuntimeOrigin::root(), other.measurement(), 0));
		assert_eq!(
			last_event(),
			Event::MeasurementAllowed {
				tee: TeeType::Nitro,
				measurement: other.measurement().hash(),
				min_security_version: 0
			}
		);
		assert_noop!(
			Registry::allow_measurement(RuntimeOrigin::root(), other.measurement(), 0),
			Error::<Test>::MeasurementAlreadyAllowed
		);
		assert_ok!(attest(1, ALICE, |nonce| document(1, GENESIS_HASH, nonce, NOW, other)));

		// A signed image matches an entry that pins its signer, or one that does not.
		let mut signed = other;
		signed.pcr8 = Some([5; 48]);
		assert_ok!(attest(1, ALICE, |nonce| document(1, GENESIS_HASH, nonce, NOW, signed)));
		assert_eq!(
			Registry::tee_attestation(&key(1)).unwrap().measurement,
			other.measurement().hash()
		);
		let mut other_signer = other;
		other_signer.pcr8 = Some([6; 48]);
		assert_ok!(Registry::allow_measurement(
			RuntimeOrigin::root(),
			other_signer.measurement(),
			0
		));
		assert_ok!(Registry::revoke_measurement(
			RuntimeOrigin::root(),
			TeeType::Nitro,
			other.measurement().hash()
		));
		assert_rejected(
			1,
			|nonce| document(1, GENESIS_HASH, nonce, NOW, signed),
			Error::<Test>::MeasurementNotAllowed,
		);
		assert_ok!(attest(1, ALICE, |nonce| document(1, GENESIS_HASH, nonce, NOW, other_signer)));
	});
}

#[test]
fn revocation_and_expiry_take_effect_at_once() {
	ExtBuilder::default().build_and_execute(|| {
		let development = Pcrs::development(DEVELOPMENT_IMAGE).measurement().hash();
		assert_ok!(register(1, ALICE, 5_000));
		assert_ok!(register(2, ALICE, 5_000));
		assert_ok!(attest(1, ALICE, |nonce| dev_document(1, nonce)));
		assert_ok!(attest(2, ALICE, |nonce| dev_document(2, nonce)));

		// Expiry.
		run_to(1 + AttestationValidity::get());
		assert!(Registry::tee_attestation(&key(1)).is_some());
		run_to(2 + AttestationValidity::get());
		assert!(Registry::tee_attestation(&key(1)).is_none());
		// Renewal.
		assert_ok!(attest(1, ALICE, |nonce| dev_document(1, nonce)));
		assert!(Registry::tee_attestation(&key(1)).is_some());

		// Revoking a node.
		assert_noop!(
			Registry::revoke_node(RuntimeOrigin::signed(ALICE), key(1)),
			DispatchError::BadOrigin
		);
		assert_ok!(Registry::revoke_node(RuntimeOrigin::root(), key(1)));
		assert_eq!(last_event(), Event::NodeRevoked { node: key(1) });
		assert!(Registry::tee_attestation(&key(1)).is_none());
		assert!(!Registry::is_live(&key(1), Roles::INFERENCE));
		assert_noop!(
			Registry::request_challenge(RuntimeOrigin::signed(ALICE), key(1)),
			Error::<Test>::NodeNotActive
		);
		assert_noop!(
			Registry::revoke_node(RuntimeOrigin::root(), key(1)),
			Error::<Test>::NodeNotActive
		);

		// Revoking a measurement voids node 2's attestation, renewed or not.
		run_to(3);
		assert_ok!(attest(2, ALICE, |nonce| dev_document(2, nonce)));
		assert!(Registry::tee_attestation(&key(2)).is_some());
		assert_ok!(Registry::revoke_measurement(
			RuntimeOrigin::root(),
			TeeType::Nitro,
			development
		));
		assert_eq!(
			last_event(),
			Event::MeasurementRevoked { tee: TeeType::Nitro, measurement: development }
		);
		assert!(Registry::tee_attestation(&key(2)).is_none());
		assert_noop!(
			Registry::revoke_measurement(RuntimeOrigin::root(), TeeType::Nitro, development),
			Error::<Test>::MeasurementNotFound
		);
		assert_rejected(2, |nonce| dev_document(2, nonce), Error::<Test>::MeasurementNotAllowed);
	});
}

/// Regression: an attestation counted for `AttestationValidity` blocks however soon its
/// leaf certificate expired (an NSM leaf lives about three hours). It now ends with the
/// first certificate of its evidence, on chain time.
#[test]
fn an_attestation_never_outlives_its_leaf_certificate() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_ok!(attest(1, ALICE, |nonce| dev_document(1, nonce)));
		let record = Attestations::<Test>::get(key(1)).unwrap();
		// The development leaf is valid three hours from the document, as an NSM leaf.
		assert_eq!(record.valid_until, NOW + 3 * 3600);
		assert!(record.expires_at > 1);
		polkadot_sdk::pallet_timestamp::Now::<Test>::put(record.valid_until * 1000);
		assert!(Registry::tee_attestation(&key(1)).is_some());
		polkadot_sdk::pallet_timestamp::Now::<Test>::put((record.valid_until + 1) * 1000);
		assert!(Registry::tee_attestation(&key(1)).is_none());
	});
}
