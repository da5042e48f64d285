//! The direct-call gateway: vouchers of every account key type, every refusal, replays,
//! receipts that survive a restart, settlement offers and served-call proofs, against a
//! mock node JSON-RPC that answers the channel and the best block.

use crate::{
	payment::{self, Accepted, Gateway, Price},
	signing::NodeKey,
	tests::temp_store,
	Executor,
};
use hyper::{body::Bytes, HeaderMap, StatusCode};
use opg_executor_api::payment::Refusal;
use opg_primitives::codec::Encode;
use opg_settlement::{
	channel::{call_digest, ServedCall},
	merkle, message,
};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};

pub(crate) const GENESIS: [u8; 32] = [0x42; 32];

fn blake2_256(data: &[u8]) -> [u8; 32] {
	use blake2::{digest::consts::U32, Blake2b, Digest};
	Blake2b::<U32>::digest(data).into()
}

/// A client key of any type an account may have; its account and `MultiSignature`s.
pub(crate) enum Client {
	Sr(NodeKey),
	Ed(ed25519_dalek::SigningKey),
	Ec(k256::ecdsa::SigningKey),
}

impl Client {
	pub(crate) fn new(kind: u8) -> Self {
		match kind {
			0 => Self::Sr(NodeKey::from_seed(&[11; 32])),
			1 => Self::Ed(ed25519_dalek::SigningKey::from_bytes(&[12; 32])),
			_ => Self::Ec(k256::ecdsa::SigningKey::from_slice(&[13; 32]).unwrap()),
		}
	}

	pub(crate) fn account(&self) -> [u8; 32] {
		match self {
			Self::Sr(key) => key.public(),
			Self::Ed(key) => key.verifying_key().to_bytes(),
			Self::Ec(key) => blake2_256(key.verifying_key().to_encoded_point(true).as_bytes()),
		}
	}

	/// The SCALE encoding of its `MultiSignature` of `message`.
	fn sign(&self, message: &[u8]) -> Vec<u8> {
		use ed25519_dalek::Signer;
		match self {
			Self::Ed(key) => [&[0u8][..], &key.sign(message).to_bytes()[..]].concat(),
			Self::Sr(key) => [&[1u8][..], &key.sign(message)[..]].concat(),
			Self::Ec(key) => {
				let (signature, recovery) =
					key.sign_prehash_recoverable(&blake2_256(message)).unwrap();
				[&[2u8][..], signature.to_bytes().as_slice(), &[recovery.to_byte()][..]].concat()
			},
		}
	}

	/// The `PAYMENT-SIGNATURE` value of its voucher for `cumulative` on `channel` paying
	/// the call of `path` with `body`.
	pub(crate) fn pay(&self, channel: u64, cumulative: u128, path: &str, body: &[u8]) -> String {
		let digest = call_digest(path, body);
		let signature = self.sign(&message::voucher(&GENESIS, channel, cumulative, &digest));
		voucher_header(channel, cumulative, &signature, &GENESIS)
	}
}

fn voucher_header(channel: u64, cumulative: u128, signature: &[u8], genesis: &[u8; 32]) -> String {
	payment::header_value(&serde_json::json!({
		"x402Version": 2,
		"scheme": "opg-channel",
		"network": format!("0x{}", hex::encode(genesis)),
		"payload": {
			"channel": channel.to_string(),
			"cumulative": cumulative.to_string(),
			"signature": format!("0x{}", hex::encode(signature)),
		},
	}))
}

#[test]
fn every_account_key_type_signs_vouchers_and_no_other_account_passes() {
	let message = b"opg voucher";
	for kind in 0..3 {
		let client = Client::new(kind);
		let signature = client.sign(message);
		assert!(payment::verify_account(&client.account(), message, &signature), "kind {kind}");
		assert!(!payment::verify_account(&client.account(), b"another", &signature));
		assert!(!payment::verify_account(
			&Client::new((kind + 1) % 3).account(),
			message,
			&signature
		));
		let mut truncated = signature.clone();
		truncated.pop();
		assert!(!payment::verify_account(&client.account(), message, &truncated));
	}
	assert!(!payment::verify_account(&[0; 32], message, &[3; 65]), "no such key type");
	assert!(!payment::verify_account(&[0; 32], message, &[]));
}

#[test]
fn malformed_and_foreign_vouchers_are_named() {
	let good = voucher_header(1, 5, &[1; 65], &GENESIS);
	assert!(payment::parse_voucher(&good, &GENESIS).is_ok());
	assert_eq!(payment::parse_voucher(&good, &[0; 32]), Err(Refusal::WrongNetwork));
	assert_eq!(payment::parse_voucher("not base64!", &GENESIS), Err(Refusal::MalformedVoucher));
	let other_scheme = payment::header_value(&serde_json::json!({
		"x402Version": 2, "scheme": "exact", "network": "0x00", "payload": {},
	}));
	assert_eq!(payment::parse_voucher(&other_scheme, &GENESIS), Err(Refusal::MalformedVoucher));
	let bad_amount = payment::header_value(&serde_json::json!({
		"x402Version": 2, "scheme": "opg-channel", "network": format!("0x{}", hex::encode(GENESIS)),
		"payload": {"channel": "1", "cumulative": "-3", "signature": "0x00"},
	}));
	assert_eq!(payment::parse_voucher(&bad_amount, &GENESIS), Err(Refusal::MalformedVoucher));
}

type ChainChannel = crate::chain::ChainChannel;

/// A node JSON-RPC answering `ChannelsApi_channel` from `channels` and the best block
/// `block`; its URL.
pub(crate) fn mock_chain(
	runtime: &tokio::runtime::Runtime,
	channels: Arc<Mutex<HashMap<u64, ChainChannel>>>,
	block: u32,
) -> String {
	crate::tests::mock_rpc(runtime.handle(), move |method, params| match method {
		"chain_getHeader" => serde_json::json!({"number": format!("0x{block:x}")}),
		"state_call" => {
			assert_eq!(params[0], opg_primitives::CHANNEL_CALL);
			let arg = opg_executor_api::parse_hex(params[1].as_str().unwrap()).unwrap();
			let id = u64::from_le_bytes(arg.try_into().unwrap());
			let channel = channels.lock().unwrap().get(&id).cloned();
			serde_json::json!(format!("0x{}", hex::encode(channel.encode())))
		},
		other => panic!("unexpected {other}"),
	})
}

/// An executor serving a demo integer model at price 10 through a gateway whose journals
/// are in `dir`, holding node key `[7; 32]`; the model's hash.
fn paid_executor(rpc: &str, dir: &std::path::Path, store: &str) -> (Arc<Executor>, [u8; 32]) {
	let store = temp_store(store);
	let model = opg_qmodel::generate(&[8, 6, 3], 5);
	let hash = store.put(&model.to_bytes()).unwrap();
	let prices = HashMap::from([(hash, Price { model: 0, amount: 10, mode: 0 })]);
	let gateway = Gateway::open(GENESIS, rpc.into(), prices, dir).unwrap();
	let executor = Executor::new(store, None)
		.with_node_key(NodeKey::from_seed(&[7; 32]))
		.with_gateway(gateway);
	(Arc::new(executor), hash)
}

pub(crate) fn channel(client: &Client, deposit: u128) -> ChainChannel {
	ChainChannel {
		client: client.account(),
		node: NodeKey::from_seed(&[7; 32]).public(),
		deposit,
		claimed: 0,
		expiry: 1_000,
		closes_at: None,
		settlements: 0,
	}
}

/// A public call of `path` with `body` and an optional payment header, as the public
/// listener's gateway answers it.
fn call(
	runtime: &tokio::runtime::Runtime,
	executor: &Arc<Executor>,
	path: &str,
	body: &[u8],
	payment: Option<String>,
) -> crate::http::Reply {
	let mut headers = HeaderMap::new();
	if let Some(value) = payment {
		headers.insert("payment-signature", value.parse().unwrap());
	}
	let model = path.rsplit('/').next().unwrap().to_owned();
	runtime.block_on(crate::http::paid_infer(
		executor,
		&model,
		path,
		&headers,
		Bytes::copy_from_slice(body),
	))
}

fn refusal(reply: &crate::http::Reply) -> Option<String> {
	use base64::Engine;
	let header = reply.header("payment-required")?;
	let json: serde_json::Value =
		serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(header).unwrap())
			.unwrap();
	assert_eq!(json["accepts"][0]["scheme"], "opg-channel");
	assert_eq!(json["accepts"][0]["amount"], "10");
	Some(json["error"].as_str().unwrap().to_owned())
}

#[test]
fn paid_calls_are_served_at_once_with_evidence_and_every_bad_voucher_is_refused_with_402() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let alice = Client::new(0);
	let channels = Arc::new(Mutex::new(HashMap::from([(1, channel(&alice, 100))])));
	let rpc = mock_chain(&runtime, channels.clone(), 10);
	let dir = std::env::temp_dir().join(format!("opg-gateway-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	let (executor, hash) = paid_executor(&rpc, &dir, "gateway");
	let path = format!("/v1/infer/0x{}", hex::encode(hash));
	let input = [1u8, 2, 3, 4, 5, 6, 7, 8];

	// No voucher: 402 with what to pay.
	let reply = call(&runtime, &executor, &path, &input, None);
	assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED);
	assert_eq!(refusal(&reply).as_deref(), Some("payment_required"));

	// A voucher for 10: served, with evidence and what was charged.
	let reply = call(&runtime, &executor, &path, &input, Some(alice.pay(1, 10, &path, &input)));
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let node = NodeKey::from_seed(&[7; 32]).public();
	let evidence: [u8; 64] = opg_executor_api::parse_hex(reply.header("x-opg-signature").unwrap())
		.unwrap()
		.try_into()
		.unwrap();
	let digest = call_digest(&path, &input);
	let answer = message::direct_answer(&GENESIS, &hash, &digest, &crate::sha256(&reply.body), 10);
	assert!(
		crate::signing::verify(&node, &answer, &evidence),
		"the client can check the answer alone"
	);
	assert!(reply.header("payment-response").is_some());

	// Each refusal, by its code; none of them moves the charged total.
	let other = Client::new(1);
	let cases: Vec<(Option<String>, &str)> = vec![
		(Some("garbage".into()), "malformed_voucher"),
		(Some(voucher_header(1, 20, &[1; 65], &[9; 32])), "wrong_network"),
		(Some(other.pay(1, 20, &path, &input)), "wrong_signer"),
		(Some(alice.pay(1, 20, &path, b"another body")), "wrong_signer"),
		(Some(alice.pay(7, 20, &path, &input)), "unknown_channel"),
		(Some(alice.pay(1, 10, &path, &input)), "not_above_last"),
		(Some(alice.pay(1, 15, &path, &input)), "below_price"),
		(Some(alice.pay(1, 101, &path, &input)), "above_deposit"),
	];
	for (header, code) in cases {
		let reply = call(&runtime, &executor, &path, &input, header);
		assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED, "{code}");
		assert_eq!(refusal(&reply).as_deref(), Some(code));
	}
	// The next voucher builds on the total the answer reported.
	let served = call(&runtime, &executor, &path, &input, Some(alice.pay(1, 20, &path, &input)));
	assert_eq!(served.status, StatusCode::OK);

	// Another node's channel, a closing one, one too near its expiry.
	let mut others = channel(&alice, 100);
	others.node = [9; 32];
	let mut closing = channel(&alice, 100);
	closing.closes_at = Some(50);
	let mut expiring = channel(&alice, 100);
	expiring.expiry = 25;
	channels.lock().unwrap().extend([(2, others), (3, closing), (4, expiring)]);
	for (id, code) in [(2, "wrong_payee"), (3, "channel_closing"), (4, "channel_expired")] {
		let reply =
			call(&runtime, &executor, &path, &input, Some(alice.pay(id, 10, &path, &input)));
		assert_eq!(refusal(&reply).as_deref(), Some(code));
	}

	// A failed call gives its charge back: the next voucher may reuse it.
	let reply = call(&runtime, &executor, &path, b"short", Some(alice.pay(1, 30, &path, b"short")));
	assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
	let reply = call(&runtime, &executor, &path, &input, Some(alice.pay(1, 30, &path, &input)));
	assert_eq!(reply.status, StatusCode::OK);

	// A restart keeps the receipts: the settlement covers the three paid calls.
	drop(executor);
	let (executor, _) = paid_executor(&rpc, &dir, "gateway-restarted");
	let key = NodeKey::from_seed(&[7; 32]);
	let offers = runtime.block_on(executor.gateway().unwrap().offers(&key));
	assert_eq!(offers.len(), 1);
	let offer = &offers[0];
	assert_eq!((offer.channel, offer.cumulative, offer.total, offer.calls), (1, 30, 30, 3));
	let settled = message::channel_settlement(&GENESIS, 1, 30, &offer.root, 3);
	assert!(crate::signing::verify(&node, &settled, &offer.node_signature));
	let voucher = message::voucher(&GENESIS, 1, 30, &offer.call_digest);
	assert!(payment::verify_account(&alice.account(), &voucher, &offer.voucher_signature));
	// And the replay is still refused after the restart.
	let replay = call(&runtime, &executor, &path, &input, Some(alice.pay(1, 30, &path, &input)));
	assert_eq!(refusal(&replay).as_deref(), Some("not_above_last"));

	// Each served call proves under the offered root.
	let (channel_id, leaf, root, proof) = executor.gateway().unwrap().served(&digest).unwrap();
	assert_eq!((channel_id, root), (1, offer.root));
	assert!(merkle::verify(&root, &leaf, &proof));

	// Once the chain shows 30 claimed, nothing is left to offer.
	channels.lock().unwrap().get_mut(&1).unwrap().claimed = 30;
	assert!(runtime.block_on(executor.gateway().unwrap().offers(&key)).is_empty());
}

fn payment_response(reply: &crate::http::Reply) -> serde_json::Value {
	use base64::Engine;
	let header = reply.header("payment-response").expect("a PAYMENT-RESPONSE");
	serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(header).unwrap())
		.unwrap()
}

#[test]
fn a_voucher_authorizes_up_to_its_amount_and_the_call_is_charged_its_price_once() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let alice = Client::new(0);
	let channels = Arc::new(Mutex::new(HashMap::from([(1, channel(&alice, 100))])));
	let rpc = mock_chain(&runtime, channels.clone(), 10);
	let dir = std::env::temp_dir().join(format!("opg-gateway-upto-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	let (executor, hash) = paid_executor(&rpc, &dir, "gateway-upto");
	let path = format!("/v1/infer/0x{}", hex::encode(hash));
	let (first, second) = ([1u8, 2, 3, 4, 5, 6, 7, 8], [8u8, 7, 6, 5, 4, 3, 2, 1]);

	// Up to 50 authorized, 10 charged: the answer reports the charged total.
	let generous = alice.pay(1, 50, &path, &first);
	let reply = call(&runtime, &executor, &path, &first, Some(generous.clone()));
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let paid = payment_response(&reply);
	assert_eq!(
		(&paid["charged"], &paid["cumulative"], &paid["remaining"]),
		(&serde_json::json!("10"), &serde_json::json!("10"), &serde_json::json!("90"))
	);
	// The same voucher again, though 50 is above the charged total: refused.
	let replay = call(&runtime, &executor, &path, &first, Some(generous.clone()));
	assert_eq!(refusal(&replay).as_deref(), Some("voucher_reused"));
	// The next voucher builds on the reported total, below the previous voucher's amount.
	let reply = call(&runtime, &executor, &path, &second, Some(alice.pay(1, 20, &path, &second)));
	assert_eq!(reply.status, StatusCode::OK);
	assert_eq!(payment_response(&reply)["cumulative"], "20");

	// The settlement claims the charged total under the voucher that authorized it.
	let key = NodeKey::from_seed(&[7; 32]);
	let offers = runtime.block_on(executor.gateway().unwrap().offers(&key));
	let offer = &offers[0];
	assert_eq!((offer.cumulative, offer.total, offer.calls), (20, 20, 2));
	let settled = message::channel_settlement(&GENESIS, 1, 20, &offer.root, 2);
	assert!(crate::signing::verify(&key.public(), &settled, &offer.node_signature));

	// After the chain claimed 20 and a restart, the generous voucher still pays nothing.
	channels.lock().unwrap().get_mut(&1).unwrap().claimed = 20;
	assert!(runtime.block_on(executor.gateway().unwrap().offers(&key)).is_empty());
	drop(executor);
	let (executor, _) = paid_executor(&rpc, &dir, "gateway-upto-restarted");
	let replay = call(&runtime, &executor, &path, &first, Some(generous));
	assert_eq!(refusal(&replay).as_deref(), Some("voucher_reused"));
	let reply = call(&runtime, &executor, &path, &first, Some(alice.pay(1, 30, &path, &first)));
	assert_eq!(payment_response(&reply)["cumulative"], "30");
}

#[test]
fn a_journal_line_of_an_older_executor_still_counts_its_voucher_as_charged() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let alice = Client::new(0);
	let channels = Arc::new(Mutex::new(HashMap::from([(1, channel(&alice, 100))])));
	let rpc = mock_chain(&runtime, channels, 10);
	let dir = std::env::temp_dir().join(format!("opg-gateway-old-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	// A receipt as the executor wrote it before `total`: its voucher's amount was charged.
	let path = "/v1/infer/0x01";
	let digest = call_digest(path, b"x");
	let signature = alice.sign(&message::voucher(&GENESIS, 1, 10, &digest));
	let line = serde_json::json!({
		"channel": 1, "cumulative": "10", "signature": format!("0x{}", hex::encode(&signature)),
		"call_digest": format!("0x{}", hex::encode(digest)), "response_digest": format!("0x{}", hex::encode([2; 32])),
		"model_hash": format!("0x{}", hex::encode([3; 32])), "mode": 0, "amount": "10",
	});
	let chain_dir = dir.join(format!("0x{}", hex::encode(GENESIS)));
	std::fs::create_dir_all(&chain_dir).unwrap();
	std::fs::write(chain_dir.join("receipts.jsonl"), format!("{line}\n")).unwrap();
	let (executor, _) = paid_executor(&rpc, &dir, "gateway-old");
	let key = NodeKey::from_seed(&[7; 32]);
	let offers = runtime.block_on(executor.gateway().unwrap().offers(&key));
	assert_eq!((offers[0].cumulative, offers[0].total, offers[0].calls), (10, 10, 1));
}

#[test]
fn receipts_of_another_chain_in_the_same_folder_do_not_count() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let alice = Client::new(0);
	let channels = Arc::new(Mutex::new(HashMap::from([(0, channel(&alice, 100))])));
	let rpc = mock_chain(&runtime, channels, 10);
	let dir = std::env::temp_dir().join(format!("opg-gateway-chains-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	// Channel 0 of another chain (a development chain started afresh) charged 10.
	let key = NodeKey::from_seed(&[7; 32]);
	let other = Gateway::open([0x99; 32], rpc.clone(), HashMap::new(), &dir).unwrap();
	let accepted = Accepted {
		channel: 0,
		cumulative: 10,
		call_digest: [1; 32],
		previous: 0,
		charged: 10,
		deposit: 100,
		signature: vec![1; 65],
	};
	let served = ServedCall {
		call_digest: [1; 32],
		response_digest: [2; 32],
		model_hash: [3; 32],
		mode: 0,
		amount: 10,
	};
	other.record(&accepted, &served).unwrap();
	drop(other);
	// This chain's channel 0 takes its first voucher, for 10.
	let (executor, hash) = paid_executor(&rpc, &dir, "gateway-chains");
	let path = format!("/v1/infer/0x{}", hex::encode(hash));
	let input = [1u8, 2, 3, 4, 5, 6, 7, 8];
	let reply = call(&runtime, &executor, &path, &input, Some(alice.pay(0, 10, &path, &input)));
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let offers = runtime.block_on(executor.gateway().unwrap().offers(&key));
	assert_eq!((offers[0].total, offers[0].calls), (10, 1));
}

#[test]
fn vouchers_are_checked_against_the_channels_client_of_the_moment_never_a_key_kept_before() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let (alice, bob) = (Client::new(0), Client::Sr(NodeKey::from_seed(&[14; 32])));
	let channels = Arc::new(Mutex::new(HashMap::from([(1, channel(&alice, 100))])));
	let rpc = mock_chain(&runtime, channels.clone(), 10);
	let dir = std::env::temp_dir().join(format!("opg-gateway-keys-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	let (executor, hash) = paid_executor(&rpc, &dir, "gateway-keys");
	let path = format!("/v1/infer/0x{}", hex::encode(hash));
	let input = [1u8, 2, 3, 4, 5, 6, 7, 8];

	// Alice's first voucher keeps her key; another sr25519 key's voucher is still refused.
	let reply = call(&runtime, &executor, &path, &input, Some(alice.pay(1, 10, &path, &input)));
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
	let reply = call(&runtime, &executor, &path, &input, Some(bob.pay(1, 20, &path, &input)));
	assert_eq!(refusal(&reply).as_deref(), Some("wrong_signer"));

	// The chain's channel 1 now has Bob as its client (read again once the cache expires):
	// Alice's kept key no longer verifies anything on it, Bob's vouchers do.
	channels.lock().unwrap().insert(1, channel(&bob, 100));
	std::thread::sleep(payment::CHANNEL_TTL + std::time::Duration::from_millis(100));
	let reply = call(&runtime, &executor, &path, &input, Some(alice.pay(1, 20, &path, &input)));
	assert_eq!(refusal(&reply).as_deref(), Some("wrong_signer"));
	let reply = call(&runtime, &executor, &path, &input, Some(bob.pay(1, 20, &path, &input)));
	assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
}
