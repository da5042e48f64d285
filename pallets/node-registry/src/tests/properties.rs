use super::*;

/// Random sequences of bonding operations: issuance is conserved, every bond is exactly
/// what is held, and every bond can be recovered.
#[test]
fn bonds_are_conserved_under_random_operations() {
	for seed in 0..64u64 {
		ExtBuilder::default().build_and_execute(|| {
			let issuance = Balances::total_issuance();
			let mut state =
				seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
			let mut next = |bound: u64| {
				state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
				(state >> 33) % bound
			};
			for step in 0..40 {
				run_to(2 + step);
				let node = 1 + next(3) as u8;
				let operator = if next(2) == 0 { ALICE } else { BOB };
				let origin = RuntimeOrigin::signed(operator);
				let _ = match next(6) {
					0 => register(node, operator, 1_000 + next(5_000) as Balance),
					1 => Registry::bond_extra(origin, key(node), next(2_000) as Balance),
					2 => {
						<Registry as NodeSlashing<Balance>>::slash(
							&key(node),
							next(3_000) as Balance,
						);
						Ok(())
					},
					3 => Registry::unregister(origin, key(node)),
					4 => Registry::withdraw_unbonded(origin, key(node)),
					_ => Registry::revoke_node(RuntimeOrigin::root(), key(node)),
				};
				assert_eq!(Balances::total_issuance(), issuance);
				for operator in [ALICE, BOB] {
					let bonds: Balance = Nodes::<Test>::iter_values()
						.filter(|n| n.operator == operator)
						.map(|n| n.bond)
						.sum();
					assert_eq!(
						Balances::balance_on_hold(&HoldReason::NodeBond.into(), &operator),
						bonds
					);
				}
			}
			// Every node can exit and every bond comes back.
			run_to(100);
			for (node, record) in Nodes::<Test>::iter().collect::<Vec<_>>() {
				let _ = Registry::unregister(RuntimeOrigin::signed(record.operator), node);
			}
			run_to(100 + UnbondingPeriod::get());
			for (node, record) in Nodes::<Test>::iter().collect::<Vec<_>>() {
				assert_ok!(Registry::withdraw_unbonded(
					RuntimeOrigin::signed(record.operator),
					node
				));
			}
			for operator in [ALICE, BOB] {
				assert_eq!(Balances::balance_on_hold(&HoldReason::NodeBond.into(), &operator), 0);
			}
			assert_eq!(Balances::total_issuance(), issuance);
		});
	}
}
