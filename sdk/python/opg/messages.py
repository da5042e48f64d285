"""The messages OPG's keys sign, byte for byte.

Each function returns what ``opg_settlement::message`` (Rust) builds for the same inputs:
a domain string, then fixed-width fields (32-byte hashes as they are, integers little
endian at the widths named). ``primitives/settlement/vectors/messages.json`` holds test
vectors of every one; ``tests/test_messages.py`` checks this module against them.
Hashes are ``bytes`` of length 32 (or ``0x`` hex strings); integers are ``int``.
"""

from __future__ import annotations

import hashlib

RESULT_DOMAIN = b"opg/inference-result/v1"
BATCH_DOMAIN = b"opg/inference-batch/v1"
REGISTRATION_DOMAIN = b"opg/node-registration/v1"
PROVENANCE_DOMAIN = b"opg/data-provenance/v1"
CANNOT_SERVE_DOMAIN = b"opg/cannot-serve/v1"
ARTIFACT_READ_DOMAIN = b"opg/artifact-read/v1"
HEARTBEAT_DOMAIN = b"opg/node-heartbeat/v1"
VOUCHER_DOMAIN = b"opg/channel-voucher/v1"
CHANNEL_SETTLEMENT_DOMAIN = b"opg/channel-settlement/v1"
DIRECT_ANSWER_DOMAIN = b"opg/direct-answer/v1"
LLM_ANSWER_DOMAIN = b"opg/llm-answer/v1"
LLM_ACTIVATIONS_DOMAIN = b"opg/llm-activations/v1"
VERDICT_COMMIT_DOMAIN = b"opg/verdict-commit/v1"
VERDICT_REVEAL_DOMAIN = b"opg/verdict-reveal/v1"
HONEYPOT_DOMAIN = b"opg/honeypot/v1"

#: ``cannot_serve`` reasons.
INPUT_UNAVAILABLE = 0
COMMITMENT_MISMATCH = 1


def raw_bytes(value: bytes | str) -> bytes:
    """Bytes, or ``0x`` hex decoded."""
    return bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)


def hash32(value: bytes | str) -> bytes:
    """A 32-byte hash from bytes or ``0x`` hex; anything else is a ``ValueError``."""
    raw = raw_bytes(value)
    if len(raw) != 32:
        raise ValueError(f"a hash is 32 bytes, not {len(raw)}")
    return raw


def le_bytes(value: int, width: int) -> bytes:
    """``value`` as ``width`` little-endian bytes; a value that does not fit is a ``ValueError``."""
    if not 0 <= value < 1 << (8 * width):
        raise ValueError(f"{value} does not fit {8 * width} unsigned bits")
    return value.to_bytes(width, "little")


def result(genesis, request: int, model_hash, input_hash, output_hash) -> bytes:
    """A node key's result of an on-chain request: genesis ‖ u64 request ‖ model ‖ input ‖ output hashes."""
    return (RESULT_DOMAIN + hash32(genesis) + le_bytes(request, 8) + hash32(model_hash)
            + hash32(input_hash) + hash32(output_hash))


def batch(genesis, root, leaf_count: int) -> bytes:
    """A node key's batch root: genesis ‖ Merkle root ‖ u32 leaf count."""
    return BATCH_DOMAIN + hash32(genesis) + hash32(root) + le_bytes(leaf_count, 4)


def registration(genesis, operator) -> bytes:
    """A node key's consent to serve for an operator account: genesis ‖ the operator's encoded account id."""
    return REGISTRATION_DOMAIN + hash32(genesis) + raw_bytes(operator)


def provenance(url: str, hash_, unix_ms: int) -> bytes:
    """An executor's statement that ``url`` served bytes of ``hash_`` at ``unix_ms``: u32 URL length ‖ URL ‖ hash ‖ u64 ms."""
    raw = url.encode()
    return PROVENANCE_DOMAIN + le_bytes(len(raw), 4) + raw + hash32(hash_) + le_bytes(unix_ms, 8)


def cannot_serve(genesis, request: int, input_hash, reason: int, detail) -> bytes:
    """A node key's refusal of a request: genesis ‖ u64 request ‖ input hash ‖ u8 reason ‖ detail (32 bytes)."""
    return (CANNOT_SERVE_DOMAIN + hash32(genesis) + le_bytes(request, 8) + hash32(input_hash)
            + le_bytes(reason, 1) + hash32(detail))


def artifact_read(hash_, not_after: int) -> bytes:
    """A requester's permission to read a private artifact: hash ‖ u64 unix seconds not after."""
    return ARTIFACT_READ_DOMAIN + hash32(hash_) + le_bytes(not_after, 8)


def heartbeat(genesis, at: int) -> bytes:
    """A node key's liveness: genesis ‖ u64 ``at``."""
    return HEARTBEAT_DOMAIN + hash32(genesis) + le_bytes(at, 8)


def voucher(genesis, channel: int, cumulative: int, call_digest) -> bytes:
    """A client's voucher: genesis ‖ u64 channel ‖ u128 cumulative amount ‖ call digest."""
    return (VOUCHER_DOMAIN + hash32(genesis) + le_bytes(channel, 8) + le_bytes(cumulative, 16)
            + hash32(call_digest))


def channel_settlement(genesis, channel: int, total: int, root, calls: int) -> bytes:
    """A node key's settlement of a channel: genesis ‖ u64 channel ‖ u128 total ‖ root ‖ u32 calls."""
    return (CHANNEL_SETTLEMENT_DOMAIN + hash32(genesis) + le_bytes(channel, 8) + le_bytes(total, 16)
            + hash32(root) + le_bytes(calls, 4))


def direct_answer(genesis, model_hash, call_digest, response_digest, cumulative: int) -> bytes:
    """A node key's evidence of a direct answer: genesis ‖ model ‖ call digest ‖ SHA-256(response) ‖ u128 cumulative."""
    return (DIRECT_ANSWER_DOMAIN + hash32(genesis) + hash32(model_hash) + hash32(call_digest)
            + hash32(response_digest) + le_bytes(cumulative, 16))


def llm_answer(genesis, model_hash, call_digest, response_digest, seed: int, cumulative: int) -> bytes:
    """A node key's evidence of a language model's answer: as :func:`direct_answer`, with the u64 seed before the amount."""
    return (LLM_ANSWER_DOMAIN + hash32(genesis) + hash32(model_hash) + hash32(call_digest)
            + hash32(response_digest) + le_bytes(seed, 8) + le_bytes(cumulative, 16))


def llm_activations(genesis, model_hash, call_digest, response_digest, seed: int, activations_digest) -> bytes:
    """A node key's signature of an LLM answer's activation commitments: genesis ‖ model ‖ call digest ‖ SHA-256(text) ‖ u64 seed ‖ activations digest."""
    return (LLM_ACTIVATIONS_DOMAIN + hash32(genesis) + hash32(model_hash) + hash32(call_digest)
            + hash32(response_digest) + le_bytes(seed, 8) + hash32(activations_digest))


def verdict_commit(genesis, case: int, commitment) -> bytes:
    """A verification node's commitment to its verdict on a case: genesis ‖ u64 case ‖ commitment."""
    return VERDICT_COMMIT_DOMAIN + hash32(genesis) + le_bytes(case, 8) + hash32(commitment)


def verdict_reveal(genesis, case: int, verdict: int, salt) -> bytes:
    """A verification node's revealed verdict: genesis ‖ u64 case ‖ u8 verdict (0 valid, 1 invalid) ‖ salt."""
    return VERDICT_REVEAL_DOMAIN + hash32(genesis) + le_bytes(case, 8) + le_bytes(verdict, 1) + hash32(salt)


def activations_digest(tokens, commitments) -> bytes:
    """What :func:`llm_activations` signs an answer's commitments under: SHA-256(u32 token
    count ‖ each token u32 ‖ u32 commitment count ‖ each commitment's bytes), all LE."""
    tokens, commitments = list(tokens), [raw_bytes(c) for c in commitments]
    preimage = le_bytes(len(tokens), 4) + b"".join(le_bytes(t, 4) for t in tokens)
    preimage += le_bytes(len(commitments), 4) + b"".join(commitments)
    return hashlib.sha256(preimage).digest()


def call_digest(path: str, body: bytes) -> bytes:
    """The digest of a direct call: SHA-256(u32 path length ‖ path ‖ body), ``path`` as asked (``/v1/infer/0x…``)."""
    raw = path.encode()
    return hashlib.sha256(le_bytes(len(raw), 4) + raw + bytes(body)).digest()


def honeypot(genesis, case: int, request: int) -> bytes:
    """A planted result's node and the honeypot authority show its case a honeypot: genesis ‖ u64 case ‖ u64 request."""
    return HONEYPOT_DOMAIN + hash32(genesis) + le_bytes(case, 8) + le_bytes(request, 8)
