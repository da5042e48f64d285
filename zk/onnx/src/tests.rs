//! Against `tests/fixtures`: a network exported by `torch.onnx.export`, inputs and
//! PyTorch's outputs for them (`scripts/onnx-model.py`).

use super::*;
use opg_qmodel::Layer;

fn fixture(name: &str) -> Vec<u8> {
	std::fs::read(
		std::path::PathBuf::from(
			std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"),
		)
		.join("tests/fixtures")
		.join(name),
	)
	.unwrap()
}

fn floats(name: &str, len: usize) -> Vec<Vec<f32>> {
	samples(&fixture(name), len).unwrap()
}

fn model_proto() -> proto::ModelProto {
	proto::ModelProto::decode(fixture("cnn.onnx").as_slice()).unwrap()
}

fn read_edited(edit: impl FnOnce(&mut GraphProto)) -> Result<Graph, Error> {
	let mut model = model_proto();
	edit(model.graph.as_mut().unwrap());
	read(&model.encode_to_vec())
}

#[test]
fn pytorchs_export_reads_as_the_network_it_is() {
	let graph = read(&fixture("cnn.onnx")).unwrap();
	assert_eq!(graph.input_shape, vec![1, 12, 12]);
	let kinds: Vec<String> = graph
		.layers
		.iter()
		.map(|layer| match layer {
			FloatLayer::Conv { filters, stride, padding, relu, .. } => {
				format!("conv {filters} s{stride} p{padding} {relu}")
			},
			FloatLayer::AvgPool { kernel, stride, .. } => format!("avg {kernel} s{stride}"),
			FloatLayer::Dense { inputs, outputs, relu, .. } => {
				format!("dense {inputs}-{outputs} {relu}")
			},
		})
		.collect();
	assert_eq!(
		kinds,
		[
			"conv 4 s1 p1 true",
			"avg 2 s2",
			"conv 8 s2 p1 true",
			"dense 72-16 true",
			"dense 16-10 false"
		]
	);
}

#[test]
fn the_float_graph_computes_what_pytorch_computed() {
	let graph = read(&fixture("cnn.onnx")).unwrap();
	let inputs = floats("inputs.f32", 144);
	let outputs = floats("outputs.f32", 10);
	assert_eq!((inputs.len(), outputs.len()), (32, 32));
	for (input, expected) in inputs.iter().zip(&outputs) {
		for (a, b) in graph.evaluate(input).iter().zip(expected) {
			assert!((a - b).abs() < 1e-5, "{a} vs PyTorch's {b}");
		}
	}
}

#[test]
fn the_quantized_model_follows_the_float_one() {
	let graph = read(&fixture("cnn.onnx")).unwrap();
	let inputs = floats("inputs.f32", 144);
	let quantized = quantize(&graph, &inputs, &Options::int8()).unwrap();
	let model = &quantized.model;
	assert_eq!((model.input_len(), model.output_len()), (144, 10));
	let names: Vec<&str> = model.layers.iter().map(Layer::name).collect();
	assert_eq!(names, ["conv2d", "avg_pool", "conv2d", "dense", "dense"]);
	assert_eq!(quantized.samples, 32);
	// Within a few output steps of the float model on every output of every input.
	let relative = quantized.max_abs_error / quantized.max_abs_output;
	assert!(
		relative < 0.05,
		"max error {} of {}",
		quantized.max_abs_error,
		quantized.max_abs_output
	);
	println!(
		"max error {:.4} of {:.4}, {} of 32 classes agree",
		quantized.max_abs_error, quantized.max_abs_output, quantized.argmax_agreement
	);
	assert!(quantized.argmax_agreement >= 28, "{} of 32 agree", quantized.argmax_agreement);
	// The file round-trips, and an input given as floats evaluates through the helpers.
	assert_eq!(&opg_qmodel::QModel::from_bytes(&model.to_bytes()).unwrap(), model);
	let output = quantized
		.dequantize_output(&model.evaluate(&quantized.quantize_input(&inputs[0])).unwrap());
	assert_eq!(output.len(), 10);
}

#[test]
fn sample_files_hold_whole_inputs() {
	assert_eq!(samples(&[0, 0, 128, 63, 0, 0, 0, 64], 2), Ok(vec![vec![1.0, 2.0]]));
	assert!(matches!(samples(&[0; 12], 2), Err(Error::Calibration(_))));
	assert!(matches!(samples(&[], 2), Err(Error::Calibration(_))));
}

#[test]
fn scales_are_checked() {
	let graph = read(&fixture("cnn.onnx")).unwrap();
	assert!(matches!(quantize(&graph, &[], &Options::int8()), Err(Error::Calibration(_))));
	assert!(matches!(
		quantize(&graph, &[vec![0.5; 143]], &Options::int8()),
		Err(Error::Calibration(_))
	));
	assert!(matches!(
		quantize(&graph, &[vec![0.0; 144]], &Options::int8()),
		Err(Error::Calibration(_))
	));
	assert!(matches!(
		quantize(&graph, &[vec![0.5; 144]], &with_scale(-1.0)),
		Err(Error::Calibration(_))
	));
	assert!(quantize(&graph, &[vec![0.0; 144]], &with_scale(1.0 / 127.0)).is_ok());
	assert!(matches!(fixed_point_of(0.0), Err(Error::Scale { .. })));
	assert!(matches!(fixed_point_of(f64::from(i32::MAX) * 2.0), Err(Error::Scale { .. })));
}

fn with_scale(scale: f64) -> Options {
	Options { input_scale: Some(scale), ..Options::int8() }
}

#[test]
fn widths_and_headroom_are_checked() {
	let graph = read(&fixture("cnn.onnx")).unwrap();
	let inputs = floats("inputs.f32", 144);
	for options in [
		Options { bits: 12, ..Options::int8() },
		Options { input_bits: 12, ..Options::int8() },
		Options { weight_bits: 1, ..Options::int8() },
		Options { weight_bits: 17, ..Options::int8() },
		Options { multiplier_bits: 1, ..Options::int8() },
		Options { multiplier_bits: 32, ..Options::int8() },
		Options { headroom: 0.5, ..Options::int8() },
		Options { headroom: f64::NAN, ..Options::int8() },
	] {
		let result = quantize(&graph, &inputs, &options);
		assert!(matches!(result, Err(Error::Calibration(_))), "{options:?}");
	}
}

/// The relative error ‖y − y_float‖ / ‖y_float‖ of the imported model over the fixture's
/// inputs.
fn relative_error(quantized: &Quantized, inputs: &[Vec<f32>]) -> f64 {
	let (mut error, mut norm) = (0.0, 0.0);
	let expected = floats("outputs.f32", 10);
	for (input, expected) in inputs.iter().zip(&expected) {
		let integer = quantized.model.evaluate(&quantized.quantize_input(input)).unwrap();
		for (o, e) in quantized.dequantize_output(&integer).iter().zip(expected) {
			error += f64::from(o - e).powi(2);
			norm += f64::from(*e).powi(2);
		}
	}
	(error / norm).sqrt()
}

#[test]
fn weights_get_a_scale_per_channel_and_16_bit_activations_follow_the_float_model_closer() {
	let graph = read(&fixture("cnn.onnx")).unwrap();
	let inputs = floats("inputs.f32", 144);
	let int8 = quantize(&graph, &inputs, &Options::int8()).unwrap();
	let int16 = quantize(&graph, &inputs, &Options::default()).unwrap();
	let Layer::Conv2d(first) = &int8.model.layers[0] else { panic!("a convolution first") };
	// Four filters, each with its own multiplier, and some weight at ±127 in each.
	assert!(matches!(&first.multiplier, opg_qmodel::PerChannel::Channel(m) if m.len() == 4));
	for filter in 0..4 {
		assert_eq!(first.filter(filter).iter().map(|w| w.abs()).max(), Some(127));
	}
	assert_eq!((int8.model.bits, int16.model.bits), (8, 16));
	assert_eq!((int16.model.input_bits, int16.model.input_bytes()), (8, 144));
	assert_eq!(int16.model.output_bytes(), 20);
	let (e8, e16) = (relative_error(&int8, &inputs), relative_error(&int16, &inputs));
	println!("relative error: int8 {e8:.5}, int16 {e16:.5}");
	assert!(e16 < e8 / 4.0, "int16 {e16} against int8 {e8}");
	assert!(e16 < 0.005, "int16 {e16}");
}

fn fixed_point_of(ratio: f64) -> Result<(i32, u8), Error> {
	quantize::fixed_point(ratio, 15, 0)
}

/// Sets attribute `name` of node `node` to the integers `ints` (and `i` to the first).
fn set_attribute(graph: &mut GraphProto, node: usize, name: &str, ints: &[i64]) {
	let attributes = &mut graph.node[node].attribute;
	attributes.retain(|a| a.name.as_deref() != Some(name));
	attributes.push(AttributeProto {
		name: Some(name.into()),
		i: ints.first().copied(),
		ints: ints.to_vec(),
		..Default::default()
	});
}

#[test]
fn what_the_format_cannot_express_is_refused_by_name() {
	let unsupported = read_edited(|g| g.node[2].op_type = Some("MaxPool".into()));
	assert!(matches!(unsupported, Err(Error::Unsupported { op_type, .. }) if op_type == "MaxPool"));
	let grouped = read_edited(|g| set_attribute(g, 0, "group", &[2]));
	assert!(matches!(grouped, Err(Error::Attribute { attribute, .. }) if attribute == "group"));
	let uneven = read_edited(|g| set_attribute(g, 0, "pads", &[1, 1, 0, 0]));
	assert!(matches!(uneven, Err(Error::Attribute { attribute, .. }) if attribute == "pads"));
	let dilated = read_edited(|g| set_attribute(g, 3, "dilations", &[2, 2]));
	assert!(matches!(dilated, Err(Error::Attribute { attribute, .. }) if attribute == "dilations"));
	let ceil = read_edited(|g| set_attribute(g, 2, "ceil_mode", &[1]));
	assert!(matches!(ceil, Err(Error::Attribute { .. })));
	let same = read_edited(|g| {
		g.node[0].attribute.push(AttributeProto {
			name: Some("auto_pad".into()),
			s: Some(b"SAME_UPPER".to_vec()),
			..Default::default()
		})
	});
	assert!(matches!(same, Err(Error::Attribute { attribute, .. }) if attribute == "auto_pad"));
	let flatten = read_edited(|g| set_attribute(g, 5, "axis", &[0]));
	assert!(matches!(flatten, Err(Error::Attribute { attribute, .. }) if attribute == "axis"));
	let scaled = read_edited(|g| {
		let beta = g.node[6]
			.attribute
			.iter_mut()
			.find(|a| a.name.as_deref() == Some("beta"))
			.unwrap();
		beta.f = Some(0.5);
	});
	assert!(matches!(scaled, Err(Error::Attribute { .. })));
	let branch = read_edited(|g| g.node[3].input[0] = "image".into());
	assert!(matches!(branch, Err(Error::NotAChain { .. })));
	let missing = read_edited(|g| g.initializer.retain(|t| t.name.as_deref() != Some("6.weight")));
	assert!(matches!(missing, Err(Error::Parameter { name, .. }) if name == "6.weight"));
	let external = read_edited(|g| {
		let weight = g
			.initializer
			.iter_mut()
			.find(|t| t.name.as_deref() == Some("0.weight"))
			.unwrap();
		weight.data_location = Some(proto::EXTERNAL);
	});
	assert!(matches!(external, Err(Error::Parameter { .. })));
	let batch = read_edited(|g| {
		let shape = g.input[0]
			.r#type
			.as_mut()
			.unwrap()
			.tensor_type
			.as_mut()
			.unwrap()
			.shape
			.as_mut()
			.unwrap();
		shape.dim[0].dim_value = Some(8);
	});
	assert_eq!(batch, Err(Error::InputShape));
	let output = read_edited(|g| g.output[0].name = Some("/7/Relu_output_0".into()));
	assert_eq!(output, Err(Error::Output));
	let relu_after_pool = read_edited(|g| {
		let mut relu = g.node[1].clone();
		relu.input = g.node[2].output.clone();
		relu.output = vec!["pooled_relu".into()];
		g.node[3].input[0] = "pooled_relu".into();
		g.node.insert(3, relu);
	});
	assert!(matches!(relu_after_pool, Err(Error::Attribute { .. })));
	assert!(matches!(read(b"\x0a\x05not a model"), Err(Error::Decode(_))));
	assert_eq!(read(&[]), Err(Error::NoGraph));
}
