// `opg-node attestation verify` on real vectors: the verdicts operators see before paying
// to register, with the exact reason and a non-zero exit on rejection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NODE_BIN, tempDir } from './helpers.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NITRO = path.join(ROOT, 'primitives/attestation/testdata/nitro');
const DCAP = path.join(ROOT, 'primitives/attestation/testdata/dcap');
/** 2024-09-07 14:37:39 UTC: inside the nitrite document's leaf validity. */
const NITRITE_TIME = '1725719859';
/** 2025-06-20: inside the Phala samples' collateral windows. */
const JUNE_2025 = '1750377600';

function verify(args) {
  const run = spawnSync(NODE_BIN, ['attestation', 'verify', ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('a real Nitro document verifies at its time and prints the normalized attestation', () => {
  const run = verify(['--format', 'nitro', '--file', path.join(NITRO, 'nitrite_nitro_attestation.b64'), '--at', NITRITE_TIME]);
  assert.equal(run.code, 0, run.stderr);
  const attestation = JSON.parse(run.stdout);
  assert.equal(attestation.tee, 'Nitro');
  assert.match(attestation.measurementHash, /^0x[0-9a-f]{64}$/);
  assert.equal(attestation.timestampMs, 1725719859545);
});

test('the same document is rejected outside its window, under the dev root, and in debug mode', () => {
  const file = path.join(NITRO, 'nitrite_nitro_attestation.b64');
  const late = verify(['--format', 'nitro', '--file', file, '--at', String(Number(NITRITE_TIME) + 4 * 3600)]);
  assert.notEqual(late.code, 0);
  assert.match(late.stderr, /CertificateExpired/);
  const dev = verify(['--format', 'nitro', '--file', file, '--at', NITRITE_TIME, '--root', 'dev']);
  assert.notEqual(dev.code, 0);
  assert.match(dev.stderr, /UntrustedRoot/);
  const debug = verify(['--format', 'nitro', '--file', path.join(NITRO, 'nitrite_nitro_attestation_debug.b64'), '--at', '1725719886']);
  assert.notEqual(debug.code, 0);
  assert.match(debug.stderr, /DebugMode/);
  const selfSigned = verify(['--format', 'nitro', '--file', path.join(NITRO, 'nitrite_selfsigned_attestation.b64'), '--at', NITRITE_TIME]);
  assert.notEqual(selfSigned.code, 0);
});

test('hex input is accepted like raw bytes', () => {
  const dir = tempDir('opg-attest-');
  const hexFile = path.join(dir, 'doc.hex');
  writeFileSync(hexFile, readFileSync(path.join(NITRO, 'evervault_debug_mode_doc.bin')).toString('hex'));
  const run = verify(['--format', 'nitro', '--file', hexFile, '--at', '1665582606']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /DebugMode/);
});

test('DCAP samples: TDX UpToDate accepted; SGX needs its status allowed; outdated TDX rejected', () => {
  const tdx = verify(['--format', 'tdx', '--file', path.join(DCAP, 'tdx_quote'), '--collateral', path.join(DCAP, 'tdx_quote_collateral.json'), '--at', JUNE_2025]);
  assert.equal(tdx.code, 0, tdx.stderr);
  assert.equal(JSON.parse(tdx.stdout).tcbStatus, 'UpToDate');

  const sgxArgs = ['--format', 'sgx', '--file', path.join(DCAP, 'sgx_quote'), '--collateral', path.join(DCAP, 'sgx_quote_collateral.json'), '--at', JUNE_2025];
  const strict = verify(sgxArgs);
  assert.notEqual(strict.code, 0);
  assert.match(strict.stderr, /TcbStatusNotAllowed\(ConfigurationAndSwHardeningNeeded\)/);
  const allowed = verify([...sgxArgs, '--allow-status', 'ConfigurationAndSwHardeningNeeded']);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(JSON.parse(allowed.stdout).tee, 'Sgx');

  const outdated = verify(['--format', 'tdx', '--file', path.join(DCAP, 'tdx_quote_outdated'), '--collateral', path.join(DCAP, 'tdx_quote_outdated_collateral.json'), '--at', '1771459200']);
  assert.notEqual(outdated.code, 0);
  assert.match(outdated.stderr, /TcbLevelNotFound/);

  const wrongKind = verify(['--format', 'sgx', '--file', path.join(DCAP, 'tdx_quote'), '--collateral', path.join(DCAP, 'tdx_quote_collateral.json'), '--at', JUNE_2025]);
  assert.notEqual(wrongKind.code, 0);
  const noCollateral = verify(['--format', 'tdx', '--file', path.join(DCAP, 'tdx_quote')]);
  assert.notEqual(noCollateral.code, 0);
  assert.match(noCollateral.stderr, /--collateral/);
});
