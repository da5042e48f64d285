//! # OPG ZKML verifier
//!
//! Groth16 over BN254 for OPG's ZKML results: what the runtime runs, `no_std`.
//!
//! ## Statement, version 1
//! A proof of an inference job has these public inputs, in this order:
//! 1. the **job binding** [`job_binding`]: `blake2b-256("opg-zk/job/v1" ‖ genesis hash ‖
//!    request id (u64 LE) ‖ node key)` read little-endian and reduced modulo the BN254
//!    scalar field. It ties a proof to one request on one chain answered by one node, so a
//!    proof (or a re-randomization of it) cannot be replayed for another request or
//!    submitted by another node;
//! 2. the **input commitment** [`input_commitment`]: Poseidon over the packed input;
//! 3. the **packed output**: the output bytes packed by [`pack_bytes`].
//!
//! Tensors are `i8` values travelling as two's-complement bytes. [`pack_bytes`] maps each
//! byte `b` to `b XOR 0x80` (the value plus 128, in `0..=255`) and packs 31 of them per
//! field element, little-endian: every packed element is below 2^248, so packing is
//! injective.
//!
//! The Poseidon sponge ([`poseidon_config`]) works over the BN254 scalar field with width 3
//! (rate 2, capacity 1), S-box x^5, 8 full and 57 partial rounds, round constants and MDS
//! matrix from the Grain LFSR of the Poseidon paper (arkworks'
//! `find_poseidon_ark_and_mds`, checked in as a table so the runtime does not rerun it). The commitment absorbs the domain tag
//! [`INPUT_DOMAIN`] (as a field element), the input length, then the packed input, and
//! squeezes one element.
//!
//! ## Encodings
//! Verifying keys and proofs use arkworks' compressed canonical serialization; decoding
//! checks that coordinates are canonical, points are on the curve and in the prime-order
//! subgroup, and that no byte is left over. A proof is [`PROOF_LEN`] bytes.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use ark_bn254::{Bn254, Fq12, G1Projective};
use ark_crypto_primitives::sponge::{
	poseidon::{PoseidonConfig, PoseidonSponge},
	CryptographicSponge,
};
use ark_ec::{
	pairing::{Pairing, PairingOutput},
	AffineRepr, CurveGroup, VariableBaseMSM,
};
use ark_ff::{BigInt, BigInteger, CyclotomicMultSubgroup, PrimeField, Zero};
use ark_groth16::{prepare_verifying_key, PreparedVerifyingKey, Proof, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use blake2::{digest::consts::U32, Blake2b, Digest};

pub use ark_bn254::Fr;

/// The statement layout this crate verifies.
pub const STATEMENT_VERSION: u8 = 1;
/// Bytes of a compressed proof: A (G1), B (G2), C (G1).
pub const PROOF_LEN: usize = 128;
/// Bytes packed into one field element.
pub const BYTES_PER_ELEMENT: usize = 31;
/// Public inputs before the packed output: job binding and input commitment.
pub const FIXED_PUBLIC_INPUTS: usize = 2;
/// The most public inputs a verifying key may take (62 packed elements: 1,922 output bytes).
pub const MAX_PUBLIC_INPUTS: usize = 64;
/// The longest verifying key: α (G1), β, γ, δ (G2), the length prefix and
/// [`MAX_PUBLIC_INPUTS`] + 1 G1 points.
pub const MAX_KEY_LEN: usize = 32 + 3 * 64 + 8 + 32 * (MAX_PUBLIC_INPUTS + 1);
/// Domain tag of the job binding.
pub const JOB_DOMAIN: &[u8] = b"opg-zk/job/v1";
/// Domain tag of the input commitment.
pub const INPUT_DOMAIN: &[u8] = b"opg-zk/input/v1";
/// Domain tag of the batch-verification coefficients.
pub const BATCH_DOMAIN: &[u8] = b"opg-zk/batch/v1";
/// Poseidon width, rounds and S-box exponent.
const POSEIDON_RATE: usize = 2;
const POSEIDON_FULL_ROUNDS: usize = 8;
const POSEIDON_PARTIAL_ROUNDS: usize = 57;
const POSEIDON_ALPHA: u64 = 5;

/// Why a key, a proof or a statement is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
	/// The verifying key does not decode canonically, has a point off the curve or its
	/// subgroup, or a zero point, or its γ is ±δ (with which anyone proves anything).
	MalformedKey,
	/// The verifying key takes no public input, or more than [`MAX_PUBLIC_INPUTS`].
	KeyArity,
	/// The proof does not decode canonically or has a point off the curve or subgroup.
	MalformedProof,
	/// The statement's public inputs do not match the key's arity.
	Arity,
	/// The pairing check failed: the proof does not prove this statement.
	Rejected,
	/// A batch with no proof.
	EmptyBatch,
}

impl Error {
	/// A one-byte code (for host functions), never 0.
	pub fn code(self) -> u8 {
		match self {
			Self::MalformedKey => 1,
			Self::KeyArity => 2,
			Self::MalformedProof => 3,
			Self::Arity => 4,
			Self::Rejected => 5,
			Self::EmptyBatch => 6,
		}
	}

	/// The inverse of [`Error::code`]; an unknown code reads as [`Error::Rejected`].
	pub fn from_code(code: u8) -> Self {
		match code {
			1 => Self::MalformedKey,
			2 => Self::KeyArity,
			3 => Self::MalformedProof,
			4 => Self::Arity,
			6 => Self::EmptyBatch,
			_ => Self::Rejected,
		}
	}
}

/// The public statement of one inference job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
	/// [`job_binding`] of the job.
	pub binding: Fr,
	/// [`input_commitment`] of the input.
	pub input_commitment: Fr,
	/// The output bytes.
	pub output: Vec<u8>,
}

impl Statement {
	/// The public inputs, in circuit order.
	pub fn public_inputs(&self) -> Vec<Fr> {
		let mut inputs = Vec::with_capacity(FIXED_PUBLIC_INPUTS + packed_len(self.output.len()));
		inputs.push(self.binding);
		inputs.push(self.input_commitment);
		inputs.extend(pack_bytes(&self.output));
		inputs
	}
}

/// The number of field elements `len` bytes pack into.
pub fn packed_len(len: usize) -> usize {
	len.div_ceil(BYTES_PER_ELEMENT)
}

/// The public-input count of a model with `output_len` output bytes.
pub fn public_input_count(output_len: usize) -> usize {
	FIXED_PUBLIC_INPUTS + packed_len(output_len)
}

/// Packs bytes as offset `i8` values, 31 per element, little-endian.
pub fn pack_bytes(bytes: &[u8]) -> Vec<Fr> {
	bytes
		.chunks(BYTES_PER_ELEMENT)
		.map(|chunk| {
			let offset: Vec<u8> = chunk.iter().map(|byte| byte ^ 0x80).collect();
			Fr::from_le_bytes_mod_order(&offset)
		})
		.collect()
}

/// The job binding of `request` on the chain with `genesis` answered by `node`.
pub fn job_binding(genesis: &[u8; 32], request: u64, node: &[u8; 32]) -> Fr {
	let digest = Blake2b::<U32>::new()
		.chain_update(JOB_DOMAIN)
		.chain_update(genesis)
		.chain_update(request.to_le_bytes())
		.chain_update(node)
		.finalize();
	Fr::from_le_bytes_mod_order(&digest)
}

/// The Poseidon parameters of the input commitment.
pub fn poseidon_config() -> PoseidonConfig<Fr> {
	let field = |limbs: &[u64; 4]| {
		Fr::from_bigint(BigInt::new(*limbs)).expect("the constants are canonical; qed")
	};
	let rows = |table: &[[[u64; 4]; 3]]| -> Vec<Vec<Fr>> {
		table.iter().map(|row| row.iter().map(field).collect()).collect()
	};
	let (ark, mds) = (rows(&poseidon_constants::ARK), rows(&poseidon_constants::MDS));
	PoseidonConfig::new(
		POSEIDON_FULL_ROUNDS,
		POSEIDON_PARTIAL_ROUNDS,
		POSEIDON_ALPHA,
		mds,
		ark,
		POSEIDON_RATE,
		1,
	)
}

/// The sponge's first absorbed elements: domain tag and input length.
pub fn input_commitment_prefix(input_len: usize) -> [Fr; 2] {
	[Fr::from_le_bytes_mod_order(INPUT_DOMAIN), Fr::from(input_len as u64)]
}

/// The input commitment of `input`, with `config` from [`poseidon_config`].
pub fn input_commitment_with(config: &PoseidonConfig<Fr>, input: &[u8]) -> Fr {
	let mut sponge = PoseidonSponge::new(config);
	let mut elements = input_commitment_prefix(input.len()).to_vec();
	elements.extend(pack_bytes(input));
	sponge.absorb(&elements);
	sponge.squeeze_field_elements::<Fr>(1)[0]
}

/// The input commitment of `input`.
pub fn input_commitment(input: &[u8]) -> Fr {
	input_commitment_with(&poseidon_config(), input)
}

/// A field element as 32 little-endian bytes.
pub fn field_to_bytes(value: &Fr) -> [u8; 32] {
	let mut bytes = [0u8; 32];
	bytes.copy_from_slice(&value.into_bigint().to_bytes_le());
	bytes
}

/// A canonical field element from 32 little-endian bytes.
pub fn field_from_bytes(bytes: &[u8; 32]) -> Option<Fr> {
	Fr::deserialize_with_mode(&bytes[..], Compress::No, Validate::Yes).ok()
}

/// A verifying key, checked and prepared (e(α, β) and the negated G2 points precomputed).
#[derive(Clone, Debug)]
pub struct PreparedKey(PreparedVerifyingKey<Bn254>);

impl PreparedKey {
	/// The number of public inputs the key takes.
	pub fn public_inputs(&self) -> usize {
		self.0.vk.gamma_abc_g1.len() - 1
	}

	/// The prepared encoding: the key's points uncompressed, then e(α, β). Reading it back
	/// ([`PreparedKey::decode_trusted`]) needs no square root, subgroup check or pairing.
	pub fn encode(&self) -> Vec<u8> {
		let mut bytes = Vec::new();
		self.0
			.vk
			.serialize_uncompressed(&mut bytes)
			.expect("writing to a vector cannot fail; qed");
		self.0
			.alpha_g1_beta_g2
			.serialize_uncompressed(&mut bytes)
			.expect("writing to a vector cannot fail; qed");
		bytes
	}

	/// Reads [`PreparedKey::encode`]'s bytes **without checking the points**: only for
	/// bytes this crate produced from a checked key and that nobody else could change (the
	/// runtime's own storage, written at publication).
	pub fn decode_trusted(bytes: &[u8]) -> Result<Self, Error> {
		let mut reader = bytes;
		let key =
			VerifyingKey::<Bn254>::deserialize_with_mode(&mut reader, Compress::No, Validate::No)
				.map_err(|_| Error::MalformedKey)?;
		let alpha_g1_beta_g2 = Fq12::deserialize_with_mode(&mut reader, Compress::No, Validate::No)
			.map_err(|_| Error::MalformedKey)?;
		if !reader.is_empty()
			|| key.gamma_abc_g1.len() < 2
			|| key.gamma_abc_g1.len() > MAX_PUBLIC_INPUTS + 1
		{
			return Err(Error::MalformedKey);
		}
		Ok(Self(PreparedVerifyingKey {
			gamma_g2_neg_pc: (-key.gamma_g2).into(),
			delta_g2_neg_pc: (-key.delta_g2).into(),
			alpha_g1_beta_g2,
			vk: key,
		}))
	}
}

/// The public-input count of a prepared key (its uncompressed `γ_abc` length, after α, β,
/// γ, δ), without decoding it; `None` if the bytes are too short.
pub fn prepared_public_inputs(prepared: &[u8]) -> Option<usize> {
	let prefix: [u8; 8] = prepared.get(64 + 3 * 128..64 + 3 * 128 + 8)?.try_into().ok()?;
	(u64::from_le_bytes(prefix) as usize).checked_sub(1)
}

/// The longest prepared key: [`MAX_KEY_LEN`] with uncompressed points, and e(α, β).
pub const MAX_PREPARED_KEY_LEN: usize = 64 + 3 * 128 + 8 + 64 * (MAX_PUBLIC_INPUTS + 1) + 384;

fn decode_exact<T: CanonicalDeserialize>(bytes: &[u8]) -> Option<T> {
	let mut reader = bytes;
	let value = T::deserialize_with_mode(&mut reader, Compress::Yes, Validate::Yes).ok()?;
	reader.is_empty().then_some(value)
}

/// Decodes and checks a compressed verifying key.
pub fn decode_key(bytes: &[u8]) -> Result<PreparedKey, Error> {
	Ok(PreparedKey(prepare_verifying_key(&decode_checked_key(bytes)?)))
}

/// A decoded key with nonzero points, γ ≠ ±δ and an arity in `1..=MAX_PUBLIC_INPUTS`.
fn decode_checked_key(bytes: &[u8]) -> Result<VerifyingKey<Bn254>, Error> {
	// Refuse an oversized key before decoding any point.
	if bytes.len() > MAX_KEY_LEN {
		return Err(Error::KeyArity);
	}
	let key: VerifyingKey<Bn254> = decode_exact(bytes).ok_or(Error::MalformedKey)?;
	let points_nonzero = !key.alpha_g1.is_zero()
		&& !key.beta_g2.is_zero()
		&& !key.gamma_g2.is_zero()
		&& !key.delta_g2.is_zero();
	if !points_nonzero {
		return Err(Error::MalformedKey);
	}
	// With γ = δ the check e(A, B) = e(α, β)·e(Σ xᵢ·ICᵢ, γ)·e(C, δ) holds for A = α,
	// B = β, C = −Σ xᵢ·ICᵢ, whatever the statement; with γ = −δ for C = Σ xᵢ·ICᵢ.
	if key.gamma_g2 == key.delta_g2 || key.gamma_g2 == -key.delta_g2 {
		return Err(Error::MalformedKey);
	}
	let inputs = key.gamma_abc_g1.len().saturating_sub(1);
	if inputs == 0 || inputs > MAX_PUBLIC_INPUTS {
		return Err(Error::KeyArity);
	}
	Ok(key)
}

/// Decodes and checks a compressed proof of exactly [`PROOF_LEN`] bytes.
pub fn decode_proof(bytes: &[u8]) -> Result<Proof<Bn254>, Error> {
	if bytes.len() != PROOF_LEN {
		return Err(Error::MalformedProof);
	}
	decode_exact(bytes).ok_or(Error::MalformedProof)
}

/// Encodes a proof as [`decode_proof`] reads it.
pub fn encode_proof(proof: &Proof<Bn254>) -> Vec<u8> {
	let mut bytes = Vec::with_capacity(PROOF_LEN);
	proof
		.serialize_compressed(&mut bytes)
		.expect("writing to a vector cannot fail; qed");
	bytes
}

/// Encodes a verifying key as [`decode_key`] reads it.
pub fn encode_key(key: &VerifyingKey<Bn254>) -> Vec<u8> {
	let mut bytes = Vec::new();
	key.serialize_compressed(&mut bytes)
		.expect("writing to a vector cannot fail; qed");
	bytes
}

/// IC(x) = γ_abc[0] + Σ x_i γ_abc[i+1].
fn prepare_inputs(key: &PreparedKey, inputs: &[Fr]) -> Result<G1Projective, Error> {
	if inputs.len() != key.public_inputs() {
		return Err(Error::Arity);
	}
	let bases = &key.0.vk.gamma_abc_g1;
	Ok(bases[0].into_group() + G1Projective::msm_unchecked(&bases[1..], inputs))
}

/// Verifies one proof: e(A, B) = e(α, β) · e(IC(x), γ) · e(C, δ).
pub fn verify(key: &PreparedKey, proof: &Proof<Bn254>, inputs: &[Fr]) -> Result<(), Error> {
	let prepared = prepare_inputs(key, inputs)?;
	let pvk = &key.0;
	let product = Bn254::multi_miller_loop(
		[proof.a, prepared.into_affine(), proof.c],
		[proof.b.into(), pvk.gamma_g2_neg_pc.clone(), pvk.delta_g2_neg_pc.clone()],
	);
	match Bn254::final_exponentiation(product) {
		Some(PairingOutput(value)) if value == pvk.alpha_g1_beta_g2 => Ok(()),
		_ => Err(Error::Rejected),
	}
}

/// The batch coefficients: 128-bit, nonzero, derived from every proof and input of the
/// batch, so a prover fixes them only by fixing the whole batch.
fn batch_coefficients(items: &[(Proof<Bn254>, Vec<Fr>)]) -> Vec<Fr> {
	let mut transcript = Blake2b::<U32>::new().chain_update(BATCH_DOMAIN);
	for (proof, inputs) in items {
		transcript.update(encode_proof(proof));
		transcript.update((inputs.len() as u32).to_le_bytes());
		for input in inputs {
			transcript.update(field_to_bytes(input));
		}
	}
	let seed = transcript.finalize();
	(0..items.len() as u32)
		.map(|index| {
			let digest = Blake2b::<U32>::new()
				.chain_update(seed)
				.chain_update(index.to_le_bytes())
				.finalize();
			let mut low = [0u8; 16];
			low.copy_from_slice(&digest[..16]);
			Fr::from(u128::from_le_bytes(low).max(1))
		})
		.collect()
}

/// Verifies many proofs for one key at once with random coefficients r_i:
/// Π e(r_i·A_i, B_i) · e(−Σ r_i·IC(x_i), γ) · e(−Σ r_i·C_i, δ) = e(α, β)^(Σ r_i),
/// k + 2 Miller loops and one final exponentiation. Accepts only if every proof would
/// verify alone, except with probability about 2^-128.
pub fn verify_batch(key: &PreparedKey, items: &[(Proof<Bn254>, Vec<Fr>)]) -> Result<(), Error> {
	if items.is_empty() {
		return Err(Error::EmptyBatch);
	}
	if items.iter().any(|(_, inputs)| inputs.len() != key.public_inputs()) {
		return Err(Error::Arity);
	}
	let coefficients = batch_coefficients(items);
	let pvk = &key.0;

	// Σ r_i·IC(x_i) = (Σ r_i)·γ_abc[0] + Σ_j (Σ_i r_i·x_ij)·γ_abc[j+1].
	let coefficient_sum: Fr = coefficients.iter().sum();
	let mut input_scalars = alloc::vec![Fr::zero(); key.public_inputs()];
	for ((_, inputs), r) in items.iter().zip(&coefficients) {
		for (scalar, input) in input_scalars.iter_mut().zip(inputs) {
			*scalar += *r * input;
		}
	}
	let bases = &pvk.vk.gamma_abc_g1;
	let combined_inputs =
		bases[0] * coefficient_sum + G1Projective::msm_unchecked(&bases[1..], &input_scalars);
	let c_points: Vec<_> = items.iter().map(|(proof, _)| proof.c).collect();
	let combined_c = G1Projective::msm_unchecked(&c_points, &coefficients);

	let mut g1 = Vec::with_capacity(items.len() + 2);
	let mut g2 = Vec::with_capacity(items.len() + 2);
	for ((proof, _), r) in items.iter().zip(&coefficients) {
		g1.push((proof.a * r).into_affine());
		g2.push(proof.b.into());
	}
	g1.push(combined_inputs.into_affine());
	g2.push(pvk.gamma_g2_neg_pc.clone());
	g1.push(combined_c.into_affine());
	g2.push(pvk.delta_g2_neg_pc.clone());

	let product = Bn254::multi_miller_loop(g1, g2);
	let expected: Fq12 = pvk.alpha_g1_beta_g2.cyclotomic_exp(coefficient_sum.into_bigint());
	match Bn254::final_exponentiation(product) {
		Some(PairingOutput(value)) if value == expected => Ok(()),
		_ => Err(Error::Rejected),
	}
}

/// Checks and prepares an encoded key: the prepared encoding ([`PreparedKey::encode`]).
/// What the model hub runs once, on publication (through the host function in the
/// runtime), so that verification reads the prepared key without checks.
pub fn prepare_key(bytes: &[u8]) -> Result<Vec<u8>, Error> {
	Ok(decode_key(bytes)?.encode())
}

/// Public inputs as [`field_to_bytes`] encodings, concatenated.
pub fn encode_inputs(inputs: &[Fr]) -> Vec<u8> {
	inputs.iter().flat_map(field_to_bytes).collect()
}

/// The inverse of [`encode_inputs`]; `None` for a partial or non-canonical element.
pub fn decode_inputs(bytes: &[u8]) -> Option<Vec<Fr>> {
	if !bytes.len().is_multiple_of(32) {
		return None;
	}
	bytes
		.chunks_exact(32)
		.map(|chunk| field_from_bytes(chunk.try_into().ok()?))
		.collect()
}

/// Verifies an encoded proof for encoded public inputs against a trusted prepared key
/// (see [`PreparedKey::decode_trusted`]): what the runtime's host function runs.
pub fn verify_prepared_inputs(prepared: &[u8], proof: &[u8], inputs: &[u8]) -> Result<(), Error> {
	let key = PreparedKey::decode_trusted(prepared)?;
	let proof = decode_proof(proof)?;
	verify(&key, &proof, &decode_inputs(inputs).ok_or(Error::Arity)?)
}

/// Verifies encoded proofs for their encoded public inputs against one trusted prepared
/// key, as one batch.
pub fn verify_batch_prepared_inputs(
	prepared: &[u8],
	items: &[(Vec<u8>, Vec<u8>)],
) -> Result<(), Error> {
	let key = PreparedKey::decode_trusted(prepared)?;
	let decoded = items
		.iter()
		.map(|(proof, inputs)| {
			Ok((decode_proof(proof)?, decode_inputs(inputs).ok_or(Error::Arity)?))
		})
		.collect::<Result<Vec<_>, Error>>()?;
	verify_batch(&key, &decoded)
}

/// Verifies an encoded proof of `statement` against an encoded (compressed, unchecked) key.
pub fn verify_encoded(key: &[u8], proof: &[u8], statement: &Statement) -> Result<(), Error> {
	let key = decode_key(key)?;
	verify(&key, &decode_proof(proof)?, &statement.public_inputs())
}

/// Where Groth16 verification runs: in the caller ([`PureRust`]), or natively in the node
/// through host functions (the runtime's implementation). Keys are checked and prepared
/// once ([`Groth16Verifier::prepare_key`]); verification takes the prepared bytes, which
/// must come from `prepare_key` (they are read back without checks).
pub trait Groth16Verifier {
	/// Checks an encoded key as [`decode_key`] does and prepares it.
	fn prepare_key(&self, key: &[u8]) -> Result<Vec<u8>, Error>;

	/// Verifies encoded public inputs (see [`encode_inputs`]) against a prepared key.
	fn verify_inputs(&self, prepared: &[u8], proof: &[u8], inputs: &[u8]) -> Result<(), Error>;

	/// Verifies a batch of encoded proofs and inputs against one prepared key.
	fn verify_batch_inputs(
		&self,
		prepared: &[u8],
		items: &[(Vec<u8>, Vec<u8>)],
	) -> Result<(), Error>;

	/// Verifies a proof of `statement`.
	fn verify(&self, prepared: &[u8], proof: &[u8], statement: &Statement) -> Result<(), Error> {
		self.verify_inputs(prepared, proof, &encode_inputs(&statement.public_inputs()))
	}

	/// Verifies proofs of their statements, as one batch.
	fn verify_batch(&self, prepared: &[u8], items: &[(Vec<u8>, Statement)]) -> Result<(), Error> {
		let encoded: Vec<_> = items
			.iter()
			.map(|(proof, statement)| (proof.clone(), encode_inputs(&statement.public_inputs())))
			.collect();
		self.verify_batch_inputs(prepared, &encoded)
	}
}

/// Verification in the caller: in the runtime that is wasm.
#[derive(Clone, Copy, Debug, Default)]
pub struct PureRust;

impl Groth16Verifier for PureRust {
	fn prepare_key(&self, key: &[u8]) -> Result<Vec<u8>, Error> {
		prepare_key(key)
	}

	fn verify_inputs(&self, prepared: &[u8], proof: &[u8], inputs: &[u8]) -> Result<(), Error> {
		verify_prepared_inputs(prepared, proof, inputs)
	}

	fn verify_batch_inputs(
		&self,
		prepared: &[u8],
		items: &[(Vec<u8>, Vec<u8>)],
	) -> Result<(), Error> {
		verify_batch_prepared_inputs(prepared, items)
	}
}

/// A verifying key, a proof and its statement made by `opg-zk` from a fixed model, seed and
/// job (regenerated by its `fixture_is_current` test): for tests and benchmarks.
#[cfg(any(test, feature = "fixtures"))]
pub mod fixture {
	/// The compressed verifying key.
	pub const VERIFYING_KEY: &[u8] = include_bytes!("../fixtures/verifying.key");
	/// The compressed proof.
	pub const PROOF: &[u8] = include_bytes!("../fixtures/proof.bin");
	/// The statement's public inputs, encoded.
	pub const PUBLIC_INPUTS: &[u8] = include_bytes!("../fixtures/public-inputs.bin");
	/// A well-formed key with [`super::MAX_PUBLIC_INPUTS`] public inputs (not from a setup:
	/// for the cost of checking the widest key).
	pub const WIDEST_KEY: &[u8] = include_bytes!("../fixtures/widest.key");
}

// Generated and checked byte for byte by `poseidon_constants_are_the_grain_lfsr_ones`.
#[rustfmt::skip]
mod poseidon_constants;
#[cfg(test)]
mod tests;
