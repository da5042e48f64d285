// The whole inference loop on a --dev chain: opg-executor serves a quantized MLP from its
// artifact store, the node's off-chain worker runs the requests assigned to the node key in
// its keystore and submits signed results; the chain pays the node. Checked with plain
// @polkadot/api and the node's inference_* RPC.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { u8aToHex } from '@polkadot/util';
import { sha256AsU8a } from '@polkadot/util-crypto';
import { NODE_BIN, connect, freePort, removeDir, sleep, startNode, tempDir } from './helpers.mjs';
import {
  OPG, demoInput, requestInference, rpc, setUpServing, verifyBatchProof, verifyResult, waitForResult,
} from '../../scripts/inference-demo.mjs';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

const EXECUTOR_BIN = path.join(path.dirname(NODE_BIN), 'opg-executor');

let store;
let executor;
let executorUrl;
let node;
let api;
let keyring;
let model;

async function infer(input) {
  const response = await fetch(`${executorUrl}/v1/infer/${model.hash}`, { method: 'POST', body: input });
  assert.equal(response.status, 200, await response.clone().text());
  return new Uint8Array(await response.arrayBuffer());
}

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  store = tempDir('opg-artifacts-');
  const printed = execFileSync(EXECUTOR_BIN, ['generate', '--widths', '784,56,10', '--seed', '3', '--store', store],
    { encoding: 'utf8' });
  model = { hash: printed.match(/^hash: (0x[0-9a-f]+)$/m)[1], size: Number(printed.match(/^size: (\d+)$/m)[1]) };

  const port = await freePort();
  executorUrl = `http://127.0.0.1:${port}`;
  executor = spawn(EXECUTOR_BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--store', store], { stdio: 'ignore' });
  for (let i = 0; i < 100; i += 1) {
    if (await fetch(`${executorUrl}/health`).then((r) => r.ok, () => false)) break;
    await sleep(100);
  }
  node = await startNode(['--dev', '--tmp', '--executor-url', executorUrl]);
  api = await connect(node);
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
  executor?.kill('SIGINT');
  removeDir(store);
});

test('a request is served by the off-chain worker and executor, and paid', async () => {
  const { modelId, nodeKey } = await setUpServing(api, keyring,
    { modelHash: model.hash, modelSize: model.size, inputLen: 784, outputLen: 10 });
  const bob = keyring.addFromUri('//Bob');
  const input = demoInput(784, 5);
  const { id, blockHash } = await requestInference(api, bob, modelId, input);

  const open = await rpc(node.url, 'inference_request', id, blockHash);
  assert.equal(open.node, u8aToHex(nodeKey.publicKey));
  assert.equal(open.input.inline, u8aToHex(input));
  assert.equal(open.fee, OPG.toString());

  const result = await waitForResult(node.url, id);
  const expected = await infer(input);
  assert.equal(result.output.inline, u8aToHex(expected), 'the chain holds the executor\'s bit-exact output');
  assert.equal(result.outputHash, u8aToHex(sha256AsU8a(expected)));
  assert.equal(result.node, u8aToHex(nodeKey.publicKey));
  assert.equal(result.paid, (OPG * 95n / 100n).toString());
  assert.equal(result.protocolFee, (OPG * 5n / 100n).toString());
  assert.ok(verifyResult(result), 'the node key signed the result message');
  assert.equal(await rpc(node.url, 'inference_request', id), null, 'no longer open');
});

test('batch-mode requests settle under one signed root with verifiable inclusion proofs', async () => {
  const { modelId } = await setUpServing(api, keyring,
    { modelHash: model.hash, modelSize: model.size, inputLen: 784, outputLen: 10 });
  const charlie = keyring.addFromUri('//Charlie');
  const inputs = [demoInput(784, 7), demoInput(784, 8)];
  const ids = [];
  for (const input of inputs) {
    ids.push((await requestInference(api, charlie, modelId, input, { settlement: 'Batch' })).id);
  }
  for (const [index, id] of ids.entries()) {
    const result = await waitForResult(node.url, id);
    assert.equal(result.outputHash, u8aToHex(sha256AsU8a(await infer(inputs[index]))));
    assert.ok('batch' in result.evidence);
    const proof = await rpc(node.url, 'inference_batchProof', id);
    assert.equal(proof.leaf.request, id);
    assert.ok(verifyBatchProof(proof), 'the leaf proves into the signed root');
    proof.leaf.outputHash = u8aToHex(sha256AsU8a(new Uint8Array([1])));
    assert.ok(!verifyBatchProof(proof), 'a different output does not');
  }
});

test('inference_submitRequest forwards signed requests only', async () => {
  const dave = keyring.addFromUri('//Dave');
  const request = api.tx.inference.request(0, { Inline: '0x01' }, 'Vanilla', 'Individual', OPG, 10);
  await request.signAsync(dave);
  const hash = await rpc(node.url, 'inference_submitRequest', request.toHex());
  assert.match(hash, /^0x[0-9a-f]{64}$/);

  const transfer = api.tx.balances.transferKeepAlive(dave.address, 1n);
  await transfer.signAsync(keyring.addFromUri('//Eve'));
  await assert.rejects(rpc(node.url, 'inference_submitRequest', transfer.toHex()), /does not call inference.request/);
  await assert.rejects(rpc(node.url, 'inference_submitRequest', '0x0102'), /not an OPG extrinsic/);
});
