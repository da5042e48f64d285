//! A request's life: opened with its fee held and assigned to a bond-weighted node
//! (`submit_request`, `choose_node`), settled with payment to the node's operator and the
//! protocol's share (`settle`), closed (`close`), or passed to another node when its
//! deadline is missed (`handle_missed_deadline`) or its node declines it (`decline`), and
//! refunded after the last attempt (`end_unserved`).

use super::*;
use crate::pallet::*;
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{BalancedHold, MutateHold},
		tokens::{Fortitude, Precision, Restriction},
		OnUnbalanced,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, UniqueSaturatedInto, Zero};

impl<T: Config> Pallet<T> {
	/// Validates and opens a request (see [`Pallet::request`]); `given_commitment` is the
	/// caller's input commitment of a stored ZKML input.
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn submit_request(
		requester: T::AccountId,
		model: ModelId,
		input: InputOf<T>,
		mode: VerificationMode,
		settlement: SettlementMode,
		max_fee: BalanceOf<T>,
		window: BlockNumberFor<T>,
		given_commitment: Option<[u8; 32]>,
	) -> DispatchResult {
		let terms = T::Models::serving_terms(model).ok_or(Error::<T>::ModelUnavailable)?;
		ensure!(terms.modes.contains(mode.flag()), Error::<T>::ModeNotSupported);
		let commitment = match (&input, mode, settlement, given_commitment) {
			(Input::Inline(bytes), VerificationMode::Zkml, SettlementMode::Individual, None) => {
				Some(opg_zk_verifier::field_to_bytes(&opg_zk_verifier::input_commitment(bytes)))
			},
			(
				Input::Stored { .. },
				VerificationMode::Zkml,
				SettlementMode::Individual,
				Some(given),
			) => Some(given),
			(_, VerificationMode::Zkml, _, _) => {
				return Err(Error::<T>::ZkmlNeedsInlineInput.into())
			},
			_ => None,
		};
		let len = match &input {
			Input::Inline(bytes) => {
				ensure!(
					settlement != SettlementMode::Private,
					Error::<T>::PrivateInputMustBeStored
				);
				bytes.len() as u64
			},
			Input::Stored { size, .. } => {
				ensure!(*size > 0, Error::<T>::EmptyInput);
				*size
			},
		};
		// No node could answer an input of another length: refused here, it cannot cost a
		// node its bond later. A language model's chat request is any length up to its
		// schema's.
		ensure!(len > 0, Error::<T>::EmptyInput);
		ensure!(
			len == terms.input_len || (terms.variable_input && len < terms.input_len),
			Error::<T>::InputLengthMismatch
		);
		// The verification surcharge comes on top of the price; `max_fee` bounds both.
		let surcharge: BalanceOf<T> =
			fees::split(terms.price.unique_saturated_into(), T::Checks::surcharge(mode))
				.protocol
				.unique_saturated_into();
		ensure!(terms.price.saturating_add(surcharge) <= max_fee, Error::<T>::FeeAboveMax);
		ensure!(
			T::MinWindow::get() <= window && window <= T::MaxWindow::get(),
			Error::<T>::InvalidWindow
		);

		let id = NextRequestId::<T>::get();
		ensure!(!opg_primitives::is_direct_call(id), Error::<T>::NoRequestIdLeft);
		let node = Self::choose_node(id, model, mode, 1, window, &[])
			.ok_or(Error::<T>::NoNodeAvailable)?;
		let deadline = frame_system::Pallet::<T>::block_number().saturating_add(window);
		T::Currency::hold(
			&HoldReason::RequestFee.into(),
			&requester,
			terms.price.saturating_add(surcharge),
		)
		.map_err(|_| Error::<T>::InsufficientBalance)?;
		let deposit = T::RecordDeposit::get();
		T::Currency::hold(&HoldReason::RecordDeposit.into(), &requester, deposit)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		RecordDeposits::<T>::insert(id, (requester.clone(), deposit));
		Deadlines::<T>::insert(deadline, id, ());

		NextRequestId::<T>::put(id.saturating_add(1));
		Inputs::<T>::insert(id, &input);
		OpenRequestsPerModel::<T>::mutate(model, |open| {
			*open = Some(open.unwrap_or_default().saturating_add(1))
		});
		if let Some(commitment) = commitment {
			InputCommitments::<T>::insert(id, commitment);
		}
		Self::assign(node, id);
		Requests::<T>::insert(
			id,
			Request {
				requester: requester.clone(),
				model,
				model_hash: terms.artifact_hash,
				input_hash: input.hash(),
				mode,
				settlement,
				fee: terms.price,
				surcharge,
				window,
				node,
				deadline,
				attempts: 1,
			},
		);
		Self::deposit_event(Event::RequestSubmitted {
			request: id,
			requester,
			model,
			mode,
			fee: terms.price,
		});
		Self::deposit_event(Event::RequestAssigned { request: id, node, deadline });
		Ok(())
	}

	/// A bond-weighted choice among the nodes that can serve, other than `excluded`,
	/// with room for a request of `window` blocks: a node is assigned at most its
	/// declared jobs per block times the window, the most it can answer in time.
	pub(crate) fn choose_node(
		id: RequestId,
		model: ModelId,
		mode: VerificationMode,
		attempt: u32,
		window: BlockNumberFor<T>,
		excluded: &[NodeKey],
	) -> Option<NodeKey> {
		let window: u32 = window.unique_saturated_into();
		let candidates: Vec<Candidate<BalanceOf<T>>> = T::Nodes::candidates(&model, mode)
			.into_iter()
			.filter(|candidate| {
				!excluded.contains(&candidate.node)
					&& AssignedCount::<T>::get(candidate.node).unwrap_or_default()
						< candidate.jobs_per_block.saturating_mul(window)
			})
			.collect();
		let weights: Vec<u128> = candidates
			.iter()
			.map(|candidate| candidate.bond.unique_saturated_into())
			.collect();
		let seed = sp_io::hashing::blake2_256(
			&(b"opg/assign", Self::assignment_randomness(), id, attempt).encode(),
		);
		selection::pick(&weights, &seed).map(|index| candidates[index].node)
	}

	/// The randomness of this block's assignments: [`Config::Randomness`], or the parent
	/// hash where there is none (a block whose parent is genesis).
	pub fn assignment_randomness() -> T::Hash {
		use frame_support::traits::Randomness;
		T::Randomness::random(b"opg/assign")
			.0
			.unwrap_or_else(frame_system::Pallet::<T>::parent_hash)
	}

	/// The weight of a `mode` request of `input` among `listed` nodes of its model (the
	/// candidates read): its benchmark, by input length and candidate count.
	pub(crate) fn request_weight(
		mode: VerificationMode,
		input: &InputOf<T>,
		listed: u32,
	) -> Weight {
		let zk_commitment = match (mode, input) {
			(VerificationMode::Zkml, Input::Inline(bytes)) => {
				T::WeightInfo::input_commitment(bytes.len() as u32)
			},
			_ => Weight::zero(),
		};
		let listed = listed.min(T::MaxCandidates::get());
		match mode {
			VerificationMode::Tee => T::WeightInfo::request_tee(input.inline_len(), listed),
			_ => T::WeightInfo::request(input.inline_len(), listed),
		}
		.saturating_add(zk_commitment)
	}

	/// Assigns open request `id` to `node`.
	fn assign(node: NodeKey, id: RequestId) {
		Assignments::<T>::insert(node, id, ());
		AssignedCount::<T>::mutate(node, |count| {
			*count = Some(count.unwrap_or_default().saturating_add(1))
		});
	}

	/// Takes open request `id` from `node`.
	fn unassign(node: NodeKey, id: RequestId) {
		if Assignments::<T>::take(node, id).is_some() {
			AssignedCount::<T>::mutate_exists(node, |count| {
				*count = count.map(|count| count.saturating_sub(1)).filter(|count| *count > 0)
			});
		}
	}

	/// Handles up to `budget` missed deadlines of the blocks before `now`, from
	/// [`ExpiryCursor`] on, earliest first, and moves the cursor past the blocks it
	/// emptied; returns how many it handled and how many blocks' entries it read (at
	/// most `budget`).
	pub(crate) fn expire_missed(now: BlockNumberFor<T>, budget: u32) -> (u32, u32) {
		let mut block = ExpiryCursor::<T>::get();
		let (mut handled, mut blocks) = (0u32, 0u32);
		while block < now && handled < budget && blocks < budget {
			blocks += 1;
			let room = (budget - handled) as usize;
			let due: Vec<RequestId> = Deadlines::<T>::iter_key_prefix(block).take(room).collect();
			let emptied = due.len() < room;
			for id in due {
				Deadlines::<T>::remove(block, id);
				Self::handle_missed_deadline(id, now);
				handled += 1;
			}
			if !emptied {
				break;
			}
			block = block.saturating_add(One::one());
		}
		ExpiryCursor::<T>::put(block);
		(handled, blocks)
	}

	/// Pays for a checked result, or holds its payment through its challenge window
	/// ([`Config::Checks`]), and records it; the request is closed.
	pub(crate) fn settle(
		id: RequestId,
		request: RequestOf<T>,
		operator: &T::AccountId,
		output: Output<T::MaxInlineOutput>,
		output_hash: [u8; 32],
		settlement: Settlement,
	) -> DispatchResult {
		// Served: every node that declined it said it could not be.
		for node in Declines::<T>::take(id) {
			let penalty = T::Nodes::slash(&node, T::MissedDeadlinePenalty::get());
			Self::deposit_event(Event::DeclineContradicted { request: id, node, penalty });
		}
		let split =
			fees::split(request.fee.unique_saturated_into(), T::ProtocolFee::get().deconstruct());
		let protocol_fee: BalanceOf<T> = split.protocol.unique_saturated_into();
		let paid = request.fee.saturating_sub(protocol_fee);
		let window = T::Checks::challenge_window(request.mode);
		if window == 0 {
			Self::pay(&request.requester, operator, paid, protocol_fee)?;
			// Nothing checks a result paid at once: a surcharge (none is charged for these
			// modes) goes back.
			if !request.surcharge.is_zero() {
				T::Currency::release(
					&HoldReason::RequestFee.into(),
					&request.requester,
					request.surcharge,
					Precision::BestEffort,
				)
				.map_err(|_| Error::<T>::PaymentFailed)?;
			}
		} else {
			let until = frame_system::Pallet::<T>::block_number().saturating_add(window.into());
			HeldPayments::<T>::insert(
				id,
				HeldPayment {
					requester: request.requester.clone(),
					operator: operator.clone(),
					node: request.node,
					model: request.model,
					mode: request.mode,
					fee: request.fee,
					surcharge: request.surcharge,
					paid,
					protocol_fee,
					subject: opg_settlement::sha256(&(id, output_hash).encode()),
					final_at: until,
					disputed: false,
				},
			);
			WindowEnds::<T>::insert(until, id, ());
			if let Some(input) = Inputs::<T>::get(id) {
				HeldInputs::<T>::insert(id, input);
			}
			T::Checks::held(id);
			Self::deposit_event(Event::PaymentHeld { request: id, until });
		}
		Self::close(id, &request);
		Results::<T>::insert(
			id,
			Settled {
				node: request.node,
				mode: request.mode,
				model_hash: request.model_hash,
				input_hash: request.input_hash,
				output,
				paid,
				protocol_fee,
				at: frame_system::Pallet::<T>::block_number(),
				settlement,
			},
		);
		Self::deposit_event(Event::ResultAccepted {
			request: id,
			node: request.node,
			output_hash,
			paid,
			protocol_fee,
		});
		Ok(())
	}

	/// Pays `paid` of `requester`'s held fee to `operator` and `protocol_fee` of it to the
	/// treasury.
	fn pay(
		requester: &T::AccountId,
		operator: &T::AccountId,
		paid: BalanceOf<T>,
		protocol_fee: BalanceOf<T>,
	) -> DispatchResult {
		let reason = HoldReason::RequestFee.into();
		if !paid.is_zero() {
			T::Currency::transfer_on_hold(
				&reason,
				requester,
				operator,
				paid,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			)
			.map_err(|_| Error::<T>::PaymentFailed)?;
		}
		if !protocol_fee.is_zero() {
			let (credit, _) = T::Currency::slash(&reason, requester, protocol_fee);
			T::ProtocolFeeSink::on_unbalanced(credit);
		}
		Ok(())
	}

	/// Pays held results whose window ends at `now` and no case disputes; returns how
	/// many windows ended (each weighs at most a payment: `WeightInfo::end_windows`).
	pub(crate) fn end_windows(now: BlockNumberFor<T>) -> u32 {
		let due: Vec<RequestId> = WindowEnds::<T>::drain_prefix(now).map(|(id, ())| id).collect();
		for &id in &due {
			if HeldPayments::<T>::get(id).is_some_and(|held| !held.disputed) {
				Self::release_held(id, true);
			}
		}
		due.len().try_into().unwrap_or(u32::MAX)
	}

	/// Ends held result `id`: pays it (`upheld`) or refunds its requester. A payment that
	/// cannot be made (the operator's account refusing it) is refunded instead, so that no
	/// fee stays held. `false` if `id` is not held.
	pub(crate) fn release_held(id: RequestId, upheld: bool) -> bool {
		let Some(held) = HeldPayments::<T>::take(id) else { return false };
		WindowEnds::<T>::remove(held.final_at, id);
		HeldInputs::<T>::remove(id);
		// What the game did not pay of the surcharge (all of it for a result no case
		// checked) funds verification through the treasury.
		if !held.surcharge.is_zero() {
			let (credit, _) =
				T::Currency::slash(&HoldReason::RequestFee.into(), &held.requester, held.surcharge);
			T::ProtocolFeeSink::on_unbalanced(credit);
		}
		if upheld
			&& Self::pay(&held.requester, &held.operator, held.paid, held.protocol_fee).is_ok()
		{
			Self::deposit_event(Event::PaymentReleased {
				request: id,
				paid: held.paid,
				protocol_fee: held.protocol_fee,
			});
		} else {
			let refund = T::Currency::release(
				&HoldReason::RequestFee.into(),
				&held.requester,
				held.fee,
				Precision::BestEffort,
			)
			.unwrap_or_default();
			Self::deposit_event(Event::PaymentRefunded { request: id, refund });
		}
		true
	}

	/// Removes an open request and its assignment and deadline entry.
	pub(crate) fn close(id: RequestId, request: &RequestOf<T>) {
		Self::forget(id, request);
		Self::unassign(request.node, id);
		Deadlines::<T>::remove(request.deadline, id);
	}

	/// A justified cannot-serve notice: counts the decline, and passes the request to
	/// another node or ends it unserved.
	pub(crate) fn decline(notice: CannotServe, request: RequestOf<T>) {
		let id = notice.request;
		Declines::<T>::mutate(id, |nodes| {
			// One node per attempt, at most `MaxAttempts`: never full here.
			let _ = nodes.try_push(notice.node);
		});
		DeclineCounts::<T>::mutate(notice.node, |count| *count = count.saturating_add(1));
		Self::unassign(notice.node, id);
		Deadlines::<T>::remove(request.deadline, id);
		Self::deposit_event(Event::RequestDeclined {
			request: id,
			node: notice.node,
			reason: notice.reason,
		});
		let now = frame_system::Pallet::<T>::block_number();
		if !Self::pass_on(id, request.clone(), now) {
			Self::end_unserved(id, &request);
		}
	}

	/// Penalizes the node that let `id` pass its deadline (whose entry is gone), then
	/// passes the request to another node or, with none left or after the last attempt,
	/// refunds it.
	pub(crate) fn handle_missed_deadline(id: RequestId, now: BlockNumberFor<T>) {
		let Some(request) = Requests::<T>::get(id) else { return };
		let failed = request.node;
		let penalty = T::Nodes::slash(&failed, T::MissedDeadlinePenalty::get());
		Self::unassign(failed, id);
		Self::deposit_event(Event::DeadlineMissed { request: id, node: failed, penalty });
		if !Self::pass_on(id, request.clone(), now) {
			Self::end_unserved(id, &request);
		}
	}

	/// Passes the request to a node other than its current one (whose assignment and
	/// deadline entry are gone) and those that declined it, with a new window from `now`,
	/// if attempts remain and a node has room; whether it did.
	fn pass_on(id: RequestId, mut request: RequestOf<T>, now: BlockNumberFor<T>) -> bool {
		let failed = request.node;
		let mut excluded = Declines::<T>::get(id).into_inner();
		excluded.push(failed);
		if request.attempts < T::MaxAttempts::get() {
			let attempt = request.attempts + 1;
			let deadline = now.saturating_add(request.window);
			if let Some(node) = Self::choose_node(
				id,
				request.model,
				request.mode,
				attempt,
				request.window,
				&excluded,
			) {
				Deadlines::<T>::insert(deadline, id, ());
				request.node = node;
				request.deadline = deadline;
				request.attempts = attempt;
				Self::assign(node, id);
				Requests::<T>::insert(id, request);
				Self::deposit_event(Event::RequestAssigned { request: id, node, deadline });
				return true;
			}
		}
		false
	}

	/// Ends a request no node served (its assignment and deadline entry are gone):
	/// refunds its fee, but for [`Config::CannotServeFee`] if a node declined it.
	fn end_unserved(id: RequestId, request: &RequestOf<T>) {
		let declined = !Declines::<T>::take(id).is_empty();
		let reason = HoldReason::RequestFee.into();
		let handling_fee = match declined {
			true => T::CannotServeFee::get().min(request.fee),
			false => Zero::zero(),
		};
		if !handling_fee.is_zero() {
			let (credit, _) = T::Currency::slash(&reason, &request.requester, handling_fee);
			T::ProtocolFeeSink::on_unbalanced(credit);
		}
		let refunded = T::Currency::release(
			&reason,
			&request.requester,
			request.fee.saturating_sub(handling_fee).saturating_add(request.surcharge),
			Precision::BestEffort,
		)
		.unwrap_or_default();
		Self::forget(id, request);
		// No record is kept: its deposit comes back at once.
		Self::release_record_deposit(id);
		match declined {
			true => Self::deposit_event(Event::RequestUnservable {
				request: id,
				refunded,
				handling_fee,
			}),
			false => Self::deposit_event(Event::RequestExpired { request: id, refunded }),
		}
	}

	/// Returns request `id`'s record deposit to its requester; what came back.
	fn release_record_deposit(id: RequestId) -> BalanceOf<T> {
		let Some((requester, deposit)) = RecordDeposits::<T>::take(id) else {
			return Zero::zero();
		};
		T::Currency::release(
			&HoldReason::RecordDeposit.into(),
			&requester,
			deposit,
			Precision::BestEffort,
		)
		.unwrap_or_default()
	}

	/// Prunes the settled records of `requests` whose retention has passed (see
	/// [`Pallet::prune_records`]); the deposits returned. Fails, for the caller to roll
	/// back, at the first that is not prunable.
	pub(crate) fn prune(requests: &[RequestId]) -> Result<BalanceOf<T>, DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut released: BalanceOf<T> = Zero::zero();
		for id in requests {
			let record = Results::<T>::take(id).ok_or(Error::<T>::NotPrunable)?;
			ensure!(
				record.at.saturating_add(T::RecordRetention::get()) <= now,
				Error::<T>::NotPrunable
			);
			// A result whose payment is still held is what a case may still check.
			ensure!(!HeldPayments::<T>::contains_key(id), Error::<T>::NotPrunable);
			released = released.saturating_add(Self::release_record_deposit(*id));
			if let Settlement::InBatch { batch, .. } = record.settlement {
				let left = BatchRecordsLeft::<T>::get(batch).unwrap_or(1).saturating_sub(1);
				if left == 0 {
					BatchRecordsLeft::<T>::remove(batch);
					Batches::<T>::remove(batch);
				} else {
					BatchRecordsLeft::<T>::insert(batch, left);
				}
			}
		}
		Ok(released)
	}

	/// Removes an open request, its input and commitment, and counts it out of its
	/// model's open requests.
	fn forget(id: RequestId, request: &RequestOf<T>) {
		Requests::<T>::remove(id);
		Inputs::<T>::remove(id);
		InputCommitments::<T>::remove(id);
		Declines::<T>::remove(id);
		OpenRequestsPerModel::<T>::mutate_exists(request.model, |open| {
			*open = open.map(|count| count.saturating_sub(1)).filter(|count| *count > 0)
		});
	}

	/// A page of the open requests assigned to `node`, in storage order: at most `limit`
	/// (capped at [`MAX_ASSIGNMENTS_PAGE`]) after request `after` (from the first without).
	/// A client pages by passing the last id of one page as `after` of the next, until a
	/// page is shorter than its limit.
	pub fn assignments_page(node: NodeKey, after: Option<RequestId>, limit: u32) -> Vec<RequestId> {
		let limit = limit.min(MAX_ASSIGNMENTS_PAGE) as usize;
		match after {
			None => Assignments::<T>::iter_key_prefix(node).take(limit).collect(),
			Some(last) => {
				let from = Assignments::<T>::hashed_key_for(node, last);
				Assignments::<T>::iter_key_prefix_from(node, from).take(limit).collect()
			},
		}
	}

	/// What proves that a request was settled in a batch: its leaf, the inclusion
	/// proof, the root and the node's signature; `None` if it was not settled in a
	/// batch.
	pub fn batch_proof(request: RequestId) -> Option<BatchProof> {
		let Settlement::InBatch { batch, index } = Results::<T>::get(request)?.settlement else {
			return None;
		};
		let record = Batches::<T>::get(batch)?;
		let proof = merkle::proof(&record.leaves, index as usize)?;
		Some(BatchProof {
			batch,
			node: record.node,
			root: record.root,
			signature: record.signature,
			leaf: record.leaves[index as usize],
			proof,
		})
	}
}

/// A model is in use while a request for it is open: the model hub keeps its verifying
/// key until the last one settles or expires.
impl<T: Config> ModelUsage for Pallet<T> {
	fn in_use(model: ModelId) -> bool {
		OpenRequestsPerModel::<T>::contains_key(model)
	}
}

#[cfg(any(feature = "try-runtime", test))]
impl<T: Config> Pallet<T> {
	/// The invariants of open requests, checked after every block by `try-runtime` and the
	/// pallet's tests: every open request has its input, its assignment and its deadline
	/// entry (none before the expiry cursor), and is counted under its model and its
	/// node; every assignment, deadline entry, input,
	/// input commitment and decline belongs to an open request (a commitment to a ZKML
	/// one), and no node that declined a request is assigned it again; the fees held from
	/// each requester are exactly those of its open requests, and the record deposits those
	/// of its open requests and kept records; a batch is kept, and counted, while any of
	/// its records is.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let next = NextRequestId::<T>::get();
		let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut per_model: BTreeMap<ModelId, u32> = BTreeMap::new();
		let mut per_node: BTreeMap<NodeKey, u32> = BTreeMap::new();
		for (id, request) in Requests::<T>::iter() {
			*per_model.entry(request.model).or_default() += 1;
			ensure!(id < next, "an open request's id is below NextRequestId");
			ensure!(Inputs::<T>::contains_key(id), "an open request has its input");
			ensure!(
				Assignments::<T>::contains_key(request.node, id),
				"an open request is assigned to its node"
			);
			ensure!(
				Deadlines::<T>::contains_key(request.deadline, id),
				"an open request is listed at its deadline"
			);
			*per_node.entry(request.node).or_default() += 1;
			ensure!(
				(1..=T::MaxAttempts::get()).contains(&request.attempts),
				"an open request has had between one and MaxAttempts nodes"
			);
			ensure!(!Results::<T>::contains_key(id), "an open request is not settled");
			let total = held.entry(request.requester.clone()).or_insert_with(Zero::zero);
			*total = total.saturating_add(request.fee).saturating_add(request.surcharge);
		}
		for (id, payment) in HeldPayments::<T>::iter() {
			ensure!(Results::<T>::contains_key(id), "a held payment is of a settled result");
			ensure!(
				payment.disputed || WindowEnds::<T>::contains_key(payment.final_at, id),
				"an undisputed held payment is listed at its window's end"
			);
			let total = held.entry(payment.requester.clone()).or_insert_with(Zero::zero);
			*total = total.saturating_add(payment.fee).saturating_add(payment.surcharge);
		}
		for (block, id, ()) in WindowEnds::<T>::iter() {
			ensure!(
				HeldPayments::<T>::get(id).is_some_and(|held| held.final_at == block),
				"a window's end is of a held payment"
			);
		}
		for (requester, fees) in held {
			let on_hold = T::Currency::balance_on_hold(&HoldReason::RequestFee.into(), &requester);
			ensure!(
				on_hold == fees,
				"the fees held from a requester are those of its open requests and held payments"
			);
		}
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (id, (requester, deposit)) in RecordDeposits::<T>::iter() {
			ensure!(
				Requests::<T>::get(id).is_some_and(|request| request.requester == requester)
					|| Results::<T>::contains_key(id),
				"a record deposit belongs to an open request or a settled record"
			);
			let total = deposits.entry(requester).or_insert_with(Zero::zero);
			*total = total.saturating_add(deposit);
		}
		for id in Requests::<T>::iter_keys().chain(Results::<T>::iter_keys()) {
			ensure!(
				RecordDeposits::<T>::contains_key(id),
				"every open request and settled record has its deposit"
			);
		}
		for (requester, total) in deposits {
			let on_hold =
				T::Currency::balance_on_hold(&HoldReason::RecordDeposit.into(), &requester);
			ensure!(on_hold == total, "the record deposits held are those recorded");
		}
		let mut per_batch: BTreeMap<BatchId, u32> = BTreeMap::new();
		for (_, record) in Results::<T>::iter() {
			if let Settlement::InBatch { batch, .. } = record.settlement {
				*per_batch.entry(batch).or_default() += 1;
			}
		}
		ensure!(
			BatchRecordsLeft::<T>::iter().collect::<BTreeMap<_, _>>() == per_batch,
			"each batch counts its settled records still kept"
		);
		for batch in Batches::<T>::iter_keys() {
			ensure!(per_batch.contains_key(&batch), "a batch is kept while one of its records is");
		}
		ensure!(
			OpenRequestsPerModel::<T>::iter().collect::<BTreeMap<_, _>>() == per_model,
			"each model's count of open requests is the number of its open requests"
		);
		for (node, id, ()) in Assignments::<T>::iter() {
			ensure!(
				Requests::<T>::get(id).is_some_and(|request| request.node == node),
				"an assignment is of an open request to its node"
			);
		}
		ensure!(
			AssignedCount::<T>::iter().collect::<BTreeMap<_, _>>() == per_node,
			"each node's count of assigned requests is the number of its open requests"
		);
		let cursor = ExpiryCursor::<T>::get();
		for (deadline, id, ()) in Deadlines::<T>::iter() {
			ensure!(
				Requests::<T>::get(id).is_some_and(|request| request.deadline == deadline),
				"a deadline entry is of an open request due then"
			);
			ensure!(deadline >= cursor, "no deadline entry is left behind the expiry cursor");
		}
		for (id, nodes) in Declines::<T>::iter() {
			let request = Requests::<T>::get(id).ok_or("declines belong to an open request")?;
			ensure!(!nodes.contains(&request.node), "a node that declined is not assigned again");
		}
		for id in Inputs::<T>::iter_keys() {
			ensure!(Requests::<T>::contains_key(id), "an input belongs to an open request");
		}
		for id in HeldInputs::<T>::iter_keys() {
			ensure!(HeldPayments::<T>::contains_key(id), "a held input belongs to a held result");
		}
		for id in InputCommitments::<T>::iter_keys() {
			ensure!(
				Requests::<T>::get(id)
					.is_some_and(|request| request.mode == VerificationMode::Zkml),
				"an input commitment belongs to an open ZKML request"
			);
		}
		Ok(())
	}
}

impl<T: Config> HeldResults<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn held(id: RequestId) -> Option<HeldResult<T::AccountId, BalanceOf<T>>> {
		let held = HeldPayments::<T>::get(id)?;
		Some(HeldResult {
			node: held.node,
			operator: held.operator,
			client: held.requester,
			model: held.model,
			mode: held.mode,
			price: held.fee,
			surcharge: held.surcharge,
			subject: held.subject,
			final_at: held.final_at.unique_saturated_into(),
			provable: matches!(HeldInputs::<T>::get(id), Some(Input::Inline(_)))
				&& T::Models::prepared_verifying_key(held.model).is_some(),
			same_hardware: T::Models::checked_on_same_hardware(held.model),
		})
	}

	fn verify_proof(id: RequestId, output: &[u8], proof: &[u8]) -> bool {
		let (Some(held), Some(record)) = (HeldPayments::<T>::get(id), Results::<T>::get(id)) else {
			return false;
		};
		let claimed = match &record.output {
			Output::Inline(bytes) => opg_settlement::sha256(bytes),
			Output::Hash(hash) => *hash,
		};
		let Some(Input::Inline(input)) = HeldInputs::<T>::get(id) else { return false };
		let (Some(key), Some(length), Ok(genesis)) = (
			T::Models::prepared_verifying_key(held.model),
			T::Models::output_len(held.model),
			Self::genesis_hash(),
		) else {
			return false;
		};
		if opg_settlement::sha256(output) != claimed || output.len() as u64 != length {
			return false;
		}
		let statement = Statement {
			binding: opg_zk_verifier::job_binding(&genesis, id, &held.node.0),
			input_commitment: opg_zk_verifier::input_commitment(&input),
			output: output.to_vec(),
		};
		T::ProofVerifier::default().verify(&key, proof, &statement).is_ok()
	}

	fn to_check(id: RequestId) -> Option<ToCheck> {
		HeldPayments::<T>::get(id)?;
		let record = Results::<T>::get(id)?;
		let input = match HeldInputs::<T>::get(id)? {
			Input::Inline(bytes) => CheckInput::Inline(bytes.into_inner()),
			Input::Stored { hash, locator, .. } => {
				CheckInput::Stored { hash, locator: locator.into_inner() }
			},
		};
		let (output_hash, output) = match record.output {
			Output::Inline(bytes) => (opg_settlement::sha256(&bytes), Some(bytes.into_inner())),
			Output::Hash(hash) => (hash, None),
		};
		Some(ToCheck { model_hash: record.model_hash, input, output_hash, output })
	}

	fn dispute(id: RequestId) -> bool {
		let now = frame_system::Pallet::<T>::block_number();
		HeldPayments::<T>::mutate(id, |held| match held {
			Some(held) if !held.disputed && now < held.final_at => {
				held.disputed = true;
				true
			},
			_ => false,
		})
	}

	fn pay_surcharge(id: RequestId, to: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		HeldPayments::<T>::mutate(id, |held| {
			let Some(held) = held else { return Zero::zero() };
			let amount = amount.min(held.surcharge);
			let moved = T::Currency::transfer_on_hold(
				&HoldReason::RequestFee.into(),
				&held.requester,
				to,
				amount,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Polite,
			)
			.unwrap_or_default();
			held.surcharge = held.surcharge.saturating_sub(moved);
			moved
		})
	}

	fn conclude(id: RequestId, upheld: bool) -> bool {
		Self::release_held(id, upheld)
	}
}
