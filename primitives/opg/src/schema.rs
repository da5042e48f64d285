//! A model's input and output tensors: what the model hub publishes and the executor
//! checks requests against.
//!
//! A request's input is its input tensors' bytes, little-endian, concatenated in the
//! order of [`Schema::inputs`]; an answer's output is the output tensors' bytes in the same
//! way. [`Schema::input_len`] and [`Schema::output_len`] are those byte lengths.

use crate::{BoundedVec, ConstU32};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// The most dimensions of a tensor.
pub type MaxRank = ConstU32<8>;
/// The most input or output tensors of a model.
pub type MaxTensors = ConstU32<8>;

/// A tensor element type. In JSON: `f32`, `f16`, `bf16`, `i8`, `u8`, `i16`, `i32`, `i64`,
/// `bool`.
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
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum DType {
	/// 32-bit float.
	F32,
	/// 16-bit float.
	F16,
	/// bfloat16.
	BF16,
	/// 8-bit signed integer.
	I8,
	/// 8-bit unsigned integer.
	U8,
	/// 16-bit signed integer.
	I16,
	/// 32-bit signed integer.
	I32,
	/// 64-bit signed integer.
	I64,
	/// Boolean, one byte.
	Bool,
}

impl DType {
	/// Whether it is a floating-point type.
	pub fn is_float(self) -> bool {
		matches!(self, Self::F32 | Self::F16 | Self::BF16)
	}

	/// Bytes per element.
	pub fn size(self) -> u32 {
		match self {
			Self::I8 | Self::U8 | Self::Bool => 1,
			Self::F16 | Self::BF16 | Self::I16 => 2,
			Self::F32 | Self::I32 => 4,
			Self::I64 => 8,
		}
	}
}

/// Affine quantization `real = scale * (q - zero_point)`.
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
pub struct Quantization {
	/// The scale as IEEE-754 binary32 bits (the chain never computes with it).
	pub scale_bits: u32,
	/// The zero point.
	pub zero_point: i32,
}

/// One input or output tensor.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TensorSpec {
	/// Dimensions, outermost first; all non-zero. The executor batches along the first.
	pub shape: BoundedVec<u32, MaxRank>,
	/// Element type.
	pub dtype: DType,
	/// For quantized tensors, how integers map to reals.
	#[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
	pub quantization: Option<Quantization>,
}

impl TensorSpec {
	/// A tensor of `shape` and `dtype`, not quantized; `None` past [`MaxRank`] dimensions.
	pub fn new(shape: &[u32], dtype: DType) -> Option<Self> {
		Some(Self { shape: BoundedVec::try_from(shape.to_vec()).ok()?, dtype, quantization: None })
	}

	/// The number of elements (saturating).
	pub fn elements(&self) -> u64 {
		self.shape.iter().fold(1u64, |n, d| n.saturating_mul(u64::from(*d)))
	}

	/// The byte length of one such tensor (saturating).
	pub fn byte_len(&self) -> u64 {
		self.elements().saturating_mul(u64::from(self.dtype.size()))
	}

	fn is_valid(&self) -> bool {
		!self.shape.is_empty() && self.shape.iter().all(|d| *d > 0)
	}
}

/// A model's inputs and outputs.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen, Debug,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Schema {
	/// Input tensors, in call order; at least one.
	pub inputs: BoundedVec<TensorSpec, MaxTensors>,
	/// Output tensors, in return order (a module returning a tuple has several); at least
	/// one.
	pub outputs: BoundedVec<TensorSpec, MaxTensors>,
}

/// Why a schema is unusable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SchemaError {
	/// No input or no output tensor.
	NoTensors,
	/// A tensor with no dimension or a zero dimension.
	EmptyShape,
}

impl core::fmt::Display for SchemaError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.write_str(match self {
			Self::NoTensors => "a schema needs at least one input and one output",
			Self::EmptyShape => "every tensor needs a shape of non-zero dimensions",
		})
	}
}

impl Schema {
	/// Checks that the schema has input and output tensors, each with a shape of non-zero
	/// dimensions.
	pub fn validate(&self) -> Result<(), SchemaError> {
		if self.inputs.is_empty() || self.outputs.is_empty() {
			return Err(SchemaError::NoTensors);
		}
		if !self.inputs.iter().chain(self.outputs.iter()).all(TensorSpec::is_valid) {
			return Err(SchemaError::EmptyShape);
		}
		Ok(())
	}

	/// The byte length of one request's input (saturating).
	pub fn input_len(&self) -> u64 {
		self.inputs.iter().fold(0u64, |total, t| total.saturating_add(t.byte_len()))
	}

	/// The byte length of one answer's output (saturating).
	pub fn output_len(&self) -> u64 {
		self.outputs.iter().fold(0u64, |total, t| total.saturating_add(t.byte_len()))
	}

	/// Whether the schema is bytes: one `U8` input and one `U8` output, each of one
	/// dimension, their lengths the most bytes a request and an answer take (a language
	/// model's chat request and answer text).
	pub fn is_bytes(&self) -> bool {
		fn bytes(tensors: &[TensorSpec]) -> bool {
			match tensors {
				[tensor] => {
					tensor.dtype == DType::U8
						&& tensor.shape.len() == 1
						&& tensor.quantization.is_none()
				},
				_ => false,
			}
		}
		bytes(&self.inputs) && bytes(&self.outputs)
	}

	/// Whether every output tensor is of `dtype`.
	pub fn outputs_are(&self, dtype: DType) -> bool {
		self.outputs.iter().all(|t| t.dtype == dtype)
	}

	/// Whether some output tensor is of a float type (`F32`, `F16`, `BF16`): what a
	/// [`crate::Tolerance`] bounds.
	pub fn has_float_output(&self) -> bool {
		self.outputs.iter().any(|t| t.dtype.is_float())
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	fn tensor(shape: &[u32], dtype: DType) -> TensorSpec {
		TensorSpec::new(shape, dtype).unwrap()
	}

	fn schema(inputs: alloc::vec::Vec<TensorSpec>, outputs: alloc::vec::Vec<TensorSpec>) -> Schema {
		Schema {
			inputs: BoundedVec::truncate_from(inputs),
			outputs: BoundedVec::truncate_from(outputs),
		}
	}

	#[test]
	fn byte_lengths_are_elements_times_element_size_summed_over_tensors() {
		let s = schema(
			vec![tensor(&[1, 784], DType::F32), tensor(&[2, 3], DType::I64)],
			vec![tensor(&[1, 10], DType::BF16)],
		);
		assert_eq!(s.input_len(), 784 * 4 + 6 * 8);
		assert_eq!(s.output_len(), 20);
	}

	#[test]
	fn a_bytes_schema_is_one_u8_vector_in_and_one_out() {
		let bytes = |len| tensor(&[len], DType::U8);
		assert!(schema(vec![bytes(8192)], vec![bytes(16384)]).is_bytes());
		let quantized = TensorSpec {
			quantization: Some(Quantization { scale_bits: 1.0f32.to_bits(), zero_point: 0 }),
			..bytes(8)
		};
		for not_bytes in [
			schema(vec![tensor(&[8], DType::I8)], vec![bytes(8)]),
			schema(vec![bytes(8)], vec![tensor(&[2, 8], DType::U8)]),
			schema(vec![bytes(8), bytes(8)], vec![bytes(8)]),
			schema(vec![bytes(8)], vec![]),
			schema(vec![quantized], vec![bytes(8)]),
		] {
			assert!(!not_bytes.is_bytes(), "{not_bytes:?}");
		}
	}

	#[test]
	fn each_dtype_has_its_size() {
		use DType::*;
		let sizes = [F32, F16, BF16, I8, U8, I16, I32, I64, Bool].map(DType::size);
		assert_eq!(sizes, [4, 2, 2, 1, 1, 2, 4, 8, 1]);
	}

	#[test]
	fn a_schema_without_inputs_or_outputs_is_refused() {
		assert_eq!(
			schema(vec![], vec![tensor(&[1], DType::I8)]).validate(),
			Err(SchemaError::NoTensors)
		);
		assert_eq!(
			schema(vec![tensor(&[1], DType::I8)], vec![]).validate(),
			Err(SchemaError::NoTensors)
		);
	}

	#[test]
	fn a_tensor_with_no_or_a_zero_dimension_is_refused() {
		let ok = tensor(&[1, 2], DType::I8);
		assert_eq!(
			schema(vec![ok.clone()], vec![tensor(&[], DType::I8)]).validate(),
			Err(SchemaError::EmptyShape)
		);
		assert_eq!(
			schema(vec![tensor(&[1, 0], DType::I8)], vec![ok.clone()]).validate(),
			Err(SchemaError::EmptyShape)
		);
		assert_eq!(schema(vec![ok.clone()], vec![ok]).validate(), Ok(()));
	}

	#[test]
	fn a_tensor_has_at_most_eight_dimensions() {
		assert!(TensorSpec::new(&[1; 8], DType::U8).is_some());
		assert!(TensorSpec::new(&[1; 9], DType::U8).is_none());
	}

	#[test]
	fn huge_shapes_saturate_instead_of_wrapping() {
		let s = schema(
			vec![tensor(&[u32::MAX; 8], DType::I64)],
			vec![tensor(&[u32::MAX; 3], DType::I8)],
		);
		assert_eq!(s.input_len(), u64::MAX);
		assert_eq!(s.output_len(), u64::MAX);
	}

	#[test]
	fn the_scale_encoding_is_the_model_hubs() {
		// shape: compact length 2, then u32s; dtype index; no quantization.
		let encoded = tensor(&[1, 10], DType::BF16).encode();
		assert_eq!(encoded, [8, 1, 0, 0, 0, 10, 0, 0, 0, 2, 0]);
		assert_eq!(TensorSpec::decode(&mut &encoded[..]).unwrap(), tensor(&[1, 10], DType::BF16));
	}

	#[cfg(feature = "serde")]
	#[test]
	fn json_names_dtypes_in_lowercase_and_quantization_is_optional() {
		let json = r#"{"inputs":[{"shape":[1,16],"dtype":"bf16"}],"outputs":[{"shape":[1,4],"dtype":"i8","quantization":{"scale_bits":1065353216,"zero_point":-3}}]}"#;
		let parsed: Schema = serde_json::from_str(json).unwrap();
		assert_eq!(parsed.inputs[0], tensor(&[1, 16], DType::BF16));
		assert_eq!(
			parsed.outputs[0].quantization,
			Some(Quantization { scale_bits: 0x3f80_0000, zero_point: -3 })
		);
		assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
	}

	#[cfg(feature = "serde")]
	#[test]
	fn json_with_too_many_dimensions_or_an_unknown_dtype_is_refused() {
		assert!(serde_json::from_str::<TensorSpec>(
			r#"{"shape":[1,1,1,1,1,1,1,1,1],"dtype":"f32"}"#
		)
		.is_err());
		assert!(serde_json::from_str::<TensorSpec>(r#"{"shape":[1],"dtype":"Bf16"}"#).is_err());
	}

	proptest::proptest! {
		#[test]
		fn scale_encoding_round_trips(shape in proptest::collection::vec(1u32..1000, 1..=8), dtype in 0u8..9, zp in proptest::option::of(proptest::prelude::any::<i32>())) {
			let dtype = DType::decode(&mut &[dtype][..]).unwrap();
			let mut t = tensor(&shape, dtype);
			t.quantization = zp.map(|zero_point| Quantization { scale_bits: 7, zero_point });
			let s = schema(vec![t.clone()], vec![t]);
			proptest::prop_assert_eq!(Schema::decode(&mut &s.encode()[..]).unwrap(), s.clone());
			proptest::prop_assert!(s.encode().len() <= Schema::max_encoded_len());
			proptest::prop_assert_eq!(s.validate(), Ok(()));
		}
	}
}
