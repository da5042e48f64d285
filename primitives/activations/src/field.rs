//! GF(65497): the field the commitment polynomial lives in (the largest prime below 2^16 −
//! 38, the reference's), and Lagrange interpolation to monomial coefficients.

use alloc::{vec, vec::Vec};

/// The field's prime.
pub const P: u32 = 65497;

fn mul(a: u32, b: u32) -> u32 {
	a * b % P
}

fn sub(a: u32, b: u32) -> u32 {
	(a + P - b) % P
}

/// `a`^(P−2): the inverse of a non-zero `a`.
fn inverse(a: u32) -> u32 {
	let (mut base, mut exponent, mut out) = (a % P, P - 2, 1);
	while exponent > 0 {
		if exponent & 1 == 1 {
			out = mul(out, base);
		}
		base = mul(base, base);
		exponent >>= 1;
	}
	out
}

/// The coefficients (constant first) of the polynomial of degree below `xs.len()` through
/// the points (`xs[i]`, `ys[i]`), all reduced mod [`P`]; `None` when two `xs` are equal
/// mod [`P`] or the lengths differ.
pub fn interpolate(xs: &[u32], ys: &[u32]) -> Option<Vec<u16>> {
	let n = xs.len();
	if ys.len() != n {
		return None;
	}
	let xs: Vec<u32> = xs.iter().map(|x| x % P).collect();
	// M(x) = ∏ (x − xᵢ), constant first, degree n.
	let mut master = vec![0u32; n + 1];
	master[0] = 1;
	for (degree, &x) in xs.iter().enumerate() {
		for j in (0..=degree + 1).rev() {
			let shifted = if j > 0 { master[j - 1] } else { 0 };
			master[j] = sub(shifted, mul(master[j], x));
		}
	}
	let mut out = vec![0u32; n];
	let mut quotient = vec![0u32; n];
	for (&x, &y) in xs.iter().zip(ys) {
		// Qᵢ = M / (x − xᵢ) by synthetic division, and Qᵢ(xᵢ).
		let mut carry = 0;
		for j in (0..n).rev() {
			carry = (master[j + 1] + mul(carry, x)) % P;
			quotient[j] = carry;
		}
		let at = evaluate_u32(&quotient, x);
		if at == 0 {
			return None;
		}
		let weight = mul(y % P, inverse(at));
		for (o, q) in out.iter_mut().zip(&quotient) {
			*o = (*o + mul(weight, *q)) % P;
		}
	}
	Some(out.into_iter().map(|c| c as u16).collect())
}

fn evaluate_u32(coefficients: &[u32], x: u32) -> u32 {
	coefficients.iter().rev().fold(0, |acc, &c| (mul(acc, x) + c) % P)
}

/// The value at `x` of the polynomial with `coefficients` (constant first), mod [`P`].
pub fn evaluate(coefficients: &[u16], x: u32) -> u32 {
	let x = x % P;
	coefficients.iter().rev().fold(0, |acc, &c| (mul(acc, x) + u32::from(c)) % P)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_modulus_is_prime() {
		assert!((2..=255).all(|d| !P.is_multiple_of(d)));
	}

	#[test]
	fn inverses_multiply_to_one() {
		for a in [1, 2, 3, 12345, P - 1] {
			assert_eq!(mul(a, inverse(a)), 1);
		}
	}

	#[test]
	fn a_line_through_three_collinear_points_has_no_square_term() {
		assert_eq!(interpolate(&[1, 2, 3], &[5, 6, 7]), Some(vec![4, 1, 0]));
	}

	#[test]
	fn interpolation_passes_through_every_point() {
		let xs: Vec<u32> = (0..128).map(|i| i * 511 + 7).collect();
		let ys: Vec<u32> = (0..128).map(|i| (i * i * 977 + 3) % P).collect();
		let poly = interpolate(&xs, &ys).unwrap();
		for (x, y) in xs.iter().zip(&ys) {
			assert_eq!(evaluate(&poly, *x), *y);
		}
	}

	#[test]
	fn equal_abscissas_have_no_interpolation() {
		assert_eq!(interpolate(&[4, 4], &[1, 2]), None);
		assert_eq!(interpolate(&[4, 4 + P], &[1, 2]), None);
		assert_eq!(interpolate(&[1, 2], &[1]), None);
	}
}
