//! # Validator set
//!
//! A governance-managed list of validators that feeds `pallet-session`, and through it
//! the BABE and GRANDPA authority sets.
//!
//! - [`Pallet::add_validator`] / [`Pallet::remove_validator`] change the set; they take
//!   [`Config::ManagerOrigin`] (a referendum on the validator-admin track, or Root). A new
//!   validator must have set its session keys first (`session.setKeys`).
//! - Changes are handed to `pallet-session` at the next session rotation and take effect
//!   one session later, as for every session-based chain.
//! - A session lasts [`SessionPeriod`] slots, set at genesis. It is also BABE's epoch, whose
//!   length the node's BABE client reads once and which therefore never changes (no call
//!   sets it).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

use alloc::vec::Vec;
use polkadot_sdk::{frame_support, frame_system, pallet_session, sp_runtime, sp_staking};

/// What benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Gives `who` session keys, so that it may become a validator.
	fn register_keys(who: &AccountId);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{pallet_prelude::*, traits::ValidatorRegistration};
	use frame_system::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The origin that may add and remove validators.
		type ManagerOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Tells whether an account has registered session keys.
		type KeysRegistration: ValidatorRegistration<Self::AccountId>;
		/// The most validators the set can hold.
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// The fewest validators the set may shrink to.
		#[pallet::constant]
		type MinValidators: Get<u32>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
		/// Sets up benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The validators handed to the session pallet at each rotation.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// Length of a session (BABE epoch) in slots, set at genesis.
	#[pallet::storage]
	pub type SessionPeriod<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A validator joins the set from the session after next.
		ValidatorAdded {
			/// The validator's account.
			who: T::AccountId,
		},
		/// A validator leaves the set from the session after next.
		ValidatorRemoved {
			/// The validator's account.
			who: T::AccountId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a validator.
		AlreadyValidator,
		/// The account is not a validator.
		NotValidator,
		/// The set already holds `MaxValidators` validators.
		TooManyValidators,
		/// Removing the validator would leave fewer than `MinValidators`.
		TooFewValidators,
		/// The account has not set its session keys (`session.setKeys`).
		NoSessionKeys,
	}

	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The initial validators.
		pub validators: Vec<T::AccountId>,
		/// Session (BABE epoch) length in slots; fixed for the chain's life.
		pub session_period: BlockNumberFor<T>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		fn default() -> Self {
			Self { validators: Vec::new(), session_period: 10u32.into() }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(!self.session_period.is_zero(), "session_period must be at least one slot");
			let mut validators = self.validators.clone();
			validators.sort();
			validators.dedup();
			assert_eq!(validators.len(), self.validators.len(), "duplicate genesis validator");
			let validators: BoundedVec<_, _> = self
				.validators
				.clone()
				.try_into()
				.expect("more genesis validators than MaxValidators");
			Validators::<T>::put(validators);
			SessionPeriod::<T>::put(self.session_period);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Add `who` to the validator set. It takes part from the session after next.
		///
		/// `who` must have registered session keys. Origin: `ManagerOrigin`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::add_validator())]
		pub fn add_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::ManagerOrigin::ensure_origin(origin)?;
			ensure!(T::KeysRegistration::is_registered(&who), Error::<T>::NoSessionKeys);
			Validators::<T>::try_mutate(|validators| {
				ensure!(!validators.contains(&who), Error::<T>::AlreadyValidator);
				validators.try_push(who.clone()).map_err(|_| Error::<T>::TooManyValidators)
			})?;
			Self::deposit_event(Event::ValidatorAdded { who });
			Ok(())
		}

		/// Remove `who` from the validator set. It stops from the session after next.
		///
		/// Origin: `ManagerOrigin`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_validator())]
		pub fn remove_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::ManagerOrigin::ensure_origin(origin)?;
			Validators::<T>::try_mutate(|validators| {
				let position =
					validators.iter().position(|v| v == &who).ok_or(Error::<T>::NotValidator)?;
				ensure!(
					validators.len() > T::MinValidators::get() as usize,
					Error::<T>::TooFewValidators
				);
				validators.remove(position);
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::ValidatorRemoved { who });
			Ok(())
		}
	}
}

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(_new_index: sp_staking::SessionIndex) -> Option<Vec<T::AccountId>> {
		Some(Validators::<T>::get().into_inner())
	}
	fn end_session(_end_index: sp_staking::SessionIndex) {}
	fn start_session(_start_index: sp_staking::SessionIndex) {}
}

/// The session period stored in this pallet (BABE's epoch duration in the runtime).
/// Never zero: an epoch lasts at least one slot.
pub struct StoredSessionPeriod<T>(core::marker::PhantomData<T>);
impl<T: Config> frame_support::traits::Get<frame_system::pallet_prelude::BlockNumberFor<T>>
	for StoredSessionPeriod<T>
{
	fn get() -> frame_system::pallet_prelude::BlockNumberFor<T> {
		use sp_runtime::traits::One;
		SessionPeriod::<T>::get().max(One::one())
	}
}
