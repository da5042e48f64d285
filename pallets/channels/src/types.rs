//! The channel, the voucher and the settlement, as stored and as submitted.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use opg_primitives::NodeKey;
use opg_settlement::Hash;
use scale_info::TypeInfo;

pub use opg_primitives::{Channel, ChannelId};

/// A client's payment on a channel: its account's signature over
/// `opg_settlement::message::voucher` (genesis, channel, cumulative, call digest).
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct Voucher<Balance, Signature> {
	/// The channel.
	pub channel: ChannelId,
	/// The most the channel's charged total may reach with this call: the total charged
	/// before it plus the call's price, or its cap for a usage-priced call.
	pub cumulative: Balance,
	/// The digest of the call it pays for (`opg_settlement::channel::call_digest`).
	pub call_digest: Hash,
	/// The client account's signature (sr25519, ed25519 or ECDSA on OPG's chains).
	pub signature: Signature,
}

/// What a node submits to settle a channel: the charged total it claims, the highest
/// voucher it holds (which authorizes at least that total) and the root over the calls it
/// served since its last settlement, signed by its node key over
/// `opg_settlement::message::channel_settlement`.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct Settlement<Balance, Signature> {
	/// The node key settling (the channel's).
	pub node: NodeKey,
	/// The client's voucher.
	pub voucher: Voucher<Balance, Signature>,
	/// The channel's charged total claimed: at most the voucher's cumulative amount.
	pub total: Balance,
	/// The Merkle root over the [`opg_settlement::channel::ServedCall`]s it covers.
	pub root: Hash,
	/// How many calls the root covers.
	pub calls: u32,
}

/// A settlement as the chain keeps it: anyone holding a served call and its inclusion
/// proof can check it was settled.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct SettledRoot<Balance, BlockNumber> {
	/// The root over the calls served.
	pub root: Hash,
	/// How many calls it covers.
	pub calls: u32,
	/// The channel's charged total claimed by it.
	pub total: Balance,
	/// What this settlement moved (node's share and protocol fee together).
	pub amount: Balance,
	/// The block it was settled in.
	pub at: BlockNumber,
}

/// What a settlement moved, held through its challenge window: the amount stays in the
/// client's hold (its channel may be withdrawn meanwhile) until the window ends, then its
/// node's operator and the treasury are paid.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct HeldSettlement<AccountId, Balance, BlockNumber> {
	/// The client whose hold keeps it: refunded if it cannot be paid.
	pub client: AccountId,
	/// The node's operator when it settled: paid when the window ends.
	pub operator: AccountId,
	/// The operator's share.
	pub paid: Balance,
	/// The protocol's share (to the treasury).
	pub protocol_fee: Balance,
	/// The block its window ends in: it is paid at the start of that block.
	pub final_at: BlockNumber,
}

/// A served call opened for checking: a client or anyone holding it and its inclusion
/// proof showed it among the calls of a held settlement, and challenged it. The
/// verification game names it by its id (from `opg_primitives::DIRECT_CALL_IDS` on).
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct OpenedCall<AccountId> {
	/// The channel.
	pub channel: ChannelId,
	/// The settlement whose root covers it.
	pub index: u32,
	/// Its position among the settlement's calls.
	pub position: u32,
	/// The call as the node committed to it.
	pub call: opg_settlement::channel::ServedCall,
	/// The model the call's model hash is the artifact of.
	pub model: opg_primitives::ModelId,
	/// The node that served it (the channel's).
	pub node: NodeKey,
	/// The channel's client: refunded the call's amount if it is proven wrong.
	pub client: AccountId,
}
