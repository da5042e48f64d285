// The whole inference loop on a --dev chain: opg-executor serves quantized models from its
// artifact store (an MLP, and a CNN imported from ONNX) and proves them with keys from
// `opg-zk setup`; the node's off-chain worker runs the requests assigned to the node key in
// its keystore and submits signed results, with Groth16 proofs for ZKML requests; the
// chain verifies and pays the node.
// Checked with plain @polkadot/api and the node's inference_* RPC.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { sha256AsU8a } from '@polkadot/util-crypto';
import { NODE_BIN, connect, removeDir, startNode, tempDir } from './helpers.mjs';
import {
  MODES, OPG, demoInput, eventOf, publishModel, registerNode, requestInference, resultMessageOf, rpc, send,
  setUpServing, verifyBatchProof, verifyResult, waitForResult,
} from './lib/chain.mjs';
import { EXECUTOR_BIN, HEADERS, startExecutor } from './lib/executor.mjs';
import { artifactReadMessage } from './lib/messages.mjs';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

const ZK_BIN = path.join(path.dirname(NODE_BIN), 'opg-zk');

let store;
let zkKeys;
let verifyingKey;
let otherSetupKey;
let executor;
let executorUrl;
let node;
let api;
let keyring;
let model;

async function infer(input) {
  const response = await fetch(executor.api.infer(model.hash), { method: 'POST', body: input });
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
  // The executor's keys, and the verifying key of another setup of the same model.
  zkKeys = tempDir('opg-zk-keys-');
  const setup = (out, seed) => {
    execFileSync(ZK_BIN, ['setup', path.join(store, model.hash.slice(2)), '--out', out, '--seed', seed],
      { stdio: 'ignore' });
    return readFileSync(path.join(out, 'verifying.key'));
  };
  verifyingKey = setup(path.join(zkKeys, model.hash.slice(2)), '1');
  otherSetupKey = setup(path.join(zkKeys, 'other-setup'), '2');

  executor = await startExecutor(['--store', store, '--zk-keys', zkKeys]);
  executorUrl = executor.url;
  node = await startNode(['--dev', '--tmp', '--executor-url', executorUrl]);
  api = await connect(node);
});

after(async () => {
  await api?.disconnect();
  await node?.stop();
  executor?.stop();
  removeDir(store);
  removeDir(zkKeys);
});

/** The development node serving the test model in vanilla and ZKML modes. */
function served() {
  return setUpServing(api, keyring,
    { modelHash: model.hash, modelSize: model.size, inputLen: 784, outputLen: 10, verifyingKey });
}

test('a request is served by the off-chain worker and executor, and paid', async () => {
  const { modelId, nodeKey } = await served();
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
  const { modelId } = await served();
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
    assert.equal(proof.leaf.request, String(id), 'ids are decimal strings: a u64 does not fit a JS number');
    assert.equal(result.evidence.batch, proof.batch);
    assert.ok(verifyBatchProof(proof), 'the leaf proves into the signed root');
    proof.leaf.outputHash = u8aToHex(sha256AsU8a(new Uint8Array([1])));
    assert.ok(!verifyBatchProof(proof), 'a different output does not');
  }
});

test('inference_submitRequest forwards signed requests only', async () => {
  const dave = keyring.addFromUri('//Dave');
  const request = api.tx.inference.request(0, { Inline: '0x01' }, 'Vanilla', 'Individual', 2n * OPG, 10);
  await request.signAsync(dave);
  const hash = await rpc(node.url, 'inference_submitRequest', request.toHex());
  assert.match(hash, /^0x[0-9a-f]{64}$/);
  // The same again: refused in words (no `[Any { .. }]` debug text).
  await assert.rejects(rpc(node.url, 'inference_submitRequest', request.toHex()),
    (e) => e.message === 'inference_submitRequest: transaction pool refused the request: already imported: ' +
      'the same transaction is in the pool');
  // Request ids as numbers or decimal strings, up to 2^64 - 1; anything else says what an id is.
  assert.equal(await rpc(node.url, 'inference_result', '18446744073709551615'), null);
  for (const bad of ['18446744073709551616', -1, '0x01']) {
    await assert.rejects(rpc(node.url, 'inference_result', bad), /a request id is an integer from 0 to 2\^64 - 1/);
  }

  const transfer = api.tx.balances.transferKeepAlive(dave.address, 1n);
  await transfer.signAsync(keyring.addFromUri('//Eve'));
  await assert.rejects(rpc(node.url, 'inference_submitRequest', transfer.toHex()), /does not call inference.request/);
  await assert.rejects(rpc(node.url, 'inference_submitRequest', '0x0102'), /not an OPG extrinsic/);
});

test('a ZKML request is proven by the executor, verified by the runtime and paid', async () => {
  const { modelId, nodeKey } = await served();
  const input = demoInput(784, 11);
  const { id } = await requestInference(api, keyring.addFromUri('//Bob'), modelId, input, { mode: 'Zkml' });
  const result = await waitForResult(node.url, id);
  assert.equal(result.mode, 'Zkml');
  assert.equal(result.node, u8aToHex(nodeKey.publicKey));
  assert.equal(result.output.inline, u8aToHex(await infer(input)));
  assert.match(result.evidence.proof, /^0x[0-9a-f]{256}$/);
  assert.equal(result.evidence.statementVersion, 1);
  assert.ok(verifyResult(result), 'the node key signed the result message too');
  assert.equal(result.paid, (OPG * 95n / 100n).toString());
});

test('stored inputs: a ZKML request proven from the executor\'s store, and a private request', async () => {
  const { modelId, nodeKey } = await served();
  // The input goes to the store, not on chain; the requester gives its hash and commitment.
  const input = demoInput(784, 21);
  const dir = tempDir('opg-stored-input-');
  const file = path.join(dir, 'input.bin');
  writeFileSync(file, input);
  const put = execFileSync(EXECUTOR_BIN, ['put', file, '--store', store], { encoding: 'utf8' });
  const hash = put.match(/^hash: (0x[0-9a-f]+)$/m)[1];
  const commit = JSON.parse(execFileSync(ZK_BIN, ['commit', file], { encoding: 'utf8' }));
  removeDir(dir);
  assert.equal(commit.sha256, hash);

  const stored = { Stored: { hash, size: input.length, locator: '0x' } };
  const events = await send(api, api.tx.inference.requestZkmlStored(modelId, stored, commit.input_commitment, OPG, 20),
    keyring.addFromUri('//Bob'));
  const id = eventOf(events, api.events.inference.RequestSubmitted).data.request.toNumber();
  const open = await rpc(node.url, 'inference_request', id, events.blockHash);
  assert.equal(open.input.stored.hash, hash, 'only the hash is on chain');
  const result = await waitForResult(node.url, id);
  assert.equal(result.mode, 'Zkml');
  assert.equal(result.node, u8aToHex(nodeKey.publicKey));
  assert.equal(result.output.inline, u8aToHex(await infer(input)));
  assert.match(result.evidence.proof, /^0x[0-9a-f]{256}$/);
  assert.equal(result.paid, (OPG * 95n / 100n).toString());

  // Another stored input in a private vanilla request: input and output stay hashes, and
  // the executor serves the output to the requester alone, on its signed read permission.
  const secret = demoInput(784, 22);
  const secretDir = tempDir('opg-private-input-');
  writeFileSync(path.join(secretDir, 'input.bin'), secret);
  const putSecret = execFileSync(EXECUTOR_BIN, ['put', path.join(secretDir, 'input.bin'), '--store', store],
    { encoding: 'utf8' });
  removeDir(secretDir);
  const secretStored = { Stored: { hash: putSecret.match(/^hash: (0x[0-9a-f]+)$/m)[1], size: secret.length, locator: '0x' } };
  const bob = keyring.addFromUri('//Bob');
  const privateEvents = await send(api, api.tx.inference.request(modelId, secretStored, 'Vanilla', 'Private', 2n * OPG, 20), bob);
  const privateId = eventOf(privateEvents, api.events.inference.RequestSubmitted).data.request.toNumber();
  const privateResult = await waitForResult(node.url, privateId);
  const outputHash = privateResult.output.hash;
  const read = (signer) => {
    const notAfter = Math.floor(Date.now() / 1000) + 60;
    const headers = !signer ? {} : {
      [HEADERS.account]: u8aToHex(signer.publicKey),
      [HEADERS.notAfter]: String(notAfter),
      [HEADERS.signature]: u8aToHex(signer.sign(artifactReadMessage(hexToU8a(outputHash), notAfter))),
    };
    return fetch(executor.api.artifact(outputHash), { headers });
  };
  assert.equal((await read(null)).status, 401, 'knowing the output hash is not enough');
  assert.equal((await read(keyring.addFromUri('//Charlie'))).status, 403, 'another account is refused');
  const granted = await read(bob);
  assert.equal(granted.status, 200, await granted.clone().text());
  const bytes = new Uint8Array(await granted.arrayBuffer());
  assert.equal(u8aToHex(sha256AsU8a(bytes)), outputHash);
  assert.equal(u8aToHex(bytes), u8aToHex(await infer(secret)));
});

test('the runtime refuses tampered, replayed, stolen and malformed proofs and proofs under another key', async () => {
  const { nodeKey: devNode } = await served();
  const bob = keyring.addFromUri('//Bob');
  // A second node whose key no keystore holds: this test answers for it.
  const tester = keyring.addFromUri('//OpgZkTestNode');
  const base = { modelHash: model.hash, modelSize: model.size, inputLen: 784, outputLen: 10, modes: MODES.zkml };
  const zkOnly = await publishModel(api, keyring, { ...base, name: 'zk-only', verifyingKey });
  const wrongKey = await publishModel(api, keyring, { ...base, name: 'zk-wrong-key', verifyingKey: otherSetupKey });
  await registerNode(api, keyring, tester, [zkOnly, wrongKey], MODES.zkml);

  const input = demoInput(784, 12);
  const prove = async (request, node) => {
    const job = { genesis: api.genesisHash.toHex(), request, node: u8aToHex(node) };
    const response = await fetch(executor.api.prove(model.hash, job), { method: 'POST', body: input });
    assert.equal(response.status, 200, await response.clone().text());
    return { output: new Uint8Array(await response.arrayBuffer()), proof: hexToU8a(response.headers.get(HEADERS.proof)) };
  };
  const submit = (request, output, proof) => {
    const signature = tester.sign(resultMessageOf(api.genesisHash, request, model.hash, input, output));
    const result = { request, node: tester.publicKey, output: { Inline: u8aToHex(output) } };
    return api.tx.inference.submitProvenResult(result, u8aToHex(proof), signature).send();
  };
  const refused = /Invalid Transaction/;

  const { id } = await requestInference(api, bob, zkOnly, input, { mode: 'Zkml' });
  const { output, proof } = await prove(id, tester.publicKey);
  const tampered = proof.slice();
  tampered[40] ^= 1;
  await assert.rejects(submit(id, output, tampered), refused, 'a tampered proof');
  await assert.rejects(submit(id, output, (await prove(id + 1000, tester.publicKey)).proof), refused,
    'a proof for another request');
  await assert.rejects(submit(id, output, (await prove(id, devNode.publicKey)).proof), refused,
    'a proof bound to another node');
  const nonCanonical = proof.slice();
  nonCanonical.fill(0xff, 0, 32);
  await assert.rejects(submit(id, output, nonCanonical), refused, 'a non-canonical point encoding');
  await assert.rejects(submit(id, output, proof.slice(0, 127)), refused, 'a truncated proof');
  const other = await requestInference(api, bob, wrongKey, input, { mode: 'Zkml' });
  await assert.rejects(submit(other.id, output, (await prove(other.id, tester.publicKey)).proof), refused,
    'a proof under another verifying key');

  await submit(id, output, proof);
  const result = await waitForResult(node.url, id);
  assert.equal(result.node, u8aToHex(tester.publicKey));
  assert.equal(result.evidence.proof, u8aToHex(proof));
});

test('a CNN imported from ONNX is proven by the executor and settled in ZKML mode', async () => {
  // PyTorch's export of a small CNN (zk/onnx/tests/fixtures), quantized by opg-zk import-onnx
  // with its defaults: an 8-bit input, 16-bit activations and output (two bytes a value).
  const fixtures = new URL('../../zk/onnx/tests/fixtures/', import.meta.url).pathname;
  const dir = tempDir('opg-onnx-');
  const file = path.join(dir, 'cnn.json');
  execFileSync(ZK_BIN, ['import-onnx', path.join(fixtures, 'cnn.onnx'), '--calibration',
    path.join(fixtures, 'inputs.f32'), '--out', file], { stdio: 'ignore' });
  const printed = execFileSync(EXECUTOR_BIN, ['put', file, '--store', store], { encoding: 'utf8' });
  const cnn = { hash: printed.match(/^hash: (0x[0-9a-f]+)$/m)[1], size: Number(printed.match(/^size: (\d+)$/m)[1]) };
  const keys = path.join(zkKeys, cnn.hash.slice(2));
  execFileSync(ZK_BIN, ['setup', file, '--out', keys, '--seed', '4'], { stdio: 'ignore' });
  removeDir(dir);

  const tensor = (length, dtype) => ({ shape: [length], dtype, quantization: null });
  const { modelId, nodeKey } = await setUpServing(api, keyring, {
    modelHash: cnn.hash, modelSize: cnn.size,
    schema: { inputs: [tensor(144, 'I8')], outputs: [tensor(10, 'I16')] },
    verifyingKey: readFileSync(path.join(keys, 'verifying.key')),
  });
  const input = demoInput(144, 13);
  const { id } = await requestInference(api, keyring.addFromUri('//Bob'), modelId, input, { mode: 'Zkml' });
  const result = await waitForResult(node.url, id);
  assert.equal(result.mode, 'Zkml');
  assert.equal(result.node, u8aToHex(nodeKey.publicKey));
  const response = await fetch(executor.api.infer(cnn.hash), { method: 'POST', body: input });
  const answer = new Uint8Array(await response.arrayBuffer());
  assert.equal(answer.length, 20, 'ten 16-bit values');
  assert.equal(result.output.inline, u8aToHex(answer));
  assert.match(result.evidence.proof, /^0x[0-9a-f]{256}$/);
  assert.equal(result.paid, (OPG * 95n / 100n).toString());
});

test('a griefing request (a stored input no one has) is declined, and the node keeps its bond', async () => {
  const { modelId, nodeKey } = await served();
  const bond = async () => (await api.query.nodeRegistry.nodes(nodeKey.publicKey)).unwrap().bond.toBigInt();
  const declines = async () => (await api.query.inference.declineCounts(nodeKey.publicKey)).toNumber();
  const [bondBefore, declinesBefore] = [await bond(), await declines()];
  let unsubscribe;
  const unservable = new Promise((resolve) => {
    api.query.system.events((records) => {
      for (const { event } of records) {
        if (api.events.inference.RequestUnservable.is(event)) resolve(event);
      }
    }).then((unsub) => { unsubscribe = unsub; });
  });
  // Its hash is of bytes no store, peer or locator holds: no node could serve it.
  const hash = u8aToHex(sha256AsU8a(new TextEncoder().encode('an input no one has')));
  const stored = { Stored: { hash, size: 784, locator: '0x' } };
  const events = await send(api, api.tx.inference.request(modelId, stored, 'Vanilla', 'Private', 2n * OPG, 20),
    keyring.addFromUri('//Charlie'));
  const id = eventOf(events, api.events.inference.RequestSubmitted).data.request.toNumber();
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('not declined in 120 s')), 120000));
  const event = await Promise.race([unservable, timeout]);
  unsubscribe?.();
  assert.equal(event.data.request.toNumber(), id);
  assert.equal(event.data.handlingFee.toBigInt(), OPG / 10n, 'the cannot-serve fee at genesis, 0.1 OPG');
  assert.equal(event.data.refunded.toBigInt(), OPG - OPG / 10n + OPG / 20n, 'and the 5 % verification surcharge');
  assert.ok((await api.query.inference.requests(id)).isNone);
  assert.equal(await bond(), bondBefore, 'no penalty for a request no one could serve');
  assert.equal(await declines(), declinesBefore + 1, 'the decline is counted');
  // The node's assignments, a page at a time: none is this request any more.
  const page = await rpc(node.url, 'inference_assignments', u8aToHex(nodeKey.publicKey), null, 2);
  assert.ok(Array.isArray(page.requests) && page.requests.length <= 2 && 'next' in page);
  assert.ok(!page.requests.includes(String(id)));
  assert.ok(page.requests.every((r) => /^\d+$/.test(r)), 'ids are decimal strings');
});
