"""OPG's Merkle trees (``opg_settlement::merkle``): batch results and a channel's served calls.

Leaves and inner nodes are SHA-256 with a one-byte prefix, so that no leaf can pass for an
inner node: ``0x00`` for a batch result (:func:`result_leaf`), ``0x02`` for a call served
on a payment channel (:func:`served_call_leaf`), ``0x01`` for an inner node (left ‖ right).
A level of odd width carries its last hash up unchanged. A proof is the leaf's index, the
leaf count and the siblings from the leaf up (none where a hash was carried up), as the
chain's ``inference_batchProof`` and the executor's served-call proofs give them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from opg.messages import hash32, le_bytes


def result_leaf(request: int, input_hash, output_hash) -> bytes:
    """A batch result's leaf hash: SHA-256(0x00 ‖ u64 request ‖ input hash ‖ output hash)."""
    return hashlib.sha256(b"\x00" + le_bytes(request, 8) + hash32(input_hash) + hash32(output_hash)).digest()


def served_call_leaf(call_digest, response_digest, model_hash, mode: int, amount: int) -> bytes:
    """A served call's leaf hash: SHA-256(0x02 ‖ call digest ‖ response digest ‖ model hash ‖ u8 mode ‖ u128 amount)."""
    return hashlib.sha256(b"\x02" + hash32(call_digest) + hash32(response_digest) + hash32(model_hash)
                          + le_bytes(mode, 1) + le_bytes(amount, 16)).digest()


def _parent(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _next_level(level: list[bytes]) -> list[bytes]:
    return [_parent(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)]


def root(leaves: list[bytes]) -> bytes | None:
    """The root over leaf hashes (``None`` for no leaves)."""
    level = [hash32(leaf) for leaf in leaves]
    while len(level) > 1:
        level = _next_level(level)
    return level[0] if level else None


@dataclass(frozen=True)
class Proof:
    """Where a leaf is (``index`` of ``leaf_count``) and its siblings from the leaf up."""

    index: int
    leaf_count: int
    siblings: tuple[bytes, ...]


def proof(leaves: list[bytes], index: int) -> Proof | None:
    """The proof of leaf ``index`` among ``leaves`` (``None`` when out of range)."""
    if not 0 <= index < len(leaves):
        return None
    level = [hash32(leaf) for leaf in leaves]
    position, siblings = index, []
    while len(level) > 1:
        if position ^ 1 < len(level):
            siblings.append(level[position ^ 1])
        level = _next_level(level)
        position //= 2
    return Proof(index, len(leaves), tuple(siblings))


def verify(root_hash, leaf, proof_: Proof) -> bool:
    """Whether ``leaf`` is at ``proof_.index`` of a tree of ``proof_.leaf_count`` leaves whose
    root is ``root_hash``, every sibling used exactly once.

    ``leaf`` is a leaf hash computed here from the leaf's data (:func:`result_leaf`,
    :func:`served_call_leaf`), and ``leaf_count`` the one the node signed with the root
    (``messages.batch``, ``messages.channel_settlement``): a hash taken from elsewhere, or
    another leaf count, could be an inner node of another tree's shape."""
    if not 0 <= proof_.index < proof_.leaf_count:
        return False
    hash_, position, width = hash32(leaf), proof_.index, proof_.leaf_count
    siblings = [hash32(s) for s in proof_.siblings]
    while width > 1:
        if position ^ 1 < width:
            if not siblings:
                return False
            sibling = siblings.pop(0)
            hash_ = _parent(hash_, sibling) if position % 2 == 0 else _parent(sibling, hash_)
        position //= 2
        width = (width + 1) // 2
    return not siblings and hash_ == hash32(root_hash)
