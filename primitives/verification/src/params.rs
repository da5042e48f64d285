//! The governance parameters of the game, and the bound they put on a case's life.

use crate::{BILLION, MAX_SEATS, OPG};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// What governance sets (the `policy` track); a case keeps the values it opened with, so
/// that a change never rewrites a game in progress. Durations are in blocks; fractions in
/// parts per billion ([`BILLION`]); amounts in the token's smallest unit.
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
pub struct Params {
	/// How long a result waits before it is final: its payment is held, and it may be
	/// sampled or challenged, until then.
	pub challenge_window: u32,
	/// The fraction of results drawn for re-execution.
	pub sample_rate: u32,
	/// Verifiers in a case's first committee.
	pub committee: u8,
	/// Verifiers in each later (escalation) committee.
	pub escalation: u8,
	/// Committees a case may seat before governance decides: the first plus escalations.
	pub rounds: u8,
	/// How long a committee has to commit to its verdicts.
	pub commit_period: u32,
	/// How long, after the commit period, it has to reveal them.
	pub reveal_period: u32,
	/// How long a node whose quantized result was disputed has to prove it (Groth16).
	pub proof_period: u32,
	/// How long governance has to decide a case before it ends undecided.
	pub governance_period: u32,
	/// What anyone challenging a result holds until the case ends.
	pub challenge_bond: u128,
	/// What the requester pays on top of the price, for verification.
	pub surcharge: u32,
	/// The fraction of a cheating node's bond slashed per incident …
	pub slash: u32,
	/// … but at most this much per incident …
	pub slash_cap: u128,
	/// … and at most this much per node per day ([`crate::payout()`]).
	pub daily_slash_cap: u128,
	/// The challenger's part of a slash; the verifiers that were right share the rest.
	pub challenger_share: u32,
	/// Taken from a verifier's bond when it does not reveal a verdict in time.
	pub no_reveal_penalty: u128,
	/// Taken from a verifier's bond when its revealed verdict is not the case's outcome.
	pub wrong_verdict_penalty: u128,
}

/// A mode's own challenge window and sample rate, where governance sets them apart from
/// [`Params::challenge_window`] and [`Params::sample_rate`] (which hold for every mode
/// without its own): TEE results, signed inside an attested enclave, may be trusted sooner
/// and sampled less than vanilla ones.
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
pub struct ModeParams {
	/// How long the mode's results wait before they are final.
	pub challenge_window: u32,
	/// The fraction of the mode's results drawn for re-execution.
	pub sample_rate: u32,
}

impl ModeParams {
	/// Checks a window of at least one block and a rate within the whole.
	pub fn validate(&self) -> Result<(), ParamsError> {
		if self.challenge_window == 0 {
			return Err(ParamsError::ZeroPeriod);
		}
		if self.sample_rate > BILLION {
			return Err(ParamsError::FractionAboveWhole);
		}
		Ok(())
	}
}

/// Why a set of parameters is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParamsError {
	/// A committee of no verifier, no round, or escalation rounds of no verifier.
	EmptyCommittee,
	/// The committees of all rounds need more than [`MAX_SEATS`] seats.
	TooManySeats,
	/// A period of zero blocks.
	ZeroPeriod,
	/// A fraction above the whole.
	FractionAboveWhole,
}

impl Params {
	/// The development chain's values: a window of 20 blocks (2 minutes at 6 s), 1 % of
	/// results sampled, 3 verifiers then 5, three rounds, 10-block phases.
	pub const DEV: Params = Params {
		challenge_window: 20,
		sample_rate: BILLION / 100,
		committee: 3,
		escalation: 5,
		rounds: 3,
		commit_period: 10,
		reveal_period: 10,
		proof_period: 20,
		governance_period: 14_400,
		challenge_bond: 10 * OPG,
		surcharge: BILLION / 20,
		slash: BILLION / 10,
		slash_cap: 100 * OPG,
		daily_slash_cap: 300 * OPG,
		challenger_share: BILLION / 2,
		no_reveal_penalty: OPG,
		wrong_verdict_penalty: 5 * OPG,
	};

	/// Checks what the game relies on: committees of at least one verifier whose seats fit
	/// [`MAX_SEATS`], no period of zero blocks, no fraction above the whole.
	pub fn validate(&self) -> Result<(), ParamsError> {
		if self.committee == 0 || self.rounds == 0 || (self.rounds > 1 && self.escalation == 0) {
			return Err(ParamsError::EmptyCommittee);
		}
		if self.seats() > MAX_SEATS {
			return Err(ParamsError::TooManySeats);
		}
		if [
			self.challenge_window,
			self.commit_period,
			self.reveal_period,
			self.proof_period,
			self.governance_period,
		]
		.contains(&0)
		{
			return Err(ParamsError::ZeroPeriod);
		}
		if [self.sample_rate, self.surcharge, self.slash, self.challenger_share]
			.iter()
			.any(|f| *f > BILLION)
		{
			return Err(ParamsError::FractionAboveWhole);
		}
		Ok(())
	}

	/// The seats of all rounds together.
	pub fn seats(&self) -> u32 {
		u32::from(self.committee)
			+ u32::from(self.rounds.saturating_sub(1)) * u32::from(self.escalation)
	}

	/// The most blocks a case stays open: every round's commit and reveal periods, then
	/// the longer of the proof and governance periods, and the block that ends the last.
	/// A case opened at block `b` and advanced at every deadline's next block
	/// ([`crate::case::Case::advance`]) has ended by block `b + longest_case()`, and
	/// whatever it held is released then.
	pub fn longest_case(&self) -> u64 {
		u64::from(self.rounds) * (u64::from(self.commit_period) + u64::from(self.reveal_period))
			+ u64::from(self.proof_period.max(self.governance_period))
			+ 1
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_development_values_are_valid() {
		assert_eq!(Params::DEV.validate(), Ok(()));
		assert_eq!(Params::DEV.seats(), 13);
	}

	/// Regression: the amounts were once written for 12 decimals, a millionth of what the
	/// documentation says on an 18-decimal token.
	#[test]
	fn the_development_amounts_are_whole_opg_of_eighteen_decimals() {
		assert_eq!(OPG, 1_000_000_000_000_000_000);
		assert_eq!(Params::DEV.challenge_bond, 10 * OPG);
		assert_eq!(Params::DEV.slash_cap, 100 * OPG);
		assert_eq!(Params::DEV.daily_slash_cap, 300 * OPG);
		assert_eq!(Params::DEV.no_reveal_penalty, OPG);
		assert_eq!(Params::DEV.wrong_verdict_penalty, 5 * OPG);
	}

	#[test]
	fn each_broken_rule_is_named() {
		let with = |f: fn(&mut Params)| {
			let mut p = Params::DEV;
			f(&mut p);
			p.validate()
		};
		assert_eq!(with(|p| p.committee = 0), Err(ParamsError::EmptyCommittee));
		assert_eq!(with(|p| p.rounds = 0), Err(ParamsError::EmptyCommittee));
		assert_eq!(with(|p| p.escalation = 0), Err(ParamsError::EmptyCommittee));
		assert_eq!(
			with(|p| {
				p.escalation = 0;
				p.rounds = 1
			}),
			Ok(())
		);
		assert_eq!(with(|p| p.rounds = 8), Err(ParamsError::TooManySeats));
		assert_eq!(with(|p| p.reveal_period = 0), Err(ParamsError::ZeroPeriod));
		assert_eq!(with(|p| p.challenge_window = 0), Err(ParamsError::ZeroPeriod));
		assert_eq!(with(|p| p.slash = BILLION + 1), Err(ParamsError::FractionAboveWhole));
		assert_eq!(with(|p| p.challenger_share = u32::MAX), Err(ParamsError::FractionAboveWhole));
	}

	#[test]
	fn a_modes_own_window_is_a_block_or_more_and_its_rate_within_the_whole() {
		let mode = ModeParams { challenge_window: 1, sample_rate: BILLION };
		assert_eq!(mode.validate(), Ok(()));
		assert_eq!(
			ModeParams { challenge_window: 0, ..mode }.validate(),
			Err(ParamsError::ZeroPeriod)
		);
		assert_eq!(
			ModeParams { sample_rate: BILLION + 1, ..mode }.validate(),
			Err(ParamsError::FractionAboveWhole)
		);
	}
}
