"""Groth16 over BN254, as the runtime checks a ZKML result (``opg_zk_verifier``).

Encodings are arkworks' compressed canonical ones (docs/zkml.md): a G1 point is its x in
32 little-endian bytes, a G2 point its x = c0 + c1·u as c0 then c1 (32 little-endian
bytes each); the two top bits of a point's last byte are its flags (bit 7: y is the larger
of ±y, bit 6: the point at infinity). A proof is A (G1), B (G2), C (G1): 128 bytes. A
verifying key is α (G1), β, γ, δ (G2), then the input bases as a u64 little-endian count
and that many G1 points. Public inputs are BN254 scalars, 32 little-endian bytes each,
canonical (below the group order). Decoding checks every point is on its curve and, for
G2, in the prime-order subgroup; the key is refused, as the runtime refuses it, when a
point is zero or γ = ±δ.

The statement (:func:`statement`) is rebuilt from the job, the input (or the commitment
the chain recorded) and the output, as docs/zkml.md specifies it. The pairings are PyPI's
``py_ecc`` (pure Python, about a second a proof): for checking
answers, not for throughput.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from py_ecc import optimized_bn128 as bn

from opg._poseidon_constants import ARK, MDS
from opg.messages import hash32, le_bytes

P = bn.field_modulus
R = bn.curve_order
#: The statement's domain for the job binding (``opg_zk_verifier::JOB_DOMAIN``).
JOB_DOMAIN = b"opg-zk/job/v1"
#: The input commitment's domain tag, absorbed first as a field element.
INPUT_DOMAIN = b"opg-zk/input/v1"
#: Bytes per packed field element.
BYTES_PER_ELEMENT = 31
PROOF_LEN = 128


class DecodeError(ValueError):
    """Bytes that are not a canonical encoding of a key, proof, point or scalar."""


def _field(raw: bytes) -> int:
    value = int.from_bytes(raw, "little")
    if value >= P:
        raise DecodeError("a coordinate is not below the field modulus")
    return value


def _larger(y, minus_y) -> bool:
    """Whether ``y`` > ``-y`` in arkworks' order (for Fq2: c1 first, then c0)."""
    if isinstance(y, bn.FQ2):
        a, b = [int(c) for c in y.coeffs], [int(c) for c in minus_y.coeffs]
        return (a[1], a[0]) > (b[1], b[0])
    return int(y) > int(minus_y)


def _sqrt_fq2(a: bn.FQ2):
    """A square root in Fq2 (p ≡ 3 mod 4), or ``None``."""
    a1 = a ** ((P - 3) // 4)
    alpha = a1 * a1 * a
    x0 = a1 * a
    minus_one = bn.FQ2([P - 1, 0])
    if alpha == minus_one:
        x = bn.FQ2([0, 1]) * x0
    else:
        x = (bn.FQ2.one() + alpha) ** ((P - 1) // 2) * x0
    return x if x * x == a else None


def _sqrt_fq(a: bn.FQ):
    x = a ** ((P + 1) // 4)
    return x if x * x == a else None


def _point(x, flags: int, b, sqrt, zero):
    if flags & 0x40:
        if x != type(x).zero() or flags & 0x80:
            raise DecodeError("a point at infinity with a coordinate or sign")
        return zero
    y = sqrt(x * x * x + b)
    if y is None:
        raise DecodeError("x is not on the curve")
    if _larger(y, -y) != bool(flags & 0x80):
        y = -y
    return (x, y, type(x).one())


def decode_g1(raw: bytes):
    """A compressed G1 point (32 bytes)."""
    if len(raw) != 32:
        raise DecodeError("a G1 point is 32 bytes")
    flags = raw[31] & 0xC0
    x = bn.FQ(_field(raw[:31] + bytes([raw[31] & 0x3F])))
    return _point(x, flags, bn.b, _sqrt_fq, bn.Z1)


def decode_g2(raw: bytes):
    """A compressed G2 point (64 bytes), checked to be in the prime-order subgroup."""
    if len(raw) != 64:
        raise DecodeError("a G2 point is 64 bytes")
    flags = raw[63] & 0xC0
    x = bn.FQ2([_field(raw[:32]), _field(raw[32:63] + bytes([raw[63] & 0x3F]))])
    point = _point(x, flags, bn.b2, _sqrt_fq2, bn.Z2)
    if not bn.is_inf(point) and not bn.is_inf(bn.multiply(point, R)):
        raise DecodeError("a G2 point outside the prime-order subgroup")
    return point


@dataclass(frozen=True)
class VerifyingKey:
    """A decoded verifying key: α, β, γ, δ and the input bases (one more than the inputs)."""

    alpha: tuple
    beta: tuple
    gamma: tuple
    delta: tuple
    bases: tuple

    @property
    def public_inputs(self) -> int:
        """How many public inputs the key's statement has."""
        return len(self.bases) - 1


def decode_key(raw: bytes) -> VerifyingKey:
    """A compressed verifying key, refused as the runtime refuses it."""
    if len(raw) < 32 + 3 * 64 + 8:
        raise DecodeError("a verifying key is at least 232 bytes")
    count = int.from_bytes(raw[224:232], "little")
    if len(raw) != 232 + 32 * count:
        raise DecodeError("the key's length is not its input bases'")
    key = VerifyingKey(
        decode_g1(raw[:32]), decode_g2(raw[32:96]), decode_g2(raw[96:160]), decode_g2(raw[160:224]),
        tuple(decode_g1(raw[232 + 32 * i:264 + 32 * i]) for i in range(count)))
    if any(bn.is_inf(p) for p in (key.alpha, key.beta, key.gamma, key.delta)):
        raise DecodeError("a key point is zero")
    if bn.eq(key.gamma, key.delta) or bn.eq(key.gamma, bn.neg(key.delta)):
        raise DecodeError("γ = ±δ: any statement would verify")
    if key.public_inputs < 1:
        raise DecodeError("a key without public inputs")
    return key


def decode_proof(raw: bytes):
    """A compressed proof (A, B, C) of exactly 128 bytes."""
    if len(raw) != PROOF_LEN:
        raise DecodeError(f"a proof is {PROOF_LEN} bytes")
    return decode_g1(raw[:32]), decode_g2(raw[32:96]), decode_g1(raw[96:])


def decode_inputs(raw: bytes) -> list[int]:
    """Public inputs: canonical scalars of 32 little-endian bytes each."""
    if len(raw) % 32:
        raise DecodeError("public inputs are 32 bytes each")
    values = [int.from_bytes(raw[i:i + 32], "little") for i in range(0, len(raw), 32)]
    if any(v >= R for v in values):
        raise DecodeError("a public input is not below the group order")
    return values


def verify(key: VerifyingKey, proof, inputs: list[int]) -> bool:
    """Whether e(A, B) = e(α, β) · e(Σ xᵢ·ICᵢ, γ) · e(C, δ) (``False`` for the wrong arity)."""
    if len(inputs) != key.public_inputs or any(not 0 <= x < R for x in inputs):
        return False
    a, b, c = proof
    ic = key.bases[0]
    for x, base in zip(inputs, key.bases[1:]):
        ic = bn.add(ic, bn.multiply(base, x))
    product = (bn.pairing(b, a, final_exponentiate=False)
               * bn.pairing(key.beta, bn.neg(key.alpha), final_exponentiate=False)
               * bn.pairing(key.gamma, bn.neg(ic), final_exponentiate=False)
               * bn.pairing(key.delta, bn.neg(c), final_exponentiate=False))
    return bn.final_exponentiate(product) == bn.FQ12.one()


def verify_encoded(key: bytes, proof: bytes, inputs: bytes) -> bool:
    """:func:`verify` on encodings; malformed ones are ``False``."""
    try:
        return verify(decode_key(key), decode_proof(proof), decode_inputs(inputs))
    except DecodeError:
        return False


def job_binding(genesis, request: int, node) -> int:
    """The statement's first input: blake2b-256(``JOB_DOMAIN`` ‖ genesis ‖ u64 request ‖
    node key), little-endian, reduced modulo the group order."""
    digest = hashlib.blake2b(JOB_DOMAIN + hash32(genesis) + le_bytes(request, 8) + hash32(node),
                             digest_size=32).digest()
    return int.from_bytes(digest, "little") % R


def pack_bytes(data: bytes) -> list[int]:
    """Bytes as field elements: each byte XOR 0x80, 31 per element, little-endian."""
    flipped = bytes(b ^ 0x80 for b in data)
    return [int.from_bytes(flipped[i:i + BYTES_PER_ELEMENT], "little")
            for i in range(0, len(flipped), BYTES_PER_ELEMENT)]


def packed_output(output: bytes) -> list[int]:
    """The statement's output elements: :func:`pack_bytes` of the output."""
    return pack_bytes(output)


def _poseidon_permute(state: list[int]) -> list[int]:
    full, partial = 8, 57
    for round_ in range(full + partial):
        state = [(x + c) % R for x, c in zip(state, ARK[round_])]
        if round_ < full // 2 or round_ >= full // 2 + partial:
            state = [pow(x, 5, R) for x in state]
        else:
            state[0] = pow(state[0], 5, R)
        state = [sum(m * x for m, x in zip(row, state)) % R for row in MDS]
    return state


def input_commitment(data: bytes) -> int:
    """The statement's second input: a Poseidon sponge (width 3, rate 2, capacity 1, x⁵)
    absorbing the domain tag, the input's length and :func:`pack_bytes` of the input, and
    squeezing one element, as arkworks' ``PoseidonSponge`` does."""
    elements = [int.from_bytes(INPUT_DOMAIN, "little") % R, len(data)] + pack_bytes(data)
    state, rate, capacity, index = [0, 0, 0], 2, 1, 0
    for element in elements:
        if index == rate:
            state = _poseidon_permute(state)
            index = 0
        state[capacity + index] = (state[capacity + index] + element) % R
        index += 1
    return _poseidon_permute(state)[capacity]


def statement(*, genesis, request: int, node, input_: bytes | None = None, commitment: int | None = None,
              output: bytes) -> list[int]:
    """The public inputs of a ZKML result (statement version 1): the job binding, the input
    commitment (of ``input_``, or as the chain recorded it in ``inputCommitments``) and the
    packed output."""
    if (input_ is None) == (commitment is None):
        raise ValueError("give the input or its commitment, not both")
    if commitment is None:
        commitment = input_commitment(input_)
    return [job_binding(genesis, request, node), commitment] + packed_output(output)
