//! Fixtures for the tests and benchmarks of the model hub and of the pallets and runtimes
//! built on it: tensors, schemas and model specs.

use crate::*;
use alloc::vec::Vec;
use polkadot_sdk::frame_support::BoundedVec;

/// A tensor of `shape` and `dtype`, not quantized (at most 8 dimensions are kept).
pub fn tensor(shape: &[u32], dtype: DType) -> TensorSpec {
	TensorSpec { shape: BoundedVec::truncate_from(shape.to_vec()), dtype, quantization: None }
}

/// A schema of these input and output tensors (at most 8 of each are kept).
pub fn schema(inputs: Vec<TensorSpec>, outputs: Vec<TensorSpec>) -> Schema {
	Schema {
		inputs: BoundedVec::truncate_from(inputs),
		outputs: BoundedVec::truncate_from(outputs),
	}
}

/// A quantized-integer model's schema: one I8 vector in, one I8 vector out.
pub fn int8_vectors(input_len: u32, output_len: u32) -> Schema {
	schema(
		alloc::vec![tensor(&[input_len], DType::I8)],
		alloc::vec![tensor(&[output_len], DType::I8)],
	)
}

/// Version 1.0.0 of model `name`: its `format`, an artifact of `size` bytes hashing to
/// `hash` with no locator, its `schema`, `price` and evidence `modes`
/// ([`VerificationModes`] flags). Change any field with struct update syntax.
pub fn spec<Balance>(
	name: &str,
	format: ModelFormat,
	hash: ContentHash,
	size: u64,
	schema: Schema,
	price: Balance,
	modes: u8,
) -> ModelSpec<Balance> {
	ModelSpec {
		name: BoundedVec::truncate_from(name.as_bytes().to_vec()),
		version: Version { major: 1, minor: 0, patch: 0 },
		format,
		artifact: Artifact { hash, size, locator: BoundedVec::new() },
		schema,
		price,
		modes: VerificationModes(modes),
		tolerance: None,
	}
}
