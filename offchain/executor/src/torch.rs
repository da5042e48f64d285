//! TorchScript models on libtorch (through `tch`), on CUDA when present, else CPU.
//!
//! A request's body is its input tensors' raw bytes, little-endian, in the order and
//! with the shapes and dtypes of the model's [`Schema`] (the model hub's schema); the
//! answer is the output tensors' bytes in the same way. The first dimension of every
//! tensor is the request's batch dimension: concurrent requests for one model are
//! concatenated along it, run as one batch, and split again (see [`crate::batch`]).

use serde::{Deserialize, Serialize};
use tch::{CModule, Device, IValue, Kind, Tensor};

/// A tensor element type, as the model hub names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
	/// 32-bit float.
	F32,
	/// 16-bit float.
	F16,
	/// bfloat16.
	Bf16,
	/// 8-bit signed integer.
	I8,
	/// 8-bit unsigned integer.
	U8,
	/// 16-bit signed integer.
	I16,
	/// 32-bit signed integer.
	I32,
	/// 64-bit signed integer.
	I64,
	/// Boolean, one byte.
	Bool,
}

impl DType {
	fn kind(self) -> Kind {
		match self {
			Self::F32 => Kind::Float,
			Self::F16 => Kind::Half,
			Self::Bf16 => Kind::BFloat16,
			Self::I8 => Kind::Int8,
			Self::U8 => Kind::Uint8,
			Self::I16 => Kind::Int16,
			Self::I32 => Kind::Int,
			Self::I64 => Kind::Int64,
			Self::Bool => Kind::Bool,
		}
	}

	/// Bytes per element.
	pub fn size(self) -> usize {
		self.kind().elt_size_in_bytes()
	}
}

/// One input or output tensor: its shape (first dimension: batch) and element type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorSpec {
	/// Dimensions, outermost first; all non-zero.
	pub shape: Vec<u32>,
	/// Element type.
	pub dtype: DType,
}

impl TensorSpec {
	/// The byte length of one such tensor.
	pub fn byte_len(&self) -> usize {
		self.shape.iter().map(|&d| d as usize).product::<usize>() * self.dtype.size()
	}

	/// The shape of `n` of these concatenated along the first dimension.
	fn batched_shape(&self, n: usize) -> Vec<i64> {
		let mut shape: Vec<i64> = self.shape.iter().map(|&d| d as i64).collect();
		shape[0] *= n as i64;
		shape
	}
}

/// A model's input and output tensors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
	/// Input tensors, in call order.
	pub inputs: Vec<TensorSpec>,
	/// Output tensors, in return order (a module returning a tuple has several).
	pub outputs: Vec<TensorSpec>,
}

impl Schema {
	/// Checks that the schema has tensors and no empty dimension.
	pub fn validate(&self) -> Result<(), TorchError> {
		let tensors = || self.inputs.iter().chain(&self.outputs);
		if self.inputs.is_empty() || self.outputs.is_empty() {
			return Err(TorchError::Schema("a schema needs at least one input and one output".into()));
		}
		if tensors().any(|t| t.shape.is_empty() || t.shape.contains(&0)) {
			return Err(TorchError::Schema("every tensor needs a shape of non-zero dimensions".into()));
		}
		Ok(())
	}

	/// The byte length of one request's input.
	pub fn input_len(&self) -> usize {
		self.inputs.iter().map(TensorSpec::byte_len).sum()
	}
}

/// Why a TorchScript model could not be loaded or run.
#[derive(Debug)]
pub enum TorchError {
	/// The schema is unusable.
	Schema(String),
	/// The input bytes do not fit the schema.
	InputLength { expected: usize, found: usize },
	/// The module's output does not match the schema.
	Output(String),
	/// libtorch refused (a file that is not TorchScript, an operator failing, ...).
	Torch(tch::TchError),
}

impl std::fmt::Display for TorchError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::Schema(reason) => write!(f, "schema: {reason}"),
			Self::InputLength { expected, found } =>
				write!(f, "the input has {found} bytes but the model's input tensors take {expected}"),
			Self::Output(reason) => write!(f, "the model's output does not match its schema: {reason}"),
			Self::Torch(e) => write!(f, "libtorch: {e}"),
		}
	}
}

impl std::error::Error for TorchError {}

impl From<tch::TchError> for TorchError {
	fn from(e: tch::TchError) -> Self {
		Self::Torch(e)
	}
}

/// The device to run on: `auto` (CUDA 0 when present, else CPU), `cpu`, `cuda` or `cuda:N`.
pub fn parse_device(text: &str) -> Result<Device, String> {
	match text {
		"auto" => Ok(Device::cuda_if_available()),
		"cpu" => Ok(Device::Cpu),
		"cuda" => Ok(Device::Cuda(0)),
		other => other
			.strip_prefix("cuda:")
			.and_then(|index| index.parse().ok())
			.map(Device::Cuda)
			.ok_or_else(|| format!("{other:?} is not a device: use auto, cpu, cuda or cuda:N")),
	}
}

/// The device's name as results report it: `cpu` or `cuda:N`.
pub fn device_name(device: Device) -> String {
	match device {
		Device::Cuda(index) => format!("cuda:{index}"),
		Device::Cpu => "cpu".into(),
		other => format!("{other:?}").to_lowercase(),
	}
}

extern "C" {
	fn opg_set_deterministic_algorithms(on: std::ffi::c_int) -> std::ffi::c_int;
	fn opg_deterministic_algorithms() -> std::ffi::c_int;
}

/// Whether libtorch runs deterministic algorithms only (`torch.use_deterministic_algorithms`).
pub fn deterministic_algorithms() -> bool {
	// SAFETY: reads a flag of libtorch's global context; no arguments.
	unsafe { opg_deterministic_algorithms() == 1 }
}

/// Puts libtorch in its deterministic mode: deterministic algorithms only (an operation
/// without one fails rather than varies), fixed seeds, cuDNN without benchmarking (which
/// picks kernels by timing), and cuBLAS with a fixed workspace. Call once, before loading
/// models. What remains nondeterministic is the batch composition, which
/// [`Output::reproducible`] reports.
pub fn set_deterministic() -> Result<(), TorchError> {
	// SAFETY: sets a flag of libtorch's global context; the shim catches C++ exceptions.
	if unsafe { opg_set_deterministic_algorithms(1) } != 0 {
		return Err(TorchError::Torch(tch::TchError::Torch("libtorch refused deterministic algorithms".into())));
	}
	// cuBLAS reads this when its first handle is created.
	if std::env::var_os("CUBLAS_WORKSPACE_CONFIG").is_none() {
		std::env::set_var("CUBLAS_WORKSPACE_CONFIG", ":4096:8");
	}
	tch::manual_seed(0);
	if tch::Cuda::is_available() {
		tch::Cuda::manual_seed_all(0);
		tch::Cuda::cudnn_set_benchmark(false);
	}
	Ok(())
}

/// A TorchScript module loaded on a device, with its schema.
pub struct TorchModel {
	module: CModule,
	schema: Schema,
	device: Device,
}

/// One request's output and how it was computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
	/// The output tensors' bytes.
	pub bytes: Vec<u8>,
	/// How many requests ran together in this batch.
	pub batch_size: usize,
	/// Whether running this input alone again on this device type, with this executor
	/// build, gives the same bits: true for a batch of one with deterministic algorithms
	/// on ([`set_deterministic`]). In a larger batch the kernels may block the arithmetic
	/// differently.
	pub reproducible: bool,
}

impl TorchModel {
	/// Loads the TorchScript file `bytes` onto `device` in evaluation mode.
	pub fn load(bytes: &[u8], schema: Schema, device: Device) -> Result<Self, TorchError> {
		schema.validate()?;
		let mut module = CModule::load_data_on_device(&mut std::io::Cursor::new(bytes), device)?;
		module.set_eval();
		Ok(Self { module, schema, device })
	}

	/// Runs the inputs as one batch and returns each one's output bytes, in order. An
	/// input of the wrong length fails the batch: check each against
	/// [`Schema::input_len`] before batching it with others.
	pub fn run_batch(&self, inputs: &[&[u8]]) -> Result<Vec<Vec<u8>>, TorchError> {
		let expected = self.schema.input_len();
		if let Some(input) = inputs.iter().find(|input| input.len() != expected) {
			return Err(TorchError::InputLength { expected, found: input.len() });
		}
		let _no_grad = tch::no_grad_guard();
		let n = inputs.len();
		let mut offset = 0;
		let mut tensors = Vec::with_capacity(self.schema.inputs.len());
		for spec in &self.schema.inputs {
			let len = spec.byte_len();
			let mut bytes = Vec::with_capacity(len * n);
			for input in inputs {
				bytes.extend_from_slice(&input[offset..offset + len]);
			}
			offset += len;
			let tensor = Tensor::f_from_data_size(&bytes, &spec.batched_shape(n), spec.dtype.kind())?;
			tensors.push(IValue::Tensor(tensor.f_to_device(self.device)?));
		}
		let returned = match self.module.forward_is(&tensors)? {
			IValue::Tensor(tensor) => vec![tensor],
			IValue::Tuple(values) | IValue::GenericList(values) => values
				.into_iter()
				.map(|value| match value {
					IValue::Tensor(tensor) => Ok(tensor),
					other => Err(TorchError::Output(format!("a {} where a tensor was expected", ivalue_name(&other)))),
				})
				.collect::<Result<_, _>>()?,
			IValue::TensorList(list) => list,
			other => return Err(TorchError::Output(format!("the module returned a {}", ivalue_name(&other)))),
		};
		if returned.len() != self.schema.outputs.len() {
			return Err(TorchError::Output(format!(
				"{} tensors returned, {} in the schema",
				returned.len(),
				self.schema.outputs.len()
			)));
		}
		let mut outputs = vec![Vec::new(); n];
		for (index, (tensor, spec)) in returned.iter().zip(&self.schema.outputs).enumerate() {
			let expected = spec.batched_shape(n);
			if tensor.size() != expected || tensor.kind() != spec.dtype.kind() {
				return Err(TorchError::Output(format!(
					"output {index} is {:?} {:?}, the schema says {:?} {:?}",
					tensor.kind(),
					tensor.size(),
					spec.dtype.kind(),
					expected
				)));
			}
			let len = spec.byte_len();
			let mut bytes = vec![0u8; len * n];
			let host = tensor.f_to_device(Device::Cpu)?.f_contiguous()?;
			host.f_copy_data_u8(&mut bytes, host.numel())?;
			for (output, chunk) in outputs.iter_mut().zip(bytes.chunks_exact(len)) {
				output.extend_from_slice(chunk);
			}
		}
		Ok(outputs)
	}
}

fn ivalue_name(value: &IValue) -> &'static str {
	match value {
		IValue::None => "None",
		IValue::Bool(_) => "bool",
		IValue::Int(_) => "int",
		IValue::Double(_) => "float",
		IValue::String(_) => "string",
		IValue::GenericDict(_) => "dict",
		_ => "non-tensor value",
	}
}
