use super::*;
use crate::circuit::Fault;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{One, Zero};
use ark_std::rand::{rngs::StdRng, SeedableRng};
use opg_qmodel::{
	encode, generate, generate_cnn, AvgPool, Conv2d, Dense, Layer, PerChannel, FORMAT,
};
use opg_zk_verifier::{
	decode_key, decode_proof, encode_key, job_binding, verify, verify_encoded, Error as VerifyError,
};
use proptest::prelude::*;

/// Three inputs, a ReLU layer and a plain layer whose outputs hit every case: positive,
/// negative, zeroed by ReLU, clamped to 127 and to −128, floor of a negative half.
fn edge_model() -> QModel {
	let dense = |inputs, weights: Vec<i16>, bias: Vec<i64>, multiplier, shift, relu| {
		Layer::Dense(Dense {
			inputs,
			outputs: bias.len() as u32,
			weights,
			bias,
			multiplier: PerChannel::Layer(multiplier),
			shift: PerChannel::Layer(shift),
			relu,
		})
	};
	QModel {
		format: FORMAT.into(),
		bits: 8,
		input_bits: 8,
		layers: vec![
			dense(3, vec![1, 0, 0, 3, 0, 0, -1, 0, 0, 0, 1, 1], vec![0, 0, 0, 0], 1, 0, true),
			dense(
				4,
				vec![1, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 1, -1, 0, 0],
				vec![0, 0, -7, 0],
				3,
				1,
				false,
			),
		],
	}
}

const EDGE_INPUT: [i32; 3] = [100, -50, 7];

/// The edge model with 16-bit values, on [`EDGE_INPUT_16`]: the same cases at ±2^15.
fn edge_model_16() -> QModel {
	QModel { bits: 16, input_bits: 16, ..edge_model() }
}

/// [`EDGE_INPUT`] × 256.
const EDGE_INPUT_16: [i32; 3] = [25_600, -12_800, 1_792];
/// The edge model's 16-bit output on [`EDGE_INPUT_16`]: both clamps, a floor of a
/// negative half (−21/2 → −11), and 3·(25600 − 32767)/2 rounded down.
const EDGE_OUTPUT_16: [i32; 4] = [32_767, -32_768, -11, -10_751];

/// Every dense and conv2d layer of `model` with 16-bit values and weights 131 times the
/// originals (beyond `i8`).
fn sixteen_bit(mut model: QModel) -> QModel {
	model.format = FORMAT.into();
	model.bits = 16;
	model.input_bits = 16;
	for layer in &mut model.layers {
		if let Layer::Dense(Dense { weights, .. }) | Layer::Conv2d(Conv2d { weights, .. }) = layer {
			weights.iter_mut().for_each(|w| *w *= 131);
		}
	}
	model.validate().expect("still a valid model");
	model
}

/// [`sixteen_bit`] with an 8-bit input.
fn mixed(model: QModel) -> QModel {
	QModel { input_bits: 8, ..sixteen_bit(model) }
}

/// The model unchanged (0), with 16-bit values after an 8-bit input (1), or all 16-bit (2).
fn widen(model: QModel, width: u8) -> QModel {
	match width {
		1 => mixed(model),
		2 => sixteen_bit(model),
		_ => model,
	}
}

/// The wrong witnesses of the input and the requantize gadget (dense, conv2d, sum pool).
const REQUANTIZATION_FAULTS: [Fault; 6] = [
	Fault::RemainderOverflow,
	Fault::NonBooleanBit,
	Fault::ReluSkipped,
	Fault::ClampSkipped,
	Fault::WrongOutput,
	Fault::InputOutOfRange,
];

fn witness(input: &[i32], fault: Option<Fault>) -> Witness {
	Witness { input: input.to_vec(), binding: Fr::from(42u8), fault }
}

/// Synthesizes with matrices and assignment; the instance assignment and satisfaction.
fn synthesize(model: &CompiledModel, witness: Witness) -> (Vec<Fr>, bool) {
	let cs = ConstraintSystem::<Fr>::new_ref();
	cs.set_optimization_goal(OptimizationGoal::Constraints);
	model.circuit(Some(witness)).generate_constraints(cs.clone()).unwrap();
	cs.finalize();
	(cs.instance_assignment().unwrap(), cs.is_satisfied().unwrap())
}

#[test]
fn the_edge_model_covers_every_case_of_the_semantics() {
	let model = edge_model();
	assert_eq!(model.evaluate(&EDGE_INPUT).unwrap(), vec![127, -128, -11, -41]);
	assert_eq!(model.layers[0].apply(&EDGE_INPUT, 8), vec![100, 127, 0, 0]);
	let wide = edge_model_16();
	assert_eq!(wide.evaluate(&EDGE_INPUT_16).unwrap(), EDGE_OUTPUT_16);
	assert_eq!(wide.layers[0].apply(&EDGE_INPUT_16, 16), vec![25_600, 32_767, 0, 0]);
}

#[test]
fn an_honest_witness_satisfies_the_circuit_and_states_the_output() {
	let model = CompiledModel::new(edge_model()).unwrap();
	let (instance, satisfied) = synthesize(&model, witness(&EDGE_INPUT, None));
	assert!(satisfied);
	let input = encode(&EDGE_INPUT, 8);
	let statement = Statement {
		binding: Fr::from(42u8),
		input_commitment: opg_zk_verifier::input_commitment(&input),
		output: encode(&[127, -128, -11, -41], 8),
	};
	assert_eq!(instance[0], Fr::one());
	assert_eq!(instance[1..].to_vec(), statement.public_inputs());

	// 16 bits: the commitment and the output are over two bytes per value.
	let model = CompiledModel::new(edge_model_16()).unwrap();
	let (instance, satisfied) = synthesize(&model, witness(&EDGE_INPUT_16, None));
	assert!(satisfied);
	let statement = Statement {
		binding: Fr::from(42u8),
		input_commitment: opg_zk_verifier::input_commitment(&encode(&EDGE_INPUT_16, 16)),
		output: encode(&EDGE_OUTPUT_16, 16),
	};
	assert_eq!(instance[1..].to_vec(), statement.public_inputs());
}

#[test]
fn every_wrong_witness_is_unsatisfiable() {
	let model = CompiledModel::new(edge_model()).unwrap();
	for fault in REQUANTIZATION_FAULTS {
		let (_, satisfied) = synthesize(&model, witness(&EDGE_INPUT, Some(fault)));
		assert!(!satisfied, "{fault:?} was accepted");
	}
	let model = CompiledModel::new(edge_model_16()).unwrap();
	for fault in REQUANTIZATION_FAULTS.into_iter().chain([Fault::OutputBytesWrong]) {
		let (_, satisfied) = synthesize(&model, witness(&EDGE_INPUT_16, Some(fault)));
		assert!(!satisfied, "16 bits: {fault:?} was accepted");
	}
}

#[test]
fn quotient_widths_hold_exactly_the_reachable_range() {
	let model = edge_model();
	// Layer 0 row 1: 3·x over −128..=127 → −384..=381: 10 bits; the rest fit in 9.
	assert_eq!(quotient_bits(&model.layers[0], 8, 8), vec![9, 10, 9, 9]);
	// 16-bit inputs: 3·x over −2^15..2^15 − 1 needs 18 bits; the rest the minimum, 17.
	assert_eq!(quotient_bits(&model.layers[0], 16, 16), vec![17, 18, 17, 17]);
	// 8-bit inputs, 16-bit outputs: the minimum, 17, everywhere.
	assert_eq!(quotient_bits(&model.layers[0], 8, 16), vec![17; 4]);
	let wide = Layer::Dense(Dense {
		inputs: 2,
		outputs: 1,
		weights: vec![127, 127],
		bias: vec![0],
		multiplier: (1 << 20).into(),
		shift: 0.into(),
		relu: false,
	});
	// −2·127·128·2^20 = −34,091,302,912 ≥ −2^35 and 2·127·127·2^20 < 2^35: 36 bits.
	assert_eq!(quotient_bits(&wide, 8, 8), vec![36]);
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(12))]

	/// Random models and inputs: the circuit is satisfied by its honest witness and states
	/// exactly the integer executor's output.
	#[test]
	fn the_circuit_agrees_with_the_integer_executor(
		seed in any::<u64>(),
		widths in prop::collection::vec(1u32..12, 2..5),
		input_seed in any::<u64>(),
		channels: bool,
		width in 0u8..3,
	) {
		let qmodel = generate(&widths, seed);
		let qmodel = if channels { per_channel(qmodel) } else { qmodel };
		let qmodel = widen(qmodel, width);
		let input = values(widths[0] as usize, input_seed, qmodel.input_bits);
		let expected = encode(&qmodel.evaluate(&input).unwrap(), qmodel.bits.into());
		let model = CompiledModel::new(qmodel).unwrap();
		let (instance, satisfied) = synthesize(&model, witness(&input, None));
		prop_assert!(satisfied);
		prop_assert_eq!(instance[3..].to_vec(), opg_zk_verifier::pack_bytes(&expected));
	}

	/// Random convolutional networks: the same agreement.
	#[test]
	fn convolutional_circuits_agree_with_the_integer_executor(
		side in 6u32..11,
		filters in 1u32..3,
		classes in 1u32..4,
		seed in any::<u64>(),
		input_seed in any::<u64>(),
		channels: bool,
		width in 0u8..3,
	) {
		let qmodel = generate_cnn(side, filters, classes, seed);
		let qmodel = if channels { per_channel(qmodel) } else { qmodel };
		let qmodel = widen(qmodel, width);
		let input = values((side * side) as usize, input_seed, qmodel.input_bits);
		let expected = encode(&qmodel.evaluate(&input).unwrap(), qmodel.bits.into());
		let model = CompiledModel::new(qmodel).unwrap();
		let (instance, satisfied) = synthesize(&model, witness(&input, None));
		prop_assert!(satisfied);
		prop_assert_eq!(instance[3..].to_vec(), opg_zk_verifier::pack_bytes(&expected));
	}
}

/// An 8×8 convolutional network (conv, average pool, strided conv, sum pool, dense) whose
/// first convolution saturates: some outputs clamp to 127, some are zeroed by ReLU.
fn cnn_model() -> QModel {
	let mut model = generate_cnn(8, 2, 3, 4);
	if let Layer::Conv2d(conv) = &mut model.layers[0] {
		conv.multiplier = (1 << 12).into();
	}
	model
}

/// Every dense and conv2d layer of `model` requantized per output channel: channel `c`
/// gets the layer's multiplier times `1 + c mod 3` and its shift plus `c mod 2` (a
/// version 3 file).
fn per_channel(mut model: QModel) -> QModel {
	model.format = FORMAT.into();
	let spread = |multiplier: &mut PerChannel<i32>, shift: &mut PerChannel<u8>, channels| {
		let (m, s) = (multiplier.get(0), shift.get(0));
		*multiplier =
			PerChannel::Channel((0..channels).map(|c| m.saturating_mul(1 + c % 3)).collect());
		*shift = PerChannel::Channel((0..channels).map(|c| s + (c % 2) as u8).collect());
	};
	for layer in &mut model.layers {
		match layer {
			Layer::Dense(l) => spread(&mut l.multiplier, &mut l.shift, l.outputs as i32),
			Layer::Conv2d(l) => spread(&mut l.multiplier, &mut l.shift, l.filters as i32),
			Layer::SumPool(_) | Layer::AvgPool(_) => {},
		}
	}
	model.validate().expect("still a valid model");
	model
}

/// A convolution followed by a 3×3 average pool, whose area (9) is not a power of two.
fn odd_pool_model() -> QModel {
	let conv = Conv2d {
		channels: 1,
		height: 4,
		width: 4,
		filters: 1,
		kernel_height: 2,
		kernel_width: 2,
		stride: 1,
		padding: 0,
		weights: vec![1, 1, 1, -1],
		bias: vec![3],
		multiplier: 1.into(),
		shift: 1.into(),
		relu: false,
	};
	let pool = AvgPool { channels: 1, height: 3, width: 3, kernel: 3, stride: 1 };
	QModel {
		format: FORMAT.into(),
		bits: 8,
		input_bits: 8,
		layers: vec![Layer::Conv2d(conv), Layer::AvgPool(pool)],
	}
}

fn cnn_input(len: usize) -> Vec<i32> {
	(0..len).map(|i| i32::from(((i * 37 + 11) % 256) as u8 as i8)).collect()
}

/// `len` pseudo-random values of `bits` bits.
fn values(len: usize, seed: u64, bits: u8) -> Vec<i32> {
	(0..len as u32)
		.map(|i| {
			let raw = seed.rotate_left(i * 7 % 64) ^ u64::from(i).wrapping_mul(0x9e37_79b9);
			if bits == 16 {
				i32::from(raw as u16 as i16)
			} else {
				i32::from(raw as u8 as i8)
			}
		})
		.collect()
}

#[test]
fn convolutions_and_pools_satisfy_the_circuit_and_state_the_output() {
	for qmodel in [cnn_model(), per_channel(cnn_model()), odd_pool_model()] {
		let input = cnn_input(qmodel.input_len() as usize);
		let expected = encode(&qmodel.evaluate(&input).unwrap(), qmodel.bits.into());
		let model = CompiledModel::new(qmodel).unwrap();
		let (instance, satisfied) = synthesize(&model, witness(&input, None));
		assert!(satisfied);
		assert_eq!(instance[3..].to_vec(), opg_zk_verifier::pack_bytes(&expected));
	}
	// The first convolution of the test network hits both the clamp and the ReLU.
	let cnn = cnn_model();
	let first = cnn.layers[0].apply(&cnn_input(64), 8);
	assert!(first.contains(&127) && first.contains(&0), "{first:?}");
}

#[test]
fn every_wrong_witness_of_a_convolutional_network_is_unsatisfiable() {
	for qmodel in [cnn_model(), per_channel(cnn_model()), mixed(cnn_model())] {
		let model = CompiledModel::new(qmodel).unwrap();
		let input = cnn_input(64);
		for fault in REQUANTIZATION_FAULTS {
			let (_, satisfied) = synthesize(&model, witness(&input, Some(fault)));
			assert!(!satisfied, "{fault:?} was accepted");
		}
	}
	// A remainder of 9..=15 fits 4 bits: only the k² − 1 − r check refuses it.
	let model = CompiledModel::new(odd_pool_model()).unwrap();
	let (_, satisfied) =
		synthesize(&model, witness(&cnn_input(16), Some(Fault::AverageRemainderOverflow)));
	assert!(!satisfied, "an average-pool remainder above k² − 1 was accepted");
}

#[test]
fn a_convolutional_network_is_proven_and_verified() {
	// 8 bits, and 16 bits per channel with weights beyond i8.
	for qmodel in [cnn_model(), sixteen_bit(per_channel(cnn_model())), mixed(cnn_model())] {
		let mut rng = StdRng::seed_from_u64(4);
		let model = CompiledModel::new(qmodel.clone()).unwrap();
		let key = setup(&model, &mut rng).unwrap();
		let verifying = encode_key(&key.vk);
		let prover = Prover::new(model, key).unwrap();
		let input = encode(&values(64, 5, qmodel.input_bits), qmodel.input_bits.into());
		let binding = job_binding(&[3; 32], 1, &[4; 32]);
		let proven = prover.prove(&input, binding, &mut rng).unwrap();
		assert_eq!(proven.output, qmodel.evaluate_bytes(&input).unwrap());
		assert_eq!(proven.output.len(), 3 * usize::from(qmodel.bits / 8));
		assert_eq!(verify_encoded(&verifying, &proven.proof, &proven.statement), Ok(()));
		let mut wrong = proven.statement.clone();
		wrong.output[0] ^= 1;
		assert_eq!(verify_encoded(&verifying, &proven.proof, &wrong), Err(VerifyError::Rejected));
		// The input is committed as its bytes: another width's bytes are another input.
		let short = prover.prove(&input[1..], binding, &mut rng);
		assert!(matches!(short, Err(Error::InputLength { .. })));
	}
}

/// `opg-onnx`'s fixture (a network exported by PyTorch), imported and quantized: its
/// circuit is satisfied and states the integer model's output.
#[test]
fn an_imported_onnx_network_satisfies_its_circuit() {
	let dir = std::path::PathBuf::from(
		std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"),
	)
	.join("../onnx/tests/fixtures");
	let graph = opg_onnx::read(&std::fs::read(dir.join("cnn.onnx")).unwrap()).unwrap();
	let samples =
		opg_onnx::samples(&std::fs::read(dir.join("inputs.f32")).unwrap(), graph.input_len())
			.unwrap();
	for options in [opg_onnx::Options::int8(), opg_onnx::Options::default()] {
		let quantized = opg_onnx::quantize(&graph, &samples, &options).unwrap();
		let input = quantized.quantize_input(&samples[0]);
		let output = quantized.model.evaluate(&input).unwrap();
		let expected = encode(&output, options.bits.into());
		let model = CompiledModel::new(quantized.model).unwrap();
		let (instance, satisfied) = synthesize(&model, witness(&input, None));
		assert!(satisfied);
		assert_eq!(instance[3..].to_vec(), opg_zk_verifier::pack_bytes(&expected));
	}
}

#[test]
fn a_proof_verifies_for_its_job_only() {
	let mut rng = StdRng::seed_from_u64(1);
	let model = CompiledModel::new(edge_model()).unwrap();
	let key = setup(&model, &mut rng).unwrap();
	let verifying = encode_key(&key.vk);
	let prover = Prover::new(model, key).unwrap();
	let genesis = [7u8; 32];
	let (node, other_node) = ([1u8; 32], [2u8; 32]);
	let binding = job_binding(&genesis, 5, &node);
	let input = encode(&EDGE_INPUT, 8);
	let proven = prover.prove(&input, binding, &mut rng).unwrap();
	assert_eq!(proven.output, encode(&[127, -128, -11, -41], 8));
	assert_eq!(verify_encoded(&verifying, &proven.proof, &proven.statement), Ok(()));

	let with = |change: &dyn Fn(&mut Statement)| {
		let mut statement = proven.statement.clone();
		change(&mut statement);
		verify_encoded(&verifying, &proven.proof, &statement)
	};
	// Replayed for another request, or by another node.
	assert_eq!(with(&|s| s.binding = job_binding(&genesis, 6, &node)), Err(VerifyError::Rejected));
	assert_eq!(
		with(&|s| s.binding = job_binding(&genesis, 5, &other_node)),
		Err(VerifyError::Rejected)
	);
	// Another input, another output.
	assert_eq!(
		with(&|s| s.input_commitment = opg_zk_verifier::input_commitment(&[0, 0, 0])),
		Err(VerifyError::Rejected)
	);
	assert_eq!(with(&|s| s.output[0] ^= 1), Err(VerifyError::Rejected));
	assert_eq!(with(&|s| s.output.push(0)), Err(VerifyError::Rejected));
	assert_eq!(with(&|s| s.output.extend([0; 31])), Err(VerifyError::Arity));
	// A tampered proof: a valid point of another proof, or bytes that decode to nothing.
	let other = prover.prove(&input, job_binding(&genesis, 9, &node), &mut rng).unwrap();
	let mut mixed = proven.proof.clone();
	mixed[96..].copy_from_slice(&other.proof[96..]);
	assert_eq!(verify_encoded(&verifying, &mixed, &proven.statement), Err(VerifyError::Rejected));
	let mut flipped = proven.proof.clone();
	flipped[5] ^= 0x10;
	assert!(verify_encoded(&verifying, &flipped, &proven.statement).is_err());

	// A key of another setup of the same model rejects the proof.
	let model = CompiledModel::new(edge_model()).unwrap();
	let other_key = encode_key(&setup(&model, &mut rng).unwrap().vk);
	assert_eq!(
		verify_encoded(&other_key, &proven.proof, &proven.statement),
		Err(VerifyError::Rejected)
	);
	let key = decode_key(&verifying).unwrap();
	assert_eq!(
		verify(&key, &decode_proof(&proven.proof).unwrap(), &proven.statement.public_inputs()),
		Ok(())
	);
}

#[test]
fn a_key_of_another_model_is_refused_and_inputs_are_checked() {
	let mut rng = StdRng::seed_from_u64(2);
	let other = CompiledModel::new(generate(&[4, 3], 1)).unwrap();
	let key = setup(&other, &mut rng).unwrap();
	let model = CompiledModel::new(edge_model()).unwrap();
	assert!(matches!(Prover::new(model, key.clone()), Err(Error::KeyMismatch)));
	let prover = Prover::new(other, key).unwrap();
	assert!(matches!(
		prover.prove(&[1, 2], Fr::zero(), &mut rng),
		Err(Error::InputLength { expected: 4, found: 2 })
	));
}

#[test]
fn proving_keys_round_trip_through_files() {
	let mut rng = StdRng::seed_from_u64(3);
	let model = CompiledModel::new(generate(&[5, 4, 2], 3)).unwrap();
	let key = setup(&model, &mut rng).unwrap();
	let mut bytes = Vec::new();
	write_proving_key(&key, &mut bytes).unwrap();
	let read = read_proving_key(bytes.as_slice()).unwrap();
	assert_eq!(read.vk, key.vk);
	assert!(matches!(read_proving_key(&bytes[..10]), Err(Error::KeyFile)));
	let prover = Prover::new(model, read).unwrap();
	let proven = prover.prove(&[1, 2, 3, 4, 5], Fr::from(9u8), &mut rng).unwrap();
	assert_eq!(verify_encoded(&encode_key(&key.vk), &proven.proof, &proven.statement), Ok(()));
}

#[test]
fn outputs_beyond_the_public_input_cap_are_refused() {
	let too_wide = generate(&[2, 62 * 31 + 1], 1);
	assert!(matches!(CompiledModel::new(too_wide), Err(Error::OutputTooLong(1923))));
	assert!(CompiledModel::new(generate(&[2, 62 * 31], 1)).is_ok());
}

/// The fixture of `opg-zk-verifier` (the development model 784-56-10 of seed 1, setup seed
/// 1, a fixed job): regenerated with `OPG_UPDATE_FIXTURES=1`.
#[test]
fn fixture_is_current() {
	let mut rng = StdRng::seed_from_u64(1);
	let model = CompiledModel::new(generate(&[784, 56, 10], 1)).unwrap();
	let key = setup(&model, &mut rng).unwrap();
	let verifying = encode_key(&key.vk);
	let prover = Prover::new(model, key).unwrap();
	let input: Vec<u8> = (0..784u32).map(|i| (i * 7) as u8).collect();
	let binding = job_binding(&[0x11; 32], 7, &[0x22; 32]);
	let proven = prover.prove(&input, binding, &mut rng).unwrap();
	let inputs = opg_zk_verifier::encode_inputs(&proven.statement.public_inputs());
	let mut widest = prover.verifying_key().clone();
	let generator = ark_bn254::G1Affine::generator();
	widest.gamma_abc_g1 = (1..=opg_zk_verifier::MAX_PUBLIC_INPUTS as u64 + 1)
		.map(|i| (generator * Fr::from(i)).into_affine())
		.collect();
	let widest = encode_key(&widest);
	let dir = std::path::PathBuf::from(
		std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"),
	)
	.join("../verifier/fixtures");
	let files = [
		("verifying.key", &verifying),
		("proof.bin", &proven.proof),
		("public-inputs.bin", &inputs),
		("widest.key", &widest),
	];
	if std::env::var_os("OPG_UPDATE_FIXTURES").is_some() {
		std::fs::create_dir_all(&dir).unwrap();
		for (name, bytes) in files {
			std::fs::write(dir.join(name), bytes).unwrap();
		}
	}
	for (name, bytes) in files {
		assert_eq!(
			&std::fs::read(dir.join(name)).unwrap(),
			bytes,
			"{name} is stale: OPG_UPDATE_FIXTURES=1"
		);
	}
}
