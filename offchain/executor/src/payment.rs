//! Direct paid calls: the gateway on the executor's public listener.
//!
//! A client calls `POST /v1/infer/0x{model}` of a model this executor offers
//! ([`Gateway::price`], the model hub's price). Without a valid voucher the answer is
//! `402` with `PAYMENT-REQUIRED` (what to pay, and why the call was refused); with one in
//! `PAYMENT-SIGNATURE` the call is served at once, its answer carries `PAYMENT-RESPONSE`
//! and the node key's evidence. Names and encodings are `opg_executor_api::payment`'s.
//!
//! A voucher names the most the channel's **charged total** may reach with this call
//! (x402's `upto`). It is accepted when it is for this chain, its channel (read from the
//! chain, `ChannelsApi::channel`, cached for [`CHANNEL_TTL`]) pays this executor's node
//! key, is open and far enough from its expiry to settle ([`EXPIRY_MARGIN`]), its
//! cumulative amount is at least the price above the channel's charged total and within
//! the deposit, it has not paid a call before, and the channel's client signed it over
//! this call's digest (an sr25519 voucher is verified with the vouchers waiting at the
//! same time, [`crate::batch_verify`], against the client's key decompressed once).
//! Accepting it charges the call before the model runs, under one lock: a replayed
//! voucher never pays twice, and two calls never spend the same amount.
//! The answer reports the new charged total, on which the client builds its next
//! voucher. A call that fails gives its charge back.
//!
//! Every paid call's receipt (the voucher, the charged total and the served call's leaf)
//! is appended to a journal in the store folder before the answer leaves, so that a
//! restart loses no earned payment; [`Gateway::offers`] turns the unsettled receipts of
//! each channel into one settlement (the charged total, the voucher that authorized it,
//! the root over the calls, the node key's signature), which the node's off-chain worker
//! submits; receipts are dropped once the chain's claimed total makes their vouchers
//! worthless. The calls of every offered root are kept for [`Gateway::served`]: a
//! client proves with them that its call was settled.

use crate::{batch_verify::BatchVerifier, chain, signing::NodeKey, ContentHash};
use opg_executor_api::payment::{self, Refusal};
use opg_settlement::{channel::ServedCall, merkle, message};
use serde::{Deserialize, Serialize};
use std::{
	collections::{HashMap, HashSet},
	io::Write,
	path::{Path, PathBuf},
	sync::Mutex,
	time::{Duration, Instant},
};

/// How long a channel read from the chain is trusted (a block is 6 s): a top-up or a
/// close shows within it. A close leaves the node its dispute period to settle in.
pub const CHANNEL_TTL: Duration = Duration::from_secs(2);

/// Blocks before a channel's expiry from which it takes no more calls: the node's worker
/// must settle before the client may withdraw.
pub const EXPIRY_MARGIN: u32 = 20;

/// What a model costs per call, as the model hub publishes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price {
	/// The model hub's id.
	pub model: u32,
	/// The price of one call, in the chain's smallest unit.
	pub amount: u128,
	/// The evidence this executor gives: `VerificationMode`'s index (0 vanilla, 1 TEE).
	pub mode: u8,
}

/// A voucher as `PAYMENT-SIGNATURE` carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaidVoucher {
	/// The channel.
	pub channel: u64,
	/// The most the channel's charged total may reach with this call.
	pub cumulative: u128,
	/// The client account's SCALE-encoded `MultiSignature`.
	pub signature: Vec<u8>,
}

#[derive(Deserialize)]
struct PaymentPayload {
	#[serde(rename = "x402Version")]
	version: u32,
	scheme: String,
	network: String,
	payload: VoucherJson,
}

#[derive(Deserialize)]
struct VoucherJson {
	channel: serde_json::Value,
	cumulative: String,
	signature: String,
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
	use base64::Engine;
	base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()
}

/// The base64 (standard, padded) of `json`'s text: a payment header's value.
pub fn header_value(json: &serde_json::Value) -> String {
	use base64::Engine;
	base64::engine::general_purpose::STANDARD.encode(json.to_string())
}

/// The voucher of a `PAYMENT-SIGNATURE` value, for chain `genesis`.
pub fn parse_voucher(header: &str, genesis: &[u8; 32]) -> Result<PaidVoucher, Refusal> {
	let bytes = base64_decode(header).ok_or(Refusal::MalformedVoucher)?;
	let payload: PaymentPayload =
		serde_json::from_slice(&bytes).map_err(|_| Refusal::MalformedVoucher)?;
	if payload.version != payment::X402_VERSION || payload.scheme != payment::SCHEME {
		return Err(Refusal::MalformedVoucher);
	}
	if opg_executor_api::parse_hash(&payload.network) != Some(*genesis) {
		return Err(Refusal::WrongNetwork);
	}
	let channel = match &payload.payload.channel {
		serde_json::Value::Number(number) => number.as_u64(),
		serde_json::Value::String(text) => text.parse().ok(),
		_ => None,
	}
	.ok_or(Refusal::MalformedVoucher)?;
	let cumulative = payload.payload.cumulative.parse().map_err(|_| Refusal::MalformedVoucher)?;
	let signature =
		opg_executor_api::parse_hex(&payload.payload.signature).ok_or(Refusal::MalformedVoucher)?;
	Ok(PaidVoucher { channel, cumulative, signature })
}

fn blake2_256(data: &[u8]) -> [u8; 32] {
	use blake2::{digest::consts::U32, Blake2b, Digest};
	Blake2b::<U32>::digest(data).into()
}

/// Whether `signature`, a SCALE-encoded `MultiSignature` (ed25519, sr25519 or ECDSA), is
/// `account`'s (an `AccountId32`) over `message`, as the runtime checks it.
pub fn verify_account(account: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
	match signature.split_first() {
		Some((0, raw)) => {
			let (Ok(raw), Ok(key)) =
				(<[u8; 64]>::try_from(raw), ed25519_dalek::VerifyingKey::from_bytes(account))
			else {
				return false;
			};
			key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&raw)).is_ok()
		},
		Some((1, raw)) => <[u8; 64]>::try_from(raw)
			.is_ok_and(|raw| crate::signing::verify(account, message, &raw)),
		Some((2, raw)) => {
			let Ok(raw) = <[u8; 65]>::try_from(raw) else { return false };
			let (Ok(signature), Some(recovery)) = (
				k256::ecdsa::Signature::from_slice(&raw[..64]),
				k256::ecdsa::RecoveryId::from_byte(raw[64] % 27),
			) else {
				return false;
			};
			let prehash = blake2_256(message);
			let Ok(key) =
				k256::ecdsa::VerifyingKey::recover_from_prehash(&prehash, &signature, recovery)
			else {
				return false;
			};
			blake2_256(key.to_encoded_point(true).as_bytes()) == *account
		},
		_ => false,
	}
}

/// One paid call as the journal keeps it until it is settled.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Receipt {
	channel: u64,
	/// The voucher's cumulative amount (what the client authorized), decimal.
	cumulative: String,
	/// The channel's charged total with this call, decimal. Absent in the journals of
	/// executors before the charged total was kept apart: there it is `cumulative`.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	total: Option<String>,
	/// 0x-hex of the SCALE `MultiSignature`.
	signature: String,
	/// 0x-hex: the call the voucher paid for.
	call_digest: String,
	/// 0x-hex.
	response_digest: String,
	/// 0x-hex.
	model_hash: String,
	mode: u8,
	/// What this call was charged, decimal.
	amount: String,
}

impl Receipt {
	fn cumulative(&self) -> u128 {
		self.cumulative.parse().unwrap_or(0)
	}

	fn total(&self) -> u128 {
		self.total.as_deref().unwrap_or(&self.cumulative).parse().unwrap_or(0)
	}

	/// The voucher it holds: cumulative amount and call digest.
	fn voucher(&self) -> Option<(u128, [u8; 32])> {
		Some((self.cumulative.parse().ok()?, opg_executor_api::parse_hash(&self.call_digest)?))
	}

	fn served(&self) -> Option<ServedCall> {
		Some(ServedCall {
			call_digest: opg_executor_api::parse_hash(&self.call_digest)?,
			response_digest: opg_executor_api::parse_hash(&self.response_digest)?,
			model_hash: opg_executor_api::parse_hash(&self.model_hash)?,
			mode: self.mode,
			amount: self.amount.parse().ok()?,
		})
	}
}

/// A settlement root offered, with its calls: what [`Gateway::served`] proves from.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Offered {
	channel: u64,
	/// 0x-hex.
	root: String,
	/// The charged total claimed, decimal.
	total: String,
	receipts: Vec<Receipt>,
}

/// What the gateway knows of one channel.
#[derive(Default)]
struct Book {
	/// The channel's charged total: what this node charged (or the chain shows claimed).
	charged: u128,
	/// Paid calls not yet known settled, and settled ones whose voucher could still pay
	/// (its cumulative amount above the chain's claimed total): kept so it never does.
	receipts: Vec<Receipt>,
	/// The vouchers that paid a call (cumulative amount, call digest) and could still pass
	/// the charged-total check: a voucher pays one call.
	used: HashSet<(u128, [u8; 32])>,
	/// The chain's channel, the best block then, and when it was read.
	chain: Option<(Option<chain::ChainChannel>, u32, Instant)>,
	/// The channel client's account and its sr25519 key, decompressed once for the
	/// vouchers it signs.
	client_key: Option<([u8; 32], schnorrkel::PublicKey)>,
}

/// The channels and the open receipts journal, under one lock.
struct Books {
	channels: HashMap<u64, Book>,
	journal: std::fs::File,
}

/// A voucher accepted for one call: what to answer, and what to give back if the call
/// fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
	/// The channel.
	pub channel: u64,
	/// The voucher's cumulative amount: the most the client authorized.
	pub cumulative: u128,
	/// The call's digest, which the voucher names.
	pub call_digest: [u8; 32],
	/// The channel's charged total before this call.
	pub previous: u128,
	/// What this call is charged.
	pub charged: u128,
	/// The channel's deposit.
	pub deposit: u128,
	/// The client's signature of the voucher (SCALE `MultiSignature`).
	pub signature: Vec<u8>,
}

impl Accepted {
	/// The channel's charged total with this call: what the next voucher builds on.
	pub fn total(&self) -> u128 {
		self.previous + self.charged
	}
}

/// The gateway: prices, channels, receipts.
pub struct Gateway {
	genesis: [u8; 32],
	rpc: String,
	prices: HashMap<ContentHash, Price>,
	books: Mutex<Books>,
	offered: Mutex<Vec<Offered>>,
	/// Verifies the sr25519 vouchers of calls that wait at once together.
	verifier: BatchVerifier,
	journal: PathBuf,
	offered_journal: PathBuf,
}

/// The `PAYMENT-RESPONSE` JSON of a paid call: what it was charged, the channel's new
/// charged total (what the next voucher builds on) and what the deposit has left.
pub fn response(gateway: &Gateway, accepted: &Accepted) -> serde_json::Value {
	serde_json::json!({
		"success": true,
		"scheme": payment::SCHEME,
		"network": format!("0x{}", hex::encode(gateway.genesis())),
		"channel": accepted.channel.to_string(),
		"charged": accepted.charged.to_string(),
		"cumulative": accepted.total().to_string(),
		"remaining": accepted.deposit.saturating_sub(accepted.total()).to_string(),
	})
}

/// A refusal and what to tell the client.
pub type Refused = (Refusal, String);

fn open_journal(path: &Path) -> std::io::Result<std::fs::File> {
	std::fs::OpenOptions::new().create(true).append(true).open(path)
}

impl Gateway {
	/// A gateway for chain `genesis` read at `rpc`, offering the models of `prices`,
	/// keeping its journals in `dir`'s folder for this chain, `0x{genesis}` (reloaded from
	/// there).
	pub fn open(
		genesis: [u8; 32],
		rpc: String,
		prices: HashMap<ContentHash, Price>,
		dir: &Path,
	) -> std::io::Result<Self> {
		// One folder per chain: channel ids start again at 0 on another chain (a
		// development chain started afresh over the same store), and its receipts must not
		// be taken for this chain's.
		let dir = dir.join(format!("0x{}", hex::encode(genesis)));
		std::fs::create_dir_all(&dir)?;
		let journal = dir.join("receipts.jsonl");
		let offered_journal = dir.join("offered.jsonl");
		let mut channels: HashMap<u64, Book> = HashMap::new();
		for receipt in read_lines::<Receipt>(&journal)? {
			let book = channels.entry(receipt.channel).or_default();
			book.charged = book.charged.max(receipt.total());
			if let Some(voucher) = receipt.voucher() {
				book.used.insert(voucher);
			}
			book.receipts.push(receipt);
		}
		let offered = read_lines::<Offered>(&offered_journal)?;
		Ok(Self {
			genesis,
			rpc,
			prices,
			books: Mutex::new(Books { channels, journal: open_journal(&journal)? }),
			offered: Mutex::new(offered),
			verifier: BatchVerifier::start()?,
			journal,
			offered_journal,
		})
	}

	/// The chain this gateway takes vouchers for.
	pub fn genesis(&self) -> &[u8; 32] {
		&self.genesis
	}

	/// What a call of model `hash` costs, if this executor offers it.
	pub fn price(&self, hash: &ContentHash) -> Option<Price> {
		self.prices.get(hash).copied()
	}

	fn lock(&self) -> std::sync::MutexGuard<'_, Books> {
		self.books.lock().expect("no panic holds the lock")
	}

	/// Channel `id` as the chain has it (cached for [`CHANNEL_TTL`]) and the best block.
	async fn chain_channel(&self, id: u64) -> Result<(Option<chain::ChainChannel>, u32), String> {
		let cached = self.lock().channels.get(&id).and_then(|book| {
			book.chain
				.as_ref()
				.filter(|(_, _, at)| at.elapsed() < CHANNEL_TTL)
				.map(|(channel, block, _)| (channel.clone(), *block))
		});
		if let Some(cached) = cached {
			return Ok(cached);
		}
		let (channel, block) =
			tokio::try_join!(chain::channel(&self.rpc, id), chain::best_block(&self.rpc))?;
		let mut books = self.lock();
		let book = books.channels.entry(id).or_default();
		book.chain = Some((channel.clone(), block, Instant::now()));
		Ok((channel, block))
	}

	/// Channel `id`'s client `account` as an sr25519 key (`None` if it is none),
	/// decompressed on the channel's first voucher and kept.
	fn client_key(&self, id: u64, account: &[u8; 32]) -> Option<schnorrkel::PublicKey> {
		let kept = self.lock().channels.get(&id).and_then(|book| {
			book.client_key.filter(|(kept, _)| kept == account).map(|(_, key)| key)
		});
		if kept.is_some() {
			return kept;
		}
		let key = schnorrkel::PublicKey::from_bytes(account).ok()?;
		self.lock().channels.entry(id).or_default().client_key = Some((*account, key));
		Some(key)
	}

	/// Accepts `header`'s voucher for the call with digest `call_digest` costing `price`,
	/// paying `node`: charges the call on its channel, or says why not.
	///
	/// The voucher's cumulative amount is the most the client lets the channel's charged
	/// total reach with this call (x402's `upto`): it must be above the charged total by
	/// at least the price and within the deposit; the call is charged its price, and the
	/// new charged total (which the answer reports) is what the next voucher builds on.
	pub async fn accept(
		&self,
		header: Option<&str>,
		call_digest: &[u8; 32],
		price: u128,
		node: &[u8; 32],
	) -> Result<Accepted, Refused> {
		self.accept_charging(header, call_digest, price, node, false).await
	}

	/// Accepts `header`'s voucher for a usage-priced call (a language model's, by tokens)
	/// with digest `call_digest` that costs at least `minimum`, paying `node`: as
	/// [`Self::accept`], but the whole amount the voucher authorizes above the channel's
	/// charged total (its cap) is charged until [`Self::charge_used`] says what the call
	/// used.
	pub async fn accept_up_to(
		&self,
		header: Option<&str>,
		call_digest: &[u8; 32],
		minimum: u128,
		node: &[u8; 32],
	) -> Result<Accepted, Refused> {
		self.accept_charging(header, call_digest, minimum, node, true).await
	}

	/// Charges a usage-priced call what it used (at most its cap): the channel's charged
	/// total goes back to the call's start plus `used`, unless another call was accepted
	/// on the channel since (its voucher built on the total with the whole cap, which then
	/// stays charged). `accepted` says what was charged.
	pub fn charge_used(&self, accepted: &mut Accepted, used: u128) {
		let used = used.min(accepted.charged);
		let mut books = self.lock();
		if let Some(book) = books.channels.get_mut(&accepted.channel) {
			if book.charged == accepted.total() {
				book.charged = accepted.previous + used;
				accepted.charged = used;
			}
		}
	}

	async fn accept_charging(
		&self,
		header: Option<&str>,
		call_digest: &[u8; 32],
		price: u128,
		node: &[u8; 32],
		whole_cap: bool,
	) -> Result<Accepted, Refused> {
		let header = header.ok_or((Refusal::PaymentRequired, "send a voucher".into()))?;
		let voucher = parse_voucher(header, &self.genesis).map_err(|refusal| {
			(refusal, "PAYMENT-SIGNATURE is not an opg-channel voucher".into())
		})?;
		let (channel, block) = self
			.chain_channel(voucher.channel)
			.await
			.map_err(|e| (Refusal::UnknownChannel, format!("the chain could not be read: {e}")))?;
		let channel = channel.ok_or_else(|| {
			(Refusal::UnknownChannel, format!("no channel {} on chain", voucher.channel))
		})?;
		if channel.node != *node {
			return Err((Refusal::WrongPayee, "the channel pays another node".into()));
		}
		if channel.closes_at.is_some() {
			return Err((Refusal::ChannelClosing, "the channel is closing".into()));
		}
		if block.saturating_add(EXPIRY_MARGIN) >= channel.expiry {
			return Err((
				Refusal::ChannelExpired,
				format!("the channel expires at block {}", channel.expiry),
			));
		}
		let signed =
			message::voucher(&self.genesis, voucher.channel, voucher.cumulative, call_digest);
		let verified = match voucher.signature.split_first() {
			Some((1, raw)) => match (
				<&[u8; 64]>::try_from(raw),
				self.client_key(voucher.channel, &channel.client),
			) {
				(Ok(raw), Some(key)) => self.verifier.verify(&key, &signed, raw).await,
				_ => false,
			},
			_ => verify_account(&channel.client, &signed, &voucher.signature),
		};
		if !verified {
			return Err((
				Refusal::WrongSigner,
				"the voucher is not the channel client's signature over this call".into(),
			));
		}
		let mut books = self.lock();
		let book = books.channels.entry(voucher.channel).or_default();
		book.charged = book.charged.max(channel.claimed);
		let previous = book.charged;
		if voucher.cumulative <= previous {
			return Err((
				Refusal::NotAboveLast,
				format!("the channel's charged total is already {previous}"),
			));
		}
		if voucher.cumulative > channel.deposit {
			return Err((
				Refusal::AboveDeposit,
				format!("the channel's deposit is {}", channel.deposit),
			));
		}
		if voucher.cumulative - previous < price {
			return Err((
				Refusal::BelowPrice,
				format!("the call costs {price}: authorize at least {}", previous + price),
			));
		}
		if !book.used.insert((voucher.cumulative, *call_digest)) {
			return Err((Refusal::VoucherReused, "this voucher already paid its call".into()));
		}
		let charged = if whole_cap { voucher.cumulative - previous } else { price };
		book.charged = previous + charged;
		Ok(Accepted {
			channel: voucher.channel,
			cumulative: voucher.cumulative,
			call_digest: *call_digest,
			previous,
			charged,
			deposit: channel.deposit,
			signature: voucher.signature,
		})
	}

	/// Gives back the charge of a call that failed (unless a later one was accepted): its
	/// voucher may be sent again.
	pub fn give_back(&self, accepted: &Accepted) {
		let mut books = self.lock();
		if let Some(book) = books.channels.get_mut(&accepted.channel) {
			if book.charged == accepted.total() {
				book.charged = accepted.previous;
			}
			book.used.remove(&(accepted.cumulative, accepted.call_digest));
		}
	}

	/// Records the receipt of a served call (journal first): what the node settles later.
	pub fn record(&self, accepted: &Accepted, call: &ServedCall) -> std::io::Result<()> {
		let receipt = Receipt {
			channel: accepted.channel,
			cumulative: accepted.cumulative.to_string(),
			total: Some(accepted.total().to_string()),
			signature: hex0x(&accepted.signature),
			call_digest: hex0x(&call.call_digest),
			response_digest: hex0x(&call.response_digest),
			model_hash: hex0x(&call.model_hash),
			mode: call.mode,
			amount: call.amount.to_string(),
		};
		let mut line = serde_json::to_string(&receipt).map_err(std::io::Error::other)?;
		line.push('\n');
		let mut books = self.lock();
		books.journal.write_all(line.as_bytes())?;
		books.channels.entry(accepted.channel).or_default().receipts.push(receipt);
		Ok(())
	}

	/// One settlement per channel with calls not yet known settled: the charged total,
	/// the voucher that authorized it, the root over the calls, `key`'s signature.
	/// Receipts whose voucher can no longer pay (at or below the chain's claimed total, or
	/// whose channel is gone) are dropped first.
	pub async fn offers(&self, key: &NodeKey) -> Vec<opg_executor_api::SettlementOffer> {
		let channels: Vec<u64> = {
			let books = self.lock();
			books
				.channels
				.iter()
				.filter(|(_, book)| !book.receipts.is_empty())
				.map(|(id, _)| *id)
				.collect()
		};
		let mut chain_state = HashMap::new();
		for id in channels {
			match chain::channel(&self.rpc, id).await {
				Ok(channel) => {
					chain_state.insert(id, channel);
				},
				Err(error) => tracing::warn!(channel = id, %error, "channel not read"),
			}
		}
		let mut offers = Vec::new();
		let mut books = self.lock();
		let mut changed = false;
		for (id, channel) in chain_state {
			let Some(book) = books.channels.get_mut(&id) else { continue };
			let before = book.receipts.len();
			let claimed = channel.as_ref().map_or(u128::MAX, |channel| channel.claimed);
			book.receipts.retain(|r| r.cumulative() > claimed);
			book.used.retain(|(cumulative, _)| *cumulative > claimed);
			changed |= book.receipts.len() != before;
			let unsettled: Vec<&Receipt> =
				book.receipts.iter().filter(|r| r.total() > claimed).collect();
			let Some(latest) = unsettled.iter().max_by_key(|r| r.total()).copied() else {
				continue;
			};
			let calls: Vec<ServedCall> = unsettled.iter().filter_map(|r| r.served()).collect();
			let Some(root) = merkle::root(&calls) else { continue };
			let (Some((cumulative, call_digest)), Some(signature)) =
				(latest.voucher(), opg_executor_api::parse_hex(&latest.signature))
			else {
				continue;
			};
			let total = latest.total();
			let count = calls.len() as u32;
			let settled = message::channel_settlement(&self.genesis, id, total, &root, count);
			offers.push(opg_executor_api::SettlementOffer {
				channel: id,
				cumulative,
				total,
				call_digest,
				voucher_signature: signature,
				node: key.public(),
				root,
				calls: count,
				node_signature: key.sign(&settled),
			});
			let offered = Offered {
				channel: id,
				root: hex0x(&root),
				total: total.to_string(),
				receipts: unsettled.into_iter().cloned().collect(),
			};
			let _ = append_line(&self.offered_journal, &offered);
			self.offered.lock().expect("no panic holds the lock").push(offered);
		}
		if changed {
			let all: Vec<&Receipt> =
				books.channels.values().flat_map(|book| &book.receipts).collect();
			match rewrite_lines(&self.journal, &all).and_then(|()| open_journal(&self.journal)) {
				Ok(file) => books.journal = file,
				Err(error) => tracing::warn!(%error, "the receipts journal was not compacted"),
			}
		}
		offers
	}

	/// The latest offered settlement covering call `digest`: its channel, leaf, root and
	/// the leaf's inclusion proof.
	pub fn served(&self, digest: &[u8; 32]) -> Option<(u64, ServedCall, [u8; 32], merkle::Proof)> {
		let offered = self.offered.lock().expect("no panic holds the lock");
		offered.iter().rev().find_map(|batch| {
			let calls: Vec<ServedCall> =
				batch.receipts.iter().filter_map(Receipt::served).collect();
			let index = calls.iter().position(|call| call.call_digest == *digest)?;
			let root = opg_executor_api::parse_hash(&batch.root)?;
			Some((batch.channel, calls[index], root, merkle::proof(&calls, index)?))
		})
	}
}

fn hex0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn read_lines<T: for<'de> Deserialize<'de>>(path: &Path) -> std::io::Result<Vec<T>> {
	match std::fs::read_to_string(path) {
		Ok(text) => Ok(text
			.lines()
			.filter_map(|line| match serde_json::from_str(line) {
				Ok(value) => Some(value),
				Err(error) => {
					// A line cut short by a crash: the rest is still read.
					tracing::warn!(path = %path.display(), %error, "a journal line is unreadable");
					None
				},
			})
			.collect()),
		Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
		Err(error) => Err(error),
	}
}

fn append_line<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
	let mut line = serde_json::to_string(value).map_err(std::io::Error::other)?;
	line.push('\n');
	let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
	file.write_all(line.as_bytes())
}

fn rewrite_lines<T: Serialize>(path: &Path, values: &[T]) -> std::io::Result<()> {
	let temporary = path.with_extension("tmp");
	let mut text = String::new();
	for value in values {
		text.push_str(&serde_json::to_string(value).map_err(std::io::Error::other)?);
		text.push('\n');
	}
	std::fs::write(&temporary, text)?;
	std::fs::rename(&temporary, path)
}
