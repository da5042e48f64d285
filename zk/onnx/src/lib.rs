//! # OPG ONNX import
//!
//! Reads a float ONNX model that is a chain of `Conv`, `Gemm`, `Relu`, `AveragePool` and
//! `Flatten` (what `torch.onnx.export` writes for a `Sequential` of `Conv2d`, `Linear`,
//! `ReLU`, `AvgPool2d` and `Flatten`) into a [`Graph`] of float layers, evaluates it in
//! `f32`, and quantizes it ([`quantize`]) into an [`opg_qmodel`] model: the integer model
//! the executor runs bit-exactly and the ZKML circuit proves.
//!
//! The integer model approximates the float one; it is the integer model's semantics
//! that are served and proven. [`Quantized`] reports how far the two are apart on the
//! calibration inputs.

mod proto;
mod quantize;
#[cfg(test)]
mod tests;

pub use quantize::{quantize, Options, Quantized};

use prost::Message;
use proto::{AttributeProto, GraphProto, NodeProto, TensorProto};
use std::collections::HashMap;

/// Why a file is not imported.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
	/// The bytes are not an ONNX model.
	Decode(String),
	/// The model has no graph, or its graph no input.
	NoGraph,
	/// The graph's input is not a float tensor of a fixed shape `[1, C, H, W]` or `[1, N]`
	/// (a symbolic batch dimension is accepted).
	InputShape,
	/// An operator the importer does not translate.
	Unsupported {
		/// The node's name.
		node: String,
		/// Its operator.
		op_type: String,
	},
	/// An operator's attribute outside what the integer format expresses.
	Attribute {
		/// The node's name.
		node: String,
		/// The attribute.
		attribute: String,
		/// What is wrong with it.
		reason: String,
	},
	/// A node does not consume the previous node's output: the graph is not a chain.
	NotAChain {
		/// The node's name.
		node: String,
	},
	/// A weight or bias is not a float initializer of the expected shape.
	Parameter {
		/// The node's name.
		node: String,
		/// The initializer's name.
		name: String,
	},
	/// The graph's output is not the last node's.
	Output,
	/// The resulting integer model is invalid.
	Model(opg_qmodel::Error),
	/// Calibration inputs of the wrong length, or none.
	Calibration(String),
	/// A scale that no multiplier and shift express.
	Scale {
		/// The layer's index, from 0.
		layer: usize,
		/// The scale to express.
		ratio: f64,
	},
}

impl core::fmt::Display for Error {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Decode(reason) => write!(f, "not an ONNX model: {reason}"),
			Self::NoGraph => write!(f, "the model has no graph or no graph input"),
			Self::InputShape => write!(
				f,
				"the graph input must be a float tensor of fixed shape [1, C, H, W] or [1, N]"
			),
			Self::Unsupported { node, op_type } => write!(
				f,
				"node {node:?}: operator {op_type:?} is not supported (Conv, Gemm, Relu, \
				 AveragePool, Flatten are)"
			),
			Self::Attribute { node, attribute, reason } => {
				write!(f, "node {node:?}: attribute {attribute}: {reason}")
			},
			Self::NotAChain { node } => write!(
				f,
				"node {node:?} does not take the previous node's output: only chains import"
			),
			Self::Parameter { node, name } => write!(
				f,
				"node {node:?}: {name:?} is not a float initializer of the expected shape"
			),
			Self::Output => write!(f, "the graph's output is not its last node's"),
			Self::Model(error) => write!(f, "the quantized model is invalid: {error}"),
			Self::Calibration(reason) => write!(f, "calibration: {reason}"),
			Self::Scale { layer, ratio } => {
				write!(f, "layer {layer}: requantization scale {ratio:e} is out of range")
			},
		}
	}
}

impl std::error::Error for Error {}

/// A float layer of an imported graph.
#[derive(Clone, Debug, PartialEq)]
pub enum FloatLayer {
	/// `Gemm`: `y = W·x + b` (`weights` one row per output), then ReLU if `relu`.
	Dense {
		/// Input values.
		inputs: usize,
		/// Output values.
		outputs: usize,
		/// Weights, row-major (output, then input; a convolution: filter, channel, row, column).
		weights: Vec<f32>,
		/// One bias per output (per filter).
		bias: Vec<f32>,
		/// Whether ReLU follows.
		relu: bool,
	},
	/// `Conv`: a 2-D convolution with zero padding and one stride, then ReLU if `relu`.
	Conv {
		/// Input channels.
		channels: usize,
		/// Input height.
		height: usize,
		/// Input width.
		width: usize,
		/// Output channels.
		filters: usize,
		/// Window height.
		kernel_height: usize,
		/// Window width.
		kernel_width: usize,
		/// Step between windows.
		stride: usize,
		/// Zeros around the image, on every side.
		padding: usize,
		/// Weights, row-major (output, then input; a convolution: filter, channel, row, column).
		weights: Vec<f32>,
		/// One bias per output (per filter).
		bias: Vec<f32>,
		/// Whether ReLU follows.
		relu: bool,
	},
	/// `AveragePool`: square windows, no padding.
	AvgPool {
		/// Input channels.
		channels: usize,
		/// Input height.
		height: usize,
		/// Input width.
		width: usize,
		/// Window side.
		kernel: usize,
		/// Step between windows.
		stride: usize,
	},
}

/// An imported float model: its input length and layers.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
	/// The input shape without the batch dimension: `[C, H, W]` or `[N]`.
	pub input_shape: Vec<usize>,
	/// Layers, applied in order.
	pub layers: Vec<FloatLayer>,
}

/// The shape of the tensor between two nodes (without the batch dimension).
#[derive(Clone, Copy, Debug)]
enum Shape {
	Image { channels: usize, height: usize, width: usize },
	Flat(usize),
}

impl Shape {
	fn len(&self) -> usize {
		match self {
			Self::Image { channels, height, width } => channels * height * width,
			Self::Flat(len) => *len,
		}
	}
}

/// Inputs stored as float32 little-endian values, `input_len` per input (numpy's
/// `x.astype('<f4').tofile(path)`; the executor's `F32` tensor bytes).
pub fn samples(bytes: &[u8], input_len: usize) -> Result<Vec<Vec<f32>>, Error> {
	if input_len == 0 || bytes.is_empty() || !bytes.len().is_multiple_of(4 * input_len) {
		return Err(Error::Calibration(format!(
			"{} bytes are not a whole number of inputs of {input_len} float32 values",
			bytes.len()
		)));
	}
	Ok(bytes
		.chunks_exact(4 * input_len)
		.map(|input| {
			input
				.chunks_exact(4)
				.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
				.collect()
		})
		.collect())
}

/// Reads an ONNX model file.
pub fn read(bytes: &[u8]) -> Result<Graph, Error> {
	let model = proto::ModelProto::decode(bytes).map_err(|e| Error::Decode(e.to_string()))?;
	let graph = model.graph.ok_or(Error::NoGraph)?;
	let initializers: HashMap<&str, &TensorProto> =
		graph.initializer.iter().filter_map(|t| Some((t.name.as_deref()?, t))).collect();
	let (input_name, mut shape) = graph_input(&graph, &initializers)?;
	let input_shape = match shape {
		Shape::Image { channels, height, width } => vec![channels, height, width],
		Shape::Flat(len) => vec![len],
	};
	let mut current = input_name;
	let mut layers = Vec::new();
	for node in &graph.node {
		let name = node.name.clone().unwrap_or_default();
		let op_type = node.op_type.clone().unwrap_or_default();
		if node.input.first() != Some(&current) || node.output.len() != 1 {
			return Err(Error::NotAChain { node: name });
		}
		if !matches!(node.domain.as_deref().unwrap_or_default(), "" | "ai.onnx") {
			return Err(Error::Unsupported { node: name, op_type });
		}
		let reader = NodeReader { node, name: &name, initializers: &initializers };
		match op_type.as_str() {
			"Conv" => {
				let layer = reader.conv(shape)?;
				if let FloatLayer::Conv { filters, .. } = &layer {
					let (height, width) = conv_output(&layer);
					shape = Shape::Image { channels: *filters, height, width };
				}
				layers.push(layer);
			},
			"Gemm" => {
				let layer = reader.gemm(shape)?;
				if let FloatLayer::Dense { outputs, .. } = &layer {
					shape = Shape::Flat(*outputs);
				}
				layers.push(layer);
			},
			"Relu" => match layers.last_mut() {
				Some(FloatLayer::Dense { relu, .. } | FloatLayer::Conv { relu, .. }) if !*relu => {
					*relu = true
				},
				_ => {
					return Err(
						reader.attribute_error("input", "ReLU follows only Conv or Gemm here")
					)
				},
			},
			"AveragePool" => {
				let layer = reader.average_pool(shape)?;
				if let FloatLayer::AvgPool { channels, height, width, kernel, stride } = layer {
					shape = Shape::Image {
						channels,
						height: (height - kernel) / stride + 1,
						width: (width - kernel) / stride + 1,
					};
				}
				layers.push(layer);
			},
			"Flatten" => {
				if reader.int("axis", 1) != 1 {
					return Err(reader.attribute_error("axis", "only 1 (keep the batch dimension)"));
				}
				shape = Shape::Flat(shape.len());
			},
			_ => return Err(Error::Unsupported { node: name, op_type }),
		}
		current = node.output[0].clone();
	}
	if layers.is_empty() || graph.output.first().and_then(|o| o.name.as_ref()) != Some(&current) {
		return Err(Error::Output);
	}
	Ok(Graph { input_shape, layers })
}

/// The graph's input (the first input that is not an initializer) and its shape.
fn graph_input(
	graph: &GraphProto,
	initializers: &HashMap<&str, &TensorProto>,
) -> Result<(String, Shape), Error> {
	let input = graph
		.input
		.iter()
		.find(|i| i.name.as_deref().is_some_and(|n| !initializers.contains_key(n)))
		.ok_or(Error::NoGraph)?;
	let tensor = input
		.r#type
		.as_ref()
		.and_then(|t| t.tensor_type.as_ref())
		.ok_or(Error::InputShape)?;
	if tensor.elem_type != Some(proto::FLOAT) {
		return Err(Error::InputShape);
	}
	let dims = &tensor.shape.as_ref().ok_or(Error::InputShape)?.dim;
	let batch_ok = dims.first().is_some_and(|d| d.dim_value == Some(1) || d.dim_param.is_some());
	let sizes: Option<Vec<usize>> = dims
		.iter()
		.skip(1)
		.map(|d| d.dim_value.filter(|v| *v > 0).map(|v| v as usize))
		.collect();
	let shape = match (batch_ok, sizes.as_deref()) {
		(true, Some([channels, height, width])) => {
			Shape::Image { channels: *channels, height: *height, width: *width }
		},
		(true, Some([len])) => Shape::Flat(*len),
		_ => return Err(Error::InputShape),
	};
	Ok((input.name.clone().unwrap_or_default(), shape))
}

fn conv_output(layer: &FloatLayer) -> (usize, usize) {
	match layer {
		FloatLayer::Conv {
			height, width, kernel_height, kernel_width, stride, padding, ..
		} => (
			(height + 2 * padding - kernel_height) / stride + 1,
			(width + 2 * padding - kernel_width) / stride + 1,
		),
		_ => unreachable!("only called on convolutions"),
	}
}

struct NodeReader<'a> {
	node: &'a NodeProto,
	name: &'a str,
	initializers: &'a HashMap<&'a str, &'a TensorProto>,
}

impl NodeReader<'_> {
	fn attribute(&self, name: &str) -> Option<&AttributeProto> {
		self.node.attribute.iter().find(|a| a.name.as_deref() == Some(name))
	}

	fn int(&self, name: &str, default: i64) -> i64 {
		self.attribute(name).and_then(|a| a.i).unwrap_or(default)
	}

	fn float(&self, name: &str, default: f32) -> f32 {
		self.attribute(name).and_then(|a| a.f).unwrap_or(default)
	}

	fn ints(&self, name: &str) -> Option<&[i64]> {
		self.attribute(name).map(|a| a.ints.as_slice())
	}

	fn attribute_error(&self, attribute: &str, reason: &str) -> Error {
		Error::Attribute {
			node: self.name.into(),
			attribute: attribute.into(),
			reason: reason.into(),
		}
	}

	/// The values of input `index`, a float initializer of exactly `dims`.
	fn parameter(&self, index: usize, dims: &[usize]) -> Result<Vec<f32>, Error> {
		let name = self.node.input.get(index).cloned().unwrap_or_default();
		let error = || Error::Parameter { node: self.name.into(), name: name.clone() };
		let tensor = self.initializers.get(name.as_str()).ok_or_else(error)?;
		let shape_ok = tensor.dims.len() == dims.len()
			&& tensor.dims.iter().zip(dims).all(|(a, b)| *a as usize == *b);
		if !shape_ok
			|| tensor.data_type != Some(proto::FLOAT)
			|| tensor.data_location == Some(proto::EXTERNAL)
		{
			return Err(error());
		}
		let len: usize = dims.iter().product();
		let values: Vec<f32> = match &tensor.raw_data {
			Some(raw) => raw
				.chunks_exact(4)
				.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
				.collect(),
			None => tensor.float_data.clone(),
		};
		if values.len() != len || values.iter().any(|v| !v.is_finite()) {
			return Err(error());
		}
		Ok(values)
	}

	/// The optional bias (input 2) of `len` values, zeros when absent.
	fn bias(&self, len: usize) -> Result<Vec<f32>, Error> {
		match self.node.input.get(2).filter(|n| !n.is_empty()) {
			Some(_) => self.parameter(2, &[len]),
			None => Ok(vec![0.0; len]),
		}
	}

	/// A square-stride, symmetric-padding 2-D window: (kernel, stride, padding).
	fn window(&self, kernel: Option<&[i64]>) -> Result<([usize; 2], usize, usize), Error> {
		let kernel = match kernel {
			Some([h, w]) if *h > 0 && *w > 0 => [*h as usize, *w as usize],
			_ => return Err(self.attribute_error("kernel_shape", "two positive sizes")),
		};
		let stride = match self.ints("strides").unwrap_or(&[1, 1]) {
			[a, b] if a == b && *a > 0 => *a as usize,
			_ => return Err(self.attribute_error("strides", "equal in both directions")),
		};
		let padding = match self.ints("pads").unwrap_or(&[0, 0, 0, 0]) {
			[a, b, c, d] if a == b && b == c && c == d && *a >= 0 => *a as usize,
			_ => return Err(self.attribute_error("pads", "the same on every side")),
		};
		if self
			.attribute("auto_pad")
			.and_then(|a| a.s.as_deref())
			.is_some_and(|mode| mode != b"NOTSET")
		{
			return Err(self.attribute_error("auto_pad", "only NOTSET (explicit pads)"));
		}
		Ok((kernel, stride, padding))
	}

	fn image(&self, shape: Shape) -> Result<(usize, usize, usize), Error> {
		match shape {
			Shape::Image { channels, height, width } => Ok((channels, height, width)),
			Shape::Flat(_) => Err(self.attribute_error("input", "needs an image (C×H×W) input")),
		}
	}

	fn conv(&self, shape: Shape) -> Result<FloatLayer, Error> {
		let (channels, height, width) = self.image(shape)?;
		if self.int("group", 1) != 1 {
			return Err(
				self.attribute_error("group", "only 1 (no grouped or depthwise convolutions)")
			);
		}
		if self.ints("dilations").is_some_and(|d| d.iter().any(|v| *v != 1)) {
			return Err(self.attribute_error("dilations", "only 1"));
		}
		let weights_name = self.node.input.get(1).map(String::as_str).unwrap_or_default();
		let dims = self.initializers.get(weights_name).map(|t| t.dims.clone()).unwrap_or_default();
		let (filters, kernel_shape) = match dims.as_slice() {
			[f, c, h, w] if *c as usize == channels && *f > 0 => (*f as usize, [*h, *w]),
			_ => {
				return Err(Error::Parameter { node: self.name.into(), name: weights_name.into() })
			},
		};
		let (kernel, stride, padding) =
			self.window(Some(self.ints("kernel_shape").unwrap_or(&kernel_shape)))?;
		if height + 2 * padding < kernel[0] || width + 2 * padding < kernel[1] {
			return Err(self.attribute_error("kernel_shape", "larger than the padded image"));
		}
		Ok(FloatLayer::Conv {
			channels,
			height,
			width,
			filters,
			kernel_height: kernel[0],
			kernel_width: kernel[1],
			stride,
			padding,
			weights: self.parameter(1, &[filters, channels, kernel[0], kernel[1]])?,
			bias: self.bias(filters)?,
			relu: false,
		})
	}

	fn gemm(&self, shape: Shape) -> Result<FloatLayer, Error> {
		let Shape::Flat(inputs) = shape else {
			return Err(self.attribute_error("input", "needs a flat input (Flatten first)"));
		};
		if self.float("alpha", 1.0) != 1.0
			|| self.float("beta", 1.0) != 1.0
			|| self.int("transA", 0) != 0
		{
			return Err(self.attribute_error("alpha/beta/transA", "only 1, 1 and 0"));
		}
		let weights_name = self.node.input.get(1).map(String::as_str).unwrap_or_default();
		let dims = self.initializers.get(weights_name).map(|t| t.dims.clone()).unwrap_or_default();
		let transposed = self.int("transB", 0) == 1;
		let outputs = match (dims.as_slice(), transposed) {
			([o, i], true) | ([i, o], false) if *i as usize == inputs && *o > 0 => *o as usize,
			_ => {
				return Err(Error::Parameter { node: self.name.into(), name: weights_name.into() })
			},
		};
		let weights = if transposed {
			self.parameter(1, &[outputs, inputs])?
		} else {
			let stored = self.parameter(1, &[inputs, outputs])?;
			(0..outputs * inputs)
				.map(|k| stored[(k % inputs) * outputs + k / inputs])
				.collect()
		};
		Ok(FloatLayer::Dense { inputs, outputs, weights, bias: self.bias(outputs)?, relu: false })
	}

	fn average_pool(&self, shape: Shape) -> Result<FloatLayer, Error> {
		let (channels, height, width) = self.image(shape)?;
		let (kernel, stride, padding) = self.window(self.ints("kernel_shape"))?;
		if kernel[0] != kernel[1] || padding != 0 || self.int("ceil_mode", 0) != 0 {
			return Err(
				self.attribute_error("kernel_shape/pads/ceil_mode", "square, unpadded, floor mode")
			);
		}
		if kernel[0] > height || kernel[0] > width {
			return Err(self.attribute_error("kernel_shape", "larger than the image"));
		}
		Ok(FloatLayer::AvgPool { channels, height, width, kernel: kernel[0], stride })
	}
}

impl Graph {
	/// The input length.
	pub fn input_len(&self) -> usize {
		self.input_shape.iter().product()
	}

	/// Evaluates the float model on one input; returns every layer's output.
	pub fn activations(&self, input: &[f32]) -> Vec<Vec<f32>> {
		let mut outputs: Vec<Vec<f32>> = Vec::with_capacity(self.layers.len());
		for layer in &self.layers {
			let x = outputs.last().map(Vec::as_slice).unwrap_or(input);
			outputs.push(layer.apply(x));
		}
		outputs
	}

	/// Evaluates the float model on one input.
	pub fn evaluate(&self, input: &[f32]) -> Vec<f32> {
		self.activations(input).pop().unwrap_or_else(|| input.to_vec())
	}
}

impl FloatLayer {
	/// The image position a convolution's kernel position `(ky, kx)` reads for output
	/// `(oy, ox)`, or `None` in the padding.
	fn padded(&self, oy: usize, ky: usize, ox: usize, kx: usize) -> Option<(usize, usize)> {
		let Self::Conv { height, width, stride, padding, .. } = self else { return None };
		let y = (oy * stride + ky).checked_sub(*padding).filter(|y| y < height)?;
		let x = (ox * stride + kx).checked_sub(*padding).filter(|x| x < width)?;
		Some((y, x))
	}

	/// The layer's float output.
	pub fn apply(&self, x: &[f32]) -> Vec<f32> {
		let relu = |v: f32, on: bool| if on { v.max(0.0) } else { v };
		match self {
			Self::Dense { inputs, weights, bias, relu: on, .. } => weights
				.chunks_exact(*inputs)
				.zip(bias)
				.map(|(row, b)| relu(row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>() + b, *on))
				.collect(),
			Self::Conv {
				channels,
				height,
				width,
				filters,
				kernel_height,
				kernel_width,
				weights,
				bias,
				relu: on,
				..
			} => {
				let (kh, kw) = (*kernel_height, *kernel_width);
				let (out_height, out_width) = conv_output(self);
				let mut output = Vec::with_capacity(filters * out_height * out_width);
				for f in 0..*filters {
					for oy in 0..out_height {
						for ox in 0..out_width {
							let mut acc = bias[f];
							for c in 0..*channels {
								for ky in 0..kh {
									for kx in 0..kw {
										let Some((y, x_)) = self.padded(oy, ky, ox, kx) else {
											continue;
										};
										let w = weights[((f * channels + c) * kh + ky) * kw + kx];
										acc += w * x[(c * height + y) * width + x_];
									}
								}
							}
							output.push(relu(acc, *on));
						}
					}
				}
				output
			},
			Self::AvgPool { channels, height, width, kernel, stride } => {
				let (out_height, out_width) =
					((height - kernel) / stride + 1, (width - kernel) / stride + 1);
				let mut output = Vec::with_capacity(channels * out_height * out_width);
				for c in 0..*channels {
					for oy in 0..out_height {
						for ox in 0..out_width {
							let mut sum = 0.0;
							for ky in 0..*kernel {
								for kx in 0..*kernel {
									sum += x[(c * height + oy * stride + ky) * width
										+ ox * stride + kx];
								}
							}
							output.push(sum / (kernel * kernel) as f32);
						}
					}
				}
				output
			},
		}
	}
}
