//! The decoder's small steps in f32 on the CPU, one C++ loop each (`fused.cpp`): RMSNorm,
//! rotary embedding, SwiGLU, and a decode step's attention with its cache write.
//!
//! As tensor code each of them is several libtorch operators, and at decode time (one row
//! per sequence) the dispatch of those operators, about 1–3 µs each and some 60 a layer,
//! was most of a step's time outside the weight products: about 7 ms of SmolLM2-135M's
//! 27 ms in f32 on 2 cores. The model (`model.rs`) runs these where its weights are f32 on
//! the CPU, for decode steps (at most 8 rows; over a prompt's many rows libtorch's
//! vectorized operators are faster), and the tensor code elsewhere (prefills, bf16,
//! CUDA). Rotary embedding gives the tensor
//! code's bits; the others sum in another order or take `exp` from the C library, so they
//! differ from it in the last bits (the tests bound by how much).

use super::linear::shim;
use std::ffi::c_char;
use tch::{TchError, Tensor};
use torch_sys::C_tensor;

extern "C" {
	fn opg_rms_norm(
		x: *const C_tensor,
		weight: *const C_tensor,
		eps: f64,
		error: *mut c_char,
		error_len: usize,
	) -> *mut C_tensor;
	fn opg_rope(
		x: *const C_tensor,
		cos: *const C_tensor,
		sin: *const C_tensor,
		error: *mut c_char,
		error_len: usize,
	) -> *mut C_tensor;
	fn opg_swiglu(gate_up: *const C_tensor, error: *mut c_char, error_len: usize) -> *mut C_tensor;
	#[allow(clippy::too_many_arguments)]
	fn opg_decode_attention(
		q: *const C_tensor,
		keys_new: *const C_tensor,
		values_new: *const C_tensor,
		keys: *mut C_tensor,
		values: *mut C_tensor,
		slots: *const C_tensor,
		positions: *const C_tensor,
		error: *mut c_char,
		error_len: usize,
	) -> *mut C_tensor;
}

const WHAT: &str = "fused step";

/// `x · rsqrt(mean(x²) + eps) · weight` per row of `x` `[rows, width]` (contiguous f32).
pub fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor, TchError> {
	// SAFETY: both tensors outlive the call; the shim only reads them.
	shim(WHAT, |error, len| unsafe { opg_rms_norm(x.as_ptr(), weight.as_ptr(), eps, error, len) })
}

/// Rotary embedding with rotating halves, `x · cos + (−x₂, x₁) · sin`, for `x` `[tokens,
/// heads, dim]` and `cos`/`sin` `[tokens, 1, dim]`: the tensor code's bits.
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor, TchError> {
	// SAFETY: the tensors outlive the call; the shim only reads them.
	shim(WHAT, |error, len| unsafe { opg_rope(x.as_ptr(), cos.as_ptr(), sin.as_ptr(), error, len) })
}

/// `silu(gate) · up` for `gate_up` `[rows, 2·inner]`, gate first: `[rows, inner]`.
pub fn swiglu(gate_up: &Tensor) -> Result<Tensor, TchError> {
	// SAFETY: the tensor outlives the call; the shim only reads it.
	shim(WHAT, |error, len| unsafe { opg_swiglu(gate_up.as_ptr(), error, len) })
}

/// One decode step's attention: writes each row's new key and value (`[rows, kv heads,
/// dim]`) into its slot of the caches (`[slots, kv heads, capacity, dim]`, contiguous) at
/// its position, then attends its query (`[rows, heads, dim]`) over the slot's positions
/// up to that one, query heads grouped over the key/value heads: `[rows, heads·dim]`.
/// `slots` and `positions` hold one i64 per row; a slot may appear once. All f32, or all
/// bf16 (then computed in f32 over the exactly widened values, rounded to bf16 once).
pub fn decode_attention(
	q: &Tensor,
	keys_new: &Tensor,
	values_new: &Tensor,
	keys: &mut Tensor,
	values: &mut Tensor,
	slots: &Tensor,
	positions: &Tensor,
) -> Result<Tensor, TchError> {
	// SAFETY: the tensors outlive the call; the caches, borrowed mutably, are written in
	// place within their bounds (the shim checks slots and positions against them).
	shim(WHAT, |error, len| unsafe {
		opg_decode_attention(
			q.as_ptr(),
			keys_new.as_ptr(),
			values_new.as_ptr(),
			keys.as_mut_ptr(),
			values.as_mut_ptr(),
			slots.as_ptr(),
			positions.as_ptr(),
			error,
			len,
		)
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use tch::{Device, Kind};

	const CPU: (Kind, Device) = (Kind::Float, Device::Cpu);

	fn worst(a: &Tensor, b: &Tensor) -> f64 {
		(a - b).abs().max().double_value(&[])
	}

	#[test]
	fn rms_norm_is_within_rounding_of_the_tensor_code() {
		let _no_grad = tch::no_grad_guard();
		tch::manual_seed(3);
		for rows in [1, 3, 70] {
			let x = Tensor::randn([rows, 576], CPU) * 3.0;
			let w = Tensor::randn([576], CPU);
			let variance = x.pow_tensor_scalar(2).mean_dim(-1, true, Kind::Float);
			let expected = (&x * (variance + 1e-5).rsqrt()) * &w;
			let got = rms_norm(&x, &w, 1e-5).unwrap();
			assert!(worst(&got, &expected) <= 1e-5, "{rows} rows: {}", worst(&got, &expected));
		}
	}

	#[test]
	fn rope_gives_the_tensor_codes_bits() {
		let _no_grad = tch::no_grad_guard();
		let x = Tensor::randn([5, 12, 64], CPU);
		let (cos, sin) = (Tensor::randn([5, 1, 64], CPU), Tensor::randn([5, 1, 64], CPU));
		let rotated = Tensor::cat(&[x.narrow(2, 32, 32).neg(), x.narrow(2, 0, 32)], 2);
		let expected = &x * &cos + rotated * &sin;
		assert!(rope(&x, &cos, &sin).unwrap().equal(&expected));
		// A strided view of x (Q and K narrowed from one projection) reads the same.
		let wide = Tensor::randn([5, 20, 64], CPU);
		let part = wide.narrow(1, 2, 12);
		assert!(rope(&part, &cos, &sin)
			.unwrap()
			.equal(&rope(&part.contiguous(), &cos, &sin).unwrap()));
	}

	#[test]
	fn swiglu_is_within_rounding_of_the_tensor_code() {
		let _no_grad = tch::no_grad_guard();
		// The threads split the elements, not the rows: 3 rows split mid-row, and a width
		// of 7 splits anywhere.
		for (rows, inner) in [(4, 1536), (3, 1536), (1, 1536), (37, 7)] {
			let gate_up = Tensor::randn([rows, 2 * inner], CPU) * 4.0;
			let expected = gate_up.narrow(1, 0, inner).silu() * gate_up.narrow(1, inner, inner);
			let got = swiglu(&gate_up).unwrap();
			assert_eq!(got.size(), [rows, inner]);
			assert!(worst(&got, &expected) <= 1e-5, "{}", worst(&got, &expected));
			// A row alone is the same bits as in the batch.
			let alone = swiglu(&gate_up.narrow(0, rows - 1, 1).contiguous()).unwrap();
			assert!(alone.equal(&got.narrow(0, rows - 1, 1)), "{rows} × {inner}");
		}
	}

	/// Caches `[slots, kv heads, capacity, dim]` of random keys and values.
	fn caches(slots: i64, capacity: i64) -> (Tensor, Tensor) {
		(Tensor::randn([slots, 3, capacity, 64], CPU), Tensor::randn([slots, 3, capacity, 64], CPU))
	}

	/// [`decode_attention`] with slots and positions as slices.
	fn attend(
		q: &Tensor,
		k: &Tensor,
		v: &Tensor,
		(keys, values): (&mut Tensor, &mut Tensor),
		slots: &[i64],
		positions: &[i64],
	) -> Result<Tensor, TchError> {
		let (slots, positions) = (Tensor::from_slice(slots), Tensor::from_slice(positions));
		decode_attention(q, k, v, keys, values, &slots, &positions)
	}

	#[test]
	fn decode_attention_writes_the_cache_and_attends_as_scaled_dot_product_attention() {
		let _no_grad = tch::no_grad_guard();
		tch::manual_seed(5);
		let (mut keys, mut values) = caches(4, 128);
		// Rows in slots 2, 0 and 3, at positions 0 (one key), 77 and 127 (the last).
		let (slots, positions) = ([2i64, 0, 3], [0i64, 77, 127]);
		let q = Tensor::randn([3, 9, 64], CPU);
		let (k, v) = (Tensor::randn([3, 3, 64], CPU), Tensor::randn([3, 3, 64], CPU));
		let untouched = (keys.select(0, 1).copy(), values.select(0, 1).copy());
		let out = attend(&q, &k, &v, (&mut keys, &mut values), &slots, &positions).unwrap();
		assert_eq!(out.size(), [3, 9 * 64]);
		assert!(keys.select(0, 1).equal(&untouched.0) && values.select(0, 1).equal(&untouched.1));
		for (row, (&slot, &position)) in slots.iter().zip(&positions).enumerate() {
			let row = row as i64;
			assert!(keys.select(0, slot).select(1, position).equal(&k.select(0, row)));
			assert!(values.select(0, slot).select(1, position).equal(&v.select(0, row)));
			let expected = Tensor::scaled_dot_product_attention::<Tensor>(
				&q.select(0, row).unsqueeze(1),
				&keys.select(0, slot).narrow(1, 0, position + 1),
				&values.select(0, slot).narrow(1, 0, position + 1),
				None,
				0.0,
				false,
				None,
				true,
			)
			.reshape([9 * 64]);
			let error = worst(&out.select(0, row), &expected);
			assert!(error <= 1e-5, "row {row}: {error}");
		}
	}

	#[test]
	fn bf16_decode_attention_is_the_f32_attention_of_its_values_rounded_once() {
		let _no_grad = tch::no_grad_guard();
		tch::manual_seed(6);
		let bf16 = |t: Tensor| t.to_kind(Kind::BFloat16);
		let (keys, values) = caches(4, 128);
		let (mut keys, mut values) = (bf16(keys), bf16(values));
		let (slots, positions) = ([2i64, 0, 3], [0i64, 77, 127]);
		let q = bf16(Tensor::randn([3, 9, 64], CPU));
		let (k, v) = (bf16(Tensor::randn([3, 3, 64], CPU)), bf16(Tensor::randn([3, 3, 64], CPU)));
		let out = attend(&q, &k, &v, (&mut keys, &mut values), &slots, &positions).unwrap();
		assert_eq!((out.kind(), out.size()), (Kind::BFloat16, vec![3, 9 * 64]));
		let wide = |t: &Tensor| t.to_kind(Kind::Float);
		for (row, (&slot, &position)) in slots.iter().zip(&positions).enumerate() {
			let row = row as i64;
			assert!(keys.select(0, slot).select(1, position).equal(&k.select(0, row)));
			assert!(values.select(0, slot).select(1, position).equal(&v.select(0, row)));
			let expected = Tensor::scaled_dot_product_attention::<Tensor>(
				&wide(&q.select(0, row)).unsqueeze(1),
				&wide(&keys.select(0, slot).narrow(1, 0, position + 1)),
				&wide(&values.select(0, slot).narrow(1, 0, position + 1)),
				None,
				0.0,
				false,
				None,
				true,
			)
			.reshape([9 * 64]);
			// Within f32 rounding before the one rounding to bf16 (8 bits: 2⁻⁸ relative).
			let got = wide(&out.select(0, row));
			let bound = (expected.abs() * (1.0 / 256.0)).clamp_min(1e-6) + 1e-5;
			let over = (got - &expected).abs().gt_tensor(&bound).any().int64_value(&[]);
			assert_eq!(over, 0, "row {row}");
		}
		// Types must agree: bf16 caches with an f32 query are refused.
		let f32_q = Tensor::randn([1, 9, 64], CPU);
		let (k1, v1) = (k.narrow(0, 0, 1), v.narrow(0, 0, 1));
		assert!(attend(&f32_q, &k1, &v1, (&mut keys, &mut values), &[1], &[0]).is_err());
	}

	#[test]
	fn decode_attention_refuses_rows_outside_the_cache_and_changes_nothing() {
		let _no_grad = tch::no_grad_guard();
		let (q, k, v) = (
			Tensor::randn([2, 9, 64], CPU),
			Tensor::randn([2, 3, 64], CPU),
			Tensor::randn([2, 3, 64], CPU),
		);
		let cases: [([i64; 2], [i64; 2], &str); 4] = [
			([0, 4], [1, 1], "a slot outside the cache"),
			([0, -1], [1, 1], "a slot outside the cache"),
			([0, 1], [1, 128], "a position outside the cache"),
			([1, 1], [1, 2], "a slot twice in one step"),
		];
		for (slots, positions, reason) in cases {
			let (mut keys, mut values) = caches(4, 128);
			let before = (keys.copy(), values.copy());
			let error = attend(&q, &k, &v, (&mut keys, &mut values), &slots, &positions)
				.unwrap_err()
				.to_string();
			assert!(error.contains(reason), "{slots:?} {positions:?}: {error}");
			assert!(keys.equal(&before.0) && values.equal(&before.1));
		}
	}

	#[test]
	fn the_small_steps_refuse_what_they_cannot_read() {
		let bf16 = Tensor::randn([2, 8], CPU).to_kind(Kind::BFloat16);
		assert!(rms_norm(&bf16, &Tensor::ones([8], CPU), 1e-5).is_err());
		assert!(rms_norm(&Tensor::ones([2, 8], CPU), &Tensor::ones([9], CPU), 1e-5).is_err());
		assert!(swiglu(&Tensor::ones([2, 7], CPU)).is_err());
		let x = Tensor::ones([2, 3, 8], CPU);
		assert!(rope(&x, &Tensor::ones([2, 1, 6], CPU), &Tensor::ones([2, 1, 6], CPU)).is_err());
		let (keys, mut values) = caches(2, 16);
		// A key cache that is not contiguous.
		let mut strided = keys.transpose(1, 2);
		let (q, k) = (Tensor::ones([1, 9, 64], CPU), Tensor::ones([1, 3, 64], CPU));
		let error = attend(&q, &k, &k, (&mut strided, &mut values), &[0], &[0]);
		assert!(error.unwrap_err().to_string().contains("contiguous"));
	}
}
