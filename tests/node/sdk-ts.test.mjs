// The TypeScript SDK (@opg/sdk, sdk/ts) against a --dev chain on Node 20 (no global
// WebSocket: the SDK falls back to `ws`), through polkadot-api with descriptors generated
// from the node's own runtime: examples/ts/verified-inference.mjs requests, pays and
// verifies (Groth16 in JS) each way; chain errors are named after the pallet's error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { ChainError, Client, fromSeed } from '@opg/sdk';
import { removeDir, run, tempDir } from './helpers.mjs';
import { MODES, demoInput } from './lib/chain.mjs';
import { EXECUTOR_BIN, startExecutor } from './lib/executor.mjs';
import { startSdkChain } from './lib/sdk.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');

let chain;
let node;
let executor;
let gateway;
let modelId;
let directKey;

before(async () => {
  chain = await startSdkChain('opg-sdkts');
  ({ node, executor, gateway, modelId, directKey } = chain);
});

after(async () => {
  await chain?.stop();
});

test('the TypeScript example requests, pays and verifies an inference each way, and catches an altered answer', async () => {
  const example = await run(process.execPath, [path.join(ROOT, 'examples/ts/verified-inference.mjs'), '--url', node.url,
    '--signer', '//Bob', '--model', String(modelId), '--gateway', gateway], { timeout: 600000 });
  assert.equal(example.status, 0, `${example.stdout}\n${example.stderr}`);
  const steps = Object.fromEntries(example.stdout.trim().split('\n').map((line) => JSON.parse(line)).map((s) => [s.step, s]));
  assert.ok(steps.models.models.some((m) => m.id === modelId && (m.modes & MODES.zkml)));
  assert.match(steps['on-chain vanilla'].verdict, /^verified: input, model, output, node registered, signature$/);
  assert.match(steps['on-chain zkml'].verdict, /^verified: .*signature, proof$/);
  assert.match(steps.direct.verdict, /^verified: node named, node registered, network, signature$/);
  assert.equal(steps.direct.cumulative, String(2n * 10n ** 18n), 'two calls at 1 OPG on one channel');
  assert.equal(steps['altered answer'].verified, false);
  assert.match(steps['altered answer'].verdict, /signature failed/);
});

test('through the SDK: models read with typed descriptors, node keys checked, a result challenged, chain errors named', async () => {
  const client = await Client.connect(node.url, { signer: '//Charlie', gateway });
  try {
    const model = await client.models.get(modelId);
    assert.equal(model.format, 'QuantizedInteger');
    assert.ok(await client.nodes.get(directKey.publicKey), 'the direct node is registered');
    assert.equal(await client.nodes.get(new Uint8Array(32).fill(9)), undefined);
    await assert.rejects(client.models.get(4_000_000), (e) => e instanceof ChainError && e.error === 'ModelHub.UnknownModel');
    await assert.rejects(client.channels.openTo(new Uint8Array(32).fill(7), 1n),
      (e) => e instanceof ChainError && e.error === 'Channels.DepositTooLow');
    // A settled vanilla result's payment is held through its challenge window, in which
    // anyone may challenge it with the bond (unless sampling already opened its case, 1 %).
    const settled = await client.infer(modelId, demoInput(784, 12));
    if ((await client.verification.case(settled.id)) === undefined) {
      const challenged = await client.verification.challenge(settled.id);
      assert.equal(challenged.bond, (await client.verification.params()).challenge_bond);
      assert.equal((await client.verification.case(settled.id)).id, challenged.case);
    }
    await assert.rejects(client.verification.challenge(settled.id),
      (e) => e instanceof ChainError && e.error === 'Verification.AlreadyChecked');
    assert.equal((await client.verification.held(settled.id)).disputed, true, 'held until its case ends');
    await assert.rejects(client.verification.challenge(999_999n),
      (e) => e instanceof ChainError && e.error === 'Verification.NotChallengeable');
    // A direct answer whose node is not registered fails 'node registered', whoever signed it.
    const answer = await client.direct(modelId, demoInput(784, 11));
    const stranger = fromSeed(randomBytes(32));
    const { DirectAnswer, messages } = await import('@opg/sdk');
    const { sha256 } = await import('@noble/hashes/sha2');
    const forged = new DirectAnswer(answer.genesis, answer.modelHash, answer.path, answer.body, answer.output, stranger.publicKey,
      stranger.sign(messages.directAnswer(answer.genesis, answer.modelHash, answer.callDigest, sha256(answer.output), answer.cumulative)));
    forged.cumulative = answer.cumulative;
    assert.ok(forged.verify(), "the stranger's own signature holds");
    const verdict = await client.verify(forged);
    assert.equal(verdict.ok, false);
    assert.match(verdict.toString(), /node registered failed/);
  } finally {
    client.destroy();
  }
});

test('through the SDK: a model file uploaded to a node and published, a TEE node registered and attested', async () => {
  const client = await Client.connect(node.url, { signer: '//Dave' });
  const fresh = tempDir('opg-sdkts-fresh-');
  const teeStore = tempDir('opg-sdkts-tee-');
  let tee;
  try {
    const printed = execFileSync(EXECUTOR_BIN, ['generate', '--widths', '784,8,10', '--seed', '9', '--store', fresh],
      { encoding: 'utf8' });
    const hash = printed.match(/^hash: (0x[0-9a-f]+)$/m)[1];
    const data = new Uint8Array(readFileSync(path.join(fresh, hash.slice(2))));
    const artifact = await client.models.upload(data, executor.url);
    assert.equal(Buffer.from(artifact.hash).toString('hex'), hash.slice(2));
    const id = await client.models.publish({ name: 'ts-mlp', artifact, price: 5n * 10n ** 17n,
      schema: { inputs: [{ shape: [784], dtype: 'I8' }], outputs: [{ shape: [10], dtype: 'I8' }] } });
    const model = await client.models.get(id);
    assert.deepEqual([model.name, model.format, model.price, model.size, model.modes], ['ts-mlp', 'QuantizedInteger',
      5n * 10n ** 17n, BigInt(data.length), MODES.vanilla]);
    await assert.rejects(client.models.upload(data, 'http://127.0.0.1:9'), (e) => e instanceof ChainError && e.error === 'upload failed');

    const dave = new Keyring({ type: 'sr25519' }).addFromUri('//Dave');
    tee = await startExecutor(['--store', teeStore, '--evidence', 'dev', '--operator', u8aToHex(dave.publicKey)]);
    const eve = client.withSigner('//Eve');   // the same connection, another account
    await assert.rejects(eve.nodes.register({ executor: tee.url, models: [modelId], modes: MODES.vanilla | 0b010, bond: 1000n * 10n ** 18n }),
      (e) => e instanceof ChainError && e.error === 'wrong operator');
    const key = await client.nodes.register({ executor: tee.url, models: [modelId], modes: MODES.vanilla | 0b010, bond: 1000n * 10n ** 18n });
    assert.equal(u8aToHex(key), tee.health.node, "the executor's own key");
    const attested = await client.nodes.attest(key, tee.url);
    assert.equal(attested.tee.type, 'Nitro');
    assert.ok(await client.nodes.attestation(key), 'the registry holds the attestation');
    // The operator takes it out of service: no new work; the bond only after unbonding.
    tee.stop();
    const exit = await client.nodes.unregister(key);
    assert.ok(exit.until > 0);
    await assert.rejects(client.nodes.unregister(key), (e) => e instanceof ChainError && e.error === 'NodeRegistry.NodeNotActive');
    await assert.rejects(client.nodes.withdraw(key), (e) => e instanceof ChainError && e.error === 'NodeRegistry.StillUnbonding');
  } finally {
    tee?.stop();
    client.destroy();
    removeDir(fresh);
    removeDir(teeStore);
  }
});

test('a client destroyed at once leaves nothing behind to throw (polkadot-api retries after destroy)', async () => {
  // Regression: polkadot-api 2.2 answers the follow requests that destroy() fails by retrying
  // 250 ms later, which throws "Not connected" from a timer: plain createClient + destroy
  // right after connecting did so in 7 of 8 tries here. The SDK closes its socket quietly.
  const uncaught = [];
  const record = (e) => uncaught.push(e.message);
  process.on('uncaughtException', record);
  try {
    for (let i = 0; i < 8; i += 1) {
      const client = await Client.connect(node.url);
      client.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  } finally {
    process.off('uncaughtException', record);
  }
  assert.deepEqual(uncaught, []);
});
