//! # The dispute game of OPG's verification nodes
//!
//! Inference nodes execute; verification nodes re-execute a random sample of their results
//! and any result someone challenges, so that no single executor is trusted. This crate is
//! the game's logic, free of FRAME so that the runtime, the verifier's off-chain worker and
//! the tests compute exactly the same thing:
//!
//! - [`params`]: the governance parameters (windows, committee sizes, bonds, slashing
//!   fractions and caps) and the bound they put on how long anything stays held;
//! - [`committee`]: which results are sampled, and the bond-weighted draw of the verifiers
//!   that check one — never of the checked node's operator, at most one per operator;
//! - [`verdict`]: a verifier's verdict and the commitment it first publishes, so that no
//!   verifier can copy another's;
//! - [`case`]: one checked result as a state machine — commit, reveal, then agreement
//!   (final), or a dispute settled by the referee of the model's kind: a Groth16 proof
//!   from the node for quantized models, a larger committee for float models and language
//!   models, governance as the last resort; every phase has a deadline;
//! - [`mod@payout`]: who is paid, refunded or slashed when a case ends, as transfers out of
//!   what the case holds: nothing is created, every held amount is released exactly once.
//!
//! A case moves only through [`case::Case`]'s methods, each of which checks who may act
//! and when and changes nothing when it refuses; the pallet calls them from its
//! extrinsics and from `on_initialize` for deadlines.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod case;
pub mod committee;
pub mod params;
pub mod payout;
pub mod verdict;

pub use case::{Case, CaseError, Outcome, Phase, Referee, Seat, Stakes, Step};
pub use committee::{draw, draw_preferring, sampled, Candidate};
pub use params::{ModeParams, Params, ParamsError};
pub use payout::{payout, Party, Payout, Source, Transfer};
pub use verdict::{commitment, Verdict};

/// The most seats a case has over all its rounds: the bound of [`case::Case::seats`], which
/// [`Params::validate`] keeps every committee within.
pub const MAX_SEATS: u32 = 32;

/// Parts per billion: `1_000_000_000` is the whole (as in `opg_settlement::fees`).
pub use opg_settlement::fees::BILLION;
/// One OPG in its smallest unit (`opg_settlement::fees::OPG`): the unit of every amount.
pub use opg_settlement::fees::OPG;

/// `amount × ppb / 10⁹`, rounded down, without overflow (`ppb` capped at the whole).
pub fn share(amount: u128, ppb: u32) -> u128 {
	opg_settlement::fees::split(amount, ppb).protocol
}
