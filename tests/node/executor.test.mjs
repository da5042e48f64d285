// What the executor exposes, tried from outside as a caller would (no chain needed): the
// node listener off loopback refuses callers without its token, refuses to start
// without one, `/v1/fetch` never reaches this machine, and the public listener answers
// public routes only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, removeDir, tempDir } from './helpers.mjs';
import { EXECUTOR_BIN, HEADERS, bearer, startExecutor, uris } from './lib/executor.mjs';

const TOKEN = 'a-node-listener-token-for-tests';

/** An address of this machine that is not loopback, if it has one. */
function externalAddress() {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return null;
}

const genesis = `0x${'11'.repeat(32)}`;
const hash = `0x${'22'.repeat(32)}`;

test('the node listener off loopback refuses its routes to callers without the token', async (t) => {
  const dir = tempDir('opg-executor-token-');
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const executor = await startExecutor(['--store', path.join(dir, 'store'), '--node-token-file', tokenFile],
    { host: '0.0.0.0', token: TOKEN });
  t.after(() => { executor.stop(); removeDir(dir); });
  const external = externalAddress();
  // From another address than loopback where the machine has one; from loopback too.
  const bases = [executor.url, ...(external ? [`http://${external}:${executor.port}`] : [])];
  for (const base of bases) {
    const api = uris(base);
    const nodeRoutes = [
      [api.attestation(genesis, hash), 'POST'],
      [api.signBatch(genesis), 'POST'],
      [api.infer(hash, { genesis, request: 1 }), 'POST'],
      [api.prove(hash, { genesis, request: 1, node: hash }), 'POST'],
      [api.fetch('http://example.com/'), 'POST'],
      [api.artifact(hash), 'PUT'],
      [api.metrics(), 'GET'],
    ];
    for (const [uri, method] of nodeRoutes) {
      const refused = await fetch(uri, { method });
      assert.equal(refused.status, 401, `${method} ${uri} without the token`);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
      const wrong = await fetch(uri, { method, headers: { [HEADERS.authorization]: bearer('not-it') } });
      assert.equal(wrong.status, 401, `${method} ${uri} with a wrong token`);
    }
    const admitted = await fetch(api.metrics(), { headers: { [HEADERS.authorization]: bearer(TOKEN) } });
    assert.equal(admitted.status, 200, 'the token lets the caller in');
  }
});

test('the node listener refuses to start off loopback without a token', () => {
  const dir = tempDir('opg-executor-no-token-');
  try {
    const run = spawnSync(EXECUTOR_BIN, ['serve', '--listen', '0.0.0.0:0', '--store', path.join(dir, 'store')],
      { encoding: 'utf8', timeout: 30000 });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /not on loopback: give it a --node-token-file/);
  } finally {
    removeDir(dir);
  }
});

test('/v1/fetch refuses URLs that reach this machine or its network', async (t) => {
  const dir = tempDir('opg-executor-fetch-');
  const executor = await startExecutor(['--store', path.join(dir, 'store')]);
  t.after(() => { executor.stop(); removeDir(dir); });
  for (const url of ['http://127.0.0.1:9/', 'http://localhost:9/', 'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/', 'http://[::1]:9/']) {
    const refused = await fetch(executor.api.fetch(url), { method: 'POST' });
    assert.equal(refused.status, 403, `${url}: ${await refused.text()}`);
  }
});

test('the public listener answers public routes only', async (t) => {
  const dir = tempDir('opg-executor-public-');
  const publicPort = await freePort();
  const executor = await startExecutor(['--store', path.join(dir, 'store'), '--public-listen', `127.0.0.1:${publicPort}`]);
  t.after(() => { executor.stop(); removeDir(dir); });
  const api = uris(`http://127.0.0.1:${publicPort}`);
  assert.equal((await fetch(api.health())).status, 200);
  assert.equal((await fetch(api.artifact(hash))).status, 404, 'reading artifacts is public (none here)');
  for (const [uri, method] of [
    [api.attestation(genesis, hash), 'POST'],
    [api.signBatch(genesis), 'POST'],
    [api.infer(hash, { genesis, request: 1 }), 'POST'],
    [api.fetch('http://example.com/'), 'POST'],
    [api.artifact(hash), 'PUT'],
    [api.metrics(), 'GET'],
  ]) {
    assert.equal((await fetch(uri, { method })).status, 403, `${method} ${uri} on the public listener`);
  }
});

test('in TEE mode the executor generates its node key and accepts none from outside', () => {
  const dir = tempDir('opg-executor-tee-');
  try {
    const keyFile = path.join(dir, 'node.key');
    writeFileSync(keyFile, `0x${'07'.repeat(32)}`);
    const run = spawnSync(EXECUTOR_BIN, ['serve', '--store', path.join(dir, 'store'), '--node-key', keyFile,
      '--evidence', 'dev', '--operator', `0x${'01'.repeat(32)}`], { encoding: 'utf8', timeout: 30000 });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /'--node-key <NODE_KEY>' cannot be used with '--evidence <EVIDENCE>'|cannot be used with/);
    const noOperator = spawnSync(EXECUTOR_BIN, ['serve', '--store', path.join(dir, 'store'), '--evidence', 'dev'],
      { encoding: 'utf8', timeout: 30000 });
    assert.notEqual(noOperator.status, 0);
    assert.match(noOperator.stderr, /--operator/);
  } finally {
    removeDir(dir);
  }
});
