//! What the node's `inference_*` RPC asks the runtime.

use crate::{BatchProof, RequestId};
use alloc::vec::Vec;
use opg_primitives::NodeKey;

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Read-only queries of the inference pallet, for RPC and clients.
	pub trait InferenceApi<Request, Input, Settled>
	where
		Request: codec::Codec,
		Input: codec::Codec,
		Settled: codec::Codec,
	{
		/// An open request.
		fn request(id: RequestId) -> Option<Request>;
		/// An open request's input.
		fn input(id: RequestId) -> Option<Input>;
		/// A settled request's record, with its evidence.
		fn result(id: RequestId) -> Option<Settled>;
		/// The inclusion proof of a request settled in a batch.
		fn batch_proof(id: RequestId) -> Option<BatchProof>;
		/// A page of the open requests assigned to a node: at most `limit` (capped at
		/// [`crate::MAX_ASSIGNMENTS_PAGE`]), after request `after` in storage order.
		fn assignments(node: NodeKey, after: Option<RequestId>, limit: u32) -> Vec<RequestId>;
	}
}
