// The signed-message vectors committed beside opg_settlement::message: the JS builders of
// tests/node/lib/messages.mjs give exactly the committed bytes, and the committed sr25519
// signatures verify (with @polkadot/util-crypto, as a client checks evidence). No node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { Keyring } from '@polkadot/keyring';
import {
  artifactReadMessage, batchMessage, cannotServeMessage, channelSettlementMessage, directAnswerMessage,
  heartbeatMessage, llmActivationsMessage, verdictCommitMessage, verdictRevealMessage, honeypotMessage, llmAnswerMessage, provenanceMessage, registrationMessage, resultMessage, voucherMessage,
} from './lib/messages.mjs';

const FILE = new URL('../../primitives/settlement/vectors/messages.json', import.meta.url);
const vectors = JSON.parse(readFileSync(FILE, 'utf8'));

const build = {
  result: (i) => resultMessage(hexToU8a(i.genesis), i.request, hexToU8a(i.modelHash), hexToU8a(i.inputHash),
    hexToU8a(i.outputHash)),
  batch: (i) => batchMessage(hexToU8a(i.genesis), hexToU8a(i.root), i.leafCount),
  registration: (i) => registrationMessage(hexToU8a(i.genesis), hexToU8a(i.operator)),
  provenance: (i) => provenanceMessage(i.url, i.hash, i.unixMs),
  cannotServe: (i) => cannotServeMessage(hexToU8a(i.genesis), i.request, hexToU8a(i.inputHash), i.reason,
    hexToU8a(i.detail)),
  artifactRead: (i) => artifactReadMessage(hexToU8a(i.hash), i.notAfter),
  heartbeat: (i) => heartbeatMessage(hexToU8a(i.genesis), i.at),
  voucher: (i) => voucherMessage(hexToU8a(i.genesis), i.channel, i.cumulative, hexToU8a(i.callDigest)),
  channelSettlement: (i) => channelSettlementMessage(hexToU8a(i.genesis), i.channel, i.total, hexToU8a(i.root),
    i.calls),
  directAnswer: (i) => directAnswerMessage(hexToU8a(i.genesis), hexToU8a(i.modelHash), hexToU8a(i.callDigest),
    hexToU8a(i.responseDigest), i.cumulative),
  llmAnswer: (i) => llmAnswerMessage(hexToU8a(i.genesis), hexToU8a(i.modelHash), hexToU8a(i.callDigest),
    hexToU8a(i.responseDigest), i.seed, i.cumulative),
  llmActivations: (i) => llmActivationsMessage(hexToU8a(i.genesis), hexToU8a(i.modelHash), hexToU8a(i.callDigest),
    hexToU8a(i.responseDigest), i.seed, hexToU8a(i.activationsDigest)),
  verdictCommit: (i) => verdictCommitMessage(hexToU8a(i.genesis), i.case, hexToU8a(i.commitment)),
  verdictReveal: (i) => verdictRevealMessage(hexToU8a(i.genesis), i.case, i.verdict, hexToU8a(i.salt)),
  honeypot: (i) => honeypotMessage(hexToU8a(i.genesis), i.case, i.request),
};

test('the signer of the vectors is //Alice', async () => {
  await cryptoWaitReady();
  const alice = new Keyring({ type: 'sr25519' }).addFromUri(vectors.signer.uri);
  assert.equal(u8aToHex(alice.publicKey), vectors.signer.public);
});

for (const vector of vectors.vectors) {
  test(`${vector.name}: rebuilt exactly, and its signature verifies`, async () => {
    await cryptoWaitReady();
    const bytes = build[vector.message](vector.inputs);
    assert.equal(u8aToHex(bytes), vector.bytes);
    assert.ok(signatureVerify(bytes, vector.signature, vectors.signer.public).isValid);
    const changed = bytes.slice();
    changed[changed.length - 1] ^= 1;
    assert.ok(!signatureVerify(changed, vector.signature, vectors.signer.public).isValid, 'a changed message fails');
  });
}
