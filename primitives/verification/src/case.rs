//! One checked result, as a state machine.
//!
//! ```text
//!  open ──► Commit ──(all committed, or its deadline)──► Reveal ──(all revealed, or its deadline)──► tally
//!  tally, first round:   no verdict against the result and most seats valid ──► Upheld
//!                        any verdict against it ──► Proof (quantized models) or the next round
//!  tally, later rounds:  most seats one way ──► Upheld / Overturned  (a quantized model's still ──► Proof)
//!  no majority, or no one revealed ──► the next round (a new, larger committee), after the last ──► Governance
//!  Proof ──(the node's proof verified in time)──► Upheld, ──(deadline)──► Overturned
//!  Governance ──(decided in time)──► Upheld / Overturned, ──(deadline)──► Undecided
//! ```
//!
//! "Most seats" is more than half of the round's committee, not of those who revealed, so
//! that one verifier cannot decide while the others are silent. A honeypot (a result the
//! protocol planted, known to be wrong) ends as overturned at the tally of the round it is
//! known in: every verdict is judged against that. It is known from the start
//! ([`Case::open`]) or shown once no seat can still choose its verdict
//! ([`Case::expose`]: in a reveal phase, or awaiting a proof or governance). A phase's deadline is its last block for acting; the
//! phase ends at the next [`Case::advance`], and the next phase's deadline counts from
//! the passed one, so no case outlives [`Params::longest_case`].

use crate::{commitment, Params, Verdict, MAX_SEATS};
use alloc::vec::Vec;
use bounded_collections::{BoundedVec, ConstU32};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use opg_settlement::Hash;
use scale_info::TypeInfo;

/// Who settles a dispute the first committee could not agree on, by the model's kind.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Referee {
	/// Quantized-integer models: the node must produce a Groth16 proof of its output
	/// (the ZKML circuit of the model) before the proof deadline.
	Proof,
	/// Float models and language models: larger committees, then governance.
	Committee,
}

/// How a case ended.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Outcome {
	/// The result stands: the node is paid.
	Upheld,
	/// The result was wrong: the client is refunded and the node slashed.
	Overturned,
	/// Governance did not decide in time: everything held goes back, nobody is slashed.
	Undecided,
}

/// Where a case stands; every open phase has its last block.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Phase {
	/// The round's committee commits to its verdicts.
	Commit {
		/// The last block to commit.
		until: u64,
	},
	/// It reveals them.
	Reveal {
		/// The last block to reveal.
		until: u64,
	},
	/// The node must prove its quantized result.
	Proof {
		/// The last block to submit the proof.
		until: u64,
	},
	/// Governance decides.
	Governance {
		/// The last block to decide.
		until: u64,
	},
	/// Ended.
	Resolved(Outcome),
}

/// A verifier's seat in a round's committee.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Seat<V> {
	/// Its node key.
	pub verifier: V,
	/// The round it was drawn for.
	pub round: u8,
	/// Its commitment ([`crate::commitment`]), once made.
	pub commitment: Option<Hash>,
	/// Its verdict, once revealed.
	pub verdict: Option<Verdict>,
}

/// What a case holds until it ends ([`crate::payout()`] releases each of them).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Stakes {
	/// The client's payment for the result, held from the node.
	pub price: u128,
	/// The client's verification surcharge: the verifiers' pay.
	pub surcharge: u128,
	/// The challenger's bond; zero for a sampled result.
	pub challenge_bond: u128,
}

/// One result under check.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Case<V> {
	/// Its id: commitments name it.
	pub id: u64,
	/// The parameters it opened with.
	pub params: Params,
	/// Who settles a dispute.
	pub referee: Referee,
	/// Planted by the protocol, known to be wrong.
	pub honeypot: bool,
	/// What it holds.
	pub stakes: Stakes,
	/// The current round (0: the first committee).
	pub round: u8,
	/// Where it stands.
	pub phase: Phase,
	/// The committees of every round so far.
	pub seats: BoundedVec<Seat<V>, ConstU32<MAX_SEATS>>,
}

/// Why a call on a case changes nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CaseError {
	/// The parameters do not pass [`Params::validate`].
	InvalidParams,
	/// A committee larger than the round's size, or naming a verifier twice.
	InvalidCommittee,
	/// The case is not in the phase this call belongs to.
	WrongPhase,
	/// The phase's last block has passed.
	PastDeadline,
	/// The caller has no seat in the current round.
	NotSeated,
	/// The seat has already committed.
	AlreadyCommitted,
	/// The seat did not commit, so it cannot reveal.
	NotCommitted,
	/// The seat has already revealed.
	AlreadyRevealed,
	/// The verdict and salt are not what the seat committed to.
	RevealMismatch,
	/// Governance may decide upheld or overturned, not undecided.
	InvalidOutcome,
	/// The case is already known to be a honeypot.
	AlreadyExposed,
}

/// What a call or [`Case::advance`] changed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
	/// Nothing beyond the call itself.
	Unchanged,
	/// The committee reveals now.
	Revealing,
	/// A new committee was seated for this round.
	Escalated(u8),
	/// The node must prove its result.
	AwaitingProof,
	/// Governance decides.
	AwaitingGovernance,
	/// The case ended.
	Resolved(Outcome),
}

impl<V: Clone + PartialEq + Encode> Case<V> {
	/// Opens case `id` at block `now` with the first `committee` (at most
	/// `params.committee` distinct verifiers). With no verifier at all, governance decides.
	pub fn open(
		id: u64,
		now: u64,
		params: Params,
		referee: Referee,
		honeypot: bool,
		stakes: Stakes,
		committee: Vec<V>,
	) -> Result<Self, CaseError> {
		params.validate().map_err(|_| CaseError::InvalidParams)?;
		let mut case = Case {
			id,
			params,
			referee,
			honeypot,
			stakes,
			round: 0,
			phase: Phase::Governance { until: now.saturating_add(params.governance_period.into()) },
			seats: BoundedVec::new(),
		};
		if !committee.is_empty() {
			case.seat(0, committee, params.committee)?;
			case.phase = Phase::Commit { until: now.saturating_add(params.commit_period.into()) };
		}
		Ok(case)
	}

	fn seat(&mut self, round: u8, committee: Vec<V>, size: u8) -> Result<(), CaseError> {
		if committee.len() > usize::from(size) {
			return Err(CaseError::InvalidCommittee);
		}
		let mut seats = self.seats.clone();
		for verifier in committee {
			if seats.iter().any(|seat| seat.verifier == verifier) {
				return Err(CaseError::InvalidCommittee);
			}
			seats
				.try_push(Seat { verifier, round, commitment: None, verdict: None })
				.map_err(|_| CaseError::InvalidCommittee)?;
		}
		self.seats = seats;
		Ok(())
	}

	/// The current round's seats.
	pub fn current(&self) -> impl Iterator<Item = &Seat<V>> {
		self.seats.iter().filter(move |seat| seat.round == self.round)
	}

	fn current_seat(&mut self, verifier: &V) -> Result<&mut Seat<V>, CaseError> {
		let round = self.round;
		self.seats
			.iter_mut()
			.find(|seat| seat.round == round && seat.verifier == *verifier)
			.ok_or(CaseError::NotSeated)
	}

	/// How the case ended, once it has.
	pub fn outcome(&self) -> Option<Outcome> {
		match self.phase {
			Phase::Resolved(outcome) => Some(outcome),
			_ => None,
		}
	}

	/// The last block of the current phase; `None` once resolved.
	pub fn deadline(&self) -> Option<u64> {
		match self.phase {
			Phase::Commit { until }
			| Phase::Reveal { until }
			| Phase::Proof { until }
			| Phase::Governance { until } => Some(until),
			Phase::Resolved(_) => None,
		}
	}

	/// `verifier` commits to its verdict. When the whole committee has, it reveals at once.
	pub fn commit(&mut self, now: u64, verifier: &V, hash: Hash) -> Result<Step, CaseError> {
		let Phase::Commit { until } = self.phase else { return Err(CaseError::WrongPhase) };
		if now > until {
			return Err(CaseError::PastDeadline);
		}
		let seat = self.current_seat(verifier)?;
		if seat.commitment.is_some() {
			return Err(CaseError::AlreadyCommitted);
		}
		seat.commitment = Some(hash);
		if self.current().all(|seat| seat.commitment.is_some()) {
			self.phase =
				Phase::Reveal { until: now.saturating_add(self.params.reveal_period.into()) };
			return Ok(Step::Revealing);
		}
		Ok(Step::Unchanged)
	}

	/// `verifier` reveals the verdict and salt it committed to. When every seat that
	/// committed has revealed, the next [`Case::advance`] tallies at once.
	pub fn reveal(
		&mut self,
		now: u64,
		verifier: &V,
		verdict: Verdict,
		salt: &[u8; 32],
	) -> Result<(), CaseError> {
		let Phase::Reveal { until } = self.phase else { return Err(CaseError::WrongPhase) };
		if now > until {
			return Err(CaseError::PastDeadline);
		}
		let id = self.id;
		let seat = self.current_seat(verifier)?;
		let Some(committed) = seat.commitment else { return Err(CaseError::NotCommitted) };
		if seat.verdict.is_some() {
			return Err(CaseError::AlreadyRevealed);
		}
		if commitment(id, verifier, verdict, salt) != committed {
			return Err(CaseError::RevealMismatch);
		}
		seat.verdict = Some(verdict);
		Ok(())
	}

	/// The node's Groth16 proof of its result was verified (by the caller, against the
	/// model's key and the result's committed input and output): the result stands.
	pub fn proof_accepted(&mut self, now: u64) -> Result<Step, CaseError> {
		let Phase::Proof { until } = self.phase else { return Err(CaseError::WrongPhase) };
		if now > until {
			return Err(CaseError::PastDeadline);
		}
		self.phase = Phase::Resolved(Outcome::Upheld);
		Ok(Step::Resolved(Outcome::Upheld))
	}

	/// Governance decides the case.
	pub fn decide(&mut self, now: u64, outcome: Outcome) -> Result<Step, CaseError> {
		let Phase::Governance { until } = self.phase else { return Err(CaseError::WrongPhase) };
		if now > until {
			return Err(CaseError::PastDeadline);
		}
		if outcome == Outcome::Undecided {
			return Err(CaseError::InvalidOutcome);
		}
		self.phase = Phase::Resolved(outcome);
		Ok(Step::Resolved(outcome))
	}

	/// The protocol shows that the case's result was planted, known to be wrong (a
	/// honeypot), so that the verifiers that signed it valid without checking are caught.
	/// Only once no seat can still choose its verdict: in a reveal phase (its tally then
	/// overturns the result; a seat that committed and hides its verdict is taken to have
	/// signed it valid), or while the case awaits a proof or governance (it ends overturned
	/// at once). Never while a committee commits: a seat could still change its verdict.
	pub fn expose(&mut self, now: u64) -> Result<Step, CaseError> {
		if self.honeypot {
			return Err(CaseError::AlreadyExposed);
		}
		match self.phase {
			Phase::Reveal { until } | Phase::Proof { until } | Phase::Governance { until }
				if now > until =>
			{
				Err(CaseError::PastDeadline)
			},
			Phase::Reveal { .. } => {
				self.honeypot = true;
				Ok(Step::Unchanged)
			},
			Phase::Proof { .. } | Phase::Governance { .. } => {
				self.honeypot = true;
				Ok(self.resolve(Outcome::Overturned))
			},
			Phase::Commit { .. } | Phase::Resolved(_) => Err(CaseError::WrongPhase),
		}
	}

	/// Ends the phases whose work is done or whose deadline has passed by block `now`.
	/// `draw(round, size)` seats the next committee when the case escalates: up to `size`
	/// verifiers not already seated (fewer, or none: then governance decides).
	pub fn advance(&mut self, now: u64, draw: impl FnOnce(u8, u8) -> Vec<V>) -> Step {
		match self.phase {
			Phase::Commit { until } if now > until => {
				if self.current().any(|seat| seat.commitment.is_some()) {
					self.phase = Phase::Reveal {
						until: until.saturating_add(self.params.reveal_period.into()),
					};
					Step::Revealing
				} else {
					self.next_round(until, draw)
				}
			},
			Phase::Reveal { until } => {
				let all_revealed = self
					.current()
					.filter(|seat| seat.commitment.is_some())
					.all(|seat| seat.verdict.is_some());
				if now > until {
					self.tally(until, draw)
				} else if all_revealed {
					self.tally(now, draw)
				} else {
					Step::Unchanged
				}
			},
			Phase::Proof { until } if now > until => self.resolve(Outcome::Overturned),
			Phase::Governance { until } if now > until => self.resolve(Outcome::Undecided),
			_ => Step::Unchanged,
		}
	}

	fn resolve(&mut self, outcome: Outcome) -> Step {
		self.phase = Phase::Resolved(outcome);
		Step::Resolved(outcome)
	}

	/// Counts the current round's verdicts at block `at` (the reveal deadline, or the
	/// block the last verdict came in).
	fn tally(&mut self, at: u64, draw: impl FnOnce(u8, u8) -> Vec<V>) -> Step {
		if self.honeypot {
			return self.resolve(Outcome::Overturned);
		}
		let seats = self.current().count();
		let count = |verdict| self.current().filter(|seat| seat.verdict == Some(verdict)).count();
		let (valid, invalid) = (count(Verdict::Valid), count(Verdict::Invalid));
		let majority = |votes: usize| votes * 2 > seats;
		if invalid > 0 && (self.round == 0 || self.referee == Referee::Proof) {
			return match self.referee {
				Referee::Proof => {
					self.phase =
						Phase::Proof { until: at.saturating_add(self.params.proof_period.into()) };
					Step::AwaitingProof
				},
				Referee::Committee => self.next_round(at, draw),
			};
		}
		if majority(valid) && (self.round > 0 || invalid == 0) {
			return self.resolve(Outcome::Upheld);
		}
		if majority(invalid) {
			return self.resolve(Outcome::Overturned);
		}
		self.next_round(at, draw)
	}

	/// Seats the next committee from block `at`, or hands the case to governance.
	fn next_round(&mut self, at: u64, draw: impl FnOnce(u8, u8) -> Vec<V>) -> Step {
		let round = self.round.saturating_add(1);
		if round < self.params.rounds {
			let size = self.params.escalation;
			let committee: Vec<V> = draw(round, size)
				.into_iter()
				.filter(|verifier| self.seats.iter().all(|seat| seat.verifier != *verifier))
				.take(usize::from(size))
				.collect();
			if !committee.is_empty() && self.seat(round, committee, size).is_ok() {
				self.round = round;
				self.phase =
					Phase::Commit { until: at.saturating_add(self.params.commit_period.into()) };
				return Step::Escalated(round);
			}
		}
		self.phase =
			Phase::Governance { until: at.saturating_add(self.params.governance_period.into()) };
		Step::AwaitingGovernance
	}
}
