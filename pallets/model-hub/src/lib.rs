//! # Model hub
//!
//! Model owners publish versioned models: a content-addressed artifact (SHA-256, size,
//! locator), its format, input/output schema, price per inference in OPG and the
//! verification modes its results may use. A ZKML model carries its Groth16 verifying
//! key, validated and prepared on publication. Each version holds a storage deposit from its
//! owner for every byte it stores (record, verifying key and prepared key),
//! returned when the owner removes the version after deprecating it.
//!
//! Requests copy the terms they were made under ([`ServingTerms`]), so a price change,
//! deprecation or removal never touches a request already made.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(any(test, feature = "runtime-benchmarks", feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use polkadot_sdk::{
	frame_support, frame_support::traits::ConstU32, frame_system, sp_io, sp_runtime,
};

/// Why a verifying key is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VerifyingKeyError {
	/// This runtime cannot verify ZKML proofs.
	Unsupported,
	/// The key does not decode canonically, or has points off the curve or subgroup.
	Invalid,
	/// The key's number of public inputs is not the model's statement's.
	Arity,
}

/// The longest prepared verifying key.
pub type MaxPreparedKeyLen = ConstU32<{ opg_zk_verifier::MAX_PREPARED_KEY_LEN as u32 }>;

/// Checks a Groth16 verifying key on publication and prepares it for verification.
pub trait VerifyingKeyCheck {
	/// The prepared form of a well-formed key for a model with `output_len` output values.
	fn check(verifying_key: &[u8], output_len: u32) -> Result<Vec<u8>, VerifyingKeyError>;
}

/// No ZKML verifier: every key is refused as unsupported.
impl VerifyingKeyCheck for () {
	fn check(_: &[u8], _: u32) -> Result<Vec<u8>, VerifyingKeyError> {
		Err(VerifyingKeyError::Unsupported)
	}
}

/// Groth16 over BN254 with `opg-zk-verifier`, run by `V` (in the runtime: natively,
/// through host functions): a canonical compressed key with every point on its curve and
/// in its subgroup, taking the public inputs of statement version 1 for the model's output
/// (job binding, input commitment, packed output).
pub struct Groth16Bn254<V = opg_zk_verifier::PureRust>(core::marker::PhantomData<V>);

impl<V: opg_zk_verifier::Groth16Verifier + Default> VerifyingKeyCheck for Groth16Bn254<V> {
	fn check(verifying_key: &[u8], output_len: u32) -> Result<Vec<u8>, VerifyingKeyError> {
		let prepared = V::default()
			.prepare_key(verifying_key)
			.map_err(|_| VerifyingKeyError::Invalid)?;
		let expected = opg_zk_verifier::public_input_count(output_len as usize);
		match opg_zk_verifier::prepared_public_inputs(&prepared) {
			Some(inputs) if inputs == expected => Ok(prepared),
			_ => Err(VerifyingKeyError::Arity),
		}
	}
}

pub use opg_primitives::{ModelCatalog, ModelUsage};

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, MutateHold},
			tokens::Precision,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::{Saturating, UniqueSaturatedInto};

	/// The balance type of [`Config::Currency`].
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A model as stored.
	pub type ModelOf<T> = Model<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
	/// A model spec as passed to [`Pallet::publish`].
	pub type ModelSpecOf<T> = ModelSpec<BalanceOf<T>>;
	/// A verifying key as passed and stored.
	pub type VerifyingKeyOf<T> = BoundedVec<u8, <T as Config>::MaxVerifyingKeyLen>;

	/// Default configurations of this pallet.
	pub mod config_preludes {
		use super::*;
		use frame_support::{derive_impl, traits::ConstU32};

		/// What mock runtimes share: keys up to 1 KiB, checked by the pure-Rust verifier.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type MaxVerifyingKeyLen = ConstU32<1024>;
			type VerifyingKeyCheck = Groth16Bn254;
			type WeightInfo = ();
		}
	}

	#[pallet::config(with_default)]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The currency deposits are held in.
		#[pallet::no_default]
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The overarching hold reason.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;
		/// Deposit per published version.
		#[pallet::constant]
		#[pallet::no_default]
		type DepositBase: Get<BalanceOf<Self>>;
		/// Deposit per stored byte: the model record, the verifying key and its prepared
		/// form (uncompressed points and e(α, β)), all three stored.
		#[pallet::constant]
		#[pallet::no_default]
		type DepositPerByte: Get<BalanceOf<Self>>;
		/// The longest verifying key.
		#[pallet::constant]
		type MaxVerifyingKeyLen: Get<u32>;
		/// Checks ZKML verifying keys.
		type VerifyingKeyCheck: VerifyingKeyCheck;
		/// Whether open requests still need a model: such a model cannot be removed (its
		/// verifying key settles them). In the runtime, the inference pallet.
		#[pallet::no_default]
		type Usage: ModelUsage;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// The storage layout's version: 1 since model specs carry a tolerance
	/// ([`migrations::v1`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A published model's storage deposit.
		ModelDeposit,
	}

	/// The id the next published version gets.
	#[pallet::storage]
	pub type NextModelId<T: Config> = StorageValue<_, ModelId, ValueQuery>;

	/// Published versions by id.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Twox64Concat, ModelId, ModelOf<T>>;

	/// Groth16 verifying keys of ZKML models, by model id, as published.
	#[pallet::storage]
	pub type VerifyingKeys<T: Config> = StorageMap<_, Twox64Concat, ModelId, VerifyingKeyOf<T>>;

	/// The same keys checked and prepared for verification (see [`VerifyingKeyCheck`]).
	#[pallet::storage]
	pub type PreparedKeys<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, BoundedVec<u8, MaxPreparedKeyLen>>;

	/// The latest version of each (owner, name), kept after removal so that versions
	/// only ever increase.
	#[pallet::storage]
	pub type LatestVersions<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		BoundedVec<u8, ConstU32<64>>,
		(ModelId, Version),
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model version was published, with `deposit` held from `owner`.
		ModelPublished {
			/// The model version.
			model: ModelId,
			/// Its owner.
			owner: T::AccountId,
			/// Its name.
			name: BoundedVec<u8, ConstU32<64>>,
			/// Its version.
			version: Version,
			/// SHA-256 of its artifact.
			artifact_hash: ContentHash,
			/// Held from the owner.
			deposit: BalanceOf<T>,
		},
		/// A model's price changed.
		PriceChanged {
			/// The model version.
			model: ModelId,
			/// The new price of one inference.
			price: BalanceOf<T>,
		},
		/// A model takes no new requests.
		ModelDeprecated {
			/// The model version.
			model: ModelId,
		},
		/// A model was removed and its deposit returned.
		ModelRemoved {
			/// The model version.
			model: ModelId,
			/// The deposit returned to the owner.
			released: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model has this id.
		ModelNotFound,
		/// Only the model's owner may do this.
		NotOwner,
		/// The name is empty or not UTF-8.
		InvalidName,
		/// The version is not greater than the latest of this name.
		VersionNotIncreasing,
		/// The artifact's size is zero.
		EmptyArtifact,
		/// The schema has no inputs or no outputs, or a tensor with no or a zero dimension.
		InvalidSchema,
		/// Verification modes must be non-empty and known.
		InvalidModes,
		/// ZKML needs the quantized-integer format, `I8` or `I16` outputs (8- or 16-bit
		/// values, not both) and a verifying key.
		ZkmlNeedsQuantizedModelAndKey,
		/// A verifying key was given for a model without ZKML.
		UnexpectedVerifyingKey,
		/// This runtime cannot verify ZKML proofs yet.
		ZkmlUnavailable,
		/// The verifying key is malformed.
		InvalidVerifyingKey,
		/// The verifying key does not take the public inputs of this model's statement.
		VerifyingKeyArity,
		/// The owner cannot cover the deposit.
		InsufficientDeposit,
		/// The model is already deprecated.
		AlreadyDeprecated,
		/// Deprecate the model before removing it.
		NotDeprecated,
		/// Open requests for the model still need its record and verifying key; remove it
		/// once they have settled or expired.
		ModelInUse,
		/// Model ids are exhausted.
		TooManyModels,
		/// A language model's schema is bytes: one `U8` input and one `U8` output, each of
		/// one dimension.
		LlmNeedsByteSchema,
		/// A tolerance is published with float models only (TorchScript, ONNX), and only
		/// for a schema with a float output (`F32`, `F16`, `BF16`).
		ToleranceNotApplicable,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Publishes a model version, holding a deposit for its storage from the caller,
		/// its owner.
		///
		/// The version must be greater than the latest the caller published under the
		/// same name; the new version records that one as its predecessor. A ZKML model
		/// must be in the quantized-integer format and come with its verifying key.
		#[pallet::call_index(0)]
		#[pallet::weight(match verifying_key {
			Some(key) => T::WeightInfo::publish(key.len() as u32)
				.saturating_add(T::WeightInfo::check_verifying_key())
				// The prepared key.
				.saturating_add(T::DbWeight::get().writes(1))
				.saturating_add(Weight::from_parts(0, opg_zk_verifier::MAX_PREPARED_KEY_LEN as u64)),
			None => T::WeightInfo::publish(0),
		})]
		pub fn publish(
			origin: OriginFor<T>,
			spec: ModelSpecOf<T>,
			verifying_key: Option<VerifyingKeyOf<T>>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let prepared =
				Self::check_spec(&spec, verifying_key.as_ref().map(|key| key.as_slice()))?;
			let previous = match LatestVersions::<T>::get(&owner, &spec.name) {
				Some((id, latest)) => {
					ensure!(spec.version > latest, Error::<T>::VersionNotIncreasing);
					Some(id)
				},
				None => None,
			};
			let model = NextModelId::<T>::get();
			let next = model.checked_add(1).ok_or(Error::<T>::TooManyModels)?;

			let verifying_key_hash =
				verifying_key.as_ref().map(|key| sp_io::hashing::sha2_256(key));
			let stored_bytes = spec.encoded_size()
				+ verifying_key.as_ref().map_or(0, |key| key.len())
				+ prepared.as_ref().map_or(0, |prepared| prepared.len());
			let deposit = T::DepositBase::get().saturating_add(
				T::DepositPerByte::get().saturating_mul((stored_bytes as u32).into()),
			);
			T::Currency::hold(&HoldReason::ModelDeposit.into(), &owner, deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;

			NextModelId::<T>::put(next);
			LatestVersions::<T>::insert(&owner, &spec.name, (model, spec.version));
			if let Some(key) = verifying_key {
				VerifyingKeys::<T>::insert(model, key);
			}
			if let Some(prepared) = prepared {
				PreparedKeys::<T>::insert(model, prepared);
			}
			Self::deposit_event(Event::ModelPublished {
				model,
				owner: owner.clone(),
				name: spec.name.clone(),
				version: spec.version,
				artifact_hash: spec.artifact.hash,
				deposit,
			});
			Models::<T>::insert(
				model,
				Model {
					owner,
					spec,
					previous,
					verifying_key_hash,
					status: ModelStatus::Active,
					deposit,
				},
			);
			Ok(())
		}

		/// Sets the price of future requests for a model. Owner only.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_price())]
		pub fn set_price(
			origin: OriginFor<T>,
			model: ModelId,
			price: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::mutate_owned(&who, model, |record| {
				record.spec.price = price;
				Ok(())
			})?;
			Self::deposit_event(Event::PriceChanged { model, price });
			Ok(())
		}

		/// Stops a model from taking new requests; requests already made still settle.
		/// Owner only.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::deprecate())]
		pub fn deprecate(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::mutate_owned(&who, model, |record| {
				ensure!(record.status == ModelStatus::Active, Error::<T>::AlreadyDeprecated);
				record.status = ModelStatus::Deprecated;
				Ok(())
			})?;
			Self::deposit_event(Event::ModelDeprecated { model });
			Ok(())
		}

		/// Removes a deprecated model and its verifying key, and returns the deposit.
		/// Owner only, and only once no open request is for the model (`ModelInUse`): a
		/// ZKML request settles with the key, whatever the model's status.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::remove())]
		pub fn remove(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(record.owner == who, Error::<T>::NotOwner);
			ensure!(record.status == ModelStatus::Deprecated, Error::<T>::NotDeprecated);
			ensure!(!T::Usage::in_use(model), Error::<T>::ModelInUse);
			let released = T::Currency::release(
				&HoldReason::ModelDeposit.into(),
				&record.owner,
				record.deposit,
				Precision::BestEffort,
			)?;
			Models::<T>::remove(model);
			VerifyingKeys::<T>::remove(model);
			PreparedKeys::<T>::remove(model);
			Self::deposit_event(Event::ModelRemoved { model, released });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// What an executor needs to serve model `model` (artifact and schema), active or
		/// deprecated; `None` if it was never published or was removed. The answer of
		/// [`runtime_api::ModelHubApi::serving`].
		pub fn serving(model: ModelId) -> Option<opg_primitives::ModelServing> {
			Models::<T>::get(model).map(|record| opg_primitives::ModelServing {
				artifact_hash: record.spec.artifact.hash,
				artifact_size: record.spec.artifact.size,
				schema: record.spec.schema,
				active: record.status == ModelStatus::Active,
				price: record.spec.price.unique_saturated_into(),
				modes: record.spec.modes,
				tolerance: record.spec.tolerance,
			})
		}

		/// Checks a spec and its key; the prepared key of a ZKML model.
		fn check_spec(
			spec: &ModelSpecOf<T>,
			verifying_key: Option<&[u8]>,
		) -> Result<Option<BoundedVec<u8, MaxPreparedKeyLen>>, DispatchError> {
			ensure!(
				!spec.name.is_empty() && core::str::from_utf8(&spec.name).is_ok(),
				Error::<T>::InvalidName
			);
			ensure!(spec.artifact.size > 0, Error::<T>::EmptyArtifact);
			ensure!(spec.schema.validate().is_ok(), Error::<T>::InvalidSchema);
			ensure!(spec.modes.is_valid(), Error::<T>::InvalidModes);
			ensure!(
				spec.format != ModelFormat::Llm || spec.schema.is_bytes(),
				Error::<T>::LlmNeedsByteSchema
			);
			ensure!(
				spec.tolerance.is_none()
					|| (spec.format.has_tolerance() && spec.schema.has_float_output()),
				Error::<T>::ToleranceNotApplicable
			);
			if spec.modes.contains(VerificationModes::ZKML) {
				let key = verifying_key.ok_or(Error::<T>::ZkmlNeedsQuantizedModelAndKey)?;
				ensure!(
					spec.format == ModelFormat::QuantizedInteger
						&& (spec.schema.outputs_are(DType::I8)
							|| spec.schema.outputs_are(DType::I16)),
					Error::<T>::ZkmlNeedsQuantizedModelAndKey
				);
				// The statement commits to the output's bytes.
				let output_len = u32::try_from(spec.schema.output_len()).unwrap_or(u32::MAX);
				let prepared =
					T::VerifyingKeyCheck::check(key, output_len).map_err(|error| match error {
						VerifyingKeyError::Unsupported => Error::<T>::ZkmlUnavailable,
						VerifyingKeyError::Invalid => Error::<T>::InvalidVerifyingKey,
						VerifyingKeyError::Arity => Error::<T>::VerifyingKeyArity,
					})?;
				Ok(Some(
					BoundedVec::try_from(prepared).map_err(|_| Error::<T>::InvalidVerifyingKey)?,
				))
			} else {
				ensure!(verifying_key.is_none(), Error::<T>::UnexpectedVerifyingKey);
				Ok(None)
			}
		}

		fn mutate_owned(
			who: &T::AccountId,
			model: ModelId,
			f: impl FnOnce(&mut ModelOf<T>) -> DispatchResult,
		) -> DispatchResult {
			Models::<T>::try_mutate(model, |record| {
				let record = record.as_mut().ok_or(Error::<T>::ModelNotFound)?;
				ensure!(&record.owner == who, Error::<T>::NotOwner);
				f(record)
			})
		}
	}

	impl<T: Config> ModelCatalog<BalanceOf<T>> for Pallet<T> {
		fn serving_terms(model: ModelId) -> Option<ServingTerms<BalanceOf<T>>> {
			let record = Models::<T>::get(model)?;
			(record.status == ModelStatus::Active).then_some(ServingTerms {
				price: record.spec.price,
				modes: record.spec.modes,
				artifact_hash: record.spec.artifact.hash,
				input_len: record.spec.schema.input_len(),
				variable_input: record.spec.format == ModelFormat::Llm,
				output_len: record.spec.schema.output_len(),
			})
		}

		fn output_len(model: ModelId) -> Option<u64> {
			Models::<T>::get(model).map(|record| record.spec.schema.output_len())
		}

		fn prepared_verifying_key(model: ModelId) -> Option<Vec<u8>> {
			PreparedKeys::<T>::get(model).map(|key| key.into_inner())
		}

		fn checked_on_same_hardware(model: ModelId) -> bool {
			Models::<T>::get(model).is_some_and(|record| {
				record.spec.format.checked_on_same_hardware(record.spec.tolerance.as_ref())
			})
		}
	}
}
