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
	/// stored input's declared size must be exactly this long.
	pub input_len: u64,
	/// The byte length of one output ([`crate::Schema::output_len`]).
	pub output_len: u64,
}
