//! Choosing the next token from logits: greedy, or sampled with temperature, top-k and
//! top-p from a seeded generator, so that an answer is reproducible from its seed.
//!
//! The generator is SplitMix64 (Steele, Lea and Flood, 2014), specified here so that any
//! verifier can replay a sampled answer from the logits it computes itself: the n-th draw
//! is `mix(seed + n·0x9E3779B97F4A7C15)`, its top 53 bits a uniform number in [0, 1). A
//! token is drawn by walking the candidates in decreasing probability (ties by lower id)
//! until their cumulative probability exceeds the draw.

use std::cell::RefCell;

/// How to choose tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampling {
	/// 0 is greedy; above 0 divides the logits before the softmax.
	pub temperature: f32,
	/// Keep the smallest set of most likely tokens whose probability reaches this (1 keeps
	/// all).
	pub top_p: f32,
	/// Keep at most this many most likely tokens (0 keeps all).
	pub top_k: usize,
	/// The generator's seed.
	pub seed: u64,
}

impl Default for Sampling {
	fn default() -> Self {
		Self { temperature: 0.0, top_p: 1.0, top_k: 0, seed: 0 }
	}
}

impl Sampling {
	/// Whether these parameters are usable, or why not.
	pub fn check(&self) -> Result<(), String> {
		if !(self.temperature.is_finite() && (0.0..=2.0).contains(&self.temperature)) {
			return Err("temperature must be between 0 and 2".into());
		}
		if !(self.top_p.is_finite() && self.top_p > 0.0 && self.top_p <= 1.0) {
			return Err("top_p must be above 0 and at most 1".into());
		}
		Ok(())
	}

	/// Whether every choice is the most likely token.
	pub fn is_greedy(&self) -> bool {
		self.temperature == 0.0 || self.top_k == 1
	}
}

/// SplitMix64.
#[derive(Clone, Debug)]
pub struct Generator {
	state: u64,
}

impl Generator {
	/// The generator of `seed`.
	pub fn new(seed: u64) -> Self {
		Self { state: seed }
	}

	/// The generator of `seed` after `draws` draws (SplitMix64's state only counts them).
	pub fn after(seed: u64, draws: u64) -> Self {
		Self { state: seed.wrapping_add(draws.wrapping_mul(0x9E37_79B9_7F4A_7C15)) }
	}

	/// The next 64 bits.
	pub fn next_u64(&mut self) -> u64 {
		self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.state;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	/// A uniform number in [0, 1).
	pub fn next_f64(&mut self) -> f64 {
		(self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
	}
}

/// The most likely token of `logits` (the lowest id among equals).
pub fn argmax(logits: &[f32]) -> u32 {
	let mut best = 0;
	for (index, &value) in logits.iter().enumerate() {
		if value > logits[best] {
			best = index;
		}
	}
	best as u32
}

/// The next token of `logits` under `sampling`, drawing from `generator` unless greedy.
pub fn choose(logits: &[f32], sampling: &Sampling, generator: &mut Generator) -> u32 {
	if sampling.is_greedy() || logits.is_empty() {
		return argmax(logits);
	}
	let (kept, draw) = kept_and_draw(logits, sampling, generator);
	let mut cumulative = 0.0;
	for &(token, weight) in &kept {
		cumulative += weight;
		if draw < cumulative {
			return token;
		}
	}
	kept.last().map_or(0, |&(token, _)| token)
}

/// The ids of `logits` in decreasing logit order (`f32::total_cmp`), ties by lower id; only
/// the first `top_k` unless it is 0.
///
/// Each token becomes one `u64`, the logit's bits in `total_cmp`'s order (inverted, for
/// decreasing) above its id, and those are sorted as integers: the order of comparing the
/// logits themselves, at a fraction of the cost (a vocabulary of 49,152 is sorted at every
/// sampled step, and at every answer position when a verifier replays it; see
/// [`sort_made_in_id_order`]). With `top_k`, the first `top_k` are selected before being
/// sorted.
pub fn most_likely_first(logits: &[f32], top_k: usize) -> Vec<u32> {
	let mut keys = order_keys(logits);
	if top_k > 0 && top_k < keys.len() {
		keys.select_nth_unstable(top_k - 1);
		keys.truncate(top_k);
		keys.sort_unstable();
	} else {
		sort_made_in_id_order(&mut keys);
	}
	keys.into_iter().map(|key| key as u32).collect()
}

/// The keys of [`most_likely_first`], in id order: sorted as integers, the most likely
/// token's first (ties by lower id).
pub fn order_keys(logits: &[f32]) -> Vec<u64> {
	logits
		.iter()
		.enumerate()
		.map(|(id, &logit)| {
			// As `f32::total_cmp`: negative values' magnitude bits flipped, then compared as
			// i32; as u32 with the sign bit flipped, the same order.
			let bits = logit.to_bits() as i32;
			let ordered = (bits ^ ((((bits >> 31) as u32) >> 1) as i32)) as u32 ^ 0x8000_0000;
			(u64::from(!ordered) << 32) | id as u64
		})
		.collect()
}

/// Sorts `keys` of [`most_likely_first`] made in id order, as integers. Keys are distinct
/// (the id is in them), so any sort gives the same order; a vocabulary's worth is sorted by
/// a stable radix sort of the upper 32 bits (the logit's), 11 bits a pass: the ids below
/// them are in increasing order already, and a stable sort keeps them so among equal
/// logits. For 49,152 keys about 0.2 ms, where `sort_unstable` takes about 0.5.
fn sort_made_in_id_order(keys: &mut Vec<u64>) {
	const DIGIT: usize = 11;
	const BUCKETS: usize = 1 << DIGIT;
	let n = keys.len();
	if n < 4096 || n > u32::MAX as usize {
		keys.sort_unstable();
		return;
	}
	let digit = |key: u64, pass: usize| ((key >> 32) as usize >> (DIGIT * pass)) & (BUCKETS - 1);
	let mut counts = vec![[0u32; BUCKETS]; 3];
	for &key in keys.iter() {
		for (pass, count) in counts.iter_mut().enumerate() {
			count[digit(key, pass)] += 1;
		}
	}
	// The second buffer is kept from call to call: a fresh one of 384 KB (a vocabulary of
	// 49,152) costs more in page faults than the sort (0.28 ms here, where it takes 0.20).
	thread_local!(static SPARE: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) });
	let mut sorted = SPARE.with(|spare| std::mem::take(&mut *spare.borrow_mut()));
	sorted.clear();
	sorted.resize(n, 0);
	for (pass, count) in counts.iter_mut().enumerate() {
		// A digit every key shares leaves the order as it is.
		if count.iter().any(|&c| c as usize == n) {
			continue;
		}
		let mut before = 0u32;
		for c in count.iter_mut() {
			(before, *c) = (before + *c, before);
		}
		for &key in keys.iter() {
			let at = &mut count[digit(key, pass)];
			sorted[*at as usize] = key;
			*at += 1;
		}
		std::mem::swap(keys, &mut sorted);
	}
	SPARE.with(|spare| *spare.borrow_mut() = sorted);
}

/// What a sampled (not greedy) step keeps, most likely first, with each token's weight
/// (its probability, unnormalized), and the draw in `0..total weight` that picks one:
/// [`choose`] takes the first token whose cumulative weight passes the draw, a verifier
/// replaying the step compares the node's token with the same intervals.
pub fn kept_and_draw(
	logits: &[f32],
	sampling: &Sampling,
	generator: &mut Generator,
) -> (Vec<(u32, f64)>, f64) {
	let order = most_likely_first(logits, sampling.top_k);
	let top = order.first().map_or(0.0, |&t| logits[t as usize] as f64);
	let temperature = sampling.temperature as f64;
	let weights: Vec<f64> = order
		.iter()
		.map(|&t| ((logits[t as usize] as f64 - top) / temperature).exp())
		.collect();
	let total: f64 = weights.iter().sum();
	let mut kept = 0;
	let mut mass = 0.0;
	for weight in &weights {
		kept += 1;
		mass += weight / total;
		if mass >= sampling.top_p as f64 {
			break;
		}
	}
	let kept_total: f64 = weights[..kept].iter().sum();
	let draw = generator.next_f64() * kept_total;
	(order.into_iter().zip(weights).take(kept).collect(), draw)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn splitmix64_gives_its_published_sequence() {
		// The reference values of seed 1234567 (the algorithm's published test).
		let mut generator = Generator::new(1234567);
		let expected = [
			6457827717110365317u64,
			3203168211198807973,
			9817491932198370423,
			4593380528125082431,
			16408922859458223821,
		];
		for value in expected {
			assert_eq!(generator.next_u64(), value);
		}
	}

	#[test]
	fn a_generator_after_n_draws_draws_what_the_n_plus_first_would() {
		let mut generator = Generator::new(u64::MAX - 3);
		for n in 0..20 {
			assert_eq!(Generator::after(u64::MAX - 3, n).next_u64(), generator.next_u64());
		}
	}

	#[test]
	fn greedy_takes_the_most_likely_token_and_the_lowest_id_among_equals() {
		let logits = [0.5, 3.0, -1.0, 3.0];
		assert_eq!(choose(&logits, &Sampling::default(), &mut Generator::new(1)), 1);
		let top1 = Sampling { temperature: 1.0, top_k: 1, ..Sampling::default() };
		assert_eq!(choose(&logits, &top1, &mut Generator::new(9)), 1);
	}

	#[test]
	fn the_same_seed_draws_the_same_tokens_and_another_seed_others() {
		let logits: Vec<f32> = (0..100).map(|i| ((i * 37) % 11) as f32 / 3.0).collect();
		let sampling = Sampling { temperature: 1.0, top_p: 0.95, top_k: 50, seed: 7 };
		let draw = |seed| {
			let mut generator = Generator::new(seed);
			(0..32).map(|_| choose(&logits, &sampling, &mut generator)).collect::<Vec<_>>()
		};
		assert_eq!(draw(7), draw(7));
		assert_ne!(draw(7), draw(8));
	}

	#[test]
	fn top_k_and_top_p_never_draw_outside_what_they_keep() {
		let logits = [5.0, 4.0, 3.0, -10.0, -10.0, 2.0];
		let mut generator = Generator::new(3);
		let top2 = Sampling { temperature: 1.5, top_k: 2, ..Sampling::default() };
		for _ in 0..500 {
			assert!([0, 1].contains(&choose(&logits, &top2, &mut generator)));
		}
		// p(0) ≈ 0.64 and p(0)+p(1) ≈ 0.88 at temperature 1: top_p 0.8 keeps two.
		let nucleus = Sampling { temperature: 1.0, top_p: 0.8, ..Sampling::default() };
		let drawn: std::collections::BTreeSet<u32> =
			(0..500).map(|_| choose(&logits, &nucleus, &mut generator)).collect();
		assert_eq!(drawn.into_iter().collect::<Vec<_>>(), vec![0, 1]);
	}

	/// The order as it was first specified: every id, sorted by comparing logits.
	fn compared(logits: &[f32], top_k: usize) -> Vec<u32> {
		let mut order: Vec<u32> = (0..logits.len() as u32).collect();
		order.sort_by(|&a, &b| logits[b as usize].total_cmp(&logits[a as usize]).then(a.cmp(&b)));
		if top_k > 0 {
			order.truncate(top_k);
		}
		order
	}

	#[test]
	fn the_keyed_order_is_the_order_of_comparing_logits() {
		let mut generator = Generator::new(11);
		let specials =
			[0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, -f32::NAN, f32::MIN_POSITIVE];
		for round in 0..330 {
			// Past 4,096 logits, the radix sort of a whole vocabulary.
			let len = if round % 10 == 9 {
				4_000 + (generator.next_u64() % 20_000) as usize
			} else {
				1 + (generator.next_u64() % 700) as usize
			};
			// Few distinct values (many ties), wide ones, and the special values.
			let logits: Vec<f32> = (0..len)
				.map(|_| match generator.next_u64() % 4 {
					0 => (generator.next_u64() % 5) as f32 - 2.0,
					1 => specials[(generator.next_u64() % specials.len() as u64) as usize],
					_ => (generator.next_f64() as f32 - 0.5) * 60.0,
				})
				.collect();
			for top_k in [0, 1, 2, len / 3, len, len + 5] {
				assert_eq!(
					most_likely_first(&logits, top_k),
					compared(&logits, top_k),
					"round {round}, {len} logits, top_k {top_k}"
				);
			}
		}
		// A vocabulary's worth.
		let logits: Vec<f32> =
			(0..49_152).map(|_| (generator.next_f64() as f32 - 0.5) * 40.0).collect();
		assert_eq!(most_likely_first(&logits, 0), compared(&logits, 0));
		assert_eq!(most_likely_first(&logits, 50), compared(&logits, 50));
		// Digits every key shares (passes the radix sort skips): all equal, and logits a few
		// units in the last place apart.
		let equal = vec![1.5f32; 5_000];
		assert_eq!(most_likely_first(&equal, 0), compared(&equal, 0));
		let close: Vec<f32> = (0..6_000u32)
			.map(|i| f32::from_bits(1.0f32.to_bits() + (i * 7919) % 300))
			.collect();
		assert_eq!(most_likely_first(&close, 0), compared(&close, 0));
	}

	#[test]
	fn bad_parameters_are_refused() {
		for bad in [
			Sampling { temperature: -0.1, ..Sampling::default() },
			Sampling { temperature: f32::NAN, ..Sampling::default() },
			Sampling { top_p: 0.0, ..Sampling::default() },
			Sampling { top_p: 1.5, ..Sampling::default() },
		] {
			assert!(bad.check().is_err(), "{bad:?}");
		}
		assert!(Sampling::default().check().is_ok());
	}
}
