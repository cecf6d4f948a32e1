import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RESTART_POLICY, RestartPolicy } from '../../src/core/restart-policy';

const MIN = 60_000;

describe('RestartPolicy (the embedded server restarted after an unexpected exit)', () => {
  test('the first crash restarts after 1 s, the second in the same minute after 2 s, the third gives up', () => {
    const p = new RestartPolicy();
    assert.deepEqual(p.onCrash(0), { action: 'restart', delayMs: 1_000, attempt: 1 });
    assert.deepEqual(p.onCrash(10_000), { action: 'restart', delayMs: 2_000, attempt: 2 });
    assert.deepEqual(p.onCrash(59_999), { action: 'give-up', crashes: 3, windowMs: MIN });
  });

  test('crashes older than a minute no longer count: three crashes spread over more than a minute keep restarting', () => {
    const p = new RestartPolicy();
    assert.equal(p.onCrash(0).action, 'restart');
    assert.equal(p.onCrash(30_000).action, 'restart');
    // The first crash is now 60 s old: out of the window, so this is the second in the window, not the third.
    assert.deepEqual(p.onCrash(60_000), { action: 'restart', delayMs: 2_000, attempt: 2 });
    assert.deepEqual(p.onCrash(120_000), { action: 'restart', delayMs: 1_000, attempt: 1 });
  });

  test('after giving up, a further crash in the window still gives up (the author must choose Restart)', () => {
    const p = new RestartPolicy();
    p.onCrash(0);
    p.onCrash(1_000);
    assert.equal(p.onCrash(2_000).action, 'give-up');
    assert.equal(p.onCrash(3_000).action, 'give-up');
  });

  test('reset (the author started or stopped collection) forgets earlier crashes', () => {
    const p = new RestartPolicy();
    p.onCrash(0);
    p.onCrash(1_000);
    p.reset();
    assert.deepEqual(p.onCrash(2_000), { action: 'restart', delayMs: 1_000, attempt: 1 });
  });

  test('the delay doubles and is capped', () => {
    const p = new RestartPolicy({ ...DEFAULT_RESTART_POLICY, maxCrashes: 10 });
    const delays = [0, 1, 2, 3, 4, 5].map((i) => {
      const d = p.onCrash(i);
      return d.action === 'restart' ? d.delayMs : -1;
    });
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });
});
