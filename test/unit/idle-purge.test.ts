/** When the store gives memory back (store/idle-purge.ts): once, after a quiet spell, never while a statement runs. */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { IdlePurge } from '../../src/server/store/idle-purge';

test('one purge per quiet spell, only after the last statement ended and quietMs passed', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let purges = 0;
    const idle = new IdlePurge(async () => void purges++, 1000);
    idle.begin();
    idle.begin();
    idle.end();
    mock.timers.tick(5000);
    assert.equal(purges, 0, 'a statement still runs');
    idle.end();
    mock.timers.tick(999);
    assert.equal(purges, 0, 'not quiet long enough');
    idle.begin();
    idle.end();
    mock.timers.tick(999);
    assert.equal(purges, 0, 'new activity restarts the quiet period');
    mock.timers.tick(1);
    await Promise.resolve();
    assert.equal(purges, 1);
    mock.timers.tick(60_000);
    assert.equal(purges, 1, 'nothing ran since: no second purge');
    await idle.around(async () => undefined);
    mock.timers.tick(1000);
    await Promise.resolve();
    assert.equal(purges, 2);
    idle.close();
  } finally {
    mock.timers.reset();
  }
});

test('a failing purge is ignored (the engine keeps its pages, nothing else changes); close cancels a pending one', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let calls = 0;
    const idle = new IdlePurge(async () => {
      calls++;
      throw new Error('SYSTEM JEMALLOC PURGE is not supported');
    }, 10);
    await idle.around(async () => undefined);
    mock.timers.tick(10);
    await new Promise((r) => setImmediate(r));
    assert.equal(calls, 1);
    await idle.around(async () => undefined);
    idle.close();
    mock.timers.tick(1000);
    assert.equal(calls, 1);
  } finally {
    mock.timers.reset();
  }
});
