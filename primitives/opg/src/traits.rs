//! What the pallets ask of each other. The runtime wires each pallet's `Config` to the
//! pallet implementing the trait; mocks implement them directly.

#[cfg(feature = "chain")]
use crate::{HardwareClass, NodeKey, VerificationMode};
use crate::{ModelId, ServingTerms};
use alloc::vec::Vec;

/// What inference settlement reads from the model hub.
pub trait ModelCatalog<Balance> {
	/// The terms of an active model; `None` if unknown or deprecated.
	fn serving_terms(model: ModelId) -> Option<ServingTerms<Balance>>;
	/// The prepared Groth16 verifying key of a ZKML model (the hub prepares it once, when
	/// the model is published), deprecated or not; `None` if unknown or not ZKML.
	fn prepared_verifying_key(model: ModelId) -> Option<Vec<u8>>;
	/// The byte length of one output of a model, deprecated or not; `None` if unknown.
	/// A ZKML result's output must be exactly this long: the proof's public inputs pack
	/// the output 31 bytes to a field element, so trailing zero bytes would not change
	/// them.
	fn output_len(model: ModelId) -> Option<u64>;
	/// Whether a model's results may be checked only by verifiers on the same
	/// [`crate::HardwareClass`] as their node, deprecated or not (`false` if unknown): its
	/// results are floating point and it publishes no tolerance that holds across
	/// devices.
	fn checked_on_same_hardware(model: ModelId) -> bool;
}

/// What the model hub asks of inference settlement before it removes a model: whether
/// a request still open needs the model's record or verifying key.
pub trait ModelUsage {
	/// Whether any open request is for `model`.
	fn in_use(model: ModelId) -> bool;
}

/// Nothing uses any model (a hub without inference settlement).
impl ModelUsage for () {
	fn in_use(_: ModelId) -> bool {
		false
	}
}

/// Called by settlement to penalize a node.
#[cfg(feature = "chain")]
pub trait NodeSlashing<Balance> {
	/// Takes up to `amount` from the node's bond; returns what was taken.
	fn slash(node: &NodeKey, amount: Balance) -> Balance;
}

/// A node that can take an assignment, as the registry knows it.
#[cfg(feature = "chain")]
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Candidate<Balance> {
	/// The node key.
	pub node: NodeKey,
	/// Its bond: the weight of its draw.
	pub bond: Balance,
	/// How many jobs a block the node declared it serves: with a request's window, the
	/// most open requests it is assigned.
	pub jobs_per_block: u32,
}

/// What inference settlement asks the node registry: who may serve, and who gets paid.
#[cfg(feature = "chain")]
pub trait InferenceNodes<AccountId, Balance, Model = ModelId>: NodeSlashing<Balance> {
	/// Inference nodes that can serve `model` with `mode` evidence now (active, live,
	/// and for TEE attested), with their bonds and declared rates: the candidates of an
	/// assignment.
	fn candidates(model: &Model, mode: VerificationMode) -> Vec<Candidate<Balance>>;
	/// How many nodes `model`'s list holds: the records [`Self::candidates`] reads, which
	/// an assignment's weight counts.
	fn listed(model: &Model) -> u32;
	/// Whether `node` lists `model` among the models it serves, whatever its status now: a
	/// direct call it served names a model it offered, and a challenge of the call must
	/// not name another with the same artifact (whose verifiers the challenger could pick).
	fn lists(node: &NodeKey, model: &Model) -> bool;
	/// The operator of `node` if it may settle `mode` results now: active or exiting (it
	/// finishes what it was assigned), not revoked, and for TEE holding a valid
	/// attestation with a still-allowed measurement.
	fn settling_operator(node: &NodeKey, mode: VerificationMode) -> Option<AccountId>;
	/// The block of `node`'s heartbeat if one is due now (the node active, half a
	/// liveness window past its last): for an off-chain worker serving a key it cannot
	/// sign with (an executor holds it), which has the heartbeat signed there and hands it
	/// to [`Self::submit_heartbeat`].
	fn heartbeat_due(node: &NodeKey) -> Option<u64>;
	/// Submits, from an off-chain worker, `node`'s heartbeat at block `at` with the node
	/// key's `signature` over `opg_settlement::message::heartbeat`, as the registry's own
	/// unsigned transaction; whether the pool accepted it.
	fn submit_heartbeat(node: &NodeKey, at: u64, signature: sp_core::sr25519::Signature) -> bool;
}

/// A result held in its challenge window, as the verification game sees it
/// (`pallet-verification`).
#[cfg(feature = "chain")]
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HeldResult<AccountId, Balance> {
	/// The node that served it.
	pub node: NodeKey,
	/// Its operator: paid if the result stands.
	pub operator: AccountId,
	/// Who requested it: refunded if it does not.
	pub client: AccountId,
	/// The model.
	pub model: ModelId,
	/// The evidence it carried.
	pub mode: VerificationMode,
	/// What its node is paid if it stands.
	pub price: Balance,
	/// The verification surcharge its requester paid, held with the price: it pays the
	/// verifiers of a case, or the treasury when the result is not checked.
	pub surcharge: Balance,
	/// Its digest (what the node signed): each result's own sampling draw reads it.
	pub subject: [u8; 32],
	/// The block its window ends in (from then on it is paid and final).
	pub final_at: u64,
	/// Whether its node can prove it with Groth16 (the model has a verifying key and the
	/// input is on chain): a dispute is then refereed by the proof, not by committees.
	pub provable: bool,
	/// Whether only verifiers on its node's [`HardwareClass`] may check it
	/// ([`ModelCatalog::checked_on_same_hardware`] of its model).
	pub same_hardware: bool,
}

/// The input a verifier re-executes a held result on.
#[cfg(feature = "chain")]
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CheckInput {
	/// The input bytes, kept on chain.
	Inline(alloc::vec::Vec<u8>),
	/// An input in the artifact store: its SHA-256 and where to fetch it.
	Stored {
		/// SHA-256 of the input bytes.
		hash: crate::ContentHash,
		/// Its locator (URL or data-node locator), possibly empty.
		locator: alloc::vec::Vec<u8>,
	},
	/// A direct call's request, kept by its serving node's store under the call's digest
	/// (`opg_settlement::channel::call_digest`): the stored bytes are the digest's
	/// preimage, `u32 LE length of the path ‖ path ‖ body`, and the input is the body of a
	/// call to `/v1/infer/0x{model}`.
	Call {
		/// The call's digest: SHA-256 of its preimage.
		digest: crate::ContentHash,
	},
}

/// What a verifier needs to re-execute a held result: the model's artifact, the input,
/// and the output the node claimed.
#[cfg(feature = "chain")]
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ToCheck {
	/// The model's artifact hash (what the executor loads).
	pub model_hash: crate::ContentHash,
	/// The input.
	pub input: CheckInput,
	/// SHA-256 of the output the node claimed.
	pub output_hash: crate::ContentHash,
	/// The claimed output's bytes, when the chain holds them (an inline output): what a
	/// float model's re-executed output is compared with, within its published
	/// [`crate::Tolerance`]. `None` for an output settled by its hash, which the verifier
	/// fetches from the serving node's store.
	pub output: Option<alloc::vec::Vec<u8>>,
}

/// What the verification game asks of settlement: results held until their challenge
/// window ends.
#[cfg(feature = "chain")]
pub trait HeldResults<AccountId, Balance> {
	/// Result `id`, if it is held now and its window has not ended.
	fn held(id: crate::RequestId) -> Option<HeldResult<AccountId, Balance>>;
	/// What re-executing result `id` takes, while it is held (its input is kept until its
	/// payment is released or refunded).
	fn to_check(id: crate::RequestId) -> Option<ToCheck>;
	/// Whether `proof` is a Groth16 proof, under the model's verifying key, that held result
	/// `id`'s model maps its input to `output`, bound to this chain, the request and its
	/// node; and `output` is the output the node claimed.
	fn verify_proof(id: crate::RequestId, output: &[u8], proof: &[u8]) -> bool;
	/// Keeps `id` held past its window: a case checks it. `false` if it is not held.
	fn dispute(id: crate::RequestId) -> bool;
	/// Pays up to `amount` of held result `id`'s surcharge to `to`; what was paid.
	fn pay_surcharge(id: crate::RequestId, to: &AccountId, amount: Balance) -> Balance;
	/// Ends a disputed result: pays its node if `upheld`, otherwise refunds its client;
	/// what is left of its surcharge goes to the treasury. `false` if it is not held.
	fn conclude(id: crate::RequestId, upheld: bool) -> bool;
}

/// What settlement tells the verification game.
#[cfg(feature = "chain")]
pub trait ResultChecks {
	/// How many blocks results of `mode` are held before their node is paid; zero: paid
	/// at once (proven results need no challenge).
	fn challenge_window(mode: VerificationMode) -> u32;
	/// Result `id` is held from now on: it may be sampled.
	fn held(id: crate::RequestId);
	/// The verification surcharge a request of `mode` pays on top of the price, in parts
	/// per billion of the price (zero for results paid at once).
	fn surcharge(mode: VerificationMode) -> u32;
}

/// No verification game: every result is paid at once.
#[cfg(feature = "chain")]
impl ResultChecks for () {
	fn challenge_window(_: VerificationMode) -> u32 {
		0
	}
	fn held(_: crate::RequestId) {}
	fn surcharge(_: VerificationMode) -> u32 {
		0
	}
}

/// How settlement starts a challenge of a result it holds (`pallet-verification` in the
/// runtime): a direct call is opened for checking and challenged in one transaction.
#[cfg(feature = "chain")]
pub trait ResultChallenges<AccountId> {
	/// Why a challenge is refused.
	type Error;
	/// `challenger` challenges held result `id`, holding the challenge bond until its
	/// case ends; refused, changing nothing, if `id` is not challengeable or the bond
	/// cannot be held.
	fn challenge(challenger: &AccountId, id: crate::RequestId) -> Result<(), Self::Error>;
}

/// No verification game: nothing can be challenged.
#[cfg(feature = "chain")]
impl<AccountId> ResultChallenges<AccountId> for () {
	type Error = &'static str;
	fn challenge(_: &AccountId, _: crate::RequestId) -> Result<(), Self::Error> {
		Err("no verification game checks results")
	}
}

/// The held results of both paths to the verification game: results of on-chain
/// requests (ids below [`crate::DIRECT_CALL_IDS`]) from `OnChain`, direct calls opened for
/// checking (ids from it on) from `Direct`. Each id is answered by one side only.
#[cfg(feature = "chain")]
pub struct BothPaths<OnChain, Direct>(core::marker::PhantomData<(OnChain, Direct)>);

#[cfg(feature = "chain")]
impl<AccountId, Balance, OnChain, Direct> HeldResults<AccountId, Balance>
	for BothPaths<OnChain, Direct>
where
	OnChain: HeldResults<AccountId, Balance>,
	Direct: HeldResults<AccountId, Balance>,
{
	fn held(id: crate::RequestId) -> Option<HeldResult<AccountId, Balance>> {
		if crate::is_direct_call(id) {
			Direct::held(id)
		} else {
			OnChain::held(id)
		}
	}
	fn to_check(id: crate::RequestId) -> Option<ToCheck> {
		if crate::is_direct_call(id) {
			Direct::to_check(id)
		} else {
			OnChain::to_check(id)
		}
	}
	fn verify_proof(id: crate::RequestId, output: &[u8], proof: &[u8]) -> bool {
		if crate::is_direct_call(id) {
			Direct::verify_proof(id, output, proof)
		} else {
			OnChain::verify_proof(id, output, proof)
		}
	}
	fn dispute(id: crate::RequestId) -> bool {
		if crate::is_direct_call(id) {
			Direct::dispute(id)
		} else {
			OnChain::dispute(id)
		}
	}
	fn pay_surcharge(id: crate::RequestId, to: &AccountId, amount: Balance) -> Balance {
		if crate::is_direct_call(id) {
			Direct::pay_surcharge(id, to, amount)
		} else {
			OnChain::pay_surcharge(id, to, amount)
		}
	}
	fn conclude(id: crate::RequestId, upheld: bool) -> bool {
		if crate::is_direct_call(id) {
			Direct::conclude(id, upheld)
		} else {
			OnChain::conclude(id, upheld)
		}
	}
}

/// A verification node that may be drawn into a committee.
#[cfg(feature = "chain")]
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Verifier<AccountId, Balance> {
	/// Its node key.
	pub node: NodeKey,
	/// Its operator (a committee seats at most one node per operator).
	pub operator: AccountId,
	/// Its bond: the weight of its draw.
	pub bond: Balance,
	/// The kind of processor it re-executes on.
	pub hardware: HardwareClass,
}

/// What the verification game asks the node registry.
#[cfg(feature = "chain")]
pub trait VerifierNodes<AccountId, Balance> {
	/// Nodes with the `VERIFIER` role that serve `model` now (active, live): the
	/// candidates of a committee checking one of its results.
	fn verifiers(model: &ModelId) -> Vec<Verifier<AccountId, Balance>>;
	/// The operator of a registered node, whatever its status.
	fn operator(node: &NodeKey) -> Option<AccountId>;
	/// The hardware class a registered node declares, whatever its status.
	fn hardware(node: &NodeKey) -> Option<HardwareClass>;
	/// A registered node's bond now; zero if unknown.
	fn bond(node: &NodeKey) -> Balance;
	/// Moves up to `amount` of `node`'s bond to `to`; returns what was moved.
	fn pay_from_bond(node: &NodeKey, amount: Balance, to: &AccountId) -> Balance;
}

#[cfg(all(test, feature = "chain"))]
mod tests {
	use super::*;
	use crate::{RequestId, DIRECT_CALL_IDS};

	/// Held results that answer every id with their own price, and record what they ended.
	struct Side<const PRICE: u64>;

	impl<const PRICE: u64> HeldResults<u8, u64> for Side<PRICE> {
		fn held(_: RequestId) -> Option<HeldResult<u8, u64>> {
			Some(HeldResult {
				node: NodeKey::from_raw([0; 32]),
				operator: 0,
				client: 0,
				model: 0,
				mode: VerificationMode::Vanilla,
				price: PRICE,
				surcharge: 0,
				subject: [0; 32],
				final_at: 0,
				provable: false,
				same_hardware: false,
			})
		}
		fn to_check(_: RequestId) -> Option<ToCheck> {
			None
		}
		fn verify_proof(_: RequestId, _: &[u8], _: &[u8]) -> bool {
			PRICE == 1
		}
		fn dispute(_: RequestId) -> bool {
			PRICE == 1
		}
		fn pay_surcharge(_: RequestId, _: &u8, _: u64) -> u64 {
			PRICE
		}
		fn conclude(_: RequestId, _: bool) -> bool {
			PRICE == 2
		}
	}

	type Both = BothPaths<Side<1>, Side<2>>;

	#[test]
	fn each_id_is_answered_by_its_paths_side_alone() {
		for id in [0, 7, DIRECT_CALL_IDS - 1] {
			assert_eq!(Both::held(id).unwrap().price, 1, "on chain: {id}");
			assert!(
				Both::dispute(id) && Both::verify_proof(id, &[], &[]) && !Both::conclude(id, true)
			);
			assert_eq!(Both::pay_surcharge(id, &0, 9), 1);
		}
		for id in [DIRECT_CALL_IDS, DIRECT_CALL_IDS + 5, RequestId::MAX] {
			assert_eq!(Both::held(id).unwrap().price, 2, "direct: {id}");
			assert!(
				!Both::dispute(id) && !Both::verify_proof(id, &[], &[]) && Both::conclude(id, true)
			);
			assert_eq!(Both::pay_surcharge(id, &0, 9), 2);
		}
	}

	#[test]
	fn without_a_verification_game_nothing_is_challenged() {
		assert!(<() as ResultChallenges<u8>>::challenge(&1, 0).is_err());
	}
}
