//! # Node registry
//!
//! Which machines may serve OPG, and why the chain trusts them.
//!
//! ## Nodes
//! An operator registers a node ([`Pallet::register`]) with its roles, its node key (the
//! sr25519 key that signs results, proven by a signature over the chain and the operator),
//! its capabilities and a bond of at least [`Config::MinBond`], held from the operator's
//! balance. The node proves liveness at least every [`Config::LivenessWindow`] blocks:
//! its off-chain worker sends [`Pallet::submit_heartbeat`], signed by the node key in the
//! keystore, every half window (no operator transaction, no fee); the operator's
//! [`Pallet::heartbeat`] does the same by hand. [`Pallet::unregister`] starts an exit; after
//! [`Config::UnbondingPeriod`] blocks [`Pallet::withdraw_unbonded`] releases the bond.
//! Settlement slashes bonds through [`NodeSlashing`], during unbonding too.
//!
//! ## Attestation
//! 1. The operator asks for a challenge ([`Pallet::request_challenge`]); the chain answers
//!    with a fresh nonce that expires after [`Config::ChallengeLifetime`] blocks.
//! 2. The node's TEE produces evidence binding node key, genesis hash and nonce
//!    ([`opg_attestation::Binding`]): an AWS Nitro document or an Intel DCAP quote.
//! 3. [`Pallet::submit_attestation`] verifies it here, in the runtime, against roots pinned
//!    in [`opg_attestation`] at the time of `pallet-timestamp` (Nitro's P-384 signatures
//!    through the `opg_crypto` host function of `opg-host-crypto`), checks the binding, consumes
//!    the nonce, and requires the measurement to be allow-listed. The attestation is valid
//!    for [`Config::AttestationValidity`] blocks and is renewed the same way.
//!
//! Governance ([`Config::PolicyOrigin`]: the `policy` track, or Root) keeps the measurement
//! allow-list and the DCAP TCB policy, and can revoke a node. Revocations take effect at
//! once: [`Pallet::tee_attestation`] checks node status, expiry and the allow-list on every
//! use, in three storage reads.
//!
//! The development Nitro root (documents from `opg-dev-evidence`) is trusted only when the
//! genesis sets [`GenesisConfig::trust_development_root`], which only the development and
//! local presets do; no call can change it.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

mod attestation;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impl_inference_nodes;
#[cfg(test)]
mod mock;
#[cfg(any(test, feature = "runtime-benchmarks", feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use opg_attestation::TeeType;
use opg_attestation::{dcap, nitro, Attestation, Binding, Measurement, MeasurementHash};
use polkadot_sdk::{frame_support, frame_system, sp_core, sp_io, sp_runtime};

/// Tag of heartbeat transactions in the pool.
const HEARTBEAT_TAG: &[u8] = b"opg-heartbeat";
/// Pool priority of heartbeats: below inference results.
const HEARTBEAT_PRIORITY: u64 = u64::MAX / 4;
const LOG_TARGET: &str = "runtime::node-registry";

/// Domain separator of the message a node key signs to register.
pub use opg_settlement::message::REGISTRATION_DOMAIN;

/// What benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<ModelId> {
	/// Makes [`Config::UnixTime`] report `secs`.
	fn set_unix_time(secs: u64);
	/// A model id nodes may declare ([`Config::Models`] contains it): the helper publishes
	/// it if it must.
	fn model(index: u32) -> ModelId;
}

pub use opg_primitives::{Candidate, InferenceNodes, NodeSlashing, Verifier, VerifierNodes};

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{BalancedHold, Credit, Inspect, Mutate, MutateHold},
			tokens::Precision,
			Contains, OnUnbalanced, UnixTime,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{One, Saturating, UniqueSaturatedInto, Zero};

	/// The balance type of [`Config::Currency`].
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A registered node as stored.
	pub type NodeOf<T> = Node<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
		<T as Config>::ModelId,
		<T as Config>::MaxModels,
	>;
	/// Capabilities as passed to calls.
	pub type CapabilitiesOf<T> = Capabilities<<T as Config>::ModelId, <T as Config>::MaxModels>;

	/// Default configurations of this pallet.
	pub mod config_preludes {
		use super::*;
		use frame_support::{
			derive_impl,
			traits::{ConstU32, ConstU64},
		};

		/// What mock runtimes share: model ids are `u32`, a node serves up to 4 models, a
		/// model has up to 8 nodes, Nitro documents may be 10 minutes old.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type ModelId = u32;
			type MaxModels = ConstU32<4>;
			type MaxNodesPerModel = ConstU32<8>;
			type MaxEvidenceAge = ConstU64<600>;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config:
		polkadot_sdk::frame_system::Config + frame_system::offchain::CreateBare<Call<Self>>
	{
		/// The currency bonds are held in.
		#[pallet::no_default]
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ BalancedHold<Self::AccountId>
			+ Mutate<Self::AccountId>;
		/// The overarching hold reason.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;
		/// Where slashed bonds go.
		#[pallet::no_default]
		type Slashed: OnUnbalanced<Credit<Self::AccountId, Self::Currency>>;
		/// The least bond a node registers with.
		#[pallet::no_default]
		type MinBond: Get<BalanceOf<Self>>;
		/// Identifies a model of the model hub.
		type ModelId: Parameter + Member + MaxEncodedLen + Copy + Ord;
		/// The models a node may declare it serves: published and active (in the runtime,
		/// those the model hub gives serving terms for). A node cannot take a slot of a
		/// model's node list for a model no one can request.
		#[pallet::no_default]
		type Models: Contains<Self::ModelId>;
		/// The most models one node serves.
		#[pallet::constant]
		type MaxModels: Get<u32>;
		/// The most inference nodes one model is served by.
		#[pallet::constant]
		type MaxNodesPerModel: Get<u32>;
		/// The origin that keeps the attestation policy and revokes nodes.
		#[pallet::no_default]
		type PolicyOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Wall-clock time, against which certificates and collateral are checked.
		#[pallet::no_default]
		type UnixTime: UnixTime;
		/// Blocks within which a node must send a heartbeat to count as live.
		#[pallet::constant]
		#[pallet::no_default]
		type LivenessWindow: Get<BlockNumberFor<Self>>;
		/// Blocks between an exit and the bond's release.
		#[pallet::constant]
		#[pallet::no_default]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;
		/// Blocks a challenge nonce stays answerable.
		#[pallet::constant]
		#[pallet::no_default]
		type ChallengeLifetime: Get<BlockNumberFor<Self>>;
		/// Blocks an attestation stays valid.
		#[pallet::constant]
		#[pallet::no_default]
		type AttestationValidity: Get<BlockNumberFor<Self>>;
		/// The most seconds a Nitro document's timestamp may differ from chain time.
		#[pallet::constant]
		type MaxEvidenceAge: Get<u64>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
		/// Sets up benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: BenchmarkHelper<Self::ModelId>;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A node's bond.
		NodeBond,
	}

	/// Registered nodes by node key.
	#[pallet::storage]
	pub type Nodes<T: Config> = StorageMap<_, Blake2_128Concat, NodeKey, NodeOf<T>>;

	/// Inference and verification nodes serving each model, as their capabilities
	/// declare; active nodes only. The inference pallet assigns among its inference nodes,
	/// the verification pallet draws committees among its verification nodes.
	#[pallet::storage]
	pub type ModelNodes<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::ModelId,
		BoundedVec<NodeKey, T::MaxNodesPerModel>,
		ValueQuery,
	>;

	/// Open challenges by node key.
	#[pallet::storage]
	pub type Challenges<T: Config> =
		StorageMap<_, Blake2_128Concat, NodeKey, Challenge<BlockNumberFor<T>>>;

	/// Challenges issued so far; part of every nonce, so that no two are equal.
	#[pallet::storage]
	pub type ChallengeCount<T: Config> = StorageValue<_, u64, ValueQuery>;

	/// Current attestations by node key.
	#[pallet::storage]
	pub type Attestations<T: Config> =
		StorageMap<_, Blake2_128Concat, NodeKey, AttestationRecord<BlockNumberFor<T>>>;

	/// Measurements allowed to serve, by TEE and [`Measurement::hash`].
	#[pallet::storage]
	pub type AllowedMeasurements<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TeeType, Identity, MeasurementHash, AllowedMeasurement>;

	/// How DCAP TCB statuses are judged.
	#[pallet::storage]
	pub type DcapPolicy<T: Config> = StorageValue<_, dcap::DcapPolicy, ValueQuery>;

	/// Whether Nitro documents may chain to the development root. Set at genesis only.
	#[pallet::storage]
	pub type TrustDevelopmentRoot<T: Config> = StorageValue<_, bool, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A node registered with `bond` held from `operator`.
		NodeRegistered {
			/// The node key.
			node: NodeKey,
			/// The operator's account.
			operator: T::AccountId,
			/// What the node does.
			roles: Roles,
			/// The bond now held.
			bond: BalanceOf<T>,
		},
		/// A node's capabilities changed.
		CapabilitiesUpdated {
			/// The node key.
			node: NodeKey,
		},
		/// A node's bond grew to `bond`.
		BondIncreased {
			/// The node key.
			node: NodeKey,
			/// The bond now held.
			bond: BalanceOf<T>,
		},
		/// A node proved liveness.
		Heartbeat {
			/// The node key.
			node: NodeKey,
		},
		/// A node must answer with evidence binding `nonce` by block `expires_at`.
		ChallengeIssued {
			/// The node key.
			node: NodeKey,
			/// The nonce the evidence must bind.
			nonce: [u8; 32],
			/// The last block in which it holds.
			expires_at: BlockNumberFor<T>,
		},
		/// A node's TEE evidence verified; valid until block `expires_at`.
		NodeAttested {
			/// The node key.
			node: NodeKey,
			/// The TEE.
			tee: TeeType,
			/// The allow-listed measurement's hash.
			measurement: MeasurementHash,
			/// The last block in which it holds.
			expires_at: BlockNumberFor<T>,
		},
		/// A node is exiting; its bond is released from block `until`.
		NodeUnbonding {
			/// The node key.
			node: NodeKey,
			/// The first block in which the bond can be withdrawn.
			until: BlockNumberFor<T>,
		},
		/// A node left and its bond was released.
		NodeRemoved {
			/// The node key.
			node: NodeKey,
			/// The bond returned to the operator.
			released: BalanceOf<T>,
		},
		/// Governance revoked a node.
		NodeRevoked {
			/// The node key.
			node: NodeKey,
		},
		/// A live node took the slot of a node that was not live in a model's full node
		/// list ([`Pallet::take_slot`]); `idle` no longer declares the model.
		SlotTaken {
			/// The model.
			model: T::ModelId,
			/// The node that now serves it.
			node: NodeKey,
			/// The node that gave up its slot.
			idle: NodeKey,
		},
		/// Settlement took `amount` of a node's bond.
		NodeSlashed {
			/// The node key.
			node: NodeKey,
			/// What was taken.
			amount: BalanceOf<T>,
		},
		/// Governance allowed a measurement.
		MeasurementAllowed {
			/// The TEE.
			tee: TeeType,
			/// The allow-listed measurement's hash.
			measurement: MeasurementHash,
			/// The lowest accepted security version.
			min_security_version: u16,
		},
		/// Governance revoked a measurement; attestations naming it are void at once.
		MeasurementRevoked {
			/// The TEE.
			tee: TeeType,
			/// The allow-listed measurement's hash.
			measurement: MeasurementHash,
		},
		/// Governance changed the DCAP policy.
		DcapPolicyChanged {
			/// The new policy.
			policy: dcap::DcapPolicy,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The node key is already registered.
		NodeAlreadyRegistered,
		/// No node is registered under this key.
		NodeNotFound,
		/// Only the node's operator may do this.
		NotOperator,
		/// Roles must be non-empty and known.
		InvalidRoles,
		/// Verification modes must be non-empty and known.
		InvalidModes,
		/// The bond is below the minimum governance set.
		BondTooLow,
		/// The operator cannot cover the bond.
		InsufficientBalance,
		/// The signature does not prove possession of the node key.
		BadNodeKeySignature,
		/// The node is revoked or exiting.
		NodeNotActive,
		/// The node is not exiting.
		NotUnbonding,
		/// The unbonding period has not passed.
		StillUnbonding,
		/// The node has no open challenge (never asked, or already answered).
		NoChallenge,
		/// The challenge expired; ask for a new one.
		ChallengeExpired,
		/// The evidence is not well-formed (encoding, structure, field rules).
		MalformedEvidence,
		/// The evidence does not chain to a root this chain trusts.
		UntrustedRoot,
		/// A certificate or the collateral is not valid at the chain's time.
		NotValidAtChainTime,
		/// The certificate chain is invalid (issuer, CA constraints, key usage, algorithm).
		InvalidCertificateChain,
		/// A signature over the evidence does not verify.
		InvalidEvidenceSignature,
		/// The DCAP quote, its certificates, CRLs or collateral do not verify at the chain's
		/// time.
		DcapVerificationFailed,
		/// The enclave runs in debug mode.
		DebugEnclave,
		/// TDX attributes are unsafe (SEPT_VE_DISABLE clear, migratable, service TD).
		DisallowedTdAttributes,
		/// The platform's TCB status is not allowed by the DCAP policy.
		TcbStatusNotAllowed,
		/// The DCAP collateral is older than the policy's tcbEvaluationDataNumber.
		TcbEvaluationDataNumberTooLow,
		/// The evidence does not bind this node key, this chain and the challenge nonce.
		BindingMismatch,
		/// The document's timestamp is too far from the chain's time.
		StaleEvidence,
		/// The measurement is not on the allow-list.
		MeasurementNotAllowed,
		/// The security version is below the allow-list entry's minimum.
		SecurityVersionTooLow,
		/// The measurement is already allowed.
		MeasurementAlreadyAllowed,
		/// The measurement is not on the allow-list.
		MeasurementNotFound,
		/// The genesis block hash is not yet known.
		GenesisUnknown,
		/// A model is listed twice in the capabilities.
		DuplicateModel,
		/// A declared model is not published, or no longer takes requests.
		ModelUnavailable,
		/// A model already has the most inference nodes it may have.
		TooManyNodesForModel,
		/// An inference node serves at least one job a block (`jobs_per_block`).
		NoJobsPerBlock,
		/// A heartbeat names a block after the current one.
		FutureHeartbeat,
		/// The model's node list has room: declare the model with `update_capabilities`.
		ModelListNotFull,
		/// The node to replace is not in the model's node list.
		NotInModelList,
		/// The node to replace is live: it keeps its slot.
		NodeStillLive,
		/// The node declares as many models as it may.
		TooManyModels,
		/// The node's last heartbeat is less than half a liveness window before this one.
		HeartbeatTooSoon,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Trust the development Nitro root. Development and local presets only.
		pub trust_development_root: bool,
		/// Measurements allowed from genesis: the SCALE encoding of each [`Measurement`]
		/// (hex in chain specs), with its minimum security version.
		pub allowed_measurements: Vec<(sp_core::Bytes, u16)>,
		#[serde(skip)]
		/// The pallet's configuration (no data).
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			TrustDevelopmentRoot::<T>::put(self.trust_development_root);
			for (encoded, min_security_version) in &self.allowed_measurements {
				let measurement = Measurement::decode(&mut &encoded[..])
					.expect("genesis allowed_measurements holds SCALE-encoded measurements");
				AllowedMeasurements::<T>::insert(
					measurement.tee(),
					measurement.hash(),
					AllowedMeasurement { measurement, min_security_version: *min_security_version },
				);
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Sends the heartbeats of the node keys in this node's keystore that are due.
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::send_heartbeats(now);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a node, holding `bond` from the caller, its operator.
		///
		/// `signature` is the node key's sr25519 signature over
		/// `REGISTRATION_DOMAIN ‖ genesis hash ‖ SCALE(operator)`, so that no one registers
		/// a key they do not hold. The node starts active, unattested, with a heartbeat now.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register())]
		pub fn register(
			origin: OriginFor<T>,
			node: NodeKey,
			roles: Roles,
			capabilities: CapabilitiesOf<T>,
			bond: BalanceOf<T>,
			signature: sp_core::sr25519::Signature,
		) -> DispatchResult {
			let operator = ensure_signed(origin)?;
			ensure!(!Nodes::<T>::contains_key(node), Error::<T>::NodeAlreadyRegistered);
			ensure!(roles.is_valid(), Error::<T>::InvalidRoles);
			Self::check_capabilities(roles, &capabilities)?;
			ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
			let message = Self::registration_message(&operator)?;
			ensure!(
				sp_io::crypto::sr25519_verify(&signature, &message, &node),
				Error::<T>::BadNodeKeySignature
			);
			T::Currency::hold(&HoldReason::NodeBond.into(), &operator, bond)
				.map_err(|_| Error::<T>::InsufficientBalance)?;

			if Self::listed_by_model(roles) {
				Self::index_models(&node, &capabilities.models)?;
			}
			let now = frame_system::Pallet::<T>::block_number();
			Nodes::<T>::insert(
				node,
				Node {
					operator: operator.clone(),
					roles,
					bond,
					capabilities,
					status: NodeStatus::Active,
					registered_at: now,
					last_heartbeat: now,
				},
			);
			Self::deposit_event(Event::NodeRegistered { node, operator, roles, bond });
			Ok(())
		}

		/// Replaces an active node's capabilities. Operator only.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_capabilities())]
		pub fn update_capabilities(
			origin: OriginFor<T>,
			node: NodeKey,
			capabilities: CapabilitiesOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::mutate_active(&who, &node, |record| {
				Self::check_capabilities(record.roles, &capabilities)?;
				if Self::listed_by_model(record.roles) {
					Self::unindex_models(&node, &record.capabilities.models);
					Self::index_models(&node, &capabilities.models)?;
				}
				record.capabilities = capabilities;
				Ok(())
			})?;
			Self::deposit_event(Event::CapabilitiesUpdated { node });
			Ok(())
		}

		/// Holds `amount` more for an active node. Operator only.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(
			origin: OriginFor<T>,
			node: NodeKey,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let bond = Self::mutate_active(&who, &node, |record| {
				T::Currency::hold(&HoldReason::NodeBond.into(), &record.operator, amount)
					.map_err(|_| Error::<T>::InsufficientBalance)?;
				record.bond = record.bond.saturating_add(amount);
				Ok(record.bond)
			})?;
			Self::deposit_event(Event::BondIncreased { node, bond });
			Ok(())
		}

		/// Proves an active node is live in this block. Operator only.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::heartbeat())]
		pub fn heartbeat(origin: OriginFor<T>, node: NodeKey) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::mutate_active(&who, &node, |record| {
				record.last_heartbeat = frame_system::Pallet::<T>::block_number();
				Ok(())
			})?;
			Self::deposit_event(Event::Heartbeat { node });
			Ok(())
		}

		/// Issues a fresh challenge nonce for an active node, replacing any open one.
		/// Operator only.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::request_challenge())]
		pub fn request_challenge(origin: OriginFor<T>, node: NodeKey) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::active_node(&who, &node)?;
			let count = ChallengeCount::<T>::mutate(|count| {
				*count = count.wrapping_add(1);
				*count
			});
			let parent = frame_system::Pallet::<T>::parent_hash();
			let nonce =
				sp_io::hashing::blake2_256(&(b"opg/challenge", parent, node, count).encode());
			let expires_at = frame_system::Pallet::<T>::block_number()
				.saturating_add(T::ChallengeLifetime::get());
			Challenges::<T>::insert(node, Challenge { nonce, expires_at });
			Self::deposit_event(Event::ChallengeIssued { node, nonce, expires_at });
			Ok(())
		}

		/// Verifies TEE evidence answering the node's open challenge and records the
		/// attestation, replacing any earlier one. Operator only.
		///
		/// The evidence must chain to a pinned root at the chain's time, bind the node key,
		/// the genesis hash, the challenge nonce and the operator's account (the caller),
		/// and report an allowed measurement.
		/// The nonce is consumed.
		#[pallet::call_index(5)]
		#[pallet::weight(match evidence {
			Evidence::Nitro { .. } => T::WeightInfo::submit_nitro_attestation(),
			Evidence::Dcap { .. } => T::WeightInfo::submit_dcap_attestation(),
		})]
		pub fn submit_attestation(
			origin: OriginFor<T>,
			node: NodeKey,
			evidence: Evidence,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::active_node(&who, &node)?;
			let challenge = Challenges::<T>::take(node).ok_or(Error::<T>::NoChallenge)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now <= challenge.expires_at, Error::<T>::ChallengeExpired);

			let attestation = Self::verify_evidence(&evidence)?;
			let genesis_hash = Self::genesis_hash()?;
			let operator = who.encode();
			let binding = Binding {
				node_key: &node.0,
				genesis_hash: &genesis_hash,
				nonce: &challenge.nonce,
				operator: &operator,
			};
			attestation.check_binding(&binding).map_err(|_| Error::<T>::BindingMismatch)?;
			if let Some(timestamp_ms) = attestation.timestamp_ms {
				let chain_secs = T::UnixTime::now().as_secs();
				ensure!(
					(timestamp_ms / 1000).abs_diff(chain_secs) <= T::MaxEvidenceAge::get(),
					Error::<T>::StaleEvidence
				);
			}
			let measurement = Self::allowed_measurement(&attestation)?;

			let expires_at = now.saturating_add(T::AttestationValidity::get());
			let tee = attestation.tee;
			Attestations::<T>::insert(
				node,
				AttestationRecord {
					tee,
					measurement,
					attested_at: now,
					expires_at,
					tcb_status: attestation.tcb_status,
					tcb_level: attestation.tcb_level,
					valid_until: attestation.valid_until,
				},
			);
			Self::deposit_event(Event::NodeAttested { node, tee, measurement, expires_at });
			Ok(())
		}

		/// Starts a node's exit: it is assigned nothing new from now on, may still settle
		/// the requests it was assigned (its attestation, if any, still counts for them),
		/// and its bond is released after the unbonding period. Operator only; revoked
		/// nodes may exit too.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::unregister())]
		pub fn unregister(origin: OriginFor<T>, node: NodeKey) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let until = Nodes::<T>::try_mutate(node, |record| {
				let record = record.as_mut().ok_or(Error::<T>::NodeNotFound)?;
				ensure!(record.operator == who, Error::<T>::NotOperator);
				ensure!(
					!matches!(record.status, NodeStatus::Unbonding { .. }),
					Error::<T>::NodeNotActive
				);
				if record.status == NodeStatus::Active {
					Self::stop_assignments(&node, record);
				}
				let until = frame_system::Pallet::<T>::block_number()
					.saturating_add(T::UnbondingPeriod::get());
				record.status = NodeStatus::Unbonding { until };
				Ok::<_, DispatchError>(until)
			})?;
			Self::deposit_event(Event::NodeUnbonding { node, until });
			Ok(())
		}

		/// Releases an exited node's bond and removes the node. Operator only.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>, node: NodeKey) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Nodes::<T>::get(node).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(record.operator == who, Error::<T>::NotOperator);
			let NodeStatus::Unbonding { until } = record.status else {
				return Err(Error::<T>::NotUnbonding.into());
			};
			ensure!(frame_system::Pallet::<T>::block_number() >= until, Error::<T>::StillUnbonding);
			let released = T::Currency::release(
				&HoldReason::NodeBond.into(),
				&record.operator,
				record.bond,
				Precision::BestEffort,
			)?;
			Nodes::<T>::remove(node);
			Attestations::<T>::remove(node);
			Self::deposit_event(Event::NodeRemoved { node, released });
			Ok(())
		}

		/// Allows a measurement to serve, with the lowest accepted security version (SGX
		/// ISVSVN; zero otherwise). Policy origin.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::allow_measurement())]
		pub fn allow_measurement(
			origin: OriginFor<T>,
			measurement: Measurement,
			min_security_version: u16,
		) -> DispatchResult {
			T::PolicyOrigin::ensure_origin(origin)?;
			let (tee, hash) = (measurement.tee(), measurement.hash());
			ensure!(
				!AllowedMeasurements::<T>::contains_key(tee, hash),
				Error::<T>::MeasurementAlreadyAllowed
			);
			AllowedMeasurements::<T>::insert(
				tee,
				hash,
				AllowedMeasurement { measurement, min_security_version },
			);
			Self::deposit_event(Event::MeasurementAllowed {
				tee,
				measurement: hash,
				min_security_version,
			});
			Ok(())
		}

		/// Removes a measurement from the allow-list; attestations naming it are void at
		/// once. Policy origin.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::revoke_measurement())]
		pub fn revoke_measurement(
			origin: OriginFor<T>,
			tee: TeeType,
			measurement: MeasurementHash,
		) -> DispatchResult {
			T::PolicyOrigin::ensure_origin(origin)?;
			AllowedMeasurements::<T>::take(tee, measurement)
				.ok_or(Error::<T>::MeasurementNotFound)?;
			Self::deposit_event(Event::MeasurementRevoked { tee, measurement });
			Ok(())
		}

		/// Sets how DCAP TCB statuses are judged. Policy origin.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::set_dcap_policy())]
		pub fn set_dcap_policy(origin: OriginFor<T>, policy: dcap::DcapPolicy) -> DispatchResult {
			T::PolicyOrigin::ensure_origin(origin)?;
			DcapPolicy::<T>::put(policy);
			Self::deposit_event(Event::DcapPolicyChanged { policy });
			Ok(())
		}

		/// Revokes a node: it stops serving at once and its attestation is void. Its
		/// operator can still exit and recover what remains of the bond. Policy origin.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::revoke_node())]
		pub fn revoke_node(origin: OriginFor<T>, node: NodeKey) -> DispatchResult {
			T::PolicyOrigin::ensure_origin(origin)?;
			Nodes::<T>::try_mutate(node, |record| {
				let record = record.as_mut().ok_or(Error::<T>::NodeNotFound)?;
				ensure!(record.status == NodeStatus::Active, Error::<T>::NodeNotActive);
				Self::stop_serving(&node, record);
				record.status = NodeStatus::Revoked;
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::NodeRevoked { node });
			Ok(())
		}

		/// Takes, for the caller's active, live inference `node`, the slot of `idle` in
		/// `model`'s full node list, because `idle` is not live (no heartbeat within the
		/// liveness window): a node that went quiet does not keep a model from being
		/// served by one that would. `node` adds `model` to its capabilities; `idle` stops
		/// declaring it (and may declare it again when a slot is free). Operator only.
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::take_slot())]
		pub fn take_slot(
			origin: OriginFor<T>,
			node: NodeKey,
			model: T::ModelId,
			idle: NodeKey,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(Self::is_live(&node, Roles::INFERENCE), Error::<T>::NodeNotActive);
			ensure!(!Self::is_live(&idle, Roles::INFERENCE), Error::<T>::NodeStillLive);
			ensure!(T::Models::contains(&model), Error::<T>::ModelUnavailable);
			Self::mutate_active(&who, &node, |record| {
				ensure!(!record.capabilities.models.contains(&model), Error::<T>::DuplicateModel);
				record
					.capabilities
					.models
					.try_push(model)
					.map_err(|_| Error::<T>::TooManyModels)?;
				ModelNodes::<T>::try_mutate(model, |nodes| {
					ensure!(nodes.is_full(), Error::<T>::ModelListNotFull);
					let slot =
						nodes.iter().position(|n| *n == idle).ok_or(Error::<T>::NotInModelList)?;
					nodes[slot] = node;
					Ok::<_, DispatchError>(())
				})
			})?;
			Nodes::<T>::mutate(idle, |record| {
				if let Some(record) = record {
					record.capabilities.models.retain(|m| *m != model);
				}
			});
			Self::deposit_event(Event::SlotTaken { model, node, idle });
			Ok(())
		}

		/// Proves an active node live at block `heartbeat.at`: unsigned, sent by the node's
		/// off-chain worker and authorized by the node key's `signature` over
		/// [`opg_settlement::message::heartbeat`]. `at` is at most the current block and at
		/// least half a liveness window after the node's last heartbeat, so that a node has
		/// at most one in each half window and an old signature moves nothing forward.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::submit_heartbeat())]
		pub fn submit_heartbeat(
			origin: OriginFor<T>,
			heartbeat: Heartbeat<BlockNumberFor<T>>,
			signature: sp_core::sr25519::Signature,
		) -> DispatchResult {
			ensure_none(origin)?;
			Self::check_heartbeat(&heartbeat, &signature)?;
			let node = heartbeat.node;
			Nodes::<T>::mutate(node, |record| {
				if let Some(record) = record {
					record.last_heartbeat = heartbeat.at;
				}
			});
			Self::deposit_event(Event::Heartbeat { node });
			Ok(())
		}
	}

	// `ValidateUnsigned` is deprecated for `#[pallet::authorize]` (removal after April
	// 2027); it stays until polkadot.js decodes the general transactions that replace it.
	#[allow(deprecated)]
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		/// A heartbeat enters the pool only if it would be accepted; it provides its node,
		/// so that a node has at most one in the pool, and lives half a liveness window.
		fn validate_unsigned(_source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let Call::submit_heartbeat { heartbeat, signature } = call else {
				return InvalidTransaction::Call.into();
			};
			Self::check_heartbeat(heartbeat, signature).map_err(Self::heartbeat_refusal)?;
			ValidTransaction::with_tag_prefix("OpgHeartbeat")
				.priority(HEARTBEAT_PRIORITY)
				.and_provides((HEARTBEAT_TAG, heartbeat.node))
				.longevity(Self::heartbeat_period().unique_saturated_into())
				.propagate(true)
				.build()
		}

		/// When a block is built or imported, only what can have changed since the pool
		/// validated it: the node is active and the heartbeat not too soon. Dispatch checks
		/// the signature.
		fn pre_dispatch(call: &Self::Call) -> Result<(), TransactionValidityError> {
			let Call::submit_heartbeat { heartbeat, .. } = call else {
				return Err(InvalidTransaction::Call.into());
			};
			Self::check_heartbeat_timing(heartbeat)
				.map_err(|error| Self::heartbeat_refusal(error).into())
		}
	}

	impl<T: Config> Pallet<T> {
		/// What a node key signs to register for `operator` on this chain.
		pub fn registration_message(operator: &T::AccountId) -> Result<Vec<u8>, DispatchError> {
			Ok(opg_settlement::message::registration(&Self::genesis_hash()?, &operator.encode()))
		}

		/// Whether the node is active, has the roles and sent a heartbeat within the
		/// liveness window.
		pub fn is_live(node: &NodeKey, roles: u8) -> bool {
			Nodes::<T>::get(node).is_some_and(|record| {
				let now = frame_system::Pallet::<T>::block_number();
				record.status == NodeStatus::Active
					&& record.roles.contains(roles)
					&& now <= record.last_heartbeat.saturating_add(T::LivenessWindow::get())
			})
		}

		/// Blocks between two heartbeats of a node: half the liveness window, at least one.
		pub fn heartbeat_period() -> BlockNumberFor<T> {
			let two: BlockNumberFor<T> = 2u32.into();
			(T::LivenessWindow::get() / two).max(One::one())
		}

		/// Why the pool refuses a heartbeat that dispatch would refuse with `error`.
		fn heartbeat_refusal(error: DispatchError) -> InvalidTransaction {
			let is = |named: Error<T>| error == DispatchError::from(named);
			if is(Error::<T>::BadNodeKeySignature) {
				InvalidTransaction::BadProof
			} else if is(Error::<T>::HeartbeatTooSoon) {
				InvalidTransaction::Stale
			} else if is(Error::<T>::FutureHeartbeat) {
				InvalidTransaction::Future
			} else if is(Error::<T>::NodeNotFound) || is(Error::<T>::NodeNotActive) {
				InvalidTransaction::BadSigner
			} else {
				InvalidTransaction::Call
			}
		}

		/// The node of a heartbeat is active, and `at` is neither in the future nor within
		/// a heartbeat period of the node's last.
		fn check_heartbeat_timing(heartbeat: &Heartbeat<BlockNumberFor<T>>) -> DispatchResult {
			let record = Nodes::<T>::get(heartbeat.node).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(record.status == NodeStatus::Active, Error::<T>::NodeNotActive);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(heartbeat.at <= now, Error::<T>::FutureHeartbeat);
			ensure!(
				heartbeat.at >= record.last_heartbeat.saturating_add(Self::heartbeat_period()),
				Error::<T>::HeartbeatTooSoon
			);
			Ok(())
		}

		/// What the pool and dispatch both check of a heartbeat: its timing, and that the
		/// node key signed it.
		fn check_heartbeat(
			heartbeat: &Heartbeat<BlockNumberFor<T>>,
			signature: &sp_core::sr25519::Signature,
		) -> DispatchResult {
			Self::check_heartbeat_timing(heartbeat)?;
			let message = opg_settlement::message::heartbeat(
				&Self::genesis_hash()?,
				heartbeat.at.unique_saturated_into(),
			);
			ensure!(
				sp_io::crypto::sr25519_verify(signature, &message, &heartbeat.node),
				Error::<T>::BadNodeKeySignature
			);
			Ok(())
		}

		/// Sends a heartbeat for each node key in the keystore whose node is active and due
		/// one ([`Self::heartbeat_period`] after its last).
		fn send_heartbeats(now: BlockNumberFor<T>) {
			let Ok(genesis) = Self::genesis_hash() else { return };
			for node in sp_io::crypto::sr25519_public_keys(opg_primitives::NODE_KEY_TYPE) {
				if !Self::heartbeat_is_due(&node, now) {
					continue;
				}
				let message =
					opg_settlement::message::heartbeat(&genesis, now.unique_saturated_into());
				let Some(signature) =
					sp_io::crypto::sr25519_sign(opg_primitives::NODE_KEY_TYPE, &node, &message)
				else {
					continue;
				};
				Self::submit_heartbeat_from_worker(node, now, signature);
			}
		}

		/// Whether `node` is active and owes a heartbeat at `now` (half a liveness window
		/// since its last).
		pub(crate) fn heartbeat_is_due(node: &NodeKey, now: BlockNumberFor<T>) -> bool {
			Nodes::<T>::get(node).is_some_and(|record| {
				record.status == NodeStatus::Active
					&& now >= record.last_heartbeat.saturating_add(Self::heartbeat_period())
			})
		}

		/// Submits `node`'s signed heartbeat at `at` to the pool from an off-chain worker;
		/// whether the pool accepted it.
		pub(crate) fn submit_heartbeat_from_worker(
			node: NodeKey,
			at: BlockNumberFor<T>,
			signature: sp_core::sr25519::Signature,
		) -> bool {
			use frame_system::offchain::{CreateBare, SubmitTransaction};
			let call = Call::submit_heartbeat { heartbeat: Heartbeat { node, at }, signature };
			let extrinsic = <T as CreateBare<Call<T>>>::create_bare(call.into());
			let node = sp_core::hexdisplay::HexDisplay::from(&node.0);
			match SubmitTransaction::<T, Call<T>>::submit_transaction(extrinsic) {
				Ok(()) => {
					log::info!(target: LOG_TARGET, "heartbeat of 0x{node} at block {at:?} submitted");
					true
				},
				Err(()) => {
					log::debug!(target: LOG_TARGET, "heartbeat of 0x{node} not submitted (one is in the pool)");
					false
				},
			}
		}

		fn genesis_hash() -> Result<[u8; 32], DispatchError> {
			let hash = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			let bytes: [u8; 32] =
				hash.as_ref().try_into().map_err(|_| Error::<T>::GenesisUnknown)?;
			ensure!(bytes != [0; 32], Error::<T>::GenesisUnknown);
			Ok(bytes)
		}

		/// Takes an active node out of service: out of the model index, its attestation
		/// and open challenge void.
		fn stop_serving(node: &NodeKey, record: &NodeOf<T>) {
			Self::stop_assignments(node, record);
			Attestations::<T>::remove(node);
		}

		/// Takes an active node out of the model index (no new assignment) and voids its
		/// open challenge.
		fn stop_assignments(node: &NodeKey, record: &NodeOf<T>) {
			if Self::listed_by_model(record.roles) {
				Self::unindex_models(node, &record.capabilities.models);
			}
			Challenges::<T>::remove(node);
		}

		fn check_capabilities(roles: Roles, capabilities: &CapabilitiesOf<T>) -> DispatchResult {
			ensure!(capabilities.modes.is_valid(), Error::<T>::InvalidModes);
			ensure!(
				capabilities.jobs_per_block > 0 || !roles.contains(Roles::INFERENCE),
				Error::<T>::NoJobsPerBlock
			);
			let models = &capabilities.models;
			let duplicate = models.iter().enumerate().any(|(i, model)| models[..i].contains(model));
			ensure!(!duplicate, Error::<T>::DuplicateModel);
			ensure!(models.iter().all(T::Models::contains), Error::<T>::ModelUnavailable);
			Ok(())
		}

		/// Whether a node of `roles` is listed under the models it serves
		/// ([`ModelNodes`]): inference nodes (assigned requests) and verification nodes
		/// (drawn into committees checking the model's results).
		pub(crate) fn listed_by_model(roles: Roles) -> bool {
			roles.contains(Roles::INFERENCE) || roles.contains(Roles::VERIFIER)
		}

		fn index_models(node: &NodeKey, models: &[T::ModelId]) -> DispatchResult {
			for model in models {
				ModelNodes::<T>::try_mutate(model, |nodes| nodes.try_push(*node))
					.map_err(|_| Error::<T>::TooManyNodesForModel)?;
			}
			Ok(())
		}

		fn unindex_models(node: &NodeKey, models: &[T::ModelId]) {
			for model in models {
				ModelNodes::<T>::mutate_exists(model, |nodes| {
					if let Some(list) = nodes {
						list.retain(|n| n != node);
						if list.is_empty() {
							*nodes = None;
						}
					}
				});
			}
		}

		/// The node, if it is active and the caller operates it.
		fn active_node(who: &T::AccountId, node: &NodeKey) -> Result<NodeOf<T>, DispatchError> {
			let record = Nodes::<T>::get(node).ok_or(Error::<T>::NodeNotFound)?;
			ensure!(&record.operator == who, Error::<T>::NotOperator);
			ensure!(record.status == NodeStatus::Active, Error::<T>::NodeNotActive);
			Ok(record)
		}

		/// Runs `f` on an active node the caller operates, and stores the result.
		fn mutate_active<R>(
			who: &T::AccountId,
			node: &NodeKey,
			f: impl FnOnce(&mut NodeOf<T>) -> Result<R, DispatchError>,
		) -> Result<R, DispatchError> {
			let mut record = Self::active_node(who, node)?;
			let result = f(&mut record)?;
			Nodes::<T>::insert(node, record);
			Ok(result)
		}
	}
}

#[cfg(any(feature = "try-runtime", feature = "testing", test))]
impl<T: Config> Pallet<T> {
	/// The registry's invariants, checked after every block by `try-runtime` and the
	/// pallet's tests: the bonds held from each operator are exactly the bonds of its nodes;
	/// the model index lists exactly the active inference nodes under each model they serve,
	/// once each; attestations and challenges belong to registered nodes.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::{ensure, traits::fungible::InspectHold};
		use sp_runtime::traits::{Saturating, Zero};
		let mut bonds: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (node, record) in Nodes::<T>::iter() {
			let total = bonds.entry(record.operator.clone()).or_insert_with(Zero::zero);
			*total = total.saturating_add(record.bond);
			let indexed =
				record.status == NodeStatus::Active && Self::listed_by_model(record.roles);
			for model in record.capabilities.models.iter() {
				let listed = ModelNodes::<T>::get(model).iter().filter(|n| **n == node).count();
				ensure!(listed == usize::from(indexed), "the model index lists each active inference node once under each model it serves");
			}
		}
		for (operator, bond) in bonds {
			let held = T::Currency::balance_on_hold(&HoldReason::NodeBond.into(), &operator);
			ensure!(held == bond, "the bonds held from an operator are the bonds of its nodes");
		}
		for (model, nodes) in ModelNodes::<T>::iter() {
			ensure!(!nodes.is_empty(), "no model is indexed with no node");
			for node in nodes {
				ensure!(
					Nodes::<T>::get(node)
						.is_some_and(|record| record.capabilities.models.contains(&model)),
					"an indexed node serves the model"
				);
			}
		}
		for node in Attestations::<T>::iter_keys().chain(Challenges::<T>::iter_keys()) {
			ensure!(
				Nodes::<T>::contains_key(node),
				"attestations and challenges belong to registered nodes"
			);
		}
		Ok(())
	}
}
