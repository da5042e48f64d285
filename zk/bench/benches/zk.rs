//! Prover and verifier costs for MNIST-shaped models (MLPs and a small CNN),
//! single-threaded (each prover on a pool of one thread): proving one inference
//! (witness synthesis and the Groth16 prover over the kept matrices), the input commitment,
//! and verification of one proof and of batches (what the node's host functions run).

use ark_std::rand::{rngs::StdRng, SeedableRng};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use opg_zk::{setup, thread_pool, CompiledModel, Prover};
use opg_zk_verifier::{
	decode_key, decode_proof, encode_key, job_binding, verify, verify_batch, PreparedKey,
};

fn prover(widths: &[u32]) -> Prover {
	prover_of(opg_qmodel::generate(widths, 1))
}

fn prover_of(model: opg_qmodel::QModel) -> Prover {
	let model = CompiledModel::new(model).unwrap();
	let key = setup(&model, &mut StdRng::seed_from_u64(1)).unwrap();
	Prover::new(model, key).unwrap().with_pool(thread_pool(1).unwrap())
}

fn input() -> Vec<u8> {
	(0..784u32).map(|i| (i * 7) as u8).collect()
}

fn proving(c: &mut Criterion) {
	let mut group = c.benchmark_group("prove");
	group.sample_size(10);
	for widths in [[784, 56, 10], [784, 64, 10]] {
		let prover = prover(&widths);
		let name = format!("{}-{}-{}", widths[0], widths[1], widths[2]);
		eprintln!("{name}: {:?}", prover.size());
		let mut rng = StdRng::seed_from_u64(2);
		let binding = job_binding(&[1; 32], 7, &[2; 32]);
		group.bench_function(BenchmarkId::from_parameter(name), |b| {
			b.iter(|| prover.prove(&input(), binding, &mut rng).unwrap())
		});
	}
	// 1×28×28 → conv 3×3 (4 filters) → avg pool 2 → conv 3×3 stride 2 → sum pool 2 → 10.
	let cnn = prover_of(opg_qmodel::generate_cnn(28, 4, 10, 1));
	eprintln!("cnn-28-4-10: {:?}", cnn.size());
	let mut rng = StdRng::seed_from_u64(2);
	let binding = job_binding(&[1; 32], 7, &[2; 32]);
	group.bench_function(BenchmarkId::from_parameter("cnn-28-4-10"), |b| {
		b.iter(|| cnn.prove(&input(), binding, &mut rng).unwrap())
	});
	group.finish();
}

fn committing(c: &mut Criterion) {
	let input = input();
	c.bench_function("input_commitment/784", |b| {
		b.iter(|| opg_zk_verifier::input_commitment(&input))
	});
}

fn verifying(c: &mut Criterion) {
	let prover = prover(&[784, 56, 10]);
	let key_bytes = encode_key(prover.verifying_key());
	let mut rng = StdRng::seed_from_u64(3);
	let proofs: Vec<_> = (0..64u64)
		.map(|request| {
			let proven = prover
				.prove(&input(), job_binding(&[1; 32], request, &[2; 32]), &mut rng)
				.unwrap();
			(decode_proof(&proven.proof).unwrap(), proven.statement.public_inputs())
		})
		.collect();
	c.bench_function("verify/decode_key", |b| b.iter(|| decode_key(&key_bytes).unwrap()));
	let key = decode_key(&key_bytes).unwrap();
	let prepared = key.encode();
	c.bench_function("verify/decode_prepared_key", |b| {
		b.iter(|| PreparedKey::decode_trusted(&prepared).unwrap())
	});
	let proof_bytes = opg_zk_verifier::encode_proof(&proofs[0].0);
	c.bench_function("verify/decode_proof", |b| b.iter(|| decode_proof(&proof_bytes).unwrap()));
	c.bench_function("verify/single", |b| {
		b.iter(|| verify(&key, &proofs[0].0, &proofs[0].1).unwrap())
	});
	let mut group = c.benchmark_group("verify/batch");
	for size in [1usize, 8, 32, 64] {
		group.throughput(Throughput::Elements(size as u64));
		group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
			b.iter(|| verify_batch(&key, &proofs[..size]).unwrap())
		});
	}
	group.finish();
}

criterion_group!(benches, proving, committing, verifying);
criterion_main!(benches);
