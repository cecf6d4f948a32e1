/**
 * Group commit for OTLP exports. Each export waits for the insert that carries its rows; while
 * one insert per table is running, later exports queue up and go together in the next one. So a
 * quiet server inserts at once (no timer latency) and a busy one batches by itself — and no export
 * is acknowledged before the engine has committed its rows.
 */
import { StoreError, type Store } from './store/types';
import type { TableRows } from './otlp/rows';

interface Pending {
  lines: string[];
  resolve(): void;
  reject(err: unknown): void;
}

interface TableQueue {
  waiting: Pending[];
  waitingBytes: number;
  running: boolean;
}

export interface IngestStats {
  inserts: number;
  rows: number;
  pendingBytes: number;
}

export class Ingest {
  private readonly queues = new Map<string, TableQueue>();
  private pendingBytes = 0;
  private inFlight = 0;
  private idle: Array<() => void> = [];
  readonly stats: IngestStats = { inserts: 0, rows: 0, pendingBytes: 0 };

  /** @param maxPendingBytes above this much queued data, new exports are refused as "retry later". */
  constructor(private readonly store: Store, private readonly maxPendingBytes = 256 * 1024 * 1024) {}

  /** Bytes of accepted rows not yet committed (the team server's /metrics queue depth). */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /** Resolves once every row of this export is committed; rejects with a StoreError otherwise. */
  async write(rows: TableRows): Promise<void> {
    if (rows.size === 0) return;
    let bytes = 0;
    for (const lines of rows.values()) for (const l of lines) bytes += l.length + 1;
    if (this.pendingBytes + bytes > this.maxPendingBytes) {
      throw new StoreError('the server is busy writing earlier data; retry shortly', undefined, true);
    }
    this.pendingBytes += bytes;
    this.inFlight++;
    try {
      await Promise.all([...rows].map(([table, lines]) => this.enqueue(table, lines)));
    } finally {
      this.pendingBytes -= bytes;
      this.inFlight--;
      if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
    }
  }

  /** Resolves when no export is waiting for the engine (used by graceful shutdown). */
  async drained(): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  private enqueue(table: string, lines: string[]): Promise<void> {
    let q = this.queues.get(table);
    if (!q) this.queues.set(table, (q = { waiting: [], waitingBytes: 0, running: false }));
    const done = new Promise<void>((resolve, reject) => q!.waiting.push({ lines, resolve, reject }));
    if (!q.running) void this.flush(table, q);
    return done;
  }

  private async flush(table: string, q: TableQueue): Promise<void> {
    q.running = true;
    while (q.waiting.length > 0) {
      const batch = q.waiting.splice(0);
      try {
        await this.insert(table, batch.flatMap((p) => p.lines));
        for (const p of batch) p.resolve();
      } catch (err) {
        if (batch.length === 1 || (err instanceof StoreError && err.unavailable)) {
          for (const p of batch) p.reject(err);
        } else {
          // One bad export must not fail its neighbours: retry each on its own.
          for (const p of batch) {
            try {
              await this.insert(table, p.lines);
              p.resolve();
            } catch (e) {
              p.reject(e);
            }
          }
        }
      }
    }
    q.running = false;
  }

  private async insert(table: string, lines: string[]): Promise<void> {
    await this.store.insertJsonEachRow(table, Buffer.from(lines.join('\n') + '\n'));
    this.stats.inserts++;
    this.stats.rows += lines.length;
  }
}
