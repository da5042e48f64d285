use super::*;

/// Random sequences of publish / deprecate / remove, request, result, batch, cannot-serve,
/// timeout, heartbeat, slash and exit, half of them with results held through a challenge
/// window and a verification surcharge: total issuance is conserved, no request settles
/// twice, every fee, surcharge and deposit held is accounted for, and after the last
/// deadline and window nothing stays held.
#[test]
fn issuance_is_conserved_and_every_fee_is_paid_or_returned() {
	for seed in 0..48u64 {
		build_and_execute(|| {
			if seed % 2 == 1 {
				set_challenge_window(3);
				set_surcharge(50_000_000);
			}
			let issuance = Balances::total_issuance();
			let mut state =
				seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
			let mut next = |bound: u64| {
				state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
				(state >> 33) % bound
			};
			for n in 1..=4 {
				register_node(n, 1_000 + next(4_000) as Balance);
			}
			let mut settled = std::collections::BTreeSet::new();
			for step in 0..60u64 {
				run_to(2 + step);
				let requester = if next(2) == 0 { ALICE } else { BOB };
				let _ = match next(9) {
					0 | 1 => request_with(
						requester,
						inline(&[next(255) as u8; 4]),
						VerificationMode::Vanilla,
						SettlementMode::Individual,
					),
					2 => request_with(
						requester,
						stored(next(255) as u8),
						VerificationMode::Vanilla,
						SettlementMode::Batch,
					),
					3 => {
						// Some node answers one of its requests, maybe not its own.
						let open: Vec<RequestId> = Requests::<Test>::iter_keys().collect();
						match open.get(next(open.len().max(1) as u64) as usize) {
							Some(id)
								if Requests::<Test>::get(id).unwrap().settlement
									== SettlementMode::Individual =>
							{
								let node =
									if next(4) == 0 { 1 + next(4) as u8 } else { assigned(*id) };
								let result = submit(*id, node);
								if result.is_ok() {
									assert!(settled.insert(*id), "request {id} settled twice");
								}
								result
							},
							_ => Ok(()),
						}
					},
					4 => {
						let node = 1 + next(4) as u8;
						let leaves: Vec<Leaf> = Assignments::<Test>::iter_prefix(key(node))
							.map(|(id, _)| id)
							.filter(|id| {
								Requests::<Test>::get(id).unwrap().settlement
									== SettlementMode::Batch
							})
							.map(|id| Leaf {
								request: id,
								input_hash: Requests::<Test>::get(id).unwrap().input_hash,
								output_hash: [1; 32],
							})
							.collect();
						let root = merkle::root(&leaves).unwrap_or_default();
						let signature = node_pair(node).sign(&opg_settlement::message::batch(
							&GENESIS_HASH,
							&root,
							leaves.len() as u32,
						));
						let ids: Vec<RequestId> = leaves.iter().map(|l| l.request).collect();
						let result = Inference::submit_batch(
							RuntimeOrigin::none(),
							BatchResult {
								node: key(node),
								leaves: BoundedVec::truncate_from(leaves),
							},
							signature,
						);
						if result.is_ok() {
							for id in ids {
								assert!(settled.insert(id), "request {id} settled twice");
							}
						}
						result
					},
					5 => {
						let n = 1 + next(4) as u8;
						NodeRegistry::heartbeat(RuntimeOrigin::signed(operator(n)), key(n))
					},
					8 => {
						// Some node declines one of the open requests, maybe not its own.
						let open: Vec<RequestId> = Requests::<Test>::iter_keys().collect();
						match open.get(next(open.len().max(1) as u64) as usize) {
							Some(id) => {
								let request = Requests::<Test>::get(id).unwrap();
								let node =
									if next(4) == 0 { 1 + next(4) as u8 } else { assigned(*id) };
								let reason = CannotServeReason::InputUnavailable;
								let (code, detail) = reason.code_and_detail();
								let message = opg_settlement::message::cannot_serve(
									&GENESIS_HASH,
									*id,
									&request.input_hash,
									code,
									&detail,
								);
								Inference::cannot_serve(
									RuntimeOrigin::none(),
									CannotServe { request: *id, node: key(node), reason },
									node_pair(node).sign(&message),
								)
							},
							None => Ok(()),
						}
					},
					6 => {
						// The owner publishes a new version, or deprecates or removes one.
						let versions: Vec<u32> = pallet_model_hub::Models::<Test>::iter_keys()
							.filter(|id| *id != MODEL)
							.collect();
						let version =
							versions.get(next(versions.len().max(1) as u64) as usize).copied();
						let owner = RuntimeOrigin::signed(OWNER);
						match (next(3), version) {
							(0, _) | (_, None) => {
								let mut spec =
									pallet_model_hub::Models::<Test>::get(MODEL).unwrap().spec;
								spec.version.patch = 1 + step as u16;
								ModelHub::publish(owner, spec, None)
							},
							(1, Some(id)) => ModelHub::deprecate(owner, id),
							(_, Some(id)) => ModelHub::remove(owner, id),
						}
					},
					_ => {
						let n = 1 + next(4) as u8;
						if next(3) == 0 {
							NodeRegistry::unregister(RuntimeOrigin::signed(operator(n)), key(n))
						} else {
							<NodeRegistry as pallet_node_registry::NodeSlashing<Balance>>::slash(
								&key(n),
								next(500) as Balance,
							);
							Ok(())
						}
					},
				};
				assert_eq!(Balances::total_issuance(), issuance);
				let open_fees: Balance = Requests::<Test>::iter_values()
					.filter(|r| r.requester == ALICE)
					.map(|r| r.fee + r.surcharge)
					.sum::<Balance>()
					+ HeldPayments::<Test>::iter_values()
						.filter(|p| p.requester == ALICE)
						.map(|p| p.fee + p.surcharge)
						.sum::<Balance>();
				assert_eq!(held(ALICE), open_fees);
				let deposits: Balance =
					pallet_model_hub::Models::<Test>::iter_values().map(|m| m.deposit).sum();
				let reason: RuntimeHoldReason = pallet_model_hub::HoldReason::ModelDeposit.into();
				assert_eq!(Balances::balance_on_hold(&reason, &OWNER), deposits);
			}
			// Every deadline passes: nothing stays held.
			run_to(2 + 60 + 20 * 3 + 1);
			assert_eq!(Requests::<Test>::iter().count(), 0);
			assert!(held(ALICE).is_zero() && held(BOB).is_zero());
			assert_eq!(Balances::total_issuance(), issuance);
		});
	}
}
