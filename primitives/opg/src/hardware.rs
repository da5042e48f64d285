//! The kind of processor a node computes on.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// The kind of processor a node runs inference on, as its operator declares it in the node
/// registry.
///
/// It decides which verifiers may check a node's results: floating-point results whose
/// model publishes no cross-device tolerance (language models, and TorchScript or ONNX
/// models judged by their bytes) are checked only by verifiers of their node's class, since
/// the same honest computation differs between a GPU's kernels and a CPU's (measured for
/// bf16 language models in `docs/verification.md`).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
)]
pub enum HardwareClass {
	/// CPU only.
	Cpu,
	/// A CUDA GPU.
	Gpu,
}
