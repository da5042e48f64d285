"""opg.merkle: trees by hand, every proof of many sizes, and what a proof must refuse."""

import hashlib
import random

import pytest

from opg import merkle


def leaves(n):
    return [merkle.result_leaf(i, hashlib.sha256(i.to_bytes(8, "little")).digest(), bytes([i % 256]) * 32)
            for i in range(n)]


def parent(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_small_trees_by_hand():
    l = leaves(3)
    assert merkle.root([]) is None
    assert merkle.root(l[:1]) == l[0]
    assert merkle.root(l[:2]) == parent(l[0], l[1])
    assert merkle.root(l) == parent(parent(l[0], l[1]), l[2])


def test_leaf_encodings_are_prefixed_and_little_endian():
    assert merkle.result_leaf(7, b"\xbb" * 32, b"\xcc" * 32) == hashlib.sha256(
        b"\x00" + (7).to_bytes(8, "little") + b"\xbb" * 32 + b"\xcc" * 32).digest()
    assert merkle.served_call_leaf(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 1, 25) == hashlib.sha256(
        b"\x02" + b"\x01" * 32 + b"\x02" * 32 + b"\x03" * 32 + b"\x01" + (25).to_bytes(16, "little")).digest()


@pytest.mark.parametrize("n", list(range(1, 34)) + [100, 257])
def test_every_leaf_of_every_size_has_a_proof_that_verifies(n):
    l = leaves(n)
    root = merkle.root(l)
    for i in range(n):
        p = merkle.proof(l, i)
        assert merkle.verify(root, l[i], p)
    assert merkle.proof(l, n) is None


@pytest.mark.parametrize("seed", range(20))
def test_a_changed_leaf_index_count_or_sibling_is_refused(seed):
    rng = random.Random(seed)
    n = rng.randint(2, 70)
    l = leaves(n)
    root = merkle.root(l)
    i = rng.randrange(n)
    p = merkle.proof(l, i)
    other = (i + rng.randint(1, n - 1)) % n
    assert not merkle.verify(root, l[other], p)
    assert not merkle.verify(root, l[i], merkle.Proof(other, p.leaf_count, p.siblings))
    assert not merkle.verify(root, l[i], merkle.Proof(i, n, p.siblings + (b"\x00" * 32,)))
    assert not merkle.verify(root, l[i], merkle.Proof(i, n, p.siblings[:-1]))
    assert not merkle.verify(root, l[i], merkle.Proof(n, n, p.siblings))
    s = list(p.siblings)
    j = rng.randrange(len(s))
    s[j] = bytes([s[j][0] ^ 1]) + s[j][1:]
    assert not merkle.verify(root, l[i], merkle.Proof(i, n, tuple(s)))


def test_a_leaf_is_not_an_inner_node():
    # The prefixes keep a leaf's bytes from hashing as an inner node's (or unprefixed).
    input_hash, output_hash = b"\x07" * 32, b"\x09" * 32
    leaf = merkle.result_leaf(0, input_hash, output_hash)
    assert leaf != hashlib.sha256((0).to_bytes(8, "little") + input_hash + output_hash).digest()
    assert leaf != hashlib.sha256(b"\x01" + input_hash + output_hash).digest()
    assert leaf != merkle.served_call_leaf(input_hash, output_hash, b"\x00" * 32, 0, 0)
