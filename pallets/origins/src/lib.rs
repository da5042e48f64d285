//! # OPG governance origins
//!
//! The custom origins that OpenGov referenda dispatch with, one per referendum track
//! besides Root, and the timing profile that those tracks use.
//!
//! - [`Origin::Policy`]: attestation and model policy (measurement allow-lists, TCB
//!   policy, protocol fees). Later pallets accept it through [`EnsurePolicy`].
//! - [`Origin::ValidatorAdmin`]: adds and removes validators.
//! - [`Origin::Treasurer`]: spends from the treasury, up to a limit.
//!
//! [`Timings`] selects between production track periods and the short ones of a
//! development chain; it is set by the genesis preset and changes nothing else.

#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

use polkadot_sdk::frame_support;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The origins a passed referendum on one of OPG's own tracks dispatches with.
	#[derive(
		PartialEq, Eq, Clone, MaxEncodedLen, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// Attestation policy, model policy and protocol parameters.
		Policy,
		/// Membership of the validator set.
		ValidatorAdmin,
		/// Treasury spends up to the treasurer limit.
		Treasurer,
	}

	/// How long referendum tracks take to prepare, decide and enact.
	#[derive(
		PartialEq,
		Eq,
		Clone,
		Copy,
		Default,
		MaxEncodedLen,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		Debug,
		serde::Serialize,
		serde::Deserialize,
	)]
	pub enum TrackTimings {
		/// Days-long periods for a public network.
		#[default]
		Production,
		/// Periods of a few blocks, so a development chain can pass a referendum in minutes.
		Development,
	}

	/// The timing profile of all referendum tracks.
	#[pallet::storage]
	pub type Timings<T> = StorageValue<_, TrackTimings, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Timing profile of the referendum tracks.
		pub timings: TrackTimings,
		#[serde(skip)]
		/// The pallet's configuration (no data).
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Timings::<T>::put(self.timings);
		}
	}
}

/// Declares an `EnsureOrigin` that accepts exactly one [`Origin`] variant.
macro_rules! ensure_custom_origin {
	($(#[$doc:meta])* $name:ident => $variant:ident) => {
		$(#[$doc])*
		pub struct $name;
		impl<O: Into<Result<Origin, O>> + From<Origin>> frame_support::traits::EnsureOrigin<O>
			for $name
		{
			type Success = ();
			fn try_origin(o: O) -> Result<Self::Success, O> {
				o.into().and_then(|o| match o {
					Origin::$variant => Ok(()),
					other => Err(O::from(other)),
				})
			}
			#[cfg(feature = "runtime-benchmarks")]
			fn try_successful_origin() -> Result<O, ()> {
				Ok(O::from(Origin::$variant))
			}
		}
	};
}

ensure_custom_origin!(
	/// Accepts the [`Origin::Policy`] origin.
	EnsurePolicy => Policy
);
ensure_custom_origin!(
	/// Accepts the [`Origin::ValidatorAdmin`] origin.
	EnsureValidatorAdmin => ValidatorAdmin
);

/// Accepts the [`Origin::Treasurer`] origin and yields the most it may spend at once.
pub struct EnsureTreasurer<Limit>(core::marker::PhantomData<Limit>);
impl<O, Limit> frame_support::traits::EnsureOrigin<O> for EnsureTreasurer<Limit>
where
	O: Into<Result<Origin, O>> + From<Origin>,
	Limit: frame_support::traits::TypedGet,
{
	type Success = Limit::Type;
	fn try_origin(o: O) -> Result<Self::Success, O> {
		o.into().and_then(|o| match o {
			Origin::Treasurer => Ok(Limit::get()),
			other => Err(O::from(other)),
		})
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin() -> Result<O, ()> {
		Ok(O::from(Origin::Treasurer))
	}
}
