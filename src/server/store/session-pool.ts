/**
 * A small pool of chDB sessions over one data directory. chDB runs one statement at a time per
 * session but runs sessions side by side (measured: a short query on a second session answers in
 * milliseconds while a 10 s query runs on the first), so each pool slot is one statement in flight.
 * A session that saw an error, a cancellation or a session-level change (USE, SET) is closed rather
 * than reused: after a failed statement the engine can keep the rows it had produced and prepend
 * them to the next answer on that session (reproduced with `throwIf` and `max_block_size = 1`).
 * Sessions are cheap (~1.5 ms to open), so discarding is the simple, safe rule.
 */
import { StoreError } from './types';

export interface PooledSession {
  queryAsync(sql: string, opts?: { format?: string }): Promise<{ bytes(): Uint8Array }>;
  close(): void;
}

export class SessionPool<S extends PooledSession> {
  private readonly idle: S[] = [];
  private open = 0;
  private readonly waiters: Array<{ resolve(s: S): void; reject(e: unknown): void }> = [];
  private closed = false;

  /**
   * @param make opens a session and applies its fixed settings (limits, readonly).
   * @param max how many statements of this pool run at once; later callers wait their turn.
   * @param maxWaitMs how long a caller waits for a free session before "busy, retry" (bounded wait).
   */
  constructor(private readonly name: string, private readonly make: () => Promise<S>, private readonly max: number, private readonly maxWaitMs = 30_000) {}

  async acquire(): Promise<S> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    const ready = this.idle.pop();
    if (ready) return ready;
    if (this.open < this.max) return await this.openOne();
    return await new Promise<S>((resolve, reject) => {
      const waiter = { resolve, reject };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new StoreError(`Code: 202. DB::Exception: all ${this.max} ${this.name} sessions were busy for ${this.maxWaitMs / 1000} s; retry later`, 202, true));
      }, this.maxWaitMs);
      this.waiters.push({ resolve: (s) => { clearTimeout(timer); resolve(s); }, reject: (e) => { clearTimeout(timer); reject(e); } });
    });
  }

  /** Gives a session back; `discard` closes it (after errors, cancels and session-state changes). */
  release(session: S, discard: boolean): void {
    if (discard || this.closed) {
      try {
        session.close();
      } catch {
        // Closing never matters more than serving the next caller.
      }
      this.open--;
      const next = this.waiters.shift();
      if (next && !this.closed) this.openOne().then(next.resolve, next.reject);
      return;
    }
    const next = this.waiters.shift();
    if (next) next.resolve(session);
    else this.idle.push(session);
  }

  /** Runs `fn` on a session of this pool; a thrown error discards the session. */
  async use<T>(fn: (s: S) => Promise<T>, discardAfter = false): Promise<T> {
    const s = await this.acquire();
    let failed = true;
    try {
      const out = await fn(s);
      failed = false;
      return out;
    } finally {
      this.release(s, failed || discardAfter);
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new StoreError('the engine is closed', undefined, true));
    for (const s of this.idle.splice(0)) s.close();
  }

  private async openOne(): Promise<S> {
    this.open++;
    try {
      return await this.make();
    } catch (err) {
      this.open--;
      throw err;
    }
  }
}
