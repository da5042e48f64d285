// @opg/sdk's gateway: the HTTP contract's names against the executor's own crate
// (offchain/executor-api/src/lib.rs), the flags against the runtime's, and the 402 → voucher
// → evidence flow against a mock gateway (node:http) that signs as a node would, and lies
// when told to: an altered answer never verifies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { sha256 } from '@noble/hashes/sha2';
import * as gw from '../dist/gateway.js';
import * as messages from '../dist/messages.js';
import { verify } from '../dist/evidence.js';
import { concat, fromHex, toHex, utf8 } from '../dist/bytes.js';
import { devSigner } from '../dist/signer.js';
import { DEFAULT_MIN_DEPOSIT, MODES, OPG, ROLES } from '../dist/types.js';

const ROOT = new URL('../../../', import.meta.url);
const API = readFileSync(new URL('offchain/executor-api/src/lib.rs', ROOT), 'utf8');
const GENESIS = new Uint8Array(32).fill(0x42);
const MODEL = new Uint8Array(32).fill(7);
const NODE = devSigner('//GatewayNode');
const BOB = devSigner('//Bob');
const PRICE = 100n;

function rustConst(module, name) {
  const body = new RegExp(`pub mod ${module} \\{([\\s\\S]*?)\\n\\}`).exec(API)[1];
  return new RegExp(`pub const ${name}: &str = "([^"]*)";`).exec(body)[1];
}

test("paths, headers and the scheme are the executor API's", () => {
  const names = {
    'path INFER': gw.INFER_PATH, 'path SERVED': gw.SERVED_PATH, 'path CHAT_COMPLETIONS': gw.CHAT_COMPLETIONS_PATH,
    'path MODELS': gw.MODELS_PATH, 'path HEALTH': gw.HEALTH_PATH, 'header SIGNATURE': gw.SIGNATURE_HEADER,
    'header NODE': gw.NODE_HEADER, 'header MODEL_HASH': gw.MODEL_HASH_HEADER, 'header SEED': gw.SEED_HEADER,
    'payment REQUIRED': gw.REQUIRED_HEADER, 'payment SIGNATURE': gw.PAYMENT_HEADER,
    'payment RESPONSE': gw.RESPONSE_HEADER, 'payment SCHEME': gw.SCHEME,
  };
  for (const [where, value] of Object.entries(names)) assert.equal(value, rustConst(...where.split(' ')), where);
  assert.ok(API.includes(`pub const X402_VERSION: u32 = ${gw.X402_VERSION};`));
  assert.deepEqual(new Set(gw.REFUSALS), new Set([...API.matchAll(/Self::\w+ => "([a-z_]+)"/g)].map((m) => m[1])));
});

test("the mode and role flags and the default minimum deposit are the runtime's", () => {
  const source = readFileSync(new URL('primitives/opg/src/modes.rs', ROOT), 'utf8');
  const bits = Object.fromEntries([...source.matchAll(/^\t\t([A-Z]+) = (\d+),$/gm)].map(([, n, b]) => [n, 1 << Number(b)]));
  assert.deepEqual(MODES, { Vanilla: bits.VANILLA, Tee: bits.TEE, Zkml: bits.ZKML });
  assert.deepEqual(ROLES, { Inference: bits.INFERENCE, Data: bits.DATA, Verifier: bits.VERIFIER });
  assert.ok(readFileSync(new URL('runtime/src/configs/governance.rs', ROOT), 'utf8')
    .includes('pub static ChannelMinDeposit: Balance = OPG;'));
  assert.equal(DEFAULT_MIN_DEPOSIT, OPG);
});

test("a voucher header carries the client's MultiSignature over the voucher message", () => {
  const body = Uint8Array.of(1, 2);
  const header = gw.voucherHeader(BOB, GENESIS, 5n, 3n * OPG, gw.inferPath(MODEL), body);
  const value = gw.decodeHeader(header);
  assert.equal(value.x402Version, 2);
  assert.equal(value.scheme, 'opg-channel');
  assert.equal(value.network, toHex(GENESIS));
  assert.deepEqual([value.payload.channel, value.payload.cumulative], ['5', (3n * OPG).toString()]);
  const signature = fromHex(value.payload.signature);
  assert.equal(signature[0], 1, 'MultiSignature::Sr25519');
  const message = messages.voucher(GENESIS, 5, 3n * OPG, messages.callDigest(gw.inferPath(MODEL), body));
  assert.ok(verify(BOB.publicKey, message, signature.slice(1)));
  assert.ok(!verify(NODE.publicKey, message, signature.slice(1)));
});

test('a payment header that is not base64 JSON, or an offer without its fields, is refused with a reason', () => {
  assert.throws(() => gw.decodeHeader('%%%'), /not a base64 JSON payment header/);
  assert.throws(() => gw.decodeHeader(btoa('[1]')), /holds a JSON object/);
  assert.throws(() => gw.parseOffer(gw.encodeHeader({ error: 'payment_required', accepts: [] })), /not an opg-channel payment offer/);
  assert.throws(() => gw.parseOffer(gw.encodeHeader({ error: 'x', accepts: [{ scheme: 'opg-channel', amount: '1', extra: {} }] })),
    /not an opg-channel payment offer/);
});

// A mock gateway: a 402 offer without a voucher, an answer signed like the executor's with one;
// `lie` makes it alter the output after signing.
let server;
let url;
const seen = { vouchers: [], lie: false };

function offer(error) {
  return gw.encodeHeader({
    x402Version: 2, error,
    accepts: [{ scheme: 'opg-channel', network: toHex(GENESIS), amount: PRICE.toString(),
      extra: { node: toHex(NODE.publicKey), modelHash: toHex(MODEL), minIncrement: PRICE.toString() } }],
  });
}

before(async () => {
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const voucher = req.headers[gw.PAYMENT_HEADER];
      if (!voucher) {
        res.writeHead(402, { [gw.REQUIRED_HEADER]: offer('payment_required'), 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'payment required: open a channel' }));
        return;
      }
      const payload = gw.decodeHeader(voucher).payload;
      const cumulative = BigInt(payload.cumulative);
      seen.vouchers.push(cumulative);
      if (req.url.startsWith(gw.CHAT_COMPLETIONS_PATH)) {
        const request = JSON.parse(new TextDecoder().decode(body));
        const text = 'Paris.';
        const opgOf = (charged) => ({ model_hash: toHex(MODEL), node: toHex(NODE.publicKey), seed: '9', cumulative: cumulative.toString(),
          signature: toHex(NODE.sign(messages.llmAnswer(GENESIS, MODEL, messages.callDigest(req.url, body), sha256(utf8(text)), 9, cumulative))),
          payment: { cumulative: charged.toString() } });
        if (request.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: 'Par' } }] })}\n\n`);
          res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: seen.lie ? 'is!' : 'is.' }, finish_reason: 'stop' }], opg: opgOf(cumulative) })}\n\n`);
          res.end('data: [DONE]\n\n');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ choices: [{ message: { content: seen.lie ? 'Rome.' : text } }], opg: opgOf(cumulative) }));
        }
        return;
      }
      const output = Uint8Array.of(9, 8, 7);
      const signature = NODE.sign(messages.directAnswer(GENESIS, MODEL, messages.callDigest(req.url, body), sha256(output), cumulative));
      res.writeHead(200, {
        [gw.NODE_HEADER]: toHex(NODE.publicKey), [gw.SIGNATURE_HEADER]: toHex(signature),
        [gw.RESPONSE_HEADER]: gw.encodeHeader({ channel: payload.channel, cumulative: payload.cumulative, charged: PRICE.toString(), remaining: '0' }),
      });
      res.end(seen.lie ? Uint8Array.of(9, 8, 6) : output);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}`;
});

after(() => server?.close());

test('an unpaid call is answered by PaymentRequired carrying the offer', async () => {
  const gateway = new gw.Gateway(url, GENESIS);
  await assert.rejects(gateway.infer(MODEL, Uint8Array.of(1)), (e) => {
    assert.ok(e instanceof gw.PaymentRequired);
    assert.equal(e.offer.error, 'payment_required');
    assert.equal(e.offer.amount, PRICE);
    assert.deepEqual(e.offer.node, NODE.publicKey);
    assert.match(e.reason, /open a channel/);
    return true;
  });
});

test("a paid call's answer carries the receipt and the node's evidence, and an altered one fails", async () => {
  const gateway = new gw.Gateway(url, GENESIS);
  const input = Uint8Array.of(1, 2, 3);
  const pay = gw.voucherHeader(BOB, GENESIS, 3n, PRICE, gw.inferPath(MODEL), input);
  const answer = await gateway.infer(MODEL, input, pay);
  assert.deepEqual(answer.output, Uint8Array.of(9, 8, 7));
  assert.equal(answer.cumulative, PRICE);
  assert.equal(answer.channel, 3n);
  assert.ok(answer.verify());
  assert.ok(!answer.verify(BOB.publicKey), "another node key's check fails");
  seen.lie = true;
  try {
    const altered = await gateway.infer(MODEL, input, pay);
    assert.ok(!altered.verify(), 'an output altered after signing fails');
  } finally {
    seen.lie = false;
  }
});

test("a chat answer, whole or streamed, verifies over the exact request, and an altered text does not", async () => {
  const gateway = new gw.Gateway(url, GENESIS);
  const pay = (path, body) => gw.voucherHeader(BOB, GENESIS, 3n, 500n, path, body);
  const answer = await gateway.chat({ model: 'm', messages: [{ role: 'user', content: 'capital of France?' }] }, pay);
  assert.equal(answer.text, 'Paris.');
  assert.ok(answer.verify());
  const stream = gateway.chatStream({ model: 'm', messages: [] }, pay);
  const pieces = [];
  let step;
  while (!(step = await stream.next()).done) pieces.push(step.value);
  assert.deepEqual(pieces, ['Par', 'is.']);
  assert.ok(step.value.verify());
  seen.lie = true;
  try {
    assert.ok(!(await gateway.chat({ model: 'm', messages: [] }, pay)).verify());
    const lying = gateway.chatStream({ model: 'm', messages: [] }, pay);
    while (!(step = await lying.next()).done);
    assert.ok(!step.value.verify(), 'a streamed piece altered after signing fails');
  } finally {
    seen.lie = false;
  }
});

test('a refusal other than 402 is a GatewayError with its status and reason', async () => {
  const gateway = new gw.Gateway('http://127.0.0.1:9', GENESIS, async () => new Response(JSON.stringify({ error: { message: 'unknown model' } }), { status: 404 }));
  await assert.rejects(gateway.infer(MODEL, Uint8Array.of(1)), (e) => e instanceof gw.GatewayError && e.status === 404 && e.reason === 'unknown model');
  const bare = new gw.Gateway('http://127.0.0.1:9', GENESIS, async () => new Response('no', { status: 402 }));
  await assert.rejects(bare.infer(MODEL, Uint8Array.of(1)), (e) => e instanceof gw.GatewayError && /no payment-required header/.test(e.message));
});

test("an answer's activation commitments verify only as signed, over the documented digest", async () => {
  const { verifyLlmActivations } = await import('../dist/evidence.js');
  const commitment = new Uint8Array(258).fill(5);
  const le4 = (n) => new Uint8Array([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24]);
  assert.deepEqual(messages.activationsDigest([7, 9], [commitment]),
    sha256(concat(le4(2), le4(7), le4(9), le4(1), commitment)));
  const path = '/v1/chat/completions', body = utf8('{"messages":[]}'), text = 'Paris.';
  const tokens = [504, 3458], commitments = [new Uint8Array(258).fill(1), new Uint8Array(258).fill(2)];
  const digest = messages.activationsDigest(tokens, commitments);
  const signature = NODE.sign(messages.llmActivations(GENESIS, MODEL, messages.callDigest(path, body),
    sha256(utf8(text)), 42, digest));
  const check = { genesis: GENESIS, modelHash: MODEL, path, body, text, seed: 42, tokens, commitments, signature,
    node: NODE.publicKey };
  assert.ok(verifyLlmActivations(check));
  for (const changed of [{ text: 'Paris!' }, { seed: 43 }, { tokens: [504, 3459] }, { tokens: [504] },
    { commitments: commitments.slice(1) }, { commitments: [commitments[1], commitments[0]] }, { tokens: [-1] }]) {
    assert.ok(!verifyLlmActivations({ ...check, ...changed }), JSON.stringify(Object.keys(changed)));
  }
  const b64 = (u8) => Buffer.from(u8).toString('base64');
  const opg = { seed: '42', model_hash: toHex(MODEL), node: toHex(NODE.publicKey),
    activations: { commitments: commitments.map(b64), tokens, digest: toHex(digest), signature: toHex(signature) } };
  assert.ok(gw.LlmAnswer.of(GENESIS, path, body, text, opg).verifyActivations());
  assert.ok(!gw.LlmAnswer.of(GENESIS, path, body, 'Lyon.', opg).verifyActivations());
  assert.ok(!gw.LlmAnswer.of(GENESIS, path, body, text, { ...opg, activations: undefined }).verifyActivations());
  const broken = { ...opg, activations: { ...opg.activations, commitments: ['not base64!'] } };
  assert.ok(!gw.LlmAnswer.of(GENESIS, path, body, text, broken).verifyActivations());
});
