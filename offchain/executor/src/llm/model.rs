//! A Llama-family decoder on libtorch: RMSNorm, rotary position embeddings (rotate-half,
//! Hugging Face's layout), grouped-query attention, SwiGLU, a tied or separate head, and a
//! key/value cache per sequence.
//!
//! [`Llama::forward`] takes several sequences at once, each with its own cache and any
//! number of new tokens (a prompt's prefill, or one decoded token): the projections and
//! the feed-forward run on all their tokens together, attention runs per sequence over its
//! own cache. So sequences of different lengths decode together, and a finished one's
//! place is taken by a new one without waiting for the others (continuous batching).

use super::LlmConfig;
use tch::{Device, Kind, TchError, Tensor};

/// One decoder block's weights, `[out, in]` as `linear` takes them.
struct Block {
	attn_norm: Tensor,
	/// Q, K and V stacked: `[(heads + 2 kv heads) × head_dim, width]`.
	qkv: Tensor,
	o: Tensor,
	mlp_norm: Tensor,
	/// Gate and up stacked: `[2 × intermediate, width]`.
	gate_up: Tensor,
	down: Tensor,
}

/// A loaded model.
pub struct Llama {
	config: LlmConfig,
	device: Device,
	kind: Kind,
	embed: Tensor,
	blocks: Vec<Block>,
	norm: Tensor,
	head: Tensor,
	/// RoPE's cosines and sines for every position: `[max positions, head_dim]`.
	cos: Tensor,
	sin: Tensor,
}

/// One sequence's keys and values, per block: `[kv heads, capacity, head_dim]` each.
pub struct KvCache {
	keys: Vec<Tensor>,
	values: Vec<Tensor>,
	len: usize,
	capacity: usize,
}

impl KvCache {
	/// Tokens cached.
	pub fn len(&self) -> usize {
		self.len
	}

	/// Whether nothing is cached.
	pub fn is_empty(&self) -> bool {
		self.len == 0
	}

	/// The most tokens it holds.
	pub fn capacity(&self) -> usize {
		self.capacity
	}
}

/// The element types the engine runs in.
pub fn parse_kind(text: &str) -> Result<Kind, String> {
	match text {
		"f32" | "float32" => Ok(Kind::Float),
		"bf16" | "bfloat16" => Ok(Kind::BFloat16),
		"f16" | "float16" => Ok(Kind::Half),
		other => Err(format!("{other:?} is not a dtype the engine runs: use f32, bf16 or f16")),
	}
}

/// The dtype's name as answers report it.
pub fn kind_name(kind: Kind) -> &'static str {
	match kind {
		Kind::BFloat16 => "bf16",
		Kind::Half => "f16",
		_ => "f32",
	}
}

fn err(reason: impl Into<String>) -> TchError {
	TchError::Kind(reason.into())
}

impl Llama {
	/// The model of `config` with the weights of `safetensors` (Hugging Face's Llama names),
	/// in `kind` on `device`.
	pub fn load(
		config: LlmConfig,
		safetensors: &[u8],
		kind: Kind,
		device: Device,
	) -> Result<Self, TchError> {
		let file = safetensors::SafeTensors::deserialize(safetensors)
			.map_err(|e| err(format!("model.safetensors: {e:?}")))?;
		let take = |name: &str, shape: &[usize]| -> Result<Tensor, TchError> {
			let view = file.tensor(name).map_err(|_| err(format!("no tensor {name}")))?;
			let stored = match view.dtype() {
				safetensors::Dtype::F32 => Kind::Float,
				safetensors::Dtype::BF16 => Kind::BFloat16,
				safetensors::Dtype::F16 => Kind::Half,
				other => return Err(err(format!("{name}: dtype {other:?} is not a float"))),
			};
			if view.shape() != shape {
				return Err(err(format!("{name}: shape {:?}, expected {shape:?}", view.shape())));
			}
			let size: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
			Tensor::f_from_data_size(view.data(), &size, stored)?
				.f_to_kind(kind)?
				.f_to_device(device)
		};
		let (width, inner) = (config.hidden_size, config.intermediate_size);
		let (heads, kv_heads, head_dim) =
			(config.num_attention_heads, config.kv_heads(), config.head_dim());
		let mut blocks = Vec::with_capacity(config.num_hidden_layers);
		for layer in 0..config.num_hidden_layers {
			let name = |part: &str| format!("model.layers.{layer}.{part}.weight");
			let q = take(&name("self_attn.q_proj"), &[heads * head_dim, width])?;
			let k = take(&name("self_attn.k_proj"), &[kv_heads * head_dim, width])?;
			let v = take(&name("self_attn.v_proj"), &[kv_heads * head_dim, width])?;
			let gate = take(&name("mlp.gate_proj"), &[inner, width])?;
			let up = take(&name("mlp.up_proj"), &[inner, width])?;
			blocks.push(Block {
				attn_norm: take(&name("input_layernorm"), &[width])?,
				qkv: Tensor::f_cat(&[q, k, v], 0)?,
				o: take(&name("self_attn.o_proj"), &[width, heads * head_dim])?,
				mlp_norm: take(&name("post_attention_layernorm"), &[width])?,
				gate_up: Tensor::f_cat(&[gate, up], 0)?,
				down: take(&name("mlp.down_proj"), &[width, inner])?,
			});
		}
		let embed = take("model.embed_tokens.weight", &[config.vocab_size, width])?;
		let head = if config.tie_word_embeddings {
			embed.shallow_clone()
		} else {
			take("lm_head.weight", &[config.vocab_size, width])?
		};
		let norm = take("model.norm.weight", &[width])?;
		// cos/sin of position × θ^(−2i/d), i < d/2, repeated for both halves; computed in
		// f64 and rounded once, as Hugging Face does in f32.
		let half = head_dim / 2;
		let positions = config.max_position_embeddings;
		let mut cos = Vec::with_capacity(positions * head_dim);
		let mut sin = Vec::with_capacity(positions * head_dim);
		for position in 0..positions {
			for _ in 0..2 {
				for i in 0..half {
					let frequency = config.rope_theta.powf(-((2 * i) as f64) / head_dim as f64);
					let angle = position as f64 * frequency;
					cos.push(angle.cos() as f32);
					sin.push(angle.sin() as f32);
				}
			}
		}
		let table = |values: Vec<f32>| -> Result<Tensor, TchError> {
			Tensor::f_from_slice(&values)?
				.f_view([positions as i64, head_dim as i64])?
				.f_to_kind(kind)?
				.f_to_device(device)
		};
		Ok(Self {
			cos: table(cos)?,
			sin: table(sin)?,
			config,
			device,
			kind,
			embed,
			blocks,
			norm,
			head,
		})
	}

	/// The model's architecture.
	pub fn config(&self) -> &LlmConfig {
		&self.config
	}

	/// Where it runs.
	pub fn device(&self) -> Device {
		self.device
	}

	/// The element type it runs in.
	pub fn kind(&self) -> Kind {
		self.kind
	}

	/// An empty cache for a sequence of at most `capacity` tokens (prompt and answer;
	/// capped at the model's context).
	pub fn cache(&self, capacity: usize) -> Result<KvCache, TchError> {
		let capacity = capacity.min(self.config.max_position_embeddings).max(1);
		let shape = [self.config.kv_heads() as i64, capacity as i64, self.config.head_dim() as i64];
		let blocks = self.blocks.len();
		let zeros = || Tensor::f_zeros(shape, (self.kind, self.device));
		Ok(KvCache {
			keys: (0..blocks).map(|_| zeros()).collect::<Result<_, _>>()?,
			values: (0..blocks).map(|_| zeros()).collect::<Result<_, _>>()?,
			len: 0,
			capacity,
		})
	}

	fn rms_norm(&self, x: &Tensor, weight: &Tensor) -> Result<Tensor, TchError> {
		let x32 = x.f_to_kind(Kind::Float)?;
		let variance = x32.f_pow_tensor_scalar(2)?.f_mean_dim(-1, true, Kind::Float)?;
		let normed = x32.f_mul(&variance.f_add_scalar(self.config.rms_norm_eps)?.f_rsqrt()?)?;
		normed.f_to_kind(self.kind)?.f_mul(weight)
	}

	/// `x`: `[tokens, heads, head_dim]`; `cos`/`sin`: `[tokens, 1, head_dim]`.
	fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor, TchError> {
		let half = x.size()[2] / 2;
		let rotated =
			Tensor::f_cat(&[x.f_narrow(2, half, half)?.f_neg()?, x.f_narrow(2, 0, half)?], 2)?;
		x.f_mul(cos)?.f_add(&rotated.f_mul(sin)?)
	}

	/// Runs each sequence's new tokens over its cache (which takes their keys and values)
	/// and returns the final hidden states (after the last norm) of their last tokens,
	/// `[sequences, width]`, and the logits there, `[sequences, vocab]` in f32 on the CPU.
	pub fn forward(
		&self,
		sequences: &mut [(&mut KvCache, &[u32])],
	) -> Result<(Tensor, Tensor), TchError> {
		let _no_grad = tch::no_grad_guard();
		let config = &self.config;
		let (heads, kv_heads, head_dim) =
			(config.num_attention_heads as i64, config.kv_heads() as i64, config.head_dim() as i64);
		let mut ids = Vec::new();
		let mut positions = Vec::new();
		let mut spans = Vec::with_capacity(sequences.len());
		for (cache, tokens) in sequences.iter() {
			if tokens.is_empty() {
				return Err(err("a sequence with no new token"));
			}
			if cache.len + tokens.len() > cache.capacity {
				return Err(err(format!(
					"{} tokens do not fit a cache of {} holding {}",
					tokens.len(),
					cache.capacity,
					cache.len
				)));
			}
			if let Some(bad) = tokens.iter().find(|&&t| t as usize >= config.vocab_size) {
				return Err(err(format!("token {bad} is outside the vocabulary")));
			}
			spans.push((ids.len() as i64, tokens.len() as i64, cache.len as i64));
			ids.extend(tokens.iter().map(|&t| t as i64));
			positions.extend((cache.len..cache.len + tokens.len()).map(|p| p as i64));
		}
		let count = ids.len() as i64;
		let ids = Tensor::f_from_slice(&ids)?.f_to_device(self.device)?;
		let positions = Tensor::f_from_slice(&positions)?.f_to_device(self.device)?;
		let cos = self.cos.f_index_select(0, &positions)?.f_unsqueeze(1)?;
		let sin = self.sin.f_index_select(0, &positions)?.f_unsqueeze(1)?;
		let mut x = self.embed.f_index_select(0, &ids)?;
		for (layer, block) in self.blocks.iter().enumerate() {
			let h = self.rms_norm(&x, &block.attn_norm)?;
			let qkv = h.f_linear::<Tensor>(&block.qkv, None)?;
			let q = qkv.f_narrow(1, 0, heads * head_dim)?.f_view([count, heads, head_dim])?;
			let k = qkv
				.f_narrow(1, heads * head_dim, kv_heads * head_dim)?
				.f_view([count, kv_heads, head_dim])?;
			let v = qkv
				.f_narrow(1, (heads + kv_heads) * head_dim, kv_heads * head_dim)?
				.f_view([count, kv_heads, head_dim])?;
			let q = Self::rope(&q, &cos, &sin)?;
			let k = Self::rope(&k, &cos, &sin)?;
			let mut attended = Vec::with_capacity(spans.len());
			for ((cache, _), &(start, len, past)) in sequences.iter_mut().zip(&spans) {
				let keys = &mut cache.keys[layer];
				let values = &mut cache.values[layer];
				keys.f_narrow(1, past, len)?
					.f_copy_(&k.f_narrow(0, start, len)?.f_transpose(0, 1)?)?;
				values
					.f_narrow(1, past, len)?
					.f_copy_(&v.f_narrow(0, start, len)?.f_transpose(0, 1)?)?;
				let total = past + len;
				let (keys, values) = (keys.f_narrow(1, 0, total)?, values.f_narrow(1, 0, total)?);
				let query = q.f_narrow(0, start, len)?.f_transpose(0, 1)?;
				let out = if len == 1 {
					Tensor::f_scaled_dot_product_attention::<Tensor>(
						&query, &keys, &values, None, 0.0, false, None, true,
					)?
				} else if past == 0 {
					Tensor::f_scaled_dot_product_attention::<Tensor>(
						&query, &keys, &values, None, 0.0, true, None, true,
					)?
				} else {
					// New tokens after cached ones: token i sees keys up to past + i.
					let mask =
						Tensor::f_ones([len, total], (Kind::Bool, self.device))?.f_tril(past)?;
					Tensor::f_scaled_dot_product_attention(
						&query,
						&keys,
						&values,
						Some(mask),
						0.0,
						false,
						None,
						true,
					)?
				};
				attended.push(out.f_transpose(0, 1)?.f_reshape([len, heads * head_dim])?);
			}
			let attended = Tensor::f_cat(&attended, 0)?;
			x = x.f_add(&attended.f_linear::<Tensor>(&block.o, None)?)?;
			let h = self.rms_norm(&x, &block.mlp_norm)?;
			let gate_up = h.f_linear::<Tensor>(&block.gate_up, None)?;
			let inner = config.intermediate_size as i64;
			let gate = gate_up.f_narrow(1, 0, inner)?;
			let up = gate_up.f_narrow(1, inner, inner)?;
			x = x.f_add(&gate.f_silu()?.f_mul(&up)?.f_linear::<Tensor>(&block.down, None)?)?;
		}
		for ((cache, _), &(_, len, _)) in sequences.iter_mut().zip(&spans) {
			cache.len += len as usize;
		}
		let last: Vec<i64> = spans.iter().map(|&(start, len, _)| start + len - 1).collect();
		let last = Tensor::f_from_slice(&last)?.f_to_device(self.device)?;
		let hidden = self.rms_norm(&x.f_index_select(0, &last)?, &self.norm)?;
		let logits = hidden.f_linear::<Tensor>(&self.head, None)?;
		Ok((
			hidden.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?,
			logits.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?,
		))
	}

	/// The logits of every position of `tokens` run from an empty cache, `[tokens, vocab]`
	/// in f32 on the CPU: what the tests compare with an independent reference.
	pub fn logits_of_all(&self, tokens: &[u32]) -> Result<Tensor, TchError> {
		let mut rows = Vec::with_capacity(tokens.len());
		let mut cache = self.cache(tokens.len())?;
		// The prompt's prefill, then each position's logits from its own step: prefill is
		// checked against decoding too.
		let (_, first) = self.forward(&mut [(&mut cache, &tokens[..1])])?;
		rows.push(first);
		for token in &tokens[1..] {
			let (_, row) = self.forward(&mut [(&mut cache, std::slice::from_ref(token))])?;
			rows.push(row);
		}
		Tensor::f_cat(&rows, 0)
	}
}
