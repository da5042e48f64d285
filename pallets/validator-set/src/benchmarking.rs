//! Benchmarks for `pallet-validator-set`, at the worst case: a full validator list.

use super::*;
use crate::pallet::{Call, Config, Pallet, Validators};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{EnsureOrigin, Get},
	BoundedVec,
};
use polkadot_sdk::frame_benchmarking;

/// Fills the validator list with `count` accounts that have session keys.
fn validators<T: Config>(count: u32) -> Vec<T::AccountId> {
	let accounts: Vec<T::AccountId> = (0..count).map(|i| account("validator", i, 0)).collect();
	for who in &accounts {
		T::BenchmarkHelper::register_keys(who);
	}
	Validators::<T>::put(BoundedVec::truncate_from(accounts.clone()));
	accounts
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_validator() -> Result<(), BenchmarkError> {
		let origin =
			T::ManagerOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		validators::<T>(T::MaxValidators::get() - 1);
		let new: T::AccountId = account("new", 0, 0);
		T::BenchmarkHelper::register_keys(&new);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, new.clone());

		assert!(Validators::<T>::get().contains(&new));
		Ok(())
	}

	#[benchmark]
	fn remove_validator() -> Result<(), BenchmarkError> {
		let origin =
			T::ManagerOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let accounts = validators::<T>(T::MaxValidators::get());
		let last = accounts.last().cloned().expect("MaxValidators > 0");

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, last.clone());

		assert!(!Validators::<T>::get().contains(&last));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(vec![1]), crate::mock::Test);
}
