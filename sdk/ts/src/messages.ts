// The messages OPG's keys sign, byte for byte as `opg_settlement::message` builds them
// (Rust); test/messages.test.mjs checks each against primitives/settlement/vectors.
import { sha256 } from '@noble/hashes/sha2';
import { type BytesLike, bytes, concat, hash32, le, utf8 } from './bytes.js';

/** Each message's domain tag (`opg_settlement::message::domain`). */
export const DOMAINS = {
  result: 'opg/inference-result/v1',
  batch: 'opg/inference-batch/v1',
  registration: 'opg/node-registration/v1',
  provenance: 'opg/data-provenance/v1',
  cannotServe: 'opg/cannot-serve/v1',
  artifactRead: 'opg/artifact-read/v1',
  heartbeat: 'opg/node-heartbeat/v1',
  voucher: 'opg/channel-voucher/v1',
  channelSettlement: 'opg/channel-settlement/v1',
  directAnswer: 'opg/direct-answer/v1',
  llmAnswer: 'opg/llm-answer/v1',
  llmActivations: 'opg/llm-activations/v1',
  verdictCommit: 'opg/verdict-commit/v1',
  verdictReveal: 'opg/verdict-reveal/v1',
  honeypot: 'opg/honeypot/v1',
} as const;

type Int = bigint | number | string;

/** The reason codes of a cannot-serve notice (`pallet_inference::CannotServeReason`, by index). */
export const CANNOT_SERVE = { inputUnavailable: 0, commitmentMismatch: 1 } as const;

/** domain ‖ genesis ‖ u64 request ‖ model hash ‖ input hash ‖ output hash. */
export function result(genesis: BytesLike, request: Int, modelHash: BytesLike, inputHash: BytesLike,
  outputHash: BytesLike): Uint8Array {
  return concat(utf8(DOMAINS.result), hash32(genesis), le(request, 8), hash32(modelHash), hash32(inputHash),
    hash32(outputHash));
}

/** domain ‖ genesis ‖ root ‖ u32 leaf count. */
export function batch(genesis: BytesLike, root: BytesLike, leafCount: Int): Uint8Array {
  return concat(utf8(DOMAINS.batch), hash32(genesis), hash32(root), le(leafCount, 4));
}

/** domain ‖ genesis ‖ operator account (32 bytes): a node key's consent to its operator. */
export function registration(genesis: BytesLike, operator: BytesLike): Uint8Array {
  return concat(utf8(DOMAINS.registration), hash32(genesis), hash32(operator));
}

/** domain ‖ u32 url length ‖ url ‖ hash ‖ u64 unix ms. */
export function provenance(url: string, hash: BytesLike, unixMs: Int): Uint8Array {
  const u = utf8(url);
  return concat(utf8(DOMAINS.provenance), le(u.length, 4), u, hash32(hash), le(unixMs, 8));
}

/** domain ‖ genesis ‖ u64 request ‖ input hash ‖ u8 reason ‖ 32-byte detail. */
export function cannotServe(genesis: BytesLike, request: Int, inputHash: BytesLike, reason: number,
  detail: BytesLike): Uint8Array {
  return concat(utf8(DOMAINS.cannotServe), hash32(genesis), le(request, 8), hash32(inputHash), le(reason, 1),
    hash32(detail));
}

/** domain ‖ artifact hash ‖ u64 not-after (unix seconds). */
export function artifactRead(hash: BytesLike, notAfter: Int): Uint8Array {
  return concat(utf8(DOMAINS.artifactRead), hash32(hash), le(notAfter, 8));
}

/** domain ‖ genesis ‖ u64 block. */
export function heartbeat(genesis: BytesLike, at: Int): Uint8Array {
  return concat(utf8(DOMAINS.heartbeat), hash32(genesis), le(at, 8));
}

/** domain ‖ genesis ‖ u64 channel ‖ u128 cumulative ‖ call digest: a client's voucher. */
export function voucher(genesis: BytesLike, channel: Int, cumulative: Int, callDigest: BytesLike): Uint8Array {
  return concat(utf8(DOMAINS.voucher), hash32(genesis), le(channel, 8), le(cumulative, 16), hash32(callDigest));
}

/** domain ‖ genesis ‖ u64 channel ‖ u128 total ‖ root ‖ u32 calls: a node's channel settlement. */
export function channelSettlement(genesis: BytesLike, channel: Int, total: Int, root: BytesLike,
  calls: Int): Uint8Array {
  return concat(utf8(DOMAINS.channelSettlement), hash32(genesis), le(channel, 8), le(total, 16), hash32(root),
    le(calls, 4));
}

/** domain ‖ genesis ‖ model hash ‖ call digest ‖ response digest ‖ u128 cumulative: a direct answer. */
export function directAnswer(genesis: BytesLike, modelHash: BytesLike, callDigest: BytesLike,
  responseDigest: BytesLike, cumulative: Int): Uint8Array {
  return concat(utf8(DOMAINS.directAnswer), hash32(genesis), hash32(modelHash), hash32(callDigest),
    hash32(responseDigest), le(cumulative, 16));
}

/** domain ‖ genesis ‖ manifest hash ‖ call digest ‖ SHA-256(text) ‖ u64 seed ‖ u128 cumulative: an LLM answer. */
export function llmAnswer(genesis: BytesLike, modelHash: BytesLike, callDigest: BytesLike,
  responseDigest: BytesLike, seed: Int, cumulative: Int): Uint8Array {
  return concat(utf8(DOMAINS.llmAnswer), hash32(genesis), hash32(modelHash), hash32(callDigest),
    hash32(responseDigest), le(seed, 8), le(cumulative, 16));
}

/** domain ‖ genesis ‖ manifest hash ‖ call digest ‖ SHA-256(text) ‖ u64 seed ‖ activations digest: an LLM answer's activation commitments. */
export function llmActivations(genesis: BytesLike, modelHash: BytesLike, callDigest: BytesLike,
  responseDigest: BytesLike, seed: Int, activationsDigest: BytesLike): Uint8Array {
  return concat(utf8(DOMAINS.llmActivations), hash32(genesis), hash32(modelHash), hash32(callDigest),
    hash32(responseDigest), le(seed, 8), hash32(activationsDigest));
}

/** domain ‖ genesis ‖ u64 case ‖ commitment: a verification node's commitment to its verdict. */
export function verdictCommit(genesis: BytesLike, caseId: Int, commitment: BytesLike): Uint8Array {
  return concat(utf8(DOMAINS.verdictCommit), hash32(genesis), le(caseId, 8), hash32(commitment));
}

/** domain ‖ genesis ‖ u64 case ‖ u8 verdict (0 valid, 1 invalid) ‖ salt: a verification node's revealed verdict. */
export function verdictReveal(genesis: BytesLike, caseId: Int, verdict: Int, salt: BytesLike): Uint8Array {
  return concat(utf8(DOMAINS.verdictReveal), hash32(genesis), le(caseId, 8), le(verdict, 1), hash32(salt));
}

/** domain ‖ genesis ‖ u64 case ‖ u64 request: a planted result's node key and the honeypot authority show its case a honeypot. */
export function honeypot(genesis: BytesLike, caseId: Int, request: Int): Uint8Array {
  return concat(utf8(DOMAINS.honeypot), hash32(genesis), le(caseId, 8), le(request, 8));
}

/** What `llmActivations` signs an answer's commitments under: SHA-256(u32 token count ‖ each token u32 ‖ u32 commitment count ‖ each commitment), all LE. */
export function activationsDigest(tokens: Int[], commitments: BytesLike[]): Uint8Array {
  const raw = commitments.map((c) => bytes(c));
  return sha256(concat(le(tokens.length, 4), ...tokens.map((t) => le(t, 4)), le(raw.length, 4), ...raw));
}

/** A direct call's digest, which its voucher names: SHA-256(u32 path length ‖ path ‖ body). */
export function callDigest(path: string, body: Uint8Array): Uint8Array {
  const p = utf8(path);
  return sha256(concat(le(p.length, 4), p, body));
}
