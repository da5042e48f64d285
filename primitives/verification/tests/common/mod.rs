//! What the tests share: verifiers as small numbers, their salts and commitments.

#![allow(dead_code)]

use opg_verification::*;

/// The salt verifier `v` uses.
pub fn salt(v: u8) -> [u8; 32] {
	[v.wrapping_add(100); 32]
}

/// Verifier `v`'s commitment to `verdict` in case `id`.
pub fn committed(id: u64, v: u8, verdict: Verdict) -> [u8; 32] {
	commitment(id, &v, verdict, &salt(v))
}

/// Short periods: commit 2, reveal 2, proof 3, governance 5.
pub fn params() -> Params {
	Params {
		challenge_window: 5,
		commit_period: 2,
		reveal_period: 2,
		proof_period: 3,
		governance_period: 5,
		..Params::DEV
	}
}

/// A price of 1,000, a surcharge of 50, and `bond` from a challenger.
pub fn stakes(bond: u128) -> Stakes {
	Stakes { price: 1_000, surcharge: 50, challenge_bond: bond }
}

/// Every seat of the current round commits to and reveals its verdict in `verdicts` (None:
/// stays silent), each on the last block its phase allows, then the case advances; the
/// new committee of an escalation is verifiers `next..`.
pub fn vote(case: &mut Case<u8>, verdicts: &[Option<Verdict>], next: u8) -> Step {
	let seats: Vec<u8> = case.current().map(|s| s.verifier).collect();
	assert_eq!(seats.len(), verdicts.len());
	let Phase::Commit { until } = case.phase else { panic!("{:?}", case.phase) };
	let draw = |_round: u8, size: u8| (next..next + size).collect();
	if verdicts.iter().all(Option::is_none) {
		// Nobody committed: the round ends with its commit period.
		return case.advance(until + 1, draw);
	}
	for (v, verdict) in seats.iter().zip(verdicts) {
		if let Some(verdict) = verdict {
			case.commit(until, v, committed(case.id, *v, *verdict)).unwrap();
		}
	}
	if !matches!(case.phase, Phase::Reveal { .. }) {
		// The silent keep the committee from revealing early: the commit period ends.
		assert_eq!(case.advance(until + 1, |_, _| vec![]), Step::Revealing);
	}
	let Phase::Reveal { until } = case.phase else { panic!("{:?}", case.phase) };
	for (v, verdict) in seats.iter().zip(verdicts) {
		if let Some(verdict) = verdict {
			case.reveal(until, v, *verdict, &salt(*v)).unwrap();
		}
	}
	case.advance(until, draw)
}

/// The payout of a resolved case with every bond at 10⁶ and nothing slashed earlier today.
pub fn paid(case: &Case<u8>) -> Payout<u8> {
	payout(case, 1_000_000, 0, |_| 1_000_000).expect("resolved")
}
