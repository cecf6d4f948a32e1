// The one helper that turns absolute percents into VS Code's forward-only progress increments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressIncrements } from '../../src/core/progress';

test('increments: forward only, nothing for an unknown or repeated percent, a drop starts again from 0', () => {
  const inc = progressIncrements();
  assert.deepEqual([10, undefined, 10, 35, 100].map(inc), [10, undefined, undefined, 25, 65]);
  const pull = progressIncrements();
  assert.deepEqual([40, 90, 5, 50].map(pull), [40, 50, 5, 45]);
});
