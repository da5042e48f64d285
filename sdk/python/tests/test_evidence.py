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
