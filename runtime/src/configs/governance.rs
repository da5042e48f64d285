//! OpenGov: referenda with conviction voting on OPG's tracks, the treasury, and the
//! protocol parameters that the `policy` track governs.
//!
//! | id | track | origin | decides |
//! |----|-------|--------|---------|
//! | 0 | `root` | Root | runtime upgrades, anything |
//! | 1 | `policy` | `Origins::Policy` | protocol parameters, attestation and model policy |
//! | 2 | `validator_admin` | `Origins::ValidatorAdmin` | validator set membership |
//! | 3 | `treasurer` | `Origins::Treasurer` | treasury spends up to [`TREASURER_SPEND_LIMIT`] |
//!
//! Track periods follow `Origins::Timings`: production periods of hours and days, or
//! development periods of a few blocks (set by the `development` and `local_testnet`
//! presets only).

use super::*;
use alloc::borrow::Cow;
use pallet_opg_origins::{
	EnsurePolicy, EnsureTreasurer, EnsureValidatorAdmin, Origin as OpgOrigin, TrackTimings,
};
use polkadot_sdk::{
	frame_support::dynamic_params::{dynamic_pallet_params, dynamic_params},
	frame_support::traits::{
		tokens::{pay::PayFromAccount, UnityAssetBalanceConversion},
		AsEnsureOriginWithArg, EitherOf, EitherOfDiverse,
	},
	frame_system::{EnsureRootWithSuccess, EnsureSigned},
	pallet_conviction_voting, pallet_parameters,
	pallet_referenda::{self, Curve, Track, TrackInfo},
	pallet_treasury,
	sp_runtime::traits::IdentityLookup,
};

/// The most a `treasurer` referendum may spend at once.
pub const TREASURER_SPEND_LIMIT: Balance = 100_000 * OPG;

/// Root, or a passed referendum on the `policy` track.
pub type PolicyOrigin = EitherOf<EnsureRoot<AccountId>, EnsurePolicy>;
/// Root, or a passed referendum on the `validator_admin` track.
pub type ValidatorAdminOrigin = EitherOf<EnsureRoot<AccountId>, EnsureValidatorAdmin>;

parameter_types! {
	pub const TreasurySpendPeriod: BlockNumber = 6 * DAYS;
	pub const TreasuryPayoutPeriod: BlockNumber = 30 * DAYS;
	pub const MaxBalance: Balance = Balance::MAX;
	pub const TreasurerSpendLimit: Balance = TREASURER_SPEND_LIMIT;
}

impl pallet_treasury::Config for Runtime {
	type Currency = Balances;
	type RejectOrigin =
		EitherOfDiverse<EnsureRoot<AccountId>, EnsureTreasurer<TreasurerSpendLimit>>;
	type RuntimeEvent = RuntimeEvent;
	type SpendPeriod = TreasurySpendPeriod;
	type Burn = ();
	type PalletId = TreasuryPalletId;
	type BurnDestination = ();
	type WeightInfo = pallet_treasury::weights::SubstrateWeight<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = ConstU32<100>;
	type SpendOrigin = EitherOf<
		EnsureRootWithSuccess<AccountId, MaxBalance>,
		EnsureTreasurer<TreasurerSpendLimit>,
	>;
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = IdentityLookup<AccountId>;
	type Paymaster = PayFromAccount<Balances, TreasuryAccount>;
	type BalanceConverter = UnityAssetBalanceConversion;
	type PayoutPeriod = TreasuryPayoutPeriod;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
	type BlockNumberProvider = System;
}

impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type Polls = crate::Referenda;
	type MaxTurnout =
		frame_support::traits::tokens::currency::ActiveIssuanceOf<Balances, AccountId>;
	type MaxVotes = ConstU32<512>;
	type VoteLockingPeriod = ConstU32<{ 7 * DAYS }>;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

parameter_types! {
	pub const SubmissionDeposit: Balance = 10 * OPG;
	pub const UndecidingTimeout: BlockNumber = 14 * DAYS;
}

impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type Scheduler = crate::Scheduler;
	type Currency = Balances;
	type SubmitOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type CancelOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Slash = Treasury;
	type Votes = Balance;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	type AlarmInterval = ConstU32<1>;
	type Tracks = TracksInfo;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

/// Prepare, decide, confirm and minimum-enactment periods of a track, in blocks.
#[derive(Clone, Copy)]
struct Periods {
	prepare: BlockNumber,
	decision: BlockNumber,
	confirm: BlockNumber,
	min_enactment: BlockNumber,
}

/// Production periods of the tracks that decide within a week.
const WEEK_PERIODS: Periods =
	Periods { prepare: HOURS, decision: 7 * DAYS, confirm: 6 * HOURS, min_enactment: HOURS };
/// Production periods of the tracks that decide within two weeks.
const FORTNIGHT_PERIODS: Periods =
	Periods { prepare: 2 * HOURS, decision: 14 * DAYS, confirm: DAYS, min_enactment: DAYS };

/// All periods of the development profile: a referendum passes in about twenty blocks.
const DEVELOPMENT_PERIODS: Periods =
	Periods { prepare: 1, decision: 20, confirm: 2, min_enactment: 1 };

/// One referendum track, in both timing profiles.
struct TrackSpec {
	id: u16,
	name: &'static str,
	max_deciding: u32,
	decision_deposit: Balance,
	production: Periods,
	min_approval: Curve,
	min_support: Curve,
}

/// Approval falls linearly from 100% to 50% over the decision period.
const APPROVAL: Curve = Curve::LinearDecreasing {
	length: Perbill::one(),
	floor: Perbill::from_percent(50),
	ceil: Perbill::from_percent(100),
};
/// Root's support falls linearly from 50% to 1% over the decision period.
const ROOT_SUPPORT: Curve = Curve::LinearDecreasing {
	length: Perbill::one(),
	floor: Perbill::from_percent(1),
	ceil: Perbill::from_percent(50),
};
/// Other tracks' support falls linearly from 25% to 0.5% over the decision period.
const SUPPORT: Curve = Curve::LinearDecreasing {
	length: Perbill::one(),
	floor: Perbill::from_parts(5_000_000),
	ceil: Perbill::from_percent(25),
};

const TRACKS: [TrackSpec; 4] = [
	TrackSpec {
		id: 0,
		name: "root",
		max_deciding: 1,
		decision_deposit: 10_000 * OPG,
		production: FORTNIGHT_PERIODS,
		min_approval: APPROVAL,
		min_support: ROOT_SUPPORT,
	},
	TrackSpec {
		id: 1,
		name: "policy",
		max_deciding: 10,
		decision_deposit: 1_000 * OPG,
		production: WEEK_PERIODS,
		min_approval: APPROVAL,
		min_support: SUPPORT,
	},
	TrackSpec {
		id: 2,
		name: "validator_admin",
		max_deciding: 10,
		decision_deposit: 1_000 * OPG,
		production: WEEK_PERIODS,
		min_approval: APPROVAL,
		min_support: SUPPORT,
	},
	TrackSpec {
		id: 3,
		name: "treasurer",
		max_deciding: 10,
		decision_deposit: 1_000 * OPG,
		production: FORTNIGHT_PERIODS,
		min_approval: APPROVAL,
		min_support: SUPPORT,
	},
];

/// A track name as the fixed-size byte array referenda stores.
const fn track_name(name: &str) -> [u8; 25] {
	let bytes = name.as_bytes();
	let mut out = [0u8; 25];
	let mut i = 0;
	while i < bytes.len() && i < 25 {
		out[i] = bytes[i];
		i += 1;
	}
	out
}

impl TrackSpec {
	fn track(&self, timings: TrackTimings) -> Track<u16, Balance, BlockNumber> {
		let periods = match timings {
			TrackTimings::Production => self.production,
			TrackTimings::Development => DEVELOPMENT_PERIODS,
		};
		Track {
			id: self.id,
			info: TrackInfo {
				name: track_name(self.name),
				max_deciding: self.max_deciding,
				decision_deposit: self.decision_deposit,
				prepare_period: periods.prepare,
				decision_period: periods.decision,
				confirm_period: periods.confirm,
				min_enactment_period: periods.min_enactment,
				min_approval: self.min_approval.clone(),
				min_support: self.min_support.clone(),
			},
		}
	}
}

/// OPG's referendum tracks, with periods from the chain's timing profile.
pub struct TracksInfo;
impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = u16;
	type RuntimeOrigin = OriginCaller;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<Self::Id, Balance, BlockNumber>>> {
		let timings = pallet_opg_origins::Timings::<Runtime>::get();
		TRACKS.iter().map(move |spec| Cow::Owned(spec.track(timings)))
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(0),
			OriginCaller::Origins(OpgOrigin::Policy) => Ok(1),
			OriginCaller::Origins(OpgOrigin::ValidatorAdmin) => Ok(2),
			OriginCaller::Origins(OpgOrigin::Treasurer) => Ok(3),
			_ => Err(()),
		}
	}
}

/// Protocol parameters set by the `policy` track (or Root) through `parameters.setParameter`.
#[dynamic_params(RuntimeParameters, polkadot_sdk::pallet_parameters::Parameters::<Runtime>)]
pub mod dynamic_params {
	use super::*;

	/// Economics of inference: fees, bonds and penalties.
	#[dynamic_pallet_params]
	#[codec(index = 0)]
	pub mod protocol {
		/// Share of every inference payment that goes to the treasury.
		#[codec(index = 0)]
		pub static ProtocolFee: Perbill = Perbill::from_percent(5);
		/// The least an inference node must bond to register.
		#[codec(index = 1)]
		pub static MinNodeBond: Balance = 1_000 * OPG;
		/// Taken from a node's bond each time it misses an inference deadline.
		#[codec(index = 2)]
		pub static MissedDeadlinePenalty: Balance = 10 * OPG;
		/// Kept from the fee of a request that nodes declined as unservable (its stored
		/// input unavailable, or not matching its commitment), so that griefing costs the
		/// griefer.
		#[codec(index = 3)]
		pub static CannotServeFee: Balance = OPG / 10;
		/// Held from a requester with each inference request, and returned when the
		/// request's record is pruned (or at once if it ends unserved).
		#[codec(index = 4)]
		pub static RecordDeposit: Balance = OPG / 100;
		/// Blocks a settled inference record stays on chain before anyone may prune it.
		#[codec(index = 5)]
		pub static RecordRetention: BlockNumber = 30 * DAYS;
		/// The least a payment channel to an inference node is opened with.
		#[codec(index = 6)]
		pub static ChannelMinDeposit: Balance = OPG;
		/// The least a channel settlement moves while its channel is open (a node settles
		/// smaller remainders once the channel closes or expires).
		#[codec(index = 7)]
		pub static ChannelMinSettlement: Balance = OPG / 100;
		/// Blocks a node may still settle a channel its client closed, before the client
		/// withdraws what is left.
		#[codec(index = 8)]
		pub static ChannelDisputePeriod: BlockNumber = HOURS;
	}
}

impl pallet_parameters::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeParameters = RuntimeParameters;
	type AdminOrigin = AsEnsureOriginWithArg<PolicyOrigin>;
	type WeightInfo = ();
}

impl pallet_opg_origins::Config for Runtime {}
