//! What the executor reads from the chain: a published model's artifact hash and schema,
//! so that an operator names a model by its id (`{"model": 7}` in the configuration) and
//! never writes its schema a second time.
//!
//! The executor asks a node's JSON-RPC (`--chain-rpc http://…`) with `state_call` of
//! [`opg_primitives::MODEL_SERVING_CALL`] (`ModelHubApi::serving`), SCALE in and out,
//! and decodes [`opg_primitives::ModelServing`], the model hub's own record.

use crate::TorchConfig;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use opg_primitives::{
	codec::{Decode, Encode},
	ModelId, ModelServing, Schema, MODEL_SERVING_CALL,
};
use serde::Deserialize;

/// A TorchScript model as the configuration file names it: by its model hub id (with
/// `--chain-rpc`: the artifact hash and schema come from the chain), or by its artifact
/// hash and schema, written out (no chain needed).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
	/// The model hub's id.
	#[serde(default)]
	pub model: Option<ModelId>,
	/// SHA-256 of the `.pt` file (0x-hex); checked against the chain's when both are given.
	#[serde(default)]
	pub hash: Option<String>,
	/// The schema; checked against the chain's when both are given.
	#[serde(default)]
	pub schema: Option<Schema>,
	/// Requests run together at most; 1 turns batching off.
	#[serde(default = "crate::default_max_batch")]
	pub max_batch: usize,
	/// The published tolerance; checked against the chain's when both are given.
	#[serde(default)]
	pub tolerance: Option<opg_primitives::Tolerance>,
}

/// How long a call to the node's JSON-RPC may take.
pub const RPC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The `result` of JSON-RPC `method` with `params` on the node at `rpc` (`http://`, or
/// `ws://`: a node serves HTTP and WebSocket JSON-RPC on the same port).
pub async fn rpc_call(
	rpc: &str,
	method: &str,
	params: serde_json::Value,
) -> Result<serde_json::Value, String> {
	let http = match rpc.strip_prefix("ws://") {
		Some(rest) => format!("http://{rest}"),
		None => rpc.to_owned(),
	};
	let uri: hyper::Uri = http.parse().map_err(|_| format!("{rpc:?} is not a URL"))?;
	if uri.scheme_str() != Some("http") {
		return Err(format!("{rpc}: only http:// and ws:// node RPC URLs are supported"));
	}
	let request =
		serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
	let request = hyper::Request::post(uri)
		.header(hyper::header::CONTENT_TYPE, "application/json")
		.body(Full::new(Bytes::from(request.to_string())))
		.map_err(|e| e.to_string())?;
	let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
	let call = async {
		let response = client.request(request).await.map_err(|e| format!("{rpc}: {e}"))?;
		let body = Limited::new(response.into_body(), 1 << 20)
			.collect()
			.await
			.map_err(|e| format!("{rpc}: {e}"))?;
		Ok::<_, String>(body.to_bytes())
	};
	let body = tokio::time::timeout(RPC_TIMEOUT, call)
		.await
		.map_err(|_| format!("{rpc}: timed out"))??;
	let answer: serde_json::Value =
		serde_json::from_slice(&body).map_err(|e| format!("not a JSON-RPC answer: {e}"))?;
	if let Some(error) = answer.get("error") {
		return Err(format!("the node refused {method}: {error}"));
	}
	Ok(answer["result"].clone())
}

/// The SCALE answer of runtime call `call` (`state_call`) with SCALE `args`.
pub async fn state_call(rpc: &str, call: &str, args: &[u8]) -> Result<Vec<u8>, String> {
	let params = serde_json::json!([call, format!("0x{}", hex::encode(args))]);
	let result = rpc_call(rpc, "state_call", params).await?;
	result
		.as_str()
		.and_then(opg_executor_api::parse_hex)
		.ok_or_else(|| String::from("the JSON-RPC answer has no hex result"))
}

/// The answer of `ModelHubApi::serving(model)` from the node at `rpc`.
pub async fn model_serving(rpc: &str, model: ModelId) -> Result<ModelServing, String> {
	let answer = state_call(rpc, MODEL_SERVING_CALL, &model.encode()).await?;
	decode_serving(&answer, model)
}

/// The chain's genesis hash.
pub async fn genesis_hash(rpc: &str) -> Result<[u8; 32], String> {
	let result = rpc_call(rpc, "chain_getBlockHash", serde_json::json!([0])).await?;
	result
		.as_str()
		.and_then(opg_executor_api::parse_hash)
		.ok_or_else(|| String::from("chain_getBlockHash answered no hash"))
}

/// The number of the node's best block.
pub async fn best_block(rpc: &str) -> Result<u32, String> {
	let header = rpc_call(rpc, "chain_getHeader", serde_json::json!([])).await?;
	header["number"]
		.as_str()
		.and_then(|number| u32::from_str_radix(number.trim_start_matches("0x"), 16).ok())
		.ok_or_else(|| String::from("chain_getHeader answered no block number"))
}

/// A payment channel as the chain keeps it, decoded off chain.
pub type ChainChannel = opg_primitives::Channel<[u8; 32], [u8; 32], u128, u32>;

/// Payment channel `id` on the chain at `rpc` (`ChannelsApi::channel`); `None` if it was
/// never opened or was withdrawn.
pub async fn channel(rpc: &str, id: u64) -> Result<Option<ChainChannel>, String> {
	let answer = state_call(rpc, opg_primitives::CHANNEL_CALL, &id.encode()).await?;
	Option::<ChainChannel>::decode(&mut &answer[..])
		.map_err(|e| format!("the runtime's channel does not decode: {e}"))
}

/// What `verifier` may read of held result `request` (`VerificationApi::verifier_reads`):
/// `Some` only while it has a seat in the current round of the open case that checks it.
pub async fn verifier_reads(
	rpc: &str,
	verifier: &[u8; 32],
	request: u64,
) -> Result<Option<opg_primitives::VerifierReads>, String> {
	let args = (verifier, request).encode();
	let answer = state_call(rpc, opg_primitives::VERIFIER_READS_CALL, &args).await?;
	Option::<opg_primitives::VerifierReads>::decode(&mut &answer[..])
		.map_err(|e| format!("the runtime's verifier reads do not decode: {e}"))
}

/// The [`ModelServing`] in a JSON-RPC answer to `state_call`.
pub fn decode_answer(body: &[u8], model: ModelId) -> Result<ModelServing, String> {
	let answer: serde_json::Value =
		serde_json::from_slice(body).map_err(|e| format!("not a JSON-RPC answer: {e}"))?;
	if let Some(error) = answer.get("error") {
		return Err(format!("the node refused {MODEL_SERVING_CALL}: {error}"));
	}
	let result = answer["result"]
		.as_str()
		.and_then(opg_executor_api::parse_hex)
		.ok_or("the JSON-RPC answer has no hex result")?;
	decode_serving(&result, model)
}

/// The [`ModelServing`] in the SCALE answer of [`MODEL_SERVING_CALL`].
fn decode_serving(result: &[u8], model: ModelId) -> Result<ModelServing, String> {
	let serving = Option::<ModelServing>::decode(&mut &result[..])
		.map_err(|e| format!("the runtime's answer does not decode: {e}"))?;
	serving.ok_or_else(|| format!("model {model} is not published on this chain"))
}

/// The model `entry` names, with its artifact hash and schema from the chain at `rpc`
/// when it names a model id. A hash or schema written beside the id must equal the
/// chain's.
pub async fn resolve(entry: &ModelEntry, rpc: Option<&str>) -> Result<TorchConfig, String> {
	let Some(model) = entry.model else {
		let (Some(hash), Some(schema)) = (&entry.hash, &entry.schema) else {
			return Err(
				"a model needs its id (\"model\", with --chain-rpc) or its \"hash\" and \"schema\""
					.into(),
			);
		};
		return Ok(TorchConfig {
			hash: hash.clone(),
			schema: schema.clone(),
			max_batch: entry.max_batch,
			tolerance: entry.tolerance,
		});
	};
	let rpc = rpc.ok_or_else(|| format!("model {model} is named by id: give --chain-rpc"))?;
	let serving = model_serving(rpc, model).await?;
	if let Some(hash) = &entry.hash {
		if opg_executor_api::parse_hash(hash) != Some(serving.artifact_hash) {
			return Err(format!(
				"model {model}: the configuration's hash {hash} is not the chain's 0x{}",
				hex::encode(serving.artifact_hash)
			));
		}
	}
	if entry.schema.as_ref().is_some_and(|schema| *schema != serving.schema) {
		return Err(format!("model {model}: the configuration's schema is not the chain's"));
	}
	if entry.tolerance.is_some() && entry.tolerance != serving.tolerance {
		return Err(format!("model {model}: the configuration's tolerance is not the chain's"));
	}
	if !serving.active {
		tracing::warn!(model, "the model is deprecated: served for the requests already made");
	}
	Ok(TorchConfig {
		hash: format!("0x{}", hex::encode(serving.artifact_hash)),
		schema: serving.schema,
		max_batch: entry.max_batch,
		tolerance: serving.tolerance,
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use opg_primitives::{DType, TensorSpec};

	fn serving() -> ModelServing {
		let tensor = |shape: &[u32]| TensorSpec::new(shape, DType::F32).unwrap();
		ModelServing {
			artifact_hash: [0xab; 32],
			artifact_size: 1234,
			schema: Schema {
				inputs: vec![tensor(&[1, 16])].try_into().unwrap(),
				outputs: vec![tensor(&[1, 4])].try_into().unwrap(),
			},
			active: true,
			price: 0,
			modes: opg_primitives::VerificationModes(opg_primitives::VerificationModes::VANILLA),
			tolerance: Some(opg_primitives::Tolerance { absolute_ppb: 1_000, relative_ppb: 0 }),
		}
	}

	/// A node's JSON-RPC that answers every call with `answer`; its URL.
	async fn node(answer: Option<ModelServing>) -> String {
		crate::tests::mock_rpc(&tokio::runtime::Handle::current(), move |method, params| {
			assert_eq!(method, "state_call");
			assert_eq!(params[0], MODEL_SERVING_CALL);
			assert_eq!(params[1], "0x07000000", "the model id, SCALE u32");
			serde_json::json!(format!("0x{}", hex::encode(answer.encode())))
		})
	}

	fn entry(json: &str) -> ModelEntry {
		serde_json::from_str(json).unwrap()
	}

	#[test]
	fn a_model_named_by_id_takes_its_hash_and_schema_from_the_chain() {
		let runtime = tokio::runtime::Runtime::new().unwrap();
		runtime.block_on(async {
			let rpc = node(Some(serving())).await;
			let config =
				resolve(&entry(r#"{"model": 7, "max_batch": 8}"#), Some(&rpc)).await.unwrap();
			assert_eq!(config.hash, format!("0x{}", "ab".repeat(32)));
			assert_eq!(config.schema, serving().schema);
			assert_eq!(config.max_batch, 8);
			assert_eq!(config.tolerance, serving().tolerance, "the published tolerance");
			let tolerance =
				r#"{"model": 7, "tolerance": {"absolute_ppb": 1000, "relative_ppb": 0}}"#;
			assert!(resolve(&entry(tolerance), Some(&rpc)).await.is_ok());
			let looser = r#"{"model": 7, "tolerance": {"absolute_ppb": 2000, "relative_ppb": 0}}"#;
			let refused = resolve(&entry(looser), Some(&rpc)).await.unwrap_err();
			assert!(refused.contains("tolerance is not the chain's"), "{refused}");
			let same = format!(r#"{{"model": 7, "hash": "0x{}"}}"#, "ab".repeat(32));
			assert!(resolve(&entry(&same), Some(&rpc)).await.is_ok());
			let other = format!(r#"{{"model": 7, "hash": "0x{}"}}"#, "cd".repeat(32));
			let refused = resolve(&entry(&other), Some(&rpc)).await.unwrap_err();
			assert!(refused.contains("not the chain's"), "{refused}");
			let schema = r#"{"model": 7, "schema": {"inputs": [{"shape": [1, 15], "dtype": "f32"}],
				"outputs": [{"shape": [1, 4], "dtype": "f32"}]}}"#;
			assert!(resolve(&entry(schema), Some(&rpc)).await.unwrap_err().contains("schema"));
			let without = resolve(&entry(r#"{"model": 7}"#), None).await.unwrap_err();
			assert!(without.contains("--chain-rpc"), "{without}");
		});
	}

	#[test]
	fn a_model_the_chain_does_not_know_is_refused() {
		let runtime = tokio::runtime::Runtime::new().unwrap();
		runtime.block_on(async {
			let rpc = node(None).await;
			let refused = resolve(&entry(r#"{"model": 7}"#), Some(&rpc)).await.unwrap_err();
			assert!(refused.contains("not published"), "{refused}");
		});
	}

	#[test]
	fn a_model_written_out_needs_no_chain_and_both_its_hash_and_schema() {
		let runtime = tokio::runtime::Runtime::new().unwrap();
		runtime.block_on(async {
			let written = format!(
				r#"{{"hash": "0x{}", "schema": {{"inputs": [{{"shape": [1, 16], "dtype": "f32"}}],
				"outputs": [{{"shape": [1, 4], "dtype": "f32"}}]}}}}"#,
				"ab".repeat(32)
			);
			let config = resolve(&entry(&written), None).await.unwrap();
			assert_eq!((config.schema, config.max_batch), (serving().schema, 32));
			let half = format!(r#"{{"hash": "0x{}"}}"#, "ab".repeat(32));
			assert!(resolve(&entry(&half), None).await.is_err());
			assert!(
				serde_json::from_str::<ModelEntry>(r#"{"modle": 7}"#).is_err(),
				"typos are refused"
			);
		});
	}

	#[test]
	fn errors_and_garbage_from_the_node_are_named() {
		let error = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"no such call"}}"#;
		assert!(decode_answer(error, 1).unwrap_err().contains("refused"));
		assert!(decode_answer(b"<html>", 1).is_err());
		assert!(decode_answer(br#"{"result": "0x0102"}"#, 1).unwrap_err().contains("decode"));
	}
}
