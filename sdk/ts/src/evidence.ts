// Checks of the signatures OPG's keys make: sr25519 in Substrate's `substrate` signing
// context, over the messages of ./messages.ts. Malformed keys or signatures are `false`.
import { sha256 } from '@noble/hashes/sha2';
import * as sr25519 from '@scure/sr25519';
import { type BytesLike, bytes, hash32, utf8 } from './bytes.js';
import * as merkle from './merkle.js';
import * as messages from './messages.js';

type Int = bigint | number | string;

/** Whether `signature` (64 bytes) is `publicKey`'s (32 bytes) sr25519 signature of `message`. */
export function verify(publicKey: BytesLike, message: Uint8Array, signature: BytesLike): boolean {
  try {
    const key = hash32(publicKey);
    const sig = bytes(signature);
    return sig.length === 64 && sr25519.verify(message, sig, key);
  } catch {
    return false;
  }
}

/** Whether an individually settled on-chain result carries its node key's signature. */
export function verifyResult(a: { genesis: BytesLike; request: Int; modelHash: BytesLike; inputHash: BytesLike;
  outputHash: BytesLike; signature: BytesLike; node: BytesLike }): boolean {
  try {
    return verify(a.node, messages.result(a.genesis, a.request, a.modelHash, a.inputHash, a.outputHash), a.signature);
  } catch {
    return false;
  }
}

/**
 * Whether a result settled in a batch is in it: the node key's signature over the batch's
 * root and leaf count, and the result's leaf at `index` under that root by `siblings`.
 */
export function verifyBatchInclusion(a: { genesis: BytesLike; request: Int; inputHash: BytesLike;
  outputHash: BytesLike; root: BytesLike; leafCount: number; index: number; siblings: BytesLike[];
  signature: BytesLike; node: BytesLike }): boolean {
  try {
    const leaf = merkle.resultLeaf(a.request, a.inputHash, a.outputHash);
    return verify(a.node, messages.batch(a.genesis, a.root, a.leafCount), a.signature)
      && merkle.verify(a.root, leaf, { index: a.index, leafCount: a.leafCount, siblings: a.siblings });
  } catch {
    return false;
  }
}

/**
 * Whether a direct call's answer carries node key `node`'s evidence: its signature over
 * the call (`path` and `body` as sent), the response's SHA-256 and the voucher's cumulative
 * amount (0 when unpaid).
 */
export function verifyDirectAnswer(a: { genesis: BytesLike; modelHash: BytesLike; path: string; body: Uint8Array;
  response: Uint8Array; cumulative: Int; signature: BytesLike; node: BytesLike }): boolean {
  try {
    const message = messages.directAnswer(a.genesis, a.modelHash, messages.callDigest(a.path, a.body),
      sha256(a.response), a.cumulative);
    return verify(a.node, message, a.signature);
  } catch {
    return false;
  }
}

/**
 * Whether a language model's answer carries node key `node`'s evidence (docs/llm.md): its
 * signature over the exact request body, the SHA-256 of the answer's text (UTF-8), the
 * sampling seed and the voucher's cumulative amount.
 */
/** Whether an LLM answer's activation commitments (`opg.activations`: `tokens`, `commitments` as bytes) carry node key `node`'s signature over `messages.llmActivations` of this call, text and seed. */
export function verifyLlmActivations(a: { genesis: BytesLike; modelHash: BytesLike; path: string; body: Uint8Array;
  text: string; seed: Int; tokens: Int[]; commitments: BytesLike[]; signature: BytesLike; node: BytesLike }): boolean {
  try {
    const digest = messages.activationsDigest(a.tokens, a.commitments);
    const message = messages.llmActivations(a.genesis, a.modelHash, messages.callDigest(a.path, a.body),
      sha256(utf8(a.text)), a.seed, digest);
    return verify(a.node, message, a.signature);
  } catch {
    return false;
  }
}

export function verifyLlmAnswer(a: { genesis: BytesLike; modelHash: BytesLike; path: string; body: Uint8Array;
  text: string; seed: Int; cumulative: Int; signature: BytesLike; node: BytesLike }): boolean {
  try {
    const message = messages.llmAnswer(a.genesis, a.modelHash, messages.callDigest(a.path, a.body),
      sha256(utf8(a.text)), a.seed, a.cumulative);
    return verify(a.node, message, a.signature);
  } catch {
    return false;
  }
}
