// A TorchScript model on a --dev chain: scripts/torch-model.py writes a small MLP with
// PyTorch; opg-executor serves it on libtorch in TEE mode: it generates the node key
// itself, as an enclave does (`serve --evidence dev --operator`; no one else ever holds the
// key: the node's keystore has none, `--executor-node-key` names it), signs the
// registration's proof of possession for its operator, and produces the dev Nitro
// evidence that attests it. Vanilla and TEE requests are
// served by the off-chain worker with the executor's signatures, and settled and paid;
// batch-mode requests under a root the executor signs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, decodeAddress, signatureVerify } from '@polkadot/util-crypto';
import { connect, removeDir, run, startNode, tempDir } from './helpers.mjs';
import {
  MODES, OPG, eventOf, publishModel, registerNode, requestInference, rpc, send, verifyBatchProof, verifyResult,
  waitForResult,
} from './lib/chain.mjs';
import { EXECUTOR_BIN, startExecutor } from './lib/executor.mjs';
import { registrationMessage } from './lib/messages.mjs';

const PYTHON = path.join(process.env.OPG_VENV ?? path.join(os.homedir(), '.cache/opg/venv'), 'bin/python');
const SCRIPT = new URL('../../scripts/torch-model.py', import.meta.url).pathname;

let dir;
let executor;
let executorUrl;
let node;
let api;
let keyring;
let nodeKey;
let modelId;
let inputs;
let expected;

/** The `index`th reference input and PyTorch's output for it (float32 bytes). */
const reference = (index) => ({
  input: inputs.subarray(index * 64, (index + 1) * 64),
  output: new Float32Array(expected.buffer.slice(index * 16, (index + 1) * 16)),
});

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  dir = tempDir('opg-torch-');
  execFileSync(PYTHON, [SCRIPT, '--out', dir], { stdio: 'ignore' });
  inputs = new Uint8Array(readFileSync(path.join(dir, 'input.bin')));
  expected = new Uint8Array(readFileSync(path.join(dir, 'expected.bin')));
  const store = path.join(dir, 'store');
  const put = execFileSync(EXECUTOR_BIN, ['put', path.join(dir, 'model.pt'), '--store', store],
    { encoding: 'utf8' });
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.equal(put.match(/^hash: (0x[0-9a-f]+)$/m)[1], config.hash);
  writeFileSync(path.join(dir, 'executor.json'), JSON.stringify({ models: [config] }));

  // The node key is born in the executor and exists nowhere else.
  const alice = keyring.addFromUri('//Alice');
  const operator = u8aToHex(decodeAddress(alice.address));
  executor = await startExecutor(['--store', store, '--config', path.join(dir, 'executor.json'), '--device', 'cpu',
    '--evidence', 'dev', '--operator', operator]);
  executorUrl = executor.url;
  const { health } = executor;
  assert.match(health.node, /^0x[0-9a-f]{64}$/);
  assert.equal(health.operator, operator);
  nodeKey = { publicKey: hexToU8a(health.node) };
  assert.deepEqual(health.models.map((m) => [m.hash, m.device]), [[config.hash, 'cpu']]);

  node = await startNode(['--dev', '--tmp', '--executor-url', executorUrl,
    '--executor-node-key', u8aToHex(nodeKey.publicKey)]);
  api = await connect(node);

  const tensor = (shape) => ({ shape, dtype: 'F32', quantization: null });
  modelId = await publishModel(api, keyring, {
    name: 'torch-mlp-test',
    modelHash: config.hash,
    modelSize: readFileSync(path.join(dir, 'model.pt')).length,
    format: 'TorchScript',
    schema: { inputs: [tensor([1, 16])], outputs: [tensor([1, 4])] },
    modes: MODES.vanilla | MODES.tee,
  });
  // The proof of possession comes from the executor, for the operator it serves.
  const possession = await fetch(executor.api.registration(api.genesisHash.toHex()), { method: 'POST' })
    .then((r) => r.json());
  assert.equal(possession.node, health.node);
  assert.ok(signatureVerify(registrationMessage(api.genesisHash, decodeAddress(alice.address)), possession.signature,
    health.node).isValid);
  await registerNode(api, keyring, nodeKey, [modelId], MODES.vanilla | MODES.tee, possession.signature);

  // Attested with development Nitro evidence that the executor binds to the key it holds
  // and to its operator.
  const challenged = await send(api, api.tx.nodeRegistry.requestChallenge(nodeKey.publicKey), alice);
  const nonce = eventOf(challenged, api.events.nodeRegistry.ChallengeIssued).data.nonce.toHex();
  const evidence = await fetch(executor.api.attestation(api.genesisHash.toHex(), nonce),
    { method: 'POST' }).then((r) => r.json());
  assert.equal(evidence.node, u8aToHex(nodeKey.publicKey));
  const attested = await send(api,
    api.tx.nodeRegistry.submitAttestation(nodeKey.publicKey, { Nitro: { document: evidence.document } }), alice);
  assert.equal(eventOf(attested, api.events.nodeRegistry.NodeAttested).data.tee.toString(), 'Nitro');
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
  executor?.stop();
  if (dir) removeDir(dir);
});

for (const [mode, index] of [['Vanilla', 0], ['Tee', 1]]) {
  test(`a ${mode} request of a TorchScript model is run on libtorch, signed by the executor and paid`, async () => {
    const { input, output } = reference(index);
    const { id } = await requestInference(api, keyring.addFromUri('//Bob'), modelId, input, { mode });
    const result = await waitForResult(node.url, id);
    assert.equal(result.node, u8aToHex(nodeKey.publicKey));
    assert.ok(verifyResult(result), 'the executor signed the result message with the node key');
    const onChain = new Float32Array(hexToU8a(result.output.inline).buffer);
    assert.equal(onChain.length, 4);
    onChain.forEach((value, i) => assert.ok(Math.abs(value - output[i]) <= 1e-6 + 1e-5 * Math.abs(output[i]),
      `output ${i}: ${value} on chain, ${output[i]} from PyTorch`));
    assert.equal(result.paid, (OPG * 95n / 100n).toString(), 'the node operator was paid');
  });
}

test('TEE requests in batch mode settle under a root the executor signs over its own results', async () => {
  const charlie = keyring.addFromUri('//Charlie');
  const ids = [];
  for (const index of [2, 3]) {
    const { input } = reference(index);
    ids.push((await requestInference(api, charlie, modelId, input, { settlement: 'Batch', mode: 'Tee' })).id);
  }
  for (const id of ids) {
    const result = await waitForResult(node.url, id);
    assert.ok('batch' in result.evidence);
    const proof = await rpc(node.url, 'inference_batchProof', id);
    assert.equal(proof.node, u8aToHex(nodeKey.publicKey));
    assert.ok(verifyBatchProof(proof), 'the leaf proves into the root the executor signed');
  }
});

test('an executor configured with the model id reads its hash and schema from the chain', async () => {
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const byId = path.join(dir, 'by-id.json');
  writeFileSync(byId, JSON.stringify({ models: [{ model: modelId, max_batch: 4 }] }));
  // The same store (the model is there); no schema written anywhere but the chain.
  const second = await startExecutor(['--store', path.join(dir, 'store'), '--config', byId, '--device', 'cpu',
    '--chain-rpc', node.url.replace('ws:', 'http:')]);
  try {
    assert.deepEqual(second.health.models.map((m) => m.hash), [config.hash]);
    const { input, output } = reference(0);
    const response = await fetch(second.api.infer(config.hash), { method: 'POST', body: Buffer.from(input) });
    assert.equal(response.status, 200, await response.clone().text());
    const answer = new Float32Array((await response.arrayBuffer()));
    answer.forEach((value, i) => assert.ok(Math.abs(value - output[i]) <= 1e-6 + 1e-5 * Math.abs(output[i])));
    // A model the chain does not know: the executor refuses to start.
    const unknown = path.join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ models: [{ model: modelId + 1000 }] }));
    const refused = spawnSync(EXECUTOR_BIN, ['serve', '--listen', '127.0.0.1:0', '--store', path.join(dir, 'store'),
      '--config', unknown, '--device', 'cpu', '--chain-rpc', node.url], { encoding: 'utf8', timeout: 60000 });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /not published on this chain/);
  } finally {
    second.stop();
  }
});

test('the Python SDK publishes a PyTorch model to the node and requests it in each mode (examples/python)', async () => {
  const sdkVenv = process.env.OPG_SDK_VENV ?? path.join(process.env.OPG_CACHE ?? path.join(os.homedir(), '.cache/opg'),
    'sdk-venv');
  const example = await run(path.join(sdkVenv, 'bin/python'), [
    new URL('../../examples/python/torchscript_model.py', import.meta.url).pathname, '--url', node.url,
    '--signer', '//Alice', '--executor', executorUrl, '--model-file', path.join(dir, 'model.pt')],
  { timeout: 600000 });
  assert.equal(example.status, 0, `${example.stdout}\n${example.stderr}`);
  const steps = Object.fromEntries(example.stdout.trim().split('\n').map((line) => JSON.parse(line)).map((s) => [s.step, s]));
  assert.notEqual(steps.published.model, modelId, 'a new model hub entry for the same file');
  assert.ok(steps.serving.models.includes(steps.published.model));
  assert.equal(steps['on-chain vanilla'].verdict, 'verified: input, model, output, node registered, signature');
  assert.equal(steps['on-chain tee'].verdict,
    'verified: input, model, output, node registered, node attested, signature');
  assert.deepEqual(steps['on-chain tee'].output, steps['on-chain vanilla'].output, 'the same input, the same output');
  const sum = steps['on-chain tee'].output.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-5, `a softmax: ${sum}`);
});
