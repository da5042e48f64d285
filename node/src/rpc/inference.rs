//! `inference_*`: requests, results with their evidence, and batch inclusion proofs, as
//! plain JSON (hex bytes, decimal balances as strings, SS58 accounts), for clients that
//! do not decode SCALE. The same data is in storage and events for polkadot.js.

use codec::Decode;
use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::{error::ErrorObject, ErrorObjectOwned},
};
use opg_runtime::{opaque::Block, Hash, Runtime, RuntimeCall, UncheckedExtrinsic};
use opg_settlement::message;
use pallet_inference::{
	runtime_api::InferenceApi as InferenceRuntimeApi, Input, InputOf, Output, RequestId, RequestOf,
	SettledOf, Settlement, SettlementMode,
};
use polkadot_sdk::{
	sc_transaction_pool_api::{
		error::{Error as PoolError, IntoPoolError},
		TransactionPool, TransactionSource,
	},
	sp_api::ProvideRuntimeApi,
	sp_blockchain::HeaderBackend,
	sp_core::{crypto::Ss58Codec, Bytes},
	sp_runtime::traits::ExtrinsicLike,
};
use serde_json::{json, Value};
use std::sync::Arc;

/// The runtime API as the node calls it.
pub trait Api:
	InferenceRuntimeApi<Block, RequestOf<Runtime>, InputOf<Runtime>, SettledOf<Runtime>>
{
}
impl<T: InferenceRuntimeApi<Block, RequestOf<Runtime>, InputOf<Runtime>, SettledOf<Runtime>>> Api
	for T
{
}

/// The `inference_*` methods.
#[rpc(server, namespace = "inference")]
pub trait InferenceRpc {
	/// Submits a signed `inference.request` or `inference.request_zkml_stored` extrinsic
	/// (SCALE, hex) to the pool and returns its hash; anything else is refused. The request
	/// id is in the `RequestSubmitted` event once it is in a block.
	#[method(name = "submitRequest")]
	async fn submit_request(&self, extrinsic: Bytes) -> RpcResult<Hash>;

	/// An open request, with its input; `null` once settled or expired, or if unknown.
	/// Request ids, here and below, are taken as a JSON number or a decimal string and
	/// returned as decimal strings (a `u64` does not fit JavaScript's numbers).
	#[method(name = "request")]
	fn request(&self, id: Value, at: Option<Hash>) -> RpcResult<Option<Value>>;

	/// A settled request: output (or its hash), payment, and the evidence: the node's
	/// signature and the exact message it signed, or the batch it was settled in.
	#[method(name = "result")]
	fn result(&self, id: Value, at: Option<Hash>) -> RpcResult<Option<Value>>;

	/// The inclusion proof of a request settled in a batch, with the signed root and the
	/// message the node key signed; `null` if it was not settled in a batch.
	#[method(name = "batchProof")]
	fn batch_proof(&self, id: Value, at: Option<Hash>) -> RpcResult<Option<Value>>;

	/// A page of the open requests assigned to a node key (hex): `{"requests": [ids],
	/// "next": id | null}`, at most `limit` ids (default and cap 1,000) after request
	/// `after`; `next` is the `after` of the next page, `null` on the last.
	#[method(name = "assignments")]
	fn assignments(
		&self,
		node: Bytes,
		after: Option<Value>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Value>;
}

/// Serves `inference_*` from the client's state and pool.
pub struct Inference<C, P> {
	client: Arc<C>,
	pool: Arc<P>,
}

impl<C, P> Inference<C, P> {
	/// The module over `client` and `pool`.
	pub fn new(client: Arc<C>, pool: Arc<P>) -> Self {
		Self { client, pool }
	}
}

fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObject::owned(code, message.into(), None::<()>)
}

/// Codes of this module's errors (docs/inference.md lists them): bad input (a malformed
/// extrinsic, request id or node key)...
const INVALID_INPUT: i32 = 4000;
/// ...an extrinsic that is not a signed request...
const NOT_A_REQUEST: i32 = 4001;
/// ...refused by the transaction pool...
const POOL_REFUSED: i32 = 4002;
/// ...or a runtime API call that failed.
const RUNTIME_ERROR: i32 = 4003;

/// A request id from JSON: a non-negative integer number, or the same in a decimal string.
fn request_id(value: &Value) -> Result<RequestId, ErrorObjectOwned> {
	let parsed = match value {
		Value::Number(number) => number.as_u64(),
		Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
			text.parse().ok()
		},
		_ => None,
	};
	parsed.ok_or_else(|| {
		error(
			INVALID_INPUT,
			format!("a request id is an integer from 0 to 2^64 - 1, as a number or a decimal string, not {value}"),
		)
	})
}

/// Why the pool refused a transaction, in words: the pool's own message, without the
/// `Debug` of an opaque hash (`[Any { .. }] Already imported`).
fn pool_reason<E: IntoPoolError + std::fmt::Display>(e: E) -> String {
	match e.into_pool_error() {
		Ok(PoolError::AlreadyImported(_)) => {
			"already imported: the same transaction is in the pool".into()
		},
		Ok(e) => e.to_string(),
		Err(e) => e.to_string(),
	}
}

fn hex(bytes: impl AsRef<[u8]>) -> String {
	format!("0x{}", ::hex::encode(bytes))
}

fn mode_name(mode: pallet_node_registry::VerificationMode) -> &'static str {
	match mode {
		pallet_node_registry::VerificationMode::Vanilla => "Vanilla",
		pallet_node_registry::VerificationMode::Tee => "Tee",
		pallet_node_registry::VerificationMode::Zkml => "Zkml",
	}
}

fn settlement_name(mode: SettlementMode) -> &'static str {
	match mode {
		SettlementMode::Individual => "Individual",
		SettlementMode::Batch => "Batch",
		SettlementMode::Private => "Private",
	}
}

impl<C, P> Inference<C, P>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: Api,
{
	fn at(&self, at: Option<Hash>) -> Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}

	fn runtime_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
		error(RUNTIME_ERROR, format!("runtime API call failed: {e}"))
	}

	fn genesis(&self) -> [u8; 32] {
		self.client.info().genesis_hash.into()
	}
}

#[async_trait]
impl<C, P> InferenceRpcServer for Inference<C, P>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: Api,
	P: TransactionPool<Block = Block, Hash = Hash> + 'static,
{
	async fn submit_request(&self, extrinsic: Bytes) -> RpcResult<Hash> {
		let decoded = UncheckedExtrinsic::decode(&mut &extrinsic[..])
			.map_err(|e| error(INVALID_INPUT, format!("not an OPG extrinsic: {e}")))?;
		if !matches!(
			decoded.function,
			RuntimeCall::Inference(
				pallet_inference::Call::request { .. }
					| pallet_inference::Call::request_zkml_stored { .. }
			)
		) {
			return Err(error(
				NOT_A_REQUEST,
				"the extrinsic does not call inference.request or inference.request_zkml_stored",
			));
		}
		if decoded.is_bare() {
			return Err(error(NOT_A_REQUEST, "a request must be signed by the account that pays"));
		}
		let opaque = Decode::decode(&mut &extrinsic[..])
			.map_err(|e| error(INVALID_INPUT, format!("{e}")))?;
		self.pool
			.submit_one(self.client.info().best_hash, TransactionSource::External, opaque)
			.await
			.map_err(|e| {
				error(
					POOL_REFUSED,
					format!("transaction pool refused the request: {}", pool_reason(e)),
				)
			})
	}

	fn request(&self, id: Value, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let id = request_id(&id)?;
		let api = self.client.runtime_api();
		let at = self.at(at);
		let Some(request) = api.request(at, id).map_err(Self::runtime_error)? else {
			return Ok(None);
		};
		let input = match api.input(at, id).map_err(Self::runtime_error)? {
			Some(Input::Inline(bytes)) => json!({ "inline": hex(bytes) }),
			Some(Input::Stored { hash, size, locator }) => {
				json!({ "stored": { "hash": hex(hash), "size": size, "locator": String::from_utf8_lossy(&locator) } })
			},
			None => Value::Null,
		};
		Ok(Some(json!({
			"id": id.to_string(),
			"requester": request.requester.to_ss58check(),
			"model": request.model,
			"modelHash": hex(request.model_hash),
			"inputHash": hex(request.input_hash),
			"input": input,
			"mode": mode_name(request.mode),
			"settlement": settlement_name(request.settlement),
			"fee": request.fee.to_string(),
			"window": request.window,
			"node": hex(request.node),
			"deadline": request.deadline,
			"attempts": request.attempts,
		})))
	}

	fn result(&self, id: Value, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let id = request_id(&id)?;
		let api = self.client.runtime_api();
		let Some(settled) = api.result(self.at(at), id).map_err(Self::runtime_error)? else {
			return Ok(None);
		};
		let output_hash = settled.output.hash();
		let output = match &settled.output {
			Output::Inline(bytes) => json!({ "inline": hex(bytes) }),
			Output::Hash(hash) => json!({ "hash": hex(hash) }),
		};
		let signed_message = || {
			hex(message::result(
				&self.genesis(),
				id,
				&settled.model_hash,
				&settled.input_hash,
				&output_hash,
			))
		};
		let evidence = match &settled.settlement {
			Settlement::Single { signature } => json!({
				"signature": hex(signature),
				"message": signed_message(),
			}),
			Settlement::InBatch { batch, index } => {
				json!({ "batch": batch.to_string(), "index": index })
			},
			Settlement::Proven { signature, proof } => json!({
				"signature": hex(signature),
				"message": signed_message(),
				"proof": hex(proof),
				"statementVersion": opg_zk_verifier::STATEMENT_VERSION,
			}),
		};
		Ok(Some(json!({
			"id": id.to_string(),
			"node": hex(settled.node),
			"mode": mode_name(settled.mode),
			"modelHash": hex(settled.model_hash),
			"inputHash": hex(settled.input_hash),
			"output": output,
			"outputHash": hex(output_hash),
			"paid": settled.paid.to_string(),
			"protocolFee": settled.protocol_fee.to_string(),
			"at": settled.at,
			"evidence": evidence,
		})))
	}

	fn batch_proof(&self, id: Value, at: Option<Hash>) -> RpcResult<Option<Value>> {
		let id = request_id(&id)?;
		let api = self.client.runtime_api();
		let Some(proof) = api.batch_proof(self.at(at), id).map_err(Self::runtime_error)? else {
			return Ok(None);
		};
		let signed = message::batch(&self.genesis(), &proof.root, proof.proof.leaf_count);
		Ok(Some(json!({
			"batch": proof.batch.to_string(),
			"node": hex(proof.node),
			"root": hex(proof.root),
			"signature": hex(proof.signature),
			"message": hex(signed),
			"leaf": {
				"request": proof.leaf.request.to_string(),
				"inputHash": hex(proof.leaf.input_hash),
				"outputHash": hex(proof.leaf.output_hash),
			},
			"index": proof.proof.index,
			"leafCount": proof.proof.leaf_count,
			"siblings": proof.proof.siblings.iter().map(hex).collect::<Vec<_>>(),
		})))
	}

	fn assignments(
		&self,
		node: Bytes,
		after: Option<Value>,
		limit: Option<u32>,
		at: Option<Hash>,
	) -> RpcResult<Value> {
		let after = after
			.filter(|after| !after.is_null())
			.map(|after| request_id(&after))
			.transpose()?;
		let node: [u8; 32] = node
			.0
			.as_slice()
			.try_into()
			.map_err(|_| error(INVALID_INPUT, "a node key is 32 bytes"))?;
		let limit = limit.unwrap_or(pallet_inference::MAX_ASSIGNMENTS_PAGE);
		if limit == 0 {
			return Err(error(INVALID_INPUT, "limit must be at least 1"));
		}
		let limit = limit.min(pallet_inference::MAX_ASSIGNMENTS_PAGE);
		let requests = self
			.client
			.runtime_api()
			.assignments(self.at(at), node.into(), after, limit)
			.map_err(Self::runtime_error)?;
		let next = (requests.len() == limit as usize).then(|| requests.last().copied()).flatten();
		Ok(json!({
			"requests": requests.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
			"next": next.map(|id| id.to_string()),
		}))
	}
}
