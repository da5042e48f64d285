//! How far a re-executed float model's output may be from the one its node claimed.
//!
//! A TorchScript (or ONNX) model computes in floating point: in deterministic mode a rerun
//! on the same executor build and kind of CPU gives the same bits, but another CPU kind,
//! libtorch build or thread count may round differently. A model owner who wants its
//! results checked across machines publishes a [`Tolerance`] with the model; a verifier
//! then accepts a claimed output whose every float element is within it of the verifier's
//! own, element by element, as NumPy's `allclose` does:
//!
//! `|claimed − mine| ≤ absolute + relative · |mine|`
//!
//! Integer and boolean elements must be equal; a NaN matches only a NaN and an infinity
//! only the same infinity. Without a tolerance, outputs are compared by their bytes.
//!
//! The bounds are integers in billionths (`absolute_ppb = 10_000` is 1e-5), so that the
//! chain stores them without computing with floats.

use crate::{DType, Schema};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// One billion: the denominator of a [`Tolerance`]'s bounds.
pub const PPB: f64 = 1_000_000_000.0;

/// A float model's published tolerance (see the module's documentation).
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Tolerance {
	/// The absolute bound, in billionths.
	pub absolute_ppb: u32,
	/// The bound relative to the verifier's value, in billionths.
	pub relative_ppb: u32,
}

/// Why a claimed output is not within a tolerance of the verifier's.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum OutputMismatch {
	/// An output is not the schema's length.
	Length {
		/// Which output: the claimed (`true`) or the verifier's.
		claimed: bool,
		/// Its length.
		len: u64,
		/// The schema's output length.
		expected: u64,
	},
	/// An element differs by more than the tolerance.
	Element {
		/// The output tensor, in schema order.
		tensor: u32,
		/// The element's index in it (row-major).
		index: u64,
		/// The claimed value.
		claimed: f64,
		/// The verifier's value.
		mine: f64,
	},
}

impl core::fmt::Display for OutputMismatch {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Length { claimed, len, expected } => write!(
				f,
				"the {} output is {len} bytes, the schema's is {expected}",
				if *claimed { "claimed" } else { "re-executed" }
			),
			Self::Element { tensor, index, claimed, mine } => write!(
				f,
				"output {tensor}, element {index}: {claimed} claimed, {mine} re-executed, \
				 beyond the model's tolerance"
			),
		}
	}
}

impl Tolerance {
	/// The absolute bound.
	pub fn absolute(&self) -> f64 {
		f64::from(self.absolute_ppb) / PPB
	}

	/// The relative bound.
	pub fn relative(&self) -> f64 {
		f64::from(self.relative_ppb) / PPB
	}

	/// Whether `claimed` is within this tolerance of `mine` (see the module's
	/// documentation).
	pub fn allows(&self, claimed: f64, mine: f64) -> bool {
		if claimed.is_nan() || mine.is_nan() {
			return claimed.is_nan() && mine.is_nan();
		}
		if claimed.is_infinite() || mine.is_infinite() {
			return claimed == mine;
		}
		abs(claimed - mine) <= self.absolute() + self.relative() * abs(mine)
	}

	/// Checks output `claimed` against the verifier's output `mine`, both laid out as
	/// `schema`'s outputs (little-endian tensors in schema order): float elements (`f32`,
	/// `f16`, `bf16`) within this tolerance, every other element equal.
	pub fn check(
		&self,
		schema: &Schema,
		claimed: &[u8],
		mine: &[u8],
	) -> Result<(), OutputMismatch> {
		let expected = schema.output_len();
		for (is_claimed, output) in [(true, claimed), (false, mine)] {
			if output.len() as u64 != expected {
				return Err(OutputMismatch::Length {
					claimed: is_claimed,
					len: output.len() as u64,
					expected,
				});
			}
		}
		let mut offset = 0usize;
		for (tensor, spec) in schema.outputs.iter().enumerate() {
			let size = spec.dtype.size() as usize;
			for index in 0..spec.elements() {
				let (a, b) = (&claimed[offset..offset + size], &mine[offset..offset + size]);
				offset += size;
				let (claimed, mine) = match spec.dtype {
					dtype if dtype.is_float() => {
						let (a, b) = (float(spec.dtype, a), float(spec.dtype, b));
						if self.allows(a, b) {
							continue;
						}
						(a, b)
					},
					_ if a == b => continue,
					_ => (integer(a), integer(b)),
				};
				return Err(OutputMismatch::Element {
					tensor: tensor as u32,
					index,
					claimed,
					mine,
				});
			}
		}
		Ok(())
	}
}

fn abs(x: f64) -> f64 {
	if x < 0.0 {
		-x
	} else {
		x
	}
}

/// A float element's value (`bytes` is one little-endian element of `dtype`).
fn float(dtype: DType, bytes: &[u8]) -> f64 {
	match dtype {
		DType::F32 => f64::from(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
		DType::BF16 => {
			f64::from(f32::from_bits(u32::from(u16::from_le_bytes([bytes[0], bytes[1]])) << 16))
		},
		_ => f64::from(f16_to_f32(u16::from_le_bytes([bytes[0], bytes[1]]))),
	}
}

/// An integer element's value, for a message (little-endian, sign-extended; `bool` and
/// `u8` are one byte, read unsigned).
fn integer(bytes: &[u8]) -> f64 {
	match bytes.len() {
		1 => f64::from(bytes[0]),
		2 => f64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
		4 => f64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
		_ => {
			let mut word = [0u8; 8];
			word.copy_from_slice(&bytes[..8]);
			i64::from_le_bytes(word) as f64
		},
	}
}

/// IEEE-754 binary16 to binary32, exactly.
fn f16_to_f32(bits: u16) -> f32 {
	let sign = u32::from(bits & 0x8000) << 16;
	let exponent = u32::from((bits >> 10) & 0x1f);
	let mantissa = u32::from(bits & 0x3ff);
	match exponent {
		// Zero and subnormals: mantissa · 2^-24.
		0 => {
			let value = mantissa as f32 / 16_777_216.0;
			if sign != 0 {
				-value
			} else {
				value
			}
		},
		// Infinities and NaNs.
		31 => f32::from_bits(sign | 0x7f80_0000 | (mantissa << 13)),
		_ => f32::from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13)),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::TensorSpec;
	use alloc::vec::Vec;
	use proptest::prelude::*;

	fn schema(outputs: &[(&[u32], DType)]) -> Schema {
		let tensor = |(shape, dtype): &(&[u32], DType)| TensorSpec::new(shape, *dtype).unwrap();
		Schema {
			inputs: alloc::vec![TensorSpec::new(&[1], DType::F32).unwrap()].try_into().unwrap(),
			outputs: outputs.iter().map(tensor).collect::<Vec<_>>().try_into().unwrap(),
		}
	}

	fn f32s(values: &[f32]) -> Vec<u8> {
		values.iter().flat_map(|v| v.to_le_bytes()).collect()
	}

	const TOLERANCE: Tolerance = Tolerance { absolute_ppb: 10_000, relative_ppb: 1_000_000 };

	#[test]
	fn the_bounds_are_billionths() {
		assert_eq!(TOLERANCE.absolute(), 1e-5);
		assert_eq!(TOLERANCE.relative(), 1e-3);
	}

	#[test]
	fn an_element_within_absolute_plus_relative_of_mine_is_allowed() {
		// 1e-5 + 1e-3 · 100 = 0.10001.
		assert!(TOLERANCE.allows(100.1, 100.0));
		assert!(!TOLERANCE.allows(100.2, 100.0));
		assert!(TOLERANCE.allows(0.000_009, 0.0));
		assert!(!TOLERANCE.allows(0.000_011, 0.0));
		// Relative to the verifier's value, not the claimed one.
		assert!(!TOLERANCE.allows(1000.0, 0.001));
	}

	#[test]
	fn nan_matches_only_nan_and_infinity_only_the_same_infinity() {
		let wide = Tolerance { absolute_ppb: u32::MAX, relative_ppb: u32::MAX };
		assert!(wide.allows(f64::NAN, f64::NAN));
		assert!(!wide.allows(f64::NAN, 1.0));
		assert!(!wide.allows(1.0, f64::NAN));
		assert!(wide.allows(f64::INFINITY, f64::INFINITY));
		assert!(!wide.allows(f64::NEG_INFINITY, f64::INFINITY));
		assert!(!wide.allows(f64::MAX, f64::INFINITY));
	}

	#[test]
	fn outputs_within_the_tolerance_pass_and_the_first_element_beyond_it_is_named() {
		let schema = schema(&[(&[1, 3], DType::F32), (&[2], DType::F32)]);
		let mine = f32s(&[1.0, -2.0, 3.0, 0.5, 0.25]);
		assert_eq!(TOLERANCE.check(&schema, &mine, &mine), Ok(()));
		let near = f32s(&[1.0005, -2.001, 3.0, 0.5, 0.25]);
		assert_eq!(TOLERANCE.check(&schema, &near, &mine), Ok(()));
		let far = f32s(&[1.0, -2.0, 3.0, 0.5, 0.26]);
		assert_eq!(
			TOLERANCE.check(&schema, &far, &mine),
			Err(OutputMismatch::Element {
				tensor: 1,
				index: 1,
				claimed: f64::from(0.26f32),
				mine: 0.25
			})
		);
	}

	#[test]
	fn an_output_of_another_length_is_refused() {
		let schema = schema(&[(&[2], DType::F32)]);
		let mine = f32s(&[1.0, 2.0]);
		assert_eq!(
			TOLERANCE.check(&schema, &mine[..4], &mine),
			Err(OutputMismatch::Length { claimed: true, len: 4, expected: 8 })
		);
		assert_eq!(
			TOLERANCE.check(&schema, &mine, &[mine.clone(), mine.clone()].concat()),
			Err(OutputMismatch::Length { claimed: false, len: 16, expected: 8 })
		);
	}

	#[test]
	fn integer_and_boolean_elements_must_be_equal() {
		let wide = Tolerance { absolute_ppb: u32::MAX, relative_ppb: u32::MAX };
		let schema = schema(&[(&[2], DType::I32), (&[1], DType::Bool), (&[1], DType::I64)]);
		let mine = [7i32.to_le_bytes(), (-3i32).to_le_bytes()].concat();
		let mine = [mine, alloc::vec![1], 5i64.to_le_bytes().to_vec()].concat();
		assert_eq!(wide.check(&schema, &mine, &mine), Ok(()));
		let mut claimed = mine.clone();
		claimed[4] = 0xfc; // -4
		assert_eq!(
			wide.check(&schema, &claimed, &mine),
			Err(OutputMismatch::Element { tensor: 0, index: 1, claimed: -4.0, mine: -3.0 })
		);
		let mut claimed = mine.clone();
		claimed[8] = 0;
		assert_eq!(
			wide.check(&schema, &claimed, &mine),
			Err(OutputMismatch::Element { tensor: 1, index: 0, claimed: 0.0, mine: 1.0 })
		);
	}

	#[test]
	fn half_precision_elements_are_read_exactly() {
		// f16: 1.0, -2.0, 65504 (largest), 2^-24 (smallest subnormal), +inf, NaN.
		for (bits, value) in [
			(0x3c00u16, 1.0f32),
			(0xc000, -2.0),
			(0x7bff, 65504.0),
			(0x0001, 5.960_464_5e-8),
			(0x8001, -5.960_464_5e-8),
			(0x7c00, f32::INFINITY),
		] {
			assert_eq!(f16_to_f32(bits), value, "{bits:#06x}");
		}
		assert!(f16_to_f32(0x7e00).is_nan());
		// bf16 is the top half of an f32.
		let schema = schema(&[(&[1], DType::BF16), (&[1], DType::F16)]);
		let mine = [0x3f80u16.to_le_bytes(), 0x3c00u16.to_le_bytes()].concat();
		let claimed = [0x3f81u16.to_le_bytes(), 0x3c00u16.to_le_bytes()].concat();
		let tight = Tolerance { absolute_ppb: 0, relative_ppb: 0 };
		assert!(matches!(
			tight.check(&schema, &claimed, &mine),
			Err(OutputMismatch::Element { tensor: 0, index: 0, mine, .. }) if mine == 1.0
		));
		let loose = Tolerance { absolute_ppb: 10_000_000, relative_ppb: 0 };
		assert_eq!(loose.check(&schema, &claimed, &mine), Ok(()));
	}

	proptest! {
		/// Any output is within any tolerance of itself, and a zero tolerance is byte
		/// equality for outputs without NaN (bit patterns aside: -0 equals +0).
		#[test]
		fn an_output_passes_against_itself_and_a_zero_tolerance_is_equality(
			values in proptest::collection::vec(-1e6f32..1e6, 4),
			other in proptest::collection::vec(-1e6f32..1e6, 4),
			absolute_ppb in 0u32..1_000_000, relative_ppb in 0u32..1_000_000,
		) {
			let schema = schema(&[(&[4], DType::F32)]);
			let tolerance = Tolerance { absolute_ppb, relative_ppb };
			prop_assert_eq!(tolerance.check(&schema, &f32s(&values), &f32s(&values)), Ok(()));
			let zero = Tolerance { absolute_ppb: 0, relative_ppb: 0 };
			let same = values.iter().zip(&other).all(|(a, b)| a == b);
			prop_assert_eq!(zero.check(&schema, &f32s(&other), &f32s(&values)).is_ok(), same);
		}

		/// A change of one element by more than its bound is always caught, whatever the
		/// other elements.
		#[test]
		fn a_change_beyond_the_bound_is_always_caught(
			values in proptest::collection::vec(-1e3f32..1e3, 8),
			at in 0usize..8, excess in 1.01f64..100.0,
		) {
			let schema = schema(&[(&[8], DType::F32)]);
			let mine = values[at] as f64;
			let bound = TOLERANCE.absolute() + TOLERANCE.relative() * mine.abs();
			let mut claimed = values.clone();
			claimed[at] = (mine + bound * excess) as f32;
			prop_assume!(!TOLERANCE.allows(claimed[at] as f64, mine));
			let caught = matches!(
				TOLERANCE.check(&schema, &f32s(&claimed), &f32s(&values)),
				Err(OutputMismatch::Element { index, .. }) if index == at as u64
			);
			prop_assert!(caught);
		}
	}
}
