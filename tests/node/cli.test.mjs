// The node's command line: readable errors, chain specs from presets, key tools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { NODE_BIN } from './helpers.mjs';

function run(args) {
  const result = spawnSync(NODE_BIN, args, { encoding: 'utf8', timeout: 60000, maxBuffer: 64 * 1024 * 1024 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

test('a missing chain spec file is a readable error and a non-zero exit', () => {
  const { code, err } = run(['--chain', '/nonexistent/opg-spec.json', '--tmp']);
  assert.notEqual(code, 0);
  assert.match(err, /cannot load chain spec .*opg-spec\.json/);
  assert.doesNotMatch(err, /panicked/);
});

test('an unknown flag is rejected by the argument parser', () => {
  const { code, err } = run(['--no-such-flag']);
  assert.equal(code, 2);
  assert.match(err, /unexpected argument '--no-such-flag'/);
});

test('chain specs are exported from both genesis presets', () => {
  for (const [chain, name, validators] of [['dev', 'OPG Development', 1], ['local', 'OPG Local Testnet', 4]]) {
    const { code, out, err } = run(['export-chain-spec', '--chain', chain]);
    assert.equal(code, 0, err);
    const spec = JSON.parse(out);
    assert.equal(spec.name, name);
    assert.equal(spec.properties.tokenSymbol, 'OPG');
    const patch = spec.genesis.runtimeGenesis.patch;
    assert.equal(patch.validatorSet.validators.length, validators);
    assert.equal(patch.sudo.key === undefined || patch.sudo.key === null, chain !== 'dev');
  }
});

test('key subcommands generate and inspect keys', () => {
  const generated = run(['key', 'generate', '--output-type', 'json']);
  assert.equal(generated.code, 0, generated.err);
  const { secretPhrase, ss58Address } = JSON.parse(generated.out);
  const inspected = run(['key', 'inspect', '--output-type', 'json', secretPhrase]);
  assert.equal(JSON.parse(inspected.out).ss58Address, ss58Address);
});
