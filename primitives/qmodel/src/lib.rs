//! # OPG quantized-integer models
//!
//! The `QuantizedInteger` model format of the model hub: a feed-forward stack of dense,
//! 2-D convolution and pooling layers over 8-bit (or 16-bit) integers, evaluated with
//! integer arithmetic only, so that every executor on every machine computes the same bytes
//! and a ZKML circuit can prove them.
//!
//! ## Semantics
//! A model's values are signed integers of 8 or 16 bits: its input of `input_bits` bits,
//! every dense, conv2d and sum-pool output of `bits` bits (both 8 by default; an average
//! pool's output has its input's width). Weights are integers of up to 16 bits (8 in
//! version 1 and 2 files). Images are channel-major (`C×H×W`,
//! row-major within a channel): a convolution's or pool's output, read as a flat vector,
//! is what a following dense layer takes (PyTorch's `Flatten`).
//!
//! A **dense** layer, for input `x` of length `inputs` and output index `j`, and a
//! **conv2d** layer, for filter `f` at output position `(oy, ox)` with zero padding `p`
//! and stride `s`, accumulate exactly (in `i64`):
//!
//! ```text
//! dense:  acc_j      = bias_j + Σ_i weights[j·inputs + i] · x_i
//! conv2d: acc_f,oy,ox = bias_f + Σ_c,ky,kx weights[f][c][ky][kx] · x[c][oy·s+ky−p][ox·s+kx−p]
//! ```
//!
//! (a position outside the image reads 0), then requantize with the output channel's
//! multiplier and shift (one for the whole layer, or one per output channel: a dense
//! layer's output `j`, a convolution's filter `f`):
//!
//! ```text
//! q = floor(acc · multiplier / 2^shift)        (arithmetic shift)
//! r = max(q, 0) if relu, else q
//! y = clamp(r, -2^(bits-1), 2^(bits-1) - 1)   (-128..=127 for 8 bits)
//! ```
//!
//! A **sum pool** sums each `k×k` window (stride `s`, no padding) of each channel and
//! requantizes the sum the same way (without ReLU). An **average pool** gives
//! `floor(sum / k²)`, which is always within the value range.
//!
//! The bounds checked by [`QModel::validate`] (at most [`MAX_LAYER_INPUTS`] terms in one
//! accumulator, weights within `i16`, biases at most [`MAX_BIAS`], `multiplier` in
//! `1..=i32::MAX`, `shift` at most [`MAX_SHIFT`]) keep every accumulator within `i64` and its product with the multiplier
//! within `i128`. Tensors travel as bytes: one two's-complement byte per 8-bit value, two
//! (little-endian) per 16-bit value ([`encode`], [`decode`]).
//!
//! ## File
//! A model file is JSON: `{"format": "opg-qmodel/3", "bits": 16, "input_bits": 8,
//! "layers": [...]}` (`bits` omitted for 8, `input_bits` when it equals `bits`), each layer an object tagged by `"type"`: `"dense"`, `"conv2d"`,
//! `"sum_pool"` or `"avg_pool"` with the fields of [`Dense`], [`Conv2d`], [`SumPool`] or
//! [`AvgPool`]. A dense or conv2d layer's `multiplier` and `shift` are each a number (the
//! whole layer) or an array with one per output channel ([`PerChannel`]). Older files load
//! and write back unchanged: version 2 (`"opg-qmodel/2"`: 8-bit values and weights, no
//! arrays) and version 1 (`"opg-qmodel/1"`: the same, dense layers only, untagged).
//! The file's SHA-256 is the artifact hash the model hub records; [`QModel::to_bytes`]
//! writes the canonical (compact) form.

use serde::{Deserialize, Serialize};

/// The `format` tag of the current version of the file.
pub const FORMAT: &str = "opg-qmodel/3";
/// The `format` tag of version 2: one multiplier and shift per layer.
pub const FORMAT_V2: &str = "opg-qmodel/2";
/// The `format` tag of version 1: dense layers only.
pub const FORMAT_V1: &str = "opg-qmodel/1";
/// The most terms of one accumulator (a dense layer's inputs, a filter's
/// `channels × kernel_height × kernel_width`, a pool's window).
pub const MAX_LAYER_INPUTS: u32 = 1 << 16;
/// The most outputs of one dense layer.
pub const MAX_LAYER_OUTPUTS: u32 = 1 << 16;
/// The most values of any layer's input or output.
pub const MAX_TENSOR_VALUES: u32 = 1 << 20;
/// The largest requantization shift.
pub const MAX_SHIFT: u8 = 62;
/// The largest bias magnitude (2^47): with at most 2^16 products of 16-bit weights and
/// values, an accumulator stays below 2^48.
pub const MAX_BIAS: i64 = 1 << 47;
/// The value widths a model may have.
pub const VALUE_BITS: [u8; 2] = [8, 16];
/// The most layers of a model.
pub const MAX_LAYERS: usize = 64;

/// A quantized feed-forward model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QModel {
	/// [`FORMAT`], or [`FORMAT_V2`] or [`FORMAT_V1`] for an older file.
	pub format: String,
	/// The width of every dense, conv2d and sum-pool output: 8 or 16 bits.
	pub bits: u8,
	/// The width of the input's values: 8 or 16 bits.
	pub input_bits: u8,
	/// Layers, applied in order.
	pub layers: Vec<Layer>,
}

/// One layer of a model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Layer {
	/// A fully connected layer.
	Dense(Dense),
	/// A 2-D convolution.
	Conv2d(Conv2d),
	/// Window sums, requantized.
	SumPool(SumPool),
	/// Window averages, rounded down.
	AvgPool(AvgPool),
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
	pub weights: Vec<i16>,
	/// One bias per output, in accumulator units (within `i32` in version 1 and 2 files,
	/// at most [`MAX_BIAS`] in magnitude).
	pub bias: Vec<i64>,
	/// Requantization multiplier, positive: for the layer or per output.
	pub multiplier: PerChannel<i32>,
	/// Requantization shift: the accumulator times `multiplier` is divided by `2^shift`,
	/// rounding toward negative infinity. For the layer or per output.
	pub shift: PerChannel<u8>,
	/// Whether negative values become zero before clamping.
	pub relu: bool,
}

/// A 2-D convolution over a `channels × height × width` image with zero padding, then
/// requantization and optional ReLU. Output: `filters × out_height × out_width`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv2d {
	/// Input channels.
	pub channels: u32,
	/// Input height.
	pub height: u32,
	/// Input width.
	pub width: u32,
	/// Output channels.
	pub filters: u32,
	/// Kernel height.
	pub kernel_height: u32,
	/// Kernel width.
	pub kernel_width: u32,
	/// Step between windows, both directions.
	pub stride: u32,
	/// Zeros added on every side.
	pub padding: u32,
	/// `filters × channels × kernel_height × kernel_width` weights, row-major.
	pub weights: Vec<i16>,
	/// One bias per filter, in accumulator units (within `i32` in version 1 and 2 files,
	/// at most [`MAX_BIAS`] in magnitude).
	pub bias: Vec<i64>,
	/// Requantization multiplier, positive: for the layer or per filter.
	pub multiplier: PerChannel<i32>,
	/// Requantization shift: for the layer or per filter.
	pub shift: PerChannel<u8>,
	/// Whether negative values become zero before clamping.
	pub relu: bool,
}

/// A requantization parameter of a dense or conv2d layer: one value for every output, or
/// one per output channel (a dense layer's output, a convolution's filter), which lets
/// each channel's weights have a scale of their own. In a file: a number or an array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PerChannel<T> {
	/// One value for the whole layer.
	Layer(T),
	/// One value per output channel, in channel order.
	Channel(Vec<T>),
}

impl<T: Copy> PerChannel<T> {
	/// The value of output channel `channel` (which must exist).
	pub fn get(&self, channel: usize) -> T {
		match self {
			Self::Layer(value) => *value,
			Self::Channel(values) => values[channel],
		}
	}

	/// Whether there is a value per channel.
	pub fn is_per_channel(&self) -> bool {
		matches!(self, Self::Channel(_))
	}

	/// Whether there is one value, or exactly `channels`, and `ok` holds for each.
	fn check(&self, channels: u32, ok: impl Fn(T) -> bool) -> bool {
		match self {
			Self::Layer(value) => ok(*value),
			Self::Channel(values) => {
				values.len() == channels as usize && values.iter().all(|value| ok(*value))
			},
		}
	}
}

impl<T> From<T> for PerChannel<T> {
	fn from(value: T) -> Self {
		Self::Layer(value)
	}
}

/// Sums over `kernel × kernel` windows of each channel (no padding), requantized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SumPool {
	/// Channels.
	pub channels: u32,
	/// Input height.
	pub height: u32,
	/// Input width.
	pub width: u32,
	/// Window side.
	pub kernel: u32,
	/// Step between windows, both directions.
	pub stride: u32,
	/// Requantization multiplier, positive.
	pub multiplier: i32,
	/// Requantization shift.
	pub shift: u8,
}

/// `floor(window sum / kernel²)` over `kernel × kernel` windows of each channel (no
/// padding).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvgPool {
	/// Channels.
	pub channels: u32,
	/// Input height.
	pub height: u32,
	/// Input width.
	pub width: u32,
	/// Window side.
	pub kernel: u32,
	/// Step between windows, both directions.
	pub stride: u32,
}

/// Why a model file or an input is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
	/// The file is not the JSON of a model.
	Parse(String),
	/// The `format` tag is neither [`FORMAT`] nor [`FORMAT_V1`].
	UnknownFormat(String),
	/// A model needs at least one and at most [`MAX_LAYERS`] layers.
	LayerCount(usize),
	/// A layer's dimensions are zero or above the limits.
	LayerSize {
		/// The layer's index, from 0.
		layer: usize,
	},
	/// A layer's window does not fit its (padded) image.
	LayerShape {
		/// The layer's index, from 0.
		layer: usize,
	},
	/// A layer's inputs differ from the previous layer's outputs.
	LayerMismatch {
		/// The layer's index, from 0.
		layer: usize,
		/// The previous layer's outputs.
		expected: u32,
		/// This layer's inputs.
		found: u32,
	},
	/// A layer has the wrong number of weights or biases.
	ParameterCount {
		/// The layer's index, from 0.
		layer: usize,
	},
	/// A layer's multiplier is not positive, its shift is above [`MAX_SHIFT`], or it has
	/// per-channel values for another number of channels.
	Requantization {
		/// The layer's index, from 0.
		layer: usize,
	},
	/// A version 1 model has a layer other than dense.
	NotInVersion1 {
		/// The layer's index, from 0.
		layer: usize,
	},
	/// A version 1 or 2 model has per-channel requantization or weights beyond `i8`.
	NeedsVersion3 {
		/// The layer's index, from 0.
		layer: usize,
	},
	/// Values of a width other than 8 or 16 bits, or 16 in a version 1 or 2 model.
	Bits(u8),
	/// The input has the wrong length in bytes.
	InputBytes {
		/// The model's input length in bytes.
		expected: usize,
		/// The given input's length.
		found: usize,
	},
	/// An input value outside the model's value range.
	InputRange {
		/// The value's index.
		index: usize,
	},
	/// The input has the wrong length.
	InputLength {
		/// The model's input length.
		expected: u32,
		/// The given input's length.
		found: usize,
	},
}

impl core::fmt::Display for Error {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Parse(reason) => write!(f, "not a quantized-integer model: {reason}"),
			Self::UnknownFormat(tag) => {
				write!(
					f,
					"unknown model format {tag:?}, expected {FORMAT:?}, {FORMAT_V2:?} or {FORMAT_V1:?}"
				)
			},
			Self::LayerCount(n) => write!(f, "a model has 1..={MAX_LAYERS} layers, this one {n}"),
			Self::LayerSize { layer } => write!(
				f,
				"layer {layer}: a dimension is zero, or above the limits ({MAX_LAYER_INPUTS} terms \
				 per output, {MAX_LAYER_OUTPUTS} dense outputs, {MAX_TENSOR_VALUES} values)"
			),
			Self::LayerShape { layer } => {
				write!(f, "layer {layer}: the window is larger than the (padded) image")
			},
			Self::LayerMismatch { layer, expected, found } => write!(
				f,
				"layer {layer}: takes {found} inputs but the previous layer gives {expected}"
			),
			Self::ParameterCount { layer } => {
				write!(f, "layer {layer}: wrong number of weights or biases, or a bias above 2^47")
			},
			Self::Requantization { layer } => write!(
				f,
				"layer {layer}: multiplier must be positive and shift at most {MAX_SHIFT}, \
				 one each or one per output channel"
			),
			Self::NotInVersion1 { layer } => {
				write!(f, "layer {layer}: {FORMAT_V1:?} has dense layers only, use {FORMAT:?}")
			},
			Self::NeedsVersion3 { layer } => write!(
				f,
				"layer {layer}: per-channel requantization, weights beyond i8 and biases beyond \
				 i32 need {FORMAT:?}"
			),
			Self::Bits(bits) => {
				write!(f, "values are 8 or 16 bits ({FORMAT:?} for 16), not {bits}")
			},
			Self::InputBytes { expected, found } => {
				write!(f, "input has {found} bytes, the model takes {expected}")
			},
			Self::InputRange { index } => {
				write!(f, "input value {index} is outside the model's value range")
			},
			Self::InputLength { expected, found } => {
				write!(f, "input has {found} values, the model takes {expected}")
			},
		}
	}
}

impl std::error::Error for Error {}

/// The outer object of a model file; `layers` is read according to `format`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
	format: String,
	#[serde(default)]
	bits: Option<u8>,
	#[serde(default)]
	input_bits: Option<u8>,
	layers: serde_json::Value,
}

#[derive(Serialize)]
struct FileRef<'a, L> {
	format: &'a str,
	#[serde(skip_serializing_if = "Option::is_none")]
	bits: Option<u8>,
	#[serde(skip_serializing_if = "Option::is_none")]
	input_bits: Option<u8>,
	layers: L,
}

impl QModel {
	/// Parses and validates a model file.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
		let parse = |e: serde_json::Error| Error::Parse(e.to_string());
		let file: File = serde_json::from_slice(bytes).map_err(parse)?;
		let layers = match file.format.as_str() {
			FORMAT_V1 => serde_json::from_value::<Vec<Dense>>(file.layers)
				.map_err(parse)?
				.into_iter()
				.map(Layer::Dense)
				.collect(),
			FORMAT | FORMAT_V2 => serde_json::from_value(file.layers).map_err(parse)?,
			_ => return Err(Error::UnknownFormat(file.format)),
		};
		let bits = file.bits.unwrap_or(8);
		if file.bits == Some(8) || file.input_bits == Some(bits) {
			// Defaults are written by leaving them out: one file per model.
			return Err(Error::Parse(
				"\"bits\": 8 and \"input_bits\" equal to \"bits\" are left out".into(),
			));
		}
		let input_bits = file.input_bits.unwrap_or(bits);
		let model = Self { format: file.format, bits, input_bits, layers };
		model.validate()?;
		Ok(model)
	}

	/// The canonical file of this model: version 1 files stay version 1.
	pub fn to_bytes(&self) -> Vec<u8> {
		let dense: Option<Vec<&Dense>> = self
			.layers
			.iter()
			.map(|layer| match layer {
				Layer::Dense(dense) => Some(dense),
				_ => None,
			})
			.collect();
		match dense {
			Some(layers) if self.format == FORMAT_V1 => serde_json::to_vec(&FileRef {
				format: FORMAT_V1,
				bits: None,
				input_bits: None,
				layers,
			}),
			_ => serde_json::to_vec(&FileRef {
				format: &self.format,
				bits: (self.bits != 8).then_some(self.bits),
				input_bits: (self.input_bits != self.bits).then_some(self.input_bits),
				layers: &self.layers,
			}),
		}
		.expect("a model always serializes")
	}

	/// Checks the format tag, dimensions, shapes, parameter counts and requantization
	/// bounds.
	pub fn validate(&self) -> Result<(), Error> {
		if ![FORMAT, FORMAT_V2, FORMAT_V1].contains(&self.format.as_str()) {
			return Err(Error::UnknownFormat(self.format.clone()));
		}
		for bits in [self.bits, self.input_bits] {
			if !VALUE_BITS.contains(&bits) || (bits != 8 && self.format != FORMAT) {
				return Err(Error::Bits(bits));
			}
		}
		if self.layers.is_empty() || self.layers.len() > MAX_LAYERS {
			return Err(Error::LayerCount(self.layers.len()));
		}
		for (index, layer) in self.layers.iter().enumerate() {
			if self.format == FORMAT_V1 && !matches!(layer, Layer::Dense(_)) {
				return Err(Error::NotInVersion1 { layer: index });
			}
			if self.format != FORMAT && (layer.is_per_channel() || layer.has_wide_parameters()) {
				return Err(Error::NeedsVersion3 { layer: index });
			}
			layer.validate(index)?;
			if index > 0 {
				let expected = self.layers[index - 1].output_len();
				if layer.input_len() != expected {
					return Err(Error::LayerMismatch {
						layer: index,
						expected,
						found: layer.input_len(),
					});
				}
			}
		}
		Ok(())
	}

	/// Input length.
	pub fn input_len(&self) -> u32 {
		self.layers[0].input_len()
	}

	/// Output length.
	pub fn output_len(&self) -> u32 {
		self.layers[self.layers.len() - 1].output_len()
	}

	/// The input's length in bytes.
	pub fn input_bytes(&self) -> usize {
		self.input_len() as usize * usize::from(self.input_bits / 8)
	}

	/// The output's length in bytes.
	pub fn output_bytes(&self) -> usize {
		self.output_len() as usize * usize::from(self.output_bits() / 8)
	}

	/// Evaluates the model on `input` (values of [`Self::bits`] bits). The model must be
	/// valid ([`Self::from_bytes`] validates).
	pub fn evaluate(&self, input: &[i32]) -> Result<Vec<i32>, Error> {
		if input.len() != self.input_len() as usize {
			return Err(Error::InputLength { expected: self.input_len(), found: input.len() });
		}
		let (low, high) = value_range(self.input_bits.into());
		if let Some(index) = input.iter().position(|x| !(low..=high).contains(&i64::from(*x))) {
			return Err(Error::InputRange { index });
		}
		let mut activations = input.to_vec();
		for layer in &self.layers {
			activations = layer.apply(&activations, self.bits.into());
		}
		Ok(activations)
	}

	/// Evaluates the model on an input given as bytes ([`decode`]), returning the output
	/// as bytes ([`encode`]).
	pub fn evaluate_bytes(&self, input: &[u8]) -> Result<Vec<u8>, Error> {
		if input.len() != self.input_bytes() {
			return Err(Error::InputBytes { expected: self.input_bytes(), found: input.len() });
		}
		let output = self.evaluate(&decode(input, self.input_bits.into()))?;
		Ok(encode(&output, self.output_bits().into()))
	}

	/// The width of every tensor: the input's, then each layer's output's (an average
	/// pool keeps its input's width, the other layers give [`Self::bits`]).
	pub fn widths(&self) -> Vec<u8> {
		let mut widths = Vec::with_capacity(self.layers.len() + 1);
		widths.push(self.input_bits);
		for layer in &self.layers {
			let previous = widths[widths.len() - 1];
			widths.push(if matches!(layer, Layer::AvgPool(_)) { previous } else { self.bits });
		}
		widths
	}

	/// The width of the output's values.
	pub fn output_bits(&self) -> u8 {
		self.widths().last().copied().unwrap_or(self.input_bits)
	}
}

/// The smallest and largest signed value of `bits` bits.
pub fn value_range(bits: u32) -> (i64, i64) {
	(-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
}

/// `clamp(relu?(floor(accumulator · multiplier / 2^shift)), -2^(bits-1), 2^(bits-1) - 1)`.
pub fn requantize(accumulator: i64, multiplier: i32, shift: u8, relu: bool, bits: u32) -> i32 {
	let mut value = (i128::from(accumulator) * i128::from(multiplier)) >> shift;
	if relu {
		value = value.max(0);
	}
	let (low, high) = value_range(bits);
	value.clamp(low.into(), high.into()) as i32
}

/// Whether every bias is at most [`MAX_BIAS`] in magnitude.
fn biases_fit(bias: &[i64]) -> bool {
	bias.iter().all(|b| b.unsigned_abs() <= MAX_BIAS as u64)
}

/// `Err(error)` unless every value is nonzero and at most its limit.
fn check_sizes(values: &[(u64, u64)], error: Error) -> Result<(), Error> {
	if values.iter().all(|(value, limit)| (1..=*limit).contains(value)) {
		Ok(())
	} else {
		Err(error)
	}
}

fn check_requantization(
	multiplier: &PerChannel<i32>,
	shift: &PerChannel<u8>,
	channels: u32,
	layer: usize,
) -> Result<(), Error> {
	if !multiplier.check(channels, |m| m > 0) || !shift.check(channels, |s| s <= MAX_SHIFT) {
		return Err(Error::Requantization { layer });
	}
	Ok(())
}

impl Layer {
	/// The layer's `type` tag in the file.
	pub fn name(&self) -> &'static str {
		match self {
			Self::Dense(_) => "dense",
			Self::Conv2d(_) => "conv2d",
			Self::SumPool(_) => "sum_pool",
			Self::AvgPool(_) => "avg_pool",
		}
	}

	/// Whether the layer requantizes per output channel.
	pub fn is_per_channel(&self) -> bool {
		match self {
			Self::Dense(Dense { multiplier, shift, .. })
			| Self::Conv2d(Conv2d { multiplier, shift, .. }) => {
				multiplier.is_per_channel() || shift.is_per_channel()
			},
			Self::SumPool(_) | Self::AvgPool(_) => false,
		}
	}

	/// Whether a weight is outside `i8` or a bias outside `i32` (which version 1 and 2
	/// files cannot hold).
	pub fn has_wide_parameters(&self) -> bool {
		let (weights, bias) = match self {
			Self::Dense(dense) => (&dense.weights, &dense.bias),
			Self::Conv2d(conv) => (&conv.weights, &conv.bias),
			Self::SumPool(_) | Self::AvgPool(_) => return false,
		};
		weights.iter().any(|w| i8::try_from(*w).is_err())
			|| bias.iter().any(|b| i32::try_from(*b).is_err())
	}

	/// Input length.
	pub fn input_len(&self) -> u32 {
		match self {
			Self::Dense(dense) => dense.inputs,
			Self::Conv2d(conv) => conv.channels * conv.height * conv.width,
			Self::SumPool(pool) => pool.shape().input_len(),
			Self::AvgPool(pool) => pool.shape().input_len(),
		}
	}

	/// Output length.
	pub fn output_len(&self) -> u32 {
		match self {
			Self::Dense(dense) => dense.outputs,
			Self::Conv2d(conv) => {
				let (height, width) = conv.output_size();
				conv.filters * height * width
			},
			Self::SumPool(pool) => pool.shape().output_len(),
			Self::AvgPool(pool) => pool.shape().output_len(),
		}
	}

	/// The layer's output for `input` (of length [`Self::input_len`], values of `bits`
	/// bits).
	pub fn apply(&self, input: &[i32], bits: u32) -> Vec<i32> {
		match self {
			Self::Dense(dense) => dense.apply(input, bits),
			Self::Conv2d(conv) => conv.apply(input, bits),
			Self::SumPool(pool) => {
				let mut output = Vec::with_capacity(pool.shape().output_len() as usize);
				pool.shape().for_each_window(|window| {
					let sum: i64 = window.iter().map(|i| i64::from(input[*i])).sum();
					output.push(requantize(sum, pool.multiplier, pool.shift, false, bits));
				});
				output
			},
			Self::AvgPool(pool) => {
				let area = i64::from(pool.kernel * pool.kernel);
				let mut output = Vec::with_capacity(pool.shape().output_len() as usize);
				pool.shape().for_each_window(|window| {
					let sum: i64 = window.iter().map(|i| i64::from(input[*i])).sum();
					output.push(sum.div_euclid(area) as i32);
				});
				output
			},
		}
	}

	fn validate(&self, index: usize) -> Result<(), Error> {
		let size = Error::LayerSize { layer: index };
		let values = u64::from(MAX_TENSOR_VALUES);
		let terms = u64::from(MAX_LAYER_INPUTS);
		match self {
			Self::Dense(dense) => {
				check_sizes(
					&[
						(dense.inputs.into(), terms),
						(dense.outputs.into(), MAX_LAYER_OUTPUTS.into()),
					],
					size,
				)?;
				let weights = dense.inputs as usize * dense.outputs as usize;
				if dense.weights.len() != weights
					|| dense.bias.len() != dense.outputs as usize
					|| !biases_fit(&dense.bias)
				{
					return Err(Error::ParameterCount { layer: index });
				}
				check_requantization(&dense.multiplier, &dense.shift, dense.outputs, index)
			},
			Self::Conv2d(conv) => {
				let (channels, height, width) =
					(u64::from(conv.channels), u64::from(conv.height), u64::from(conv.width));
				let kernel = u64::from(conv.kernel_height) * u64::from(conv.kernel_width);
				check_sizes(
					&[
						(channels * height * width, values),
						(conv.filters.into(), values),
						(conv.stride.into(), u64::MAX),
						(channels * kernel, terms),
					],
					size.clone(),
				)?;
				let padding = 2 * u64::from(conv.padding);
				if height + padding < conv.kernel_height.into()
					|| width + padding < conv.kernel_width.into()
				{
					return Err(Error::LayerShape { layer: index });
				}
				let (out_height, out_width) = conv.output_size_u64();
				check_sizes(&[(u64::from(conv.filters) * out_height * out_width, values)], size)?;
				let weights = conv.filters as usize * (channels * kernel) as usize;
				if conv.weights.len() != weights
					|| conv.bias.len() != conv.filters as usize
					|| !biases_fit(&conv.bias)
				{
					return Err(Error::ParameterCount { layer: index });
				}
				check_requantization(&conv.multiplier, &conv.shift, conv.filters, index)
			},
			Self::SumPool(pool) => {
				pool.shape().validate(index)?;
				check_requantization(&pool.multiplier.into(), &pool.shift.into(), 1, index)
			},
			Self::AvgPool(pool) => pool.shape().validate(index),
		}
	}
}

impl Dense {
	/// The layer's output for `input` (of length `inputs`, values of `bits` bits).
	pub fn apply(&self, input: &[i32], bits: u32) -> Vec<i32> {
		self.weights
			.chunks_exact(self.inputs as usize)
			.zip(&self.bias)
			.enumerate()
			.map(|(output, (row, bias))| {
				let dot: i64 =
					row.iter().zip(input).map(|(w, x)| i64::from(*w) * i64::from(*x)).sum();
				let (multiplier, shift) = (self.multiplier.get(output), self.shift.get(output));
				requantize(*bias + dot, multiplier, shift, self.relu, bits)
			})
			.collect()
	}
}

impl Conv2d {
	/// Output height and width.
	pub fn output_size(&self) -> (u32, u32) {
		let (height, width) = self.output_size_u64();
		(height as u32, width as u32)
	}

	fn output_size_u64(&self) -> (u64, u64) {
		let side = |input: u32, kernel: u32| {
			(u64::from(input) + 2 * u64::from(self.padding) - u64::from(kernel))
				/ u64::from(self.stride)
				+ 1
		};
		(side(self.height, self.kernel_height), side(self.width, self.kernel_width))
	}

	/// The weights of one filter.
	pub fn filter(&self, filter: u32) -> &[i16] {
		let len = (self.channels * self.kernel_height * self.kernel_width) as usize;
		&self.weights[filter as usize * len..][..len]
	}

	/// Calls `tap(kernel_index, input_index)` for every kernel position of the output at
	/// `(row, column)` that falls inside the image (padding reads zero and is skipped):
	/// `kernel_index` into [`Self::filter`], `input_index` into the flat input.
	pub fn for_each_tap(&self, row: u32, column: u32, mut tap: impl FnMut(usize, usize)) {
		let (height, width, padding) = (self.height as i64, self.width as i64, self.padding as i64);
		let (kh, kw) = (self.kernel_height as usize, self.kernel_width as usize);
		for channel in 0..self.channels as usize {
			for ky in 0..kh {
				let y = i64::from(row * self.stride) + ky as i64 - padding;
				if !(0..height).contains(&y) {
					continue;
				}
				for kx in 0..kw {
					let x = i64::from(column * self.stride) + kx as i64 - padding;
					if (0..width).contains(&x) {
						let input = (channel as i64 * height + y) * width + x;
						tap((channel * kh + ky) * kw + kx, input as usize);
					}
				}
			}
		}
	}

	/// The layer's output for `input` (values of `bits` bits): filter-major, then rows,
	/// then columns.
	pub fn apply(&self, input: &[i32], bits: u32) -> Vec<i32> {
		let (height, width) = self.output_size();
		let mut output = Vec::with_capacity((self.filters * height * width) as usize);
		for (filter, bias) in (0..self.filters).zip(&self.bias) {
			let weights = self.filter(filter);
			let multiplier = self.multiplier.get(filter as usize);
			let shift = self.shift.get(filter as usize);
			for row in 0..height {
				for column in 0..width {
					let mut acc = *bias;
					self.for_each_tap(row, column, |k, i| {
						acc += i64::from(weights[k]) * i64::from(input[i])
					});
					output.push(requantize(acc, multiplier, shift, self.relu, bits));
				}
			}
		}
		output
	}
}

/// The geometry shared by both pools: `kernel × kernel` windows with a stride, per
/// channel, no padding.
#[derive(Clone, Copy, Debug)]
pub struct PoolShape {
	/// Channels.
	pub channels: u32,
	/// Input height.
	pub height: u32,
	/// Input width.
	pub width: u32,
	/// Window side.
	pub kernel: u32,
	/// Step between windows.
	pub stride: u32,
}

impl PoolShape {
	fn input_len(&self) -> u32 {
		self.channels * self.height * self.width
	}

	/// Output height and width.
	pub fn output_size(&self) -> (u32, u32) {
		(
			(self.height - self.kernel) / self.stride + 1,
			(self.width - self.kernel) / self.stride + 1,
		)
	}

	fn output_len(&self) -> u32 {
		let (height, width) = self.output_size();
		self.channels * height * width
	}

	/// Calls `visit` with the input indices of every window, in output order (channel,
	/// row, column).
	pub fn for_each_window(&self, mut visit: impl FnMut(&[usize])) {
		let (out_height, out_width) = self.output_size();
		let mut window = Vec::with_capacity((self.kernel * self.kernel) as usize);
		for channel in 0..self.channels {
			for row in 0..out_height {
				for column in 0..out_width {
					window.clear();
					for ky in 0..self.kernel {
						let start = (channel * self.height + row * self.stride + ky) * self.width
							+ column * self.stride;
						window.extend(start as usize..(start + self.kernel) as usize);
					}
					visit(&window);
				}
			}
		}
	}

	fn validate(&self, layer: usize) -> Result<(), Error> {
		let (channels, height, width) =
			(u64::from(self.channels), u64::from(self.height), u64::from(self.width));
		let kernel = u64::from(self.kernel);
		check_sizes(
			&[
				(channels * height * width, MAX_TENSOR_VALUES.into()),
				(kernel * kernel, MAX_LAYER_INPUTS.into()),
				(self.stride.into(), u64::MAX),
			],
			Error::LayerSize { layer },
		)?;
		if kernel > height || kernel > width {
			return Err(Error::LayerShape { layer });
		}
		Ok(())
	}
}

impl SumPool {
	/// The pool's geometry.
	pub fn shape(&self) -> PoolShape {
		PoolShape {
			channels: self.channels,
			height: self.height,
			width: self.width,
			kernel: self.kernel,
			stride: self.stride,
		}
	}
}

impl AvgPool {
	/// The pool's geometry.
	pub fn shape(&self) -> PoolShape {
		PoolShape {
			channels: self.channels,
			height: self.height,
			width: self.width,
			kernel: self.kernel,
			stride: self.stride,
		}
	}
}

/// Bytes as values of `bits` bits (8: one two's-complement byte each; 16: two, little-end
/// first); a trailing partial value is dropped.
pub fn decode(bytes: &[u8], bits: u32) -> Vec<i32> {
	match bits {
		16 => bytes
			.chunks_exact(2)
			.map(|b| i32::from(i16::from_le_bytes([b[0], b[1]])))
			.collect(),
		_ => bytes.iter().map(|b| i32::from(*b as i8)).collect(),
	}
}

/// Values of `bits` bits as bytes ([`decode`]'s inverse; each value must fit).
pub fn encode(values: &[i32], bits: u32) -> Vec<u8> {
	match bits {
		16 => values.iter().flat_map(|v| (*v as i16).to_le_bytes()).collect(),
		_ => values.iter().map(|v| *v as i8 as u8).collect(),
	}
}

/// A deterministic dense model with pseudo-random parameters of the given layer widths
/// (`widths[0]` inputs, then each layer's outputs), ReLU on every layer but the last:
/// for tests, benchmarks and the development chain's demo model.
/// A version 2 file (one multiplier per layer), so its bytes and hash stay those of
/// before version 3.
pub fn generate(widths: &[u32], seed: u64) -> QModel {
	let mut rng = SplitMix64(seed);
	let layers = widths
		.windows(2)
		.enumerate()
		.map(|(index, pair)| {
			let (inputs, outputs) = (pair[0], pair[1]);
			Layer::Dense(Dense {
				inputs,
				outputs,
				weights: rng.weights(inputs * outputs),
				bias: rng.biases(outputs),
				multiplier: rng.multiplier().into(),
				shift: scale_shift(inputs).into(),
				relu: index + 2 < widths.len(),
			})
		})
		.collect();
	QModel { format: FORMAT_V2.into(), bits: 8, input_bits: 8, layers }
}

/// A deterministic small convolutional network with pseudo-random parameters: a
/// `1 × side × side` image (`side` at least 6), a 3×3 convolution of `filters` filters
/// (stride 1, padding 1, ReLU), a 2×2 average pool (stride 2), a second 3×3 convolution
/// (stride 2, padding 1, ReLU), a 2×2 sum pool (stride 2) and a dense layer to `classes`
/// outputs.
pub fn generate_cnn(side: u32, filters: u32, classes: u32, seed: u64) -> QModel {
	let mut rng = SplitMix64(seed);
	let mut conv = |channels: u32, side: u32, stride: u32| {
		Layer::Conv2d(Conv2d {
			channels,
			height: side,
			width: side,
			filters,
			kernel_height: 3,
			kernel_width: 3,
			stride,
			padding: 1,
			weights: rng.weights(filters * channels * 9),
			bias: rng.biases(filters),
			multiplier: rng.multiplier().into(),
			shift: scale_shift(channels * 9).into(),
			relu: true,
		})
	};
	let pooled = (side - 2) / 2 + 1;
	let strided = (pooled - 1) / 2 + 1;
	let mut layers = vec![
		conv(1, side, 1),
		Layer::AvgPool(AvgPool {
			channels: filters,
			height: side,
			width: side,
			kernel: 2,
			stride: 2,
		}),
		conv(filters, pooled, 2),
		Layer::SumPool(SumPool {
			channels: filters,
			height: strided,
			width: strided,
			kernel: 2,
			stride: 2,
			multiplier: 1,
			shift: 2,
		}),
	];
	let features = layers[3].output_len();
	layers.push(Layer::Dense(Dense {
		inputs: features,
		outputs: classes,
		weights: rng.weights(features * classes),
		bias: rng.biases(classes),
		multiplier: rng.multiplier().into(),
		shift: scale_shift(features).into(),
		relu: false,
	}));
	QModel { format: FORMAT_V2.into(), bits: 8, input_bits: 8, layers }
}

/// A shift that brings an accumulator of `terms` products back to about `i8` (with a
/// multiplier below 256): about `1/sqrt(terms)/128` of its range.
fn scale_shift(terms: u32) -> u8 {
	8 + (terms as f64).sqrt().log2().ceil() as u8 + 6
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

	fn weights(&mut self, count: u32) -> Vec<i16> {
		(0..count).map(|_| i16::from(self.next() as i8)).collect()
	}

	fn biases(&mut self, count: u32) -> Vec<i64> {
		(0..count).map(|_| (self.next() % 4096) as i64 - 2048).collect()
	}

	fn multiplier(&mut self) -> i32 {
		1 + (self.next() % 255) as i32
	}
}

#[cfg(test)]
mod tests;
