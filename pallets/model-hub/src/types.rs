//! What a published model is made of.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use pallet_node_registry::VerificationModes;
use polkadot_sdk::frame_support::{traits::ConstU32, BoundedVec};
use scale_info::TypeInfo;

/// Identifies a published model version.
pub type ModelId = u32;
/// A SHA-256 digest: how artifacts, inputs and outputs are addressed.
pub type ContentHash = [u8; 32];
/// The most dimensions of a tensor.
pub type MaxRank = ConstU32<8>;
/// The most input or output tensors of a model.
pub type MaxTensors = ConstU32<8>;

/// How the artifact is encoded.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug)]
pub enum ModelFormat {
	/// A TorchScript module (`torch.jit.save`), run by libtorch.
	TorchScript,
	/// An ONNX model.
	Onnx,
	/// OPG's integer-quantized feed-forward format: bit-exact, and what ZKML proves.
	QuantizedInteger,
}

/// A tensor element type.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug)]
pub enum DType {
	/// 32-bit float.
	F32,
	/// 16-bit float.
	F16,
	/// bfloat16.
	BF16,
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
	/// Boolean.
	Bool,
}

/// Affine quantization `real = scale * (q - zero_point)`.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug)]
pub struct Quantization {
	/// The scale as IEEE-754 binary32 bits (the chain never computes with it).
	pub scale_bits: u32,
	/// The zero point.
	pub zero_point: i32,
}

/// One input or output tensor.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug)]
pub struct TensorSpec {
	/// Dimensions, outermost first; all non-zero.
	pub shape: BoundedVec<u32, MaxRank>,
	/// Element type.
	pub dtype: DType,
	/// For quantized tensors, how integers map to reals.
	pub quantization: Option<Quantization>,
}

/// A model's inputs and outputs.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug)]
pub struct Schema {
	/// Input tensors, in call order; at least one.
	pub inputs: BoundedVec<TensorSpec, MaxTensors>,
	/// Output tensors, in return order; at least one.
	pub outputs: BoundedVec<TensorSpec, MaxTensors>,
}

/// The model file, addressed by content.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug)]
pub struct Artifact {
	/// SHA-256 of the file: executors refuse bytes that do not hash to it.
	pub hash: ContentHash,
	/// Size in bytes; non-zero.
	pub size: u64,
	/// Where to fetch it (URL or data-node locator); the hash, not this, is authoritative.
	pub locator: BoundedVec<u8, ConstU32<256>>,
}

/// A semantic version.
#[derive(
	Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct Version {
	/// Incompatible changes.
	pub major: u16,
	/// Compatible additions.
	pub minor: u16,
	/// Fixes.
	pub patch: u16,
}

/// What a model owner publishes.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug)]
pub struct ModelSpec<Balance> {
	/// The model's name, shared by its versions; UTF-8, non-empty.
	pub name: BoundedVec<u8, ConstU32<64>>,
	/// This version; greater than every earlier version of the same name and owner.
	pub version: Version,
	/// How the artifact is encoded.
	pub format: ModelFormat,
	/// The artifact.
	pub artifact: Artifact,
	/// Inputs and outputs.
	pub schema: Schema,
	/// What one inference costs, in OPG.
	pub price: Balance,
	/// The evidence results may come with.
	pub modes: VerificationModes,
}

/// Whether a model takes new requests.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug)]
pub enum ModelStatus {
	/// Takes requests.
	Active,
	/// Takes no new requests; may be removed by its owner.
	Deprecated,
}

/// A published model version.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug)]
pub struct Model<AccountId, Balance> {
	/// Who published it, holds its deposit and manages it.
	pub owner: AccountId,
	/// What was published.
	pub spec: ModelSpec<Balance>,
	/// The version this one follows, if any.
	pub previous: Option<ModelId>,
	/// SHA-256 of the Groth16 verifying key, for ZKML models.
	pub verifying_key_hash: Option<ContentHash>,
	/// Active or deprecated.
	pub status: ModelStatus,
	/// Held from the owner until removal.
	pub deposit: Balance,
}

/// What a request needs to know about a model.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ServingTerms<Balance> {
	/// The price of one inference.
	pub price: Balance,
	/// The evidence results may come with.
	pub modes: VerificationModes,
	/// SHA-256 of the artifact, which result signatures bind.
	pub artifact_hash: ContentHash,
}
