//! # OPG quantized-integer models
//!
//! The `QuantizedInteger` model format of the model hub: a feed-forward stack of dense
//! layers over 8-bit integers, evaluated with integer arithmetic only, so that every
//! executor on every machine computes the same bytes and a ZKML circuit can prove them.
//!
//! ## Semantics of one dense layer
//! For input `x` (`i8`, length `inputs`) and output index `j`:
//!
//! ```text
//! acc_j = bias_j + Σ_i weights[j·inputs + i] · x_i          (exact, in i64)
//! q_j   = floor(acc_j · multiplier / 2^shift)               (arithmetic shift)
//! r_j   = max(q_j, 0) if relu, else q_j
//! y_j   = clamp(r_j, -128, 127)
//! ```
//!
//! The bounds checked by [`QModel::validate`] (at most [`MAX_LAYER_INPUTS`] inputs,
//! `multiplier` in `1..=i32::MAX`, `shift` at most [`MAX_SHIFT`]) keep every
//! intermediate within `i64`. Tensors travel as bytes, one two's-complement `i8` each.
//!
//! ## File
//! A model file is the JSON of [`QModel`]; its SHA-256 is the artifact hash the model
//! hub records. [`QModel::to_bytes`] writes the canonical (compact) form.

use serde::{Deserialize, Serialize};

/// The `format` tag of version 1 of the file.
pub const FORMAT: &str = "opg-qmodel/1";
/// The most inputs of one layer.
pub const MAX_LAYER_INPUTS: u32 = 1 << 16;
/// The most outputs of one layer.
pub const MAX_LAYER_OUTPUTS: u32 = 1 << 16;
/// The largest requantization shift.
pub const MAX_SHIFT: u8 = 62;
/// The most layers of a model.
pub const MAX_LAYERS: usize = 64;

/// A quantized feed-forward model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QModel {
	/// Always [`FORMAT`].
	pub format: String,
	/// Layers, applied in order.
	pub layers: Vec<Dense>,
}

/// A dense (fully connected) layer with requantization and optional ReLU.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dense {
	/// Input length.
	pub inputs: u32,
	/// Output length.
	pub outputs: u32,
	/// `outputs × inputs` weights, row-major (one row per output).
	pub weights: Vec<i8>,
	/// One bias per output, in accumulator units.
	pub bias: Vec<i32>,
	/// Requantization multiplier, positive.
	pub multiplier: i32,
	/// Requantization shift: the accumulator times `multiplier` is divided by `2^shift`,
	/// rounding toward negative infinity.
	pub shift: u8,
	/// Whether negative values become zero before clamping.
	pub relu: bool,
}

/// Why a model file or an input is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
	/// The file is not the JSON of a [`QModel`].
	Parse(String),
	/// The `format` tag is not [`FORMAT`].
	UnknownFormat(String),
	/// A model needs at least one and at most [`MAX_LAYERS`] layers.
	LayerCount(usize),
	/// A layer's dimensions are zero or above the limits.
	LayerSize { layer: usize },
	/// A layer's inputs differ from the previous layer's outputs.
	LayerMismatch { layer: usize, expected: u32, found: u32 },
	/// A layer has the wrong number of weights or biases.
	ParameterCount { layer: usize },
	/// A layer's multiplier is not positive or its shift is above [`MAX_SHIFT`].
	Requantization { layer: usize },
	/// The input has the wrong length.
	InputLength { expected: u32, found: usize },
}

impl core::fmt::Display for Error {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Parse(reason) => write!(f, "not a quantized-integer model: {reason}"),
			Self::UnknownFormat(tag) => write!(f, "unknown model format {tag:?}, expected {FORMAT:?}"),
			Self::LayerCount(n) => write!(f, "a model has 1..={MAX_LAYERS} layers, this one {n}"),
			Self::LayerSize { layer } => write!(f, "layer {layer}: dimensions zero or above 65536"),
			Self::LayerMismatch { layer, expected, found } =>
				write!(f, "layer {layer}: takes {found} inputs but the previous layer gives {expected}"),
			Self::ParameterCount { layer } => write!(f, "layer {layer}: wrong number of weights or biases"),
			Self::Requantization { layer } =>
				write!(f, "layer {layer}: multiplier must be positive and shift at most {MAX_SHIFT}"),
			Self::InputLength { expected, found } =>
				write!(f, "input has {found} values, the model takes {expected}"),
		}
	}
}

impl std::error::Error for Error {}

impl QModel {
	/// Parses and validates a model file.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
		let model: Self = serde_json::from_slice(bytes).map_err(|e| Error::Parse(e.to_string()))?;
		model.validate()?;
		Ok(model)
	}

	/// The canonical file of this model.
	pub fn to_bytes(&self) -> Vec<u8> {
		serde_json::to_vec(self).expect("a QModel always serializes")
	}

	/// Checks the format tag, dimensions, parameter counts and requantization bounds.
	pub fn validate(&self) -> Result<(), Error> {
		if self.format != FORMAT {
			return Err(Error::UnknownFormat(self.format.clone()));
		}
		if self.layers.is_empty() || self.layers.len() > MAX_LAYERS {
			return Err(Error::LayerCount(self.layers.len()));
		}
		for (index, layer) in self.layers.iter().enumerate() {
			if layer.inputs == 0 ||
				layer.outputs == 0 ||
				layer.inputs > MAX_LAYER_INPUTS ||
				layer.outputs > MAX_LAYER_OUTPUTS
			{
				return Err(Error::LayerSize { layer: index });
			}
			if index > 0 {
				let expected = self.layers[index - 1].outputs;
				if layer.inputs != expected {
					return Err(Error::LayerMismatch { layer: index, expected, found: layer.inputs });
				}
			}
			let weights = layer.inputs as usize * layer.outputs as usize;
			if layer.weights.len() != weights || layer.bias.len() != layer.outputs as usize {
				return Err(Error::ParameterCount { layer: index });
			}
			if layer.multiplier <= 0 || layer.shift > MAX_SHIFT {
				return Err(Error::Requantization { layer: index });
			}
		}
		Ok(())
	}

	/// Input length.
	pub fn input_len(&self) -> u32 {
		self.layers[0].inputs
	}

	/// Output length.
	pub fn output_len(&self) -> u32 {
		self.layers[self.layers.len() - 1].outputs
	}

	/// Evaluates the model on `input`. The model must be valid ([`Self::from_bytes`]
	/// validates).
	pub fn evaluate(&self, input: &[i8]) -> Result<Vec<i8>, Error> {
		if input.len() != self.input_len() as usize {
			return Err(Error::InputLength { expected: self.input_len(), found: input.len() });
		}
		let mut activations = input.to_vec();
		for layer in &self.layers {
			activations = layer.apply(&activations);
		}
		Ok(activations)
	}

	/// Evaluates the model on an input given as bytes, returning the output as bytes.
	pub fn evaluate_bytes(&self, input: &[u8]) -> Result<Vec<u8>, Error> {
		Ok(to_bytes(&self.evaluate(&from_bytes(input))?))
	}
}

impl Dense {
	/// The layer's output for `input` (of length `inputs`).
	pub fn apply(&self, input: &[i8]) -> Vec<i8> {
		self.weights
			.chunks_exact(self.inputs as usize)
			.zip(&self.bias)
			.map(|(row, bias)| {
				let dot: i64 = row.iter().zip(input).map(|(w, x)| i64::from(*w) * i64::from(*x)).sum();
				self.requantize(i64::from(*bias) + dot)
			})
			.collect()
	}

	/// `clamp(relu?(floor(acc · multiplier / 2^shift)), -128, 127)`.
	pub fn requantize(&self, accumulator: i64) -> i8 {
		let mut value = (accumulator * i64::from(self.multiplier)) >> self.shift;
		if self.relu {
			value = value.max(0);
		}
		value.clamp(i64::from(i8::MIN), i64::from(i8::MAX)) as i8
	}
}

/// Bytes as two's-complement `i8` values.
pub fn from_bytes(bytes: &[u8]) -> Vec<i8> {
	bytes.iter().map(|b| *b as i8).collect()
}

/// `i8` values as two's-complement bytes.
pub fn to_bytes(values: &[i8]) -> Vec<u8> {
	values.iter().map(|v| *v as u8).collect()
}

/// A deterministic model with pseudo-random parameters of the given layer widths
/// (`widths[0]` inputs, then each layer's outputs), ReLU on every layer but the last:
/// for tests, benchmarks and the development chain's demo model.
pub fn generate(widths: &[u32], seed: u64) -> QModel {
	let mut rng = SplitMix64(seed);
	let layers = widths
		.windows(2)
		.enumerate()
		.map(|(index, pair)| {
			let (inputs, outputs) = (pair[0], pair[1]);
			Dense {
				inputs,
				outputs,
				weights: (0..inputs * outputs).map(|_| rng.next() as i8).collect(),
				bias: (0..outputs).map(|_| (rng.next() % 4096) as i32 - 2048).collect(),
				// About 1/sqrt(inputs)/128 of the accumulator's range back into i8.
				multiplier: 1 + (rng.next() % 255) as i32,
				shift: 8 + (inputs as f64).sqrt().log2().ceil() as u8 + 6,
				relu: index + 2 < widths.len(),
			}
		})
		.collect();
	QModel { format: FORMAT.into(), layers }
}

/// SplitMix64: a small, fixed pseudo-random sequence (not for secrets).
struct SplitMix64(u64);

impl SplitMix64 {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}
}

#[cfg(test)]
mod tests;
