//! TorchScript models on libtorch (through `tch`), on CUDA when present, else CPU.
//!
//! A request's body is its input tensors' raw bytes, little-endian, in the order and
//! with the shapes and dtypes of the model's [`Schema`] (the model hub's, from
//! `opg-primitives`); the
//! answer is the output tensors' bytes in the same way. The first dimension of every
//! tensor is the request's batch dimension: concurrent requests for one model are
//! concatenated along it, run as one batch, and split again (see [`crate::batch`]).

pub use opg_primitives::{DType, Schema, SchemaError, TensorSpec};
use tch::{CModule, Device, IValue, Kind, Tensor};

/// libtorch's element type of a schema's dtype.
fn kind(dtype: DType) -> Kind {
	match dtype {
		DType::F32 => Kind::Float,
		DType::F16 => Kind::Half,
		DType::BF16 => Kind::BFloat16,
		DType::I8 => Kind::Int8,
		DType::U8 => Kind::Uint8,
		DType::I16 => Kind::Int16,
		DType::I32 => Kind::Int,
		DType::I64 => Kind::Int64,
		DType::Bool => Kind::Bool,
	}
}

/// The byte length of one tensor of `spec` (schemas are bounded: at most 8 tensors of at
/// most 8 dimensions, each a `u32`, so a length that does not fit is refused on load).
fn byte_len(spec: &TensorSpec) -> usize {
	usize::try_from(spec.byte_len()).unwrap_or(usize::MAX)
}

/// The shape of `n` tensors of `spec` concatenated along the first dimension.
fn batched_shape(spec: &TensorSpec, n: usize) -> Vec<i64> {
	let mut shape: Vec<i64> = spec.shape.iter().map(|&d| d as i64).collect();
	shape[0] *= n as i64;
	shape
}

/// The byte length of one request's input to a model of `schema`.
pub fn input_len(schema: &Schema) -> usize {
	usize::try_from(schema.input_len()).unwrap_or(usize::MAX)
}

/// Why a TorchScript model could not be loaded or run.
#[derive(Debug)]
pub enum TorchError {
	/// The schema is unusable.
	Schema(String),
	/// The input bytes do not fit the schema.
	InputLength {
		/// The bytes the model's input tensors take.
		expected: usize,
		/// The bytes given.
		found: usize,
	},
	/// The module's output does not match the schema.
	Output(String),
	/// libtorch refused (a file that is not TorchScript, an operator failing, ...).
	Torch(tch::TchError),
}

impl std::fmt::Display for TorchError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::Schema(reason) => write!(f, "schema: {reason}"),
			Self::InputLength { expected, found } => write!(
				f,
				"the input has {found} bytes but the model's input tensors take {expected}"
			),
			Self::Output(reason) => {
				write!(f, "the model's output does not match its schema: {reason}")
			},
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
		return Err(TorchError::Torch(tch::TchError::Torch(
			"libtorch refused deterministic algorithms".into(),
		)));
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
		schema.validate().map_err(|e| TorchError::Schema(e.to_string()))?;
		// Every tensor's bytes must be addressable, with room for a batch.
		if schema.input_len().max(schema.output_len()) > (isize::MAX as u64) / 1024 {
			return Err(TorchError::Schema("the tensors are too large to run".into()));
		}
		let mut module = CModule::load_data_on_device(&mut std::io::Cursor::new(bytes), device)?;
		module.set_eval();
		Ok(Self { module, schema, device })
	}

	/// Runs the inputs as one batch and returns each one's output bytes, in order. An
	/// input of the wrong length fails the batch: check each against
	/// [`input_len`] before batching it with others.
	pub fn run_batch(&self, inputs: &[&[u8]]) -> Result<Vec<Vec<u8>>, TorchError> {
		let expected = input_len(&self.schema);
		if let Some(input) = inputs.iter().find(|input| input.len() != expected) {
			return Err(TorchError::InputLength { expected, found: input.len() });
		}
		let _no_grad = tch::no_grad_guard();
		let n = inputs.len();
		let mut offset = 0;
		let mut tensors = Vec::with_capacity(self.schema.inputs.len());
		for spec in self.schema.inputs.iter() {
			let len = byte_len(spec);
			let mut bytes = Vec::with_capacity(len * n);
			for input in inputs {
				bytes.extend_from_slice(&input[offset..offset + len]);
			}
			offset += len;
			let tensor =
				Tensor::f_from_data_size(&bytes, &batched_shape(spec, n), kind(spec.dtype))?;
			tensors.push(IValue::Tensor(tensor.f_to_device(self.device)?));
		}
		let returned = match self.module.forward_is(&tensors)? {
			IValue::Tensor(tensor) => vec![tensor],
			IValue::Tuple(values) | IValue::GenericList(values) => values
				.into_iter()
				.map(|value| match value {
					IValue::Tensor(tensor) => Ok(tensor),
					other => Err(TorchError::Output(format!(
						"a {} where a tensor was expected",
						ivalue_name(&other)
					))),
				})
				.collect::<Result<_, _>>()?,
			IValue::TensorList(list) => list,
			other => {
				return Err(TorchError::Output(format!(
					"the module returned a {}",
					ivalue_name(&other)
				)))
			},
		};
		if returned.len() != self.schema.outputs.len() {
			return Err(TorchError::Output(format!(
				"{} tensors returned, {} in the schema",
				returned.len(),
				self.schema.outputs.len()
			)));
		}
		let mut outputs = vec![Vec::new(); n];
		for (index, (tensor, spec)) in returned.iter().zip(self.schema.outputs.iter()).enumerate() {
			let expected = batched_shape(spec, n);
			if tensor.size() != expected || tensor.kind() != kind(spec.dtype) {
				return Err(TorchError::Output(format!(
					"output {index} is {:?} {:?}, the schema says {:?} {:?}",
					tensor.kind(),
					tensor.size(),
					kind(spec.dtype),
					expected
				)));
			}
			let len = byte_len(spec);
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
