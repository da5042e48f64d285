"""Checks of the signatures OPG's keys make (sr25519, Substrate's ``substrate`` context)."""

from __future__ import annotations

import hashlib

import sr25519

from opg import messages


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
