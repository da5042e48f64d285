//! What the verification pallet asks of the registry (`VerifierNodes`).

use super::*;

fn register_as(node: u8, operator: AccountId, roles: u8) {
	let mut capabilities = capabilities();
	if roles & Roles::INFERENCE == 0 {
		capabilities.jobs_per_block = 0;
	}
	assert_ok!(Registry::register(
		RuntimeOrigin::signed(operator),
		key(node),
		Roles(roles),
		capabilities,
		5_000,
		registration_signature(node, operator),
	));
}

fn verifiers(model: u32) -> Vec<NodeKey> {
	<Registry as VerifierNodes<AccountId, Balance>>::verifiers(&model)
		.into_iter()
		.map(|v| v.node)
		.collect()
}

fn candidates(model: u32) -> Vec<NodeKey> {
	<Registry as InferenceNodes<AccountId, Balance, u32>>::candidates(
		&model,
		VerificationMode::Vanilla,
	)
	.into_iter()
	.map(|c| c.node)
	.collect()
}

#[test]
fn verification_nodes_are_drawn_for_their_models_and_never_assigned_requests() {
	ExtBuilder::default().build_and_execute(|| {
		register_as(1, ALICE, Roles::INFERENCE);
		register_as(2, BOB, Roles::VERIFIER);
		register_as(3, BOB, Roles::INFERENCE | Roles::VERIFIER);
		assert_eq!(candidates(1), vec![key(1), key(3)]);
		assert_eq!(verifiers(2), vec![key(2), key(3)]);
		let verifier = &<Registry as VerifierNodes<AccountId, Balance>>::verifiers(&1)[0];
		assert_eq!((verifier.operator, verifier.bond), (BOB, 5_000));
		// Its declared hardware comes with it: it decides which results it may check.
		assert_eq!(verifier.hardware, HardwareClass::Gpu);
		let mut cpu = capabilities();
		cpu.hardware.class = HardwareClass::Cpu;
		cpu.jobs_per_block = 0;
		assert_ok!(Registry::update_capabilities(RuntimeOrigin::signed(BOB), key(2), cpu));
		let hardware = |node| <Registry as VerifierNodes<AccountId, Balance>>::hardware(&key(node));
		assert_eq!(
			(hardware(1), hardware(2), hardware(9)),
			(Some(HardwareClass::Gpu), Some(HardwareClass::Cpu), None)
		);
		let listed = <Registry as VerifierNodes<AccountId, Balance>>::verifiers(&2);
		let classes: Vec<_> = listed.iter().map(|v| (v.node, v.hardware)).collect();
		assert!(classes.contains(&(key(2), HardwareClass::Cpu)), "{classes:?}");
		assert!(classes.contains(&(key(3), HardwareClass::Gpu)), "{classes:?}");
		// Revoked or gone quiet: no longer drawn.
		assert_ok!(Registry::revoke_node(RuntimeOrigin::root(), key(2)));
		assert_eq!(verifiers(1), vec![key(3)]);
		run_to(2 + LivenessWindow::get());
		assert!(verifiers(1).is_empty());
	});
}

#[test]
fn a_payment_from_a_bond_moves_at_most_the_bond_to_its_receiver() {
	ExtBuilder::default().build_and_execute(|| {
		let issuance = Balances::total_issuance();
		register_as(2, BOB, Roles::VERIFIER);
		let nodes = |node| <Registry as VerifierNodes<AccountId, Balance>>::bond(&node);
		let pay = |amount| {
			<Registry as VerifierNodes<AccountId, Balance>>::pay_from_bond(&key(2), amount, &ALICE)
		};
		assert_eq!(pay(1_000), 1_000);
		assert_eq!(nodes(key(2)), 4_000);
		assert_eq!(Balances::balance(&ALICE), ENDOWMENT + 1_000);
		assert_eq!(Balances::balance_on_hold(&HoldReason::NodeBond.into(), &BOB), 4_000);
		assert_eq!(pay(10_000), 4_000);
		assert_eq!(pay(1), 0);
		assert_eq!(
			<Registry as VerifierNodes<AccountId, Balance>>::pay_from_bond(&key(9), 5, &ALICE),
			0
		);
		assert_eq!(<Registry as VerifierNodes<AccountId, Balance>>::operator(&key(2)), Some(BOB));
		assert_eq!(<Registry as VerifierNodes<AccountId, Balance>>::operator(&key(9)), None);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}
