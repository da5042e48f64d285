// A node restarted between submitting a result and its inclusion still settles it: its
// pool is empty after the restart, and its off-chain worker submits again a result whose
// request is still open a few blocks later (pallet_inference::offchain, RESUBMIT_AFTER).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { connect, removeDir, sleep, startNode, tempDir } from './helpers.mjs';
import { demoInput, requestInference, rpc, setUpServing, waitForResult } from './lib/chain.mjs';
import { EXECUTOR_BIN, startExecutor } from './lib/executor.mjs';

/** The pending extrinsics of the node at `url` that settle request `id`. */
async function pendingResults(api, url, id) {
  const pending = await rpc(url, 'author_pendingExtrinsics');
  return pending
    .map((hex) => api.createType('Extrinsic', hex))
    .filter(({ method }) => method.section === 'inference' && method.method === 'submitResult')
    .filter(({ method }) => method.args[0].request.toNumber() === id);
}

test('a node restarted between submission and inclusion still settles the result', async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const store = tempDir('opg-artifacts-');
  const basePath = tempDir('opg-resubmit-');
  let executor;
  let node;
  let api;
  try {
    const printed = execFileSync(EXECUTOR_BIN, ['generate', '--widths', '784,56,10', '--seed', '3', '--store', store],
      { encoding: 'utf8' });
    const model = { hash: printed.match(/^hash: (0x[0-9a-f]+)$/m)[1], size: Number(printed.match(/^size: (\d+)$/m)[1]) };
    executor = await startExecutor(['--store', store]);
    const args = ['--dev', '--base-path', basePath, '--executor-url', executor.url];
    node = await startNode(args);
    api = await connect(node);
    const { modelId } = await setUpServing(api, keyring,
      { modelHash: model.hash, modelSize: model.size, inputLen: 784, outputLen: 10 });
    const { id } = await requestInference(api, keyring.addFromUri('//Bob'), modelId, demoInput(784, 11),
      { window: 30 });

    // The worker submits the result after importing the request's block; the next block is
    // seconds away. Stop the node as soon as the result waits in its pool.
    const deadline = Date.now() + 30000;
    let pending = [];
    while (pending.length === 0 && Date.now() < deadline) {
      pending = await pendingResults(api, node.url, id);
      if (pending.length === 0) await sleep(100);
    }
    assert.equal(pending.length, 1, 'the worker submitted the result');
    assert.notEqual(await rpc(node.url, 'inference_request', id), null, 'not yet included');
    await api.disconnect();
    await node.stop();

    node = await startNode(args);
    api = await connect(node);
    assert.deepEqual(await pendingResults(api, node.url, id), [], 'a restarted node\'s pool is empty');
    const result = await waitForResult(node.url, id, 150000);
    assert.ok(result.output.inline, 'settled with its output');
    assert.equal(await rpc(node.url, 'inference_request', id), null, 'settled, not expired');
    const record = await api.query.inference.results(id);
    assert.ok(record.isSome, 'the settled record is on chain');
  } finally {
    await api?.disconnect();
    await node?.stop();
    executor?.stop();
    removeDir(store);
    removeDir(basePath);
  }
});
