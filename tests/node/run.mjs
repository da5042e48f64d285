#!/usr/bin/env node
// Tier 2's runner: every tests/node/*.test.mjs (or the files named on the command line),
// several files at once, each in its own process as `node --test` runs them.
//
// Most of a node test's time is waiting for 6-second blocks, not the CPU, so files run
// OPG_TEST_CONCURRENCY at a time (default 3; 1 runs them one by one). Every file starts its
// own chain on free ports (claimed for the run, so never the same port twice) in its own
// temporary folders, so files share nothing but the built binaries. The longest files
// start first (`longestFirst`, their order in a run of 2026-12-07), so that no long file
// starts last and runs alone at the end; a file not in that list goes after them, in name
// order. `node --test` itself sorts the files by name, hence this script. The exit status
// is 1 if any test failed.
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Files by decreasing duration, longest first: seconds each, one at a time, 2026-12-07. */
const longestFirst = [
  'verification.test.mjs', // 479
  'llm.test.mjs', // 360
  'inference.test.mjs', // 214
  'sdk-python.test.mjs', // 204
  'sdk-ts.test.mjs', // 152
  'torch.test.mjs', // 117
  'registry.test.mjs', // 106
  'network.test.mjs', // 85
  'direct.test.mjs', // 67
  'restart.test.mjs', // 60
  'resubmit.test.mjs', // 53
  'metadata-hash.test.mjs', // 42
  'dev.test.mjs', // 40
];

const concurrency = Number(process.env.OPG_TEST_CONCURRENCY ?? 3);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`OPG_TEST_CONCURRENCY must be a whole number of files at once, at least 1, not ${process.env.OPG_TEST_CONCURRENCY}`);
  process.exit(2);
}

const named = process.argv.slice(2).map((file) => path.resolve(file));
const all = readdirSync(here).filter((file) => file.endsWith('.test.mjs')).sort();
const rank = (file) => {
  const at = longestFirst.indexOf(path.basename(file));
  return at < 0 ? longestFirst.length : at;
};
const files = (named.length > 0 ? named : all.map((file) => path.join(here, file)))
  .map((file, index) => ({ file, index }))
  .sort((a, b) => rank(a.file) - rank(b.file) || a.index - b.index)
  .map(({ file }) => file);

// Ports handed out by `freePort` are claimed in this folder, so that no two files of the
// run are given the same one (helpers.mjs).
const claims = mkdtempSync(path.join(os.tmpdir(), 'opg-test-ports-'));
process.env.OPG_TEST_PORTS = claims;
process.on('exit', () => rmSync(claims, { recursive: true, force: true }));

const stream = run({ files, concurrency, timeout: 1_200_000, forceExit: true });
stream.on('test:fail', (data) => { if (!data.todo) process.exitCode = 1; });
stream.compose(spec).pipe(process.stdout);
