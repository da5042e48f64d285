// The committed signed-message vectors (primitives/settlement/vectors/messages.json): every
// builder of @opg/sdk gives exactly the committed bytes, and the committed sr25519
// signatures verify through the SDK's own check (and fail on a changed byte).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as messages from '../dist/messages.js';
import { verify } from '../dist/evidence.js';
import { toHex } from '../dist/bytes.js';
import { devSigner } from '../dist/signer.js';

const vectors = JSON.parse(readFileSync(new URL('../../../primitives/settlement/vectors/messages.json', import.meta.url)));

const build = {
  result: (i) => messages.result(i.genesis, i.request, i.modelHash, i.inputHash, i.outputHash),
  batch: (i) => messages.batch(i.genesis, i.root, i.leafCount),
  registration: (i) => messages.registration(i.genesis, i.operator),
  provenance: (i) => messages.provenance(i.url, i.hash, i.unixMs),
  cannotServe: (i) => messages.cannotServe(i.genesis, i.request, i.inputHash, i.reason, i.detail),
  artifactRead: (i) => messages.artifactRead(i.hash, i.notAfter),
  heartbeat: (i) => messages.heartbeat(i.genesis, i.at),
  voucher: (i) => messages.voucher(i.genesis, i.channel, i.cumulative, i.callDigest),
  channelSettlement: (i) => messages.channelSettlement(i.genesis, i.channel, i.total, i.root, i.calls),
  directAnswer: (i) => messages.directAnswer(i.genesis, i.modelHash, i.callDigest, i.responseDigest, i.cumulative),
  llmAnswer: (i) => messages.llmAnswer(i.genesis, i.modelHash, i.callDigest, i.responseDigest, i.seed, i.cumulative),
  llmActivations: (i) => messages.llmActivations(i.genesis, i.modelHash, i.callDigest, i.responseDigest, i.seed,
    i.activationsDigest),
  verdictCommit: (i) => messages.verdictCommit(i.genesis, i.case, i.commitment),
  verdictReveal: (i) => messages.verdictReveal(i.genesis, i.case, i.verdict, i.salt),
  honeypot: (i) => messages.honeypot(i.genesis, i.case, i.request),
};

test('every message kind of the vectors has a builder, and every builder a vector', () => {
  assert.deepEqual(new Set(vectors.vectors.map((v) => v.message)), new Set(Object.keys(build)));
  assert.deepEqual(new Set(Object.keys(messages.DOMAINS)), new Set(Object.keys(build)));
});

test("the vectors' signer is the SDK's development signer //Alice", () => {
  assert.equal(toHex(devSigner(vectors.signer.uri).publicKey), vectors.signer.public);
});

for (const vector of vectors.vectors) {
  test(`${vector.name}: rebuilt exactly, and its signature verifies`, () => {
    const bytes = build[vector.message](vector.inputs);
    assert.equal(toHex(bytes), vector.bytes);
    assert.ok(verify(vectors.signer.public, bytes, vector.signature));
    const changed = bytes.slice();
    changed[changed.length - 1] ^= 1;
    assert.ok(!verify(vectors.signer.public, changed, vector.signature), 'a changed message fails');
  });
}

test('a signature by the development signer verifies, over exactly what it signed', () => {
  const alice = devSigner('//Alice');
  const message = messages.heartbeat(`0x${'11'.repeat(32)}`, 5);
  const signature = alice.sign(message);
  assert.ok(verify(alice.publicKey, message, signature));
  assert.ok(!verify(devSigner('//Bob').publicKey, message, signature), "another key's check fails");
});

test('malformed keys and signatures are refused, not thrown', () => {
  const message = new Uint8Array(4);
  assert.equal(verify(new Uint8Array(31), message, new Uint8Array(64)), false);
  assert.equal(verify(new Uint8Array(32), message, new Uint8Array(63)), false);
  assert.equal(verify('0xzz', message, new Uint8Array(64)), false);
});

test('integers that do not fit their width are refused', () => {
  assert.throws(() => messages.result(`0x${'11'.repeat(32)}`, 2n ** 64n, `0x${'00'.repeat(32)}`,
    `0x${'00'.repeat(32)}`, `0x${'00'.repeat(32)}`), /does not fit 8 bytes/);
  assert.throws(() => messages.voucher(`0x${'11'.repeat(32)}`, 1, -1n, `0x${'00'.repeat(32)}`), /does not fit/);
});
