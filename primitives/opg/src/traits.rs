//! What the pallets ask of each other. The runtime wires each pallet's `Config` to the
//! pallet implementing the trait; mocks implement them directly.

use crate::{ModelId, ServingTerms};
#[cfg(feature = "chain")]
use crate::{NodeKey, VerificationMode};
use alloc::vec::Vec;

/// What inference settlement reads from the model hub.
pub trait ModelCatalog<Balance> {
	/// The terms of an active model; `None` if unknown or deprecated.
	fn serving_terms(model: ModelId) -> Option<ServingTerms<Balance>>;
	/// The prepared Groth16 verifying key of a ZKML model (the hub prepares it once, when
	/// the model is published), deprecated or not; `None` if unknown or not ZKML.
	fn prepared_verifying_key(model: ModelId) -> Option<Vec<u8>>;
}

/// Called by settlement to penalize a node.
#[cfg(feature = "chain")]
pub trait NodeSlashing<Balance> {
	/// Takes up to `amount` from the node's bond; returns what was taken.
	fn slash(node: &NodeKey, amount: Balance) -> Balance;
}

/// What inference settlement asks the node registry: who may serve, and who gets paid.
#[cfg(feature = "chain")]
pub trait InferenceNodes<AccountId, Balance, Model = ModelId>: NodeSlashing<Balance> {
	/// Inference nodes that can serve `model` with `mode` evidence now (active, live,
	/// and for TEE attested), with their bonds: the candidates of an assignment.
	fn candidates(model: &Model, mode: VerificationMode) -> Vec<(NodeKey, Balance)>;
	/// The operator of `node` if it may settle `mode` results now: active, and for TEE
	/// holding a valid attestation with a still-allowed measurement.
	fn settling_operator(node: &NodeKey, mode: VerificationMode) -> Option<AccountId>;
}
