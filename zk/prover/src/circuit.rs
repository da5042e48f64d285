//! The R1CS circuit of one inference of an [`opg_qmodel`] model.
//!
//! Weights and biases are circuit constants: a multiply-accumulate is a linear
//! combination and costs no constraint. Constraints are spent per value:
//! - each input value: 8 boolean bits of `x + 128` (the input range check);
//! - each dense, conv2d or sum-pool output: `m·acc = 2^s·q + r` in one constraint, with
//!   `r` as `s` bits and `q + 2^(B-1)` as `B` bits (both range checks; `B` is the fewest
//!   bits, at least 9, that hold every `q` the layer's weights allow), then the clamp to
//!   `-128..=127` and the ReLU read from those bits: 5 more constraints with ReLU, 8
//!   without. A convolution's accumulator is a linear combination of the inputs under its
//!   window (the geometry is [`opg_qmodel::Conv2d::for_each_tap`], shared with the
//!   executor), so a convolution costs no more per output than a dense layer;
//! - each average-pool output: `sum = k²·q + r` in one constraint, with `q + 128` as 8
//!   bits, `r` as `⌈log2 k²⌉` bits and, when `k²` is not a power of two, `k² − 1 − r` as
//!   as many bits (so that `0 ≤ r < k²`) and one more constraint;
//! - the input commitment: the Poseidon sponge of [`opg_zk_verifier`] over the input
//!   bits packed 31 bytes per element;
//! - each packed output element: one constraint equating it to its public input.
//!
//! Soundness rests on nothing wrapping modulo the BN254 scalar field: every value
//! `m·acc` is below 2^63 in magnitude (the model format's bounds) and `2^s·q + r` below
//! 2^(s+B) ≤ 2^127; a pool's sum is below 2^23; so a satisfied constraint is an equation
//! over the integers.

use ark_bn254::Fr;
use ark_crypto_primitives::sponge::{
	constraints::CryptographicSpongeVar,
	poseidon::{constraints::PoseidonSpongeVar, PoseidonConfig},
};
use ark_ff::{AdditiveGroup, Field};
use ark_r1cs_std::{
	alloc::AllocVar,
	eq::EqGadget,
	fields::fp::{AllocatedFp, FpVar},
};
use ark_relations::gr1cs::{
	ConstraintSynthesizer, ConstraintSystemRef, LinearCombination, SynthesisError, Variable,
};
use opg_qmodel::{AvgPool, Layer, QModel};
use opg_zk_verifier::{input_commitment_prefix, pack_bytes, BYTES_PER_ELEMENT};

/// A linear combination in the circuit's field.
type Lc = LinearCombination<Fr>;
/// One input value: its bit variables (offset form) and, when proving, the value.
type InputBits = (Vec<Variable>, Option<i64>);

/// The quotient width `B` of each output of `layer`, whose inputs have `input_bits` bits
/// and whose outputs `bits`: the fewest bits (at least `bits + 1`: the clamp reads bits
/// `bits − 1` to `B − 2`) whose offset form `q + 2^(B-1)` holds every `floor(m·acc / 2^s)`
/// its weights, bias and inputs allow. Empty for an average pool, whose quotient is a
/// value by construction.
pub fn quotient_bits(layer: &Layer, input_bits: u32, bits: u32) -> Vec<u32> {
	let width = |bias, weights: &mut dyn Iterator<Item = i128>, multiplier, shift| {
		width(bias, weights, multiplier, shift, input_bits, bits)
	};
	match layer {
		Layer::Dense(dense) => dense
			.weights
			.chunks_exact(dense.inputs as usize)
			.zip(&dense.bias)
			.enumerate()
			.map(|(output, (row, bias))| {
				let mut weights = row.iter().map(|w| i128::from(*w));
				width(*bias, &mut weights, dense.multiplier.get(output), dense.shift.get(output))
			})
			.collect(),
		Layer::Conv2d(conv) => {
			let (height, width_out) = conv.output_size();
			(0..conv.filters)
				.zip(&conv.bias)
				.flat_map(|(filter, bias)| {
					let mut weights = conv.filter(filter).iter().map(|w| i128::from(*w));
					let channel = filter as usize;
					let (multiplier, shift) =
						(conv.multiplier.get(channel), conv.shift.get(channel));
					let quotient = width(*bias, &mut weights, multiplier, shift);
					std::iter::repeat_n(quotient, (height * width_out) as usize)
				})
				.collect()
		},
		Layer::SumPool(pool) => {
			let area = (pool.kernel * pool.kernel) as usize;
			let mut ones = std::iter::repeat_n(1, area);
			vec![width(0, &mut ones, pool.multiplier, pool.shift); layer.output_len() as usize]
		},
		Layer::AvgPool(_) => Vec::new(),
	}
}

/// The quotient width of one accumulator `bias + Σ weights·x` over inputs of
/// `input_bits` bits, for outputs of `bits` bits (a padded position only removes a term,
/// so the full window bounds a border output too).
fn width(
	bias: i64,
	weights: &mut dyn Iterator<Item = i128>,
	multiplier: i32,
	shift: u8,
	input_bits: u32,
	bits: u32,
) -> u32 {
	let (min, max) = opg_qmodel::value_range(input_bits);
	let (mut low, mut high) = (i128::from(bias), i128::from(bias));
	for weight in weights {
		let (a, b) = (weight * i128::from(max), weight * i128::from(min));
		low += a.min(b);
		high += a.max(b);
	}
	let multiplier = i128::from(multiplier);
	let (q_low, q_high) = ((low * multiplier) >> shift, (high * multiplier) >> shift);
	let mut quotient = bits + 1;
	while q_low < -(1i128 << (quotient - 1)) || q_high >= 1i128 << (quotient - 1) {
		quotient += 1;
	}
	quotient
}

/// The `byte ^ 0x80` of each two's-complement little-endian byte of a value whose offset
/// form `x + 2^(w−1)` has the bits `offset_bits` (w = 8 or 16): what
/// [`opg_zk_verifier::pack_bytes`] packs. Adding `2^(w−1)` flips only the top byte's top
/// bit, so the top byte is the offset form's own and a lower byte has bit 7 flipped.
fn byte_lcs(offset_bits: &[Variable]) -> Vec<Lc> {
	let bytes = offset_bits.len() / 8;
	offset_bits
		.chunks_exact(8)
		.enumerate()
		.map(|(index, byte)| {
			if index + 1 == bytes {
				weighted(byte, 0)
			} else {
				// Σ_{i<7} 2^i·b_i + 128·(1 − b_7)
				weighted(&byte[..7], 128) - (Fr::from(128u8), byte[7])
			}
		})
		.collect()
}

/// A signed integer as a field element.
fn field(value: i128) -> Fr {
	let magnitude = Fr::from(value.unsigned_abs());
	if value < 0 {
		-magnitude
	} else {
		magnitude
	}
}

/// `Σ 2^i·bits[i] + offset`.
fn weighted(bits: &[Variable], offset: i128) -> Lc {
	let mut lc = Lc::new();
	let mut power = Fr::ONE;
	for bit in bits {
		lc += (power, *bit);
		power.double_in_place();
	}
	if offset != 0 {
		lc += (field(offset), Variable::One);
	}
	lc
}

/// Wrong witnesses the soundness tests inject: each one must leave the constraint system
/// unsatisfied. Outside the tests nothing injects them.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
	/// The first quotient one too small with a remainder of `r + 2^s`.
	RemainderOverflow,
	/// The same, with the remainder's extra `2^s` hidden in a "bit" of value 3.
	NonBooleanBit,
	/// A negative pre-activation passed through a ReLU unchanged.
	ReluSkipped,
	/// A quotient of at least 128 not clamped to 127.
	ClampSkipped,
	/// A public output element off by one.
	WrongOutput,
	/// An input "bit" of value 2.
	InputOutOfRange,
	/// A 16-bit output's first bit flipped in its bytes (its decomposition no longer sums
	/// to the value).
	OutputBytesWrong,
	/// An average pool's first quotient one too small with a remainder of `r + k²` (that
	/// still fits the remainder's bits when `k²` is not a power of two).
	AverageRemainderOverflow,
}

/// The private part of an assignment: the input, and the job binding it answers.
#[derive(Clone, Debug)]
pub struct Witness {
	/// The input values (of the model's width).
	pub input: Vec<i32>,
	/// The job binding (public input 1).
	pub binding: Fr,
	/// A wrong witness to inject.
	#[cfg(test)]
	pub fault: Option<Fault>,
}

/// The circuit of one inference; without a witness it only lays out constraints.
pub struct ModelCircuit<'a> {
	pub(crate) model: &'a QModel,
	pub(crate) quotient_bits: &'a [Vec<u32>],
	pub(crate) poseidon: &'a PoseidonConfig<Fr>,
	pub(crate) witness: Option<Witness>,
}

/// One value in the circuit: a variable (or linear combination) and its value.
#[derive(Clone)]
struct Value {
	variable: Variable,
	value: Option<i64>,
}

/// `bias + Σ weight·input` as a linear combination, and its value.
struct Accumulator {
	lc: Lc,
	value: Option<i128>,
}

impl Accumulator {
	fn new(bias: i64) -> Self {
		Self { lc: Lc::from((field(bias.into()), Variable::One)), value: Some(i128::from(bias)) }
	}

	fn add(&mut self, weight: i16, input: &Value) {
		if weight != 0 {
			self.lc += (field(weight.into()), input.variable);
		}
		self.value =
			self.value.zip(input.value).map(|(a, x)| a + i128::from(weight) * i128::from(x));
	}
}

struct Synthesizer {
	cs: ConstraintSystemRef<Fr>,
	/// The model's value width: 8 or 16.
	value_bits: u32,
	#[cfg(test)]
	fault: Option<Fault>,
}

impl Synthesizer {
	/// Whether to inject `fault` here; true at most once.
	#[cfg(test)]
	fn inject(&mut self, fault: Fault) -> bool {
		if self.fault == Some(fault) {
			self.fault = None;
			return true;
		}
		false
	}

	#[cfg(not(test))]
	fn inject(&mut self, _: Fault) -> bool {
		false
	}

	fn witness(&self, value: Option<Fr>) -> Result<Variable, SynthesisError> {
		self.cs.new_witness_variable(|| value.ok_or(SynthesisError::AssignmentMissing))
	}

	fn enforce(&self, a: Lc, b: Lc, c: Lc) -> Result<(), SynthesisError> {
		self.cs.enforce_r1cs_constraint(|| a, || b, || c)
	}

	/// `count` boolean variables holding `value` in binary; `value` must fit.
	fn bits(&self, value: Option<u128>, count: u32) -> Result<Vec<Variable>, SynthesisError> {
		self.bits_with(value.map(|v| (0..count).map(|i| (v >> i) & 1).collect()), count)
	}

	/// Boolean variables with the given per-bit values.
	fn bits_with(
		&self,
		values: Option<Vec<u128>>,
		count: u32,
	) -> Result<Vec<Variable>, SynthesisError> {
		(0..count as usize)
			.map(|i| {
				let bit = self.witness(values.as_ref().map(|v| Fr::from(v[i])))?;
				// b · (b − 1) = 0
				self.enforce(Lc::from(bit), Lc::from(bit) - (Fr::ONE, Variable::One), Lc::new())?;
				Ok(bit)
			})
			.collect()
	}

	/// A new variable `p = a · b`.
	fn product(&self, a: Lc, b: Lc, value: Option<i64>) -> Result<Variable, SynthesisError> {
		let product = self.witness(value.map(|v| field(v.into())))?;
		self.enforce(a, b, Lc::from(product))?;
		Ok(product)
	}

	/// A new variable equal to 1 if `value` (of `lc`) is nonzero, else 0:
	/// `lc · inv = z` and `lc · (1 − z) = 0`.
	fn is_nonzero(
		&self,
		lc: Lc,
		value: Option<i64>,
		forced: Option<bool>,
	) -> Result<Variable, SynthesisError> {
		let inverse = value.map(|v| field(v.into()).inverse().unwrap_or_default());
		let flag = forced.or(value.map(|v| v != 0));
		let inverse = self.witness(inverse)?;
		let flag = self.witness(flag.map(Fr::from))?;
		self.enforce(lc.clone(), Lc::from(inverse), Lc::from(flag))?;
		self.enforce(lc, Lc::from(Variable::One) - (Fr::ONE, flag), Lc::new())?;
		Ok(flag)
	}

	/// The model's input: the offset form `x + 2^(w−1)` of each value in `width` bits.
	fn input(
		&mut self,
		input: Option<&[i32]>,
		len: usize,
		width: u32,
	) -> Result<Vec<InputBits>, SynthesisError> {
		(0..len)
			.map(|i| {
				let value = input.map(|x| i64::from(x[i]));
				let offset = value.map(|v| (v + (1 << (width - 1))) as u128);
				let bits = if i == 0 && self.inject(Fault::InputOutOfRange) {
					// Bit 0 of value 2: x + 2^(w−1) + 1 with a non-boolean bit.
					let mut values: Vec<u128> =
						(0..width).map(|b| (offset.unwrap() >> b) & 1).collect();
					values[0] += 2;
					self.bits_with(Some(values), width)?
				} else {
					self.bits(offset, width)?
				};
				Ok((bits, value))
			})
			.collect()
	}

	/// One layer over `inputs` (of `input_bits` bits); `widths` are its [`quotient_bits`].
	fn layer(
		&mut self,
		layer: &Layer,
		widths: &[u32],
		inputs: &[Value],
		input_bits: u32,
	) -> Result<Vec<Value>, SynthesisError> {
		let mut accumulators = Vec::with_capacity(layer.output_len() as usize);
		match layer {
			Layer::Dense(dense) => {
				for (row, bias) in
					dense.weights.chunks_exact(dense.inputs as usize).zip(&dense.bias)
				{
					let mut acc = Accumulator::new(*bias);
					for (weight, input) in row.iter().zip(inputs) {
						acc.add(*weight, input);
					}
					accumulators.push(acc);
				}
			},
			Layer::Conv2d(conv) => {
				let (height, width) = conv.output_size();
				for (filter, bias) in (0..conv.filters).zip(&conv.bias) {
					let weights = conv.filter(filter);
					for row in 0..height {
						for column in 0..width {
							let mut acc = Accumulator::new(*bias);
							conv.for_each_tap(row, column, |k, i| acc.add(weights[k], &inputs[i]));
							accumulators.push(acc);
						}
					}
				}
			},
			Layer::SumPool(pool) => pool.shape().for_each_window(|window| {
				let mut acc = Accumulator::new(0);
				for i in window {
					acc.add(1, &inputs[*i]);
				}
				accumulators.push(acc);
			}),
			Layer::AvgPool(pool) => {
				pool.shape().for_each_window(|window| {
					let mut acc = Accumulator::new(0);
					for i in window {
						acc.add(1, &inputs[*i]);
					}
					accumulators.push(acc);
				});
				return accumulators
					.into_iter()
					.map(|acc| self.average(pool, acc, input_bits))
					.collect();
			},
		}
		// The multiplier and shift of output `i`: its channel's.
		let requantization = |i: usize| match layer {
			Layer::Dense(l) => (l.multiplier.get(i), l.shift.get(i), l.relu),
			Layer::Conv2d(l) => {
				let (height, width) = l.output_size();
				let channel = i / (height * width) as usize;
				(l.multiplier.get(channel), l.shift.get(channel), l.relu)
			},
			Layer::SumPool(l) => (l.multiplier, l.shift, false),
			Layer::AvgPool(_) => unreachable!("returned above"),
		};
		accumulators
			.into_iter()
			.zip(widths)
			.enumerate()
			.map(|(i, (acc, &width))| {
				let (multiplier, shift, relu) = requantization(i);
				self.requantize(acc, multiplier, shift, width, relu)
			})
			.collect()
	}

	/// `clamp(relu?(floor(m·acc / 2^s)), -128, 127)` with a `width`-bit quotient.
	fn requantize(
		&mut self,
		acc: Accumulator,
		multiplier: i32,
		shift: u8,
		width: u32,
		relu: bool,
	) -> Result<Value, SynthesisError> {
		let shift = u32::from(shift);
		let t = acc.value.map(|a| a * i128::from(multiplier));
		let mut q = t.map(|t| t >> shift);
		let mut r = t.zip(q).map(|(t, q)| t - (q << shift));
		let mut remainder_bits =
			r.map(|r| (0..shift).map(|i| ((r >> i) & 1) as u128).collect::<Vec<_>>());
		if shift > 0 && self.inject(Fault::RemainderOverflow) {
			q = q.map(|q| q - 1);
			r = r.map(|r| r + (1 << shift));
			remainder_bits = r.map(|r| (0..shift).map(|i| ((r >> i) & 1) as u128).collect());
		} else if shift > 0 && self.inject(Fault::NonBooleanBit) {
			q = q.map(|q| q - 1);
			if let Some(bits) = remainder_bits.as_mut() {
				bits[shift as usize - 1] += 2;
			}
		}
		let remainder = self.bits_with(remainder_bits, shift)?;
		let offset = 1i128 << (width - 1);
		let quotient = self.bits(q.map(|q| (q + offset) as u128), width)?;

		// m·acc − 2^s·q − r = 0
		let scaled = acc.lc * field(multiplier.into());
		let q_lc = weighted(&quotient, -offset);
		let mut check = scaled - (field(1i128 << shift), q_lc);
		check = check - (Fr::ONE, weighted(&remainder, 0));
		self.enforce(check, Lc::from(Variable::One), Lc::new())?;

		self.clamp(relu, &quotient, q)
	}

	/// `floor(sum / k²)`: `sum = k²·q + r` with `q + 2^(w−1)` in `w` bits and
	/// `0 ≤ r < k²`.
	fn average(
		&mut self,
		pool: &AvgPool,
		sum: Accumulator,
		width: u32,
	) -> Result<Value, SynthesisError> {
		let area = i128::from(pool.kernel * pool.kernel);
		let remainder_width = u128::BITS - (area as u128 - 1).leading_zeros();
		let half = 1i128 << (width - 1);
		let mut q = sum.value.map(|s| s.div_euclid(area));
		let mut r = sum.value.map(|s| s.rem_euclid(area));
		if r.zip(q).is_some_and(|(r, q)| q > -half && r + area < 1 << remainder_width)
			&& self.inject(Fault::AverageRemainderOverflow)
		{
			q = q.map(|q| q - 1);
			r = r.map(|r| r + area);
		}
		let quotient = self.bits(q.map(|q| (q + half) as u128), width)?;
		let remainder = self.bits(r.map(|r| r as u128), remainder_width)?;
		// sum − k²·q − r = 0
		let check =
			sum.lc - (field(area), weighted(&quotient, -half)) - (Fr::ONE, weighted(&remainder, 0));
		self.enforce(check, Lc::from(Variable::One), Lc::new())?;
		if !(area as u128).is_power_of_two() {
			// k² − 1 − r ≥ 0: its own bits.
			let slack = self.bits(
				r.map(|r| (area - 1 - r).rem_euclid(1 << remainder_width) as u128),
				remainder_width,
			)?;
			let check = Lc::from((field(area - 1), Variable::One))
				- (Fr::ONE, weighted(&remainder, 0))
				- (Fr::ONE, weighted(&slack, 0));
			self.enforce(check, Lc::from(Variable::One), Lc::new())?;
		}
		let value = weighted(&quotient, -half);
		Ok(Value { variable: self.cs.new_lc(|| value)?, value: q.map(|q| q as i64) })
	}

	/// `clamp(relu?(q), −2^(w−1), 2^(w−1) − 1)` from the offset bits of `q`, for the
	/// model's value width `w` (8: −128..=127).
	fn clamp(
		&mut self,
		relu: bool,
		bits: &[Variable],
		q: Option<i128>,
	) -> Result<Value, SynthesisError> {
		let width = bits.len();
		let offset = 1i128 << (width - 1);
		// The value width's top bit index, largest value and magnitude of the smallest.
		let top = self.value_bits as usize - 1;
		let max = (1i64 << top) - 1;
		let half = 1i64 << top;
		let (max_fr, half_fr) = (Fr::from(max as u64), Fr::from(half as u64));
		let u = q.map(|q| q + offset);
		let bit = |i: usize| u.map(|u| ((u >> i) & 1) as i64);
		// q ≥ 0 iff the top offset bit is set.
		let positive = bits[width - 1];
		let positive_value = bit(width - 1);
		// h = number of set bits among w−1..B−2: for q ≥ 0, q ≥ 2^(w−1) iff h > 0; for
		// q < 0, q ≥ −2^(w−1) iff all of them are set.
		let middle = &bits[top..width - 1];
		let mut h_lc = Lc::new();
		for b in middle {
			h_lc += (Fr::ONE, *b);
		}
		let h = u.map(|_| (top..width - 1).map(|i| bit(i).unwrap()).sum::<i64>());
		let low_lc = weighted(&bits[..top], 0);
		let low = u.map(|u| (u & i128::from(max)) as i64);

		let clamp_skipped = h.is_some_and(|h| h > 0)
			&& positive_value == Some(1)
			&& self.inject(Fault::ClampSkipped);
		let high = self.is_nonzero(h_lc.clone(), h, clamp_skipped.then_some(false))?;
		let high_value = if clamp_skipped {
			Some(0)
		} else {
			positive_value.zip(h).map(|(p, h)| p * i64::from(h > 0))
		};
		let big = self.product(Lc::from(positive), Lc::from(high), high_value)?;
		let to_max = |value: Option<i64>| high_value.zip(value).map(|(b, v)| b * (max - v));

		let (lc, value) = if relu {
			// y = pos·low + big·(max − low), low = the bits below w−1
			let relu_skipped = positive_value == Some(0) && self.inject(Fault::ReluSkipped);
			let passed =
				if relu_skipped { low } else { positive_value.zip(low).map(|(p, l)| p * l) };
			let kept = self.product(Lc::from(positive), low_lc.clone(), passed)?;
			let capped = self.product(
				Lc::from(big),
				Lc::from((max_fr, Variable::One)) - (Fr::ONE, low_lc),
				to_max(low),
			)?;
			let value = passed.zip(to_max(low)).map(|(a, b)| a + b);
			(Lc::from(kept) + (Fr::ONE, capped), value)
		} else {
			// y_in = low − half + half·pos: q itself when −half ≤ q ≤ max.
			let inner_lc = low_lc - (half_fr, Variable::One) + (half_fr, positive);
			let inner = low.zip(positive_value).map(|(l, p)| l - half + half * p);
			let all_set_lc =
				Lc::from((field(middle.len() as i128), Variable::One)) - (Fr::ONE, h_lc);
			let not_all_set = h.map(|h| middle.len() as i64 - h);
			let low = self.is_nonzero(all_set_lc, not_all_set, None)?;
			let small_value =
				positive_value.zip(not_all_set).map(|(p, n)| (1 - p) * i64::from(n != 0));
			let small = self.product(
				Lc::from(Variable::One) - (Fr::ONE, positive),
				Lc::from(low),
				small_value,
			)?;
			let capped = self.product(
				Lc::from(big),
				Lc::from((max_fr, Variable::One)) - (Fr::ONE, inner_lc.clone()),
				to_max(inner),
			)?;
			let floored_value = small_value.zip(inner).map(|(s, v)| s * (-half - v));
			let floored = self.product(
				Lc::from(small),
				Lc::from((-half_fr, Variable::One)) - (Fr::ONE, inner_lc.clone()),
				floored_value,
			)?;
			let value = inner.zip(to_max(inner)).zip(floored_value).map(|((v, c), f)| v + c + f);
			(inner_lc + (Fr::ONE, capped) + (Fr::ONE, floored), value)
		};
		Ok(Value { variable: self.cs.new_lc(|| lc)?, value })
	}
}

/// `Σ_j 256^j·byte_j` over one chunk of byte linear combinations (each `byte ^ 0x80`).
fn packed(chunk: &[Lc]) -> Lc {
	let mut lc = Lc::new();
	let mut power = Fr::ONE;
	for offset_value in chunk {
		lc = lc + (power, offset_value.clone());
		power *= Fr::from(256u16);
	}
	lc
}

impl ConstraintSynthesizer<Fr> for ModelCircuit<'_> {
	fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
		// The width of every tensor: the input's, each layer's output's.
		let tensor_bits: Vec<u32> = self.model.widths().into_iter().map(u32::from).collect();
		let (input_width, output_width) = (tensor_bits[0], tensor_bits[tensor_bits.len() - 1]);
		let mut synth = Synthesizer {
			cs: cs.clone(),
			value_bits: self.model.bits.into(),
			#[cfg(test)]
			fault: self.witness.as_ref().and_then(|w| w.fault),
		};
		let input = self.witness.as_ref().map(|w| w.input.as_slice());
		let input_len = self.model.input_len() as usize;
		if input.is_some_and(|x| x.len() != input_len) {
			return Err(SynthesisError::Unsatisfiable);
		}

		// Public inputs 1 and 2: binding and input commitment.
		let binding = self.witness.as_ref().map(|w| w.binding);
		let _ = cs.new_input_variable(|| binding.ok_or(SynthesisError::AssignmentMissing))?;
		let input_bytes = input.map(|x| opg_qmodel::encode(x, input_width));
		let commitment = input_bytes
			.as_ref()
			.map(|bytes| opg_zk_verifier::input_commitment_with(self.poseidon, bytes));
		let commitment =
			FpVar::new_input(cs.clone(), || commitment.ok_or(SynthesisError::AssignmentMissing))?;

		// The commitment hashes the input's bytes, each a linear combination of its bits.
		let input_bits = synth.input(input, input_len, input_width)?;
		let input_byte_lcs: Vec<Lc> =
			input_bits.iter().flat_map(|(bits, _)| byte_lcs(bits)).collect();
		let mut elements: Vec<FpVar<Fr>> = input_commitment_prefix(input_byte_lcs.len())
			.iter()
			.map(|c| FpVar::Constant(*c))
			.collect();
		for (index, chunk) in input_byte_lcs.chunks(BYTES_PER_ELEMENT).enumerate() {
			let value = input_bytes
				.as_ref()
				.map(|bytes| pack_bytes(&bytes[index * BYTES_PER_ELEMENT..][..chunk.len()])[0]);
			let lc = packed(chunk);
			elements.push(FpVar::Var(AllocatedFp::new(value, cs.new_lc(|| lc)?, cs.clone())));
		}
		let mut sponge = PoseidonSpongeVar::new(cs.clone(), self.poseidon);
		sponge.absorb(&elements)?;
		sponge.squeeze_field_elements(1)?[0].enforce_equal(&commitment)?;

		let input_half = 1i128 << (input_width - 1);
		let mut activations: Vec<Value> = input_bits
			.iter()
			.map(|(bits, value)| {
				let lc = weighted(bits, -input_half);
				Ok(Value { variable: cs.new_lc(|| lc)?, value: *value })
			})
			.collect::<Result<_, SynthesisError>>()?;
		for ((layer, widths), bits) in
			self.model.layers.iter().zip(self.quotient_bits).zip(&tensor_bits)
		{
			activations = synth.layer(layer, widths, &activations, *bits)?;
		}
		let (value_bits, half) = (output_width, 1i128 << (output_width - 1));

		// Public inputs 3..: the packed output bytes, equal to the last layer's values. An
		// 8-bit value's byte is its offset form; a 16-bit value's two bytes need its bits.
		let mut output = Vec::with_capacity(activations.len() * (value_bits / 8) as usize);
		for activation in &activations {
			let offset_lc = Lc::from(activation.variable) + (field(half), Variable::One);
			if value_bits == 8 {
				output.push(offset_lc);
				continue;
			}
			let offset = activation.value.map(|v| (i128::from(v) + half) as u128);
			let mut values: Option<Vec<u128>> =
				offset.map(|u| (0..value_bits).map(|i| (u >> i) & 1).collect());
			if let Some(first) = values.as_mut().filter(|_| synth.inject(Fault::OutputBytesWrong)) {
				first[0] ^= 1;
			}
			let bits = synth.bits_with(values, value_bits)?;
			synth.enforce(
				weighted(&bits, 0) - (Fr::ONE, offset_lc),
				Lc::from(Variable::One),
				Lc::new(),
			)?;
			output.extend(byte_lcs(&bits));
		}
		let output_values: Option<Vec<u8>> = activations
			.iter()
			.map(|a| a.value.map(|v| v as i32))
			.collect::<Option<Vec<i32>>>()
			.map(|values| opg_qmodel::encode(&values, value_bits));
		for (index, chunk) in output.chunks(BYTES_PER_ELEMENT).enumerate() {
			let mut value = output_values
				.as_ref()
				.map(|bytes| pack_bytes(&bytes[index * BYTES_PER_ELEMENT..][..chunk.len()])[0]);
			if synth.inject(Fault::WrongOutput) {
				value = value.map(|v| v + Fr::ONE);
			}
			let public =
				cs.new_input_variable(|| value.ok_or(SynthesisError::AssignmentMissing))?;
			synth.enforce(packed(chunk) - (Fr::ONE, public), Lc::from(Variable::One), Lc::new())?;
		}
		Ok(())
	}
}
