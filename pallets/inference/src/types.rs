//! Requests, results and batches as stored and submitted.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
pub use opg_primitives::{BatchId, ContentHash, ModelId, NodeKey, RequestId, VerificationMode};
use opg_settlement::{merkle::Leaf, Hash};
use polkadot_sdk::{
	frame_support::{
		traits::{ConstU32, Get},
		BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
	},
	sp_core::sr25519::Signature,
};
use scale_info::TypeInfo;

/// A request's input.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxInline))]
pub enum Input<MaxInline: Get<u32>> {
	/// The input bytes themselves.
	Inline(BoundedVec<u8, MaxInline>),
	/// A larger input in the artifact store: its SHA-256, size and where to fetch it.
	Stored {
		/// SHA-256 of the input bytes: executors refuse other bytes.
		hash: ContentHash,
		/// Its size in bytes; non-zero.
		size: u64,
		/// Where to fetch it (URL or data-node locator); the hash is authoritative.
		locator: BoundedVec<u8, ConstU32<256>>,
	},
}

impl<MaxInline: Get<u32>> Input<MaxInline> {
	/// SHA-256 of the input bytes.
	pub fn hash(&self) -> ContentHash {
		match self {
			Self::Inline(bytes) => opg_settlement::sha256(bytes),
			Self::Stored { hash, .. } => *hash,
		}
	}

	/// The bytes carried on chain: an inline input's, or a stored input's locator.
	pub fn inline_len(&self) -> u32 {
		match self {
			Self::Inline(bytes) => bytes.len() as u32,
			Self::Stored { locator, .. } => locator.len() as u32,
		}
	}
}

/// How a request's result reaches the chain.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
)]
pub enum SettlementMode {
	/// One result extrinsic with the output inline: input and output on chain.
	Individual,
	/// The node settles it with many others under one signed Merkle root.
	Batch,
	/// One result extrinsic with hashes only: input and output stay off chain.
	Private,
}

/// An open request.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct Request<AccountId, Balance, BlockNumber> {
	/// Who pays.
	pub requester: AccountId,
	/// The model version.
	pub model: ModelId,
	/// The model's artifact hash when requested: what the result signature binds.
	pub model_hash: ContentHash,
	/// SHA-256 of the input.
	pub input_hash: ContentHash,
	/// The evidence the result must carry.
	pub mode: VerificationMode,
	/// How the result is settled.
	pub settlement: SettlementMode,
	/// Held from the requester; the node is paid from it.
	pub fee: Balance,
	/// The verification surcharge, held from the requester with the fee
	/// ([`opg_primitives::ResultChecks::surcharge`]): it pays the verifiers that check the
	/// result, or the treasury.
	pub surcharge: Balance,
	/// Blocks each assigned node has to answer.
	pub window: BlockNumber,
	/// The node assigned now.
	pub node: NodeKey,
	/// The last block in which the assigned node may answer.
	pub deadline: BlockNumber,
	/// Nodes assigned so far, this one included.
	pub attempts: u32,
}

/// A result's output.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxInline))]
pub enum Output<MaxInline: Get<u32>> {
	/// The output bytes (individual settlement).
	Inline(BoundedVec<u8, MaxInline>),
	/// SHA-256 of the output (private settlement).
	Hash(ContentHash),
}

impl<MaxInline: Get<u32>> Output<MaxInline> {
	/// SHA-256 of the output bytes.
	pub fn hash(&self) -> ContentHash {
		match self {
			Self::Inline(bytes) => opg_settlement::sha256(bytes),
			Self::Hash(hash) => *hash,
		}
	}

	/// The bytes carried on chain: an inline output's length, none for a hash.
	pub fn inline_len(&self) -> u32 {
		match self {
			Self::Inline(bytes) => bytes.len() as u32,
			Self::Hash(_) => 0,
		}
	}
}

/// A node's answer to one request, as submitted. The node key signs
/// [`opg_settlement::message::result`] over it.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxInline))]
pub struct InferenceResult<MaxInline: Get<u32>> {
	/// The request answered.
	pub request: RequestId,
	/// The answering node.
	pub node: NodeKey,
	/// The output.
	pub output: Output<MaxInline>,
}

/// Why an assigned node cannot serve a request (see [`CannotServe`]).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
)]
pub enum CannotServeReason {
	/// The stored input is unavailable from every source the node knows: its peers, the
	/// data nodes and the input's locator.
	InputUnavailable,
	/// The stored input's bytes do not match the caller's input commitment (a stored ZKML
	/// request): `computed` is the commitment of the bytes the node holds.
	CommitmentMismatch {
		/// The commitment the node computed, little-endian.
		computed: [u8; 32],
	},
}

impl CannotServeReason {
	/// The reason's code and detail in [`opg_settlement::message::cannot_serve`].
	pub fn code_and_detail(&self) -> (u8, [u8; 32]) {
		match self {
			Self::InputUnavailable => (opg_settlement::message::INPUT_UNAVAILABLE, [0; 32]),
			Self::CommitmentMismatch { computed } => {
				(opg_settlement::message::COMMITMENT_MISMATCH, *computed)
			},
		}
	}
}

/// An assigned node's notice that it cannot serve a request, signed by its node key over
/// [`opg_settlement::message::cannot_serve`].
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
)]
pub struct CannotServe {
	/// The request declined.
	pub request: RequestId,
	/// The assigned node.
	pub node: NodeKey,
	/// Why.
	pub reason: CannotServeReason,
}

/// A ZKML result in a proven batch: the result, its proof and the node key's signature
/// over [`opg_settlement::message::result`].
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxInline))]
pub struct ProvenResult<MaxInline: Get<u32>> {
	/// The result.
	pub result: InferenceResult<MaxInline>,
	/// Its Groth16 proof.
	pub proof: ZkProof,
	/// The node key's signature.
	pub signature: Signature,
}

/// Many results under one root, as submitted. The node key signs
/// [`opg_settlement::message::batch`] over the root of `leaves`.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxLeaves))]
pub struct BatchResult<MaxLeaves: Get<u32>> {
	/// The answering node.
	pub node: NodeKey,
	/// One leaf per settled request, in tree order.
	pub leaves: BoundedVec<Leaf, MaxLeaves>,
}

/// A compressed Groth16 proof (BN254), as `opg-zk-verifier` decodes it.
pub type ZkProof = BoundedVec<u8, ConstU32<{ opg_zk_verifier::PROOF_LEN as u32 }>>;

/// How a settled request was settled, and where its evidence is.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub enum Settlement {
	/// By its own result extrinsic, with the node key's signature over
	/// [`opg_settlement::message::result`].
	Single {
		/// The node key's signature of the result message.
		signature: Signature,
	},
	/// As leaf `index` of a batch, whose record holds the signed root.
	InBatch {
		/// The batch.
		batch: BatchId,
		/// The leaf's index in it.
		index: u32,
	},
	/// By its own result extrinsic with a Groth16 proof of statement version 1 (job
	/// binding, input commitment, output) under the model's verifying key, and the node
	/// key's signature as for [`Settlement::Single`].
	Proven {
		/// The node key's signature of the result message.
		signature: Signature,
		/// The Groth16 proof (128 bytes, compressed).
		proof: ZkProof,
	},
}

/// The record of a settled request.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxInline))]
// The `*NoBound` derives repeat these bounds in their where clauses.
#[allow(clippy::multiple_bound_locations)]
pub struct Settled<
	Balance: Clone + PartialEq + Eq + Debug,
	BlockNumber: Clone + PartialEq + Eq + Debug,
	MaxInline: Get<u32>,
> {
	/// The node that served it.
	pub node: NodeKey,
	/// The evidence it came with.
	pub mode: VerificationMode,
	/// The model artifact's hash the node's signature binds.
	pub model_hash: ContentHash,
	/// SHA-256 of the input.
	pub input_hash: Hash,
	/// The output inline (individual settlement), else its hash.
	pub output: Output<MaxInline>,
	/// Paid to the node's operator.
	pub paid: Balance,
	/// Paid to the treasury.
	pub protocol_fee: Balance,
	/// When.
	pub at: BlockNumber,
	/// How.
	pub settlement: Settlement,
}

/// A settled batch.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxLeaves))]
// The `*NoBound` derives repeat these bounds in their where clauses.
#[allow(clippy::multiple_bound_locations)]
pub struct Batch<BlockNumber: Clone + PartialEq + Eq + Debug, MaxLeaves: Get<u32>> {
	/// The node that signed it.
	pub node: NodeKey,
	/// The Merkle root it signed.
	pub root: Hash,
	/// The node key's signature over [`opg_settlement::message::batch`] of the root.
	pub signature: Signature,
	/// The leaves, kept so that anyone can get an inclusion proof.
	pub leaves: BoundedVec<Leaf, MaxLeaves>,
	/// When it settled.
	pub at: BlockNumber,
}

/// Everything needed to check offline that a request was settled in a batch: the leaf,
/// its inclusion proof under the root, and the node's signature over the root.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct BatchProof {
	/// The batch.
	pub batch: BatchId,
	/// The node that signed it.
	pub node: NodeKey,
	/// The signed root.
	pub root: Hash,
	/// The node key's signature over [`opg_settlement::message::batch`].
	pub signature: Signature,
	/// The request's leaf.
	pub leaf: Leaf,
	/// The leaf's path to the root, with the batch's leaf count that the signature binds.
	pub proof: opg_settlement::merkle::Proof,
}

/// A settled result's payment, held through its challenge window.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct HeldPayment<AccountId, Balance, BlockNumber> {
	/// Who pays: the fee stays held from it.
	pub requester: AccountId,
	/// Who is paid.
	pub operator: AccountId,
	/// The node that served the result.
	pub node: NodeKey,
	/// The model.
	pub model: ModelId,
	/// The evidence the result carried.
	pub mode: VerificationMode,
	/// The whole fee held.
	pub fee: Balance,
	/// What is left of the verification surcharge, held from the requester beside the fee.
	pub surcharge: Balance,
	/// Of the fee, to the node's operator.
	pub paid: Balance,
	/// Of it, to the treasury.
	pub protocol_fee: Balance,
	/// The result's digest: `sha256(SCALE(request id, output hash))`.
	pub subject: Hash,
	/// The block the window ends in.
	pub final_at: BlockNumber,
	/// A verification case checks it: its window's end does not pay it.
	pub disputed: bool,
}
