//! What a request needs to know about a model.

use crate::{ContentHash, VerificationModes};

/// The terms an active model is served under, copied into each request when it is made,
/// so that a later price change, deprecation or removal never touches it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ServingTerms<Balance> {
	/// The price of one inference.
	pub price: Balance,
	/// The evidence results may come with.
	pub modes: VerificationModes,
	/// SHA-256 of the artifact, which result signatures bind.
	pub artifact_hash: ContentHash,
	/// The byte length of one input ([`crate::Schema::input_len`]): an inline input or a
	/// stored input's declared size must be exactly this long, or at most this long (and
	/// not empty) when [`Self::variable_input`].
	pub input_len: u64,
	/// Whether inputs vary in length up to `input_len`: a language model's chat requests.
	pub variable_input: bool,
	/// The byte length of one output ([`crate::Schema::output_len`]).
	pub output_len: u64,
}

/// The most bytes of a language model's answer to an on-chain request: the executor cuts a
/// longer answer at the last character boundary within it. At most the runtime's inline
/// output bound (its tests check), so that an answer always fits the result its node
/// submits: a request asking for more tokens cannot make the node miss its deadline.
pub const MAX_LLM_ANSWER: usize = 16 * 1024;

/// What an executor needs to serve a published model: the artifact it loads and the
/// tensors it takes and returns, as the model hub records them. The model hub's runtime
/// API answers it ([`MODEL_SERVING_CALL`]), so that an operator names a model by its id
/// and never writes its schema a second time.
#[derive(
	Clone,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	scale_info::TypeInfo,
	Debug,
)]
pub struct ModelServing {
	/// SHA-256 of the artifact.
	pub artifact_hash: ContentHash,
	/// The artifact's size in bytes.
	pub artifact_size: u64,
	/// Inputs and outputs.
	pub schema: crate::Schema,
	/// Whether the model takes new requests (a deprecated one is still served for the
	/// requests already made).
	pub active: bool,
	/// The price of one inference, in the chain's smallest unit: what a direct paid call
	/// costs too.
	pub price: u128,
	/// The evidence its results may come with.
	pub modes: crate::VerificationModes,
	/// A float model's published tolerance, by which verifiers judge its results; `None`:
	/// by the output's bytes.
	pub tolerance: Option<crate::Tolerance>,
}

/// The runtime call (`state_call` method) that answers a model's [`ModelServing`]:
/// `ModelHubApi::serving(model: ModelId) -> Option<ModelServing>`, SCALE in and out.
pub const MODEL_SERVING_CALL: &str = "ModelHubApi_serving";
