"""opg.groth16 on opg-zk's committed fixture (zk/verifier/fixtures): a real proof verifies,
its statement is recomputed, and what the runtime refuses is refused."""

import pathlib
import re

import pytest

from opg import _poseidon_constants, groth16

ROOT = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "zk/verifier/fixtures"
KEY = (FIXTURES / "verifying.key").read_bytes()
PROOF = (FIXTURES / "proof.bin").read_bytes()
INPUTS = (FIXTURES / "public-inputs.bin").read_bytes()
# The fixture's job (zk/prover/src/tests.rs, fixture_is_current): genesis 0x11…, request 7,
# node 0x22…, on the 784-56-10 model of `generate(&[784, 56, 10], 1)` and input bytes
# (i·7) mod 256. Its output, from `opg-executor generate --widths 784,56,10 --seed 1` and
# `opg-zk eval MODEL --input …`, and its input commitment, from `opg-zk commit`:
OUTPUT = bytes.fromhex("fe04fb000102030001fa")
COMMITMENT = bytes.fromhex("a45dbbcff1499bda25526e4910375c8babe8c8491d07d33507d40328b087520b")


@pytest.fixture(scope="module")
def key():
    return groth16.decode_key(KEY)


def test_the_fixture_proof_verifies(key):
    assert key.public_inputs == 3
    assert groth16.verify(key, groth16.decode_proof(PROOF), groth16.decode_inputs(INPUTS))
    assert groth16.verify_encoded(KEY, PROOF, INPUTS)


def test_the_statement_is_recomputed_from_the_job_the_input_and_the_output():
    binding, commitment, output = groth16.decode_inputs(INPUTS)
    assert binding == groth16.job_binding(b"\x11" * 32, 7, b"\x22" * 32)
    assert commitment == int.from_bytes(COMMITMENT, "little")
    assert [output] == groth16.packed_output(OUTPUT)
    fixture_input = bytes((i * 7) % 256 for i in range(784))
    assert groth16.input_commitment(fixture_input) == commitment
    assert groth16.statement(genesis=b"\x11" * 32, request=7, node=b"\x22" * 32, input_=fixture_input,
                             output=OUTPUT) == groth16.decode_inputs(INPUTS)
    assert groth16.statement(genesis=b"\x11" * 32, request=7, node=b"\x22" * 32, commitment=commitment,
                             output=OUTPUT) == groth16.decode_inputs(INPUTS)
    with pytest.raises(ValueError):
        groth16.statement(genesis=b"\x11" * 32, request=7, node=b"\x22" * 32, output=OUTPUT)


# `opg-zk commit` of inputs (i·13 + 5) mod 256 of these lengths: 2 + ⌈n/31⌉ absorbed
# elements, odd and even, across the sponge's rate of 2.
COMMITMENTS = {
    0: "033e2686056fc0821c2cb4a4f26082de5193342bafad393a77c2e8ae2cc0f808",
    1: "f5caceb84d36f3e688076cb6f86fe603ae4c2eb60277c5aefa62fdb806991618",
    31: "c9a3ae1812b5acc12dadbc6e63a72558063e5df63273cbc6a38111dae5eb0924",
    32: "18ba34f49185c0c3d09d56e0773fe3edaad23a5ea48453ae38c0f9a0df45b710",
    62: "41a8648d72e099b37d832bec8063441df61aa90d29f05e18ab68ce7836e0fe09",
    93: "f97cf85b74f7d1029279001bea076e81dcd3ed67da85efe8531e68869628f904",
}


@pytest.mark.parametrize("length", COMMITMENTS)
def test_the_input_commitment_is_opg_zk_commits(length):
    data = bytes((i * 13 + 5) % 256 for i in range(length))
    assert groth16.input_commitment(data).to_bytes(32, "little").hex() == COMMITMENTS[length]
    assert groth16.input_commitment(data + b"\x00") != groth16.input_commitment(data)


def test_the_poseidon_constants_are_the_rust_verifiers():
    source = (ROOT / "zk/verifier/src/poseidon_constants.rs").read_text()

    def table(name):
        body = source[source.index(f"const {name}"):]
        start = body.index("= [") + 2
        limbs = [int(x) for x in re.findall(r"\d+", body[start:body.index("];", start)])]
        values = [sum(limbs[i + k] << (64 * k) for k in range(4)) for i in range(0, len(limbs), 4)]
        return [values[i:i + 3] for i in range(0, len(values), 3)]

    assert _poseidon_constants.ARK == table("ARK")
    assert _poseidon_constants.MDS == table("MDS")
    assert groth16.packed_output(bytes(31) + b"\x01") == [int.from_bytes(b"\x80" * 31, "little"), 0x81]


@pytest.mark.parametrize("index", range(3))
def test_a_changed_public_input_is_refused(key, index):
    inputs = groth16.decode_inputs(INPUTS)
    inputs[index] = (inputs[index] + 1) % groth16.R
    assert not groth16.verify(key, groth16.decode_proof(PROOF), inputs)


def test_another_job_or_a_wrong_arity_is_refused(key):
    proof = groth16.decode_proof(PROOF)
    _, commitment, output = groth16.decode_inputs(INPUTS)
    assert not groth16.verify(key, proof, [groth16.job_binding(b"\x11" * 32, 8, b"\x22" * 32), commitment, output])
    assert not groth16.verify(key, proof, [commitment, output])
    assert not groth16.verify(key, proof, groth16.decode_inputs(INPUTS) + [0])


def test_a_proof_with_its_points_swapped_or_a_sign_flipped_is_refused(key):
    swapped = PROOF[96:] + PROOF[32:96] + PROOF[:32]
    assert not groth16.verify_encoded(KEY, swapped, INPUTS)
    flipped = bytearray(PROOF)
    flipped[95] ^= 0x80  # B's sign: -B
    assert not groth16.verify_encoded(KEY, bytes(flipped), INPUTS)


def test_malformed_encodings_are_refused():
    assert not groth16.verify_encoded(KEY, PROOF[:-1], INPUTS)
    assert not groth16.verify_encoded(KEY[:-1], PROOF, INPUTS)
    with pytest.raises(groth16.DecodeError):
        groth16.decode_inputs(groth16.R.to_bytes(32, "little"))
    with pytest.raises(groth16.DecodeError):
        groth16.decode_inputs(INPUTS[:-1])
    with pytest.raises(groth16.DecodeError):
        groth16.decode_g1(groth16.P.to_bytes(32, "little"))
    with pytest.raises(groth16.DecodeError):  # infinity with a coordinate
        groth16.decode_g1(b"\x01" + bytes(30) + b"\x40")


def test_an_x_off_the_curve_or_a_g2_point_outside_the_subgroup_is_refused():
    off_curve = next(x for x in range(1, 100)
                     if groth16._sqrt_fq(groth16.bn.FQ(x) ** 3 + groth16.bn.b) is None)
    with pytest.raises(groth16.DecodeError, match="not on the curve"):
        groth16.decode_g1(off_curve.to_bytes(32, "little"))
    # Almost every point of the twist is outside the prime-order subgroup (a huge cofactor).
    for x in range(1, 100):
        encoded = x.to_bytes(32, "little") + bytes(32)
        try:
            groth16.decode_g2(encoded)
        except groth16.DecodeError as error:
            if "subgroup" in str(error):
                break
    else:
        pytest.fail("no point of the twist outside the subgroup among 99 x")


def test_a_key_with_gamma_equal_to_delta_is_refused():
    forged = KEY[:160] + KEY[96:160] + KEY[224:]
    with pytest.raises(groth16.DecodeError, match="γ = ±δ"):
        groth16.decode_key(forged)


def test_the_widest_key_decodes_with_64_public_inputs():
    assert groth16.decode_key((FIXTURES / "widest.key").read_bytes()).public_inputs == 64
