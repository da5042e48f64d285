//! What the inference pallet asks of the registry (`opg_primitives::InferenceNodes` and
//! `NodeSlashing`): the candidates of an assignment, the operator to pay, and penalties
//! taken from bonds; and what the verification pallet asks (`VerifierNodes`): the
//! verification nodes of a model, and payments out of bonds.

use super::*;
use alloc::vec::Vec;
use frame_support::traits::{
	fungible::{BalancedHold, MutateHold},
	tokens::{Fortitude, Precision, Restriction},
	Get, Imbalance, OnUnbalanced,
};
use frame_system::pallet_prelude::BlockNumberFor;
use opg_primitives::ModelId;
use sp_runtime::traits::{Saturating, UniqueSaturatedInto, Zero};

impl<T: Config> NodeSlashing<BalanceOf<T>> for Pallet<T> {
	fn slash(node: &NodeKey, amount: BalanceOf<T>) -> BalanceOf<T> {
		let Some(mut record) = Nodes::<T>::get(node) else { return Zero::zero() };
		let amount = amount.min(record.bond);
		let (credit, _missing) =
			T::Currency::slash(&HoldReason::NodeBond.into(), &record.operator, amount);
		let taken = credit.peek();
		T::Slashed::on_unbalanced(credit);
		record.bond = record.bond.saturating_sub(taken);
		Nodes::<T>::insert(node, record);
		Self::deposit_event(Event::NodeSlashed { node: *node, amount: taken });
		taken
	}
}

impl<T: Config> InferenceNodes<T::AccountId, BalanceOf<T>, T::ModelId> for Pallet<T> {
	fn candidates(model: &T::ModelId, mode: VerificationMode) -> Vec<Candidate<BalanceOf<T>>> {
		let now = frame_system::Pallet::<T>::block_number();
		ModelNodes::<T>::get(model)
			.into_iter()
			.filter_map(|node| {
				let record = Nodes::<T>::get(node)?;
				let serves = record.status == NodeStatus::Active
					&& record.roles.contains(Roles::INFERENCE)
					&& record.capabilities.modes.contains(mode.flag())
					&& now <= record.last_heartbeat.saturating_add(T::LivenessWindow::get())
					&& (mode != VerificationMode::Tee || Self::tee_attestation(&node).is_some());
				serves.then_some(Candidate {
					node,
					bond: record.bond,
					jobs_per_block: record.capabilities.jobs_per_block,
				})
			})
			.collect()
	}

	fn listed(model: &T::ModelId) -> u32 {
		ModelNodes::<T>::decode_len(model).unwrap_or(0) as u32
	}

	fn lists(node: &NodeKey, model: &T::ModelId) -> bool {
		Nodes::<T>::get(node).is_some_and(|record| record.capabilities.models.contains(model))
	}

	fn settling_operator(node: &NodeKey, mode: VerificationMode) -> Option<T::AccountId> {
		let record = Nodes::<T>::get(node)?;
		// An exiting node still settles what it was assigned before it left.
		let may_settle = record.status != NodeStatus::Revoked
			&& (mode != VerificationMode::Tee || Self::tee_attestation(node).is_some());
		may_settle.then_some(record.operator)
	}

	fn heartbeat_due(node: &NodeKey) -> Option<u64> {
		let now = frame_system::Pallet::<T>::block_number();
		Self::heartbeat_is_due(node, now).then(|| now.unique_saturated_into())
	}

	fn submit_heartbeat(node: &NodeKey, at: u64, signature: sp_core::sr25519::Signature) -> bool {
		let at: BlockNumberFor<T> = at.unique_saturated_into();
		Self::submit_heartbeat_from_worker(*node, at, signature)
	}
}

impl<T: Config> VerifierNodes<T::AccountId, BalanceOf<T>> for Pallet<T>
where
	T::ModelId: From<ModelId>,
{
	fn verifiers(model: &ModelId) -> Vec<Verifier<T::AccountId, BalanceOf<T>>> {
		let now = frame_system::Pallet::<T>::block_number();
		ModelNodes::<T>::get(T::ModelId::from(*model))
			.into_iter()
			.filter_map(|node| {
				let record = Nodes::<T>::get(node)?;
				let verifies = record.status == NodeStatus::Active
					&& record.roles.contains(Roles::VERIFIER)
					&& now <= record.last_heartbeat.saturating_add(T::LivenessWindow::get());
				verifies.then_some(Verifier {
					node,
					operator: record.operator,
					bond: record.bond,
					hardware: record.capabilities.hardware.class,
				})
			})
			.collect()
	}

	fn operator(node: &NodeKey) -> Option<T::AccountId> {
		Nodes::<T>::get(node).map(|record| record.operator)
	}

	fn hardware(node: &NodeKey) -> Option<HardwareClass> {
		Nodes::<T>::get(node).map(|record| record.capabilities.hardware.class)
	}

	fn bond(node: &NodeKey) -> BalanceOf<T> {
		Nodes::<T>::get(node).map_or_else(Zero::zero, |record| record.bond)
	}

	fn pay_from_bond(node: &NodeKey, amount: BalanceOf<T>, to: &T::AccountId) -> BalanceOf<T> {
		let Some(mut record) = Nodes::<T>::get(node) else { return Zero::zero() };
		let amount = amount.min(record.bond);
		if amount.is_zero() {
			return amount;
		}
		let Ok(moved) = T::Currency::transfer_on_hold(
			&HoldReason::NodeBond.into(),
			&record.operator,
			to,
			amount,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		) else {
			return Zero::zero();
		};
		record.bond = record.bond.saturating_sub(moved);
		Nodes::<T>::insert(node, record);
		Self::deposit_event(Event::NodeSlashed { node: *node, amount: moved });
		moved
	}
}
