use super::*;
use proptest::prelude::*;

fn layer(
	inputs: u32,
	outputs: u32,
	weights: Vec<i16>,
	bias: Vec<i64>,
	multiplier: i32,
	shift: u8,
	relu: bool,
) -> Dense {
	Dense {
		inputs,
		outputs,
		weights,
		bias,
		multiplier: multiplier.into(),
		shift: shift.into(),
		relu,
	}
}

fn model(layers: Vec<Dense>) -> QModel {
	QModel {
		format: FORMAT.into(),
		bits: 8,
		input_bits: 8,
		layers: layers.into_iter().map(Layer::Dense).collect(),
	}
}

fn dense_mut(model: &mut QModel, index: usize) -> &mut Dense {
	match &mut model.layers[index] {
		Layer::Dense(dense) => dense,
		other => panic!("layer {index} is not dense: {other:?}"),
	}
}

#[test]
fn a_small_model_evaluates_by_hand() {
	// acc = [1*2 + 2*3 + 10, -1*2 + -4*3 - 3] = [18, -17]; ×3 >> 2 = [13, floor(-51/4) = -13].
	let first = layer(2, 2, vec![1, 2, -1, -4], vec![10, -3], 3, 2, false);
	assert_eq!(model(vec![first.clone()]).evaluate(&[2, 3]).unwrap(), vec![13, -13]);
	// With ReLU the negative output becomes 0.
	let relu = Dense { relu: true, ..first };
	assert_eq!(model(vec![relu]).evaluate(&[2, 3]).unwrap(), vec![13, 0]);
}

#[test]
fn requantization_rounds_toward_negative_infinity_and_saturates() {
	assert_eq!(requantize(-1, 1, 1, false, 8), -1);
	assert_eq!(requantize(-3, 1, 1, false, 8), -2);
	assert_eq!(requantize(3, 1, 1, false, 8), 1);
	assert_eq!(requantize(1_000, 1, 1, false, 8), 127);
	assert_eq!(requantize(-1_000, 1, 1, false, 8), -128);
	assert_eq!(requantize(-1_000, 1, 1, true, 8), 0);
	// 16-bit values saturate at ±2^15.
	assert_eq!(requantize(1_000, 1, 1, false, 16), 500);
	assert_eq!(requantize(100_000, 1, 1, false, 16), 32_767);
	assert_eq!(requantize(-100_000, 1, 1, false, 16), -32_768);
}

#[test]
fn extreme_parameters_stay_within_i64() {
	let inputs = MAX_LAYER_INPUTS;
	let dense =
		layer(inputs, 1, vec![-128; inputs as usize], vec![i32::MIN.into()], i32::MAX, 0, false);
	assert_eq!(dense.apply(&vec![127; inputs as usize], 8), vec![-128]);
	let dense =
		layer(inputs, 1, vec![-128; inputs as usize], vec![i32::MAX.into()], i32::MAX, 0, false);
	assert_eq!(dense.apply(&vec![-128; inputs as usize], 8), vec![127]);
	// 16-bit weights and values: 2^16 · 2^15 · 2^15 · 2^31 needs the i128 product.
	let dense =
		layer(inputs, 1, vec![i16::MIN; inputs as usize], vec![MAX_BIAS], i32::MAX, 62, false);
	assert_eq!(dense.apply(&vec![-32_768; inputs as usize], 16), vec![32_767]);
	let dense = layer(inputs, 1, vec![i16::MIN; inputs as usize], vec![0], i32::MAX, 0, false);
	assert_eq!(dense.apply(&vec![32_767; inputs as usize], 16), vec![-32_768]);
}

#[test]
fn layers_chain() {
	let m = model(vec![
		layer(2, 1, vec![1, 1], vec![0], 1, 0, true),
		layer(1, 2, vec![2, -2], vec![1, 1], 1, 0, false),
	]);
	// [3, 4] -> [7] -> [15, -13].
	assert_eq!(m.evaluate(&[3, 4]).unwrap(), vec![15, -13]);
	assert_eq!(m.evaluate_bytes(&[3, 4]).unwrap(), vec![15, (-13i8) as u8]);
}

#[test]
fn a_file_round_trips_and_is_validated() {
	let m = generate(&[16, 8, 4], 7);
	assert_eq!(QModel::from_bytes(&m.to_bytes()).unwrap(), m);
	assert!(matches!(QModel::from_bytes(b"{}"), Err(Error::Parse(_))));
	assert!(matches!(QModel::from_bytes(b"not json"), Err(Error::Parse(_))));

	let mut other = m.clone();
	other.format = "opg-qmodel/4".into();
	assert_eq!(other.validate(), Err(Error::UnknownFormat("opg-qmodel/4".into())));
	assert_eq!(model(vec![]).validate(), Err(Error::LayerCount(0)));

	let mut other = m.clone();
	dense_mut(&mut other, 1).inputs = 9;
	dense_mut(&mut other, 1).weights.extend([0; 4]);
	assert_eq!(other.validate(), Err(Error::LayerMismatch { layer: 1, expected: 8, found: 9 }));

	let mut other = m.clone();
	dense_mut(&mut other, 0).weights.pop();
	assert_eq!(other.validate(), Err(Error::ParameterCount { layer: 0 }));
	let mut other = m.clone();
	dense_mut(&mut other, 0).bias.push(0);
	assert_eq!(other.validate(), Err(Error::ParameterCount { layer: 0 }));

	let mut other = m.clone();
	dense_mut(&mut other, 1).multiplier = 0.into();
	assert_eq!(other.validate(), Err(Error::Requantization { layer: 1 }));
	let mut other = m.clone();
	dense_mut(&mut other, 1).shift = (MAX_SHIFT + 1).into();
	assert_eq!(other.validate(), Err(Error::Requantization { layer: 1 }));

	let mut other = m.clone();
	other.layers[0] = Layer::Dense(layer(0, 8, vec![], vec![0; 8], 1, 0, true));
	assert_eq!(other.validate(), Err(Error::LayerSize { layer: 0 }));

	let mut unknown: serde_json::Value = serde_json::from_slice(&m.to_bytes()).unwrap();
	unknown["extra"] = 1.into();
	assert!(matches!(QModel::from_bytes(unknown.to_string().as_bytes()), Err(Error::Parse(_))));
}

#[test]
fn a_wrong_input_length_is_refused() {
	let m = generate(&[16, 4], 1);
	assert_eq!(m.evaluate(&[0; 15]), Err(Error::InputLength { expected: 16, found: 15 }));
}

#[test]
fn generated_models_are_deterministic_and_not_saturated() {
	let m = generate(&[784, 56, 10], 42);
	assert_eq!(m, generate(&[784, 56, 10], 42));
	assert_ne!(m, generate(&[784, 56, 10], 43));
	let input: Vec<i32> = (0..784).map(|i| i % 97).collect();
	let output = m.evaluate(&input).unwrap();
	let saturated = output.iter().filter(|v| **v == 127 || **v == -128).count();
	assert!(saturated < output.len(), "the demo model's output is not all saturated: {output:?}");
}

/// An independent reference: exact arithmetic in i128, floor division, and every layer
/// written out from its definition (no shared geometry code).
// Indexed loops on purpose: each layer reads like its definition.
#[allow(clippy::needless_range_loop)]
fn reference(m: &QModel, input: &[i32]) -> Vec<i32> {
	let limit = 1i128 << (m.bits - 1);
	let requant = |acc: i128, multiplier: i32, shift: u8, relu: bool| {
		let q = (acc * multiplier as i128).div_euclid(1i128 << shift);
		if relu { q.max(0) } else { q }.clamp(-limit, limit - 1)
	};
	let mut x: Vec<i128> = input.iter().map(|v| *v as i128).collect();
	for layer in &m.layers {
		x = match layer {
			Layer::Dense(l) => (0..l.outputs as usize)
				.map(|j| {
					let mut acc = l.bias[j] as i128;
					for i in 0..l.inputs as usize {
						acc += l.weights[j * l.inputs as usize + i] as i128 * x[i];
					}
					requant(acc, l.multiplier.get(j), l.shift.get(j), l.relu)
				})
				.collect(),
			Layer::Conv2d(l) => {
				let (c, h, w) = (l.channels as i64, l.height as i64, l.width as i64);
				let (kh, kw, s, p) = (
					l.kernel_height as i64,
					l.kernel_width as i64,
					l.stride as i64,
					l.padding as i64,
				);
				let (oh, ow) = ((h + 2 * p - kh) / s + 1, (w + 2 * p - kw) / s + 1);
				let mut out = vec![];
				for f in 0..l.filters as i64 {
					for oy in 0..oh {
						for ox in 0..ow {
							let mut acc = l.bias[f as usize] as i128;
							for ch in 0..c {
								for ky in 0..kh {
									for kx in 0..kw {
										let (y, xx) = (oy * s + ky - p, ox * s + kx - p);
										let value = if y < 0 || y >= h || xx < 0 || xx >= w {
											0
										} else {
											x[((ch * h + y) * w + xx) as usize]
										};
										let weight = l.weights
											[(((f * c + ch) * kh + ky) * kw + kx) as usize];
										acc += weight as i128 * value;
									}
								}
							}
							let f = f as usize;
							out.push(requant(acc, l.multiplier.get(f), l.shift.get(f), l.relu));
						}
					}
				}
				out
			},
			Layer::SumPool(SumPool { channels, height, width, kernel, stride, .. })
			| Layer::AvgPool(AvgPool { channels, height, width, kernel, stride }) => {
				let (h, w, k, s) =
					(*height as usize, *width as usize, *kernel as usize, *stride as usize);
				let mut out = vec![];
				for ch in 0..*channels as usize {
					for oy in 0..(h - k) / s + 1 {
						for ox in 0..(w - k) / s + 1 {
							let mut sum = 0;
							for ky in 0..k {
								for kx in 0..k {
									sum += x[(ch * h + oy * s + ky) * w + ox * s + kx];
								}
							}
							out.push(match layer {
								Layer::SumPool(l) => requant(sum, l.multiplier, l.shift, false),
								_ => sum.div_euclid((k * k) as i128),
							});
						}
					}
				}
				out
			},
		};
	}
	x.into_iter().map(|v| v as i32).collect()
}

/// Pseudo-random values of `bits` bits.
fn random_values(len: usize, seed: u64, bits: u32) -> Vec<i32> {
	let mut state = seed;
	(0..len)
		.map(|_| {
			state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
			((state >> (64 - bits)) as i64 - (1i64 << (bits - 1))) as i32
		})
		.collect()
}

fn random_input(len: usize, seed: u64) -> Vec<i32> {
	random_values(len, seed, 8)
}

fn conv(
	channels: u32,
	side: u32,
	filters: u32,
	kernel: u32,
	stride: u32,
	padding: u32,
	weights: Vec<i16>,
) -> Conv2d {
	Conv2d {
		channels,
		height: side,
		width: side,
		filters,
		kernel_height: kernel,
		kernel_width: kernel,
		stride,
		padding,
		weights,
		bias: vec![0; filters as usize],
		multiplier: 1.into(),
		shift: 0.into(),
		relu: false,
	}
}

#[test]
fn a_convolution_evaluates_by_hand() {
	// 3×3 image 1..=9, one 2×2 filter [[1, 0], [0, -1]]: x[y][x] − x[y+1][x+1] = −4 everywhere.
	let image: Vec<i32> = (1..=9).collect();
	let plain = conv(1, 3, 1, 2, 1, 0, vec![1, 0, 0, -1]);
	assert_eq!(plain.output_size(), (2, 2));
	assert_eq!(Layer::Conv2d(plain.clone()).apply(&image, 8), vec![-4; 4]);
	// Padding 1: a 4×4 output of x[y−1][x−1] − x[y][x]; corners see at most one value.
	let padded = Conv2d { padding: 1, ..plain.clone() };
	let output = Layer::Conv2d(padded).apply(&image, 8);
	assert_eq!(output.len(), 16);
	assert_eq!((output[0], output[3], output[12], output[15]), (-1, 0, 0, 9));
	// Stride 2 with padding 1: rows and columns 0 and 2 of the padded grid.
	let strided = Conv2d { padding: 1, stride: 2, ..plain };
	assert_eq!(Layer::Conv2d(strided).apply(&image, 8), vec![-1, -3, -7, -4]);
}

#[test]
fn pools_evaluate_by_hand() {
	// Two channels of 2×2: sums 10 and −10.
	let input = [1, 2, 3, 4, -1, -2, -3, -4];
	let avg = Layer::AvgPool(AvgPool { channels: 2, height: 2, width: 2, kernel: 2, stride: 2 });
	assert_eq!(avg.apply(&input, 8), vec![2, -3], "floor(10/4) = 2, floor(−10/4) = −3");
	let sum = Layer::SumPool(SumPool {
		channels: 2,
		height: 2,
		width: 2,
		kernel: 2,
		stride: 1,
		multiplier: 3,
		shift: 1,
	});
	assert_eq!(sum.apply(&input, 8), vec![15, -15]);
	let saturating = Layer::SumPool(SumPool {
		channels: 1,
		height: 2,
		width: 4,
		kernel: 2,
		stride: 2,
		multiplier: 1,
		shift: 0,
	});
	assert_eq!(saturating.apply(&[100, 100, 1, 1, 100, 100, 1, 1], 8), vec![127, 4]);
	assert_eq!(saturating.apply(&[100, 100, 1, 1, 100, 100, 1, 1], 16), vec![400, 4]);
}

#[test]
fn version_1_files_load_and_write_back_unchanged() {
	let mut m = generate(&[6, 4, 2], 3);
	m.format = FORMAT_V1.into();
	let bytes = m.to_bytes();
	let text = String::from_utf8(bytes.clone()).unwrap();
	assert!(text.starts_with(r#"{"format":"opg-qmodel/1","layers":[{"inputs":6,"#), "{text}");
	let loaded = QModel::from_bytes(&bytes).unwrap();
	assert_eq!(loaded, m);
	assert_eq!(loaded.to_bytes(), bytes);
	// Version 2 tags every layer; a version 1 file with a tag is refused.
	let v2 = QModel { format: FORMAT_V2.into(), ..m.clone() };
	assert!(String::from_utf8(v2.to_bytes())
		.unwrap()
		.contains(r#"[{"type":"dense","inputs":6,"#));
	let tagged_v1 = String::from_utf8(v2.to_bytes()).unwrap().replace(FORMAT_V2, FORMAT_V1);
	assert!(matches!(QModel::from_bytes(tagged_v1.as_bytes()), Err(Error::Parse(_))));
	// Only dense layers in version 1.
	let mut cnn = generate_cnn(8, 2, 3, 1);
	cnn.format = FORMAT_V1.into();
	assert_eq!(cnn.validate(), Err(Error::NotInVersion1 { layer: 0 }));
}

#[test]
fn convolutional_files_round_trip_and_are_validated() {
	let m = generate_cnn(8, 3, 4, 9);
	assert_eq!(QModel::from_bytes(&m.to_bytes()).unwrap(), m);
	assert_eq!((m.input_len(), m.output_len()), (64, 4));
	let shapes: Vec<_> = m.layers.iter().map(|l| (l.input_len(), l.output_len())).collect();
	assert_eq!(shapes, vec![(64, 192), (192, 48), (48, 12), (12, 3), (3, 4)]);

	let mut json: serde_json::Value = serde_json::from_slice(&m.to_bytes()).unwrap();
	json["layers"][1]["type"] = "max_pool".into();
	assert!(matches!(QModel::from_bytes(json.to_string().as_bytes()), Err(Error::Parse(_))));
	let mut json: serde_json::Value = serde_json::from_slice(&m.to_bytes()).unwrap();
	json["layers"][0]["dilation"] = 2.into();
	assert!(matches!(QModel::from_bytes(json.to_string().as_bytes()), Err(Error::Parse(_))));

	let with = |index: usize, edit: &dyn Fn(&mut Layer)| {
		let mut other = m.clone();
		edit(&mut other.layers[index]);
		other.validate()
	};
	let conv = |edit: fn(&mut Conv2d)| {
		move |layer: &mut Layer| match layer {
			Layer::Conv2d(conv) => edit(conv),
			_ => unreachable!(),
		}
	};
	assert_eq!(with(0, &conv(|c| c.stride = 0)), Err(Error::LayerSize { layer: 0 }));
	assert_eq!(with(0, &conv(|c| c.filters = 0)), Err(Error::LayerSize { layer: 0 }));
	assert_eq!(with(0, &conv(|c| c.kernel_height = 11)), Err(Error::LayerShape { layer: 0 }));
	assert_eq!(with(0, &conv(|c| c.channels = 1 << 15)), Err(Error::LayerSize { layer: 0 }));
	assert_eq!(
		with(
			0,
			&conv(|c| {
				c.weights.pop();
			})
		),
		Err(Error::ParameterCount { layer: 0 })
	);
	assert_eq!(with(0, &conv(|c| c.bias.push(1))), Err(Error::ParameterCount { layer: 0 }));
	assert_eq!(
		with(0, &conv(|c| c.multiplier = (-1).into())),
		Err(Error::Requantization { layer: 0 })
	);
	assert_eq!(
		with(0, &conv(|c| c.padding = 0)),
		Err(Error::LayerMismatch { layer: 1, expected: 108, found: 192 })
	);
	let avg = |edit: fn(&mut AvgPool)| {
		move |layer: &mut Layer| match layer {
			Layer::AvgPool(pool) => edit(pool),
			_ => unreachable!(),
		}
	};
	assert_eq!(with(1, &avg(|p| p.kernel = 9)), Err(Error::LayerShape { layer: 1 }));
	assert_eq!(with(1, &avg(|p| p.kernel = 0)), Err(Error::LayerSize { layer: 1 }));
	assert_eq!(with(1, &avg(|p| p.stride = 0)), Err(Error::LayerSize { layer: 1 }));
	let sum = |edit: fn(&mut SumPool)| {
		move |layer: &mut Layer| match layer {
			Layer::SumPool(pool) => edit(pool),
			_ => unreachable!(),
		}
	};
	assert_eq!(with(3, &sum(|p| p.shift = 63)), Err(Error::Requantization { layer: 3 }));
}

/// The first `channels` multipliers and shifts, one per channel, or the first for all.
fn requantization(
	multipliers: &[i32],
	shifts: &[u8],
	channels: u32,
	per_channel: bool,
) -> (PerChannel<i32>, PerChannel<u8>) {
	if per_channel {
		let n = channels as usize;
		(PerChannel::Channel(multipliers[..n].to_vec()), PerChannel::Channel(shifts[..n].to_vec()))
	} else {
		(multipliers[0].into(), shifts[0].into())
	}
}

#[test]
fn per_channel_requantization_needs_version_3_and_a_value_per_channel() {
	let mut m = generate(&[6, 4, 2], 3);
	assert_eq!(m.format, FORMAT_V2, "generated models stay version 2 files");
	m.format = FORMAT.into();
	dense_mut(&mut m, 0).multiplier = PerChannel::Channel(vec![1, 2, 3, 4]);
	dense_mut(&mut m, 0).shift = PerChannel::Channel(vec![0, 1, 2, 3]);
	let bytes = m.to_bytes();
	let text = String::from_utf8(bytes.clone()).unwrap();
	assert!(text.contains(r#""multiplier":[1,2,3,4],"shift":[0,1,2,3]"#), "{text}");
	assert_eq!(QModel::from_bytes(&bytes).unwrap(), m);
	// Each output uses its own: output j is floor(acc_j · (j + 1) / 2^j).
	let single = |j: usize| {
		let mut one = m.clone();
		let dense = dense_mut(&mut one, 0);
		dense.multiplier = dense.multiplier.get(j).into();
		dense.shift = dense.shift.get(j).into();
		one.layers[0].apply(&[3, -1, 4, -1, 5, -9], 8)[j]
	};
	let both = m.layers[0].apply(&[3, -1, 4, -1, 5, -9], 8);
	assert_eq!(both, (0..4).map(single).collect::<Vec<_>>());

	let text_v2 = text.replace(FORMAT, FORMAT_V2);
	assert_eq!(QModel::from_bytes(text_v2.as_bytes()), Err(Error::NeedsVersion3 { layer: 0 }));
	let mut wrong = m.clone();
	dense_mut(&mut wrong, 0).multiplier = PerChannel::Channel(vec![1, 2, 3]);
	assert_eq!(wrong.validate(), Err(Error::Requantization { layer: 0 }));
	let mut wrong = m.clone();
	dense_mut(&mut wrong, 0).multiplier = PerChannel::Channel(vec![1, 2, 0, 4]);
	assert_eq!(wrong.validate(), Err(Error::Requantization { layer: 0 }));
	let mut wrong = m.clone();
	dense_mut(&mut wrong, 0).shift = PerChannel::Channel(vec![0, 1, 2, MAX_SHIFT + 1]);
	assert_eq!(wrong.validate(), Err(Error::Requantization { layer: 0 }));
	let mut conv = generate_cnn(8, 3, 4, 9);
	conv.format = FORMAT.into();
	if let Layer::Conv2d(layer) = &mut conv.layers[2] {
		layer.shift = PerChannel::Channel(vec![9, 10]);
	}
	assert_eq!(conv.validate(), Err(Error::Requantization { layer: 2 }));
}

#[test]
fn sixteen_bit_models_need_version_3_and_travel_as_little_endian_pairs() {
	let mut m = generate(&[3, 2], 5);
	m.format = FORMAT.into();
	m.bits = 16;
	m.input_bits = 16;
	dense_mut(&mut m, 0).weights = vec![300, -1, 2, -400, 5, 6];
	dense_mut(&mut m, 0).bias = vec![0, 0];
	dense_mut(&mut m, 0).multiplier = 1.into();
	dense_mut(&mut m, 0).shift = 0.into();
	let bytes = m.to_bytes();
	let text = String::from_utf8(bytes.clone()).unwrap();
	assert!(text.starts_with(r#"{"format":"opg-qmodel/3","bits":16,"layers":"#), "{text}");
	assert_eq!(QModel::from_bytes(&bytes).unwrap(), m);
	assert_eq!((m.input_bytes(), m.output_bytes()), (6, 4));
	// Rows [300, −1, 2] and [−400, 5, 6]: [1000, −2, 3] saturates both ways.
	let input = [1000, -2, 3];
	assert_eq!(m.evaluate(&input).unwrap(), vec![32_767, -32_768]);
	let small = [10, -2, 3];
	assert_eq!(m.evaluate(&small).unwrap(), vec![3_008, -3_992]);
	assert_eq!(
		m.evaluate_bytes(&encode(&small, 16)).unwrap(),
		vec![0xc0, 0x0b, 0x68, 0xf0],
		"3008 = 0x0bc0 and −3992 = 0xf068, little-end first"
	);
	assert_eq!(decode(&[0x00, 0x80, 0xff, 0x7f], 16), vec![-32_768, 32_767]);
	assert_eq!(m.evaluate_bytes(&[0; 5]), Err(Error::InputBytes { expected: 6, found: 5 }));
	assert_eq!(m.evaluate(&[40_000, 0, 0]), Err(Error::InputRange { index: 0 }));

	// Not in version 2; `bits` only 8 or 16, and 8 is written by leaving it out.
	let v2 = text.replace(FORMAT, FORMAT_V2);
	assert_eq!(QModel::from_bytes(v2.as_bytes()), Err(Error::Bits(16)));
	let mut narrow_v2 = m.clone();
	narrow_v2.format = FORMAT_V2.into();
	narrow_v2.bits = 8;
	narrow_v2.input_bits = 8;
	assert_eq!(narrow_v2.validate(), Err(Error::NeedsVersion3 { layer: 0 }), "weights beyond i8");
	let mut wide_bias = narrow_v2.clone();
	dense_mut(&mut wide_bias, 0).weights = vec![1; 6];
	dense_mut(&mut wide_bias, 0).bias = vec![1 << 31, 0];
	assert_eq!(wide_bias.validate(), Err(Error::NeedsVersion3 { layer: 0 }), "bias beyond i32");
	wide_bias.format = FORMAT.into();
	assert_eq!(wide_bias.validate(), Ok(()));
	dense_mut(&mut wide_bias, 0).bias = vec![MAX_BIAS + 1, 0];
	assert_eq!(wide_bias.validate(), Err(Error::ParameterCount { layer: 0 }));
	let mut odd = m.clone();
	odd.bits = 12;
	assert_eq!(odd.validate(), Err(Error::Bits(12)));
	let eight = text.replace(r#""bits":16"#, r#""bits":8"#);
	assert!(matches!(QModel::from_bytes(eight.as_bytes()), Err(Error::Parse(_))));
	let mut odd_input = m.clone();
	odd_input.input_bits = 4;
	assert_eq!(odd_input.validate(), Err(Error::Bits(4)));
	let same = text.replace(r#""bits":16"#, r#""bits":16,"input_bits":16"#);
	assert!(matches!(QModel::from_bytes(same.as_bytes()), Err(Error::Parse(_))));
}

#[test]
fn an_8_bit_input_may_feed_16_bit_values() {
	let mut m = generate_cnn(8, 2, 3, 4);
	m.format = FORMAT.into();
	m.bits = 16;
	let text = String::from_utf8(m.to_bytes()).unwrap();
	assert!(text.starts_with(r#"{"format":"opg-qmodel/3","bits":16,"input_bits":8,"#), "{text}");
	assert_eq!(QModel::from_bytes(text.as_bytes()).unwrap(), m);
	// conv (16) → avg pool (keeps 16) → conv → sum pool → dense: all 16 but the input.
	assert_eq!(m.widths(), vec![8, 16, 16, 16, 16, 16]);
	assert_eq!((m.input_bytes(), m.output_bytes()), (64, 6));
	let input = random_input(64, 3);
	let output = m.evaluate(&input).unwrap();
	assert_eq!(output, reference(&m, &input));
	assert_eq!(m.evaluate_bytes(&encode(&input, 8)).unwrap(), encode(&output, 16));
	assert_eq!(m.evaluate(&[200; 64]), Err(Error::InputRange { index: 0 }));
	// A pool right after the input keeps the input's width.
	let mut pooled = m.clone();
	pooled.layers.insert(
		0,
		Layer::AvgPool(AvgPool { channels: 1, height: 8, width: 8, kernel: 1, stride: 1 }),
	);
	assert_eq!(pooled.widths()[..3], [8, 8, 16]);
}

proptest! {
	#[test]
	fn evaluation_matches_the_reference(
		widths in proptest::collection::vec(1u32..24, 2..5),
		seed: u64,
		input_seed: u64,
	) {
		let m = generate(&widths, seed);
		prop_assert!(m.validate().is_ok());
		let input = random_input(widths[0] as usize, input_seed);
		prop_assert_eq!(m.evaluate(&input).unwrap(), reference(&m, &input));
	}

	#[test]
	fn convolutional_networks_match_the_reference(
		side in 6u32..14,
		filters in 1u32..4,
		classes in 1u32..5,
		seed: u64,
		input_seed: u64,
	) {
		let m = generate_cnn(side, filters, classes, seed);
		prop_assert!(m.validate().is_ok());
		let input = random_input((side * side) as usize, input_seed);
		prop_assert_eq!(m.evaluate(&input).unwrap(), reference(&m, &input));
	}

	#[test]
	fn random_convolutions_match_the_reference(
		channels in 1u32..3,
		side in 1u32..7,
		filters in 1u32..3,
		kernel in 1u32..4,
		stride in 1u32..3,
		padding in 0u32..2,
		bias in -MAX_BIAS..=MAX_BIAS,
		multipliers in proptest::collection::vec(1..=i32::MAX, 3),
		shifts in proptest::collection::vec(0..=MAX_SHIFT, 3),
		per_channel: bool,
		relu: bool,
		seed: u64,
		bits in prop_oneof![Just(8u8), Just(16u8)],
		weight_bits in prop_oneof![Just(8u32), Just(16u32)],
	) {
		prop_assume!(side + 2 * padding >= kernel);
		let weights = random_values((filters * channels * kernel * kernel) as usize, seed, weight_bits);
		let weights = weights.into_iter().map(|w| w as i16).collect();
		let (multiplier, shift) = requantization(&multipliers, &shifts, filters, per_channel);
		let layer = Conv2d {
			bias: vec![bias; filters as usize],
			multiplier,
			shift,
			relu,
			..conv(channels, side, filters, kernel, stride, padding, weights)
		};
		let m = QModel { format: FORMAT.into(), bits, input_bits: bits, layers: vec![Layer::Conv2d(layer)] };
		prop_assert!(m.validate().is_ok());
		let input = random_values((channels * side * side) as usize, seed ^ 1, bits.into());
		prop_assert_eq!(m.evaluate(&input).unwrap(), reference(&m, &input));
	}

	#[test]
	fn random_parameters_match_the_reference(
		weights in proptest::collection::vec(any::<i16>(), 12),
		bias in proptest::collection::vec(-MAX_BIAS..=MAX_BIAS, 3),
		multipliers in proptest::collection::vec(1..=i32::MAX, 3),
		shifts in proptest::collection::vec(0..=MAX_SHIFT, 3),
		per_channel: bool,
		relu: bool,
		input in proptest::collection::vec(any::<i16>(), 4),
		wide: bool,
	) {
		let (multiplier, shift) = requantization(&multipliers, &shifts, 3, per_channel);
		// 8 bits: the low byte of each drawn value.
		let narrow = |v: i16| if wide { v } else { i16::from(v as i8) };
		let weights = weights.into_iter().map(narrow).collect();
		let input: Vec<i32> = input.into_iter().map(|v| i32::from(narrow(v))).collect();
		let dense = Dense { multiplier, shift, ..layer(4, 3, weights, bias, 1, 0, relu) };
		let bits = if wide { 16 } else { 8 };
		let m = QModel { format: FORMAT.into(), bits, input_bits: bits, layers: vec![Layer::Dense(dense)] };
		prop_assert_eq!(m.evaluate(&input).unwrap(), reference(&m, &input));
	}
}
