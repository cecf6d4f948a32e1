/**
 * Refuses an insert before it starts when the data directory's file system is nearly full.
 * Why before: the engine writes an insert table by table (the raw table's part first, then each
 * materialized view's), reserving at least 1 MiB for each part. On a full disk the raw part can
 * land while a view's push fails (issue 13: 1400 rows in otel_logs, 1200 in telemetry_events).
 * Refusing while there is still room for every part of the insert leaves nothing behind, and the
 * sender's retry (503) stores the export once space is back. Insert deduplication
 * (0006_insert_deduplication.sql, ingest.ts) covers what the guard cannot foresee.
 */
import { statfsSync } from 'node:fs';
import { StoreError } from './store/types';

const MiB = 1024 * 1024;

export interface FreeSpace {
  /** Bytes an unprivileged process may still write. */
  available: number;
  /** Size of the file system. */
  total: number;
}

export function freeSpace(dir: string): FreeSpace {
  const s = statfsSync(dir);
  return { available: s.bavail * s.bsize, total: s.blocks * s.bsize };
}

/**
 * What stays free: `minFreeBytes` when given (0 turns the guard off), else 1% of the file system,
 * at least 2 MiB (the engine reserves 1 MiB for each part it writes, one part after the other, so
 * the last part's reservation must fit after the others are written; those are counted by `check`)
 * and at most 256 MiB (room for merges; more would refuse telemetry on a disk that is merely busy).
 */
export function reserveFor(total: number, minFreeBytes?: number): number {
  if (minFreeBytes !== undefined) return minFreeBytes;
  return Math.min(256 * MiB, Math.max(2 * MiB, Math.floor(total / 100)));
}

export class DiskGuard {
  constructor(private readonly dir: string, private readonly minFreeBytes?: number, private readonly measure: (dir: string) => FreeSpace = freeSpace) {}

  /** Throws a retryable StoreError when writing `bytes` more would leave less than the reserve free. */
  check(bytes: number): void {
    if (this.minFreeBytes === 0) return;
    const { available, total } = this.measure(this.dir);
    const reserve = reserveFor(total, this.minFreeBytes);
    // The engine's parts take more room than the JSON (index and mark files): count twice the rows.
    if (available - 2 * bytes >= reserve) return;
    throw new StoreError(
      `Code: 243. DB::Exception: the disk holding ${this.dir} is nearly full (${(available / MiB).toFixed(1)} MiB free, ` +
        `${(reserve / MiB).toFixed(1)} MiB is kept free): nothing was stored; free some space and the sender's retry will store it. (NOT_ENOUGH_SPACE)`,
      243,
      true,
    );
  }
}
