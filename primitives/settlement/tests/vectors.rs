//! The committed signed-message vectors (`vectors/messages.json`): every message rebuilt
//! from its inputs has exactly the committed bytes, and the committed signature by the
//! development key `//Alice` verifies over them (sr25519 signatures are randomized, so
//! a signature is checked, not compared). The JS tests check the same file.
//!
//! `OPG_WRITE_VECTORS=1 cargo test -p opg-settlement --test vectors` rewrites the file
//! (new signatures, same bytes).

use opg_settlement::message;
use schnorrkel::{signing_context, ExpansionMode, Keypair, MiniSecretKey, PublicKey, Signature};
use serde_json::{json, Value};

/// The secret seed of `//Alice` (Substrate's well-known development account).
const ALICE_SEED: &str = "e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a";
const ALICE_PUBLIC: &str = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
/// The vector file of the clone under test (read at run time: a test binary built in
/// another clone of a shared target directory must not read that clone's file).
fn path() -> std::path::PathBuf {
	std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"))
		.join("vectors/messages.json")
}

fn bytes32(value: &Value) -> [u8; 32] {
	let mut out = [0u8; 32];
	hex::decode_to_slice(value.as_str().unwrap().trim_start_matches("0x"), &mut out).unwrap();
	out
}

/// A u64 written as a decimal string (JSON numbers lose precision past 2^53 in JS).
fn u64_of(value: &Value) -> u64 {
	value.as_str().expect("u64 values are decimal strings").parse().unwrap()
}

/// A u128 written as a decimal string.
fn u128_of(value: &Value) -> u128 {
	value.as_str().expect("u128 values are decimal strings").parse().unwrap()
}

fn hex0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// Rebuilds the message a vector names from its inputs.
fn build(kind: &str, inputs: &Value) -> Vec<u8> {
	match kind {
		"result" => message::result(
			&bytes32(&inputs["genesis"]),
			u64_of(&inputs["request"]),
			&bytes32(&inputs["modelHash"]),
			&bytes32(&inputs["inputHash"]),
			&bytes32(&inputs["outputHash"]),
		),
		"batch" => message::batch(
			&bytes32(&inputs["genesis"]),
			&bytes32(&inputs["root"]),
			inputs["leafCount"].as_u64().unwrap().try_into().unwrap(),
		),
		"registration" => {
			message::registration(&bytes32(&inputs["genesis"]), &bytes32(&inputs["operator"]))
		},
		"provenance" => message::provenance(
			inputs["url"].as_str().unwrap(),
			&bytes32(&inputs["hash"]),
			u64_of(&inputs["unixMs"]),
		),
		"cannotServe" => message::cannot_serve(
			&bytes32(&inputs["genesis"]),
			u64_of(&inputs["request"]),
			&bytes32(&inputs["inputHash"]),
			inputs["reason"].as_u64().unwrap().try_into().unwrap(),
			&bytes32(&inputs["detail"]),
		),
		"artifactRead" => {
			message::artifact_read(&bytes32(&inputs["hash"]), u64_of(&inputs["notAfter"]))
		},
		"heartbeat" => message::heartbeat(&bytes32(&inputs["genesis"]), u64_of(&inputs["at"])),
		"voucher" => message::voucher(
			&bytes32(&inputs["genesis"]),
			u64_of(&inputs["channel"]),
			u128_of(&inputs["cumulative"]),
			&bytes32(&inputs["callDigest"]),
		),
		"channelSettlement" => message::channel_settlement(
			&bytes32(&inputs["genesis"]),
			u64_of(&inputs["channel"]),
			u128_of(&inputs["total"]),
			&bytes32(&inputs["root"]),
			inputs["calls"].as_u64().unwrap().try_into().unwrap(),
		),
		"llmAnswer" => message::llm_answer(
			&bytes32(&inputs["genesis"]),
			&bytes32(&inputs["modelHash"]),
			&bytes32(&inputs["callDigest"]),
			&bytes32(&inputs["responseDigest"]),
			u64_of(&inputs["seed"]),
			u128_of(&inputs["cumulative"]),
		),
		"llmActivations" => message::llm_activations(
			&bytes32(&inputs["genesis"]),
			&bytes32(&inputs["modelHash"]),
			&bytes32(&inputs["callDigest"]),
			&bytes32(&inputs["responseDigest"]),
			u64_of(&inputs["seed"]),
			&bytes32(&inputs["activationsDigest"]),
		),
		"directAnswer" => message::direct_answer(
			&bytes32(&inputs["genesis"]),
			&bytes32(&inputs["modelHash"]),
			&bytes32(&inputs["callDigest"]),
			&bytes32(&inputs["responseDigest"]),
			u128_of(&inputs["cumulative"]),
		),
		"verdictCommit" => message::verdict_commit(
			&bytes32(&inputs["genesis"]),
			u64_of(&inputs["case"]),
			&bytes32(&inputs["commitment"]),
		),
		"verdictReveal" => message::verdict_reveal(
			&bytes32(&inputs["genesis"]),
			u64_of(&inputs["case"]),
			inputs["verdict"].as_u64().unwrap() as u8,
			&bytes32(&inputs["salt"]),
		),
		"honeypot" => message::honeypot(
			&bytes32(&inputs["genesis"]),
			u64_of(&inputs["case"]),
			u64_of(&inputs["request"]),
		),
		other => panic!("unknown message kind {other}"),
	}
}

/// The inputs of the committed vectors: edge values where widths matter (a request id
/// and a leaf count past 32 and 16 bits, an empty url). u64 values are decimal strings.
fn cases() -> Vec<(&'static str, &'static str, Value)> {
	let genesis = hex0x(&[0x11; 32]);
	vec![
		(
			"result",
			"result of request 7",
			json!({"genesis": genesis, "request": "7", "modelHash": hex0x(&[0xaa; 32]), "inputHash": hex0x(&[0xbb; 32]), "outputHash": hex0x(&[0xcc; 32])}),
		),
		(
			"result",
			"result of a request id past 32 bits",
			json!({"genesis": genesis, "request": 0x0102_0304_0506_0708u64.to_string(), "modelHash": hex0x(&[1; 32]), "inputHash": hex0x(&[2; 32]), "outputHash": hex0x(&[3; 32])}),
		),
		(
			"batch",
			"batch of 3 leaves",
			json!({"genesis": genesis, "root": hex0x(&[0x22; 32]), "leafCount": 3}),
		),
		(
			"batch",
			"batch of 65,537 leaves",
			json!({"genesis": genesis, "root": hex0x(&[0x33; 32]), "leafCount": 65_537}),
		),
		(
			"registration",
			"registration for Bob",
			json!({"genesis": genesis, "operator": "0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48"}),
		),
		(
			"provenance",
			"provenance of a URL",
			json!({"url": "http://127.0.0.1:8800/data.bin", "hash": hex0x(&[0x44; 32]), "unixMs": "1767225600123"}),
		),
		(
			"provenance",
			"provenance of an empty URL",
			json!({"url": "", "hash": hex0x(&[0; 32]), "unixMs": "0"}),
		),
		(
			"cannotServe",
			"cannot serve: stored input unavailable",
			json!({"genesis": genesis, "request": "9", "inputHash": hex0x(&[0x55; 32]), "reason": 0, "detail": hex0x(&[0; 32])}),
		),
		(
			"cannotServe",
			"cannot serve: input commitment mismatch",
			json!({"genesis": genesis, "request": 0x1_0000_0000u64.to_string(), "inputHash": hex0x(&[0x66; 32]), "reason": 1, "detail": hex0x(&[0x77; 32])}),
		),
		(
			"artifactRead",
			"read permission for a private output",
			json!({"hash": hex0x(&[0x88; 32]), "notAfter": "1767225600"}),
		),
		(
			"heartbeat",
			"heartbeat at a block past 32 bits",
			json!({"genesis": genesis, "at": 0x1_0000_0001u64.to_string()}),
		),
		(
			"voucher",
			"voucher past 64 bits on channel 3",
			json!({"genesis": genesis, "channel": "3", "cumulative": (u128::from(u64::MAX) + 2).to_string(), "callDigest": hex0x(&[0x99; 32])}),
		),
		(
			"channelSettlement",
			"settlement of 70,000 calls",
			json!({"genesis": genesis, "channel": 0x1_0000_0002u64.to_string(), "total": "1500000000000", "root": hex0x(&[0xab; 32]), "calls": 70_000}),
		),
		(
			"directAnswer",
			"direct answer paid up to 25 units",
			json!({"genesis": genesis, "modelHash": hex0x(&[0xaa; 32]), "callDigest": hex0x(&[0xcd; 32]), "responseDigest": hex0x(&[0xef; 32]), "cumulative": "25"}),
		),
		(
			"llmAnswer",
			"language model answer with a seed past 32 bits",
			json!({"genesis": genesis, "modelHash": hex0x(&[0xa1; 32]), "callDigest": hex0x(&[0xc2; 32]), "responseDigest": hex0x(&[0xe3; 32]), "seed": (u64::MAX - 1).to_string(), "cumulative": "0"}),
		),
		(
			"llmActivations",
			"language model answer's activation commitments",
			json!({"genesis": genesis, "modelHash": hex0x(&[0xa1; 32]), "callDigest": hex0x(&[0xc2; 32]), "responseDigest": hex0x(&[0xe3; 32]), "seed": (u64::MAX - 1).to_string(), "activationsDigest": hex0x(&[0xd4; 32])}),
		),
		(
			"verdictCommit",
			"verifier's commitment on a case id past 32 bits",
			json!({"genesis": genesis, "case": 0x1_0000_0003u64.to_string(), "commitment": hex0x(&[0xc5; 32])}),
		),
		(
			"verdictReveal",
			"verifier's revealed verdict: invalid",
			json!({"genesis": genesis, "case": "12", "verdict": 1, "salt": hex0x(&[0x5a; 32])}),
		),
		(
			"honeypot",
			"honeypot exposed, request id past 32 bits",
			json!({"genesis": genesis, "case": "12", "request": "4294967303"}),
		),
	]
}

fn alice() -> Keypair {
	let mut seed = [0u8; 32];
	hex::decode_to_slice(ALICE_SEED, &mut seed).unwrap();
	MiniSecretKey::from_bytes(&seed)
		.unwrap()
		.expand_to_keypair(ExpansionMode::Ed25519)
}

fn verifies(public: &PublicKey, message: &[u8], signature: &[u8]) -> bool {
	Signature::from_bytes(signature)
		.is_ok_and(|s| public.verify(signing_context(b"substrate").bytes(message), &s).is_ok())
}

fn write_vectors() {
	let key = alice();
	assert_eq!(hex::encode(key.public.to_bytes()), ALICE_PUBLIC);
	let vectors: Vec<Value> = cases()
		.into_iter()
		.map(|(kind, name, inputs)| {
			let bytes = build(kind, &inputs);
			let signature = key.sign(signing_context(b"substrate").bytes(&bytes)).to_bytes();
			json!({"name": name, "message": kind, "inputs": inputs, "bytes": hex0x(&bytes), "signature": hex0x(&signature)})
		})
		.collect();
	let file = json!({
		"about": "OPG signed messages: inputs, exact bytes (opg_settlement::message), and an sr25519 signature by the signer over those bytes (Substrate signing context \"substrate\"; signatures are randomized: verify, do not compare).",
		"signer": {"uri": "//Alice", "seed": format!("0x{ALICE_SEED}"), "public": format!("0x{ALICE_PUBLIC}")},
		"vectors": vectors,
	});
	std::fs::write(path(), serde_json::to_string_pretty(&file).unwrap() + "\n").unwrap();
}

#[test]
fn every_committed_message_is_rebuilt_exactly_and_its_signature_verifies() {
	if std::env::var_os("OPG_WRITE_VECTORS").is_some() {
		write_vectors();
	}
	let file: Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
	let public = PublicKey::from_bytes(&bytes32(&file["signer"]["public"])).unwrap();
	assert_eq!(public.to_bytes(), alice().public.to_bytes());
	let vectors = file["vectors"].as_array().unwrap();
	assert_eq!(vectors.len(), cases().len(), "every case is committed");
	for (vector, (kind, name, inputs)) in vectors.iter().zip(cases()) {
		assert_eq!(
			(vector["message"].as_str().unwrap(), vector["name"].as_str().unwrap()),
			(kind, name)
		);
		assert_eq!(vector["inputs"], inputs, "{name}: inputs");
		let bytes = build(kind, &vector["inputs"]);
		assert_eq!(hex0x(&bytes), vector["bytes"].as_str().unwrap(), "{name}: bytes");
		let signature =
			hex::decode(vector["signature"].as_str().unwrap().trim_start_matches("0x")).unwrap();
		assert!(verifies(&public, &bytes, &signature), "{name}: signature");
		let mut other = bytes.clone();
		other[bytes.len() - 1] ^= 1;
		assert!(
			!verifies(&public, &other, &signature),
			"{name}: a changed message must not verify"
		);
	}
}

#[test]
fn the_committed_bytes_spell_out_the_documented_layout() {
	let file: Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
	let bytes = |i: usize| {
		hex::decode(file["vectors"][i]["bytes"].as_str().unwrap().trim_start_matches("0x")).unwrap()
	};
	// result: domain ‖ genesis ‖ u64 LE request ‖ three hashes.
	let result = bytes(1);
	let after_genesis = message::RESULT_DOMAIN.len() + 32;
	assert_eq!(result.len(), after_genesis + 8 + 96);
	assert_eq!(result[after_genesis..after_genesis + 8], 0x0102_0304_0506_0708u64.to_le_bytes());
	// batch: domain ‖ genesis ‖ root ‖ u32 LE count.
	let batch = bytes(3);
	assert_eq!(batch[batch.len() - 4..], 65_537u32.to_le_bytes());
	// provenance of an empty url: domain ‖ 0u32 ‖ hash ‖ 0u64.
	assert_eq!(bytes(6).len(), message::PROVENANCE_DOMAIN.len() + 4 + 32 + 8);
	// cannot serve: domain ‖ genesis ‖ u64 LE request ‖ input hash ‖ u8 reason ‖ detail.
	let declined = bytes(8);
	let at = message::CANNOT_SERVE_DOMAIN.len() + 32;
	assert_eq!(declined.len(), at + 8 + 32 + 1 + 32);
	assert_eq!(declined[at..at + 8], 0x1_0000_0000u64.to_le_bytes());
	assert_eq!(declined[at + 40], message::COMMITMENT_MISMATCH);
}
