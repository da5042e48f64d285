"""Checks of the signatures OPG's keys make (sr25519, Substrate's ``substrate`` context)."""

from __future__ import annotations

import hashlib

import sr25519

from opg import merkle, messages


def verify(public, message: bytes, signature) -> bool:
    """Whether ``signature`` (64 bytes or ``0x`` hex) is ``public``'s (32 bytes) sr25519
    signature of ``message``. Malformed keys or signatures are ``False``, not errors."""
    try:
        key = messages.hash32(public)
        raw = messages.raw_bytes(signature)
    except ValueError:
        return False
    if len(raw) != 64:
        return False
    try:
        return bool(sr25519.verify(raw, bytes(message), key))
    except (ValueError, TypeError):
        return False


def verify_direct_answer(*, genesis, model_hash, path: str, body: bytes, response: bytes,
                         cumulative: int, signature, node) -> bool:
    """Whether a direct call's answer carries node key ``node``'s evidence: its signature
    over :func:`opg.messages.direct_answer` of this call (``path`` and ``body`` as sent),
    this response's SHA-256 and the voucher's cumulative amount (0 when unpaid)."""
    message = messages.direct_answer(genesis, model_hash, messages.call_digest(path, body),
                                     hashlib.sha256(response).digest(), cumulative)
    return verify(node, message, signature)


def verify_llm_answer(*, genesis, model_hash, path: str, body: bytes, text: str, seed: int,
                      cumulative: int, signature, node) -> bool:
    """Whether a language model's answer carries node key ``node``'s evidence (docs/llm.md):
    its signature over :func:`opg.messages.llm_answer` of this call (``path`` and the exact
    request ``body``), the SHA-256 of the answer's ``text`` (UTF-8), the sampling ``seed``
    and the voucher's cumulative amount (0 when unpaid). ``genesis`` is 32 zero bytes for an
    executor serving without a chain."""
    message = messages.llm_answer(genesis, model_hash, messages.call_digest(path, body),
                                  hashlib.sha256(text.encode()).digest(), seed, cumulative)
    return verify(node, message, signature)


def verify_llm_activations(*, genesis, model_hash, path: str, body: bytes, text: str, seed: int,
                           tokens, commitments, signature, node) -> bool:
    """Whether a language model's answer's activation commitments (``opg.activations``:
    ``tokens``, ``commitments`` as bytes) carry node key ``node``'s signature over
    :func:`opg.messages.llm_activations` of this call, text and seed (docs/verification.md):
    what a verification node checks the answer against, and holds the node to."""
    try:
        digest = messages.activations_digest(tokens, commitments)
    except (ValueError, TypeError, OverflowError):
        return False
    message = messages.llm_activations(genesis, model_hash, messages.call_digest(path, body),
                                       hashlib.sha256(text.encode()).digest(), seed, digest)
    return verify(node, message, signature)


def verify_result(*, genesis, request: int, model_hash, input_hash, output_hash, signature, node) -> bool:
    """Whether an individually settled on-chain result (``inference.results(id)``) carries
    its node key's signature over :func:`opg.messages.result`."""
    return verify(node, messages.result(genesis, request, model_hash, input_hash, output_hash), signature)


def verify_batch_inclusion(*, genesis, request: int, input_hash, output_hash, root, leaf_count: int,
                           index: int, siblings, signature, node) -> bool:
    """Whether a result settled in a batch is in it: the node key's signature over
    :func:`opg.messages.batch` of ``root`` and ``leaf_count``, and the result's leaf at
    ``index`` under that root by ``siblings`` (the chain's ``inference_batchProof``)."""
    leaf = merkle.result_leaf(request, input_hash, output_hash)
    proof = merkle.Proof(index, leaf_count, tuple(messages.hash32(s) for s in siblings))
    return (verify(node, messages.batch(genesis, root, leaf_count), signature)
            and merkle.verify(root, leaf, proof))
