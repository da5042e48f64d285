"""opg.messages and opg.evidence against the committed vectors of opg_settlement::message."""

import hashlib
import json
import pathlib

import pytest
import sr25519

from opg import evidence, messages

VECTORS = json.loads(
    (pathlib.Path(__file__).resolve().parents[3]
     / "primitives/settlement/vectors/messages.json").read_text())
SIGNER = VECTORS["signer"]["public"]


def build(vector) -> bytes:
    """The message a vector describes, built by opg.messages from its inputs."""
    i = vector["inputs"]
    kind = vector["message"]
    if kind == "result":
        return messages.result(i["genesis"], int(i["request"]), i["modelHash"], i["inputHash"], i["outputHash"])
    if kind == "batch":
        return messages.batch(i["genesis"], i["root"], int(i["leafCount"]))
    if kind == "registration":
        return messages.registration(i["genesis"], i["operator"])
    if kind == "provenance":
        return messages.provenance(i["url"], i["hash"], int(i["unixMs"]))
    if kind == "cannotServe":
        return messages.cannot_serve(i["genesis"], int(i["request"]), i["inputHash"], int(i["reason"]), i["detail"])
    if kind == "artifactRead":
        return messages.artifact_read(i["hash"], int(i["notAfter"]))
    if kind == "heartbeat":
        return messages.heartbeat(i["genesis"], int(i["at"]))
    if kind == "voucher":
        return messages.voucher(i["genesis"], int(i["channel"]), int(i["cumulative"]), i["callDigest"])
    if kind == "channelSettlement":
        return messages.channel_settlement(i["genesis"], int(i["channel"]), int(i["total"]), i["root"],
                                           int(i["calls"]))
    if kind == "directAnswer":
        return messages.direct_answer(i["genesis"], i["modelHash"], i["callDigest"], i["responseDigest"],
                                      int(i["cumulative"]))
    if kind == "llmAnswer":
        return messages.llm_answer(i["genesis"], i["modelHash"], i["callDigest"], i["responseDigest"],
                                   int(i["seed"]), int(i["cumulative"]))
    if kind == "llmActivations":
        return messages.llm_activations(i["genesis"], i["modelHash"], i["callDigest"], i["responseDigest"],
                                        int(i["seed"]), i["activationsDigest"])
    if kind == "verdictCommit":
        return messages.verdict_commit(i["genesis"], int(i["case"]), i["commitment"])
    if kind == "verdictReveal":
        return messages.verdict_reveal(i["genesis"], int(i["case"]), int(i["verdict"]), i["salt"])
    if kind == "honeypot":
        return messages.honeypot(i["genesis"], int(i["case"]), int(i["request"]))
    raise AssertionError(f"a message kind this module does not build: {kind}")


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_every_vector_is_built_byte_for_byte(vector):
    assert "0x" + build(vector).hex() == vector["bytes"]


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_every_vector_signature_verifies_under_the_signer(vector):
    assert evidence.verify(SIGNER, build(vector), vector["signature"])


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_a_signature_over_one_changed_byte_is_refused(vector):
    message = bytearray(build(vector))
    message[-1] ^= 1
    assert not evidence.verify(SIGNER, bytes(message), vector["signature"])


def test_every_message_kind_of_the_vectors_is_covered():
    kinds = {v["message"] for v in VECTORS["vectors"]}
    assert kinds == {"result", "batch", "registration", "provenance", "cannotServe", "artifactRead",
                     "heartbeat", "voucher", "channelSettlement", "directAnswer", "llmAnswer",
                     "llmActivations", "verdictCommit", "verdictReveal", "honeypot"}


def test_another_key_or_a_malformed_signature_is_refused():
    vector = VECTORS["vectors"][0]
    other = "0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48"  # Bob
    assert not evidence.verify(other, build(vector), vector["signature"])
    assert not evidence.verify(SIGNER, build(vector), vector["signature"][:-2])
    assert not evidence.verify(SIGNER[:-2], build(vector), vector["signature"])
    assert not evidence.verify(SIGNER, build(vector), "0x" + "00" * 64)


def test_fields_that_do_not_fit_their_widths_are_refused():
    genesis = "0x" + "11" * 32
    with pytest.raises(ValueError):
        messages.result(genesis, 1 << 64, genesis, genesis, genesis)
    with pytest.raises(ValueError):
        messages.voucher(genesis, 1, -1, genesis)
    with pytest.raises(ValueError):
        messages.batch(genesis, "0x" + "22" * 31, 1)


def test_a_direct_answer_verifies_only_for_its_own_call_and_response():
    keypair = sr25519.pair_from_seed(bytes.fromhex(VECTORS["signer"]["seed"].removeprefix("0x")))
    genesis, model = b"\x11" * 32, b"\xaa" * 32
    path, body, response = "/v1/infer/0x" + model.hex(), b"\x01\x02\x03", b"\x07" * 10
    message = messages.direct_answer(genesis, model, messages.call_digest(path, body),
                                     hashlib.sha256(response).digest(), 25)
    signature = sr25519.sign(keypair, message)
    node = keypair[0]
    check = dict(genesis=genesis, model_hash=model, path=path, body=body, response=response,
                 cumulative=25, signature=signature, node=node)
    assert evidence.verify_direct_answer(**check)
    assert not evidence.verify_direct_answer(**{**check, "response": b"\x07" * 9 + b"\x08"})
    assert not evidence.verify_direct_answer(**{**check, "body": b"\x01\x02\x04"})
    assert not evidence.verify_direct_answer(**{**check, "cumulative": 24})
    assert not evidence.verify_direct_answer(**{**check, "path": path + "0"})


def test_the_call_digest_prefixes_the_path_length():
    # The Rust test's case: the same bytes split differently between path and body differ.
    assert messages.call_digest("/v1/infer/0x01", b"ab") != messages.call_digest("/v1/infer/0x01a", b"b")
    # What the JS client (tests/node/lib/messages.mjs, callDigest) computes for the same call.
    assert messages.call_digest("/v1/infer/0x01", b"ab").hex() == (
        "d5e9a65298c1b8976a25a17145f23572f1b3a02d4e33edf1bb33619d87c0d7c6")
