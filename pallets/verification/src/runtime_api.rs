//! What serving executors ask the runtime about the verification game.

pub use opg_primitives::{NodeKey, RequestId, VerifierReads};

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Read-only queries of the verification pallet.
	pub trait VerificationApi {
		/// What `verifier` may read of held result `request` to check it: `Some` only
		/// while it has a seat in the current round of the open case that checks it
		/// (`state_call` of [`opg_primitives::VERIFIER_READS_CALL`]).
		fn verifier_reads(verifier: NodeKey, request: RequestId) -> Option<VerifierReads>;
	}
}
