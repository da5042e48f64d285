// The executor's HTTP contract as a JS client speaks it: the same paths, queries and
// headers as the Rust crate opg-executor-api; and starting an opg-executor for a test.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { NODE_BIN, freePort, sleep } from '../helpers.mjs';

export const EXECUTOR_BIN = path.join(path.dirname(NODE_BIN), 'opg-executor');
/** The test build of the executor (`--features cheats`, built by scripts/test): it can cheat. */
export const CHEATING_EXECUTOR_BIN = path.join(path.dirname(NODE_BIN), 'opg-executor-cheating');

export const PATHS = {
  health: '/health',
  metrics: '/metrics',
  infer: '/v1/infer',
  prove: '/v1/prove',
  signBatch: '/v1/sign-batch',
  fetch: '/v1/fetch',
  attestation: '/v1/attestation',
  registration: '/v1/registration',
  artifacts: '/v1/artifacts',
  inferMany: '/v1/infer-many',
  channelSettlements: '/v1/channel-settlements',
  served: '/v1/served',
};

export const HEADERS = {
  outputHash: 'x-opg-output-hash',
  proof: 'x-opg-proof',
  signature: 'x-opg-signature',
  node: 'x-opg-node',
  batchRoot: 'x-opg-batch-root',
  device: 'x-opg-device',
  batchSize: 'x-opg-batch-size',
  reproducible: 'x-opg-reproducible',
  missing: 'x-opg-missing',
  inputCommitment: 'x-opg-input-commitment',
  account: 'x-opg-account',
  notAfter: 'x-opg-not-after',
  authorization: 'authorization',
  // x402 v2's payment headers (opg_executor_api::payment).
  paymentRequired: 'payment-required',
  paymentSignature: 'payment-signature',
  paymentResponse: 'payment-response',
};

/** The `authorization` value that carries the node listener's token. */
export const bearer = (token) => `Bearer ${token}`;

const query = (params) => {
  const pairs = Object.entries(params).filter(([, value]) => value !== undefined && value !== null);
  return pairs.length ? `?${pairs.map(([name, value]) => `${name}=${value}`).join('&')}` : '';
};

/** URIs of the executor at `base` (hashes and keys as 0x-hex strings). */
export function uris(base) {
  return {
    health: () => `${base}${PATHS.health}`,
    metrics: () => `${base}${PATHS.metrics}`,
    infer: (model, { input, genesis, request } = {}) => `${base}${PATHS.infer}/${model}${query({ input, genesis, request })}`,
    prove: (model, { input, genesis, request, node }) =>
      `${base}${PATHS.prove}/${model}${query({ input, genesis, request, node })}`,
    signBatch: (genesis) => `${base}${PATHS.signBatch}${query({ genesis })}`,
    attestation: (genesis, nonce) => `${base}${PATHS.attestation}${query({ genesis, nonce })}`,
    registration: (genesis) => `${base}${PATHS.registration}${query({ genesis })}`,
    artifact: (hash) => `${base}${PATHS.artifacts}/${hash}`,
    fetch: (url) => `${base}${PATHS.fetch}${query({ url: encodeURIComponent(url) })}`,
    served: (callDigest) => `${base}${PATHS.served}/${callDigest}`,
  };
}

/**
 * Starts `opg-executor serve` with `args`, its node listener on a free port of `host`
 * (loopback by default), and waits until /health answers (sending `token`, the node
 * listener's, if given); `bin` is the executor binary. Returns { url, port, api: uris(url),
 * health, stop() }.
 */
export async function startExecutor(args, { attempts = 300, host = '127.0.0.1', token, bin = EXECUTOR_BIN } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, ['serve', '--listen', `${host}:${port}`, ...args], { stdio: 'ignore' });
  const api = uris(url);
  const headers = token ? { [HEADERS.authorization]: bearer(token) } : {};
  let health = null;
  for (let i = 0; i < attempts && !health; i += 1) {
    health = await fetch(api.health(), { headers }).then((r) => (r.ok ? r.json() : null), () => null);
    if (!health) await sleep(100);
  }
  if (!health) {
    proc.kill('SIGKILL');
    throw new Error(`opg-executor did not answer ${PATHS.health} on ${url}`);
  }
  return { url, port, api, health, proc, stop: () => proc.kill('SIGINT') };
}
