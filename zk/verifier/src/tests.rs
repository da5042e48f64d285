//! Tests on a small circuit of its own (`a · w = b` with public `a`, `b`, `c`): every
//! check of the decoder and both verifiers, independent of the model circuits.

use super::*;
use ark_bn254::G2Affine;
use ark_ec::short_weierstrass::Affine;
use ark_groth16::Groth16;
use ark_relations::{
	gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError},
	lc,
};
use ark_snark::{CircuitSpecificSetupSNARK, SNARK};
use ark_std::{rand::SeedableRng, test_rng, UniformRand};

#[derive(Clone)]
struct Product {
	a: Fr,
	w: Fr,
	c: Fr,
}

impl ConstraintSynthesizer<Fr> for Product {
	fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
		let a = cs.new_input_variable(|| Ok(self.a))?;
		let b = cs.new_input_variable(|| Ok(self.a * self.w))?;
		let _c = cs.new_input_variable(|| Ok(self.c))?;
		let w = cs.new_witness_variable(|| Ok(self.w))?;
		cs.enforce_r1cs_constraint(|| lc!(a), || lc!(w), || lc!(b))
	}
}

struct Fixture {
	key: VerifyingKey<Bn254>,
	pk: ark_groth16::ProvingKey<Bn254>,
	rng: ark_std::rand::rngs::StdRng,
}

fn fixture() -> Fixture {
	let mut rng = ark_std::rand::rngs::StdRng::seed_from_u64(7);
	let blank = Product { a: Fr::from(1u8), w: Fr::from(1u8), c: Fr::from(1u8) };
	let (pk, key) = Groth16::<Bn254>::setup(blank, &mut rng).unwrap();
	Fixture { key, pk, rng }
}

impl Fixture {
	fn prove(&mut self, a: u64, w: u64, c: u64) -> (Proof<Bn254>, Vec<Fr>) {
		let circuit = Product { a: Fr::from(a), w: Fr::from(w), c: Fr::from(c) };
		let proof = Groth16::<Bn254>::prove(&self.pk, circuit, &mut self.rng).unwrap();
		(proof, alloc::vec![Fr::from(a), Fr::from(a * w), Fr::from(c)])
	}

	fn prepared(&self) -> PreparedKey {
		decode_key(&encode_key(&self.key)).unwrap()
	}
}

#[test]
fn a_valid_proof_verifies_and_another_statement_is_rejected() {
	let mut f = fixture();
	let key = f.prepared();
	let (proof, inputs) = f.prove(3, 5, 9);
	assert_eq!(key.public_inputs(), 3);
	assert_eq!(verify(&key, &proof, &inputs), Ok(()));
	for index in 0..3 {
		let mut other = inputs.clone();
		other[index] += Fr::from(1u8);
		assert_eq!(verify(&key, &proof, &other), Err(Error::Rejected), "input {index}");
	}
	assert_eq!(verify(&key, &proof, &inputs[..2]), Err(Error::Arity));
	let mut longer = inputs.clone();
	longer.push(Fr::from(0u8));
	assert_eq!(verify(&key, &proof, &longer), Err(Error::Arity));
}

#[test]
fn a_proof_does_not_verify_under_another_key() {
	let mut f = fixture();
	let (proof, inputs) = f.prove(3, 5, 9);
	let mut rng = ark_std::rand::rngs::StdRng::seed_from_u64(8);
	let blank = Product { a: Fr::from(1u8), w: Fr::from(1u8), c: Fr::from(1u8) };
	let (_, other_key) = Groth16::<Bn254>::setup(blank, &mut rng).unwrap();
	let other = decode_key(&encode_key(&other_key)).unwrap();
	assert_eq!(verify(&other, &proof, &inputs), Err(Error::Rejected));
}

#[test]
fn a_rerandomized_proof_proves_the_same_statement_only() {
	// Why uniqueness is never keyed on proof bytes, and why the statement binds the job.
	let mut f = fixture();
	let key = f.prepared();
	let (proof, inputs) = f.prove(3, 5, 9);
	let again = Groth16::<Bn254>::rerandomize_proof(&f.key, &proof, &mut test_rng());
	assert_ne!(encode_proof(&again), encode_proof(&proof));
	assert_eq!(verify(&key, &again, &inputs), Ok(()));
	let mut other = inputs.clone();
	other[2] = Fr::from(10u8);
	assert_eq!(verify(&key, &again, &other), Err(Error::Rejected));
}

#[test]
fn proof_encodings_are_exact_and_canonical() {
	let mut f = fixture();
	let (proof, _) = f.prove(3, 5, 9);
	let bytes = encode_proof(&proof);
	assert_eq!(bytes.len(), PROOF_LEN);
	assert_eq!(decode_proof(&bytes), Ok(proof));
	assert_eq!(decode_proof(&bytes[..PROOF_LEN - 1]), Err(Error::MalformedProof));
	let mut longer = bytes.clone();
	longer.push(0);
	assert_eq!(decode_proof(&longer), Err(Error::MalformedProof));
	// A's x-coordinate replaced by the field modulus plus a small value (flags kept clear).
	let mut non_canonical = bytes.clone();
	let modulus = <ark_bn254::Fq as PrimeField>::MODULUS.to_bytes_le();
	non_canonical[..32].copy_from_slice(&modulus);
	non_canonical[0] = non_canonical[0].wrapping_add(1);
	assert_eq!(decode_proof(&non_canonical), Err(Error::MalformedProof));
	// An x with no point on the curve: find one by trying small values.
	let off_curve = (1u64..)
		.map(ark_bn254::Fq::from)
		.find(|x| ark_bn254::G1Affine::get_point_from_x_unchecked(*x, false).is_none())
		.unwrap();
	let mut bad = bytes.clone();
	off_curve.serialize_compressed(&mut bad[..32]).unwrap();
	assert_eq!(decode_proof(&bad), Err(Error::MalformedProof));
}

#[test]
fn a_g2_point_outside_the_subgroup_is_refused() {
	// BN254's G2 curve has a cofactor: most points on it are outside the r-torsion.
	let mut f = fixture();
	let (proof, _) = f.prove(3, 5, 9);
	let point = (1u64..)
		.filter_map(|x| {
			let x = ark_bn254::Fq2::new(ark_bn254::Fq::from(x), ark_bn254::Fq::from(1u8));
			G2Affine::get_point_from_x_unchecked(x, false)
		})
		.find(|p: &Affine<_>| !p.is_in_correct_subgroup_assuming_on_curve())
		.unwrap();
	assert!(point.is_on_curve());
	let mut bad = encode_proof(&proof);
	point.serialize_compressed(&mut bad[32..96]).unwrap();
	assert_eq!(decode_proof(&bad), Err(Error::MalformedProof));
	// The same point inside a verifying key (as δ) is refused too.
	let mut key = f.key.clone();
	key.delta_g2 = point;
	assert_eq!(decode_key(&encode_key(&key)).unwrap_err(), Error::MalformedKey);
}

#[test]
fn malformed_and_degenerate_keys_are_refused() {
	let f = fixture();
	let bytes = encode_key(&f.key);
	assert!(decode_key(&bytes).is_ok());
	assert_eq!(decode_key(&bytes[..bytes.len() - 1]).unwrap_err(), Error::MalformedKey);
	let mut longer = bytes.clone();
	longer.push(0);
	assert_eq!(decode_key(&longer).unwrap_err(), Error::MalformedKey);
	assert_eq!(decode_key(b"vk").unwrap_err(), Error::MalformedKey);

	let mut zero_alpha = f.key.clone();
	zero_alpha.alpha_g1 = ark_bn254::G1Affine::zero();
	assert_eq!(decode_key(&encode_key(&zero_alpha)).unwrap_err(), Error::MalformedKey);

	let mut no_inputs = f.key.clone();
	no_inputs.gamma_abc_g1.truncate(1);
	assert_eq!(decode_key(&encode_key(&no_inputs)).unwrap_err(), Error::KeyArity);

	let mut too_many = f.key.clone();
	let g = ark_bn254::G1Affine::generator();
	too_many.gamma_abc_g1 = alloc::vec![g; MAX_PUBLIC_INPUTS + 2];
	assert_eq!(decode_key(&encode_key(&too_many)).unwrap_err(), Error::KeyArity);
	let mut most = f.key.clone();
	most.gamma_abc_g1 = alloc::vec![g; MAX_PUBLIC_INPUTS + 1];
	assert_eq!(decode_key(&encode_key(&most)).unwrap().public_inputs(), MAX_PUBLIC_INPUTS);
}

/// With γ = ±δ a "proof" of any statement is A = α, B = β, C = ∓Σ xᵢ·ICᵢ: such keys
/// are refused, so that no model owner can publish a key under which anyone settles
/// anything.
#[test]
fn keys_whose_gamma_is_plus_or_minus_delta_are_refused() {
	let f = fixture();
	// A statement no one proved: 2 · w = 5 has no witness in the field's integers here,
	// and none is needed.
	let inputs = [Fr::from(2u8), Fr::from(5u8), Fr::from(11u8)];
	for negated in [false, true] {
		let mut key = f.key.clone();
		key.delta_g2 = if negated { -key.gamma_g2 } else { key.gamma_g2 };
		let sum = key.gamma_abc_g1[1..]
			.iter()
			.zip(&inputs)
			.fold(key.gamma_abc_g1[0].into_group(), |acc, (base, x)| acc + *base * x);
		let forged = Proof::<Bn254> {
			a: key.alpha_g1,
			b: key.beta_g2,
			c: if negated { sum } else { -sum }.into_affine(),
		};
		// Without the rule, the forgery verifies.
		let unchecked = PreparedKey(prepare_verifying_key(&key));
		assert_eq!(verify(&unchecked, &forged, &inputs), Ok(()));
		assert_eq!(decode_key(&encode_key(&key)).unwrap_err(), Error::MalformedKey);
		assert_eq!(prepare_key(&encode_key(&key)).unwrap_err(), Error::MalformedKey);
	}
}

#[test]
fn a_batch_verifies_only_if_every_proof_does() {
	let mut f = fixture();
	let key = f.prepared();
	let items: Vec<_> = (1..=6).map(|i| f.prove(i, i + 1, i * 7)).collect();
	assert_eq!(verify_batch(&key, &items), Ok(()));
	assert_eq!(verify_batch(&key, &items[..1]), Ok(()));
	assert_eq!(verify_batch(&key, &[]), Err(Error::EmptyBatch));

	for index in 0..items.len() {
		let mut bad = items.clone();
		bad[index].1[1] += Fr::from(1u8);
		assert_eq!(verify_batch(&key, &bad), Err(Error::Rejected), "statement {index}");
	}
	// Two wrong proofs whose errors would cancel with equal coefficients.
	let mut swapped = items.clone();
	let (c0, c1) = (swapped[0].0.c, swapped[1].0.c);
	let delta = (c1.into_group() - c0.into_group()).into_affine();
	swapped[0].0.c = (c0 + delta).into_affine();
	swapped[1].0.c = (c1.into_group() - delta).into_affine();
	assert_eq!(verify_batch(&key, &swapped), Err(Error::Rejected));

	let mut short = items.clone();
	short[2].1.pop();
	assert_eq!(verify_batch(&key, &short), Err(Error::Arity));
}

#[test]
fn encoded_paths_agree_with_the_typed_ones() {
	let mut f = fixture();
	let key = encode_key(&f.key);
	let (proof, inputs) = f.prove(2, 21, 4);
	// Statement layout: binding, commitment, then packed output; reuse the three inputs.
	let statement =
		Statement { binding: inputs[0], input_commitment: inputs[1], output: alloc::vec![] };
	assert_eq!(statement.public_inputs(), inputs[..2].to_vec());
	assert_eq!(verify_encoded(&key, &encode_proof(&proof), &statement), Err(Error::Arity));
	assert_eq!(verify_encoded(b"", &encode_proof(&proof), &statement), Err(Error::MalformedKey));
	assert_eq!(verify_encoded(&key, &[0; 3], &statement), Err(Error::MalformedProof));
	for error in [
		Error::MalformedKey,
		Error::KeyArity,
		Error::MalformedProof,
		Error::Arity,
		Error::Rejected,
		Error::EmptyBatch,
	] {
		assert_ne!(error.code(), 0);
		assert_eq!(Error::from_code(error.code()), error);
	}
}

#[test]
fn packing_is_offset_little_endian_31_bytes_per_element() {
	assert_eq!(pack_bytes(&[]), Vec::<Fr>::new());
	assert_eq!(pack_bytes(&[0x80]), alloc::vec![Fr::from(0u8)]);
	// -128 → 0, 127 → 255, 0 → 128.
	assert_eq!(pack_bytes(&[0x80, 0x7f, 0x00]), alloc::vec![Fr::from(255u64 * 256 + 128 * 65536)]);
	let bytes = [0x7fu8; 32];
	let packed = pack_bytes(&bytes);
	assert_eq!(packed.len(), 2);
	assert_eq!(packed[1], Fr::from(255u8));
	assert_eq!(packed_len(31), 1);
	assert_eq!(packed_len(32), 2);
	assert_eq!(public_input_count(10), 3);
}

#[test]
fn commitments_and_bindings_separate_what_they_should() {
	let a = input_commitment(&[1, 2, 3]);
	assert_eq!(a, input_commitment(&[1, 2, 3]));
	assert_ne!(a, input_commitment(&[1, 2, 4]));
	// 0x80 packs to zero: the length keeps [] and [0x80] apart.
	assert_ne!(input_commitment(&[]), input_commitment(&[0x80]));
	assert_ne!(input_commitment(&[0x80]), input_commitment(&[0x80, 0x80]));

	let genesis = [1u8; 32];
	let node = [2u8; 32];
	let binding = job_binding(&genesis, 7, &node);
	assert_ne!(binding, job_binding(&genesis, 8, &node));
	assert_ne!(binding, job_binding(&[3u8; 32], 7, &node));
	assert_ne!(binding, job_binding(&genesis, 7, &[3u8; 32]));
}

#[test]
fn field_bytes_round_trip_and_refuse_non_canonical_values() {
	let mut rng = test_rng();
	let value = Fr::rand(&mut rng);
	assert_eq!(field_from_bytes(&field_to_bytes(&value)), Some(value));
	let modulus: [u8; 32] = Fr::MODULUS.to_bytes_le().try_into().unwrap();
	assert_eq!(field_from_bytes(&modulus), None);
	assert_eq!(field_from_bytes(&[0xff; 32]), None);
}

#[test]
fn the_fixture_verifies_and_its_encodings_round_trip() {
	use fixture::*;
	let prepared = PureRust.prepare_key(VERIFYING_KEY).unwrap();
	assert_eq!(prepared_public_inputs(&prepared), Some(3));
	assert!(prepared.len() <= MAX_PREPARED_KEY_LEN);
	assert_eq!(PureRust.prepare_key(&VERIFYING_KEY[1..]), Err(Error::MalformedKey));
	let widest = prepare_key(WIDEST_KEY).unwrap();
	assert_eq!(widest.len(), MAX_PREPARED_KEY_LEN);
	assert_eq!(PreparedKey::decode_trusted(&widest).unwrap().public_inputs(), MAX_PUBLIC_INPUTS);
	assert_eq!(prepared_public_inputs(&widest), Some(MAX_PUBLIC_INPUTS));
	assert_eq!(prepared_public_inputs(&prepared), Some(3));
	assert_eq!(prepared_public_inputs(&prepared[..100]), None);
	assert_eq!(PreparedKey::decode_trusted(&prepared[1..]).unwrap_err(), Error::MalformedKey);
	let mut longer = prepared.clone();
	longer.push(0);
	assert_eq!(PreparedKey::decode_trusted(&longer).unwrap_err(), Error::MalformedKey);
	assert_eq!(PureRust.verify_inputs(&prepared, PROOF, PUBLIC_INPUTS), Ok(()));
	let inputs = decode_inputs(PUBLIC_INPUTS).unwrap();
	assert_eq!(encode_inputs(&inputs), PUBLIC_INPUTS);
	assert_eq!(decode_inputs(&PUBLIC_INPUTS[..95]), None);
	let mut other = PUBLIC_INPUTS.to_vec();
	other[64] ^= 1;
	assert_eq!(PureRust.verify_inputs(&prepared, PROOF, &other), Err(Error::Rejected));
	let items = alloc::vec![(PROOF.to_vec(), PUBLIC_INPUTS.to_vec()); 3];
	assert_eq!(PureRust.verify_batch_inputs(&prepared, &items), Ok(()));
}

/// The checked-in Poseidon constants are the Grain LFSR's (regenerated with
/// `OPG_UPDATE_FIXTURES=1`).
#[test]
fn poseidon_constants_are_the_grain_lfsr_ones() {
	use ark_crypto_primitives::sponge::poseidon::find_poseidon_ark_and_mds;
	let (ark, mds) = find_poseidon_ark_and_mds::<Fr>(
		Fr::MODULUS_BIT_SIZE as u64,
		POSEIDON_RATE,
		POSEIDON_FULL_ROUNDS as u64,
		POSEIDON_PARTIAL_ROUNDS as u64,
		0,
	);
	let limbs = |rows: &[Vec<Fr>]| -> std::string::String {
		rows.iter()
			.map(|row| {
				let elements: Vec<_> =
					row.iter().map(|e| std::format!("{:?}", e.into_bigint().0)).collect();
				std::format!("\t[{}],\n", elements.join(", "))
			})
			.collect()
	};
	let source = std::format!(
		"//! Poseidon round constants and MDS matrix for BN254's scalar field, width 3, 8 full\n\
		 //! and 57 partial rounds: arkworks' `find_poseidon_ark_and_mds` (Grain LFSR), as\n\
		 //! canonical little-endian limbs. Generated by the test\n\
		 //! `poseidon_constants_are_the_grain_lfsr_ones`; do not edit.\n\n\
		 pub(crate) const ARK: [[[u64; 4]; 3]; {}] = [\n{}];\n\n\
		 pub(crate) const MDS: [[[u64; 4]; 3]; 3] = [\n{}];\n",
		ark.len(),
		limbs(&ark),
		limbs(&mds)
	);
	let path = std::path::PathBuf::from(
		std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo test"),
	)
	.join("src/poseidon_constants.rs");
	if std::env::var_os("OPG_UPDATE_FIXTURES").is_some() {
		std::fs::write(&path, &source).unwrap();
	}
	assert_eq!(std::fs::read_to_string(&path).unwrap(), source, "stale: OPG_UPDATE_FIXTURES=1");
	let config = poseidon_config();
	assert_eq!((config.ark, config.mds), (ark, mds));
}
