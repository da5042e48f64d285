// Verification nodes end to end on a --dev chain: the development node serves a quantized
// model with a Groth16 verifying key through its executor; a second opg-node, a
// verification node with its own honest executor, holds two verifier keys (operators Bob
// and Charlie) in its keystore. Its off-chain worker re-executes the results it is drawn
// for and commits, then reveals, its verdicts. With an honest executor every sampled
// result is upheld and nothing is slashed; once the serving node's executor cheats (the
// test build's `--cheat corrupt-outputs`), the client challenges its wrong result: the
// committee finds it wrong, the node's worker cannot prove the output it claimed (its
// executor's proof is of the true output), so at the proof deadline the node is slashed,
// the verifiers and the challenger are paid, and the client is refunded.
// A private request's result is sampled too: its input is its requester's alone on the
// serving executor, which shows it to the verifiers only on their node keys' read
// permissions, once its node says they are seated on the result's case.
// A honeypot: governance names a honeypot authority key; a result of the (cheating) node is
// challenged, and once its committee has committed, the node's key and the authority's sign
// its exposure: the case ends overturned at its tally, nothing is slashed, the verifiers
// that found it wrong share the surcharge.
// A TorchScript model published with a tolerance: a result whose bytes differ from the
// verifiers' re-execution by a rounding (the test build's `--cheat round-outputs`) is
// upheld, since its every element is within the tolerance.
// A verification program's honeypot on a production node: `opg honeypot` plants an input
// on the node's executor (POST /v1/honeypots), requests it, challenges the wrong answer and
// exposes it; both verifiers catch it, the node is not slashed, its other answers are right.
// Governance parameters are set as governance would (sudo on the dev chain): every result
// sampled while the node is honest, committees of both verifiers, a 5-block proof period.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { stringToHex, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress, sha256AsU8a } from '@polkadot/util-crypto';
import { randomBytes } from 'node:crypto';
import { NODE_BIN, connect, freePort, keepTestLog, removeDir, run, startNode, tempDir } from './helpers.mjs';
import {
  DEV_NODE_SEED, MODES, OPG, demoInput, eventOf, publishModel, registerNode, requestInference, rpc, send, setUpServing, useExecutor, waitForResult,
} from './lib/chain.mjs';
import { inferPath, openChannel, voucherHeader } from './lib/direct.mjs';
import { CHEATING_EXECUTOR_BIN, EXECUTOR_BIN, HEADERS, PATHS, startExecutor } from './lib/executor.mjs';
import { callDigest, honeypotMessage, registrationMessage } from './lib/messages.mjs';

const BILLION = 1_000_000_000;
const VERIFIER_ROLE = 0b100;
const VERIFIER_SEEDS = { '//Bob': '//OpgVerifierBob', '//Charlie': '//OpgVerifierCharlie' };

const ZK_BIN = path.join(path.dirname(NODE_BIN), 'opg-zk');
const PYTHON = path.join(process.env.OPG_VENV ?? path.join(os.homedir(), '.cache/opg/venv'), 'bin/python');
const TORCH_SCRIPT = new URL('../../scripts/torch-model.py', import.meta.url).pathname;
const SDK_VENV = process.env.OPG_SDK_VENV ?? path.join(process.env.OPG_CACHE ?? path.join(os.homedir(), '.cache/opg'),
  'sdk-venv');
const OPG_CLI = path.join(SDK_VENV, 'bin/opg');

let store;
let zkKeys;
let model;
let honest;
let cheating;
let checking;
let node;
let verifierNode;
let api;
let keyring;
let served;

/** Every event of the blocks imported since `before` (one authority: no forks). */
const seen = [];
let stopWatching = () => {};

/** Resolves with the first event, seen so far or later, that `predicate` accepts. */
async function eventSeen(predicate, what, ms = Number(process.env.OPG_EVENT_MS ?? 240000)) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const found = seen.find(predicate);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no ${what} within ${ms / 1000} s`);
}

/** The event that resolves the case of result `id`. */
const resolvedCase = (id) => eventSeen(
  (event) => api.events.verification.CaseResolved.is(event) && event.data.result.toNumber() === id,
  `case resolved for result ${id}`,
);

/** Dispatches `call` as governance would (sudo on the dev chain); fails if it fails. */
async function governance(call) {
  const events = await send(api, api.tx.sudo.sudo(call), keyring.addFromUri('//Alice'));
  const result = eventOf(events, api.events.sudo.Sudid).data.sudoResult;
  assert.ok(result.isOk, `governance's call failed: ${result.toString()}`);
}

/** What is held of `who`'s balance for `reason` of `pallet` (as the runtime names them). */
async function heldFor(who, pallet, reason) {
  const holds = await api.query.balances.holds(who);
  return holds.filter((hold) => hold.id.type === pallet && hold.id.value.type === reason)
    .reduce((sum, hold) => sum + hold.amount.toBigInt(), 0n);
}

before(async () => {
  assert.ok(existsSync(CHEATING_EXECUTOR_BIN),
    `${CHEATING_EXECUTOR_BIN} is the test build of the executor (scripts/test builds it)`);
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  store = tempDir('opg-artifacts-');
  const printed = execFileSync(EXECUTOR_BIN, ['generate', '--widths', '784,56,10', '--seed', '5', '--store', store],
    { encoding: 'utf8' });
  model = { hash: printed.match(/^hash: (0x[0-9a-f]+)$/m)[1], size: Number(printed.match(/^size: (\d+)$/m)[1]) };
  zkKeys = tempDir('opg-zk-keys-');
  const keyDir = path.join(zkKeys, model.hash.slice(2));
  execFileSync(ZK_BIN, ['setup', path.join(store, model.hash.slice(2)), '--out', keyDir, '--seed', '1'],
    { stdio: 'ignore' });
  const verifyingKey = readFileSync(path.join(keyDir, 'verifying.key'));
  const serve = ['--store', store, '--zk-keys', zkKeys];
  honest = await startExecutor(serve);
  cheating = await startExecutor([...serve, '--cheat', 'corrupt-outputs'], { bin: CHEATING_EXECUTOR_BIN });
  checking = await startExecutor(serve);
  node = await startNode(['--dev', '--tmp', '--executor-url', honest.url]);
  api = await connect(node);
  stopWatching = await api.query.system.events((records) => seen.push(...records.map(({ event }) => event)));
  const peer = await rpc(node.url, 'system_localPeerId');
  verifierNode = await startNode(['--chain', 'dev', '--tmp', '--offchain-worker', 'always',
    '--rpc-methods', 'unsafe', '--executor-url', checking.url,
    '--bootnodes', `/ip4/127.0.0.1/tcp/${node.p2pPort}/p2p/${peer}`]);

  served = await setUpServing(api, keyring,
    { modelHash: model.hash, modelSize: model.size, inputLen: 784, outputLen: 10, verifyingKey });
  // Each verifier key: in the verification node's keystore, registered by its operator.
  for (const [operatorSeed, keySeed] of Object.entries(VERIFIER_SEEDS)) {
    const operator = keyring.addFromUri(operatorSeed);
    const key = keyring.addFromUri(keySeed);
    await rpc(verifierNode.url, 'author_insertKey', 'opgn', keySeed, u8aToHex(key.publicKey));
    const capabilities = {
      models: [served.modelId],
      modes: 0b001,
      hardware: { class: 'Cpu', gpuModel: '', gpuMemoryMib: 0 },
      endpoint: checking.url,
      jobsPerBlock: 100,
    };
    const message = registrationMessage(api.genesisHash, decodeAddress(operator.address));
    await send(api, api.tx.nodeRegistry.register(key.publicKey, VERIFIER_ROLE, capabilities, 1000n * OPG,
      key.sign(message)), operator);
  }
  const params = (await api.query.verification.parameters()).toJSON();
  await governance(api.tx.verification.setParams({
    ...params, sampleRate: BILLION, committee: 2, challengeWindow: 40, proofPeriod: 5,
  }));
});

after(async () => {
  stopWatching();
  if (process.env.OPG_TEST_LOGS) {
    keepTestLog('serving.log', node?.logs() ?? '');
    keepTestLog('verifier.log', verifierNode?.logs() ?? '');
    keepTestLog('events.log', seen
      .filter((e) => ['verification', 'inference', 'nodeRegistry'].includes(e.section))
      .map((e) => `${e.section}.${e.method} ${JSON.stringify(e.data.toHuman())}`).join('\n'));
  }
  await api?.disconnect();
  await verifierNode?.stop();
  await node?.stop();
  for (const executor of [honest, cheating, checking]) executor?.stop();
  removeDir(store);
  removeDir(zkKeys);
});

const free = async (who) => (await api.query.system.account(who)).data.free.toBigInt();
const verifierAccounts = () => Object.keys(VERIFIER_SEEDS).map((seed) => keyring.addFromUri(seed).address);

test('with an honest node every sampled result is re-executed, upheld and paid; verifiers earn the surcharge; nothing is slashed', async () => {
  const dave = keyring.addFromUri('//Dave');
  const bondBefore = (await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap().bond.toBigInt();
  const verifiersBefore = await Promise.all(verifierAccounts().map(free));
  // Many requests in one block (one `utility.batchAll`), every one sampled.
  const count = 24;
  const requests = Array.from({ length: count }, (_, i) => api.tx.inference.request(served.modelId,
    { Inline: u8aToHex(demoInput(784, 20 + i)) }, 'Vanilla', 'Individual', 2n * OPG, 20));
  const submitted = await send(api, api.tx.utility.batchAll(requests), dave);
  const ids = submitted.filter(({ event }) => api.events.inference.RequestSubmitted.is(event))
    .map(({ event }) => event.data.request.toNumber());
  assert.equal(ids.length, count);
  const resolved = await Promise.all(ids.map(resolvedCase));
  for (const event of resolved) {
    assert.equal(event.data.outcome.toString(), 'Upheld');
    assert.equal(event.data.slashed.toBigInt(), 0n);
    assert.equal(event.data.penalties.toBigInt(), 0n);
  }
  assert.equal((await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap().bond.toBigInt(), bondBefore);
  assert.equal(await heldFor(dave.address, 'Inference', 'RequestFee'), 0n, 'every fee was paid to the node');
  // Each case's 5 % surcharge of the 1 OPG price, shared by its two verifiers.
  const verifiersAfter = await Promise.all(verifierAccounts().map(free));
  verifiersAfter.forEach((balance, i) => assert.equal(balance - verifiersBefore[i],
    BigInt(count) * (OPG / 20n / 2n)));
});

/** The model's true output for `input`, from the honest verifier's executor. */
const truth = async (input) => new Uint8Array(
  await (await fetch(checking.api.infer(model.hash), { method: 'POST', body: input })).arrayBuffer());


test('a private result is sampled and upheld: its verifiers read its input on their node keys\' permissions', async () => {
  // The input only its locator has, until the serving executor fetches it for the request
  // and keeps it readable by the requester alone; the verifiers' executor has its own
  // store, the serving one as its peer, and may not fetch from loopback locators itself.
  const input = demoInput(784, 40);
  const hash = u8aToHex(sha256AsU8a(input));
  const locator = http.createServer((_, response) => response.end(Buffer.from(input)));
  await new Promise((resolve) => locator.listen(0, '127.0.0.1', resolve));
  const verifierStore = tempDir('opg-verifier-store-');
  const serving = await startExecutor(['--store', store, '--zk-keys', zkKeys, '--chain-rpc', node.url,
    '--fetch-private-addresses']);
  const verifying = await startExecutor(['--store', verifierStore, '--peer', serving.url]);
  try {
    await useExecutor(node.url, serving.url);
    await useExecutor(verifierNode.url, verifying.url);
    const ferdie = keyring.addFromUri('//Ferdie');
    const stored = { Stored: { hash, size: input.length, locator: stringToHex(`http://127.0.0.1:${locator.address().port}/in`) } };
    const events = await send(api, api.tx.inference.request(served.modelId, stored, 'Vanilla', 'Private', 2n * OPG, 20),
      ferdie);
    const id = eventOf(events, api.events.inference.RequestSubmitted).data.request.toNumber();
    const result = await waitForResult(node.url, id);
    locator.close();
    assert.equal(result.outputHash, u8aToHex(sha256AsU8a(await truth(input))), 'the output the model gives');
    assert.equal((await fetch(serving.api.artifact(hash))).status, 401, 'the input is private on the serving node');

    const event = await resolvedCase(id);
    const verdicts = seen.filter((e) => api.events.verification.Revealed.is(e) && e.data.case.eq(event.data.case))
      .map((e) => e.data.verdict.toString());
    assert.deepEqual(verdicts, ['Valid', 'Valid'], 'both verifiers read the input and re-executed it');
    assert.equal(event.data.outcome.toString(), 'Upheld');
    assert.equal(event.data.slashed.toBigInt(), 0n);
    assert.equal((await fetch(verifying.api.artifact(hash))).status, 401, 'and it stays private on the verifier');
  } finally {
    await useExecutor(node.url, honest.url);
    await useExecutor(verifierNode.url, checking.url);
    serving.stop();
    verifying.stop();
    locator.close();
    removeDir(verifierStore);
  }
});

test('a cheating node\'s challenged result is caught: the node slashed, verifiers and challenger paid, the client refunded', async () => {
  // Challenges, not sampling, from now on.
  const params = (await api.query.verification.parameters()).toJSON();
  await governance(api.tx.verification.setParams({ ...params, sampleRate: 0 }));
  await useExecutor(node.url, cheating.url);

  const eve = keyring.addFromUri('//Eve');
  const input = demoInput(784, 99);
  const { id } = await requestInference(api, eve, served.modelId, input);
  const result = await waitForResult(node.url, id);
  assert.notEqual(result.outputHash, u8aToHex(sha256AsU8a(await truth(input))), 'the chain holds a wrong output');

  const verifiers = verifierAccounts();
  const before = {
    eve: await free(eve.address),
    verifiers: await Promise.all(verifiers.map(free)),
    bond: (await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap().bond.toBigInt(),
  };
  const challenged = await send(api, api.tx.verification.challenge(id), eve);
  assert.ok(eventOf(challenged, api.events.verification.Challenged));

  const event = await resolvedCase(id);
  const caseId = eventOf(challenged, api.events.verification.Challenged).data.case;
  const steps = seen.filter((e) => api.events.verification.Advanced.is(e) && e.data.case.eq(caseId))
    .map((e) => e.data.step.toString());
  assert.deepEqual(steps, ['Revealing', 'AwaitingProof'], 'a quantized model\'s dispute waits for a proof');
  const verdicts = seen.filter((e) => api.events.verification.Revealed.is(e) && e.data.case.eq(caseId))
    .map((e) => e.data.verdict.toString());
  assert.deepEqual(verdicts, ['Invalid', 'Invalid'], 'both verifiers re-executed it and found it wrong');
  assert.ok(!seen.some((e) => api.events.verification.ProofAccepted.is(e)), 'which the cheating node cannot make');
  assert.equal(event.data.outcome.toString(), 'Overturned');
  const slashed = event.data.slashed.toBigInt();
  assert.ok(slashed > 0n, 'the node was slashed');
  const bond = (await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap().bond.toBigInt();
  assert.equal(bond, before.bond - slashed);
  const after = await Promise.all(verifiers.map(free));
  after.forEach((balance, i) => assert.ok(balance > before.verifiers[i], `verifier ${i + 1} was paid`));
  // The challenger's bond came back with its share of the slash; the fee was refunded.
  assert.equal(await heldFor(eve.address, 'Verification', 'ChallengeBond'), 0n);
  assert.equal(await heldFor(eve.address, 'Inference', 'RequestFee'), 0n);
  assert.ok(await free(eve.address) > before.eve + OPG, 'refunded and paid more than the fee');
  const verifierPaid = after.reduce((sum, balance, i) => sum + balance - before.verifiers[i], 0n);
  assert.ok(verifierPaid < slashed, 'the verifiers share the slash with the challenger');
});

test('a planted result shown a honeypot once its committee committed is overturned; its node is not slashed', async () => {
  // Still the cheating executor, still challenges only (the test above).
  await useExecutor(node.url, cheating.url);
  const authority = keyring.addFromUri('//OpgHoneypotAuthority');
  await governance(api.tx.verification.setHoneypotAuthority(u8aToHex(authority.publicKey)));

  const ferdie = keyring.addFromUri('//Ferdie');
  const { id } = await requestInference(api, ferdie, served.modelId, demoInput(784, 77));
  await waitForResult(node.url, id);
  const verifiers = verifierAccounts();
  const before = {
    verifiers: await Promise.all(verifiers.map(free)),
    bond: (await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap().bond.toBigInt(),
  };
  const challenged = await send(api, api.tx.verification.challenge(id), ferdie);
  const caseId = eventOf(challenged, api.events.verification.Challenged).data.case;
  // Not before the committee has committed: the pool would refuse it (wrong phase).
  await eventSeen((e) => api.events.verification.Advanced.is(e) && e.data.case.eq(caseId)
    && e.data.step.toString() === 'Revealing', 'the reveal phase');
  const message = honeypotMessage(api.genesisHash, caseId.toNumber(), id);
  const exposure = api.tx.verification.expose(caseId, served.nodeKey.sign(message), authority.sign(message));
  await api.rpc.author.submitExtrinsic(exposure);

  const event = await resolvedCase(id);
  assert.ok(seen.some((e) => api.events.verification.HoneypotExposed.is(e) && e.data.case.eq(caseId)));
  const verdicts = seen.filter((e) => api.events.verification.Revealed.is(e) && e.data.case.eq(caseId))
    .map((e) => e.data.verdict.toString());
  assert.deepEqual(verdicts, ['Invalid', 'Invalid'], 'both verifiers checked it');
  const steps = seen.filter((e) => api.events.verification.Advanced.is(e) && e.data.case.eq(caseId))
    .map((e) => e.data.step.toString());
  assert.deepEqual(steps, ['Revealing'], 'a honeypot waits for no proof');
  assert.equal(event.data.outcome.toString(), 'Overturned');
  assert.equal(event.data.slashed.toBigInt(), 0n, 'the planted node is not slashed');
  assert.equal(event.data.penalties.toBigInt(), 0n, 'no verifier signed it valid');
  const bond = (await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap().bond.toBigInt();
  assert.equal(bond, before.bond);
  const after = await Promise.all(verifiers.map(free));
  after.forEach((balance, i) => assert.ok(balance > before.verifiers[i], `verifier ${i + 1} earned the surcharge`));
  assert.equal(await heldFor(ferdie.address, 'Verification', 'ChallengeBond'), 0n);
  assert.equal(await heldFor(ferdie.address, 'Inference', 'RequestFee'), 0n);
  await governance(api.tx.verification.setHoneypotAuthority(null));
});

test('a TorchScript result rounded as another CPU might is upheld within the model\'s published tolerance', async () => {
  // A float model published with a tolerance (1e-6 absolute, 1e-5 relative). Its serving
  // executor answers with the first output element one float away from the true one (the
  // test build's `--cheat round-outputs`): bytes that differ, as another kind of CPU's
  // might. The verifiers' executor takes the model's schema and tolerance from the chain
  // by its id, re-executes, compares element by element, and finds the result valid.
  const dir = tempDir('opg-torch-tolerance-');
  let serving;
  let verifying;
  try {
    execFileSync(PYTHON, [TORCH_SCRIPT, '--out', dir], { stdio: 'ignore' });
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const torchStore = path.join(dir, 'store');
    execFileSync(EXECUTOR_BIN, ['put', path.join(dir, 'model.pt'), '--store', torchStore], { stdio: 'ignore' });
    const tensor = (shape) => ({ shape, dtype: 'F32', quantization: null });
    const tolerance = { absolutePpb: 1000, relativePpb: 10000 };
    const torchId = await publishModel(api, keyring, {
      name: 'torch-tolerance-test', modelHash: config.hash,
      modelSize: readFileSync(path.join(dir, 'model.pt')).length, format: 'TorchScript',
      schema: { inputs: [tensor([1, 16])], outputs: [tensor([1, 4])] }, modes: MODES.vanilla, tolerance,
    });
    assert.deepEqual((await api.query.modelHub.models(torchId)).unwrap().spec.tolerance.toJSON(), tolerance);

    writeFileSync(path.join(dir, 'serving.json'), JSON.stringify({ models: [config] }));
    writeFileSync(path.join(dir, 'verifying.json'), JSON.stringify({ models: [{ model: torchId }] }));
    serving = await startExecutor(['--store', torchStore, '--config', path.join(dir, 'serving.json'),
      '--device', 'cpu', '--cheat', 'round-outputs'], { bin: CHEATING_EXECUTOR_BIN });
    verifying = await startExecutor(['--store', torchStore, '--config', path.join(dir, 'verifying.json'),
      '--device', 'cpu', '--chain-rpc', node.url]);

    // The node and both verifiers take the model on.
    const record = (await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap();
    await registerNode(api, keyring, served.nodeKey, [served.modelId, torchId], record.capabilities.modes.toNumber());
    for (const [operatorSeed, keySeed] of Object.entries(VERIFIER_SEEDS)) {
      const key = keyring.addFromUri(keySeed);
      const capabilities = (await api.query.nodeRegistry.nodes(key.publicKey)).unwrap().capabilities.toJSON();
      await send(api, api.tx.nodeRegistry.updateCapabilities(key.publicKey,
        { ...capabilities, models: [served.modelId, torchId] }), keyring.addFromUri(operatorSeed));
    }
    await useExecutor(node.url, serving.url);
    await useExecutor(verifierNode.url, verifying.url);

    const eve = keyring.addFromUri('//Eve');
    const input = new Uint8Array(readFileSync(path.join(dir, 'input.bin'))).subarray(0, 64);
    const { id } = await requestInference(api, eve, torchId, input);
    const result = await waitForResult(node.url, id);
    const truth = new Uint8Array(await (await fetch(verifying.api.infer(config.hash), { method: 'POST', body: input }))
      .arrayBuffer());
    assert.equal(truth.length, 16);
    assert.notEqual(result.outputHash, u8aToHex(sha256AsU8a(truth)), 'the node\'s bytes are not the verifier\'s');

    const bond = (await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap().bond.toBigInt();
    const challenged = await send(api, api.tx.verification.challenge(id), eve);
    const caseId = eventOf(challenged, api.events.verification.Challenged).data.case;
    const event = await resolvedCase(id);
    const verdicts = seen.filter((e) => api.events.verification.Revealed.is(e) && e.data.case.eq(caseId))
      .map((e) => e.data.verdict.toString());
    assert.deepEqual(verdicts, ['Valid', 'Valid'], 'both verifiers found it within the tolerance');
    assert.equal(event.data.outcome.toString(), 'Upheld');
    assert.equal(event.data.slashed.toBigInt(), 0n);
    assert.equal((await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap().bond.toBigInt(), bond);
    assert.equal(await heldFor(eve.address, 'Verification', 'ChallengeBond'), 0n, 'the false challenge\'s bond is spent');
  } finally {
    await useExecutor(node.url, honest.url);
    await useExecutor(verifierNode.url, checking.url);
    serving?.stop();
    verifying?.stop();
    removeDir(dir);
  }
});

test('a verification program plants a honeypot on its production node with `opg honeypot`: caught, nothing slashed', async () => {
  // The production executor answers this one planted input wrongly, once; the program's
  // CLI requests it, challenges it, and exposes it with the node's and the authority's keys.
  assert.ok(existsSync(OPG_CLI), `no SDK environment at ${SDK_VENV}: ./scripts/test makes it`);
  await useExecutor(node.url, honest.url);
  const authority = '//OpgHoneypotAuthority';
  await governance(api.tx.verification.setHoneypotAuthority(u8aToHex(keyring.addFromUri(authority).publicKey)));
  const bond = (await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap().bond.toBigInt();
  try {
    const ran = await run(OPG_CLI, ['honeypot', String(served.modelId), '--executor', honest.url,
      '--node-key-uri', DEV_NODE_SEED, '--authority', authority, '--timeout', '400'],
    { env: { ...process.env, OPG_URL: node.url, OPG_SIGNER: '//Ferdie' }, timeout: 450000 });
    assert.equal(ran.status, 0, ran.stderr);
    const report = JSON.parse(ran.stdout);
    assert.equal(report.outcome, 'Overturned');
    assert.deepEqual(report.verdicts.map((v) => v.verdict), ['Invalid', 'Invalid'], 'both verifiers checked it');
    assert.match(ran.stderr, /every verifier caught it/);
    assert.deepEqual(await (await fetch(`${honest.url}/v1/honeypots`)).json(), { plants: [] }, 'the plant is used up');
    const event = await resolvedCase(report.request);
    assert.ok(seen.some((e) => api.events.verification.HoneypotExposed.is(e) && e.data.case.toNumber() === report.case));
    assert.equal(event.data.slashed.toBigInt(), 0n, 'the program\'s node is not slashed');
    assert.equal((await api.query.nodeRegistry.nodes(served.nodeKey.publicKey)).unwrap().bond.toBigInt(), bond);
    // Its other answers are right: a request on another input is upheld by the same verifiers.
    const input = demoInput(784, 55);
    const { id } = await requestInference(api, keyring.addFromUri('//Ferdie'), served.modelId, input);
    const result = await waitForResult(node.url, id);
    assert.equal(result.outputHash, u8aToHex(sha256AsU8a(await truth(input))));
  } finally {
    await governance(api.tx.verification.setHoneypotAuthority(null));
  }
});

test('a cheating node\'s direct call challenged by its client is caught: the call refunded from the held settlement, the node slashed', async () => {
  // A second node key, held by a cheating executor that serves the model directly over
  // HTTP; the client pays a call through a channel, the node's worker settles it (held
  // through the 40-block window), the client challenges the wrong answer with its leaf and
  // proof. The verifiers' executor fetches the call's request from the serving one by its
  // digest, on the read permission the chain backs, and re-executes it: one verifier, then
  // the other by escalation (a committee of one), find it wrong.
  const params = (await api.query.verification.parameters()).toJSON();
  await governance(api.tx.verification.setParams({ ...params, sampleRate: 0, committee: 1 }));
  const dir = tempDir('opg-direct-check-');
  const seed = randomBytes(32);
  const keyFile = path.join(dir, 'node-key.hex');
  writeFileSync(keyFile, seed.toString('hex'));
  const directKey = keyring.addFromSeed(seed);
  await registerNode(api, keyring, directKey, [served.modelId], MODES.vanilla);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const direct = await startExecutor(['--store', store, '--node-key', keyFile, '--chain-rpc', node.url,
    '--direct-model', String(served.modelId), '--public-listen', `127.0.0.1:${port}`, '--cheat', 'corrupt-outputs'],
  { bin: CHEATING_EXECUTOR_BIN });
  const verifierStore = tempDir('opg-direct-verifier-');
  execFileSync(EXECUTOR_BIN, ['generate', '--widths', '784,56,10', '--seed', '5', '--store', verifierStore],
    { stdio: 'ignore' });
  const verifying = await startExecutor(['--store', verifierStore, '--peer', publicUrl]);
  try {
    await useExecutor(verifierNode.url, verifying.url);
    // The serving node's worker settles what the direct executor served.
    await useExecutor(node.url, direct.url);
    await rpc(node.url, 'offchain_localStorageSet', 'PERSISTENT', stringToHex('opg::executor-node-key'),
      u8aToHex(directKey.publicKey));

    const ferdie = keyring.addFromUri('//Ferdie');
    const channel = await openChannel(api, ferdie, directKey.publicKey, 10n * OPG);
    const callPath = inferPath(model.hash);
    const input = demoInput(784, 77);
    const response = await fetch(`${publicUrl}${callPath}`, { method: 'POST', body: input,
      headers: { [HEADERS.paymentSignature]: voucherHeader(api, ferdie, api.genesisHash, channel, OPG, callPath, input) } });
    assert.equal(response.status, 200, await response.clone().text());
    const answer = new Uint8Array(await response.arrayBuffer());
    assert.notEqual(u8aToHex(answer), u8aToHex(await truth(input)), 'the node answered wrongly');
    const digest = u8aToHex(callDigest(callPath, input));
    assert.equal((await fetch(direct.api.artifact(digest))).status, 401, 'the call is private on the serving node');

    const ofChannel = (kind) => (event) => kind.is(event) && event.data.channel.toNumber() === channel;
    const settled = await eventSeen(ofChannel(api.events.channels.Settled), 'the channel settled');
    const index = settled.data.index.toNumber();
    await eventSeen(ofChannel(api.events.channels.PaymentHeld), 'the settlement held');
    const served = await (await fetch(`${publicUrl}${PATHS.served}/${digest}`)).json();
    const leaf = { ...served.call, amount: BigInt(served.call.amount) };

    const before = {
      ferdie: await free(ferdie.address),
      verifiers: await Promise.all(verifierAccounts().map(free)),
      bond: (await api.query.nodeRegistry.nodes(directKey.publicKey)).unwrap().bond.toBigInt(),
    };
    // A leaf the root does not cover is refused; the served one opens a case.
    await assert.rejects(send(api, api.tx.channels.challengeCall(channel, index, served.modelId,
      { ...leaf, amount: leaf.amount + 1n }, served.proof), ferdie), /channels.NotServed/);
    const challenged = await send(api, api.tx.channels.challengeCall(channel, index, served.modelId, leaf,
      served.proof), ferdie);
    const id = eventOf(challenged, api.events.channels.CallChallenged).data.id.toBigInt();
    assert.ok(id >= 2n ** 63n, 'a direct call\'s id');
    const caseId = eventOf(challenged, api.events.verification.Challenged).data.case;

    const event = await eventSeen((e) => api.events.verification.CaseResolved.is(e) && e.data.result.toBigInt() === id,
      `case resolved for direct call ${id}`);
    const verdicts = seen.filter((e) => api.events.verification.Revealed.is(e) && e.data.case.eq(caseId))
      .map((e) => e.data.verdict.toString());
    assert.deepEqual(verdicts, ['Invalid', 'Invalid'], 'both verifiers read the call and re-executed it');
    assert.equal(event.data.outcome.toString(), 'Overturned');
    const slashed = event.data.slashed.toBigInt();
    assert.ok(slashed > 0n, 'the node was slashed');
    assert.equal((await api.query.nodeRegistry.nodes(directKey.publicKey)).unwrap().bond.toBigInt(), before.bond - slashed);
    const refunded = await eventSeen((e) => api.events.channels.CallRefunded.is(e) && e.data.id.toBigInt() === id,
      'the call refunded');
    assert.equal(refunded.data.refund.toBigInt(), OPG, 'what the call was charged');
    const after = await Promise.all(verifierAccounts().map(free));
    after.forEach((balance, i) => assert.ok(balance > before.verifiers[i], `verifier ${i + 1} was paid`));
    assert.equal(await heldFor(ferdie.address, 'Verification', 'ChallengeBond'), 0n);
    assert.ok(await free(ferdie.address) > before.ferdie + OPG, 'refunded, bond back, and a share of the slash');
    // The settlement's one call was refunded: nothing is left for its window's end to pay.
    const held = await api.query.channels.heldSettlements(channel, index);
    if (held.isSome) {
      assert.equal(held.unwrap().paid.toBigInt() + held.unwrap().protocolFee.toBigInt(), 0n, 'nothing left to pay');
    }
    assert.equal(await heldFor(ferdie.address, 'Channels', 'ChannelDeposit'), 9n * OPG, 'the deposit less the call, refunded');
  } finally {
    await useExecutor(verifierNode.url, checking.url);
    await useExecutor(node.url, honest.url);
    // No key held by an executor any more (an empty value is none).
    await rpc(node.url, 'offchain_localStorageSet', 'PERSISTENT', stringToHex('opg::executor-node-key'), '0x');
    direct.stop();
    verifying.stop();
    removeDir(dir);
    removeDir(verifierStore);
  }
});

test('a production executor refuses to cheat', () => {
  const run = spawnSync(EXECUTOR_BIN, ['serve', '--store', store, '--listen', '127.0.0.1:0', '--cheat', 'corrupt-outputs'],
    { encoding: 'utf8', timeout: 30000 });
  assert.notEqual(run.status, 0, 'it did not start');
  assert.match(run.stderr, /--cheat is for test builds only/);
});
