//! `opg-zk`: compile a quantized model into its circuit, run the (development) setup,
//! prove and verify inferences offline.

use anyhow::{anyhow, bail, Context, Result};
use ark_std::rand::{rngs::StdRng, SeedableRng};
use clap::{Parser, Subcommand};
use opg_zk::{
	read_proving_key_file, setup, thread_pool, write_proving_key_file, CompiledModel, Prover,
};
use opg_zk_verifier::{
	encode_key, field_from_bytes, field_to_bytes, job_binding, verify_encoded, Statement,
	STATEMENT_VERSION,
};
use serde_json::{json, Value};
use sha2::Digest;
use std::{
	fs,
	path::{Path, PathBuf},
	time::Instant,
};

#[derive(Parser)]
#[command(name = "opg-zk", about = "OPG ZKML: circuits, setup, proofs and verification")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Validate a quantized model (opg-qmodel JSON) and print its circuit's size.
	Compile {
		/// The model file.
		model: PathBuf,
	},
	/// Generate the proving and verifying keys of a model: DIR/proving.key and
	/// DIR/verifying.key (what the model hub stores). Single-party: development only.
	Setup {
		/// The model file.
		model: PathBuf,
		/// Where to write the keys.
		#[arg(long)]
		out: PathBuf,
		/// Derive the setup randomness from this seed (reproducible development keys)
		/// instead of the operating system's entropy.
		#[arg(long)]
		seed: Option<u64>,
	},
	/// Evaluate the model on an input and prove it for one job; prints the proof as JSON.
	Prove {
		/// The model file.
		model: PathBuf,
		/// The proving key from `setup`.
		#[arg(long)]
		proving_key: PathBuf,
		/// The input bytes, 0x-hex.
		#[arg(long)]
		input: String,
		/// The chain's genesis hash, 0x-hex.
		#[arg(long)]
		genesis: String,
		/// The request id.
		#[arg(long)]
		request: u64,
		/// The serving node's key, 0x-hex.
		#[arg(long)]
		node: String,
		/// Write the proof here instead of standard output.
		#[arg(long)]
		out: Option<PathBuf>,
		/// Prover threads (default: one per core).
		#[arg(long, default_value_t = 0)]
		threads: usize,
	},
	/// Evaluate the model on inputs, without proving: one output per input, 0x-hex (what
	/// `prove` would prove).
	Eval {
		/// The model file.
		model: PathBuf,
		/// The inputs, each 0x-hex.
		#[arg(long = "input", required = true)]
		inputs: Vec<String>,
	},
	/// Import a float ONNX model (a chain of Conv, Gemm, Relu, AveragePool, Flatten) as a
	/// quantized model file, with scales calibrated on sample inputs; prints the scales and
	/// how closely the integer model follows the float one on them.
	ImportOnnx {
		/// The ONNX file.
		onnx: PathBuf,
		/// Where to write the quantized model (opg-qmodel JSON).
		#[arg(long)]
		out: PathBuf,
		/// Calibration inputs: float32 little-endian values, a whole number of inputs
		/// (numpy's `x.astype('<f4').tofile(path)`). Representative inputs give the
		/// activation scales; without them the import refuses to guess.
		#[arg(long)]
		calibration: PathBuf,
		/// The float value of one input step (default: the calibration inputs' largest
		/// magnitude / the largest value, 127 or 32767).
		#[arg(long)]
		input_scale: Option<f64>,
		/// The width of the model's activations and output: 16 (the default: 16-bit
		/// activations over an 8-bit input, 12-bit weights, 11-bit multipliers, headroom 2)
		/// or 8 (8 bits throughout, 10-bit multipliers, no headroom). The flags below
		/// change one setting of either.
		#[arg(long, default_value_t = 16)]
		bits: u8,
		/// The width of the input's values: 8 or 16 bits. 16 costs 8 more constraints per
		/// input value and two bytes each.
		#[arg(long)]
		input_bits: Option<u8>,
		/// The width of the weights: 2 to 16 bits. Weights are constants of the circuit;
		/// each bit above 8 costs one constraint per activation.
		#[arg(long)]
		weight_bits: Option<u8>,
		/// Activation scales leave this factor above the calibration's largest magnitude.
		#[arg(long)]
		headroom: Option<f64>,
		/// Precision of the requantization multipliers, in bits: each costs one
		/// constraint per activation.
		#[arg(long)]
		multiplier_bits: Option<u32>,
	},
	/// Print an input's SHA-256, size and input commitment (the Poseidon commitment of
	/// statement version 1): what `inference.request_zkml_stored` takes for a stored input.
	Commit {
		/// The input file (its bytes, as the executor's store holds them).
		input: PathBuf,
	},
	/// Verify a proof file from `prove` against a verifying key.
	Verify {
		/// The verifying key from `setup`.
		#[arg(long)]
		verifying_key: PathBuf,
		/// The proof file.
		proof: PathBuf,
	},
}

fn main() -> Result<()> {
	match Cli::parse().command {
		Command::Compile { model } => {
			let model = step("compiling", || compile(&model))?;
			let size = step("synthesizing", || Ok(model.size()?))?;
			let layers: Vec<Value> = model
				.model()
				.layers
				.iter()
				.zip(model.quotient_bits())
				.map(|(layer, bits)| {
					json!({
						"type": layer.name(),
						"inputs": layer.input_len(),
						"outputs": layer.output_len(),
						"max_quotient_bits": bits.iter().max(),
					})
				})
				.collect();
			print_json(&json!({
				"statement_version": STATEMENT_VERSION,
				"bits": model.model().bits,
				"constraints": size.constraints,
				"public_inputs": size.public_inputs,
				"witnesses": size.witnesses,
				"layers": layers,
			}))
		},
		Command::Setup { model, out, seed } => {
			let model = step("compiling", || compile(&model))?;
			eprintln!(
				"warning: single-party setup: whoever ran it can forge proofs (development only)"
			);
			let mut rng = match seed {
				Some(seed) => StdRng::seed_from_u64(seed),
				None => StdRng::from_entropy(),
			};
			let key = step("generating keys", || Ok(setup(&model, &mut rng)?))?;
			fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
			let proving = out.join("proving.key");
			write_proving_key_file(&key, &proving)
				.with_context(|| format!("writing {}", proving.display()))?;
			let verifying = encode_key(&key.vk);
			fs::write(out.join("verifying.key"), &verifying)?;
			print_json(&json!({
				"proving_key": proving,
				"verifying_key": out.join("verifying.key"),
				"verifying_key_bytes": verifying.len(),
				"public_inputs": key.vk.gamma_abc_g1.len() - 1,
			}))
		},
		Command::Prove { model, proving_key, input, genesis, request, node, out, threads } => {
			let model = step("compiling", || compile(&model))?;
			let key = step("reading the proving key", || {
				read_proving_key_file(&proving_key)
					.with_context(|| format!("reading {}", proving_key.display()))
			})?;
			let prover = step("synthesizing", || {
				Ok(Prover::new(model, key)?.with_pool(thread_pool(threads)?))
			})?;
			let binding = job_binding(&hex32(&genesis)?, request, &hex32(&node)?);
			let input = hex_bytes(&input)?;
			let mut rng = StdRng::from_entropy();
			let proven = step("proving", || Ok(prover.prove(&input, binding, &mut rng)?))?;
			let document = json!({
				"statement_version": STATEMENT_VERSION,
				"output": hex(&proven.output),
				"binding": hex(&field_to_bytes(&proven.statement.binding)),
				"input_commitment": hex(&field_to_bytes(&proven.statement.input_commitment)),
				"proof": hex(&proven.proof),
			});
			match out {
				Some(path) => Ok(fs::write(path, serde_json::to_vec_pretty(&document)?)?),
				None => print_json(&document),
			}
		},
		Command::Eval { model, inputs } => {
			let model = compile(&model)?;
			let outputs = inputs
				.iter()
				.map(|input| {
					let output = model.model().evaluate_bytes(&hex_bytes(input)?)?;
					Ok(Value::String(hex(&output)))
				})
				.collect::<Result<Vec<_>>>()?;
			print_json(&json!({ "outputs": outputs }))
		},
		Command::ImportOnnx {
			onnx,
			out,
			calibration,
			input_scale,
			bits,
			input_bits,
			weight_bits,
			headroom,
			multiplier_bits,
		} => {
			let bytes = fs::read(&onnx).with_context(|| format!("reading {}", onnx.display()))?;
			let graph = step("reading", || Ok(opg_onnx::read(&bytes)?))?;
			let samples = fs::read(&calibration)
				.with_context(|| format!("reading {}", calibration.display()))?;
			let samples = opg_onnx::samples(&samples, graph.input_len())?;
			let defaults = match bits {
				8 => opg_onnx::Options::int8(),
				16 => opg_onnx::Options::default(),
				other => bail!("--bits is 8 or 16, not {other}"),
			};
			let options = opg_onnx::Options {
				input_scale,
				bits,
				input_bits: input_bits.unwrap_or(defaults.input_bits),
				weight_bits: weight_bits.unwrap_or(defaults.weight_bits),
				headroom: headroom.unwrap_or(defaults.headroom),
				multiplier_bits: multiplier_bits.unwrap_or(defaults.multiplier_bits),
			};
			let quantized =
				step("quantizing", || Ok(opg_onnx::quantize(&graph, &samples, &options)?))?;
			fs::write(&out, quantized.model.to_bytes())
				.with_context(|| format!("writing {}", out.display()))?;
			let layers: Vec<&str> =
				quantized.model.layers.iter().map(|layer| layer.name()).collect();
			print_json(&json!({
				"model": out,
				"layers": layers,
				"input_shape": graph.input_shape,
				"bits": quantized.model.bits,
				"input_bits": quantized.model.input_bits,
				"weight_bits": options.weight_bits,
				"headroom": options.headroom,
				"multiplier_bits": options.multiplier_bits,
				"input_scale": quantized.input_scale,
				"output_scale": quantized.output_scale,
				"calibration_inputs": quantized.samples,
				"max_abs_error": quantized.max_abs_error,
				"max_abs_output": quantized.max_abs_output,
				"argmax_agreement": quantized.argmax_agreement,
			}))
		},
		Command::Commit { input } => {
			let bytes = fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
			print_json(&json!({
				"sha256": hex(&sha2::Sha256::digest(&bytes)),
				"size": bytes.len(),
				"input_commitment": hex(&field_to_bytes(&opg_zk_verifier::input_commitment(&bytes))),
			}))
		},
		Command::Verify { verifying_key, proof } => {
			let key = fs::read(&verifying_key)
				.with_context(|| format!("reading {}", verifying_key.display()))?;
			let document: Value = serde_json::from_slice(&fs::read(&proof)?)?;
			let field = |name: &str| -> Result<String> {
				Ok(document[name]
					.as_str()
					.ok_or_else(|| anyhow!("the proof file has no {name}"))?
					.to_owned())
			};
			if document["statement_version"] != json!(STATEMENT_VERSION) {
				bail!("the proof file is not statement version {STATEMENT_VERSION}");
			}
			let element = |name: &str| -> Result<_> {
				field_from_bytes(&hex32(&field(name)?)?)
					.ok_or_else(|| anyhow!("{name} is not a field element"))
			};
			let statement = Statement {
				binding: element("binding")?,
				input_commitment: element("input_commitment")?,
				output: hex_bytes(&field("output")?)?,
			};
			let proof = hex_bytes(&field("proof")?)?;
			step("verifying", || {
				verify_encoded(&key, &proof, &statement)
					.map_err(|error| anyhow!("proof refused: {error:?}"))
			})?;
			println!("valid");
			Ok(())
		},
	}
}

/// Runs one step, reporting it and its time on standard error.
fn step<T>(name: &str, run: impl FnOnce() -> Result<T>) -> Result<T> {
	eprint!("{name}… ");
	let start = Instant::now();
	let result = run();
	match &result {
		Ok(_) => eprintln!("{:.2} s", start.elapsed().as_secs_f64()),
		Err(_) => eprintln!("failed"),
	}
	result
}

fn compile(path: &Path) -> Result<CompiledModel> {
	let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
	Ok(CompiledModel::from_bytes(&bytes)?)
}

fn print_json(value: &Value) -> Result<()> {
	println!("{}", serde_json::to_string_pretty(value)?);
	Ok(())
}

fn hex(bytes: &[u8]) -> String {
	format!("0x{}", ::hex::encode(bytes))
}

fn hex_bytes(text: &str) -> Result<Vec<u8>> {
	::hex::decode(text.strip_prefix("0x").unwrap_or(text))
		.with_context(|| format!("not hex: {text}"))
}

fn hex32(text: &str) -> Result<[u8; 32]> {
	hex_bytes(text)?.try_into().map_err(|_| anyhow!("expected 32 bytes: {text}"))
}
