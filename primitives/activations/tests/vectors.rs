//! The committed vectors of TOPLOC's reference implementation (`vectors/toploc.json`,
//! written by `scripts/toploc-vectors.py` with PyPI `toploc` 0.1.6): every commitment is
//! byte for byte the reference's, and every check counts the exponent mismatches and
//! mantissa errors the reference counts.

use opg_activations::{bf16, check, chunks_by, field, Commitment};
use serde_json::Value;

fn vectors() -> Value {
	let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/toploc.json");
	serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn values(bits: &Value) -> Vec<f32> {
	bits.as_array()
		.unwrap()
		.iter()
		.map(|b| bf16::to_f32(b.as_u64().unwrap() as u16))
		.collect()
}

fn rows(list: &Value) -> Vec<f32> {
	list.as_array().unwrap().iter().flat_map(values).collect()
}

/// A case's row width, top-k and decoding rows per chunk.
fn shape(case: &Value) -> (usize, usize, usize) {
	let get = |name: &str| case[name].as_u64().unwrap() as usize;
	(get("width"), get("k"), get("decodeBatching"))
}

#[test]
fn interpolations_are_the_references() {
	for case in vectors()["interpolations"].as_array().unwrap() {
		let xs: Vec<u32> = case["x"]
			.as_array()
			.unwrap()
			.iter()
			.map(|x| x.as_u64().unwrap() as u32)
			.collect();
		let ys: Vec<u32> = case["y"]
			.as_array()
			.unwrap()
			.iter()
			.map(|y| y.as_u64().unwrap() as u32)
			.collect();
		let commitment =
			Commitment { modulus: 65497, coefficients: field::interpolate(&xs, &ys).unwrap() };
		assert_eq!(hex::encode(commitment.to_bytes()), case["bytes"].as_str().unwrap(), "{xs:?}");
	}
}

#[test]
fn commitments_are_the_references_byte_for_byte() {
	for case in vectors()["cases"].as_array().unwrap() {
		let (width, k, batching) = shape(case);
		let (prefill, decode) = (values(&case["prefill"]), rows(&case["decode"]));
		let ours: Vec<String> = chunks_by(&prefill, &decode, width, batching)
			.into_iter()
			.map(|chunk| hex::encode(Commitment::of(chunk, k).unwrap().to_bytes()))
			.collect();
		let theirs: Vec<&str> = case["commitments"]
			.as_array()
			.unwrap()
			.iter()
			.map(|c| c.as_str().unwrap())
			.collect();
		assert_eq!(ours, theirs, "{}", case["name"]);
		for bytes in theirs {
			let bytes = hex::decode(bytes).unwrap();
			assert_eq!(Commitment::from_bytes(&bytes).unwrap().to_bytes(), bytes);
		}
	}
}

#[test]
fn checks_count_what_the_reference_counts() {
	for case in vectors()["cases"].as_array().unwrap() {
		let (width, k, batching) = shape(case);
		let commitments: Vec<Commitment> = case["commitments"]
			.as_array()
			.unwrap()
			.iter()
			.map(|c| Commitment::from_bytes(&hex::decode(c.as_str().unwrap()).unwrap()).unwrap())
			.collect();
		for checked in case["checks"].as_array().unwrap() {
			let (prefill, decode) = (values(&checked["prefill"]), rows(&checked["decode"]));
			let chunks = chunks_by(&prefill, &decode, width, batching);
			let expected = checked["results"].as_array().unwrap();
			assert_eq!(chunks.len(), expected.len());
			for ((commitment, chunk), theirs) in commitments.iter().zip(chunks).zip(expected) {
				let ours = check(commitment, chunk, k);
				let label = format!("{} / {}", case["name"], checked["label"]);
				assert_eq!(
					u64::from(ours.exponent_mismatches),
					theirs["exponentMismatches"].as_u64().unwrap(),
					"{label}"
				);
				for (ours, theirs) in [
					(ours.mantissa_mean, theirs["mantissaMean"].as_f64().unwrap()),
					(ours.mantissa_median, theirs["mantissaMedian"].as_f64().unwrap()),
				] {
					if theirs >= 1e19 {
						assert!(ours.is_infinite(), "{label}: {ours}");
					} else {
						assert!(
							(ours - theirs).abs() <= 1e-4 * theirs.max(1.0),
							"{label}: {ours} ≠ {theirs}"
						);
					}
				}
			}
		}
	}
}

#[test]
fn the_honest_and_slightly_noisy_checks_pass_and_the_others_fail() {
	let paper = opg_activations::Thresholds::PAPER;
	let case = &vectors()["cases"][0];
	let commitment =
		Commitment::from_bytes(&hex::decode(case["commitments"][0].as_str().unwrap()).unwrap())
			.unwrap();
	let verdicts: Vec<bool> = case["checks"]
		.as_array()
		.unwrap()
		.iter()
		.map(|checked| check(&commitment, &values(&checked["prefill"]), 128).passes(&paper))
		.collect();
	assert_eq!(verdicts, [true, true, false, false], "same, 1 % noise, 10 % noise, other");
}
