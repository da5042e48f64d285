// OPG's Merkle trees (`opg_settlement::merkle`): batch results and a channel's served calls.
// Leaves and inner nodes are SHA-256 with a one-byte prefix (0x00 batch result, 0x02
// served call, 0x01 inner node: left ‖ right); a level of odd width carries its last hash
// up unchanged. A proof is the leaf's index, the leaf count and the siblings from the leaf
// up, as the chain's `inference_batchProof` and a gateway's `/v1/served` give them.
import { sha256 } from '@noble/hashes/sha2';
import { type BytesLike, concat, equal, hash32, le } from './bytes.js';

/** A batch result's leaf: SHA-256(0x00 ‖ u64 request ‖ input hash ‖ output hash). */
export function resultLeaf(request: bigint | number | string, inputHash: BytesLike, outputHash: BytesLike): Uint8Array {
  return sha256(concat(Uint8Array.of(0), le(request, 8), hash32(inputHash), hash32(outputHash)));
}

/** A served call's leaf: SHA-256(0x02 ‖ call digest ‖ response digest ‖ model hash ‖ u8 mode ‖ u128 amount). */
export function servedCallLeaf(callDigest: BytesLike, responseDigest: BytesLike, modelHash: BytesLike, mode: number,
  amount: bigint | number | string): Uint8Array {
  return sha256(concat(Uint8Array.of(2), hash32(callDigest), hash32(responseDigest), hash32(modelHash),
    le(mode, 1), le(amount, 16)));
}

const parent = (left: Uint8Array, right: Uint8Array) => sha256(concat(Uint8Array.of(1), left, right));

function nextLevel(level: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < level.length; i += 2) out.push(i + 1 < level.length ? parent(level[i], level[i + 1]) : level[i]);
  return out;
}

/** The root over leaf hashes (`undefined` for none). */
export function root(leaves: BytesLike[]): Uint8Array | undefined {
  let level = leaves.map(hash32);
  while (level.length > 1) level = nextLevel(level);
  return level[0];
}

export interface Proof {
  index: number;
  leafCount: number;
  siblings: BytesLike[];
}

/** The proof of leaf `index` among `leaves` (`undefined` when out of range). */
export function proof(leaves: BytesLike[], index: number): Proof | undefined {
  if (!(index >= 0 && index < leaves.length)) return undefined;
  let level = leaves.map(hash32);
  let position = index;
  const siblings: Uint8Array[] = [];
  while (level.length > 1) {
    if ((position ^ 1) < level.length) siblings.push(level[position ^ 1]);
    level = nextLevel(level);
    position >>= 1;
  }
  return { index, leafCount: leaves.length, siblings };
}

/**
 * Whether `leaf` (a leaf hash computed here from its data) is at `proof.index` of a tree of
 * `proof.leafCount` leaves (the count the node signed with the root) whose root is
 * `rootHash`, every sibling used exactly once.
 */
export function verify(rootHash: BytesLike, leaf: BytesLike, proof: Proof): boolean {
  const { index, leafCount } = proof;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(leafCount) || index < 0 || index >= leafCount) return false;
  let siblings: Uint8Array[];
  let hash: Uint8Array;
  try {
    siblings = proof.siblings.map(hash32);
    hash = hash32(leaf);
  } catch {
    return false;
  }
  let position = index;
  let width = leafCount;
  while (width > 1) {
    if ((position ^ 1) < width) {
      const sibling = siblings.shift();
      if (sibling === undefined) return false;
      hash = position % 2 === 0 ? parent(hash, sibling) : parent(sibling, hash);
    }
    position = Math.floor(position / 2);
    width = Math.ceil(width / 2);
  }
  return siblings.length === 0 && equal(hash, hash32(rootHash));
}
