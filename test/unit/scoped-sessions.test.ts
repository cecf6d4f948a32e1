// Per-member reader pools (src/server/store/scoped-sessions.ts): a session opened with one scope's
// filters never serves another scope, idle pools close, and at most `maxScopes` pools are kept.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { ScopedPools } from '../../src/server/store/scoped-sessions';
import type { ReadScope } from '../../src/server/store/types';

class FakeSession {
  closed = false;
  constructor(readonly scope: string) {}
  async queryAsync(): Promise<{ bytes(): Uint8Array }> {
    return { bytes: () => new Uint8Array() };
  }
  close(): void {
    this.closed = true;
  }
}

const scope = (member: string): ReadScope => ({ key: `${member}\u0000contributor`, tableFilters: { 'default.t': `user_id = '${member}'` } });

test('a session opened for one member is reused for that member only', async () => {
  const opened: FakeSession[] = [];
  const pools = new ScopedPools(async (s) => { const f = new FakeSession(s.key); opened.push(f); return f; }, 2);
  const a = await pools.pool(scope('alice')).acquire();
  pools.pool(scope('alice')).release(a, false);
  const b = await pools.pool(scope('bob')).acquire();
  assert.equal(b.scope, scope('bob').key);
  assert.notEqual(b, a);
  assert.equal(await pools.pool(scope('alice')).acquire(), a);
  assert.deepEqual(opened.map((s) => s.scope), [scope('alice').key, scope('bob').key]);
  pools.close();
});

test('the least recently used pool is closed beyond maxScopes; an idle pool closes after idleMs', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const opened: FakeSession[] = [];
    const pools = new ScopedPools(async (s) => { const f = new FakeSession(s.key); opened.push(f); return f; }, 1, 2, 1000);
    for (const m of ['alice', 'bob']) {
      const p = pools.pool(scope(m));
      p.release(await p.acquire(), false);
    }
    // alice used again, so bob is the least recently used when carol comes.
    pools.pool(scope('alice'));
    const c = pools.pool(scope('carol'));
    c.release(await c.acquire(), false);
    assert.equal(pools.size, 2);
    assert.deepEqual(opened.filter((s) => s.closed).map((s) => s.scope), [scope('bob').key]);
    mock.timers.tick(1001);
    assert.equal(pools.size, 0);
    assert.ok(opened.every((s) => s.closed));
  } finally {
    mock.timers.reset();
  }
});
