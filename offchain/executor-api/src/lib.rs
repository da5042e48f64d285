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
//! | `POST /v1/infer/0x{model}` | [`Signing`] optional, `input` optional | input bytes, or empty with `input` | output bytes |
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
	/// `POST /v1/heartbeat?genesis=0x..&at=N`: the node key's heartbeat at block `N`
	/// (`opg_settlement::message::heartbeat`), for the node's worker to submit.
	pub const HEARTBEAT: &str = "/v1/heartbeat";
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
	/// On a `404`: what is missing, [`MISSING_INPUT`] when a stored input is unavailable
	/// from the store, every peer and its locator (the node may then decline the request).
	pub const MISSING: &str = "x-opg-missing";
	/// [`MISSING`]'s value for a stored input.
	pub const MISSING_INPUT: &str = "input";
	/// On a proof: the input commitment of the bytes proven (0x-hex, 32 bytes
	/// little-endian), which a stored ZKML request's caller committed to.
	pub const INPUT_COMMITMENT: &str = "x-opg-input-commitment";
	/// Asking for a private artifact: the requester's account (0x-hex public key); with
	/// [`SIGNATURE`] (its sr25519 signature of `opg_settlement::message::artifact_read`)
	/// and [`NOT_AFTER`].
	pub const ACCOUNT: &str = "x-opg-account";
	/// Asking for a private artifact: the unix second after which the read permission is
	/// void (at most [`super::MAX_READ_VALIDITY_S`] ahead of the executor's clock).
	pub const NOT_AFTER: &str = "x-opg-not-after";
	/// The node listener's credential: `authorization: Bearer {token}`
	/// ([`super::bearer`]), needed from any address but loopback.
	pub const AUTHORIZATION: &str = "authorization";
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

/// A result the executor signs with its node key: the chain and the request.
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
		/// Ask the executor to sign the result with its node key.
		signing: Option<Signing>,
		/// A `Private` request's requester (its account's SCALE encoding), to whom alone
		/// the input and output are served.
		requester: Option<&'a [u8]>,
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
	/// Sign the batch root over results the executor signed on chain `genesis`.
	SignBatch {
		/// The chain's genesis hash.
		genesis: &'a Hash32,
	},
	/// An artifact of the store.
	Artifact {
		/// Its SHA-256.
		hash: &'a Hash32,
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
			Self::SignBatch { genesis } => {
				query.push((query::GENESIS, hex32(genesis)));
				String::from(path::SIGN_BATCH)
			},
			Self::Artifact { hash } => format!("{}/{}", path::ARTIFACTS, hex32(hash)),
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
			_ => under(path::INFER)
				.map(Self::Infer)
				.or_else(|| under(path::PROVE).map(Self::Prove))
				.or_else(|| under(path::ARTIFACTS).map(Self::Artifact))?,
		})
	}
}

impl Route<'_> {
	/// Whether the executor's **public** listener answers this route (`get`: the method is
	/// `GET`; `query`: the request's query): health, `GET` of an artifact (a private one
	/// only to its requester), and an unsigned inference on an inline input (a stored
	/// input may be a private request's). Everything else (signing for a chain request,
	/// proving, batch signing, heartbeats, attestation, fetching, storing artifacts,
	/// metrics) is for the node listener alone.
	pub fn public(&self, get: bool, query: Option<&str>) -> bool {
		match self {
			Self::Health => get,
			Self::Artifact(_) => get,
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
		let uri = Call::Artifact { hash: &[8; 32] }.uri(BASE);
		let (path, _) = split(&uri);
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
			Route::SignBatch,
			Route::Fetch,
			Route::Attestation,
			Route::Registration,
			Route::Heartbeat,
		] {
			assert!(!route.public(true, None) && !route.public(false, None), "{route:?}");
		}
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
