/**
 * Gives memory back once the engine goes quiet. The engine allocates with jemalloc, which keeps freed
 * pages for reuse; with nothing running it has no allocation ticks to decay them on, so after a burst
 * the process stayed ~100–200 MiB above its fresh size for good (measured with chDB 26.7: 280 MiB fresh,
 * 390–410 MiB from 15 s after 100k records on). `SYSTEM JEMALLOC PURGE` returns them to the kernel at once
 * (a process that had grown to ~1 GiB drops to ~260 MiB).
 *
 * The JavaScript side keeps the same kind of garbage (collectGarbage); the store's purge does both.
 *
 * So: once no statement has run for `quietMs`, one purge. Not on a fixed clock: a busy engine reuses
 * those pages (purging under load costs page faults on every insert), an idle one never needs them.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | undefined;
/**
 * One full V8 collection. Without one, an idle server keeps the garbage of its last burst (measured:
 * a 90–100 MiB heap of dead row strings after 100k records): V8 collects on allocation, and an idle
 * process allocates nothing. Exposed once, only to this module (the flag is read when a context is made).
 */
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

export class IdlePurge {
  private running = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly purge: () => Promise<void>, private readonly quietMs = 1000) {}

  /** Wraps one statement: activity delays the purge; the end of the last one arms it. */
  async around<T>(fn: () => Promise<T>): Promise<T> {
    this.begin();
    try {
      return await fn();
    } finally {
      this.end();
    }
  }

  begin(): void {
    this.running++;
    this.dirty = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  end(): void {
    this.running--;
    if (this.running > 0 || this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fire(), this.quietMs);
    // A pending purge never keeps the process alive.
    this.timer.unref();
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    if (this.running > 0 || !this.dirty || this.closed) return;
    this.dirty = false;
    // Best effort: an engine that cannot purge still works, it only keeps its pages.
    await this.purge().catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
