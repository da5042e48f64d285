//! bfloat16: the precision values are committed at (the reference commits bf16 only).

/// The bf16 bits of `value`, rounded to nearest, ties to even (as PyTorch converts); NaN
/// is the quiet NaN `0x7fc0`.
pub fn from_f32(value: f32) -> u16 {
	let bits = value.to_bits();
	if value.is_nan() {
		return 0x7fc0;
	}
	let rounding = 0x7fff + ((bits >> 16) & 1);
	(bits.wrapping_add(rounding) >> 16) as u16
}

/// The f32 of bf16 `bits` (exact).
pub fn to_f32(bits: u16) -> f32 {
	f32::from_bits(u32::from(bits) << 16)
}

/// The parts of bf16 `bits`: sign (0 or 1), biased exponent (8 bits), mantissa (7 bits).
pub fn parts(bits: u16) -> (u8, u8, u8) {
	((bits >> 15) as u8, ((bits >> 7) & 0xff) as u8, (bits & 0x7f) as u8)
}

/// The magnitude bits of bf16 `bits`: ordered as the magnitudes of finite values are.
pub fn magnitude(bits: u16) -> u16 {
	bits & 0x7fff
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn rounding_is_to_nearest_with_ties_to_even() {
		assert_eq!(from_f32(1.0), 0x3f80);
		assert_eq!(from_f32(-1.5), 0xbfc0);
		// 1 + 2^-8 is halfway between 1 and 1 + 2^-7: to even (1).
		assert_eq!(from_f32(1.0 + 1.0 / 256.0), 0x3f80);
		// 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: to even (1 + 2^-6).
		assert_eq!(from_f32(1.0 + 3.0 / 256.0), 0x3f82);
		assert_eq!(from_f32(1.0 + 1.0 / 256.0 + 1.0 / 65536.0), 0x3f81);
		assert_eq!(from_f32(f32::NAN), 0x7fc0);
		assert_eq!(from_f32(f32::INFINITY), 0x7f80);
		assert_eq!(from_f32(f32::MAX), 0x7f80, "overflows to infinity as PyTorch does");
	}

	#[test]
	fn parts_are_sign_exponent_and_mantissa() {
		assert_eq!(parts(from_f32(1.5)), (0, 127, 64));
		assert_eq!(parts(from_f32(-1.5)), (1, 127, 64));
		assert_eq!(parts(from_f32(0.1)), (0, 123, 77));
		assert_eq!(to_f32(0xc040), -3.0);
	}
}
