//! Payment channels as the chain keeps them, for the channels pallet and for executors
//! that read them ([`CHANNEL_CALL`]) before serving a paid call.

/// A payment channel's id: consecutive from 0.
pub type ChannelId = u64;

/// An open payment channel from a client to an inference node: `Channel<AccountId,
/// NodeKey, Balance, BlockNumber>` in the runtime; `Channel<[u8; 32], [u8; 32], u128,
/// u32>` decodes the same bytes off chain.
#[derive(
	Clone,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	codec::MaxEncodedLen,
	scale_info::TypeInfo,
	Debug,
)]
pub struct Channel<AccountId, Node, Balance, BlockNumber> {
	/// The client: whose deposit is held and whose account signs the vouchers.
	pub client: AccountId,
	/// The node key paid: its operator receives what the vouchers move.
	pub node: Node,
	/// Everything the client deposited (the opening deposit and every top-up). Vouchers
	/// move at most this much in all.
	pub deposit: Balance,
	/// What the node has claimed so far: the highest voucher it settled. `deposit -
	/// claimed` is held from the client.
	pub claimed: Balance,
	/// The block from which the client may withdraw without closing first, if the node
	/// never settles.
	pub expiry: BlockNumber,
	/// When the client asked to close: the block from which it may withdraw (the node may
	/// settle until then).
	pub closes_at: Option<BlockNumber>,
	/// Settlements so far: the index of the next one.
	pub settlements: u32,
}

/// The runtime call (`state_call` method) that answers a channel:
/// `ChannelsApi::channel(id: ChannelId) -> Option<Channel>`, SCALE in and out.
pub const CHANNEL_CALL: &str = "ChannelsApi_channel";

#[cfg(test)]
mod tests {
	use super::*;
	use codec::{Decode, Encode};

	#[test]
	fn a_channel_decodes_off_chain_as_it_was_encoded_on_chain() {
		let channel = Channel {
			client: [1u8; 32],
			node: [2u8; 32],
			deposit: 500u128,
			claimed: 20u128,
			expiry: 90u32,
			closes_at: Some(70u32),
			settlements: 3,
		};
		let bytes = channel.encode();
		assert_eq!(bytes.len(), 32 + 32 + 16 + 16 + 4 + 5 + 4);
		assert_eq!(Channel::decode(&mut &bytes[..]).unwrap(), channel);
	}
}
