"""opg.evidence's checks of whole answers: each accepts its own evidence and refuses any
part changed."""

import hashlib
import json
import pathlib

import sr25519

from opg import evidence, merkle, messages

SEED = bytes.fromhex(json.loads((pathlib.Path(__file__).resolve().parents[3]
                                 / "primitives/settlement/vectors/messages.json").read_text())
                     ["signer"]["seed"].removeprefix("0x"))
KEYPAIR = sr25519.pair_from_seed(SEED)
NODE = KEYPAIR[0]
GENESIS = b"\x11" * 32


def sign(message):
    return sr25519.sign(KEYPAIR, message)


def test_a_language_model_answer_verifies_only_as_signed():
    model, path, body, text = b"\xa1" * 32, "/v1/chat/completions", b'{"messages":[]}', "Paris."
    message = messages.llm_answer(GENESIS, model, messages.call_digest(path, body),
                                  hashlib.sha256(text.encode()).digest(), 42, 0)
    check = dict(genesis=GENESIS, model_hash=model, path=path, body=body, text=text, seed=42,
                 cumulative=0, signature=sign(message), node=NODE)
    assert evidence.verify_llm_answer(**check)
    for changed in ({"text": "Paris!"}, {"seed": 43}, {"cumulative": 1}, {"body": body + b" "},
                    {"path": "/v1/completions"}, {"model_hash": b"\xa2" * 32}, {"genesis": bytes(32)}):
        assert not evidence.verify_llm_answer(**{**check, **changed}), changed


def test_an_on_chain_result_verifies_only_as_signed():
    fields = dict(genesis=GENESIS, request=7, model_hash=b"\xaa" * 32, input_hash=b"\xbb" * 32,
                  output_hash=b"\xcc" * 32)
    signature = sign(messages.result(**fields))
    assert evidence.verify_result(**fields, signature=signature, node=NODE)
    assert not evidence.verify_result(**{**fields, "request": 8}, signature=signature, node=NODE)
    assert not evidence.verify_result(**{**fields, "output_hash": b"\xcd" * 32}, signature=signature, node=NODE)


def test_a_batched_result_is_included_only_under_its_signed_root():
    rows = [(i, hashlib.sha256(bytes([i])).digest(), bytes([i]) * 32) for i in range(5)]
    leaves = [merkle.result_leaf(*row) for row in rows]
    root = merkle.root(leaves)
    signature = sign(messages.batch(GENESIS, root, 5))
    request, input_hash, output_hash = rows[3]
    proof = merkle.proof(leaves, 3)
    check = dict(genesis=GENESIS, request=request, input_hash=input_hash, output_hash=output_hash,
                 root=root, leaf_count=5, index=3, siblings=proof.siblings, signature=signature, node=NODE)
    assert evidence.verify_batch_inclusion(**check)
    assert not evidence.verify_batch_inclusion(**{**check, "output_hash": b"\x00" * 32})
    assert not evidence.verify_batch_inclusion(**{**check, "index": 2})
    assert not evidence.verify_batch_inclusion(**{**check, "leaf_count": 6})
    assert not evidence.verify_batch_inclusion(**{**check, "genesis": bytes(32)})


def test_the_activations_digest_is_the_documented_preimages_sha256():
    commitment = bytes([5]) * 258
    preimage = b"".join(n.to_bytes(4, "little") for n in (2, 7, 9, 1)) + commitment
    assert messages.activations_digest([7, 9], [commitment]) == hashlib.sha256(preimage).digest()
    assert messages.activations_digest([7, 9], ["0x" + commitment.hex()]) == hashlib.sha256(preimage).digest()


def test_activation_commitments_verify_only_as_signed():
    import base64

    from opg.gateway import LlmAnswer

    model, path, body, text = b"\xa1" * 32, "/v1/chat/completions", b'{"messages":[]}', "Paris."
    tokens, commitments = [504, 3458], [bytes([1]) * 258, bytes([2]) * 258]
    digest = messages.activations_digest(tokens, commitments)
    message = messages.llm_activations(GENESIS, model, messages.call_digest(path, body),
                                       hashlib.sha256(text.encode()).digest(), 42, digest)
    check = dict(genesis=GENESIS, model_hash=model, path=path, body=body, text=text, seed=42,
                 tokens=tokens, commitments=commitments, signature=sign(message), node=NODE)
    assert evidence.verify_llm_activations(**check)
    for changed in ({"text": "Paris!"}, {"seed": 43}, {"tokens": [504, 3459]}, {"tokens": [504]},
                    {"commitments": commitments[:1]}, {"commitments": [commitments[1], commitments[0]]},
                    {"body": body + b" "}, {"model_hash": b"\xa2" * 32}, {"tokens": [-1]}):
        assert not evidence.verify_llm_activations(**{**check, **changed}), changed
    # As an answer carries them (opg.activations).
    opg = {"seed": "42", "model_hash": "0x" + model.hex(), "node": "0x" + NODE.hex(),
           "activations": {"commitments": [base64.b64encode(c).decode() for c in commitments],
                           "tokens": tokens, "digest": "0x" + digest.hex(),
                           "signature": "0x" + sign(message).hex()}}
    answer = LlmAnswer.of(GENESIS, path, body, text, opg, None)
    assert answer.verify_activations()
    assert not LlmAnswer.of(GENESIS, path, body, "Lyon.", opg, None).verify_activations()
    opg["activations"]["commitments"][0] = "not base64!"
    assert not LlmAnswer.of(GENESIS, path, body, text, opg, None).verify_activations()
    assert not LlmAnswer.of(GENESIS, path, body, text, {**opg, "activations": None}, None).verify_activations()
