//! Storage migrations of the model hub.

use super::*;

/// Version 1: a model's spec gains its published [`Tolerance`]
/// ([`ModelSpec::tolerance`]); every model published before has none, so its results stay
/// judged by their bytes, as they were. The storage deposits held are not changed: the
/// record grows by the one byte of `None`.
pub mod v1 {
	use super::*;
	use frame_support::{
		migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	};

	/// The spec as version 0 stored it.
	#[derive(Encode, Decode)]
	pub struct OldModelSpec<Balance> {
		/// See [`ModelSpec::name`].
		pub name: BoundedVec<u8, ConstU32<64>>,
		/// See [`ModelSpec::version`].
		pub version: Version,
		/// See [`ModelSpec::format`].
		pub format: ModelFormat,
		/// See [`ModelSpec::artifact`].
		pub artifact: Artifact,
		/// See [`ModelSpec::schema`].
		pub schema: Schema,
		/// See [`ModelSpec::price`].
		pub price: Balance,
		/// See [`ModelSpec::modes`].
		pub modes: VerificationModes,
	}

	/// The record as version 0 stored it.
	#[derive(Encode, Decode)]
	pub struct OldModel<AccountId, Balance> {
		/// See [`Model::owner`].
		pub owner: AccountId,
		/// See [`Model::spec`].
		pub spec: OldModelSpec<Balance>,
		/// See [`Model::previous`].
		pub previous: Option<ModelId>,
		/// See [`Model::verifying_key_hash`].
		pub verifying_key_hash: Option<ContentHash>,
		/// See [`Model::status`].
		pub status: ModelStatus,
		/// See [`Model::deposit`].
		pub deposit: Balance,
	}

	impl<AccountId, Balance> OldModel<AccountId, Balance> {
		/// The same record in version 1: no tolerance.
		pub fn upgrade(self) -> Model<AccountId, Balance> {
			let OldModelSpec { name, version, format, artifact, schema, price, modes } = self.spec;
			Model {
				owner: self.owner,
				spec: ModelSpec {
					name,
					version,
					format,
					artifact,
					schema,
					price,
					modes,
					tolerance: None,
				},
				previous: self.previous,
				verifying_key_hash: self.verifying_key_hash,
				status: self.status,
				deposit: self.deposit,
			}
		}
	}

	/// Rewrites every model record in version 1's layout; run through [`MigrateToV1`].
	pub struct UncheckedMigrateToV1<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateToV1<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut records = 0u64;
			Models::<T>::translate::<OldModel<T::AccountId, BalanceOf<T>>, _>(|_, old| {
				records += 1;
				Some(old.upgrade())
			});
			T::DbWeight::get().reads_writes(records, records)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok((Models::<T>::iter_keys().count() as u64).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before = u64::decode(&mut &state[..]).map_err(|_| "bad pre-upgrade state")?;
			let after = Models::<T>::iter_values().filter(|m| m.spec.tolerance.is_none()).count();
			ensure!(before == after as u64, "a model record was lost or mistranslated");
			Ok(())
		}
	}

	/// [`UncheckedMigrateToV1`], run once: from storage version 0 to 1.
	pub type MigrateToV1<T> = VersionedMigration<
		0,
		1,
		UncheckedMigrateToV1<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
