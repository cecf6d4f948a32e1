// Do two inserts into the same table at once help on this machine's 2 cores? (issue 12, "Ingest, 4 senders"; h18)
// The engine runs one insert on one thread, so with one insert per table at a time (ingest.ts) the second core
// idles except for merges and the receiver. Two ingest sessions over the same data directory do run two inserts in
// parallel (each chDB session is a connection of its own). But 4 senders that each wait for their acknowledgement
// keep at most 4 × 512 = 2048 rows in flight, so a second insert beside the first can only split those rows:
// two 1024-row inserts instead of one 2048-row insert. This measures exactly that against today's one at a time,
// and, for many senders (enough rows waiting for two full inserts), two 8192-row inserts at once against one.
// The other way to put the second core to work without splitting the rows: `parallel_view_processing = 1`, the
// materialized views of one insert run on several threads (its CPU time is the same, so it shows in wall time only).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from '../../src/server/store/chdb';
import { applyMigrations, migrationsDir } from '../../src/server/migrations';
import { dedupSettings } from '../../src/server/store/dedup-settings';
import { insertBodies } from './claude-export';

type ChdbModule = typeof import('chdb');

export interface ParallelCase {
  /** Inserts running at once, each on an ingest session of its own. */
  lanes: number;
  rowsPerInsert: number;
  /** More insert settings (e.g. `parallel_view_processing`). */
  settings?: Record<string, string | number>;
}

export interface ParallelResult {
  wallMs: number;
  cpuMs: number;
}

/**
 * Inserts every line into a fresh full-schema store, `lanes` inserts at a time (the server's insert: JSONEachRow,
 * unknown fields skipped, a deduplication token per insert). Wall time and this process's CPU time (the engine runs
 * in it), so CPU ÷ wall shows how much of a second core the parallel inserts really used.
 */
export async function parallelInsert(lines: string[], c: ParallelCase): Promise<ParallelResult> {
  const chunks = insertBodies(lines, c.rowsPerInsert);
  const dir = mkdtempSync(join(tmpdir(), 'ct-bench-par-'));
  // The store first: it starts the engine with the server's own configuration and migrates.
  const store = await ChdbStore.open(dir);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const chdb = require('chdb') as ChdbModule;
  const sessions = Array.from({ length: c.lanes }, () => new chdb.Session(dir));
  try {
    await applyMigrations(store, migrationsDir());
    let next = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(sessions.map(async (s) => {
      while (next < chunks.length) {
        const i = next++;
        await s.insert({ table: 'otel_logs', format: 'JSONEachRow', values: chunks[i]!, settings: { input_format_skip_unknown_fields: 1, ...dedupSettings(`par-${i}`), ...c.settings } });
      }
    }));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const stored = Number((await store.query('SELECT count() FROM otel_logs')).toString('utf8').trim());
    if (stored !== lines.length) throw new Error(`parallel inserts stored ${stored} of ${lines.length} rows`);
    return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    for (const s of sessions) s.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
