// A node stopped and restarted on the same base path continues its chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestNumber, connect, finalizedNumber, removeDir, startNode, tempDir, waitFor } from './helpers.mjs';

test('restart on the same base path continues from the stored height', async () => {
  const basePath = tempDir('opg-restart-');
  try {
    let node = await startNode(['--dev', '--base-path', basePath]);
    let api = await connect(node);
    const genesis = api.genesisHash.toHex();
    await waitFor('finalized >= 3', () => finalizedNumber(api), (n) => n >= 3, 90000);
    const heightBefore = await bestNumber(api);
    const hashBefore = (await api.rpc.chain.getBlockHash(heightBefore)).toHex();
    await api.disconnect();
    await node.stop();

    node = await startNode(['--dev', '--base-path', basePath]);
    api = await connect(node);
    try {
      assert.equal(api.genesisHash.toHex(), genesis, 'same chain');
      const heightAtStart = await bestNumber(api);
      assert.ok(heightAtStart >= heightBefore, `restarted at ${heightAtStart}, had ${heightBefore}`);
      assert.equal((await api.rpc.chain.getBlockHash(heightBefore)).toHex(), hashBefore, 'the stored blocks are kept');
      await waitFor('new blocks after restart', () => bestNumber(api), (n) => n > heightAtStart + 1, 60000);
      await waitFor('finality after restart', () => finalizedNumber(api), (n) => n > heightBefore, 60000);
    } finally {
      await api.disconnect();
      await node.stop();
    }
  } finally {
    removeDir(basePath);
  }
});
