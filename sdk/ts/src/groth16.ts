// Groth16 over BN254, as the runtime checks a ZKML result (`opg_zk_verifier`), and the
// statement a ZKML result proves (docs/zkml.md), rebuilt from the job, the input (or the
// commitment the chain recorded) and the output.
//
// Encodings are arkworks' compressed canonical ones: a G1 point is its x in 32 little-
// endian bytes, a G2 point its x = c0 + c1·u as c0 then c1; the two top bits of a point's
// last byte are its flags (bit 7: y is the larger of ±y, bit 6: the point at infinity). A
// proof is A (G1), B (G2), C (G1): 128 bytes. A verifying key is α (G1), β, γ, δ (G2), then
// a u64 count and that many G1 input bases. Public inputs are canonical scalars, 32 little-
// endian bytes each. Decoding checks every point is on its curve and, for G2, in the
// prime-order subgroup; a key with a zero point or γ = ±δ is refused, as the runtime refuses it.
import { bn254 } from '@noble/curves/bn254';
import { blake2b } from '@noble/hashes/blake2';
import { type BytesLike, bytes, concat, fromLe, hash32, le, utf8 } from './bytes.js';
import { ARK, MDS } from './generated/poseidon.js';

const { Fp, Fp2, Fp12 } = bn254.fields;
const G1 = bn254.G1.Point;
const G2 = bn254.G2.Point;
type G1Point = InstanceType<typeof G1>;
type G2Point = InstanceType<typeof G2>;
type Fp2T = ReturnType<typeof Fp2.fromBigTuple>;

/** The base field's modulus and the group order (the scalars'). */
export const P = Fp.ORDER;
export const R = bn254.fields.Fr.ORDER;
/** The statement's domain for the job binding (`opg_zk_verifier::JOB_DOMAIN`). */
export const JOB_DOMAIN = 'opg-zk/job/v1';
/** The input commitment's domain tag, absorbed first as a field element. */
export const INPUT_DOMAIN = 'opg-zk/input/v1';
export const BYTES_PER_ELEMENT = 31;
export const PROOF_LEN = 128;

/** Bytes that are not a canonical encoding of a key, proof, point or scalar. */
export class DecodeError extends Error {}

function field(raw: Uint8Array): bigint {
  const value = fromLe(raw);
  if (value >= P) throw new DecodeError('a coordinate is not below the field modulus');
  return value;
}

/** Whether y > −y in arkworks' order (for Fp2: c1 first, then c0). */
function larger2(y: Fp2T, minus: Fp2T): boolean {
  return y.c1 !== minus.c1 ? y.c1 > minus.c1 : y.c0 > minus.c0;
}

export function decodeG1(raw: Uint8Array): G1Point {
  if (raw.length !== 32) throw new DecodeError('a G1 point is 32 bytes');
  const flags = raw[31] & 0xc0;
  const xBytes = raw.slice();
  xBytes[31] &= 0x3f;
  const x = field(xBytes);
  if (flags & 0x40) {
    if (x !== 0n || flags & 0x80) throw new DecodeError('a point at infinity with a coordinate or sign');
    return G1.ZERO;
  }
  const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), 3n);
  let y: bigint;
  try {
    y = Fp.sqrt(rhs);
  } catch {
    throw new DecodeError('x is not on the curve');
  }
  if (Fp.sqr(y) !== rhs) throw new DecodeError('x is not on the curve');
  const minus = Fp.neg(y);
  if ((y > minus) !== Boolean(flags & 0x80)) y = minus;
  const point = G1.fromAffine({ x, y });
  point.assertValidity();
  return point;
}

/** The twist's b: 3 / (9 + u). */
const B2 = Fp2.div(Fp2.fromBigTuple([3n, 0n]), Fp2.fromBigTuple([9n, 1n]));

export function decodeG2(raw: Uint8Array): G2Point {
  if (raw.length !== 64) throw new DecodeError('a G2 point is 64 bytes');
  const flags = raw[63] & 0xc0;
  const c1Bytes = raw.slice(32);
  c1Bytes[31] &= 0x3f;
  const x = Fp2.fromBigTuple([field(raw.slice(0, 32)), field(c1Bytes)]);
  if (flags & 0x40) {
    if (!Fp2.is0(x) || flags & 0x80) throw new DecodeError('a point at infinity with a coordinate or sign');
    return G2.ZERO;
  }
  const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), B2);
  let y: Fp2T;
  try {
    y = Fp2.sqrt(rhs);
  } catch {
    throw new DecodeError('x is not on the curve');
  }
  if (!Fp2.eql(Fp2.sqr(y), rhs)) throw new DecodeError('x is not on the curve');
  const minus = Fp2.neg(y);
  if (larger2(y, minus) !== Boolean(flags & 0x80)) y = minus;
  const point = G2.fromAffine({ x, y });
  // On the curve, then in the prime-order subgroup: [r]P = 0, as [r−1]P + P.
  point.assertValidity();
  if (!point.multiplyUnsafe(R - 1n).add(point).is0()) throw new DecodeError('a G2 point outside the prime-order subgroup');
  return point;
}

export interface VerifyingKey {
  alpha: G1Point;
  beta: G2Point;
  gamma: G2Point;
  delta: G2Point;
  /** The input bases: one more than the public inputs. */
  bases: G1Point[];
}

export function decodeKey(raw: Uint8Array): VerifyingKey {
  if (raw.length < 232) throw new DecodeError('a verifying key is at least 232 bytes');
  const count = fromLe(raw.slice(224, 232));
  if (BigInt(raw.length) !== 232n + 32n * count) throw new DecodeError("the key's length is not its input bases'");
  const bases: G1Point[] = [];
  for (let i = 0; i < Number(count); i++) bases.push(decodeG1(raw.slice(232 + 32 * i, 264 + 32 * i)));
  const key = {
    alpha: decodeG1(raw.slice(0, 32)), beta: decodeG2(raw.slice(32, 96)), gamma: decodeG2(raw.slice(96, 160)),
    delta: decodeG2(raw.slice(160, 224)), bases,
  };
  if (key.alpha.is0() || key.beta.is0() || key.gamma.is0() || key.delta.is0()) throw new DecodeError('a key point is zero');
  if (key.gamma.equals(key.delta) || key.gamma.equals(key.delta.negate())) {
    throw new DecodeError('γ = ±δ: any statement would verify');
  }
  if (bases.length < 2) throw new DecodeError('a key without public inputs');
  return key;
}

export interface Proof {
  a: G1Point;
  b: G2Point;
  c: G1Point;
}

export function decodeProof(raw: Uint8Array): Proof {
  if (raw.length !== PROOF_LEN) throw new DecodeError(`a proof is ${PROOF_LEN} bytes`);
  return { a: decodeG1(raw.slice(0, 32)), b: decodeG2(raw.slice(32, 96)), c: decodeG1(raw.slice(96)) };
}

export function decodeInputs(raw: Uint8Array): bigint[] {
  if (raw.length % 32 !== 0) throw new DecodeError('public inputs are 32 bytes each');
  const values: bigint[] = [];
  for (let i = 0; i < raw.length; i += 32) values.push(fromLe(raw.slice(i, i + 32)));
  if (values.some((v) => v >= R)) throw new DecodeError('a public input is not below the group order');
  return values;
}

/** Whether e(A, B) = e(α, β) · e(Σ xᵢ·ICᵢ, γ) · e(C, δ) (`false` for the wrong arity). */
export function verify(key: VerifyingKey, proof: Proof, inputs: bigint[]): boolean {
  if (inputs.length !== key.bases.length - 1 || inputs.some((x) => x < 0n || x >= R)) return false;
  let ic = key.bases[0];
  inputs.forEach((x, i) => {
    if (x !== 0n) ic = ic.add(key.bases[i + 1].multiplyUnsafe(x));
  });
  // Pairs with a zero point contribute 1 (noble refuses to pair the point at infinity).
  const pairs = [
    { g1: proof.a, g2: proof.b },
    { g1: key.alpha.negate(), g2: key.beta },
    { g1: ic.negate(), g2: key.gamma },
    { g1: proof.c.negate(), g2: key.delta },
  ].filter(({ g1, g2 }) => !g1.is0() && !g2.is0());
  return Fp12.eql(bn254.pairingBatch(pairs), Fp12.ONE);
}

/** `verify` on encodings; malformed ones are `false`. */
export function verifyEncoded(key: Uint8Array, proof: Uint8Array, inputs: Uint8Array): boolean {
  try {
    return verify(decodeKey(key), decodeProof(proof), decodeInputs(inputs));
  } catch (e) {
    if (e instanceof DecodeError) return false;
    throw e;
  }
}

/** The statement's first input: blake2b-256(JOB_DOMAIN ‖ genesis ‖ u64 request ‖ node key) mod r. */
export function jobBinding(genesis: BytesLike, request: bigint | number | string, node: BytesLike): bigint {
  const digest = blake2b(concat(utf8(JOB_DOMAIN), hash32(genesis), le(request, 8), hash32(node)), { dkLen: 32 });
  return fromLe(digest) % R;
}

/** Bytes as field elements: each byte XOR 0x80, 31 per element, little-endian. */
export function packBytes(data: Uint8Array): bigint[] {
  const flipped = data.map((b) => b ^ 0x80);
  const out: bigint[] = [];
  for (let i = 0; i < flipped.length; i += BYTES_PER_ELEMENT) out.push(fromLe(flipped.slice(i, i + BYTES_PER_ELEMENT)));
  return out;
}

const mod = (x: bigint) => ((x % R) + R) % R;
const pow5 = (x: bigint) => {
  const x2 = (x * x) % R;
  return (((x2 * x2) % R) * x) % R;
};

function permute(input: bigint[]): bigint[] {
  const full = 8;
  const partial = 57;
  let state = input.slice();
  for (let round = 0; round < full + partial; round++) {
    state = state.map((x, i) => mod(x + ARK[round][i]));
    if (round < full / 2 || round >= full / 2 + partial) state = state.map(pow5);
    else state[0] = pow5(state[0]);
    state = MDS.map((row) => mod(row.reduce((sum, m, i) => sum + m * state[i], 0n)));
  }
  return state;
}

/**
 * The statement's second input: a Poseidon sponge (width 3, rate 2, capacity 1, x⁵)
 * absorbing the domain tag, the input's length and `packBytes` of the input, squeezing one
 * element, as arkworks' `PoseidonSponge` does.
 */
export function inputCommitment(data: Uint8Array): bigint {
  const elements = [fromLe(utf8(INPUT_DOMAIN)) % R, BigInt(data.length), ...packBytes(data)];
  let state = [0n, 0n, 0n];
  const rate = 2;
  const capacity = 1;
  let index = 0;
  for (const element of elements) {
    if (index === rate) {
      state = permute(state);
      index = 0;
    }
    state[capacity + index] = mod(state[capacity + index] + element);
    index++;
  }
  return permute(state)[capacity];
}

/**
 * The public inputs of a ZKML result (statement version 1): the job binding, the input
 * commitment (of `input`, or the one the chain recorded) and the packed output.
 */
export function statement(a: { genesis: BytesLike; request: bigint | number | string; node: BytesLike;
  input?: Uint8Array; commitment?: bigint; output: Uint8Array }): bigint[] {
  if ((a.input === undefined) === (a.commitment === undefined)) throw new Error('give the input or its commitment, not both');
  const commitment = a.commitment ?? inputCommitment(a.input as Uint8Array);
  return [jobBinding(a.genesis, a.request, a.node), commitment, ...packBytes(bytes(a.output))];
}
