// Direct paid inference on a --dev chain, as a dApp does it: a plain HTTP client (fetch,
// no OPG code) calls the executor's public listener and pays each call with a voucher on
// a payment channel opened with @polkadot/api; the node's off-chain worker settles the
// channel asynchronously (its payment held through the challenge window, then paid); the
// client proves on chain that a served call was settled; the client closes the channel and
// gets back what was not spent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { stringToU8a, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, freePort, removeDir, startNode, tempDir, waitFor } from './helpers.mjs';
import { MODES, OPG, demoInput, eventOf, publishModel, registerNode, send } from './lib/chain.mjs';
import { fromBase64Json, inferPath, openChannel, verifyAnswer, voucherHeader } from './lib/direct.mjs';
import { EXECUTOR_BIN, HEADERS, PATHS, startExecutor } from './lib/executor.mjs';
import { callDigest } from './lib/messages.mjs';

let store;
let node;
let api;
let keyring;
let executor;
let publicUrl;
let model;
let nodeKey;
let genesis;

/** `signer`'s voucher for `cumulative` on `channel`, paying the call of `path` with `body`. */
function voucher(signer, channel, cumulative, path, body, { network = genesis } = {}) {
  return voucherHeader(api, signer, network, channel, cumulative, path, body);
}

/** POSTs `body` to the public inference path of the model, with `payment` if given. */
function call(body, payment) {
  const headers = payment ? { [HEADERS.paymentSignature]: payment } : {};
  return fetch(`${publicUrl}${PATHS.infer}/${model.hash}`, { method: 'POST', body, headers });
}

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  store = tempDir('opg-direct-');
  const printed = execFileSync(EXECUTOR_BIN, ['generate', '--widths', '784,56,10', '--seed', '9', '--store', store],
    { encoding: 'utf8' });
  model = { hash: printed.match(/^hash: (0x[0-9a-f]+)$/m)[1], size: Number(printed.match(/^size: (\d+)$/m)[1]) };
  node = await startNode(['--dev', '--tmp']);
  api = await connect(node);
  genesis = api.genesisHash;

  // The executor holds the node key (a seed file): it signs every answer's evidence.
  const seed = randomBytes(32);
  const keyFile = path.join(store, 'node-key.hex');
  writeFileSync(keyFile, seed.toString('hex'));
  nodeKey = keyring.addFromSeed(seed);
  model.id = await publishModel(api, keyring, { name: 'direct-demo', modelHash: model.hash, modelSize: model.size,
    inputLen: 784, outputLen: 10 });
  await registerNode(api, keyring, nodeKey, [model.id], MODES.vanilla);

  const publicPort = await freePort();
  executor = await startExecutor(['--store', store, '--node-key', keyFile, '--chain-rpc', node.url,
    '--direct-model', String(model.id), '--public-listen', `127.0.0.1:${publicPort}`]);
  publicUrl = `http://127.0.0.1:${publicPort}`;
  // The node's off-chain worker settles what the executor (holding the key) served.
  const hex = (text) => u8aToHex(stringToU8a(text));
  await api.rpc.offchain.localStorageSet('PERSISTENT', hex('opg::executor-url'), hex(executor.url));
  await api.rpc.offchain.localStorageSet('PERSISTENT', hex('opg::executor-node-key'), u8aToHex(nodeKey.publicKey));
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
  executor?.stop();
  removeDir(store);
});

test('a call without payment is answered 402 with what to pay and how', async () => {
  const response = await call(demoInput(784, 1));
  assert.equal(response.status, 402);
  const required = fromBase64Json(response.headers.get(HEADERS.paymentRequired));
  assert.equal(required.x402Version, 2);
  assert.equal(required.error, 'payment_required');
  const [offer] = required.accepts;
  assert.equal(offer.scheme, 'opg-channel');
  assert.equal(offer.network, u8aToHex(genesis));
  assert.equal(offer.amount, OPG.toString());
  assert.equal(offer.extra.node, u8aToHex(nodeKey.publicKey));
  assert.equal(offer.extra.modelHash, model.hash);
});

test('a channel pays 100 calls at once, settles on chain, proves a served call and refunds the rest', async () => {
  const bob = keyring.addFromUri('//Bob');
  const alice = keyring.addFromUri('//Alice');
  // Settlements are held through the vanilla challenge window (governance's parameter,
  // 20 blocks on a dev chain): 3 blocks here.
  const params = (await api.query.verification.parameters()).toJSON();
  const set = await send(api, api.tx.sudo.sudo(api.tx.verification.setParams({ ...params, challengeWindow: 3 })), alice);
  assert.ok(eventOf(set, api.events.sudo.Sudid).data.sudoResult.isOk);
  const channel = await openChannel(api, bob, nodeKey.publicKey, 150n * OPG);
  const path = inferPath(model.hash);

  // 100 paid calls, each answered at once with evidence the client checks alone. Each
  // voucher builds on the charged total the previous answer reported; the 50th authorizes
  // up to 3 OPG more than the price (x402's `upto`) and is charged the price only.
  const digests = [];
  let total = 0n;
  for (let i = 1; i <= 100; i += 1) {
    const body = demoInput(784, 100 + i);
    const cumulative = total + (i === 50 ? 4n : 1n) * OPG;
    const payment = voucher(bob, channel, cumulative, path, body);
    const response = await call(body, payment);
    assert.equal(response.status, 200, await response.clone().text());
    const output = new Uint8Array(await response.arrayBuffer());
    digests.push(callDigest(path, body));
    assert.ok(verifyAnswer(genesis, model.hash, path, body, output, cumulative,
      response.headers.get(HEADERS.signature), nodeKey.publicKey), 'the client checks the answer alone');
    const paid = fromBase64Json(response.headers.get(HEADERS.paymentResponse));
    total = BigInt(paid.cumulative);
    assert.deepEqual([paid.channel, paid.charged, total], [String(channel), OPG.toString(), BigInt(i) * OPG]);
    assert.equal(paid.remaining, (150n * OPG - total).toString());
    if (i === 50) {
      // Authorizing more than the charged total does not let the voucher pay twice.
      const replay = await call(body, payment);
      assert.equal(replay.status, 402);
      assert.equal(fromBase64Json(replay.headers.get(HEADERS.paymentRequired)).error, 'voucher_reused');
    }
  }

  // Every refusal, with its reason code; none pays anything.
  const body = demoInput(784, 7);
  const charlie = keyring.addFromUri('//Charlie');
  const refusals = [
    [null, 'payment_required'],
    ['bm90IGpzb24=', 'malformed_voucher'],
    [voucher(bob, channel, 101n * OPG, path, body, { network: new Uint8Array(32).fill(9) }),
      'wrong_network'],
    [voucher(charlie, channel, 101n * OPG, path, body), 'wrong_signer'],
    [voucher(bob, channel + 1000, 101n * OPG, path, body), 'unknown_channel'],
    [voucher(bob, channel, 100n * OPG, path, body), 'not_above_last'],
    [voucher(bob, channel, 100n * OPG + 1n, path, body), 'below_price'],
    [voucher(bob, channel, 151n * OPG, path, body), 'above_deposit'],
  ];
  for (const [payment, code] of refusals) {
    const response = await call(body, payment);
    assert.equal(response.status, 402, code);
    assert.equal(fromBase64Json(response.headers.get(HEADERS.paymentRequired)).error, code);
  }

  // The node's worker settles the channel: 100 OPG claimed, 95% for the operator, 5% for the
  // treasury, held in Bob's hold until each settlement's window ends, then paid.
  const settled = [];
  const heldUntil = [];
  const released = [];
  const ofChannel = (kind, event) => kind.is(event) && event.data.channel.toNumber() === channel;
  const unsubscribe = await api.query.system.events((records) => {
    for (const { event } of records) {
      if (ofChannel(api.events.channels.Settled, event)) settled.push(event.data);
      if (ofChannel(api.events.channels.PaymentHeld, event)) heldUntil.push(event.data);
      if (ofChannel(api.events.channels.PaymentReleased, event)) released.push(event.data);
    }
  });
  await waitFor('the channel settled', async () => (await api.query.channels.openChannels(channel)).unwrap().claimed.toBigInt(),
    (claimed) => claimed === 100n * OPG, 120000);
  assert.ok(settled.length >= 1);
  assert.equal(settled.reduce((sum, data) => sum + data.paid.toBigInt(), 0n), 95n * OPG);
  assert.equal(settled.reduce((sum, data) => sum + data.protocolFee.toBigInt(), 0n), 5n * OPG);
  assert.equal(settled.reduce((sum, data) => sum + data.calls.toNumber(), 0), 100);
  await waitFor('every settlement held', async () => heldUntil.length, (n) => n === settled.length, 30000);
  assert.deepEqual(heldUntil.map((data) => data.index.toNumber()), settled.map((data) => data.index.toNumber()));

  // The client proves that its 42nd call was settled, with the executor's proof and the chain's root.
  const served = await (await fetch(`${publicUrl}${PATHS.served}/${u8aToHex(digests[41])}`)).json();
  const settlements = await api.query.channels.settlements.entries(channel);
  const [index] = settlements.map(([key, value]) => [key.args[1].toNumber(), value.unwrap().root.toHex()])
    .find(([, root]) => root === served.root);
  const leaf = { ...served.call, amount: BigInt(served.call.amount) };
  assert.ok((await api.call.channelsApi.servedProof(channel, index, leaf, served.proof)).isTrue);
  const forged = { ...leaf, amount: leaf.amount + 1n };
  assert.ok((await api.call.channelsApi.servedProof(channel, index, forged, served.proof)).isFalse);

  // Closing: after the dispute period (a governance parameter, an hour by default: this test
  // sets it to 2 blocks), Bob gets back the 50 OPG not spent.
  await send(api, api.tx.sudo.sudo(api.tx.parameters.setParameter({ Protocol: { ChannelDisputePeriod: [null, 2] } })),
    alice);
  const closed = await send(api, api.tx.channels.close(channel), bob);
  const closesAt = eventOf(closed, api.events.channels.Closing).data.closesAt.toNumber();
  await assert.rejects(send(api, api.tx.channels.withdraw(channel), bob), /channels.NotWithdrawable/);
  await waitFor('the dispute period', async () => (await api.rpc.chain.getHeader()).number.toNumber(),
    (number) => number >= closesAt, 60000);
  const withdrawn = await send(api, api.tx.channels.withdraw(channel), bob);
  assert.equal(eventOf(withdrawn, api.events.channels.Withdrawn).data.refund.toBigInt(), 50n * OPG);
  assert.ok((await api.query.channels.openChannels(channel)).isNone);

  // Every held settlement was paid when its window ended: 95 OPG to the operator, 5 to the treasury.
  await waitFor('the held settlements paid', async () => released.length, (n) => n === settled.length, 60000);
  unsubscribe();
  assert.equal(released.reduce((sum, data) => sum + data.paid.toBigInt(), 0n), 95n * OPG);
  assert.equal(released.reduce((sum, data) => sum + data.protocolFee.toBigInt(), 0n), 5n * OPG);
  assert.equal((await api.query.channels.heldSettlements.entries(channel)).length, 0);
});
