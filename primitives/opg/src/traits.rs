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
	/// The byte length of one output of a model, deprecated or not; `None` if unknown.
	/// A ZKML result's output must be exactly this long: the proof's public inputs pack
	/// the output 31 bytes to a field element, so trailing zero bytes would not change
	/// them.
	fn output_len(model: ModelId) -> Option<u64>;
}

/// What the model hub asks of inference settlement before it removes a model: whether
/// a request still open needs the model's record or verifying key.
pub trait ModelUsage {
	/// Whether any open request is for `model`.
	fn in_use(model: ModelId) -> bool;
}

/// Nothing uses any model (a hub without inference settlement).
impl ModelUsage for () {
	fn in_use(_: ModelId) -> bool {
		false
	}
}

/// Called by settlement to penalize a node.
#[cfg(feature = "chain")]
pub trait NodeSlashing<Balance> {
	/// Takes up to `amount` from the node's bond; returns what was taken.
	fn slash(node: &NodeKey, amount: Balance) -> Balance;
}

/// A node that can take an assignment, as the registry knows it.
#[cfg(feature = "chain")]
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Candidate<Balance> {
	/// The node key.
	pub node: NodeKey,
	/// Its bond: the weight of its draw.
	pub bond: Balance,
	/// How many jobs a block the node declared it serves: with a request's window, the
	/// most open requests it is assigned.
	pub jobs_per_block: u32,
}

/// What inference settlement asks the node registry: who may serve, and who gets paid.
#[cfg(feature = "chain")]
pub trait InferenceNodes<AccountId, Balance, Model = ModelId>: NodeSlashing<Balance> {
	/// Inference nodes that can serve `model` with `mode` evidence now (active, live,
	/// and for TEE attested), with their bonds and declared rates: the candidates of an
	/// assignment.
	fn candidates(model: &Model, mode: VerificationMode) -> Vec<Candidate<Balance>>;
	/// How many nodes `model`'s list holds: the records [`Self::candidates`] reads, which
	/// an assignment's weight counts.
	fn listed(model: &Model) -> u32;
	/// The operator of `node` if it may settle `mode` results now: active or exiting (it
	/// finishes what it was assigned), not revoked, and for TEE holding a valid
	/// attestation with a still-allowed measurement.
	fn settling_operator(node: &NodeKey, mode: VerificationMode) -> Option<AccountId>;
	/// The block of `node`'s heartbeat if one is due now (the node active, half a
	/// liveness window past its last): for an off-chain worker serving a key it cannot
	/// sign with (an executor holds it), which has the heartbeat signed there and hands it
	/// to [`Self::submit_heartbeat`].
	fn heartbeat_due(node: &NodeKey) -> Option<u64>;
	/// Submits, from an off-chain worker, `node`'s heartbeat at block `at` with the node
	/// key's `signature` over `opg_settlement::message::heartbeat`, as the registry's own
	/// unsigned transaction; whether the pool accepted it.
	fn submit_heartbeat(node: &NodeKey, at: u64, signature: sp_core::sr25519::Signature) -> bool;
}
