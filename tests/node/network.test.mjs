// Four validators of the local_testnet preset on loopback: they finalize together,
// and keep finalizing with one of them killed (3 of 4 is above GRANDPA's 2/3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, finalizedNumber, freePort, removeDir, startNode, tempDir, waitFor } from './helpers.mjs';

// Fixed node keys 0x...01 to 0x...04; the peer id of 0x...01 lets the others name Alice
// as their bootnode.
const nodeKey = (index) => String(index + 1).padStart(64, '0');
const ALICE_PEER_ID = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp';

test('a four-validator network finalizes, and keeps finalizing with one validator down', async () => {
  const nodes = [];
  const dirs = [];
  const apis = [];
  try {
    const aliceP2p = await freePort();
    const bootnode = `/ip4/127.0.0.1/tcp/${aliceP2p}/p2p/${ALICE_PEER_ID}`;
    for (const [index, name] of ['alice', 'bob', 'charlie', 'dave'].entries()) {
      const dir = tempDir(`opg-net-${name}-`);
      dirs.push(dir);
      const args = ['--chain', 'local', `--${name}`, '--base-path', dir, '--name', name, '--node-key', nodeKey(index)];
      if (name !== 'alice') args.push('--bootnodes', bootnode);
      nodes.push(await startNode(args, name === 'alice' ? { p2pPort: aliceP2p } : {}));
    }
    apis.push(await connect(nodes[0]), await connect(nodes[1]));

    await waitFor('3 peers', async () => (await apis[0].rpc.system.health()).peers.toNumber(), (n) => n >= 3, 60000);
    const finalized = await waitFor('finalized >= 3', () => finalizedNumber(apis[0]), (n) => n >= 3, 120000);

    // Kill Dave without warning.
    nodes[3].proc.kill('SIGKILL');
    await nodes[3].exited;
    const target = finalized + 4;
    await waitFor(`finalized >= ${target} with Dave down`, () => finalizedNumber(apis[1]), (n) => n >= target, 180000);
    // Bob's view agrees with Alice's: one finalized chain, not two.
    const hashes = await Promise.all(apis.map((api) => api.rpc.chain.getBlockHash(target)));
    assert.equal(hashes[0].toHex(), hashes[1].toHex(), `Alice and Bob finalized the same block ${target}`);
  } catch (error) {
    for (const node of nodes) console.error(`--- ${node.url}\n${node.logs().slice(-3000)}`);
    throw error;
  } finally {
    for (const api of apis) await api.disconnect();
    for (const node of nodes) await node.stop();
    for (const dir of dirs) removeDir(dir);
  }
});
