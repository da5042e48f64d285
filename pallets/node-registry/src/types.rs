//! Types stored by the node registry and passed to its calls.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use opg_attestation::{MeasurementHash, TcbStatus, TeeType};
use polkadot_sdk::frame_support::{
	traits::{ConstU32, Get},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;

pub use opg_primitives::{HardwareClass, NodeKey, Roles, VerificationMode, VerificationModes};

/// Largest Nitro attestation document: a 16 KiB payload plus the COSE envelope.
pub type MaxDocumentLen = ConstU32<{ 20 * 1024 }>;
/// Largest DCAP quote (a TDX v5 quote with its PCK chain is about 5 KiB).
pub type MaxQuoteLen = ConstU32<{ 16 * 1024 }>;
/// Largest SCALE-encoded DCAP collateral (the samples are 14–19 KiB).
pub type MaxCollateralLen = ConstU32<{ 64 * 1024 }>;

/// A node's hardware, as its operator declares it.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct Hardware {
	/// CPU or GPU.
	pub class: HardwareClass,
	/// The GPU model, e.g. `NVIDIA H100 80GB HBM3`; empty for CPU nodes.
	pub gpu_model: BoundedVec<u8, ConstU32<64>>,
	/// GPU memory in MiB; zero for CPU nodes.
	pub gpu_memory_mib: u32,
}

/// What a node serves and where.
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
#[scale_info(skip_type_params(MaxModels))]
pub struct Capabilities<ModelId: Clone + PartialEq + Eq + Debug, MaxModels: Get<u32>> {
	/// Models the node serves.
	pub models: BoundedVec<ModelId, MaxModels>,
	/// Evidence the node can return.
	pub modes: VerificationModes,
	/// The node's hardware.
	pub hardware: Hardware,
	/// Where the node's executor is reached (URL), for data transfer between nodes.
	pub endpoint: BoundedVec<u8, ConstU32<256>>,
	/// How many jobs a block an inference node serves (at least one): it is assigned at
	/// most this many open requests per block of a request's window, so that a request
	/// it could not answer in time goes to another node, or is refused when made
	/// (`NoNodeAvailable`), instead of costing the node its bond.
	pub jobs_per_block: u32,
}

/// Where a node stands.
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
pub enum NodeStatus<BlockNumber> {
	/// Serving.
	Active,
	/// Revoked by governance: serves nothing, may only exit.
	Revoked,
	/// Exiting: the bond is released to the operator from block `until` on.
	Unbonding {
		/// The first block in which the bond can be withdrawn.
		until: BlockNumber,
	},
}

/// A registered node.
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
#[scale_info(skip_type_params(MaxModels))]
// The `*NoBound` derives repeat these bounds in their where clauses.
#[allow(clippy::multiple_bound_locations)]
pub struct Node<
	AccountId: Clone + PartialEq + Eq + Debug,
	Balance: Clone + PartialEq + Eq + Debug,
	BlockNumber: Clone + PartialEq + Eq + Debug,
	ModelId: Clone + PartialEq + Eq + Debug,
	MaxModels: Get<u32>,
> {
	/// The account that registered the node, holds its bond and manages it.
	pub operator: AccountId,
	/// What the node does.
	pub roles: Roles,
	/// The operator's funds held for this node.
	pub bond: Balance,
	/// What the node serves.
	pub capabilities: Capabilities<ModelId, MaxModels>,
	/// Active, revoked or unbonding.
	pub status: NodeStatus<BlockNumber>,
	/// When the node registered.
	pub registered_at: BlockNumber,
	/// The last block in which the node proved liveness.
	pub last_heartbeat: BlockNumber,
}

/// A challenge the chain issued to a node: the nonce its next attestation must bind.
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
pub struct Challenge<BlockNumber> {
	/// The nonce.
	pub nonce: [u8; 32],
	/// The last block in which it can be answered.
	pub expires_at: BlockNumber,
}

/// A node's current, verified attestation.
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
pub struct AttestationRecord<BlockNumber> {
	/// The TEE.
	pub tee: TeeType,
	/// The allow-list entry it matched.
	pub measurement: MeasurementHash,
	/// When it was verified.
	pub attested_at: BlockNumber,
	/// The last block in which it is valid.
	pub expires_at: BlockNumber,
	/// DCAP only: the platform's TCB status.
	pub tcb_status: Option<TcbStatus>,
	/// DCAP only: the TCB level the status was judged on: the DCAP policy in force is
	/// applied to it again at every use.
	pub tcb_level: Option<opg_attestation::dcap::TcbLevel>,
	/// When the first certificate or collateral of the evidence expires (unix seconds,
	/// chain time): the attestation counts no longer, whatever `expires_at` says.
	pub valid_until: u64,
}

/// An allow-listed measurement.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct AllowedMeasurement {
	/// The measurement itself, for audit.
	pub measurement: opg_attestation::Measurement,
	/// The lowest accepted security version (SGX ISVSVN; zero otherwise).
	pub min_security_version: u16,
}

/// TEE evidence answering a challenge.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub enum Evidence {
	/// An AWS Nitro Enclaves attestation document (COSE_Sign1 bytes).
	Nitro {
		/// The COSE_Sign1 document.
		document: BoundedVec<u8, MaxDocumentLen>,
	},
	/// An Intel DCAP quote (SGX v3, TDX v4/v5) with its collateral, SCALE-encoded as
	/// `dcap-qvl`'s `QuoteCollateralV3`.
	Dcap {
		/// The quote.
		quote: BoundedVec<u8, MaxQuoteLen>,
		/// Its collateral, SCALE-encoded.
		collateral: BoundedVec<u8, MaxCollateralLen>,
	},
}

/// A node's claim, signed by its node key, to be live at block `at`
/// ([`crate::Pallet::submit_heartbeat`]).
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
pub struct Heartbeat<BlockNumber> {
	/// The node key.
	pub node: NodeKey,
	/// The block at which the node's off-chain worker ran.
	pub at: BlockNumber,
}
