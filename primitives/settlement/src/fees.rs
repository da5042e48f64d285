//! The split of a request's price between the serving node and the protocol.

/// Parts per billion: `1_000_000_000` is the whole.
pub const BILLION: u32 = 1_000_000_000;

/// Decimals of the OPG token.
pub const TOKEN_DECIMALS: u8 = 18;
/// One OPG in its smallest unit (10^[`TOKEN_DECIMALS`]): every amount in OPG's crates and
/// its runtime is counted in these.
pub const OPG: u128 = 10u128.pow(TOKEN_DECIMALS as u32);

/// Where a payment goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Split {
	/// Paid to the node's operator.
	pub node: u128,
	/// Paid to the treasury.
	pub protocol: u128,
}

/// Splits `price`, taking `protocol_fee` parts per billion (capped at the whole) for the
/// protocol, rounded down; the node gets the rest, so the parts always sum to `price`.
pub fn split(price: u128, protocol_fee: u32) -> Split {
	let fee = u128::from(protocol_fee.min(BILLION));
	// price * fee / 1e9 without overflow: split price into quotient and remainder.
	let whole = price / u128::from(BILLION);
	let rest = price % u128::from(BILLION);
	let protocol = whole * fee + rest * fee / u128::from(BILLION);
	Split { node: price - protocol, protocol }
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	#[test]
	fn examples() {
		assert_eq!(split(1_000, 50_000_000), Split { node: 950, protocol: 50 });
		assert_eq!(split(1_000, 0), Split { node: 1_000, protocol: 0 });
		assert_eq!(split(1_000, BILLION), Split { node: 0, protocol: 1_000 });
		assert_eq!(split(1_000, u32::MAX), Split { node: 0, protocol: 1_000 });
		assert_eq!(split(9, 100_000_000), Split { node: 9, protocol: 0 });
		assert_eq!(split(u128::MAX, BILLION / 2).protocol, u128::MAX / 2);
	}

	proptest! {
		#[test]
		fn parts_sum_to_the_price_and_match_exact_math(price: u128, fee in 0..=BILLION) {
			let split = split(price, fee);
			prop_assert_eq!(split.node + split.protocol, price);
			// Exact for prices where the product fits.
			if let Some(product) = price.checked_mul(u128::from(fee)) {
				prop_assert_eq!(split.protocol, product / u128::from(BILLION));
			}
		}
	}
}
