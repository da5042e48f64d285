//! A Llama-family decoder on libtorch: RMSNorm, rotary position embeddings (rotate-half,
//! Hugging Face's layout), grouped-query attention, SwiGLU, a tied or separate head, and a
//! key/value cache per sequence.
//!
//! [`Llama::forward`] takes several sequences at once, each with its own cache and any
//! number of new tokens (a prompt's prefill, or one decoded token): the projections and
//! the feed-forward run on all their tokens together, attention runs per sequence over its
//! own cache. So sequences of different lengths decode together, and a finished one's
//! place is taken by a new one without waiting for the others (continuous batching).

use super::{linear::Linear, LlmConfig};
use tch::{Device, Kind, TchError, Tensor};

/// One decoder block's weights, `[out, in]` as `linear` takes them.
struct Block {
	attn_norm: Tensor,
	/// Q, K and V stacked: `[(heads + 2 kv heads) × head_dim, width]`.
	qkv: Linear,
	o: Linear,
	mlp_norm: Tensor,
	/// Gate and up stacked: `[2 × intermediate, width]`.
	gate_up: Linear,
	down: Linear,
}

/// A loaded model.
pub struct Llama {
	config: LlmConfig,
	device: Device,
	kind: Kind,
	embed: Tensor,
	blocks: Vec<Block>,
	norm: Tensor,
	head: Linear,
	/// RoPE's cosines and sines for every position: `[max positions, head_dim]`.
	cos: Tensor,
	sin: Tensor,
	/// Whether the small steps run `fused.cpp`'s loops (f32 on the CPU).
	fused: bool,
	/// Whether a decode step's attention runs `fused.cpp`'s loop (f32 or bf16 on the CPU).
	fused_attention: bool,
}

/// The keys and values of up to [`KvCache::slots`] sequences, one slot each, per block:
/// `[slots, kv heads, capacity, head_dim]`. The capacity grows (by doubling, up to the
/// model's context) as sequences lengthen, so a cache for many slots costs little until
/// it is used. Decoding sequences attend together over their slots, masked to each one's
/// length.
pub struct KvCache {
	keys: Vec<Tensor>,
	values: Vec<Tensor>,
	/// Each slot's tokens, `None` while free.
	lens: Vec<Option<usize>>,
	capacity: usize,
	limit: usize,
}

/// The most rows a small step (RMSNorm, RoPE, SwiGLU) runs as `fused.cpp`'s loop.
const FUSED_ROWS: i64 = 8;

/// The tokens per slot an empty [`KvCache`] has room for.
pub const INITIAL_CAPACITY: usize = 64;

/// A sequence's place in a [`KvCache`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot(usize);

impl KvCache {
	/// The most sequences it holds.
	pub fn slots(&self) -> usize {
		self.lens.len()
	}

	/// The most tokens a sequence may hold: the model's context.
	pub fn limit(&self) -> usize {
		self.limit
	}

	/// Takes a free slot (the lowest, which keeps decoding slots together), empty; `None`
	/// if every slot is taken.
	pub fn open(&mut self) -> Option<Slot> {
		let index = self.lens.iter().position(Option::is_none)?;
		self.lens[index] = Some(0);
		Some(Slot(index))
	}

	/// Frees `slot`.
	pub fn close(&mut self, slot: Slot) {
		if let Some(len) = self.lens.get_mut(slot.0) {
			*len = None;
		}
	}

	/// Tokens cached in `slot` (0 if it is free).
	pub fn len(&self, slot: Slot) -> usize {
		self.lens.get(slot.0).copied().flatten().unwrap_or(0)
	}

	/// The tokens per slot it has room for now.
	pub fn capacity(&self) -> usize {
		self.capacity
	}

	/// Makes room for `needed` tokens per slot.
	fn reserve(&mut self, needed: usize) -> Result<(), TchError> {
		if needed <= self.capacity {
			return Ok(());
		}
		let capacity = needed.max(self.capacity * 2).next_multiple_of(64).min(self.limit);
		for tensor in self.keys.iter_mut().chain(self.values.iter_mut()) {
			let mut size = tensor.size();
			size[2] = capacity as i64;
			let grown = Tensor::f_zeros(size.as_slice(), (tensor.kind(), tensor.device()))?;
			grown.f_narrow(2, 0, self.capacity as i64)?.f_copy_(tensor)?;
			*tensor = grown;
		}
		self.capacity = capacity;
		Ok(())
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
				qkv: Linear::new(Tensor::f_cat(&[q, k, v], 0)?),
				o: Linear::new(take(&name("self_attn.o_proj"), &[width, heads * head_dim])?),
				mlp_norm: take(&name("post_attention_layernorm"), &[width])?,
				gate_up: Linear::new(Tensor::f_cat(&[gate, up], 0)?),
				down: Linear::new(take(&name("mlp.down_proj"), &[width, inner])?),
			});
		}
		let embed = take("model.embed_tokens.weight", &[config.vocab_size, width])?;
		let head = Linear::new(if config.tie_word_embeddings {
			embed.shallow_clone()
		} else {
			take("lm_head.weight", &[config.vocab_size, width])?
		});
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
			fused: kind == Kind::Float && device == Device::Cpu,
			fused_attention: matches!(kind, Kind::Float | Kind::BFloat16) && device == Device::Cpu,
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

	/// Whether its weight products read copies packed once for oneDNN (bf16 on the CPU:
	/// see [`super::linear`]).
	pub fn packed_weights(&self) -> bool {
		self.head.is_packed()
	}

	/// An empty cache for up to `slots` sequences.
	pub fn cache(&self, slots: usize) -> Result<KvCache, TchError> {
		let slots = slots.max(1);
		let limit = self.config.max_position_embeddings.max(1);
		let capacity = INITIAL_CAPACITY.min(limit);
		let shape = [
			slots as i64,
			self.config.kv_heads() as i64,
			capacity as i64,
			self.config.head_dim() as i64,
		];
		let blocks = self.blocks.len();
		let zeros = || Tensor::f_zeros(shape, (self.kind, self.device));
		Ok(KvCache {
			keys: (0..blocks).map(|_| zeros()).collect::<Result<_, _>>()?,
			values: (0..blocks).map(|_| zeros()).collect::<Result<_, _>>()?,
			lens: vec![None; slots],
			capacity,
			limit,
		})
	}

	/// Whether a small step over `x`'s rows runs `fused.cpp`'s loop: f32 on the CPU, and a
	/// decode step's few rows (over a prompt's many, libtorch's vectorized operators are
	/// faster than the loops, whose dispatch saving no longer counts).
	fn fused_rows(&self, x: &Tensor) -> bool {
		self.fused && x.size().first().is_some_and(|&rows| rows <= FUSED_ROWS)
	}

	fn rms_norm(&self, x: &Tensor, weight: &Tensor) -> Result<Tensor, TchError> {
		if self.fused_rows(x) {
			return super::fused::rms_norm(&x.f_contiguous()?, weight, self.config.rms_norm_eps);
		}
		let x32 = x.f_to_kind(Kind::Float)?;
		let variance = x32.f_pow_tensor_scalar(2)?.f_mean_dim(-1, true, Kind::Float)?;
		let normed = x32.f_mul(&variance.f_add_scalar(self.config.rms_norm_eps)?.f_rsqrt()?)?;
		normed.f_to_kind(self.kind)?.f_mul(weight)
	}

	/// `x`: `[tokens, heads, head_dim]`; `cos`/`sin`: `[tokens, 1, head_dim]`.
	fn rope(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor, TchError> {
		if self.fused_rows(x) {
			return super::fused::rope(x, cos, sin);
		}
		let half = x.size()[2] / 2;
		let rotated =
			Tensor::f_cat(&[x.f_narrow(2, half, half)?.f_neg()?, x.f_narrow(2, 0, half)?], 2)?;
		x.f_mul(cos)?.f_add(&rotated.f_mul(sin)?)
	}

	/// Runs each sequence's new tokens over its slot of `cache` (which takes their keys and
	/// values) and returns the final hidden states (after the last norm) of their last
	/// tokens, `[sequences, width]`, and the logits there, `[sequences, vocab]`, both in
	/// f32 on the CPU, in the order of `sequences`.
	///
	/// The projections and the feed-forward run on every new token together. Attention runs
	/// once for all the sequences that add one token (decoding), over their slots masked
	/// to each one's length, and per sequence for those that add several (a prompt).
	pub fn forward(
		&self,
		cache: &mut KvCache,
		sequences: &[(Slot, &[u32])],
	) -> Result<(Tensor, Tensor), TchError> {
		let _no_grad = tch::no_grad_guard();
		let mut clock = super::phases::Clock::start(self.device);
		let (x, last) = self.layers(cache, sequences, &mut clock)?;
		let last = Tensor::f_from_slice(&last)?.f_to_device(self.device)?;
		let hidden = self.rms_norm(&x.f_index_select(0, &last)?, &self.norm)?;
		clock.mark("norm");
		let logits = self.head.forward(&hidden)?;
		clock.mark("head");
		let answer = (
			hidden.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?,
			logits.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?,
		);
		clock.mark("to host");
		Ok(answer)
	}

	/// One prefill of `tokens` from an empty cache, as a verifier runs it over a prompt and
	/// an answer: the final hidden states (after the last norm) of every position,
	/// `[tokens, width]`, and the logits of the positions from `logits_from` on,
	/// `[tokens − logits_from, vocab]`, both in f32 on the CPU.
	pub fn prefill_all(
		&self,
		tokens: &[u32],
		logits_from: usize,
	) -> Result<(Tensor, Tensor), TchError> {
		let _no_grad = tch::no_grad_guard();
		let mut cache = self.cache(1)?;
		let slot = cache.open().ok_or_else(|| err("no slot"))?;
		let mut clock = super::phases::Clock::start(self.device);
		let (x, _) = self.layers(&mut cache, &[(slot, tokens)], &mut clock)?;
		let hidden = self.rms_norm(&x, &self.norm)?;
		let from = logits_from.min(tokens.len()) as i64;
		let logits = self.head.forward(&hidden.f_narrow(0, from, tokens.len() as i64 - from)?)?;
		Ok((
			hidden.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?,
			logits.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?,
		))
	}

	/// The transformer's blocks over each sequence's new tokens (see [`Self::forward`]):
	/// the residual stream of every new token before the last norm, rows in the order the
	/// step runs them, and the row of each sequence's last token.
	fn layers(
		&self,
		cache: &mut KvCache,
		sequences: &[(Slot, &[u32])],
		clock: &mut super::phases::Clock,
	) -> Result<(Tensor, Vec<i64>), TchError> {
		let config = &self.config;
		let (heads, kv_heads, head_dim) =
			(config.num_attention_heads as i64, config.kv_heads() as i64, config.head_dim() as i64);
		if sequences.is_empty() {
			return Err(err("no sequence to run"));
		}
		let mut needed = 0;
		for (index, &(slot, tokens)) in sequences.iter().enumerate() {
			let Some(Some(past)) = cache.lens.get(slot.0).copied() else {
				return Err(err(format!("slot {} is not open", slot.0)));
			};
			if sequences[..index].iter().any(|(other, _)| *other == slot) {
				return Err(err(format!("slot {} twice in one step", slot.0)));
			}
			if tokens.is_empty() {
				return Err(err("a sequence with no new token"));
			}
			if past + tokens.len() > cache.limit {
				return Err(err(format!(
					"{} tokens after {past} do not fit the context of {}",
					tokens.len(),
					cache.limit
				)));
			}
			if let Some(bad) = tokens.iter().find(|&&t| t as usize >= config.vocab_size) {
				return Err(err(format!("token {bad} is outside the vocabulary")));
			}
			needed = needed.max(past + tokens.len());
		}
		cache.reserve(needed)?;
		// Rows: the decoding sequences first, by slot, then the prompts in order.
		let mut decoding: Vec<(Slot, u32, usize)> = Vec::new();
		let mut prompts: Vec<(Slot, &[u32], i64, usize)> = Vec::new();
		let mut last = vec![0i64; sequences.len()];
		for &(slot, tokens) in sequences {
			if tokens.len() == 1 {
				decoding.push((slot, tokens[0], cache.len(slot)));
			} else {
				prompts.push((slot, tokens, 0, cache.len(slot)));
			}
		}
		decoding.sort_unstable();
		let decoded = decoding.len() as i64;
		let mut ids: Vec<i64> = decoding.iter().map(|&(_, token, _)| token as i64).collect();
		let mut positions: Vec<i64> = decoding.iter().map(|&(_, _, past)| past as i64).collect();
		for (_, tokens, start, past) in &mut prompts {
			*start = ids.len() as i64;
			ids.extend(tokens.iter().map(|&t| t as i64));
			positions.extend((*past..*past + tokens.len()).map(|p| p as i64));
		}
		for (row, &(slot, tokens)) in last.iter_mut().zip(sequences) {
			*row = if tokens.len() == 1 {
				decoding.iter().position(|d| d.0 == slot).unwrap_or(0) as i64
			} else {
				prompts
					.iter()
					.find(|p| p.0 == slot)
					.map_or(0, |&(_, tokens, start, _)| start + tokens.len() as i64 - 1)
			};
		}
		let count = ids.len() as i64;
		let ids = Tensor::f_from_slice(&ids)?.f_to_device(self.device)?;
		let at = Tensor::f_from_slice(&positions)?.f_to_device(self.device)?;
		let cos = self.cos.f_index_select(0, &at)?.f_unsqueeze(1)?.f_contiguous()?;
		let sin = self.sin.f_index_select(0, &at)?.f_unsqueeze(1)?.f_contiguous()?;
		// The decoding sequences' attention runs over slots 0..used, each key visible while
		// its position is below the slot's new length (no mask when they are all as long).
		// Rows of other slots among them (free, or a prompt's) are computed and dropped.
		let used = decoding.last().map_or(0, |&(slot, _, _)| slot.0 + 1) as i64;
		let together = decoding.iter().enumerate().all(|(i, &(slot, _, _))| slot.0 == i);
		let longest = decoding.iter().map(|&(_, _, past)| past + 1).max().unwrap_or(0) as i64;
		let decode_slots = Tensor::f_from_slice(
			&decoding.iter().map(|&(slot, _, _)| slot.0 as i64).collect::<Vec<_>>(),
		)?
		.f_to_device(self.device)?;
		let decode_positions =
			Tensor::f_from_slice(&positions[..decoding.len()])?.f_to_device(self.device)?;
		let all_as_long = decoding.iter().all(|&(_, _, past)| past as i64 + 1 == longest);
		let mask = if self.fused_attention || all_as_long {
			None
		} else {
			let mut visible = vec![1i64; used as usize];
			for &(slot, _, past) in &decoding {
				visible[slot.0] = past as i64 + 1;
			}
			let visible = Tensor::f_from_slice(&visible)?
				.f_to_device(self.device)?
				.f_view([used, 1, 1, 1])?;
			Some(
				Tensor::f_arange(longest, (Kind::Int64, self.device))?
					.f_view([1, 1, 1, longest])?
					.f_lt_tensor(&visible)?,
			)
		};
		let mut x = self.embed.f_index_select(0, &ids)?;
		clock.mark("embed");
		for (layer, block) in self.blocks.iter().enumerate() {
			let h = self.rms_norm(&x, &block.attn_norm)?;
			clock.mark("norm");
			let qkv = block.qkv.forward(&h)?;
			clock.mark("qkv");
			// Q and K rotate together: [tokens, heads + kv heads, head_dim].
			let qk = self.rope(
				&qkv.f_narrow(1, 0, (heads + kv_heads) * head_dim)?.f_view([
					count,
					heads + kv_heads,
					head_dim,
				])?,
				&cos,
				&sin,
			)?;
			clock.mark("rope");
			let q = qk.f_narrow(1, 0, heads)?;
			let k = qk.f_narrow(1, heads, kv_heads)?;
			let v = qkv
				.f_narrow(1, (heads + kv_heads) * head_dim, kv_heads * head_dim)?
				.f_view([count, kv_heads, head_dim])?;
			let keys = &mut cache.keys[layer];
			let values = &mut cache.values[layer];
			let mut attended = Vec::with_capacity(1 + prompts.len());
			if decoded > 0 && self.fused_attention {
				attended.push(super::fused::decode_attention(
					&q.f_narrow(0, 0, decoded)?,
					&k.f_narrow(0, 0, decoded)?,
					&v.f_narrow(0, 0, decoded)?,
					keys,
					values,
					&decode_slots,
					&decode_positions,
				)?);
				clock.mark("attention (decoding)");
			} else if decoded > 0 {
				let (new_keys, new_values) =
					(k.f_narrow(0, 0, decoded)?, v.f_narrow(0, 0, decoded)?);
				if together && mask.is_none() {
					// Slots 0..n at one position (one sequence, or sequences that started
					// together): a plain copy, not an indexed write (whose deterministic
					// kernel sorts its indices).
					let at = longest - 1;
					keys.f_narrow(0, 0, decoded)?
						.f_narrow(2, at, 1)?
						.f_copy_(&new_keys.f_unsqueeze(2)?)?;
					values
						.f_narrow(0, 0, decoded)?
						.f_narrow(2, at, 1)?
						.f_copy_(&new_values.f_unsqueeze(2)?)?;
				} else {
					let index = [Some(&decode_slots), None, Some(&decode_positions)];
					let _ = keys.f_index_put_(&index, &new_keys, false)?;
					let _ = values.f_index_put_(&index, &new_values, false)?;
				}
				clock.mark("cache write (decoding)");
				let query = q.f_narrow(0, 0, decoded)?.f_unsqueeze(2)?;
				let query = if together {
					query
				} else {
					Tensor::f_zeros([used, heads, 1, head_dim], (self.kind, self.device))?
						.f_index_copy(0, &decode_slots, &query)?
				};
				let out = Tensor::f_scaled_dot_product_attention::<&Tensor>(
					&query,
					&keys.f_narrow(0, 0, used)?.f_narrow(2, 0, longest)?,
					&values.f_narrow(0, 0, used)?.f_narrow(2, 0, longest)?,
					mask.as_ref(),
					0.0,
					false,
					None,
					true,
				)?;
				let out = if together { out } else { out.f_index_select(0, &decode_slots)? };
				attended.push(out.f_reshape([decoded, heads * head_dim])?);
				clock.mark("attention (decoding)");
			}
			for &(slot, tokens, start, past) in &prompts {
				let (len, past) = (tokens.len() as i64, past as i64);
				let keys = keys.f_select(0, slot.0 as i64)?;
				let values = values.f_select(0, slot.0 as i64)?;
				keys.f_narrow(1, past, len)?
					.f_copy_(&k.f_narrow(0, start, len)?.f_transpose(0, 1)?)?;
				values
					.f_narrow(1, past, len)?
					.f_copy_(&v.f_narrow(0, start, len)?.f_transpose(0, 1)?)?;
				let total = past + len;
				let (keys, values) = (keys.f_narrow(1, 0, total)?, values.f_narrow(1, 0, total)?);
				// Batched ([1, heads, len, head_dim]): libtorch's fused (flash) kernel takes
				// only 4-D inputs; 3-D ones fall back to its unfused path (on 2 CPU cores a
				// 297-token prefill's attention took 90–130 ms that way, about 65 ms this way:
				// benchmarks.md, checking a language model's answer).
				let query = q.f_narrow(0, start, len)?.f_transpose(0, 1)?.f_unsqueeze(0)?;
				let (keys, values) = (keys.f_unsqueeze(0)?, values.f_unsqueeze(0)?);
				let out = if past == 0 {
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
				attended.push(
					out.f_select(0, 0)?.f_transpose(0, 1)?.f_reshape([len, heads * head_dim])?,
				);
				clock.mark("attention (prompts)");
			}
			let attended = if attended.len() == 1 {
				attended.pop().expect("one")
			} else {
				Tensor::f_cat(&attended, 0)?
			};
			x = x.f_add(&block.o.forward(&attended)?)?;
			clock.mark("o");
			let h = self.rms_norm(&x, &block.mlp_norm)?;
			clock.mark("norm");
			let gate_up = block.gate_up.forward(&h)?;
			clock.mark("gate_up");
			let gated = if self.fused_rows(&gate_up) {
				super::fused::swiglu(&gate_up)?
			} else {
				let inner = config.intermediate_size as i64;
				let gate = gate_up.f_narrow(1, 0, inner)?;
				let up = gate_up.f_narrow(1, inner, inner)?;
				gate.f_silu()?.f_mul(&up)?
			};
			clock.mark("swiglu");
			x = x.f_add(&block.down.forward(&gated)?)?;
			clock.mark("down");
		}
		for &(slot, tokens) in sequences {
			if let Some(Some(len)) = cache.lens.get_mut(slot.0) {
				*len += tokens.len();
			}
		}
		Ok((x, last))
	}

	/// The logits of every position of `tokens` run from an empty cache, `[tokens, vocab]`
	/// in f32 on the CPU: what the tests compare with an independent reference.
	pub fn logits_of_all(&self, tokens: &[u32]) -> Result<Tensor, TchError> {
		let mut rows = Vec::with_capacity(tokens.len());
		let mut cache = self.cache(1)?;
		let slot = cache.open().ok_or_else(|| err("no slot"))?;
		for token in tokens {
			let (_, row) = self.forward(&mut cache, &[(slot, std::slice::from_ref(token))])?;
			rows.push(row);
		}
		Tensor::f_cat(&rows, 0)
	}
}
