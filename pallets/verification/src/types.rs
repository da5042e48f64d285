//! What the pallet stores about a case.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use opg_primitives::{ModelId, NodeKey, RequestId};
use opg_verification::Case;
use scale_info::TypeInfo;

/// A case's id: verdict commitments and signatures name it.
pub type CaseId = u64;

/// A checked result: the game ([`Case`]) and what the pallet needs to end it.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct CaseRecord<AccountId> {
	/// The result checked (an inference request's id).
	pub result: RequestId,
	/// The node that served it.
	pub node: NodeKey,
	/// Its model: committees are drawn among the verifiers that serve it.
	pub model: ModelId,
	/// Who challenged it; `None` for a sampled result.
	pub challenger: Option<AccountId>,
	/// The block it opened in.
	pub opened: u64,
	/// The block whose start advances it next (its phase's deadline + 1); `None` once
	/// ended.
	pub next_check: Option<u64>,
	/// The game.
	pub game: Case<NodeKey>,
}

/// A node's slashes in one day, for the daily cap.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
)]
pub struct DailySlash {
	/// The day (block number / blocks per day).
	pub day: u64,
	/// Slashed that day.
	pub amount: u128,
}
