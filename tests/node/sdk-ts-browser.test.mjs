// @opg/sdk runs in browsers: the whole package bundles for the browser platform (esbuild)
// without any Node built-in, and its only Node-specific step (the `ws` fallback where
// there is no global WebSocket) is a computed import no bundler follows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';

test('the SDK bundles for browsers with no Node built-in', async () => {
  const result = await build({
    entryPoints: [new URL('../../sdk/ts/dist/index.js', import.meta.url).pathname], bundle: true, platform: 'browser',
    format: 'esm', write: false, logLevel: 'silent', metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((i) => i.includes('polkadot-api')), 'polkadot-api is in the bundle');
  assert.ok(!inputs.some((i) => /^node:|node_modules\/ws\//.test(i)), `no Node module: ${inputs.filter((i) => /^node:|\/ws\//.test(i))}`);
  assert.ok(result.outputFiles[0].contents.length > 0);
});
