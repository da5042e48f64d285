//! Benchmarks for `pallet-model-hub`.

use super::*;
use crate::pallet::{BalanceOf, Call, Config, ModelSpecOf, Models, Pallet};
use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::{
	assert_ok,
	traits::{fungible::Mutate, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use polkadot_sdk::frame_benchmarking;
use sp_runtime::traits::Bounded;

fn funded_owner<T: Config>() -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let owner: T::AccountId = account("owner", 0, 0);
	T::Currency::set_balance(&owner, BalanceOf::<T>::max_value() / 4u32.into());
	owner
}

/// The largest spec: full name, locator and schema.
fn spec<T: Config>(with_zkml: bool) -> ModelSpecOf<T> {
	let tensor = TensorSpec {
		quantization: Some(Quantization { scale_bits: 0x3c00_0000, zero_point: 0 }),
		..crate::testing::tensor(&[u32::MAX; 8], DType::I8)
	};
	let schema = crate::testing::schema(vec![tensor.clone(); 8], vec![tensor; 8]);
	let modes = if with_zkml { VerificationModes::ALL } else { VerificationModes::VANILLA };
	let name = core::str::from_utf8(&[b'm'; 64]).expect("ASCII");
	let mut spec = crate::testing::spec(
		name,
		ModelFormat::QuantizedInteger,
		[7; 32],
		1,
		schema,
		1u32.into(),
		modes,
	);
	spec.artifact.locator = BoundedVec::truncate_from(vec![b'l'; 256]);
	spec
}

fn published<T: Config>() -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let owner = funded_owner::<T>();
	assert_ok!(Pallet::<T>::publish(
		RawOrigin::Signed(owner.clone()).into(),
		spec::<T>(false),
		None
	));
	owner
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	/// Without a key; `k` bytes of verifying key are stored on top (its check is the
	/// ZKML verifier's and is benchmarked there).
	#[benchmark]
	fn publish(k: Linear<0, { T::MaxVerifyingKeyLen::get() }>) {
		let owner = funded_owner::<T>();
		let spec = spec::<T>(false);

		#[block]
		{
			assert_ok!(Pallet::<T>::publish(RawOrigin::Signed(owner).into(), spec, None));
			if k > 0 {
				VerifyingKeys::<T>::insert(0, BoundedVec::truncate_from(vec![1u8; k as usize]));
			}
		}

		assert!(Models::<T>::contains_key(0));
	}

	#[benchmark]
	fn set_price() {
		let owner = published::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0, 2u32.into());
	}

	#[benchmark]
	fn deprecate() {
		let owner = published::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0);
	}

	#[benchmark]
	fn remove() {
		let owner = published::<T>();
		assert_ok!(Pallet::<T>::deprecate(RawOrigin::Signed(owner.clone()).into(), 0));
		VerifyingKeys::<T>::insert(
			0,
			BoundedVec::truncate_from(vec![1u8; T::MaxVerifyingKeyLen::get() as usize]),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0);

		assert!(!Models::<T>::contains_key(0));
	}

	/// The runtime's key check on the widest key (the most public inputs): decoding with
	/// curve and subgroup checks, and preparing it (e(α, β)).
	#[benchmark]
	fn check_verifying_key() {
		let key = opg_zk_verifier::fixture::WIDEST_KEY;
		let output_len = ((opg_zk_verifier::MAX_PUBLIC_INPUTS
			- opg_zk_verifier::FIXED_PUBLIC_INPUTS)
			* opg_zk_verifier::BYTES_PER_ELEMENT) as u32;

		#[block]
		{
			assert!(T::VerifyingKeyCheck::check(key, output_len).is_ok());
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
