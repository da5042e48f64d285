// The Python SDK (sdk/python) and its `opg` CLI against a --dev chain, as a Python user
// drives them: one executor serves the demo model to the node's off-chain worker (on-chain
// requests, vanilla and ZKML) and sells it on its public listener (direct paid calls);
// examples/python/verified_inference.py requests, pays and verifies each way; the CLI lists,
// infers, verifies and refuses bad input with one clear line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { removeDir, run, tempDir } from './helpers.mjs';
import { demoInput } from './lib/chain.mjs';
import { EXECUTOR_BIN, startExecutor } from './lib/executor.mjs';
import { ZK_BIN, startSdkChain } from './lib/sdk.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The SDK's virtual environment, as ./scripts/test makes it. */
const SDK_VENV = process.env.OPG_SDK_VENV ?? path.join(process.env.OPG_CACHE ?? path.join(os.homedir(), '.cache/opg'),
  'sdk-venv');
const PYTHON = path.join(SDK_VENV, 'bin/python');
const OPG_CLI = path.join(SDK_VENV, 'bin/opg');

let chain;
let store;
let node;
let api;
let executor;
let gateway;
let modelId;
let work;

/** Runs the `opg` CLI against the test chain; { status, stdout, stderr }. */
function opg(args, { signer = '//Bob' } = {}) {
  return run(OPG_CLI, args, { env: { ...process.env, OPG_URL: node.url, OPG_SIGNER: signer } });
}

before(async () => {
  assert.ok(existsSync(PYTHON), `no SDK environment at ${SDK_VENV}: ./scripts/test makes it`);
  chain = await startSdkChain('opg-sdk');
  ({ node, api, executor, gateway, modelId, store, work } = chain);
});

after(async () => {
  await chain?.stop();
});

test('the Python example requests, pays and verifies an inference each way, and catches an altered answer', async () => {
  const example = await run(PYTHON, [path.join(ROOT, 'examples/python/verified_inference.py'), '--url', node.url,
    '--signer', '//Bob', '--model', String(modelId), '--gateway', gateway], { timeout: 600000 });
  assert.equal(example.status, 0, `${example.stdout}\n${example.stderr}`);
  const steps = Object.fromEntries(example.stdout.trim().split('\n').map((line) => JSON.parse(line))
    .map((step) => [step.step, step]));
  assert.ok(steps.models.models.some((m) => m.id === modelId && m.modes.includes('Zkml')));
  assert.match(steps['on-chain vanilla'].verdict, /^verified: .*node registered.*signature/);
  assert.match(steps['on-chain zkml'].verdict, /^verified: .*signature.*proof/);
  assert.match(steps.direct.verdict, /^verified: .*signature/);
  assert.equal(steps.direct.cumulative, String(2n * 10n ** 18n), 'two calls at 1 OPG on one channel');
  assert.equal(steps['altered answer'].verified, false);
  assert.match(steps['altered answer'].verdict, /signature failed/);
  assert.equal(steps.async.verdicts.length, 2, 'two calls at once through AsyncClient');
  assert.ok(steps.async.verdicts.every((verdict) => verdict.startsWith('verified: ')), steps.async.verdicts.join('; '));
  assert.equal(steps.done.directCalls, 4);
});

test('the opg CLI lists, publishes, registers a node, infers, verifies and challenges, and fails bad input with one line', async () => {
  const listed = await opg(['models', '--json']);
  assert.equal(listed.status, 0, listed.stderr);
  assert.ok(JSON.parse(listed.stdout).some((m) => m.id === modelId));

  const input = path.join(work, 'input.bin');
  writeFileSync(input, demoInput(784, 9));
  const inferred = await opg(['infer', String(modelId), '--input', input]);
  assert.equal(inferred.status, 0, inferred.stderr);
  const result = JSON.parse(inferred.stdout);
  assert.equal(result.verified, true);
  assert.deepEqual(result.checks.map((c) => c.name), ['input', 'model', 'output', 'node registered', 'signature']);

  const verified = await opg(['verify', String(result.request), '--input', input]);
  assert.equal(verified.status, 0, verified.stderr);
  assert.equal(JSON.parse(verified.stdout).verified, true);
  // Another input than the one settled: the input check fails, exit status 2.
  writeFileSync(input, demoInput(784, 10));
  const wrong = await opg(['verify', String(result.request), '--input', input]);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /NOT verified: input failed/);

  // The result's payment is held through its challenge window: anyone may challenge it by
  // posting the bond (unless sampling already opened its case, 1 % of results here).
  const request = String(result.request);
  const sampled = await opg(['case', request]);
  if (sampled.status === 0) {
    const busy = await opg(['challenge', request]);
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, /^opg: error: Verification\.AlreadyChecked/);
  } else {
    assert.match(sampled.stderr, /is not checked \(neither sampled nor challenged\)/);
    const challenged = await opg(['challenge', request]);
    assert.equal(challenged.status, 0, challenged.stderr);
    const { case: caseId, bond } = JSON.parse(challenged.stdout);
    assert.equal(BigInt(bond), 10n * 10n ** 18n, 'the dev chain\'s challenge bond, 10 OPG');
    const shown = JSON.parse((await opg(['case', request])).stdout);
    assert.equal(shown.case, caseId);
    const twice = await opg(['challenge', request]);
    assert.equal(twice.status, 1);
    assert.equal(twice.stderr.trim().split('\n').length, 1, twice.stderr);
    assert.match(twice.stderr, /^opg: error: Verification\.AlreadyChecked/);
  }
  const checked = JSON.parse((await opg(['case', request])).stdout);
  assert.equal(checked.request, result.request);
  assert.equal(checked.held.disputed, true, 'its payment stays held until the case ends');
  const unknown = await opg(['challenge', '999999']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /^opg: error: Verification\.NotChallengeable/);

  // Publishing a model file: its SHA-256 and size in the model hub, under Alice's name.
  const schema = path.join(work, 'schema.json');
  writeFileSync(schema, JSON.stringify({ inputs: [{ shape: [784], dtype: 'I8' }], outputs: [{ shape: [10], dtype: 'I8' }] }));
  const artifact = path.join(store, listed.stdout && JSON.parse(listed.stdout).find((m) => m.id === modelId).hash.slice(2));
  const published = await opg(['model', 'publish', artifact, '--name', 'cli-mlp', '--schema', schema, '--modes', 'vanilla',
    '--price', '0.5'], { signer: '//Alice' });
  assert.equal(published.status, 0, published.stderr);
  const { model: cliModel } = JSON.parse(published.stdout.trim().split('\n')[0]);
  const models = JSON.parse((await opg(['models', '--json'])).stdout);
  const cli = models.find((m) => m.id === cliModel);
  assert.deepEqual([cli.name, cli.price, cli.modes, cli.hash], ['cli-mlp', String(5n * 10n ** 17n), ['Vanilla'],
    JSON.parse(listed.stdout).find((m) => m.id === modelId).hash]);

  // An operator registers a node whose key is a seed file (as opg-executor --node-key reads it).
  const seed = randomBytes(32);
  const seedFile = path.join(work, 'cli-node.hex');
  writeFileSync(seedFile, seed.toString('hex'));
  const register = () => opg(['node', 'register', '--node-key-file', seedFile, '--models', String(modelId),
    '--modes', 'vanilla', '--bond', '1000', '--endpoint', 'http://127.0.0.1:9'], { signer: '//Charlie' });
  const registered = await register();
  assert.equal(registered.status, 0, registered.stderr);
  const nodeKey = JSON.parse(registered.stdout).node;
  assert.equal(nodeKey, u8aToHex(new Keyring({ type: 'sr25519' }).addFromSeed(seed).publicKey));
  const status = await opg(['node', 'status', nodeKey]);
  assert.equal(status.status, 0, status.stderr);
  const { record } = JSON.parse(status.stdout);
  assert.equal(record.operator, new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Charlie').address);
  assert.deepEqual(record.capabilities.models, [modelId]);
  assert.equal(record.roles, 0b001, 'an inference node by default');
  // A verification node: the same command with --roles verifier (docs/verification.md).
  const verifierSeed = path.join(work, 'cli-verifier.hex');
  writeFileSync(verifierSeed, randomBytes(32).toString('hex'));
  const verifier = await opg(['node', 'register', '--node-key-file', verifierSeed, '--roles', 'verifier', '--models',
    String(modelId), '--bond', '1000'], { signer: '//Dave' });
  assert.equal(verifier.status, 0, verifier.stderr);
  const verifierRecord = JSON.parse((await opg(['node', 'status', JSON.parse(verifier.stdout).node])).stdout).record;
  assert.equal(verifierRecord.roles, 0b100);
  const noRole = await opg(['node', 'register', '--node-key-file', verifierSeed, '--roles', 'judge', '--models', '0',
    '--bond', '1']);
  assert.equal(noRole.status, 2, 'a usage error');
  assert.match(noRole.stderr, /unknown role 'judge'/);
  const again = await register();
  assert.equal(again.status, 1);
  assert.match(again.stderr, /^opg: error: NodeRegistry\.NodeAlreadyRegistered/);
  // No executor runs for it: its operator takes it out of service (no request is assigned
  // to it from now on); it cannot exit twice, and its bond waits for the unbonding period.
  const exited = await opg(['node', 'unregister', nodeKey], { signer: '//Charlie' });
  assert.equal(exited.status, 0, exited.stderr);
  assert.ok(JSON.parse(exited.stdout).until > 0, 'the block its bond is released at');
  const twice = await opg(['node', 'unregister', nodeKey], { signer: '//Charlie' });
  assert.equal(twice.status, 1);
  assert.match(twice.stderr, /^opg: error: NodeRegistry\.NodeNotActive/);
  const early = await opg(['node', 'withdraw', nodeKey], { signer: '//Charlie' });
  assert.equal(early.status, 1);
  assert.match(early.stderr, /^opg: error: NodeRegistry\.StillUnbonding/);

  // A chain error is one line naming the pallet's error, exit status 1.
  const refused = await opg(['channel', 'open', u8aToHex(new Uint8Array(32).fill(7)), '--deposit', '0.000001']);
  assert.equal(refused.status, 1);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  assert.match(refused.stderr, /^opg: error: Channels\.DepositTooLow/);
  const unsettled = await opg(['verify', '999999']);
  assert.equal(unsettled.status, 1);
  assert.match(unsettled.stderr, /request 999999 is not settled/);
});

/** GET of an artifact from the test executor's store, on a fresh connection (curl): { status, body }. */
function artifact(hash) {
  const file = path.join(work, 'fetched.bin');
  const status = execFileSync('curl', ['-s', '-o', file, '-w', '%{http_code}', `${executor.url}/v1/artifacts/${hash}`],
    { encoding: 'utf8' });
  return { status: Number(status), body: existsSync(file) ? readFileSync(file) : null };
}

test('opg model publish uploads the file to a node and runs the ZKML setup; opg node attest attests a node', async () => {
  // A new model file: uploaded into the running executor's store, its keys made by opg-zk.
  const fresh = tempDir('opg-sdk-fresh-');
  const zkOut = tempDir('opg-sdk-zkout-');
  try {
    const printed = execFileSync(EXECUTOR_BIN, ['generate', '--widths', '784,16,10', '--seed', '6', '--store', fresh],
      { encoding: 'utf8' });
    const hash = printed.match(/^hash: (0x[0-9a-f]+)$/m)[1];
    const file = path.join(fresh, hash.slice(2));
    const schema = path.join(work, 'schema-fresh.json');
    writeFileSync(schema, JSON.stringify({ inputs: [{ shape: [784], dtype: 'I8' }], outputs: [{ shape: [10], dtype: 'I8' }] }));
    assert.equal(artifact(hash).status, 404, 'not in the store before');
    const published = await run(OPG_CLI, ['model', 'publish', file, '--name', 'uploaded-mlp', '--schema', schema,
      '--modes', 'vanilla,zkml', '--upload', executor.url, '--zk-keys', zkOut], {
      timeout: 600000, env: { ...process.env, OPG_URL: node.url, OPG_SIGNER: '//Alice', OPG_ZK: ZK_BIN },
    });
    assert.equal(published.status, 0, published.stderr);
    const out = JSON.parse(published.stdout.trim().split('\n')[0]);
    assert.equal(out.hash, hash);
    assert.match(published.stderr, /model \d+ published; it is in the store of http/);
    const stored = artifact(hash);
    assert.equal(stored.status, 200);
    assert.deepEqual(stored.body, readFileSync(file), 'the store holds the very file');
    const onChain = await api.query.modelHub.verifyingKeys(out.model);
    assert.deepEqual(Buffer.from(onChain.unwrap()), readFileSync(path.join(zkOut, hash.slice(2), 'verifying.key')),
      "the setup's verifying key is the model hub's");
    assert.ok(existsSync(path.join(zkOut, hash.slice(2), 'proving.key')), 'the proving key is left for the nodes');

    // Bytes that are not the named hash are refused by the executor: one line, exit 1.
    const wrong = path.join(work, 'not-a-model.bin');
    writeFileSync(wrong, 'x');
    const refused = await run(OPG_CLI, ['model', 'publish', wrong, '--name', 'x', '--schema', schema, '--upload',
      'http://127.0.0.1:9'], { timeout: 60000, env: { ...process.env, OPG_URL: node.url, OPG_SIGNER: '//Alice' } });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /opg: error: upload failed/);
  } finally {
    removeDir(fresh);
    removeDir(zkOut);
  }

  // A TEE node: its executor makes its key itself (development evidence here) and signs
  // the registration for its operator; the operator registers and attests it, one command each.
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const operator = keyring.addFromUri('//Dave');
  const teeStore = tempDir('opg-sdk-tee-');
  const tee = await startExecutor(['--store', teeStore, '--evidence', 'dev', '--operator', u8aToHex(operator.publicKey)]);
  const wrongOperator = await opg(['node', 'register', '--executor', tee.url, '--models', String(modelId), '--modes',
    'vanilla,tee', '--bond', '1000'], { signer: '//Eve' });
  assert.equal(wrongOperator.status, 1);
  assert.match(wrongOperator.stderr, /^opg: error: wrong operator: .*restart it with --operator/);
  const registered = await opg(['node', 'register', '--executor', tee.url, '--models', String(modelId), '--modes',
    'vanilla,tee', '--bond', '1000'], { signer: '//Dave' });
  assert.equal(registered.status, 0, registered.stderr);
  const nodeKey = JSON.parse(registered.stdout).node;
  assert.equal(nodeKey, tee.health.node, "the executor's own key");
  try {
    const attested = await opg(['node', 'attest', nodeKey, '--executor', tee.url], { signer: '//Dave' });
    assert.equal(attested.status, 0, attested.stderr);
    const event = JSON.parse(attested.stdout);
    assert.equal(event.node, nodeKey);
    assert.equal(event.tee, 'Nitro');
    const status = JSON.parse((await opg(['node', 'status', nodeKey])).stdout);
    assert.ok(status.attestation, 'the registry holds the attestation');
    // A node key that is not registered: the chain gives no challenge, one line, exit 1.
    const other = await opg(['node', 'attest', u8aToHex(keyring.addFromUri('//Nobody').publicKey), '--executor', tee.url],
      { signer: '//Dave' });
    assert.equal(other.status, 1);
    assert.match(other.stderr, /^opg: error: NodeRegistry\.\w+/);
  } finally {
    tee.stop();
    removeDir(teeStore);
    // Its executor is gone: the operator takes the node out of service, as an operator
    // would, so that no later request is assigned to a node that cannot answer.
    const exited = await opg(['node', 'unregister', nodeKey], { signer: '//Dave' });
    assert.equal(exited.status, 0, exited.stderr);
    assert.ok(JSON.parse(exited.stdout).until > 0, 'the block its bond is released at');
  }
});

test("substrate-interface reaches OPG's runtime APIs through the SDK, which registers them", async () => {
  const script = `
import json, sys
from opg.client import Client
with Client(sys.argv[1], "//Bob") as client:
    model = int(sys.argv[2])
    result = client.infer(model, bytes((i * 7) % 256 for i in range(784)))
    settled = client.runtime_call("InferenceApi", "result", [result.id])
    print(json.dumps({
        "serving": client.runtime_call("ModelHubApi", "serving", [model]),
        "settled": settled, "rpc": client.rpc("inference_result", result.id),
        "missing": client.runtime_call("InferenceApi", "result", [10**9]),
        "channel": client.runtime_call("ChannelsApi", "channel", [0]),
    }, default=str))
`;
  const ran = await run(PYTHON, ['-c', script, node.url, String(modelId)]);
  assert.equal(ran.status, 0, ran.stderr);
  const { serving, settled, rpc, missing, channel } = JSON.parse(ran.stdout);
  assert.equal(BigInt(serving.price), 10n ** 18n);
  assert.equal(serving.active, true);
  assert.equal(missing, null);
  assert.deepEqual([settled.node, settled.input_hash, settled.mode], [rpc.node, rpc.inputHash, rpc.mode],
    'the runtime API and the RPC agree');
  assert.ok(channel && BigInt(channel.deposit) > 0n, 'the example opened channel 0');
});
