// What the SDKs' tests run against: a --dev chain with the 784-56-10 demo model published
// for vanilla and ZKML (its keys set up with opg-zk), served on chain by the development
// node key through one executor, which also sells it on a public listener with its own
// registered key (direct paid calls).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { stringToU8a, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { NODE_BIN, connect, freePort, removeDir, startNode, tempDir } from '../helpers.mjs';
import { MODES, registerNode, setUpServing } from './chain.mjs';
import { EXECUTOR_BIN, startExecutor } from './executor.mjs';

export const ZK_BIN = path.join(path.dirname(NODE_BIN), 'opg-zk');

/**
 * Starts it all; { node, api, executor, gateway (the public URL), modelId, directKey, store,
 * zkKeys, work (a scratch directory), stop() }.
 */
export async function startSdkChain(prefix) {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const store = tempDir(`${prefix}-store-`);
  const work = tempDir(`${prefix}-work-`);
  const zkKeys = tempDir(`${prefix}-zk-`);
  const printed = execFileSync(EXECUTOR_BIN, ['generate', '--widths', '784,56,10', '--seed', '5', '--store', store],
    { encoding: 'utf8' });
  const model = { hash: printed.match(/^hash: (0x[0-9a-f]+)$/m)[1], size: Number(printed.match(/^size: (\d+)$/m)[1]) };
  execFileSync(ZK_BIN, ['setup', path.join(store, model.hash.slice(2)), '--out',
    path.join(zkKeys, model.hash.slice(2)), '--seed', '1'], { stdio: 'ignore' });
  const verifyingKey = readFileSync(path.join(zkKeys, model.hash.slice(2), 'verifying.key'));

  const node = await startNode(['--dev', '--tmp']);
  const api = await connect(node);
  // The development node key (in the node's keystore) serves on-chain requests; the
  // executor's own key sells direct calls.
  const { modelId } = await setUpServing(api, keyring, { modelHash: model.hash, modelSize: model.size, inputLen: 784,
    outputLen: 10, verifyingKey: new Uint8Array(verifyingKey) });
  const seed = randomBytes(32);
  const keyFile = path.join(work, 'node-key.hex');
  writeFileSync(keyFile, seed.toString('hex'));
  const directKey = keyring.addFromSeed(seed);
  await registerNode(api, keyring, directKey, [modelId], MODES.vanilla);
  const publicPort = await freePort();
  const executor = await startExecutor(['--store', store, '--zk-keys', zkKeys, '--node-key', keyFile,
    '--chain-rpc', node.url, '--direct-model', String(modelId), '--public-listen', `127.0.0.1:${publicPort}`]);
  const hex = (text) => u8aToHex(stringToU8a(text));
  await api.rpc.offchain.localStorageSet('PERSISTENT', hex('opg::executor-url'), hex(executor.url));
  await api.rpc.offchain.localStorageSet('PERSISTENT', hex('opg::executor-node-key'), u8aToHex(directKey.publicKey));
  return {
    node, api, executor, gateway: `http://127.0.0.1:${publicPort}`, modelId, directKey, store, zkKeys, work,
    async stop() {
      await api.disconnect();
      await node.stop();
      executor.stop();
      for (const dir of [store, zkKeys, work]) removeDir(dir);
    },
  };
}
