import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SERVER_NODE_FLAGS } from '../../src/core/server-node-flags';

/** The young generation's committed size (MiB) after a burst of short-lived objects, in a Node run with `flags`. */
function newSpaceAfterBurst(flags: readonly string[]): number {
  const script = `let k = []; for (let i = 0; i < 2e6; i++) { k.push({ a: 'x' + i }); if (k.length > 5000) k = []; }
    console.log(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20);`;
  const r = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

test('the server process’s flags are accepted by Node and bound V8’s young generation (src/core/server-node-flags.ts)', () => {
  const bounded = newSpaceAfterBurst(SERVER_NODE_FLAGS);
  const unbounded = newSpaceAfterBurst([]);
  assert.ok(bounded <= 8, `young generation ${bounded} MiB with ${SERVER_NODE_FLAGS.join(' ')}`);
  assert.ok(unbounded > bounded, `without the flags the same burst grows it further (${unbounded} MiB)`);
});
