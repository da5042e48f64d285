//! Post-training quantization of a float [`Graph`] into an [`opg_qmodel`] model.
//!
//! Symmetric, zero point 0: a value `v` of scale `s` is the integer
//! `clamp(round(v / s), -2^(b-1), 2^(b-1) - 1)` for values of `b` bits ([`Options::bits`],
//! 8 or 16; `M = 2^(b-1) - 1` below, 127 for 8 bits). Activations have one scale per
//! tensor, weights one per output channel (a dense layer's output, a convolution's filter)
//! in [`Options::weight_bits`] bits (`W = 127` or `32767`): the format's per-channel
//! requantization (`opg-qmodel/3`) absorbs them at no cost in the circuit.
//! - the input's scale is given, or the calibration inputs' largest magnitude / `M`;
//! - output channel `c`'s weights get `max|w_c| / W`; its accumulator has scale
//!   `s_in · s_w,c`, so its bias is `round(b_c / (s_in · s_w,c))`;
//! - a layer's output scale is the largest magnitude of its float output (after ReLU)
//!   over the calibration inputs, times [`Options::headroom`], / `M` (the headroom leaves
//!   room for inputs beyond the calibration's, which would otherwise saturate), and
//!   channel `c`'s requantization `m_c / 2^shift_c` approximates `s_in · s_w,c / s_out`
//!   with an [`Options::multiplier_bits`]-bit multiplier; the bias also absorbs half an
//!   output step, so that the format's floor rounds to nearest;
//! - an average pool keeps its input's scale (its floor rounds down).

use crate::{Error, FloatLayer, Graph};
use opg_qmodel::{
	value_range, AvgPool, Conv2d, Dense, Layer, PerChannel, QModel, FORMAT, MAX_BIAS, MAX_SHIFT,
	VALUE_BITS,
};

/// How to quantize a graph: [`Options::default`] (16-bit activations over an 8-bit input)
/// or [`Options::int8`] (8 bits throughout), or any other widths.
///
/// Measured on four models beside EZKL (docs/benchmarks.md, `./scripts/benchmark zk
/// --vs-ezkl`): 8 bits throughout stays 5 to 40 times further from the float model than
/// EZKL; the default comes within its error at a few percent more constraints.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
	/// The float value of one input step (default: the calibration inputs' largest
	/// magnitude over the largest input value).
	pub input_scale: Option<f64>,
	/// The width of the model's activations and output: 8 or 16 bits. 16 costs about 8
	/// more constraints per activation (quotient bits) and twice the output's bytes.
	pub bits: u8,
	/// The width of the model's input: 8 or 16 bits. 16 costs 8 more constraints per input
	/// value, twice the input's bytes, and a longer input commitment.
	pub input_bits: u8,
	/// The width of the weights: 2 to 16 bits. Weights are constants of the circuit; each
	/// bit above 8 costs a remainder bit, one constraint, per activation.
	pub weight_bits: u8,
	/// Activation scales leave this factor (at least 1) above the calibration's largest
	/// magnitude, so that inputs beyond the calibration's do not saturate.
	pub headroom: f64,
	/// Precision of the requantization multipliers (2 to 31 bits): `m` is in
	/// `[2^(B−1), 2^B)` where the shift allows; each bit costs a remainder bit, one
	/// constraint, per activation.
	pub multiplier_bits: u32,
}

impl Options {
	/// 8-bit input, activations and weights, 10-bit multipliers (8-bit outputs gain
	/// nothing from more), scales from the calibration's largest magnitudes.
	pub fn int8() -> Self {
		Self {
			input_scale: None,
			bits: 8,
			input_bits: 8,
			weight_bits: 8,
			headroom: 1.0,
			multiplier_bits: 10,
		}
	}
}

impl Default for Options {
	/// 16-bit activations and output over an 8-bit input, 12-bit weights, 11-bit
	/// multipliers, and a headroom of 2 (one of the 15 magnitude bits).
	fn default() -> Self {
		Self {
			input_scale: None,
			bits: 16,
			input_bits: 8,
			weight_bits: 12,
			headroom: 2.0,
			multiplier_bits: 11,
		}
	}
}

/// A quantized model, its scales, and how closely it follows the float model on the
/// calibration inputs.
#[derive(Clone, Debug)]
pub struct Quantized {
	/// The integer model.
	pub model: QModel,
	/// The float value of one input step.
	pub input_scale: f64,
	/// The float value of one output step.
	pub output_scale: f64,
	/// Calibration inputs evaluated.
	pub samples: usize,
	/// The largest `|float output − dequantized integer output|` over them.
	pub max_abs_error: f64,
	/// The largest `|float output|` over them.
	pub max_abs_output: f64,
	/// How many of them have the same largest output (class) in both models.
	pub argmax_agreement: usize,
}

impl Quantized {
	/// A float input as the integer model's input.
	pub fn quantize_input(&self, input: &[f32]) -> Vec<i32> {
		let bits = self.model.input_bits.into();
		input.iter().map(|v| to_int(f64::from(*v) / self.input_scale, bits)).collect()
	}

	/// The integer model's output as floats.
	pub fn dequantize_output(&self, output: &[i32]) -> Vec<f32> {
		output.iter().map(|v| (f64::from(*v) * self.output_scale) as f32).collect()
	}
}

/// `value` rounded and saturated to a signed integer of `bits` bits.
fn to_int(value: f64, bits: u32) -> i32 {
	let (low, high) = value_range(bits);
	value.round().clamp(low as f64, high as f64) as i32
}

/// The largest value of `bits` bits, as a float.
fn largest(bits: u8) -> f64 {
	value_range(bits.into()).1 as f64
}

/// `max |v|` over `values`.
fn magnitude<'a>(values: impl IntoIterator<Item = &'a f32>) -> f64 {
	values.into_iter().fold(0.0, |max, v| max.max(f64::from(v.abs())))
}

/// `(m, shift)` with `m / 2^shift ≈ ratio`.
pub(crate) fn fixed_point(ratio: f64, bits: u32, layer: usize) -> Result<(i32, u8), Error> {
	let error = Error::Scale { layer, ratio };
	if !(ratio.is_finite() && ratio > 0.0) {
		return Err(error);
	}
	let shift = (i64::from(bits) - 1 - ratio.log2().floor() as i64).clamp(0, i64::from(MAX_SHIFT));
	let multiplier = (ratio * 2f64.powi(shift as i32)).round();
	if multiplier < 1.0 || multiplier > f64::from(i32::MAX) {
		return Err(error);
	}
	Ok((multiplier as i32, shift as u8))
}

/// Quantizes `graph` with scales from the `calibration` inputs, as `options` say.
pub fn quantize(
	graph: &Graph,
	calibration: &[Vec<f32>],
	options: &Options,
) -> Result<Quantized, Error> {
	for bits in [options.bits, options.input_bits] {
		if !VALUE_BITS.contains(&bits) {
			return Err(Error::Calibration(format!("values are 8 or 16 bits, not {bits}")));
		}
	}
	if !(2..=16).contains(&options.weight_bits) {
		let bits = options.weight_bits;
		return Err(Error::Calibration(format!("weights are 2 to 16 bits, not {bits}")));
	}
	if !(2..=31).contains(&options.multiplier_bits) {
		let bits = options.multiplier_bits;
		return Err(Error::Calibration(format!("multipliers are 2 to 31 bits, not {bits}")));
	}
	if !(options.headroom.is_finite() && options.headroom >= 1.0) {
		let headroom = options.headroom;
		return Err(Error::Calibration(format!("headroom {headroom} is below 1")));
	}
	let (value_max, weight_max) = (largest(options.bits), largest(options.weight_bits));
	let input_max = largest(options.input_bits);
	if calibration.is_empty() {
		return Err(Error::Calibration("no inputs".into()));
	}
	if let Some(bad) = calibration.iter().find(|x| x.len() != graph.input_len()) {
		return Err(Error::Calibration(format!(
			"an input has {} values, the model takes {}",
			bad.len(),
			graph.input_len()
		)));
	}
	let input_scale = match options.input_scale {
		Some(scale) if scale.is_finite() && scale > 0.0 => scale,
		Some(scale) => {
			return Err(Error::Calibration(format!("input scale {scale} is not positive")))
		},
		None => magnitude(calibration.iter().flatten()) / input_max,
	};
	if !(input_scale.is_finite() && input_scale > 0.0) {
		return Err(Error::Calibration("the inputs are all zero: give an input scale".into()));
	}
	let activations: Vec<Vec<Vec<f32>>> =
		calibration.iter().map(|x| graph.activations(x)).collect();

	let mut scale = input_scale;
	let mut layers = Vec::with_capacity(graph.layers.len());
	for (index, layer) in graph.layers.iter().enumerate() {
		let out_scale =
			magnitude(activations.iter().flat_map(|a| &a[index])) * options.headroom / value_max;
		let (weights, bias, relu) = match layer {
			FloatLayer::Dense { weights, bias, relu, .. }
			| FloatLayer::Conv { weights, bias, relu, .. } => (weights, bias, *relu),
			FloatLayer::AvgPool { channels, height, width, kernel, stride } => {
				layers.push(Layer::AvgPool(AvgPool {
					channels: *channels as u32,
					height: *height as u32,
					width: *width as u32,
					kernel: *kernel as u32,
					stride: *stride as u32,
				}));
				continue;
			},
		};
		// One scale per output channel: each channel's weights span the full range.
		let per_channel = weights.len() / bias.len();
		let mut integer_weights = Vec::with_capacity(weights.len());
		let (mut multipliers, mut shifts, mut biases) = (vec![], vec![], vec![]);
		let out_scale = if out_scale > 0.0 { out_scale } else { scale };
		for (channel, bias) in weights.chunks_exact(per_channel).zip(bias) {
			let largest = magnitude(channel);
			let weight_scale = if largest > 0.0 { largest / weight_max } else { 1.0 };
			let acc_scale = scale * weight_scale;
			let (multiplier, shift) =
				fixed_point(acc_scale / out_scale, options.multiplier_bits, index)?;
			let half_step = 2f64.powi(i32::from(shift) - 1) / f64::from(multiplier);
			integer_weights
				.extend(channel.iter().map(|w| to_int(f64::from(*w) / weight_scale, 16) as i16));
			let limit = MAX_BIAS as f64;
			biases.push(
				(f64::from(*bias) / acc_scale + half_step).round().clamp(-limit, limit) as i64
			);
			multipliers.push(multiplier);
			shifts.push(shift);
		}
		let (weights, bias) = (integer_weights, biases);
		let (multiplier, shift) = (PerChannel::Channel(multipliers), PerChannel::Channel(shifts));
		layers.push(match layer {
			FloatLayer::Dense { inputs, outputs, .. } => Layer::Dense(Dense {
				inputs: *inputs as u32,
				outputs: *outputs as u32,
				weights,
				bias,
				multiplier,
				shift,
				relu,
			}),
			FloatLayer::Conv {
				channels,
				height,
				width,
				filters,
				kernel_height,
				kernel_width,
				stride,
				padding,
				..
			} => Layer::Conv2d(Conv2d {
				channels: *channels as u32,
				height: *height as u32,
				width: *width as u32,
				filters: *filters as u32,
				kernel_height: *kernel_height as u32,
				kernel_width: *kernel_width as u32,
				stride: *stride as u32,
				padding: *padding as u32,
				weights,
				bias,
				multiplier,
				shift,
				relu,
			}),
			FloatLayer::AvgPool { .. } => unreachable!("handled above"),
		});
		scale = out_scale;
	}
	let model = QModel {
		format: FORMAT.into(),
		bits: options.bits,
		input_bits: options.input_bits,
		layers,
	};
	model.validate().map_err(Error::Model)?;

	let mut quantized = Quantized {
		model,
		input_scale,
		output_scale: scale,
		samples: calibration.len(),
		max_abs_error: 0.0,
		max_abs_output: 0.0,
		argmax_agreement: 0,
	};
	for (input, activations) in calibration.iter().zip(&activations) {
		let expected = activations.last().expect("a graph has layers");
		let integer = quantized
			.model
			.evaluate(&quantized.quantize_input(input))
			.map_err(Error::Model)?;
		let output = quantized.dequantize_output(&integer);
		for (e, o) in expected.iter().zip(&output) {
			quantized.max_abs_error = quantized.max_abs_error.max(f64::from((e - o).abs()));
		}
		quantized.max_abs_output = quantized.max_abs_output.max(magnitude(expected));
		if argmax(expected) == argmax(&output) {
			quantized.argmax_agreement += 1;
		}
	}
	Ok(quantized)
}

fn argmax(values: &[f32]) -> usize {
	values
		.iter()
		.enumerate()
		.fold(0, |best, (i, v)| if *v > values[best] { i } else { best })
}
