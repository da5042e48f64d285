//! Benchmarks for `pallet-verification`: every call and block-start step at its worst case.
//! Committees are drawn among the most verifiers a model can have
//! ([`BenchmarkHelper::max_verifiers`]); a case that ends does so with every round seated
//! (the first committee and each escalation), so that its payout moves the most bonds.

use super::*;
use crate::pallet::{Call, Cases, Config, HoneypotAuthority, ModeParameters, Pallet, Parameters};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	assert_ok,
	traits::{fungible::Mutate, EnsureOrigin},
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use opg_primitives::NODE_KEY_TYPE;
use opg_verification::{Phase, BILLION};
use polkadot_sdk::frame_benchmarking;
use sp_runtime::traits::{Bounded, Hash, UniqueSaturatedInto, Zero};

/// Sets up what the verification pallet's benchmarks need from settlement and the node
/// registry.
pub trait BenchmarkHelper<T: Config> {
	/// The most verification nodes one model can have (the registry's bound, less the
	/// serving node).
	fn max_verifiers() -> u32;
	/// A vanilla result held now in its challenge window (its request made and its result
	/// settled as a client and a node would), served by an inference node whose sr25519
	/// key of type [`NODE_KEY_TYPE`] is generated in the keystore, of a model that
	/// `verifiers` live verification nodes of distinct operators (none the node's) serve,
	/// their keys generated in the keystore too. Its request id.
	fn held_result(verifiers: u32) -> RequestId;
}

fn set_genesis_hash<T: Config>() {
	let hash = T::Hashing::hash(b"opg benchmark genesis");
	frame_system::BlockHash::<T>::insert(BlockNumberFor::<T>::zero(), hash);
}

fn sign(key: &NodeKey, message: &[u8]) -> sp_core::sr25519::Signature {
	sp_io::crypto::sr25519_sign(NODE_KEY_TYPE, key, message).expect("a key of the keystore")
}

const SALT: [u8; 32] = [0x5a; 32];

/// A held result whose model the most verifiers serve; every result sampled.
fn held<T: Config>() -> RequestId {
	set_genesis_hash::<T>();
	frame_system::Pallet::<T>::set_block_number(1u32.into());
	Parameters::<T>::put(Params { sample_rate: BILLION, ..Parameters::<T>::get() });
	T::BenchmarkHelper::held_result(T::BenchmarkHelper::max_verifiers())
}

/// A held result, sampled: its case, open in its first commit phase.
fn sampled<T: Config>() -> (RequestId, CaseId) {
	let id = held::<T>();
	Pallet::<T>::on_block(Pallet::<T>::now() + SAMPLING_DELAY);
	let case = crate::CaseOf::<T>::get(id).expect("sampled with a committee");
	(id, case)
}

fn record<T: Config>(case: CaseId) -> CaseRecordOf<T> {
	Cases::<T>::get(case).expect("a case")
}

fn seats<T: Config>(case: CaseId) -> Vec<NodeKey> {
	record::<T>(case).game.current().map(|seat| seat.verifier).collect()
}

/// Lets the case's current phase pass with no one acting (its deadline's next block).
fn let_pass<T: Config>(case: CaseId) {
	let next = record::<T>(case).game.deadline().expect("open") + 1;
	frame_system::Pallet::<T>::set_block_number(next.unique_saturated_into());
	Pallet::<T>::on_block(next);
}

/// Every round of `case` passes in silence but the last: its committee is seated.
fn to_last_round<T: Config>(case: CaseId) {
	while record::<T>(case).game.round + 1 < record::<T>(case).game.params.rounds {
		let round = record::<T>(case).game.round;
		let_pass::<T>(case);
		assert!(record::<T>(case).game.round > round, "escalated: enough verifiers");
	}
}

fn committed<T: Config>(case: CaseId, verifier: NodeKey, verdict: Verdict) {
	let hash = opg_verification::commitment(case, &verifier, verdict, &SALT);
	let genesis = Pallet::<T>::genesis_hash().expect("set");
	let signature = sign(&verifier, &message::verdict_commit(&genesis, case, &hash));
	assert_ok!(Pallet::<T>::commit(RawOrigin::None.into(), case, verifier, hash, signature));
}

fn reveal_signature<T: Config>(
	case: CaseId,
	verifier: &NodeKey,
	verdict: Verdict,
) -> sp_core::sr25519::Signature {
	let genesis = Pallet::<T>::genesis_hash().expect("set");
	sign(verifier, &message::verdict_reveal(&genesis, case, verdict.byte(), &SALT))
}

/// A case that reached governance after every round passed in silence.
fn in_governance<T: Config>() -> (RequestId, CaseId) {
	let (id, case) = sampled::<T>();
	to_last_round::<T>(case);
	let_pass::<T>(case);
	assert!(matches!(record::<T>(case).game.phase, Phase::Governance { .. }));
	(id, case)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = Params { sample_rate: 5, ..Params::DEV };
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);
		assert_eq!(Parameters::<T>::get(), params);
		Ok(())
	}

	#[benchmark]
	fn set_mode_params() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let own = opg_verification::ModeParams { challenge_window: 50, sample_rate: 7 };
		let mode = opg_primitives::VerificationMode::Tee;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, mode, Some(own));
		assert_eq!(ModeParameters::<T>::get(mode), Some(own));
		Ok(())
	}

	#[benchmark]
	fn set_honeypot_authority() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let key = sp_io::crypto::sr25519_generate(NODE_KEY_TYPE, None);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Some(key));
		assert_eq!(HoneypotAuthority::<T>::get(), Some(key));
		Ok(())
	}

	#[benchmark]
	fn challenge() {
		let id = held::<T>();
		let challenger: T::AccountId = account("challenger", 0, 0);
		T::Currency::set_balance(&challenger, BalanceOf::<T>::max_value() / 4u32.into());
		#[extrinsic_call]
		_(RawOrigin::Signed(challenger), id);
		assert!(crate::CaseOf::<T>::contains_key(id));
	}

	/// A sampling draw that opens a case: its committee drawn among the most verifiers.
	#[benchmark]
	fn sample() {
		let id = held::<T>();
		let at = Pallet::<T>::now() + SAMPLING_DELAY;
		#[block]
		{
			Pallet::<T>::on_block(at);
		}
		assert!(crate::CaseOf::<T>::contains_key(id));
	}

	/// A challenge's case opened at the next block's start.
	#[benchmark]
	fn open_case() {
		let id = held::<T>();
		let challenger: T::AccountId = account("challenger", 0, 0);
		T::Currency::set_balance(&challenger, BalanceOf::<T>::max_value() / 4u32.into());
		assert_ok!(Pallet::<T>::challenge(RawOrigin::Signed(challenger).into(), id));
		let at = Pallet::<T>::now() + 1;
		#[block]
		{
			Pallet::<T>::on_block(at);
		}
		let case = crate::CaseOf::<T>::get(id).expect("challenged");
		assert!(!seats::<T>(case).is_empty());
	}

	/// The committee's last commitment: the case moves to its reveal phase.
	#[benchmark]
	fn commit() {
		let (_, case) = sampled::<T>();
		let mut seated = seats::<T>(case);
		let last = seated.pop().expect("a committee");
		for verifier in seated {
			committed::<T>(case, verifier, Verdict::Valid);
		}
		let hash = opg_verification::commitment(case, &last, Verdict::Valid, &SALT);
		let genesis = Pallet::<T>::genesis_hash().expect("set");
		let signature = sign(&last, &message::verdict_commit(&genesis, case, &hash));
		#[extrinsic_call]
		_(RawOrigin::None, case, last, hash, signature);
		assert!(matches!(record::<T>(case).game.phase, Phase::Reveal { .. }));
	}

	/// The last verdict of the last round: the case ends overturned, the node slashed, every
	/// seat of every round paid or penalized.
	#[benchmark]
	fn reveal() {
		let (_, case) = sampled::<T>();
		to_last_round::<T>(case);
		let seated = seats::<T>(case);
		for verifier in &seated {
			committed::<T>(case, *verifier, Verdict::Invalid);
		}
		let (last, others) = seated.split_last().expect("a committee");
		for verifier in others {
			let signature = reveal_signature::<T>(case, verifier, Verdict::Invalid);
			assert_ok!(Pallet::<T>::reveal(
				RawOrigin::None.into(),
				case,
				*verifier,
				Verdict::Invalid,
				SALT,
				signature
			));
		}
		let signature = reveal_signature::<T>(case, last, Verdict::Invalid);
		#[extrinsic_call]
		_(RawOrigin::None, case, *last, Verdict::Invalid, SALT, signature);
		assert_eq!(record::<T>(case).game.outcome(), Some(Outcome::Overturned));
	}

	/// Governance overturns a case every round of which was silent.
	#[benchmark]
	fn decide() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let (_, case) = in_governance::<T>();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, case, Outcome::Overturned);
		assert_eq!(record::<T>(case).game.outcome(), Some(Outcome::Overturned));
		Ok(())
	}

	/// A case awaiting governance shown a honeypot: it ends at once.
	#[benchmark]
	fn expose() {
		let (id, case) = in_governance::<T>();
		let authority = sp_io::crypto::sr25519_generate(NODE_KEY_TYPE, None);
		HoneypotAuthority::<T>::put(authority);
		let genesis = Pallet::<T>::genesis_hash().expect("set");
		let signed = message::honeypot(&genesis, case, id);
		let node_signature = sign(&record::<T>(case).node, &signed);
		let authority_signature = sign(&authority, &signed);
		#[extrinsic_call]
		_(RawOrigin::None, case, node_signature, authority_signature);
		assert_eq!(record::<T>(case).game.outcome(), Some(Outcome::Overturned));
	}

	/// A silent round's deadline: the next committee drawn among the most verifiers.
	#[benchmark]
	fn advance_escalating() {
		let (_, case) = sampled::<T>();
		let next = record::<T>(case).game.deadline().expect("open") + 1;
		#[block]
		{
			Pallet::<T>::on_block(next);
		}
		assert_eq!(record::<T>(case).game.round, 1);
	}

	/// Governance's deadline: the case ends undecided, every seat of every round
	/// penalized for its silence.
	#[benchmark]
	fn advance_ending() {
		let (_, case) = in_governance::<T>();
		let next = record::<T>(case).game.deadline().expect("open") + 1;
		#[block]
		{
			Pallet::<T>::on_block(next);
		}
		assert_eq!(record::<T>(case).game.outcome(), Some(Outcome::Undecided));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::bench_ext(), crate::mock::Test);
}
