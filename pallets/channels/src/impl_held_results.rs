//! Challenged calls as held results of the verification game: what it reads of them, how
//! a dispute keeps their settlement held and how a verdict ends it.

use super::*;
use frame_support::traits::{fungible::MutateHold, tokens::Precision};
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedInto, Zero},
	Perbill,
};

impl<T: Config> Pallet<T> {
	/// The evidence a served call claims, if one a verifier can check by re-execution:
	/// vanilla or TEE (a ZKML answer carries its own proof).
	pub(crate) fn call_mode(call: &pure::ServedCall) -> Option<VerificationMode> {
		match call.mode {
			0 => Some(VerificationMode::Vanilla),
			1 => Some(VerificationMode::Tee),
			_ => None,
		}
	}

	/// Ends the dispute of challenged call `id`'s settlement: refunds the call's amount to
	/// the client unless `upheld`; pays the settlement if no other call of it is disputed
	/// and its window has ended, else lists it again at its window's end.
	fn end_dispute(id: RequestId, upheld: bool) -> bool {
		let Some(opened) = OpenedCalls::<T>::take(id) else { return false };
		let (channel, index) = (opened.channel, opened.index);
		OpenedLeaves::<T>::remove((channel, index, opened.position));
		let Some(mut held) = HeldSettlements::<T>::get(channel, index) else { return false };
		if !upheld {
			let total = held.paid.saturating_add(held.protocol_fee);
			let refund: BalanceOf<T> = opened.call.amount.unique_saturated_into();
			let refund = refund.min(total);
			// The refund comes out of both shares in their proportion.
			let fee_cut = Perbill::from_rational(refund, total) * held.protocol_fee;
			held.protocol_fee = held.protocol_fee.saturating_sub(fee_cut);
			held.paid = held.paid.saturating_sub(refund.saturating_sub(fee_cut));
			let refunded = T::Currency::release(
				&HoldReason::ChannelDeposit.into(),
				&held.client,
				refund,
				Precision::BestEffort,
			)
			.unwrap_or_default();
			Self::deposit_event(Event::CallRefunded { id, channel, index, refund: refunded });
		}
		let disputes = Disputes::<T>::get(channel, index).unwrap_or_default().saturating_sub(1);
		let final_at = held.final_at;
		HeldSettlements::<T>::insert(channel, index, held);
		if disputes > 0 {
			Disputes::<T>::insert(channel, index, disputes);
			return true;
		}
		Disputes::<T>::remove(channel, index);
		if frame_system::Pallet::<T>::block_number() >= final_at {
			Self::release_held(channel, index);
		} else {
			WindowEnds::<T>::insert(final_at, (channel, index), ());
		}
		true
	}
}

impl<T: Config> HeldResults<T::AccountId, BalanceOf<T>> for Pallet<T> {
	/// A challenged call while its settlement is held: its node, the channel's client,
	/// what it was charged (no verification surcharge on the direct path), its leaf's hash
	/// as subject and its settlement's window.
	fn held(id: RequestId) -> Option<HeldResult<T::AccountId, BalanceOf<T>>> {
		let opened = OpenedCalls::<T>::get(id)?;
		let held = HeldSettlements::<T>::get(opened.channel, opened.index)?;
		Some(HeldResult {
			node: opened.node,
			operator: held.operator,
			client: held.client,
			model: opened.model,
			mode: Self::call_mode(&opened.call)?,
			price: opened.call.amount.unique_saturated_into(),
			surcharge: Zero::zero(),
			subject: opened.call.hash(),
			final_at: held.final_at.unique_saturated_into(),
			provable: false,
			same_hardware: T::Models::checked_on_same_hardware(opened.model),
		})
	}

	/// The call's request, by its digest in the serving node's store, and the answer's
	/// digest.
	fn to_check(id: RequestId) -> Option<ToCheck> {
		let opened = OpenedCalls::<T>::get(id)?;
		HeldSettlements::<T>::get(opened.channel, opened.index)?;
		Some(ToCheck {
			model_hash: opened.call.model_hash,
			input: CheckInput::Call { digest: opened.call.call_digest },
			output_hash: opened.call.response_digest,
			output: None,
		})
	}

	/// Direct calls are refereed by committees: no proof.
	fn verify_proof(_: RequestId, _: &[u8], _: &[u8]) -> bool {
		false
	}

	/// Keeps the call's settlement held past its window until the case ends.
	fn dispute(id: RequestId) -> bool {
		let Some(opened) = OpenedCalls::<T>::get(id) else { return false };
		let (channel, index) = (opened.channel, opened.index);
		let Some(held) = HeldSettlements::<T>::get(channel, index) else { return false };
		if frame_system::Pallet::<T>::block_number() >= held.final_at {
			return false;
		}
		WindowEnds::<T>::remove(held.final_at, (channel, index));
		Disputes::<T>::mutate(channel, index, |count| {
			*count = Some(count.unwrap_or_default().saturating_add(1))
		});
		true
	}

	/// Nothing: a direct call pays no verification surcharge.
	fn pay_surcharge(_: RequestId, _: &T::AccountId, _: BalanceOf<T>) -> BalanceOf<T> {
		Zero::zero()
	}

	fn conclude(id: RequestId, upheld: bool) -> bool {
		Self::end_dispute(id, upheld)
	}
}
