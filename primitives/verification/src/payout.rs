//! Who gets what when a case ends.
//!
//! Everything is a [`Transfer`] out of one [`Source`]: the three amounts the case holds
//! ([`crate::Stakes`]) are each paid out in full, exactly once; the node's and the
//! verifiers' bonds lose at most what the rules below take, never more than they hold.
//! Nothing is created.
//!
//! - **Payment:** upheld, to the node; otherwise back to the client.
//! - **Surcharge:** shared equally by the verifiers that were right — revealed the
//!   outcome's verdict, in any round (undecided: every verifier that revealed); the
//!   division's remainder, or all of it if none was right, to the treasury.
//! - **Challenge bond:** upheld, to the node it accused (for its payment held and its
//!   time); otherwise back to the challenger.
//! - **Node bond** (overturned, not a honeypot): `slash` of it, at most `slash_cap`, and at
//!   most what is left of `daily_slash_cap` after what the node lost earlier that day.
//!   The challenger gets `challenger_share` of it; the right verifiers share the rest
//!   (remainder, or all if none, to the treasury).
//! - **Verifier bonds:** a verifier that did not reveal loses `no_reveal_penalty`; one
//!   whose verdict was not the outcome (upheld or overturned) loses
//!   `wrong_verdict_penalty` — on a honeypot, signing "valid" without checking is that
//!   mistake, and so is hiding a committed verdict once the honeypot is shown (the larger
//!   of the two penalties). Both to the treasury, which funds honeypots.

use crate::{share, Case, Outcome, Verdict};
use alloc::vec::Vec;

/// Who receives a transfer. For a honeypot, the pallet stands in the protocol for the
/// client and the node.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Party<V> {
	/// The requester of the result.
	Client,
	/// The checked node's operator.
	Node,
	/// Whoever challenged the result.
	Challenger,
	/// A verifier's operator.
	Verifier(V),
	/// The protocol's treasury.
	Treasury,
}

/// What a transfer is taken from.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Source<V> {
	/// The held payment ([`crate::Stakes::price`]).
	Payment,
	/// The held surcharge.
	Surcharge,
	/// The held challenge bond.
	ChallengeBond,
	/// The checked node's bond (a slash).
	NodeBond,
	/// A verifier's bond (a penalty).
	VerifierBond(V),
}

/// `amount` from `from` to `to`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Transfer<V> {
	/// Taken from.
	pub from: Source<V>,
	/// Given to.
	pub to: Party<V>,
	/// How much (never zero).
	pub amount: u128,
}

/// Every transfer a case's end makes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Payout<V> {
	/// In order: payment, surcharge, challenge bond, node bond, verifier bonds.
	pub transfers: Vec<Transfer<V>>,
}

impl<V> Default for Payout<V> {
	fn default() -> Self {
		Payout { transfers: Vec::new() }
	}
}

impl<V: PartialEq> Payout<V> {
	/// What is taken from `source` in all.
	pub fn taken(&self, source: &Source<V>) -> u128 {
		self.transfers.iter().filter(|t| t.from == *source).map(|t| t.amount).sum()
	}

	/// What `party` receives in all.
	pub fn received(&self, party: &Party<V>) -> u128 {
		self.transfers.iter().filter(|t| t.to == *party).map(|t| t.amount).sum()
	}

	fn add(&mut self, from: Source<V>, to: Party<V>, amount: u128) {
		if amount > 0 {
			self.transfers.push(Transfer { from, to, amount });
		}
	}
}

/// The transfers that end a resolved `case` (`None` while it is open). `node_bond` is the
/// checked node's bond now, `slashed_today` what it has lost to slashes earlier this day;
/// `verifier_bond` a seated verifier's bond now.
pub fn payout<V: Clone + PartialEq + codec::Encode>(
	case: &Case<V>,
	node_bond: u128,
	slashed_today: u128,
	verifier_bond: impl Fn(&V) -> u128,
) -> Option<Payout<V>> {
	let outcome = case.outcome()?;
	let params = &case.params;
	let stakes = &case.stakes;
	let right = |verdict: Option<Verdict>| match outcome {
		Outcome::Upheld => verdict == Some(Verdict::Valid),
		Outcome::Overturned => verdict == Some(Verdict::Invalid),
		Outcome::Undecided => verdict.is_some(),
	};
	let winners: Vec<V> = case
		.seats
		.iter()
		.filter(|s| right(s.verdict))
		.map(|s| s.verifier.clone())
		.collect();
	let mut payout = Payout::default();
	let share_out = |payout: &mut Payout<V>, from: Source<V>, amount: u128| {
		let each = amount.checked_div(winners.len() as u128).unwrap_or(0);
		for winner in &winners {
			payout.add(from.clone(), Party::Verifier(winner.clone()), each);
		}
		payout.add(from, Party::Treasury, amount - each * winners.len() as u128);
	};

	let upheld = outcome == Outcome::Upheld;
	payout.add(Source::Payment, if upheld { Party::Node } else { Party::Client }, stakes.price);
	share_out(&mut payout, Source::Surcharge, stakes.surcharge);
	payout.add(
		Source::ChallengeBond,
		if upheld { Party::Node } else { Party::Challenger },
		stakes.challenge_bond,
	);

	if outcome == Outcome::Overturned && !case.honeypot {
		let slash = share(node_bond, params.slash)
			.min(params.slash_cap)
			.min(params.daily_slash_cap.saturating_sub(slashed_today));
		let to_challenger =
			if stakes.challenge_bond > 0 { share(slash, params.challenger_share) } else { 0 };
		payout.add(Source::NodeBond, Party::Challenger, to_challenger);
		share_out(&mut payout, Source::NodeBond, slash - to_challenger);
	}

	for seat in &case.seats {
		let penalty = match seat.verdict {
			// Hiding a committed verdict once a honeypot is shown is signing it valid.
			None if case.honeypot && seat.commitment.is_some() => {
				params.no_reveal_penalty.max(params.wrong_verdict_penalty)
			},
			None => params.no_reveal_penalty,
			Some(_) if outcome != Outcome::Undecided && !right(seat.verdict) => {
				params.wrong_verdict_penalty
			},
			Some(_) => 0,
		};
		let penalty = penalty.min(verifier_bond(&seat.verifier));
		payout.add(Source::VerifierBond(seat.verifier.clone()), Party::Treasury, penalty);
	}
	Some(payout)
}
