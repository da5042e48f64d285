// Starts opg-node processes on loopback and connects @polkadot/api to them.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

/** Keeps `text` as `name` in the folder OPG_TEST_LOGS names (made if missing), when it
 * is set: a debugging aid, so a failed write is reported and never stops a test's
 * cleanup (processes left running would hold the binaries the next build replaces). */
export function keepTestLog(name, text) {
  const dir = process.env.OPG_TEST_LOGS;
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, name), text);
  } catch (error) {
    console.error(`OPG_TEST_LOGS: ${name} not kept: ${error.message}`);
  }
}

export const NODE_BIN = process.env.OPG_NODE_BIN
  ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(os.homedir(), '.cache/opg/target'), 'release/opg-node');

/**
 * A free TCP port on 127.0.0.1. Under tests/node/run.mjs, whose test files run side by
 * side, it is never one already handed to a test of the same run, even if that test's
 * process has not bound it yet: each port handed out is claimed by creating a file named
 * after it in the run's folder `OPG_TEST_PORTS`, which fails if another claimed it first.
 */
export async function freePort() {
  const claims = process.env.OPG_TEST_PORTS;
  for (;;) {
    const port = await unusedPort();
    if (!claims) return port;
    try {
      writeFileSync(path.join(claims, String(port)), '', { flag: 'wx' });
      return port;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
  }
}

/** A port of 127.0.0.1 that nothing listens on now (the system's choice). */
function unusedPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix) {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts opg-node with `args`, listening on loopback only, and resolves once its RPC
 * answers. Returns { proc, rpcPort, p2pPort, logs(), stop() }.
 */
export async function startNode(args, { p2pPort, rpcPort } = {}) {
  rpcPort ??= await freePort();
  p2pPort ??= await freePort();
  const fullArgs = [
    ...args,
    '--rpc-port', String(rpcPort),
    '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
    '--no-mdns',
    '--no-telemetry',
    '--no-prometheus',
  ];
  const proc = spawn(NODE_BIN, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk) => { output = (output + chunk.toString()).slice(-20000); };
  proc.stdout.on('data', collect);
  proc.stderr.on('data', collect);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));

  const node = {
    proc, rpcPort, p2pPort, exited,
    logs: () => output,
    url: `ws://127.0.0.1:${rpcPort}`,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`opg-node exited early:\n${output}`);
    if (await rpcAnswers(rpcPort)) return node;
    await sleep(250);
  }
  await node.stop();
  throw new Error(`opg-node RPC did not come up:\n${output}`);
}

async function rpcAnswers(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'system_health', params: [] }),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Runs `command` to its end without blocking this event loop (spawnSync would: an
 * @polkadot/api socket of the same test then goes unserved, and its node may drop it);
 * `{ status, stdout, stderr }` as spawnSync gives them (utf8), `status` null if killed.
 */
export function run(command, args, { env = process.env, timeout = 300000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, timeout, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Connects @polkadot/api with no custom types: everything comes from the metadata. */
export async function connect(node) {
  const provider = new WsProvider(node.url, 1000, {}, 30000);
  return ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
}

/** Waits until `read()` resolves to a value accepted by `done`, or fails after `ms`. */
export async function waitFor(what, read, done, ms) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await sleep(1000);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last value ${last}`);
}

export async function finalizedNumber(api) {
  const hash = await api.rpc.chain.getFinalizedHead();
  const header = await api.rpc.chain.getHeader(hash);
  return header.number.toNumber();
}

export async function bestNumber(api) {
  const header = await api.rpc.chain.getHeader();
  return header.number.toNumber();
}

/**
 * Starts a `--dev --tmp` node and connects @polkadot/api to it. Returns
 * { node, api, keyring (sr25519, SS58 42), stop() }.
 */
export async function startDevChain() {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const node = await startNode(['--dev', '--tmp']);
  const api = await connect(node);
  return {
    node, api, keyring,
    async stop() {
      await api.disconnect();
      await node.stop();
    },
  };
}
