//! # OPG ZKML prover
//!
//! Groth16 (BN254) proofs that an [`opg_qmodel`] model, evaluated on a committed input,
//! gave a stated output for one inference job. The statement (public inputs) and the
//! verifier are [`opg_zk_verifier`]'s; the circuit is [`circuit`].
//!
//! - [`CompiledModel`]: a validated model with its circuit layout (one per model);
//! - [`setup`]: the proving and verifying keys of a compiled model (single-party:
//!   development only, see `docs/zkml.md`);
//! - [`Prover`]: synthesizes the constraint matrices once and reuses them for every proof;
//!   each proof computes its witness natively and runs the Groth16 prover over it, its
//!   multi-scalar multiplications, FFTs and witness map spread over a thread pool
//!   ([`thread_pool`]: all cores by default, or as many threads as asked, for a node that
//!   would rather run one proof per core);
//! - [`read_proving_key_file`] / [`write_proving_key_file`]: keys on disk, buffered (the
//!   command line and the executor read them the same way).

pub mod circuit;
#[cfg(test)]
mod tests;

use ark_bn254::{Bn254, Fr};
use ark_crypto_primitives::sponge::poseidon::PoseidonConfig;
use ark_ff::UniformRand;
use ark_groth16::{Groth16, ProvingKey, VerifyingKey};
use ark_relations::gr1cs::{
	ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, SynthesisError,
	SynthesisMode, R1CS_PREDICATE_LABEL,
};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_std::rand::{CryptoRng, RngCore};
use circuit::{quotient_bits, ModelCircuit, Witness};
use opg_qmodel::QModel;
use opg_zk_verifier::{encode_proof, public_input_count, Statement, MAX_PUBLIC_INPUTS};
use std::{path::Path, sync::Arc};

/// The prover's thread pool type ([`thread_pool`]).
pub use rayon::ThreadPool;

/// Why a model cannot be compiled or a proof made.
#[derive(Debug)]
pub enum Error {
	/// The model file is invalid.
	Model(opg_qmodel::Error),
	/// The model's output needs more public inputs than a verifying key may have.
	OutputTooLong(u32),
	/// The input has the wrong length.
	InputLength {
		/// The model's input length in bytes.
		expected: usize,
		/// The given input's length.
		found: usize,
	},
	/// The proving key was not made for this model.
	KeyMismatch,
	/// Constraint synthesis or proving failed.
	Synthesis(SynthesisError),
	/// A key file could not be read or written.
	Io(std::io::Error),
	/// A key file does not decode.
	KeyFile,
	/// The prover's thread pool could not be started.
	Threads(String),
}

impl std::fmt::Display for Error {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::Model(error) => write!(f, "invalid model: {error}"),
			Self::OutputTooLong(len) => write!(
				f,
				"an output of {len} values needs more than {MAX_PUBLIC_INPUTS} public inputs"
			),
			Self::InputLength { expected, found } => {
				write!(f, "the model takes {expected} input bytes, got {found}")
			},
			Self::KeyMismatch => write!(f, "the proving key was made for another model"),
			Self::Synthesis(error) => write!(f, "constraint synthesis failed: {error}"),
			Self::Io(error) => write!(f, "{error}"),
			Self::KeyFile => write!(f, "the key file does not decode"),
			Self::Threads(reason) => write!(f, "cannot start the prover's threads: {reason}"),
		}
	}
}

impl std::error::Error for Error {}

impl From<SynthesisError> for Error {
	fn from(error: SynthesisError) -> Self {
		Self::Synthesis(error)
	}
}

impl From<std::io::Error> for Error {
	fn from(error: std::io::Error) -> Self {
		Self::Io(error)
	}
}

/// A validated model and its circuit layout.
pub struct CompiledModel {
	model: QModel,
	quotient_bits: Vec<Vec<u32>>,
	poseidon: PoseidonConfig<Fr>,
}

/// The size of a compiled circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircuitSize {
	/// R1CS constraints.
	pub constraints: usize,
	/// Public inputs (without the constant 1).
	pub public_inputs: usize,
	/// Private witness variables.
	pub witnesses: usize,
}

impl CompiledModel {
	/// Validates `model` and lays out its circuit.
	pub fn new(model: QModel) -> Result<Self, Error> {
		model.validate().map_err(Error::Model)?;
		if public_input_count(model.output_bytes()) > MAX_PUBLIC_INPUTS {
			return Err(Error::OutputTooLong(model.output_len()));
		}
		let widths = model.widths();
		let quotient_bits = model
			.layers
			.iter()
			.zip(&widths)
			.map(|(layer, input_bits)| {
				quotient_bits(layer, (*input_bits).into(), model.bits.into())
			})
			.collect();
		Ok(Self { model, quotient_bits, poseidon: opg_zk_verifier::poseidon_config() })
	}

	/// Reads and compiles a model file.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
		Self::new(QModel::from_bytes(bytes).map_err(Error::Model)?)
	}

	/// The model.
	pub fn model(&self) -> &QModel {
		&self.model
	}

	/// The quotient width of every output of every layer.
	pub fn quotient_bits(&self) -> &[Vec<u32>] {
		&self.quotient_bits
	}

	/// The circuit, with or without a witness.
	pub fn circuit(&self, witness: Option<Witness>) -> ModelCircuit<'_> {
		ModelCircuit {
			model: &self.model,
			quotient_bits: &self.quotient_bits,
			poseidon: &self.poseidon,
			witness,
		}
	}

	/// Synthesizes the constraint matrices.
	fn matrices(&self) -> Result<(Matrices, CircuitSize), Error> {
		let cs = ConstraintSystem::<Fr>::new_ref();
		cs.set_optimization_goal(OptimizationGoal::Constraints);
		cs.set_mode(SynthesisMode::Setup);
		self.circuit(None).generate_constraints(cs.clone())?;
		cs.finalize();
		let size = CircuitSize {
			constraints: cs.num_constraints(),
			public_inputs: cs.num_instance_variables() - 1,
			witnesses: cs.num_witness_variables(),
		};
		let mut matrices = cs.to_matrices()?;
		let r1cs =
			matrices.remove(R1CS_PREDICATE_LABEL).ok_or(SynthesisError::PredicateNotFound)?;
		Ok((Matrices(r1cs), size))
	}

	/// The circuit's size.
	pub fn size(&self) -> Result<CircuitSize, Error> {
		Ok(self.matrices()?.1)
	}

	fn check_input(&self, input: &[u8]) -> Result<(), Error> {
		let expected = self.model.input_bytes();
		if input.len() != expected {
			return Err(Error::InputLength { expected, found: input.len() });
		}
		Ok(())
	}
}

struct Matrices(Vec<Matrix<Fr>>);

/// Generates the proving key (which holds the verifying key) of `model`. Whoever knows
/// `rng`'s output can forge proofs: single-party setup is for development only.
pub fn setup<R: RngCore + CryptoRng>(
	model: &CompiledModel,
	rng: &mut R,
) -> Result<ProvingKey<Bn254>, Error> {
	Ok(Groth16::<Bn254>::generate_random_parameters_with_reduction(model.circuit(None), rng)?)
}

/// Writes a proving key (uncompressed: it is read back often and trusted locally).
pub fn write_proving_key(
	key: &ProvingKey<Bn254>,
	writer: impl std::io::Write,
) -> Result<(), Error> {
	key.serialize_uncompressed(writer).map_err(|_| Error::KeyFile)
}

/// Reads a proving key written by [`write_proving_key`].
pub fn read_proving_key(reader: impl std::io::Read) -> Result<ProvingKey<Bn254>, Error> {
	ProvingKey::deserialize_uncompressed_unchecked(reader).map_err(|_| Error::KeyFile)
}

/// Writes a proving key to a file (created or truncated), through a buffer.
pub fn write_proving_key_file(key: &ProvingKey<Bn254>, path: &Path) -> Result<(), Error> {
	use std::io::Write;
	let mut writer = std::io::BufWriter::new(std::fs::File::create(path)?);
	write_proving_key(key, &mut writer)?;
	writer.flush()?;
	Ok(())
}

/// Reads a proving key file written by [`write_proving_key_file`], through a buffer (an
/// unbuffered reader makes a system call per field element: seconds for a CNN's key).
pub fn read_proving_key_file(path: &Path) -> Result<ProvingKey<Bn254>, Error> {
	read_proving_key(std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?))
}

/// A thread pool for provers: `threads` threads, or one per core when `threads` is 0.
pub fn thread_pool(threads: usize) -> Result<Arc<ThreadPool>, Error> {
	rayon::ThreadPoolBuilder::new()
		.num_threads(threads)
		.thread_name(|index| format!("opg-zk-prover-{index}"))
		.build()
		.map(Arc::new)
		.map_err(|error| Error::Threads(error.to_string()))
}

/// A proof and what it proves.
#[derive(Clone, Debug)]
pub struct Proven {
	/// The output bytes.
	pub output: Vec<u8>,
	/// The public statement.
	pub statement: Statement,
	/// The compressed proof.
	pub proof: Vec<u8>,
}

/// Proves inferences of one model with one proving key.
pub struct Prover {
	model: CompiledModel,
	key: ProvingKey<Bn254>,
	matrices: Matrices,
	size: CircuitSize,
	pool: Option<Arc<ThreadPool>>,
}

impl Prover {
	/// Synthesizes the model's constraint matrices and checks the key against them.
	pub fn new(model: CompiledModel, key: ProvingKey<Bn254>) -> Result<Self, Error> {
		let (matrices, size) = model.matrices()?;
		let expected_inputs = public_input_count(model.model.output_bytes());
		if size.public_inputs != expected_inputs
			|| key.vk.gamma_abc_g1.len() != expected_inputs + 1
			|| key.a_query.len() != size.public_inputs + 1 + size.witnesses
		{
			return Err(Error::KeyMismatch);
		}
		Ok(Self { model, key, matrices, size, pool: None })
	}

	/// Proves on `pool` (from [`thread_pool`]) instead of rayon's global pool (one thread
	/// per core).
	pub fn with_pool(mut self, pool: Arc<ThreadPool>) -> Self {
		self.pool = Some(pool);
		self
	}

	/// The compiled model.
	pub fn model(&self) -> &CompiledModel {
		&self.model
	}

	/// The verifying key.
	pub fn verifying_key(&self) -> &VerifyingKey<Bn254> {
		&self.key.vk
	}

	/// The circuit's size.
	pub fn size(&self) -> CircuitSize {
		self.size
	}

	/// Evaluates the model on `input` and proves it for the job `binding`.
	pub fn prove<R: RngCore + CryptoRng + Send>(
		&self,
		input: &[u8],
		binding: Fr,
		rng: &mut R,
	) -> Result<Proven, Error> {
		match &self.pool {
			Some(pool) => pool.install(|| self.prove_here(input, binding, rng)),
			None => self.prove_here(input, binding, rng),
		}
	}

	fn prove_here<R: RngCore + CryptoRng>(
		&self,
		input: &[u8],
		binding: Fr,
		rng: &mut R,
	) -> Result<Proven, Error> {
		self.model.check_input(input)?;
		let model = &self.model.model;
		let values = opg_qmodel::decode(input, model.input_bits.into());
		let output = opg_qmodel::encode(
			&model.evaluate(&values).map_err(Error::Model)?,
			model.output_bits().into(),
		);
		let witness = Witness {
			input: values,
			binding,
			#[cfg(test)]
			fault: None,
		};
		let assignment = self.assignment(witness)?;
		let proof = Groth16::<Bn254>::create_proof_with_reduction_and_matrices(
			&self.key,
			Fr::rand(rng),
			Fr::rand(rng),
			&self.matrices.0,
			self.size.public_inputs + 1,
			self.size.constraints,
			&assignment,
		)?;
		let statement =
			Statement { binding, input_commitment: assignment[2], output: output.clone() };
		Ok(Proven { output, statement, proof: encode_proof(&proof) })
	}

	/// The full assignment (1, public inputs, witnesses), without building matrices.
	fn assignment(&self, witness: Witness) -> Result<Vec<Fr>, Error> {
		let cs = ConstraintSystem::<Fr>::new_ref();
		cs.set_optimization_goal(OptimizationGoal::Constraints);
		cs.set_mode(SynthesisMode::Prove {
			construct_matrices: false,
			generate_lc_assignments: false,
		});
		self.model.circuit(Some(witness)).generate_constraints(cs.clone())?;
		let mut assignment = cs.instance_assignment()?;
		assignment.extend(cs.witness_assignment()?);
		Ok(assignment)
	}
}
