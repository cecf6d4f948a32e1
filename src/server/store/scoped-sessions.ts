/**
 * Reader sessions per read scope (a team member with a role, types.ts `ReadScope`): each scope has
 * its own small pool, opened on first use with the scope's row filters and then `readonly = 1`, so
 * a session that took one member's filters never serves another member. Pools idle for a while are
 * closed (a removed or rotated member's sessions go with them), and at most `maxScopes` are kept:
 * the least recently used is closed first. A session that saw an error is discarded by its pool.
 */
import type { ReadScope } from './types';
import { SessionPool, type PooledSession } from './session-pool';

interface Entry<S extends PooledSession> {
  pool: SessionPool<S>;
  timer?: NodeJS.Timeout;
}

export class ScopedPools<S extends PooledSession> {
  private readonly pools = new Map<string, Entry<S>>();

  /**
   * @param make opens a session with the scope's filters applied and readonly set.
   * @param perScope statements one scope runs at once.
   */
  constructor(
    private readonly make: (scope: ReadScope) => Promise<S>,
    private readonly perScope = 2,
    private readonly maxScopes = 64,
    private readonly idleMs = 60_000,
  ) {}

  pool(scope: ReadScope): SessionPool<S> {
    let entry = this.pools.get(scope.key);
    if (entry) {
      // Most recently used last: Map keeps insertion order.
      this.pools.delete(scope.key);
    } else {
      entry = { pool: new SessionPool(`reader (${scope.key.split('\u0000')[0]})`, () => this.make(scope), this.perScope) };
      while (this.pools.size >= this.maxScopes) this.end(this.pools.keys().next().value!);
    }
    this.pools.set(scope.key, entry);
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.end(scope.key), this.idleMs);
    entry.timer.unref();
    return entry.pool;
  }

  get size(): number {
    return this.pools.size;
  }

  close(): void {
    for (const key of [...this.pools.keys()]) this.end(key);
  }

  /** A closed pool closes its idle sessions now and a busy one when its statement is over. */
  private end(key: string): void {
    const entry = this.pools.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pools.delete(key);
    entry.pool.close();
  }
}
