//! What a published model is made of. The schema and the words shared with other pallets
//! and the executor are `opg-primitives`' (re-exported here).

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
pub use opg_primitives::{
	ContentHash, DType, HardwareClass, MaxRank, MaxTensors, ModelId, Quantization, Schema,
	ServingTerms, TensorSpec, Tolerance, VerificationModes, MAX_LLM_ANSWER,
};
use polkadot_sdk::frame_support::{traits::ConstU32, BoundedVec};
use scale_info::TypeInfo;

/// How the artifact is encoded.
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
pub enum ModelFormat {
	/// A TorchScript module (`torch.jit.save`), run by libtorch.
	TorchScript,
	/// An ONNX model.
	Onnx,
	/// OPG's integer-quantized feed-forward format: bit-exact, and what ZKML proves.
	QuantizedInteger,
	/// A Llama-family language model as OPG's executor serves it. The artifact is its
	/// manifest (`opg-llm/v1` JSON naming the SHA-256 of its weights, tokenizer and config,
	/// whose chat template is in the config), so the model's hash binds all of them. The
	/// schema is bytes ([`Schema::is_bytes`]): a request's input is the body of a chat
	/// completion request, at most the input's length; its output is the answer's text, at
	/// most [`MAX_LLM_ANSWER`] bytes.
	Llm,
}

impl ModelFormat {
	/// Whether the format computes in floating point, so that its results may be judged
	/// within a published [`Tolerance`]: TorchScript and ONNX. Quantized-integer models are
	/// bit-exact; a language model's answers are judged by their activation evidence.
	pub fn has_tolerance(self) -> bool {
		matches!(self, Self::TorchScript | Self::Onnx)
	}

	/// Whether results of this format, published with `tolerance`, may be checked only by
	/// verifiers on their node's hardware class ([`HardwareClass`]): the same honest
	/// computation gives other floating-point values on a GPU's kernels than on a CPU's.
	/// Language models: yes (bf16 answers made on a GPU failed a CPU's check,
	/// `docs/verification.md`; the chain does not know a language model's precision).
	/// TorchScript and ONNX: when no tolerance is published (their results are judged
	/// by their bytes). Quantized-integer models are bit-exact on every device: no.
	pub fn checked_on_same_hardware(self, tolerance: Option<&Tolerance>) -> bool {
		match self {
			Self::QuantizedInteger => false,
			Self::Llm => true,
			Self::TorchScript | Self::Onnx => tolerance.is_none(),
		}
	}
}

/// The model file, addressed by content.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
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
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
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
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
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
	/// How far a verifier's re-executed output may be from a claimed one
	/// ([`Tolerance`]): only for the float formats ([`ModelFormat::has_tolerance`]).
	/// `None`: results are judged by their bytes, which holds for verifiers on the same
	/// executor build and kind of CPU as the node.
	pub tolerance: Option<Tolerance>,
}

/// Whether a model takes new requests.
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
pub enum ModelStatus {
	/// Takes requests.
	Active,
	/// Takes no new requests; may be removed by its owner.
	Deprecated,
}

/// A published model version.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
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
