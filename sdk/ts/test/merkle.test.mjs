// @opg/sdk's Merkle trees: by hand, every proof of many sizes, and what a proof must refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2';
import * as merkle from '../dist/merkle.js';
import { concat, le } from '../dist/bytes.js';

const leaves = (n) => Array.from({ length: n }, (_, i) => merkle.resultLeaf(i, sha256(le(i, 8)), new Uint8Array(32).fill(i % 256)));
const parent = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

test('small trees by hand', () => {
  const l = leaves(3);
  assert.equal(merkle.root([]), undefined);
  assert.deepEqual(merkle.root(l.slice(0, 1)), l[0]);
  assert.deepEqual(merkle.root(l.slice(0, 2)), parent(l[0], l[1]));
  assert.deepEqual(merkle.root(l), parent(parent(l[0], l[1]), l[2]));
});

test('leaf encodings are prefixed and little-endian', () => {
  assert.deepEqual(merkle.resultLeaf(7, new Uint8Array(32).fill(0xbb), new Uint8Array(32).fill(0xcc)),
    sha256(concat(Uint8Array.of(0), le(7, 8), new Uint8Array(32).fill(0xbb), new Uint8Array(32).fill(0xcc))));
  assert.deepEqual(merkle.servedCallLeaf(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32).fill(3), 1, 25),
    sha256(concat(Uint8Array.of(2), new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32).fill(3),
      Uint8Array.of(1), le(25, 16))));
});

test('every leaf of every size has a proof that verifies, and only at its place', () => {
  for (const n of [...Array.from({ length: 33 }, (_, i) => i + 1), 100]) {
    const l = leaves(n);
    const root = merkle.root(l);
    for (let i = 0; i < n; i++) {
      const p = merkle.proof(l, i);
      assert.ok(merkle.verify(root, l[i], p), `leaf ${i} of ${n}`);
      if (n > 1) {
        assert.ok(!merkle.verify(root, l[(i + 1) % n], p), 'another leaf at this place');
        assert.ok(!merkle.verify(root, l[i], { ...p, index: (i + 1) % n }), 'this leaf at another place');
      }
    }
  }
});

test('a proof with a missing or extra sibling, another leaf count or an index out of range is refused', () => {
  const l = leaves(5);
  const root = merkle.root(l);
  const p = merkle.proof(l, 2);
  assert.ok(!merkle.verify(root, l[2], { ...p, siblings: p.siblings.slice(1) }));
  assert.ok(!merkle.verify(root, l[2], { ...p, siblings: [...p.siblings, l[0]] }));
  assert.ok(!merkle.verify(root, l[2], { ...p, leafCount: 4 }));
  assert.ok(!merkle.verify(root, l[2], { ...p, index: 5 }));
  assert.ok(!merkle.verify(root, l[2], { ...p, index: -1 }));
  assert.equal(merkle.proof(l, 5), undefined);
  // An inner node is no leaf: the pair (0, 1) under the root of 5 is not at index 0 of 3.
  const inner = parent(l[0], l[1]);
  assert.ok(!merkle.verify(root, inner, { index: 0, leafCount: 5, siblings: merkle.proof(l, 0).siblings.slice(1) }));
});
