// A float model's tolerance as the model hub stores it: integer billionths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toleranceFromChain, toleranceToChain } from '../dist/types.js';

test('a tolerance is stored in billionths and read back', () => {
  assert.deepEqual(toleranceToChain({ absolute: 1e-5, relative: 1e-4 }), { absolute_ppb: 10_000, relative_ppb: 100_000 });
  assert.deepEqual(toleranceFromChain({ absolute_ppb: 10_000, relative_ppb: 100_000 }), { absolute: 1e-5, relative: 1e-4 });
  assert.deepEqual(toleranceFromChain(toleranceToChain({ absolute: 4.294967295, relative: 0 })), { absolute: 4.294967295, relative: 0 });
  assert.equal(toleranceFromChain(undefined), undefined);
});

test('a bound below zero, above 4.294967295 or not a number is refused', () => {
  for (const bad of [{ absolute: -1e-5, relative: 0 }, { absolute: 0, relative: 5 }, { absolute: NaN, relative: 0 }, { absolute: Infinity, relative: 0 }]) {
    assert.throws(() => toleranceToChain(bad), RangeError);
  }
});
