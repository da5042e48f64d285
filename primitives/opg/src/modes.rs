//! Node roles and the evidence a result may carry.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A set of bits, one per flag.
macro_rules! flag_set {
	($(#[$doc:meta])* $name:ident { $($(#[$flag_doc:meta])* $flag:ident = $bit:expr),* $(,)? }) => {
		$(#[$doc])*
		#[derive(Clone, Copy, Default, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug)]
		pub struct $name(pub u8);

		impl $name {
			$($(#[$flag_doc])* pub const $flag: u8 = 1 << $bit;)*
			/// All defined flags.
			pub const ALL: u8 = 0 $(| (1 << $bit))*;

			/// Whether every flag of `flags` is set.
			pub fn contains(&self, flags: u8) -> bool {
				self.0 & flags == flags
			}

			/// Non-empty, with no undefined bit.
			pub fn is_valid(&self) -> bool {
				self.0 != 0 && self.0 & !Self::ALL == 0
			}
		}
	};
}

flag_set!(
	/// What a node does for the network.
	Roles {
		/// Runs inference jobs.
		INFERENCE = 0,
		/// Fetches and stores external data with signed provenance.
		DATA = 1,
		/// Checks other nodes' results.
		VERIFIER = 2,
	}
);

flag_set!(
	/// The evidence a node can return with a result, or a model accepts.
	VerificationModes {
		/// A signature by the node key.
		VANILLA = 0,
		/// A signature by a key bound to a valid TEE attestation.
		TEE = 1,
		/// A Groth16 proof of the inference.
		ZKML = 2,
	}
);

/// The evidence one result comes with.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
)]
pub enum VerificationMode {
	/// A signature by the node key.
	Vanilla,
	/// A signature by the node key while its TEE attestation is valid.
	Tee,
	/// A Groth16 proof of the inference.
	Zkml,
}

impl VerificationMode {
	/// This mode's flag in [`VerificationModes`].
	pub fn flag(self) -> u8 {
		match self {
			Self::Vanilla => VerificationModes::VANILLA,
			Self::Tee => VerificationModes::TEE,
			Self::Zkml => VerificationModes::ZKML,
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_set_is_valid_only_when_non_empty_with_defined_flags() {
		assert!(!VerificationModes(0).is_valid());
		assert!(VerificationModes(VerificationModes::ALL).is_valid());
		assert!(!VerificationModes(1 << 3).is_valid());
		assert!(!Roles(Roles::INFERENCE | 1 << 7).is_valid());
	}

	#[test]
	fn each_mode_has_its_own_flag() {
		let flags = [VerificationMode::Vanilla, VerificationMode::Tee, VerificationMode::Zkml]
			.map(VerificationMode::flag);
		assert_eq!(flags.iter().fold(0, |all, flag| all | flag), VerificationModes::ALL);
		assert!(VerificationModes(VerificationModes::TEE).contains(VerificationMode::Tee.flag()));
		assert!(!VerificationModes(VerificationModes::TEE).contains(VerificationMode::Zkml.flag()));
	}

	#[test]
	fn encodings_are_those_clients_decode() {
		assert_eq!(VerificationMode::Zkml.encode(), [2]);
		assert_eq!(VerificationModes(5).encode(), [5]);
	}
}
