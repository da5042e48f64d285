//! What executors and clients ask the runtime about models.

pub use opg_primitives::{ModelId, ModelServing, MODEL_SERVING_CALL};

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Read-only queries of the model hub.
	pub trait ModelHubApi {
		/// The artifact and schema of a published model (active or deprecated), for the
		/// executors that serve it: `state_call` of [`opg_primitives::MODEL_SERVING_CALL`].
		fn serving(model: ModelId) -> Option<ModelServing>;
	}
}
