//! # The executor's HTTP contract
//!
//! What the inference pallet's off-chain worker (and any other client: the JS tests, the
//! SDKs) sends to `opg-executor`, and what the executor parses: the paths, the query
//! parameters, the headers and the body encodings, each spelled once, here. Builders
//! ([`Call::uri`]) and parsers ([`Route::parse`], [`query_value`], [`parse_hash`],
//! [`Job::parse`], [`Signing::parse`]) are tested against each other.
//!
//! | Method and path | Query | Body | Answer |
//! |---|---|---|---|
//! | `GET /health` | | | JSON: models and devices, node key, deterministic mode |
//! | `GET /metrics` | | | Prometheus text |
//! | `POST /v1/infer/0x{model}` | [`Signing`] optional (signed if the executor holds a node key), `input` optional | input bytes, or empty with `input` | output bytes |
//! | `POST /v1/infer-many/0x{model}` | `genesis` optional (each job signed if the executor holds a node key) | [`encode_jobs`] | [`encode_answers`] |
//! | `POST /v1/prove/0x{model}` | [`Job`], `input` optional | input bytes, or empty with `input` | output bytes, [`header::PROOF`] |
//! | `POST /v1/sign-batch` | `genesis` | the batch's leaves ([`encode_leaves`]) | [`header::BATCH_ROOT`], [`header::SIGNATURE`] |
//! | `POST /v1/fetch` | `url` (percent-encoded) | | JSON provenance statement |
//! | `POST /v1/attestation` | `genesis`, `nonce` | | JSON `{node, document}` |
//! | `POST /v1/registration` | `genesis` | | JSON `{node, operator, signature}` |
//! | `PUT`/`GET /v1/artifacts/0x{hash}` | | artifact bytes | |
//!
//! Hashes and keys are 64 hex digits, written with `0x` and parsed with or without it;
//! request ids are decimal. Binary header values are `0x`-hex.

#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::{format, string::String, vec::Vec};

/// A SHA-256 hash, a genesis hash or a public key: 32 bytes.
pub type Hash32 = [u8; 32];

/// Path segments after `/v1/` and the top-level paths.
pub mod path {
	/// `GET`: the executor's state as JSON.
	pub const HEALTH: &str = "/health";
	/// `GET`: Prometheus metrics.
	pub const METRICS: &str = "/metrics";
	/// `POST /v1/infer/0x{model}`: run a model.
	pub const INFER: &str = "/v1/infer";
	/// `POST /v1/infer-many/0x{model}`: run a model on many inline inputs in one call
	/// (a TorchScript model batches them on libtorch), each answered on its own.
	pub const INFER_MANY: &str = "/v1/infer-many";
	/// `POST /v1/prove/0x{model}`: run a quantized model and prove it.
	pub const PROVE: &str = "/v1/prove";
	/// `POST /v1/sign-batch`: sign a batch root over results this executor signed.
	pub const SIGN_BATCH: &str = "/v1/sign-batch";
	/// `POST /v1/fetch?url=`: fetch and store external data with signed provenance.
	pub const FETCH: &str = "/v1/fetch";
	/// `POST /v1/attestation`: the TEE attestation document of the executor's node key.
	pub const ATTESTATION: &str = "/v1/attestation";
	/// `POST`: the node key's proof of possession for its registration, signed for the
	/// operator the executor was started for (`opg_settlement::message::registration`).
	pub const REGISTRATION: &str = "/v1/registration";
	/// `PUT`/`GET /v1/artifacts/0x{hash}`: the content-addressed store.
	pub const ARTIFACTS: &str = "/v1/artifacts";
	/// `POST /v1/channel-settlements?genesis=0x..`: per payment channel with calls served
	/// and not yet settled, the latest voucher and the node key's signature over the root
	/// of those calls ([`encode_offers`](super::encode_offers)), for the node's worker to submit.
	pub const CHANNEL_SETTLEMENTS: &str = "/v1/channel-settlements";
	/// `GET /v1/served/0x{call digest}`: a served direct call's leaf, the root of the
	/// settlement that covers it and its inclusion proof (JSON), to check on chain with
	/// `ChannelsApi::served_proof`.
	pub const SERVED: &str = "/v1/served";
	/// `POST /v1/heartbeat?genesis=0x..&at=N`: the node key's heartbeat at block `N`
	/// (`opg_settlement::message::heartbeat`), for the node's worker to submit.
	pub const HEARTBEAT: &str = "/v1/heartbeat";
	/// `POST`: OpenAI's chat completions, for the language models served (JSON; SSE when
	/// `stream` is true).
	pub const CHAT_COMPLETIONS: &str = "/v1/chat/completions";
	/// `POST`: OpenAI's (legacy) completions of a raw prompt.
	pub const COMPLETIONS: &str = "/v1/completions";
	/// `GET`: OpenAI's list of the language models served.
	pub const MODELS: &str = "/v1/models";
	/// `POST`: a verifier's check of a language model's answer against its activation
	/// commitments, with one prefill of a model served here (JSON in and out; see
	/// docs/verification.md). Node listener only: it costs a prefill.
	pub const ACTIVATIONS_CHECK: &str = "/v1/activations/check";
	/// `POST /v1/check/0x{model}?genesis=0x..&request=N&output=0x..`: a verification
	/// node's check of a held on-chain result: the model re-executed on the input and
	/// judged by the model's kind (see docs/verification.md); the verdict in
	/// [`header::VERDICT`](super::header::VERDICT).
	pub const CHECK: &str = "/v1/check";
	/// `GET /v1/evidence/{request}?genesis=0x..&output=0x..`: what the executor kept of its
	/// answer (whose output hashes to `output`) to an on-chain request for a language
	/// model: its tokens and activation commitments (JSON), for the result's verifiers.
	pub const EVIDENCE: &str = "/v1/evidence";
	/// `POST /v1/honeypots/0x{model}` with an input (its bytes, or `input=0x{hash}` of a
	/// stored one): plants a honeypot, a one-shot wrong answer to the next on-chain request
	/// for `model` on that input; `GET /v1/honeypots`: the plants not yet answered (JSON).
	/// Node listener only: a verification program's own node (docs/verification.md).
	pub const HONEYPOTS: &str = "/v1/honeypots";
}

/// Query parameter names.
pub mod query {
	/// The chain's genesis hash, which signatures and proofs bind.
	pub const GENESIS: &str = "genesis";
	/// The request id (decimal).
	pub const REQUEST: &str = "request";
	/// The node key a proof is bound to.
	pub const NODE: &str = "node";
	/// The SHA-256 of a stored input (the body is then empty).
	pub const INPUT: &str = "input";
	/// The URL a data node fetches.
	pub const URL: &str = "url";
	/// Where a stored input can be fetched when no peer has it (percent-encoded `http://`
	/// URL, the request's locator); the bytes must hash to `input`.
	pub const LOCATOR: &str = "locator";
	/// The registry's challenge nonce an attestation binds.
	pub const NONCE: &str = "nonce";
	/// The requester's account of a `Private` request, 0x-hex of its SCALE encoding (32
	/// bytes, an sr25519 public key, on OPG's chains): the executor serves the request's
	/// input and output to that account alone.
	pub const REQUESTER: &str = "requester";
	/// A block number (decimal): the block a heartbeat is for.
	pub const AT: &str = "at";
	/// The caller's input commitment of a stored ZKML request (0x-hex, 32 bytes): the
	/// executor refuses to prove bytes whose commitment differs (`409`, with the one it
	/// computed in [`header::INPUT_COMMITMENT`](super::header::INPUT_COMMITMENT)).
	pub const COMMITMENT: &str = "commitment";
	/// The SHA-256 of the output a node claimed (0x-hex), which a check judges.
	pub const OUTPUT: &str = "output";
	/// The byte length (decimal) of the claimed output that ends a check's body, when the
	/// caller holds its bytes ([`super::split_check_body`]).
	pub const OUTPUT_LEN: &str = "output-len";
	/// What the stored `input` of a check is: [`INPUT_FORM_CALL`] for a direct call's
	/// digest preimage (`u32 LE path length ‖ path ‖ body`, of a call to
	/// `/v1/infer/0x{model}`), whose body is the input; absent: the input itself.
	pub const INPUT_FORM: &str = "input-form";
	/// [`INPUT_FORM`]'s value for a direct call.
	pub const INPUT_FORM_CALL: &str = "call";
}

/// Header names of the executor's answers.
pub mod header {
	/// SHA-256 of the output bytes.
	pub const OUTPUT_HASH: &str = "x-opg-output-hash";
	/// The compressed Groth16 proof.
	pub const PROOF: &str = "x-opg-proof";
	/// The node key's sr25519 signature (of a result or a batch root).
	pub const SIGNATURE: &str = "x-opg-signature";
	/// The node key that signed.
	pub const NODE: &str = "x-opg-node";
	/// The Merkle root a batch signature covers.
	pub const BATCH_ROOT: &str = "x-opg-batch-root";
	/// The device a TorchScript model ran on (`cpu`, `cuda:N`).
	pub const DEVICE: &str = "x-opg-device";
	/// How many requests ran in the same batch.
	pub const BATCH_SIZE: &str = "x-opg-batch-size";
	/// Whether rerunning the input alone on this device type gives the same bits.
	pub const REPRODUCIBLE: &str = "x-opg-reproducible";
	/// A language model's answer: the model's (manifest's) hash.
	pub const MODEL_HASH: &str = "x-opg-model-hash";
	/// A language model's answer: the sampling seed (decimal).
	pub const SEED: &str = "x-opg-seed";
	/// On a `404`: what is missing, [`MISSING_INPUT`] when a stored input is unavailable
	/// from the store, every peer and its locator (the node may then decline the request).
	pub const MISSING: &str = "x-opg-missing";
	/// [`MISSING`]'s value for a stored input.
	pub const MISSING_INPUT: &str = "input";
	/// With a check's verdict: what of the serving node's was missing,
	/// [`MISSING_EVIDENCE`] when no store or peer gave a language model's answer's
	/// evidence (withholding it is a failed check).
	pub const MISSING_EVIDENCE: &str = "evidence";
	/// A check's verdict: [`VERDICT_VALID`] or [`VERDICT_INVALID`].
	pub const VERDICT: &str = "x-opg-verdict";
	/// [`VERDICT`]'s value when the result is the model's.
	pub const VERDICT_VALID: &str = "valid";
	/// [`VERDICT`]'s value when it is not (or cannot be shown to be).
	pub const VERDICT_INVALID: &str = "invalid";
	/// On a proof: the input commitment of the bytes proven (0x-hex, 32 bytes
	/// little-endian), which a stored ZKML request's caller committed to.
	pub const INPUT_COMMITMENT: &str = "x-opg-input-commitment";
	/// Asking for a private artifact: the requester's account (0x-hex public key); with
	/// [`SIGNATURE`] (its sr25519 signature of `opg_settlement::message::artifact_read`)
	/// and [`NOT_AFTER`]. Or a verification node's node key, seated on the case that
	/// checks the request named by `request=` (the permission is then over the request's
	/// stored input, and also opens its answer's evidence); a verifier's `POST
	/// /v1/check` carries its permission to its own executor, which shows it to its peers.
	pub const ACCOUNT: &str = "x-opg-account";
	/// Asking for a private artifact: the unix second after which the read permission is
	/// void (at most [`super::MAX_READ_VALIDITY_S`] ahead of the executor's clock).
	pub const NOT_AFTER: &str = "x-opg-not-after";
	/// The node listener's credential: `authorization: Bearer {token}`
	/// ([`super::bearer`]), needed from any address but loopback.
	pub const AUTHORIZATION: &str = "authorization";
}

/// Direct paid calls (x402 v2's header names, OPG's `opg-channel` scheme): a call to the
/// public `POST /v1/infer/0x{model}` of a priced model without a valid voucher is answered
/// `402` with [`payment::REQUIRED`]; a call with [`payment::SIGNATURE`] carrying a voucher
/// is served at once, and its answer carries [`payment::RESPONSE`] and the node key's
/// evidence ([`header::SIGNATURE`] over `opg_settlement::message::direct_answer`).
///
/// Each header value is base64 (standard alphabet, padded) of a JSON object; amounts are
/// decimal strings, hashes, keys and signatures `0x`-hex:
/// - [`payment::REQUIRED`]: `{x402Version: 2, error, accepts: [{scheme, network, amount,
///   asset, payTo, maxTimeoutSeconds, extra: {node, operator, modelHash, minIncrement,
///   open}}]}`, `error` one of the [`payment::Refusal`] codes;
/// - [`payment::SIGNATURE`]: `{x402Version: 2, scheme, network, payload: {channel,
///   cumulative, signature}}`, `signature` the SCALE encoding of the client account's
///   `MultiSignature` over `opg_settlement::message::voucher` for the call's digest
///   (`opg_settlement::channel::call_digest` of the path and body);
/// - [`payment::RESPONSE`]: `{success, scheme, network, channel, charged, cumulative,
///   remaining}`.
pub mod payment {
	/// The `402` answer's header: what to pay and how.
	pub const REQUIRED: &str = "payment-required";
	/// The call's header: the voucher.
	pub const SIGNATURE: &str = "payment-signature";
	/// The paid answer's header: what was charged.
	pub const RESPONSE: &str = "payment-response";
	/// OPG's x402 scheme: a cumulative voucher on a payment channel.
	pub const SCHEME: &str = "opg-channel";
	/// The x402 protocol version whose header names these are.
	pub const X402_VERSION: u32 = 2;

	/// Why a call was not served: the `error` of [`REQUIRED`].
	#[derive(Clone, Copy, PartialEq, Eq, Debug)]
	pub enum Refusal {
		/// No [`SIGNATURE`] header.
		PaymentRequired,
		/// The header is not base64 JSON of a voucher, or another scheme's.
		MalformedVoucher,
		/// The voucher is for another chain.
		WrongNetwork,
		/// The voucher's signature is not the channel client's over this call.
		WrongSigner,
		/// No such channel on chain.
		UnknownChannel,
		/// The channel pays another node.
		WrongPayee,
		/// The channel is closing.
		ChannelClosing,
		/// The channel's expiry has passed (or is too near to settle in).
		ChannelExpired,
		/// The cumulative amount is not above the channel's charged total (what the last
		/// answer's `PAYMENT-RESPONSE` reported).
		NotAboveLast,
		/// The cumulative amount adds less than the call's price.
		BelowPrice,
		/// The cumulative amount is above the channel's deposit.
		AboveDeposit,
		/// This voucher already paid a call: each pays one.
		VoucherReused,
	}

	impl Refusal {
		/// Every refusal.
		pub const ALL: [Self; 12] = [
			Self::PaymentRequired,
			Self::MalformedVoucher,
			Self::WrongNetwork,
			Self::WrongSigner,
			Self::UnknownChannel,
			Self::WrongPayee,
			Self::ChannelClosing,
			Self::ChannelExpired,
			Self::NotAboveLast,
			Self::BelowPrice,
			Self::AboveDeposit,
			Self::VoucherReused,
		];

		/// Its code in [`REQUIRED`]'s `error`.
		pub fn code(&self) -> &'static str {
			match self {
				Self::PaymentRequired => "payment_required",
				Self::MalformedVoucher => "malformed_voucher",
				Self::WrongNetwork => "wrong_network",
				Self::WrongSigner => "wrong_signer",
				Self::UnknownChannel => "unknown_channel",
				Self::WrongPayee => "wrong_payee",
				Self::ChannelClosing => "channel_closing",
				Self::ChannelExpired => "channel_expired",
				Self::NotAboveLast => "not_above_last",
				Self::BelowPrice => "below_price",
				Self::AboveDeposit => "above_deposit",
				Self::VoucherReused => "voucher_reused",
			}
		}

		/// The refusal of `code`.
		pub fn parse(code: &str) -> Option<Self> {
			Self::ALL.into_iter().find(|refusal| refusal.code() == code)
		}
	}
}

/// Where a node's off-chain workers find their executor: persistent offchain storage keys,
/// set by `opg-node --executor-url`, `--executor-token-file` and `--executor-node-key`
/// (or the `offchain_localStorageSet` RPC).
pub mod offchain_keys {
	/// The executor's base URL, UTF-8.
	pub const URL: &[u8] = b"opg::executor-url";
	/// The bearer token of the executor's node listener, UTF-8, sent with every call.
	pub const TOKEN: &[u8] = b"opg::executor-token";
	/// The public node key (32 bytes) that the executor holds itself and signs with.
	pub const NODE_KEY: &[u8] = b"opg::executor-node-key";
}

/// How far ahead of the executor's clock a private artifact's read permission may end:
/// a leaked permission is void within this many seconds.
pub const MAX_READ_VALIDITY_S: u64 = 600;

/// The [`header::AUTHORIZATION`] value that carries the node listener's `token`.
pub fn bearer(token: &str) -> String {
	format!("Bearer {token}")
}

/// The token of an [`header::AUTHORIZATION`] value (`Bearer {token}`), if it is one.
pub fn parse_bearer(value: &str) -> Option<&str> {
	let (scheme, token) = value.split_once(' ')?;
	(scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token.trim())
}

/// `text` with every byte but the unreserved ones (`A–Z a–z 0–9 - . _ ~`) as `%XX`: a
/// query value that carries a URL.
pub fn percent_encode(text: &str) -> String {
	let mut encoded = String::with_capacity(text.len());
	for byte in text.bytes() {
		match byte {
			b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
				encoded.push(byte as char)
			},
			_ => encoded.push_str(&format!("%{byte:02X}")),
		}
	}
	encoded
}

/// A percent-encoded query value (`+` is a space); `None` if an escape is malformed or the
/// result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
	let mut bytes = Vec::with_capacity(text.len());
	let mut rest = text.as_bytes();
	while let Some((&byte, tail)) = rest.split_first() {
		match byte {
			b'%' => {
				let digits = core::str::from_utf8(tail.get(..2)?).ok()?;
				bytes.push(u8::from_str_radix(digits, 16).ok()?);
				rest = &tail[2..];
			},
			b'+' => {
				bytes.push(b' ');
				rest = tail;
			},
			_ => {
				bytes.push(byte);
				rest = tail;
			},
		}
	}
	String::from_utf8(bytes).ok()
}

/// `0x` and 64 hex digits.
pub fn hex32(bytes: &Hash32) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// `0x` and the bytes' hex digits.
pub fn hex(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// A check's body ([`Call::Check`]): the inline input (empty for a stored one), then the
/// claimed output when the query names its length (`output_len`); `None` if the body is
/// shorter than that.
pub fn split_check_body(body: &[u8], output_len: Option<usize>) -> Option<(&[u8], Option<&[u8]>)> {
	match output_len {
		None => Some((body, None)),
		Some(len) => {
			let at = body.len().checked_sub(len)?;
			let (input, claimed) = body.split_at(at);
			Some((input, Some(claimed)))
		},
	}
}

/// The headers of a read permission for a private artifact: `account`'s (a requester's
/// account, or a seated verifier's node key) sr25519 `signature` of
/// `opg_settlement::message::artifact_read(hash, not_after)`.
pub fn read_permission(
	account: &Hash32,
	not_after: u64,
	signature: &[u8; 64],
) -> [(&'static str, String); 3] {
	[
		(header::ACCOUNT, hex32(account)),
		(header::NOT_AFTER, format!("{not_after}")),
		(header::SIGNATURE, hex(signature)),
	]
}

/// 32 bytes from 64 hex digits, with or without `0x`.
pub fn parse_hash(text: &str) -> Option<Hash32> {
	let mut hash = [0u8; 32];
	hex::decode_to_slice(text.strip_prefix("0x").unwrap_or(text), &mut hash).ok()?;
	Some(hash)
}

/// The bytes of a `0x`-hex header value (surrounding spaces ignored).
pub fn parse_hex(text: &str) -> Option<Vec<u8>> {
	let text = text.trim();
	hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()
}

/// The value of `name` in a query string (the part after `?`).
pub fn query_value<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
	query?.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// The chain and request a result is for: the executor signs the result when it holds a
/// node key, and a language model samples with the request's seed
/// (`opg_settlement::llm::request_seed`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Signing {
	/// The chain's genesis hash.
	pub genesis: Hash32,
	/// The request id.
	pub request: u64,
}

impl Signing {
	/// `genesis` and `request` from a query, in any order; `None` if either is missing or
	/// malformed.
	pub fn parse(query: Option<&str>) -> Option<Self> {
		Some(Self {
			genesis: parse_hash(query_value(query, query::GENESIS)?)?,
			request: query_value(query, query::REQUEST)?.parse().ok()?,
		})
	}
}

/// The heartbeat [`Call::Heartbeat`] asks the executor to sign: chain and block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HeartbeatAt {
	/// The chain's genesis hash.
	pub genesis: Hash32,
	/// The block the heartbeat is for.
	pub at: u64,
}

impl HeartbeatAt {
	/// `genesis` and `at` from a query, in any order; `None` if either is missing or
	/// malformed.
	pub fn parse(query: Option<&str>) -> Option<Self> {
		Some(Self {
			genesis: parse_hash(query_value(query, query::GENESIS)?)?,
			at: query_value(query, query::AT)?.parse().ok()?,
		})
	}
}

/// What a ZKML proof is bound to: chain, request and node key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Job {
	/// The chain's genesis hash.
	pub genesis: Hash32,
	/// The request id.
	pub request: u64,
	/// The node key serving the request.
	pub node: Hash32,
}

impl Job {
	/// `genesis`, `request` and `node` from a query, in any order.
	pub fn parse(query: Option<&str>) -> Option<Self> {
		let Signing { genesis, request } = Signing::parse(query)?;
		Some(Self { genesis, request, node: parse_hash(query_value(query, query::NODE)?)? })
	}
}

/// A call to the executor, as a client builds it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Call<'a> {
	/// Run `model` on the body, or on the stored input `input`; signed when `signing`.
	Infer {
		/// The model's artifact hash.
		model: &'a Hash32,
		/// A stored input's hash (the body is then empty).
		input: Option<&'a Hash32>,
		/// Where the stored input can be fetched if no peer has it.
		locator: Option<&'a str>,
		/// The chain and request: the executor signs the result if it holds a node key.
		signing: Option<Signing>,
		/// A `Private` request's requester (its account's SCALE encoding), to whom alone
		/// the input and output are served.
		requester: Option<&'a [u8]>,
	},
	/// Run `model` on many inline inputs, each a chain request's; each result signed by
	/// the executor's node key for chain `genesis` when given. The body is
	/// [`encode_jobs`], the answer [`encode_answers`].
	InferMany {
		/// The model's artifact hash.
		model: &'a Hash32,
		/// Sign each result for this chain.
		genesis: Option<&'a Hash32>,
	},
	/// Run and prove `model` for `job`.
	Prove {
		/// The model's artifact hash.
		model: &'a Hash32,
		/// A stored input's hash (the body is then empty).
		input: Option<&'a Hash32>,
		/// Where the stored input can be fetched if no peer has it.
		locator: Option<&'a str>,
		/// What the proof is bound to.
		job: Job,
		/// The caller's input commitment of a stored input, which the bytes must match.
		commitment: Option<&'a Hash32>,
		/// A `Private` request's requester (its account's SCALE encoding), to whom alone
		/// the input and output are served.
		requester: Option<&'a [u8]>,
	},
	/// Check a held on-chain result: re-execute `model` on the body's input, or on the
	/// stored input `input`, and judge the output the node claimed. The body is the inline
	/// input (empty for a stored one) followed by the claimed output's `output_len` bytes
	/// when the caller holds them ([`split_check_body`]).
	Check {
		/// The model's artifact hash.
		model: &'a Hash32,
		/// A stored input's hash (the body is then empty).
		input: Option<&'a Hash32>,
		/// Whether the stored input is a direct call's digest preimage
		/// ([`query::INPUT_FORM_CALL`]), whose body is the input.
		input_is_call: bool,
		/// Where the stored input can be fetched if no peer has it.
		locator: Option<&'a str>,
		/// The chain and request (a language model's seed is drawn from them).
		signing: Signing,
		/// The SHA-256 of the output the node claimed.
		output: &'a Hash32,
		/// The length of the claimed output's bytes at the body's end, if they are there.
		output_len: Option<usize>,
	},
	/// What the executor kept of its answer `output` to on-chain request `request` for a
	/// language model.
	Evidence {
		/// The chain's genesis hash.
		genesis: &'a Hash32,
		/// The request id.
		request: u64,
		/// The SHA-256 of the answer's output.
		output: &'a Hash32,
	},
	/// Plant a honeypot: answer the next on-chain request for `model` on the body's input,
	/// or on stored input `input`, wrongly, once.
	Plant {
		/// The model's artifact hash.
		model: &'a Hash32,
		/// A stored input's hash (the body is then empty).
		input: Option<&'a Hash32>,
	},
	/// Sign the batch root over results the executor signed on chain `genesis`.
	SignBatch {
		/// The chain's genesis hash.
		genesis: &'a Hash32,
	},
	/// An artifact of the store.
	Artifact {
		/// Its SHA-256.
		hash: &'a Hash32,
		/// The held result a verifier reads it to check (a private request's input: the
		/// read permission is then the seated verifier's, signed by its node key).
		request: Option<u64>,
	},
	/// The settlements of payment channels the executor's node key can make now.
	ChannelSettlements {
		/// The chain's genesis hash.
		genesis: &'a Hash32,
	},
	/// Sign the node key's heartbeat at block `at` of chain `genesis`.
	Heartbeat {
		/// The chain's genesis hash.
		genesis: &'a Hash32,
		/// The block the heartbeat is for.
		at: u64,
	},
}

impl Call<'_> {
	/// The URI of this call on the executor at `base` (e.g. `http://127.0.0.1:8700`).
	pub fn uri(&self, base: &str) -> String {
		let base = base.trim_end_matches('/');
		let mut query: Vec<(&str, String)> = Vec::new();
		let path = match self {
			Self::Infer { model, input, locator, signing, requester } => {
				if let Some(input) = input {
					query.push((query::INPUT, hex32(input)));
				}
				if let Some(locator) = locator {
					query.push((query::LOCATOR, percent_encode(locator)));
				}
				if let Some(Signing { genesis, request }) = signing {
					query.push((query::GENESIS, hex32(genesis)));
					query.push((query::REQUEST, format!("{request}")));
				}
				if let Some(requester) = requester {
					query.push((query::REQUESTER, format!("0x{}", hex::encode(requester))));
				}
				format!("{}/{}", path::INFER, hex32(model))
			},
			Self::Prove { model, input, locator, job, commitment, requester } => {
				if let Some(input) = input {
					query.push((query::INPUT, hex32(input)));
				}
				if let Some(locator) = locator {
					query.push((query::LOCATOR, percent_encode(locator)));
				}
				query.push((query::GENESIS, hex32(&job.genesis)));
				query.push((query::REQUEST, format!("{}", job.request)));
				query.push((query::NODE, hex32(&job.node)));
				if let Some(commitment) = commitment {
					query.push((query::COMMITMENT, hex32(commitment)));
				}
				if let Some(requester) = requester {
					query.push((query::REQUESTER, format!("0x{}", hex::encode(requester))));
				}
				format!("{}/{}", path::PROVE, hex32(model))
			},
			Self::Check { model, input, input_is_call, locator, signing, output, output_len } => {
				if let Some(input) = input {
					query.push((query::INPUT, hex32(input)));
				}
				if *input_is_call {
					query.push((query::INPUT_FORM, String::from(query::INPUT_FORM_CALL)));
				}
				if let Some(locator) = locator {
					query.push((query::LOCATOR, percent_encode(locator)));
				}
				query.push((query::GENESIS, hex32(&signing.genesis)));
				query.push((query::REQUEST, format!("{}", signing.request)));
				query.push((query::OUTPUT, hex32(output)));
				if let Some(len) = output_len {
					query.push((query::OUTPUT_LEN, format!("{len}")));
				}
				format!("{}/{}", path::CHECK, hex32(model))
			},
			Self::Plant { model, input } => {
				if let Some(input) = input {
					query.push((query::INPUT, hex32(input)));
				}
				format!("{}/{}", path::HONEYPOTS, hex32(model))
			},
			Self::Evidence { genesis, request, output } => {
				query.push((query::GENESIS, hex32(genesis)));
				query.push((query::OUTPUT, hex32(output)));
				format!("{}/{request}", path::EVIDENCE)
			},
			Self::InferMany { model, genesis } => {
				if let Some(genesis) = genesis {
					query.push((query::GENESIS, hex32(genesis)));
				}
				format!("{}/{}", path::INFER_MANY, hex32(model))
			},
			Self::SignBatch { genesis } => {
				query.push((query::GENESIS, hex32(genesis)));
				String::from(path::SIGN_BATCH)
			},
			Self::Artifact { hash, request } => {
				if let Some(request) = request {
					query.push((query::REQUEST, format!("{request}")));
				}
				format!("{}/{}", path::ARTIFACTS, hex32(hash))
			},
			Self::ChannelSettlements { genesis } => {
				query.push((query::GENESIS, hex32(genesis)));
				String::from(path::CHANNEL_SETTLEMENTS)
			},
			Self::Heartbeat { genesis, at } => {
				query.push((query::GENESIS, hex32(genesis)));
				query.push((query::AT, format!("{at}")));
				String::from(path::HEARTBEAT)
			},
		};
		let query: Vec<String> =
			query.into_iter().map(|(name, value)| format!("{name}={value}")).collect();
		match query.is_empty() {
			true => format!("{base}{path}"),
			false => format!("{base}{path}?{}", query.join("&")),
		}
	}
}

/// A request's route, as the executor dispatches it (the method is checked apart).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route<'a> {
	/// [`path::HEALTH`].
	Health,
	/// [`path::METRICS`].
	Metrics,
	/// [`path::INFER`] with the model segment as sent.
	Infer(&'a str),
	/// [`path::INFER_MANY`] with the model segment as sent.
	InferMany(&'a str),
	/// [`path::PROVE`] with the model segment as sent.
	Prove(&'a str),
	/// [`path::SIGN_BATCH`].
	SignBatch,
	/// [`path::FETCH`].
	Fetch,
	/// [`path::ATTESTATION`].
	Attestation,
	/// [`path::REGISTRATION`].
	Registration,
	/// [`path::ARTIFACTS`] with the hash segment as sent.
	Artifact(&'a str),
	/// [`path::HEARTBEAT`].
	Heartbeat,
	/// [`path::CHANNEL_SETTLEMENTS`].
	ChannelSettlements,
	/// [`path::SERVED`] with the call digest segment as sent.
	Served(&'a str),
	/// [`path::CHAT_COMPLETIONS`].
	ChatCompletions,
	/// [`path::COMPLETIONS`].
	Completions,
	/// [`path::MODELS`].
	Models,
	/// [`path::ACTIVATIONS_CHECK`].
	ActivationsCheck,
	/// [`path::CHECK`] with the model segment as sent.
	Check(&'a str),
	/// [`path::EVIDENCE`] with the request segment as sent.
	Evidence(&'a str),
	/// [`path::HONEYPOTS`] itself (the list).
	Honeypots,
	/// [`path::HONEYPOTS`] with the model segment as sent (a plant).
	Honeypot(&'a str),
}

impl<'a> Route<'a> {
	/// The route of `path` (without the query); `None` for any other path.
	pub fn parse(path: &'a str) -> Option<Self> {
		let under = |prefix: &str| {
			path.strip_prefix(prefix)?
				.strip_prefix('/')
				.filter(|rest| !rest.is_empty() && !rest.contains('/'))
		};
		Some(match path {
			path::HEALTH => Self::Health,
			path::METRICS => Self::Metrics,
			path::SIGN_BATCH => Self::SignBatch,
			path::FETCH => Self::Fetch,
			path::ATTESTATION => Self::Attestation,
			path::REGISTRATION => Self::Registration,
			path::HEARTBEAT => Self::Heartbeat,
			path::CHANNEL_SETTLEMENTS => Self::ChannelSettlements,
			path::CHAT_COMPLETIONS => Self::ChatCompletions,
			path::COMPLETIONS => Self::Completions,
			path::MODELS => Self::Models,
			path::ACTIVATIONS_CHECK => Self::ActivationsCheck,
			path::HONEYPOTS => Self::Honeypots,
			_ => under(path::INFER)
				.map(Self::Infer)
				.or_else(|| under(path::INFER_MANY).map(Self::InferMany))
				.or_else(|| under(path::PROVE).map(Self::Prove))
				.or_else(|| under(path::ARTIFACTS).map(Self::Artifact))
				.or_else(|| under(path::SERVED).map(Self::Served))
				.or_else(|| under(path::CHECK).map(Self::Check))
				.or_else(|| under(path::EVIDENCE).map(Self::Evidence))
				.or_else(|| under(path::HONEYPOTS).map(Self::Honeypot))?,
		})
	}
}

impl Route<'_> {
	/// Whether the executor's **public** listener answers this route (`get`: the method is
	/// `GET`; `query`: the request's query): health, `GET` of an artifact (a private one
	/// only to its requester), the evidence of a language model's on-chain answer (what
	/// its verifiers fetch), an unsigned inference on an inline input (a stored
	/// input may be a private request's), and the language models' OpenAI-compatible
	/// routes. Everything else (signing for a chain request,
	/// proving, batch signing, heartbeats, attestation, fetching, storing artifacts,
	/// metrics) is for the node listener alone.
	pub fn public(&self, get: bool, query: Option<&str>) -> bool {
		match self {
			Self::Health => get,
			Self::Artifact(_) => get,
			Self::Served(_) => get,
			Self::Evidence(_) => get,
			Self::Models => get,
			Self::ChatCompletions | Self::Completions => !get,
			Self::Infer(_) => {
				!get && [
					query::GENESIS,
					query::REQUEST,
					query::INPUT,
					query::LOCATOR,
					query::REQUESTER,
				]
				.iter()
				.all(|name| query_value(query, name).is_none())
			},
			_ => false,
		}
	}
}

/// One leaf of a batch as [`Call::SignBatch`] lists it: (request id, SHA-256 of the input,
/// SHA-256 of the output), `opg_settlement::merkle::Leaf`'s fields.
pub type BatchLeaf = (u64, Hash32, Hash32);

/// The bytes of one [`BatchLeaf`] in a [`Call::SignBatch`] body.
pub const BATCH_LEAF_LEN: usize = 8 + 32 + 32;

/// The body of [`Call::SignBatch`]: the leaves in order, each the request id (8 bytes
/// little-endian), the input hash and the output hash. The executor signs the root only
/// if it computed and signed every listed leaf itself.
pub fn encode_leaves(leaves: impl IntoIterator<Item = BatchLeaf>) -> Vec<u8> {
	leaves
		.into_iter()
		.flat_map(|(request, input, output)| {
			request.to_le_bytes().into_iter().chain(input).chain(output)
		})
		.collect()
}

/// The leaves of a [`Call::SignBatch`] body; `None` unless a whole number of leaves.
pub fn decode_leaves(body: &[u8]) -> Option<Vec<BatchLeaf>> {
	if !body.len().is_multiple_of(BATCH_LEAF_LEN) {
		return None;
	}
	Some(
		body.chunks_exact(BATCH_LEAF_LEN)
			.map(|chunk| {
				let request = u64::from_le_bytes(chunk[..8].try_into().expect("8 bytes"));
				let input = chunk[8..40].try_into().expect("32 bytes");
				let output = chunk[40..].try_into().expect("32 bytes");
				(request, input, output)
			})
			.collect(),
	)
}

/// A payment channel's settlement as the executor offers it ([`Call::ChannelSettlements`]):
/// the channel's latest voucher and the node key's signature over the root of the calls
/// served since the last settlement (`opg_settlement::message::channel_settlement`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SettlementOffer {
	/// The channel.
	pub channel: u64,
	/// The voucher's cumulative amount.
	pub cumulative: u128,
	/// The channel's charged total claimed (at most `cumulative`).
	pub total: u128,
	/// The digest of the call the voucher paid for.
	pub call_digest: Hash32,
	/// The client's signature of the voucher: its SCALE-encoded `MultiSignature`.
	pub voucher_signature: Vec<u8>,
	/// The node key.
	pub node: Hash32,
	/// The root over the calls served.
	pub root: Hash32,
	/// How many calls it covers.
	pub calls: u32,
	/// The node key's sr25519 signature of the settlement.
	pub node_signature: [u8; 64],
}

/// The body of a [`Call::ChannelSettlements`] answer: per offer, the channel (u64 LE),
/// the voucher's cumulative amount and the charged total (u128 LE each), the call digest, the voucher signature's length (u16
/// LE) and bytes, the node key, the root, the call count (u32 LE) and the node signature.
pub fn encode_offers<'a>(offers: impl IntoIterator<Item = &'a SettlementOffer>) -> Vec<u8> {
	let mut out = Vec::new();
	for offer in offers {
		out.extend_from_slice(&offer.channel.to_le_bytes());
		out.extend_from_slice(&offer.cumulative.to_le_bytes());
		out.extend_from_slice(&offer.total.to_le_bytes());
		out.extend_from_slice(&offer.call_digest);
		out.extend_from_slice(&(offer.voucher_signature.len() as u16).to_le_bytes());
		out.extend_from_slice(&offer.voucher_signature);
		out.extend_from_slice(&offer.node);
		out.extend_from_slice(&offer.root);
		out.extend_from_slice(&offer.calls.to_le_bytes());
		out.extend_from_slice(&offer.node_signature);
	}
	out
}

/// The offers of a [`Call::ChannelSettlements`] answer; `None` if it is malformed.
pub fn decode_offers(mut body: &[u8]) -> Option<Vec<SettlementOffer>> {
	fn take<'a>(body: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
		let (head, tail) = (body.get(..len)?, body.get(len..)?);
		*body = tail;
		Some(head)
	}
	let mut offers = Vec::new();
	while !body.is_empty() {
		let channel = u64::from_le_bytes(take(&mut body, 8)?.try_into().ok()?);
		let cumulative = u128::from_le_bytes(take(&mut body, 16)?.try_into().ok()?);
		let total = u128::from_le_bytes(take(&mut body, 16)?.try_into().ok()?);
		let call_digest = take(&mut body, 32)?.try_into().ok()?;
		let len = u16::from_le_bytes(take(&mut body, 2)?.try_into().ok()?) as usize;
		let voucher_signature = take(&mut body, len)?.to_vec();
		let node = take(&mut body, 32)?.try_into().ok()?;
		let root = take(&mut body, 32)?.try_into().ok()?;
		let calls = u32::from_le_bytes(take(&mut body, 4)?.try_into().ok()?);
		let node_signature = take(&mut body, 64)?.try_into().ok()?;
		offers.push(SettlementOffer {
			channel,
			cumulative,
			total,
			call_digest,
			voucher_signature,
			node,
			root,
			calls,
			node_signature,
		});
	}
	Some(offers)
}

/// The most jobs one [`Call::InferMany`] carries.
pub const MAX_JOBS_PER_CALL: usize = 256;

/// The bytes before each job's input in a [`Call::InferMany`] body: request id (u64 LE)
/// and input length (u32 LE).
pub const JOB_HEADER_LEN: usize = 8 + 4;

/// The body of [`Call::InferMany`]: each job's request id (8 bytes little-endian), its
/// input's length (4 bytes little-endian) and the input, in order.
pub fn encode_jobs<'a>(jobs: impl IntoIterator<Item = (u64, &'a [u8])>) -> Vec<u8> {
	let mut body = Vec::new();
	for (request, input) in jobs {
		body.extend_from_slice(&request.to_le_bytes());
		body.extend_from_slice(&(input.len() as u32).to_le_bytes());
		body.extend_from_slice(input);
	}
	body
}

/// The jobs of a [`Call::InferMany`] body; `None` if it does not end after a whole job.
pub fn decode_jobs(mut body: &[u8]) -> Option<Vec<(u64, &[u8])>> {
	let mut jobs = Vec::new();
	while !body.is_empty() {
		let request = u64::from_le_bytes(body.get(..8)?.try_into().ok()?);
		let len = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?) as usize;
		let input = body.get(JOB_HEADER_LEN..JOB_HEADER_LEN.checked_add(len)?)?;
		jobs.push((request, input));
		body = &body[JOB_HEADER_LEN + len..];
	}
	Some(jobs)
}

/// One job's answer in a [`Call::InferMany`] answer: what [`Call::Infer`] would have
/// answered for it alone.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct JobAnswer {
	/// The HTTP status the job alone would have had (`200`, `503` busy, …).
	pub status: u16,
	/// The node key's signature of the result, when the call asked for signing.
	pub signature: Option<[u8; 64]>,
	/// The output bytes on `200`, the reason otherwise (UTF-8).
	pub body: Vec<u8>,
}

/// The body of a [`Call::InferMany`] answer: per job, in the order of the call, the
/// status (u16 LE), a signature flag (one byte, 0 or 1) and the 64-byte signature when
/// it is 1, the body's length (u32 LE) and the body.
pub fn encode_answers<'a>(answers: impl IntoIterator<Item = &'a JobAnswer>) -> Vec<u8> {
	let mut out = Vec::new();
	for answer in answers {
		out.extend_from_slice(&answer.status.to_le_bytes());
		match &answer.signature {
			Some(signature) => {
				out.push(1);
				out.extend_from_slice(signature);
			},
			None => out.push(0),
		}
		out.extend_from_slice(&(answer.body.len() as u32).to_le_bytes());
		out.extend_from_slice(&answer.body);
	}
	out
}

/// The answers of a [`Call::InferMany`] answer body; `None` if it is malformed.
pub fn decode_answers(mut body: &[u8]) -> Option<Vec<JobAnswer>> {
	let mut answers = Vec::new();
	while !body.is_empty() {
		let status = u16::from_le_bytes(body.get(..2)?.try_into().ok()?);
		let (signature, rest) = match body.get(2)? {
			0 => (None, &body[3..]),
			1 => (Some(<[u8; 64]>::try_from(body.get(3..67)?).ok()?), &body[67..]),
			_ => return None,
		};
		let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
		let bytes = rest.get(4..4usize.checked_add(len)?)?;
		answers.push(JobAnswer { status, signature, body: bytes.to_vec() });
		body = &rest[4 + len..];
	}
	Some(answers)
}

#[cfg(test)]
mod tests {
	use super::*;

	const BASE: &str = "http://127.0.0.1:8700";

	fn split(uri: &str) -> (&str, Option<&str>) {
		let rest = uri.strip_prefix(BASE).unwrap();
		match rest.split_once('?') {
			Some((path, query)) => (path, Some(query)),
			None => (rest, None),
		}
	}

	#[test]
	fn an_inference_uri_names_the_model_and_nothing_else() {
		let uri = Call::Infer {
			model: &[0xab; 32],
			input: None,
			locator: None,
			signing: None,
			requester: None,
		}
		.uri(BASE);
		assert_eq!(uri, format!("{BASE}/v1/infer/0x{}", "ab".repeat(32)));
		let (path, query) = split(&uri);
		assert_eq!(Route::parse(path), Some(Route::Infer(&path[10..])));
		assert_eq!(parse_hash(&path[10..]), Some([0xab; 32]));
		assert_eq!(query, None);
	}

	#[test]
	fn a_signed_stored_inference_round_trips() {
		let signing = Signing { genesis: [1; 32], request: u64::MAX };
		let locator = "http://data.example/x?a=1&b=2 c";
		let uri = Call::Infer {
			model: &[2; 32],
			input: Some(&[3; 32]),
			locator: Some(locator),
			signing: Some(signing),
			requester: Some(&[7; 32][..]),
		}
		.uri(&format!("{BASE}/"));
		let (path, query) = split(&uri);
		assert!(matches!(Route::parse(path), Some(Route::Infer(_))));
		assert_eq!(
			query_value(query, query::LOCATOR).and_then(percent_decode).as_deref(),
			Some(locator)
		);
		assert_eq!(Signing::parse(query), Some(signing));
		assert_eq!(query_value(query, query::INPUT).and_then(parse_hash), Some([3; 32]));
		assert_eq!(Job::parse(query), None, "no node key: not a proving job");
		assert_eq!(query_value(query, query::REQUESTER).and_then(parse_hash), Some([7; 32]));
	}

	#[test]
	fn a_proving_job_round_trips_with_and_without_a_stored_input_and_commitment() {
		let job = Job { genesis: [4; 32], request: 7, node: [5; 32] };
		for (input, commitment) in
			[(None, None), (Some(&[6; 32]), None), (Some(&[6; 32]), Some(&[8; 32]))]
		{
			let uri = Call::Prove {
				model: &[2; 32],
				input,
				locator: None,
				job,
				commitment,
				requester: None,
			}
			.uri(BASE);
			let (path, query) = split(&uri);
			assert_eq!(Route::parse(path), Some(Route::Prove(&path[10..])));
			assert_eq!(Job::parse(query), Some(job));
			assert_eq!(query_value(query, query::INPUT).and_then(parse_hash).as_ref(), input);
			assert_eq!(
				query_value(query, query::COMMITMENT).and_then(parse_hash).as_ref(),
				commitment
			);
		}
	}

	#[test]
	fn batch_signing_and_artifacts_round_trip() {
		let uri = Call::SignBatch { genesis: &[9; 32] }.uri(BASE);
		let (path, query) = split(&uri);
		assert_eq!(Route::parse(path), Some(Route::SignBatch));
		assert_eq!(query_value(query, query::GENESIS).and_then(parse_hash), Some([9; 32]));
		let uri = Call::Artifact { hash: &[8; 32], request: Some(5) }.uri(BASE);
		let (path, query) = split(&uri);
		assert_eq!(query_value(query, query::REQUEST), Some("5"));
		assert_eq!(
			Route::parse(path)
				.map(|r| matches!(r, Route::Artifact(h) if parse_hash(h) == Some([8; 32]))),
			Some(true)
		);
	}

	#[test]
	fn only_health_artifact_reads_and_unsigned_inference_are_public() {
		let infer = Route::Infer("0x00");
		assert!(Route::Health.public(true, None));
		assert!(Route::Artifact("0x00").public(true, None));
		assert!(!Route::Artifact("0x00").public(false, None), "PUT is the node's");
		assert!(infer.public(false, None));
		for query in [
			"genesis=0x00&request=1",
			"request=1",
			"input=0x00",
			"locator=http%3A%2F%2Fa",
			"requester=0x00",
		] {
			assert!(!infer.public(false, Some(query)), "{query}");
		}
		for route in [
			Route::Metrics,
			Route::Prove("0x00"),
			Route::InferMany("0x00"),
			Route::SignBatch,
			Route::Fetch,
			Route::Attestation,
			Route::Registration,
			Route::Heartbeat,
			Route::ActivationsCheck,
		] {
			assert!(!route.public(true, None) && !route.public(false, None), "{route:?}");
		}
	}

	#[test]
	fn settlement_offers_round_trip_and_truncation_is_refused() {
		let offers = [
			SettlementOffer {
				channel: 3,
				cumulative: u128::MAX - 1,
				total: u128::MAX - 2,
				call_digest: [1; 32],
				voucher_signature: alloc::vec![2; 65],
				node: [3; 32],
				root: [4; 32],
				calls: 70_000,
				node_signature: [5; 64],
			},
			SettlementOffer {
				channel: 4,
				cumulative: 1,
				total: 1,
				call_digest: [6; 32],
				voucher_signature: Vec::new(),
				node: [7; 32],
				root: [8; 32],
				calls: 1,
				node_signature: [9; 64],
			},
		];
		let body = encode_offers(&offers);
		assert_eq!(decode_offers(&body).as_deref(), Some(&offers[..]));
		assert_eq!(decode_offers(&body[..body.len() - 1]), None);
		let uri = Call::ChannelSettlements { genesis: &[9; 32] }.uri(BASE);
		let (path, query) = split(&uri);
		assert_eq!(Route::parse(path), Some(Route::ChannelSettlements));
		assert_eq!(query_value(query, query::GENESIS).and_then(parse_hash), Some([9; 32]));
		assert!(!Route::ChannelSettlements.public(false, None));
		assert!(Route::Served("0x00").public(true, None));
		assert_eq!(Route::parse("/v1/served/0x01"), Some(Route::Served("0x01")));
	}

	#[test]
	fn a_check_names_the_claimed_output_and_is_for_the_node_listener_alone() {
		let signing = Signing { genesis: [2; 32], request: 7 };
		let uri = Call::Check {
			model: &[1; 32],
			input: Some(&[3; 32]),
			input_is_call: false,
			locator: None,
			signing,
			output: &[4; 32],
			output_len: Some(12),
		}
		.uri("http://x/");
		let (path, query) = uri["http://x".len()..].split_once('?').unwrap();
		assert_eq!(Route::parse(path), Some(Route::Check(&path[10..])));
		assert_eq!(parse_hash(&path[10..]), Some([1; 32]));
		assert_eq!(Signing::parse(Some(query)), Some(signing));
		assert_eq!(query_value(Some(query), query::OUTPUT).and_then(parse_hash), Some([4; 32]));
		assert_eq!(query_value(Some(query), query::INPUT).and_then(parse_hash), Some([3; 32]));
		assert_eq!(query_value(Some(query), query::OUTPUT_LEN), Some("12"));
		assert_eq!(query_value(Some(query), query::INPUT_FORM), None);
		assert!(!Route::Check("0x01").public(false, Some(query)));
		let call = Call::Check {
			model: &[1; 32],
			input: Some(&[3; 32]),
			input_is_call: true,
			locator: None,
			signing,
			output: &[4; 32],
			output_len: None,
		}
		.uri("http://x");
		let query = call.split_once('?').unwrap().1;
		assert_eq!(query_value(Some(query), query::INPUT_FORM), Some(query::INPUT_FORM_CALL));
	}

	#[test]
	fn a_plant_names_its_model_and_stored_input_and_is_for_the_node_listener_alone() {
		let uri = Call::Plant { model: &[1; 32], input: Some(&[3; 32]) }.uri("http://x");
		let (path, query) = uri["http://x".len()..].split_once('?').unwrap();
		assert_eq!(Route::parse(path), Some(Route::Honeypot(&path[14..])));
		assert_eq!(parse_hash(&path[14..]), Some([1; 32]));
		assert_eq!(query_value(Some(query), query::INPUT).and_then(parse_hash), Some([3; 32]));
		assert_eq!(Call::Plant { model: &[1; 32], input: None }.uri("http://x").find('?'), None);
		assert_eq!(Route::parse(path::HONEYPOTS), Some(Route::Honeypots));
		for get in [true, false] {
			assert!(!Route::Honeypots.public(get, None));
			assert!(!Route::Honeypot("0x01").public(get, None));
		}
	}

	#[test]
	fn a_checks_body_splits_into_its_input_and_the_claimed_output() {
		assert_eq!(split_check_body(b"inputclaimed", None), Some((&b"inputclaimed"[..], None)));
		assert_eq!(
			split_check_body(b"inputclaimed", Some(7)),
			Some((&b"input"[..], Some(&b"claimed"[..])))
		);
		assert_eq!(split_check_body(b"claimed", Some(7)), Some((&b""[..], Some(&b"claimed"[..]))));
		assert_eq!(split_check_body(b"short", Some(7)), None, "longer than the body");
	}

	#[test]
	fn evidence_is_read_by_request_on_either_listener() {
		let uri =
			Call::Evidence { genesis: &[9; 32], request: 42, output: &[5; 32] }.uri("http://x");
		let (path, query) = uri["http://x".len()..].split_once('?').unwrap();
		assert_eq!(Route::parse(path), Some(Route::Evidence("42")));
		assert_eq!(query_value(Some(query), query::OUTPUT).and_then(parse_hash), Some([5; 32]));
		assert_eq!(query_value(Some(query), query::GENESIS).and_then(parse_hash), Some([9; 32]));
		assert!(Route::Evidence("42").public(true, Some(query)));
		assert!(!Route::Evidence("42").public(false, Some(query)));
	}

	#[test]
	fn every_refusal_has_its_own_code() {
		for refusal in payment::Refusal::ALL {
			assert_eq!(payment::Refusal::parse(refusal.code()), Some(refusal));
		}
		let mut codes: Vec<_> = payment::Refusal::ALL.iter().map(|r| r.code()).collect();
		codes.sort();
		codes.dedup();
		assert_eq!(codes.len(), payment::Refusal::ALL.len());
	}

	#[test]
	fn a_bearer_token_round_trips() {
		assert_eq!(parse_bearer(&bearer("s3cret")), Some("s3cret"));
		assert_eq!(parse_bearer("bearer s3cret"), Some("s3cret"));
		assert_eq!(parse_bearer("Basic s3cret"), None);
		assert_eq!(parse_bearer("Bearer "), None);
		assert_eq!(parse_bearer("Bearer"), None);
	}

	#[test]
	fn other_paths_have_no_route() {
		for path in [
			"/",
			"/v1/infer",
			"/v1/infer/",
			"/v1/infer/a/b",
			"/v1/prove",
			"/v2/infer/0x00",
			"/healthz",
			"/v1/sign-batch/x",
		] {
			assert_eq!(Route::parse(path), None, "{path}");
		}
		assert_eq!(Route::parse("/health"), Some(Route::Health));
		assert_eq!(Route::parse("/v1/attestation"), Some(Route::Attestation));
		assert_eq!(Route::parse("/v1/registration"), Some(Route::Registration));
		assert_eq!(Route::parse("/v1/fetch"), Some(Route::Fetch));
		assert_eq!(Route::parse("/v1/heartbeat"), Some(Route::Heartbeat));
	}

	#[test]
	fn a_call_for_many_jobs_names_the_model_and_the_chain_it_signs_for() {
		for genesis in [None, Some(&[9; 32])] {
			let uri = Call::InferMany { model: &[2; 32], genesis }.uri(BASE);
			let (path, query) = split(&uri);
			assert_eq!(Route::parse(path), Some(Route::InferMany(&path[15..])));
			assert_eq!(parse_hash(&path[15..]), Some([2; 32]));
			assert_eq!(query_value(query, query::GENESIS).and_then(parse_hash).as_ref(), genesis);
		}
	}

	#[test]
	fn truncated_jobs_and_answers_are_refused() {
		let body = encode_jobs([(1, &b"abc"[..]), (2, &b""[..])]);
		assert_eq!(decode_jobs(&body), Some(alloc::vec![(1, &b"abc"[..]), (2, &b""[..])]));
		for cut in 1..body.len() {
			if cut != JOB_HEADER_LEN + 3 {
				assert_eq!(decode_jobs(&body[..cut]), None, "cut at {cut}");
			}
		}
		let answers = [
			JobAnswer { status: 200, signature: Some([7; 64]), body: b"out".to_vec() },
			JobAnswer { status: 503, signature: None, body: b"busy".to_vec() },
		];
		let body = encode_answers(&answers);
		assert_eq!(decode_answers(&body).as_deref(), Some(&answers[..]));
		assert_eq!(decode_answers(&body[..body.len() - 1]), None);
		let mut bad_flag = body.clone();
		bad_flag[2] = 2;
		assert_eq!(decode_answers(&bad_flag), None);
	}

	proptest::proptest! {
		#[test]
		fn jobs_and_answers_round_trip(
			jobs in proptest::collection::vec(
				(proptest::prelude::any::<u64>(), proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)),
				0..20,
			),
			statuses in proptest::collection::vec(proptest::prelude::any::<(u16, bool, u8)>(), 0..20),
		) {
			let borrowed: Vec<(u64, &[u8])> = jobs.iter().map(|(r, i)| (*r, &i[..])).collect();
			let encoded = encode_jobs(borrowed.clone());
			proptest::prop_assert_eq!(decode_jobs(&encoded), Some(borrowed));
			let answers: Vec<JobAnswer> = statuses
				.iter()
				.map(|(status, signed, fill)| JobAnswer {
					status: *status,
					signature: signed.then_some([*fill; 64]),
					body: alloc::vec![*fill; *fill as usize % 7],
				})
				.collect();
			proptest::prop_assert_eq!(decode_answers(&encode_answers(&answers)), Some(answers));
		}
	}

	#[test]
	fn a_heartbeat_call_names_the_chain_and_the_block() {
		let genesis = [9; 32];
		let uri = Call::Heartbeat { genesis: &genesis, at: 1234 }.uri(&format!("{BASE}/"));
		let (path, query) = split(&uri);
		assert_eq!(Route::parse(path), Some(Route::Heartbeat));
		assert_eq!(HeartbeatAt::parse(query), Some(HeartbeatAt { genesis, at: 1234 }));
		assert_eq!(HeartbeatAt::parse(Some(&format!("genesis={}", hex32(&genesis)))), None);
		assert_eq!(HeartbeatAt::parse(Some(&format!("genesis={}&at=x", hex32(&genesis)))), None);
	}

	#[test]
	fn malformed_values_are_refused() {
		assert_eq!(parse_hash("0x12"), None);
		assert_eq!(parse_hash(&"g".repeat(64)), None);
		assert_eq!(Signing::parse(Some("genesis=0x00&request=1")), None);
		assert_eq!(Signing::parse(Some(&format!("genesis={}&request=-1", hex32(&[0; 32])))), None);
		assert_eq!(decode_leaves(&[0; BATCH_LEAF_LEN + 1]), None);
		assert_eq!(
			encode_leaves([(0x0102, [3; 32], [4; 32])])[..10],
			[2, 1, 0, 0, 0, 0, 0, 0, 3, 3]
		);
		assert_eq!(parse_hex(" 0x0a0b "), Some(alloc::vec![10, 11]));
	}

	proptest::proptest! {
		#[test]
		fn percent_encoding_round_trips(text in ".*") {
			let encoded = percent_encode(&text);
			proptest::prop_assert!(!encoded.contains(['&', '=', '?', '#', ' ']));
			proptest::prop_assert_eq!(percent_decode(&encoded), Some(text));
		}
	}

	#[test]
	fn a_parameter_name_is_not_matched_as_a_prefix_of_another() {
		assert_eq!(query_value(Some("inputs=1&input=2"), query::INPUT), Some("2"));
	}

	proptest::proptest! {
		#[test]
		fn batch_leaves_round_trip(
			leaves in proptest::collection::vec(proptest::prelude::any::<(u64, Hash32, Hash32)>(), 0..50)
		) {
			proptest::prop_assert_eq!(decode_leaves(&encode_leaves(leaves.clone())), Some(leaves));
		}
	}
}
