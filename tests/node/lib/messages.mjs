// The messages OPG keys sign, built as opg_settlement::message builds them (Rust); both are
// checked against primitives/settlement/vectors/messages.json (tests/node/messages.test.mjs).
// Written here from docs/inference.md with @polkadot/util alone, not taken from @opg/sdk: the
// end-to-end tests are a plain client (HTTP and @polkadot/api, no OPG code: issue 17), so
// this is a third implementation the vectors check, beside the Rust crate and the SDKs'.
import { hexToU8a, stringToU8a, u8aConcat, u8aToU8a } from '@polkadot/util';
import { sha256AsU8a } from '@polkadot/util-crypto';

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
};

/** The reasons of a cannot-serve notice. */
export const CANNOT_SERVE = { inputUnavailable: 0, commitmentMismatch: 1 };

function le(value, bytes) {
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  if (bytes === 16) {
    const big = BigInt(value);
    view.setBigUint64(0, big & 0xffffffffffffffffn, true);
    view.setBigUint64(8, big >> 64n, true);
  } else if (bytes === 8) view.setBigUint64(0, BigInt(value), true);
  else view.setUint32(0, Number(value), true);
  return out;
}

/** domain ‖ genesis ‖ u64 LE request ‖ model hash ‖ input hash ‖ output hash. */
export function resultMessage(genesis, request, modelHash, inputHash, outputHash) {
  return u8aConcat(stringToU8a(DOMAINS.result), u8aToU8a(genesis), le(request, 8), u8aToU8a(modelHash),
    u8aToU8a(inputHash), u8aToU8a(outputHash));
}

/** domain ‖ genesis ‖ root ‖ u32 LE leaf count. */
export function batchMessage(genesis, root, leafCount) {
  return u8aConcat(stringToU8a(DOMAINS.batch), u8aToU8a(genesis), u8aToU8a(root), le(leafCount, 4));
}

/** domain ‖ genesis ‖ SCALE(operator account): 32 bytes for an AccountId32. */
export function registrationMessage(genesis, operator) {
  return u8aConcat(stringToU8a(DOMAINS.registration), u8aToU8a(genesis), u8aToU8a(operator));
}

/** domain ‖ u32 LE url length ‖ url ‖ hash ‖ u64 LE unix ms. */
export function provenanceMessage(url, hash, unixMs) {
  const urlBytes = stringToU8a(url);
  return u8aConcat(stringToU8a(DOMAINS.provenance), le(urlBytes.length, 4), urlBytes, hexToU8a(hash), le(unixMs, 8));
}

/** domain ‖ genesis ‖ u64 LE request ‖ input hash ‖ u8 reason ‖ 32-byte detail. */
export function cannotServeMessage(genesis, request, inputHash, reason, detail) {
  return u8aConcat(stringToU8a(DOMAINS.cannotServe), u8aToU8a(genesis), le(request, 8), u8aToU8a(inputHash),
    Uint8Array.of(reason), u8aToU8a(detail));
}

/** domain ‖ artifact hash ‖ u64 LE not-after (unix seconds): a requester's read permission. */
export function artifactReadMessage(hash, notAfter) {
  return u8aConcat(stringToU8a(DOMAINS.artifactRead), u8aToU8a(hash), le(notAfter, 8));
}

/** What a node key signs to say its node is live at block `at`. */
export function heartbeatMessage(genesis, at) {
  return u8aConcat(stringToU8a(DOMAINS.heartbeat), u8aToU8a(genesis), le(at, 8));
}

/** domain ‖ genesis ‖ u64 LE channel ‖ u128 LE cumulative ‖ call digest: a client's voucher. */
export function voucherMessage(genesis, channel, cumulative, callDigest) {
  return u8aConcat(stringToU8a(DOMAINS.voucher), u8aToU8a(genesis), le(channel, 8), le(cumulative, 16),
    u8aToU8a(callDigest));
}

/** domain ‖ genesis ‖ u64 LE channel ‖ u128 LE total claimed ‖ root ‖ u32 LE calls: a node's settlement. */
export function channelSettlementMessage(genesis, channel, total, root, calls) {
  return u8aConcat(stringToU8a(DOMAINS.channelSettlement), u8aToU8a(genesis), le(channel, 8), le(total, 16),
    u8aToU8a(root), le(calls, 4));
}

/** domain ‖ genesis ‖ model hash ‖ call digest ‖ response digest ‖ u128 LE cumulative: a direct answer's evidence. */
export function directAnswerMessage(genesis, modelHash, callDigest, responseDigest, cumulative) {
  return u8aConcat(stringToU8a(DOMAINS.directAnswer), u8aToU8a(genesis), u8aToU8a(modelHash), u8aToU8a(callDigest),
    u8aToU8a(responseDigest), le(cumulative, 16));
}

/**
 * domain ‖ genesis ‖ manifest hash ‖ call digest ‖ SHA-256(answer text) ‖ u64 LE seed ‖ u128 LE cumulative:
 * a language model's answer.
 */
export function llmAnswerMessage(genesis, modelHash, callDigest, responseDigest, seed, cumulative) {
  return u8aConcat(stringToU8a(DOMAINS.llmAnswer), u8aToU8a(genesis), u8aToU8a(modelHash), u8aToU8a(callDigest),
    u8aToU8a(responseDigest), le(seed, 8), le(cumulative, 16));
}

/**
 * domain ‖ genesis ‖ manifest hash ‖ call digest ‖ SHA-256(answer text) ‖ u64 LE seed ‖ activations digest:
 * a language model's answer's activation commitments.
 */
export function llmActivationsMessage(genesis, modelHash, callDigest, responseDigest, seed, activationsDigest) {
  return u8aConcat(stringToU8a(DOMAINS.llmActivations), u8aToU8a(genesis), u8aToU8a(modelHash),
    u8aToU8a(callDigest), u8aToU8a(responseDigest), le(seed, 8), u8aToU8a(activationsDigest));
}

/** domain ‖ genesis ‖ u64 LE case ‖ commitment: a verification node's commitment to its verdict. */
export function verdictCommitMessage(genesis, caseId, commitment) {
  return u8aConcat(stringToU8a(DOMAINS.verdictCommit), u8aToU8a(genesis), le(caseId, 8), u8aToU8a(commitment));
}

/** domain ‖ genesis ‖ u64 LE case ‖ u8 verdict (0 valid, 1 invalid) ‖ salt: a verification node's revealed verdict. */
export function verdictRevealMessage(genesis, caseId, verdict, salt) {
  return u8aConcat(stringToU8a(DOMAINS.verdictReveal), u8aToU8a(genesis), le(caseId, 8), new Uint8Array([verdict]),
    u8aToU8a(salt));
}

/** domain ‖ genesis ‖ u64 LE case ‖ u64 LE request: a planted result's node and the honeypot authority show its case a honeypot. */
export function honeypotMessage(genesis, caseId, request) {
  return u8aConcat(stringToU8a(DOMAINS.honeypot), u8aToU8a(genesis), le(caseId, 8), le(request, 8));
}

/** A direct call's digest, which its voucher names: SHA-256(u32 LE path length ‖ path ‖ body). */
export function callDigest(path, body) {
  const pathBytes = stringToU8a(path);
  return sha256AsU8a(u8aConcat(le(pathBytes.length, 4), pathBytes, u8aToU8a(body)));
}
