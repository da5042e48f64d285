// @opg/sdk's Groth16 check on opg-zk's committed fixture (zk/verifier/fixtures): the real
// proof verifies, its statement is recomputed from the job, input and output, and what the
// runtime refuses is refused. The fixture's job is documented in sdk/python/tests/test_groth16.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as groth16 from '../dist/groth16.js';
import { fromHex, fromLe, le } from '../dist/bytes.js';

const fixture = (name) => new Uint8Array(readFileSync(new URL(`../../../zk/verifier/fixtures/${name}`, import.meta.url)));
const KEY = fixture('verifying.key');
const PROOF = fixture('proof.bin');
const INPUTS = fixture('public-inputs.bin');
const OUTPUT = fromHex('fe04fb000102030001fa');
const COMMITMENT = fromHex('a45dbbcff1499bda25526e4910375c8babe8c8491d07d33507d40328b087520b');
const G = `0x${'11'.repeat(32)}`;
const NODE = `0x${'22'.repeat(32)}`;
const key = groth16.decodeKey(KEY);

test('the fixture proof verifies', () => {
  assert.equal(key.bases.length - 1, 3);
  assert.ok(groth16.verify(key, groth16.decodeProof(PROOF), groth16.decodeInputs(INPUTS)));
  assert.ok(groth16.verifyEncoded(KEY, PROOF, INPUTS));
});

test('the statement is recomputed from the job, the input and the output', () => {
  const [binding, commitment, output] = groth16.decodeInputs(INPUTS);
  assert.equal(binding, groth16.jobBinding(G, 7, NODE));
  assert.equal(commitment, fromLe(COMMITMENT));
  assert.deepEqual([output], groth16.packBytes(OUTPUT));
  const input = Uint8Array.from({ length: 784 }, (_, i) => (i * 7) % 256);
  assert.equal(groth16.inputCommitment(input), commitment);
  assert.deepEqual(groth16.statement({ genesis: G, request: 7, node: NODE, input, output: OUTPUT }),
    groth16.decodeInputs(INPUTS));
  assert.deepEqual(groth16.statement({ genesis: G, request: 7, node: NODE, commitment, output: OUTPUT }),
    groth16.decodeInputs(INPUTS));
  assert.throws(() => groth16.statement({ genesis: G, request: 7, node: NODE, output: OUTPUT }), /input or its commitment/);
});

// `opg-zk commit` of inputs (i·13 + 5) mod 256 of these lengths (as the Python SDK's test).
const COMMITMENTS = {
  0: '033e2686056fc0821c2cb4a4f26082de5193342bafad393a77c2e8ae2cc0f808',
  1: 'f5caceb84d36f3e688076cb6f86fe603ae4c2eb60277c5aefa62fdb806991618',
  31: 'c9a3ae1812b5acc12dadbc6e63a72558063e5df63273cbc6a38111dae5eb0924',
  32: '18ba34f49185c0c3d09d56e0773fe3edaad23a5ea48453ae38c0f9a0df45b710',
  62: '41a8648d72e099b37d832bec8063441df61aa90d29f05e18ab68ce7836e0fe09',
  93: 'f97cf85b74f7d1029279001bea076e81dcd3ed67da85efe8531e68869628f904',
};

test('the input commitment is what opg-zk commits, for lengths across the sponge rate', () => {
  for (const [length, expected] of Object.entries(COMMITMENTS)) {
    const data = Uint8Array.from({ length: Number(length) }, (_, i) => (i * 13 + 5) % 256);
    assert.equal(Buffer.from(le(groth16.inputCommitment(data), 32)).toString('hex'), expected, `length ${length}`);
    assert.notEqual(groth16.inputCommitment(Uint8Array.of(...data, 0)), groth16.inputCommitment(data));
  }
});

test('a changed public input, another job or a wrong arity is refused', () => {
  const proof = groth16.decodeProof(PROOF);
  const inputs = groth16.decodeInputs(INPUTS);
  for (let i = 0; i < inputs.length; i++) {
    const changed = inputs.slice();
    changed[i] = (changed[i] + 1n) % groth16.R;
    assert.ok(!groth16.verify(key, proof, changed), `input ${i}`);
  }
  const other = groth16.statement({ genesis: G, request: 8, node: NODE, commitment: inputs[1], output: OUTPUT });
  assert.ok(!groth16.verify(key, proof, other));
  assert.ok(!groth16.verify(key, proof, inputs.slice(0, 2)));
  assert.ok(!groth16.verify(key, proof, [...inputs, 0n]));
});

test('a proof with its points swapped or a sign flipped is refused', () => {
  const swapped = Uint8Array.of(...PROOF.slice(96), ...PROOF.slice(32, 96), ...PROOF.slice(0, 32));
  assert.ok(!groth16.verifyEncoded(KEY, swapped, INPUTS));
  for (const at of [31, 95, 127]) {
    const flipped = PROOF.slice();
    flipped[at] ^= 0x80;
    assert.ok(!groth16.verifyEncoded(KEY, flipped, INPUTS), `sign of the point ending at ${at}`);
  }
});

test('malformed encodings are refused', () => {
  assert.throws(() => groth16.decodeProof(PROOF.slice(0, 127)), groth16.DecodeError);
  assert.throws(() => groth16.decodeKey(KEY.slice(0, 231)), groth16.DecodeError);
  assert.throws(() => groth16.decodeKey(Uint8Array.of(...KEY, 0)), groth16.DecodeError);
  assert.throws(() => groth16.decodeInputs(INPUTS.slice(1)), groth16.DecodeError);
  assert.throws(() => groth16.decodeInputs(le(groth16.R, 32)), groth16.DecodeError);
  const infinityWithX = new Uint8Array(32);
  infinityWithX[0] = 1;
  infinityWithX[31] = 0x40;
  assert.throws(() => groth16.decodeG1(infinityWithX), groth16.DecodeError);
  assert.throws(() => groth16.decodeG1(le(groth16.P, 32)), groth16.DecodeError);
  assert.equal(groth16.verifyEncoded(KEY, PROOF.slice(1), INPUTS), false);
});

test('an x off the curve, or a G2 point outside the subgroup, is refused', () => {
  // x = 0 gives y² = 3 on G1 (no square root modulo p: 3 is a non-residue).
  assert.throws(() => groth16.decodeG1(new Uint8Array(32)), /not on the curve/);
  // Some x on the twist whose point is not of order r: search from 1.
  let found = false;
  for (let x = 1n; x < 64n && !found; x++) {
    const raw = new Uint8Array(64);
    raw.set(le(x, 32));
    try {
      groth16.decodeG2(raw);
    } catch (e) {
      if (/subgroup/.test(e.message)) found = true;
    }
  }
  assert.ok(found, 'a twist point outside the prime-order subgroup was found and refused');
});

test('a key with γ = δ is refused: any statement would verify', () => {
  const bad = KEY.slice();
  bad.set(KEY.slice(96, 160), 160);
  assert.throws(() => groth16.decodeKey(bad), /γ = ±δ/);
});
