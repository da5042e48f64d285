//! What clients and executors ask the runtime about channels.

use crate::ChannelId;
pub use opg_settlement::{channel::ServedCall, merkle::Proof};

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Read-only queries of the channels pallet: an executor learns a channel's state
	/// before it serves on it; anyone holding a served call checks it was settled.
	pub trait ChannelsApi<Channel, SettledRoot>
	where
		Channel: codec::Codec,
		SettledRoot: codec::Codec,
	{
		/// A channel, open or closing; `None` once withdrawn or if never opened.
		fn channel(id: ChannelId) -> Option<Channel>;
		/// Settlement `index` of channel `id`: its root, calls, charged total claimed, block.
		fn settlement(id: ChannelId, index: u32) -> Option<SettledRoot>;
		/// Whether `proof` shows `call` among the calls settlement `index` of channel `id`
		/// covered.
		fn served_proof(id: ChannelId, index: u32, call: ServedCall, proof: Proof) -> bool;
	}
}
