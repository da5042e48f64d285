//! A Llama-family model's architecture, as Hugging Face's `config.json` states it
//! (`LlamaConfig`'s field names), with the chat template beside it.

use serde::{Deserialize, Serialize};

/// What the engine needs to know of a Llama-family decoder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmConfig {
	/// The residual stream's width.
	pub hidden_size: usize,
	/// The SwiGLU feed-forward's inner width.
	pub intermediate_size: usize,
	/// Decoder blocks.
	pub num_hidden_layers: usize,
	/// Query heads.
	pub num_attention_heads: usize,
	/// Key/value heads (grouped-query attention); as many as query heads when absent.
	#[serde(default)]
	pub num_key_value_heads: Option<usize>,
	/// Width of one head; `hidden_size / num_attention_heads` when absent.
	#[serde(default)]
	pub head_dim: Option<usize>,
	/// RoPE's base.
	#[serde(default = "default_rope_theta")]
	pub rope_theta: f64,
	/// RMSNorm's epsilon.
	#[serde(default = "default_rms_norm_eps")]
	pub rms_norm_eps: f64,
	/// Tokens in the vocabulary (rows of the embedding).
	pub vocab_size: usize,
	/// The longest context (prompt and answer) the model takes.
	pub max_position_embeddings: usize,
	/// Whether the head is the token embedding (no `lm_head.weight`).
	#[serde(default)]
	pub tie_word_embeddings: bool,
	/// The beginning-of-sequence token.
	#[serde(default)]
	pub bos_token_id: Option<u32>,
	/// The end-of-sequence token(s): one id or a list.
	#[serde(default)]
	pub eos_token_id: Option<EosTokens>,
	/// The Jinja chat template (Hugging Face's `chat_template`).
	#[serde(default)]
	pub chat_template: Option<String>,
}

/// One end-of-sequence id or several.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EosTokens {
	/// One id.
	One(u32),
	/// Several ids.
	Many(Vec<u32>),
}

fn default_rope_theta() -> f64 {
	10_000.0
}

fn default_rms_norm_eps() -> f64 {
	1e-5
}

impl LlmConfig {
	/// The config of `json` (a `config.json`), checked for consistency.
	pub fn parse(json: &[u8]) -> Result<Self, String> {
		let config: Self = serde_json::from_slice(json).map_err(|e| format!("config.json: {e}"))?;
		config.check()?;
		Ok(config)
	}

	/// Key/value heads.
	pub fn kv_heads(&self) -> usize {
		self.num_key_value_heads.unwrap_or(self.num_attention_heads)
	}

	/// Width of one head.
	pub fn head_dim(&self) -> usize {
		self.head_dim.unwrap_or(self.hidden_size / self.num_attention_heads.max(1))
	}

	/// The end-of-sequence ids.
	pub fn eos_ids(&self) -> Vec<u32> {
		match &self.eos_token_id {
			Some(EosTokens::One(id)) => vec![*id],
			Some(EosTokens::Many(ids)) => ids.clone(),
			None => Vec::new(),
		}
	}

	fn check(&self) -> Result<(), String> {
		let positive = [
			("hidden_size", self.hidden_size),
			("intermediate_size", self.intermediate_size),
			("num_hidden_layers", self.num_hidden_layers),
			("num_attention_heads", self.num_attention_heads),
			("vocab_size", self.vocab_size),
			("max_position_embeddings", self.max_position_embeddings),
			("num_key_value_heads", self.kv_heads()),
			("head_dim", self.head_dim()),
		];
		if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
			return Err(format!("config.json: {name} is 0"));
		}
		if !self.num_attention_heads.is_multiple_of(self.kv_heads()) {
			return Err(format!(
				"config.json: {} query heads are not a multiple of {} key/value heads",
				self.num_attention_heads,
				self.kv_heads()
			));
		}
		if !self.head_dim().is_multiple_of(2) {
			return Err(format!(
				"config.json: head_dim {} is odd (RoPE rotates pairs)",
				self.head_dim()
			));
		}
		if !(self.rope_theta > 1.0 && self.rms_norm_eps > 0.0) {
			return Err("config.json: rope_theta must be above 1 and rms_norm_eps above 0".into());
		}
		Ok(())
	}
}
