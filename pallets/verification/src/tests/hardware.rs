//! Which verifiers check a result: those of its node's hardware when its model's results
//! differ by device (a language model's, a float model's judged by its bytes), unless none
//! of them can be drawn.

use super::*;
use crate::{CaseOf, Parameters};
use opg_primitives::HardwareClass::Gpu;
use opg_verification::{Params, Verdict, BILLION};

fn always_sampled() {
	Parameters::<Test>::put(Params { sample_rate: BILLION, ..Params::DEV });
}

/// Node 1 serves on a GPU; verifiers 11 and 12 (operators 11, 12) and 16 (operator 15) too,
/// the others (13, 14, 15) on CPUs.
fn gpu_node_and_three_gpu_verifiers() {
	for n in [1, 11, 12, 16] {
		set_hardware(n, Gpu);
	}
}

#[test]
fn a_result_checked_on_its_nodes_hardware_seats_only_verifiers_of_that_hardware() {
	check(|| {
		always_sampled();
		gpu_node_and_three_gpu_verifiers();
		hold_same_hardware_result(7, node(1));
		run_to(3);
		let case = CaseOf::<Test>::get(7).expect("sampled");
		let mut seats = committee(case);
		seats.sort();
		assert_eq!(seats, vec![11, 12, 16], "the three GPU verifiers, never a CPU's");
	});
}

#[test]
fn its_escalation_draws_only_from_the_same_hardware() {
	check(|| {
		always_sampled();
		set_hardware(1, Gpu);
		// Four GPU verifiers of four operators: three seated first, one left to escalate to.
		for n in 11..=14 {
			set_hardware(n, Gpu);
		}
		hold_same_hardware_result(7, node(1));
		run_to(3);
		let case = CaseOf::<Test>::get(7).unwrap();
		let first = committee(case);
		assert_eq!(first.len(), 3);
		vote(case, Verdict::Invalid);
		let second = committee(case);
		let [only] = second[..] else { panic!("one GPU operator left: {second:?}") };
		assert!((11..=14).contains(&only) && !first.contains(&only), "never 15's or 16's CPU");
		vote(case, Verdict::Invalid);
		assert_eq!(held(7).ended, Some(false), "overturned by the GPU verifiers alone");
	});
}

#[test]
fn a_result_no_verifier_of_its_hardware_can_check_is_checked_by_the_others_as_before() {
	check(|| {
		always_sampled();
		// The node is on a GPU; every verifier of model 1 on a CPU.
		set_hardware(1, Gpu);
		hold_same_hardware_result(7, node(1));
		run_to(3);
		let case =
			CaseOf::<Test>::get(7).expect("declaring a class nobody verifies on hides nothing");
		assert_eq!(committee(case).len(), 3);
	});
}

#[test]
fn a_node_whose_own_operator_alone_verifies_on_its_hardware_is_checked_by_the_others() {
	check(|| {
		always_sampled();
		// Node 1 and its operator's own verifier, node 2, on GPUs; every other on a CPU.
		set_hardware(1, Gpu);
		add_node(2, 1, 1_000_000, vec![1]);
		set_hardware(2, Gpu);
		hold_same_hardware_result(7, node(1));
		run_to(3);
		let case = CaseOf::<Test>::get(7).expect("sampled");
		let seats = committee(case);
		assert_eq!(seats.len(), 3);
		assert!(!seats.contains(&2), "never its own operator's verifier");
	});
}

#[test]
fn a_result_any_device_computes_alike_is_checked_by_verifiers_of_any_hardware() {
	check(|| {
		always_sampled();
		gpu_node_and_three_gpu_verifiers();
		// Five operators' verifiers, three on GPUs: a quantized model's result may seat a CPU.
		let mut seated = std::collections::BTreeSet::new();
		for id in 0..20 {
			hold_result(id, node(1));
		}
		run_to(3);
		for id in 0..20 {
			seated.extend(committee(CaseOf::<Test>::get(id).expect("sampled")));
		}
		assert!(seated.iter().any(|n| [13, 14, 15].contains(n)), "CPUs drawn: {seated:?}");
		assert!(seated.iter().any(|n| [11, 12, 16].contains(n)), "GPUs drawn: {seated:?}");
	});
}

proptest::proptest! {
	#![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

	/// Over random declared hardware, randomness and models: a device-bound result's
	/// committee is all of its node's class whenever a verifier of that class can sit, and
	/// as large as those operators allow; otherwise, and for every other result, it is
	/// drawn among all, as large as the committee.
	#[test]
	fn a_committee_is_of_its_nodes_class_whenever_one_of_that_class_can_sit(
		gpus in proptest::collection::vec(proptest::prelude::any::<bool>(), 7),
		same_hardware in proptest::prelude::any::<bool>(),
		seed in proptest::prelude::any::<u8>(),
	) {
		new_test_ext().execute_with(|| {
			always_sampled();
			set_random(seed);
			let class = |gpu: bool| if gpu { Gpu } else { opg_primitives::HardwareClass::Cpu };
			set_hardware(1, class(gpus[0]));
			// Verifiers 11–16: node 16 is operator 15's second.
			let verifiers: Vec<(u8, u8, bool)> =
				(11..=16).zip(&gpus[1..]).map(|(n, gpu)| (n, n.min(15), *gpu)).collect();
			for (n, _, gpu) in &verifiers {
				set_hardware(*n, class(*gpu));
			}
			if same_hardware {
				hold_same_hardware_result(7, node(1));
			} else {
				hold_result(7, node(1));
			}
			run_to(3);
			let case = CaseOf::<Test>::get(7).expect("five operators verify model 1");
			let seats = committee(case);
			let mut operators_of_class: Vec<u8> = verifiers
				.iter()
				.filter(|(_, _, gpu)| *gpu == gpus[0])
				.map(|(_, operator, _)| *operator)
				.collect();
			operators_of_class.dedup();
			if same_hardware && !operators_of_class.is_empty() {
				for seat in &seats {
					let (_, _, gpu) = verifiers.iter().find(|(n, _, _)| n == seat).unwrap();
					proptest::prop_assert_eq!(*gpu, gpus[0], "seat {} of another class", seat);
				}
				proptest::prop_assert_eq!(seats.len(), operators_of_class.len().min(3));
			} else {
				proptest::prop_assert_eq!(seats.len(), 3);
			}
			Ok(())
		})?;
	}
}
