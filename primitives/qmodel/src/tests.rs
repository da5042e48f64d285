use super::*;
use proptest::prelude::*;

fn layer(inputs: u32, outputs: u32, weights: Vec<i8>, bias: Vec<i32>, multiplier: i32, shift: u8, relu: bool) -> Dense {
	Dense { inputs, outputs, weights, bias, multiplier, shift, relu }
}

fn model(layers: Vec<Dense>) -> QModel {
	QModel { format: FORMAT.into(), layers }
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
	let dense = layer(1, 1, vec![1], vec![0], 1, 1, false);
	assert_eq!(dense.requantize(-1), -1);
	assert_eq!(dense.requantize(-3), -2);
	assert_eq!(dense.requantize(3), 1);
	assert_eq!(dense.requantize(1_000), 127);
	assert_eq!(dense.requantize(-1_000), -128);
	let relu = Dense { relu: true, ..dense };
	assert_eq!(relu.requantize(-1_000), 0);
}

#[test]
fn extreme_parameters_stay_within_i64() {
	let inputs = MAX_LAYER_INPUTS;
	let dense = layer(inputs, 1, vec![-128; inputs as usize], vec![i32::MIN], i32::MAX, 0, false);
	assert_eq!(dense.apply(&vec![127; inputs as usize]), vec![-128]);
	let dense = layer(inputs, 1, vec![-128; inputs as usize], vec![i32::MAX], i32::MAX, 0, false);
	assert_eq!(dense.apply(&vec![-128; inputs as usize]), vec![127]);
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
	other.format = "opg-qmodel/2".into();
	assert_eq!(other.validate(), Err(Error::UnknownFormat("opg-qmodel/2".into())));
	assert_eq!(model(vec![]).validate(), Err(Error::LayerCount(0)));

	let mut other = m.clone();
	other.layers[1].inputs = 9;
	other.layers[1].weights.extend([0; 4]);
	assert_eq!(other.validate(), Err(Error::LayerMismatch { layer: 1, expected: 8, found: 9 }));

	let mut other = m.clone();
	other.layers[0].weights.pop();
	assert_eq!(other.validate(), Err(Error::ParameterCount { layer: 0 }));
	let mut other = m.clone();
	other.layers[0].bias.push(0);
	assert_eq!(other.validate(), Err(Error::ParameterCount { layer: 0 }));

	let mut other = m.clone();
	other.layers[1].multiplier = 0;
	assert_eq!(other.validate(), Err(Error::Requantization { layer: 1 }));
	let mut other = m.clone();
	other.layers[1].shift = MAX_SHIFT + 1;
	assert_eq!(other.validate(), Err(Error::Requantization { layer: 1 }));

	let mut other = m.clone();
	other.layers[0] = layer(0, 8, vec![], vec![0; 8], 1, 0, true);
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
	let input: Vec<i8> = (0..784).map(|i| (i % 97) as i8).collect();
	let output = m.evaluate(&input).unwrap();
	let saturated = output.iter().filter(|v| **v == 127 || **v == -128).count();
	assert!(saturated < output.len(), "the demo model's output is not all saturated: {output:?}");
}

/// An independent reference: exact rational arithmetic in i128 and floor division.
fn reference(m: &QModel, input: &[i8]) -> Vec<i8> {
	let mut x: Vec<i128> = input.iter().map(|v| *v as i128).collect();
	for l in &m.layers {
		x = (0..l.outputs as usize)
			.map(|j| {
				let mut acc = l.bias[j] as i128;
				for i in 0..l.inputs as usize {
					acc += l.weights[j * l.inputs as usize + i] as i128 * x[i];
				}
				let mut q = (acc * l.multiplier as i128).div_euclid(1i128 << l.shift);
				if l.relu && q < 0 {
					q = 0;
				}
				q.clamp(-128, 127)
			})
			.collect();
	}
	x.into_iter().map(|v| v as i8).collect()
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
		let input: Vec<i8> = generate(&[widths[0], 1], input_seed).layers[0].weights.clone();
		prop_assert_eq!(m.evaluate(&input).unwrap(), reference(&m, &input));
	}

	#[test]
	fn random_parameters_match_the_reference(
		weights in proptest::collection::vec(any::<i8>(), 12),
		bias in proptest::collection::vec(any::<i32>(), 3),
		multiplier in 1..=i32::MAX,
		shift in 0..=MAX_SHIFT,
		relu: bool,
		input in proptest::collection::vec(any::<i8>(), 4),
	) {
		let m = model(vec![layer(4, 3, weights, bias, multiplier, shift, relu)]);
		prop_assert_eq!(m.evaluate(&input).unwrap(), reference(&m, &input));
	}
}
