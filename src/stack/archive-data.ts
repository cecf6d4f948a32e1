/**
 * Archive before cleanup over ClickHouse HTTP (anonymous reads locally; a team URL with a member's
 * credential plugs in through the same DataTarget): reads the store's TTLs back (the retention view),
 * counts per table the rows its TTL removes by the boundary, and exports exactly those rows as Parquet
 * through the streamed export path (src/stack/export-data.ts), one file per table that has any.
 * Which rows, which boundary and the file names are src/core/data/archive-plan.ts.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { archiveFileName, archiveRequest, archiveTargets, type ArchiveTarget } from '../core/data/archive-plan';
import { planExport } from '../core/data/export-plan';
import { loadRetentionView, type TableRetention } from '../core/data/retention-view';
import { exportData, type DataTarget, type ExportProgress } from './export-data';
import { withRunner } from './http-runner';

export interface ExpiringCount extends ArchiveTarget {
  rows: number;
}

/** Per store table: disk, rows, oldest record and the TTL's days (src/core/data/retention-view.ts). */
export function fetchRetentionView(target: DataTarget): Promise<TableRetention[]> {
  return withRunner(target, 'chapter-telemetry-retention-view', loadRetentionView);
}

/** Rows each archivable table loses by `untilSec` under the TTLs the store holds now. */
export async function countExpiring(target: DataTarget, untilSec: number): Promise<ExpiringCount[]> {
  return await withRunner(target, 'chapter-telemetry-archive', async (run) => {
    const targets = archiveTargets(await loadRetentionView(run));
    const out: ExpiringCount[] = [];
    for (const t of targets) {
      const plan = planExport(archiveRequest(t, untilSec));
      // Counts the very rows the archive's export reads.
      const [row] = await run.rows<{ n: number }>({ name: `archive-count-${t.id}`, sql: `SELECT count() AS n FROM (${plan.selectSql})`, params: plan.params });
      out.push({ ...t, rows: Number(row?.n ?? 0) });
    }
    return out;
  });
}

export interface ArchivedFile {
  id: string;
  rows: number;
  bytes: number;
  out: string;
}

/**
 * Writes (creating `dir` if needed) `<dir>/<table>-until-<instant>.parquet` for each count with rows (the counts say which tables
 * and which TTL days; the boundary is `untilSec`). Files are complete or absent (the export path's rename).
 */
export async function archiveExpiring(target: DataTarget, counts: readonly ExpiringCount[], untilSec: number, dir: string,
  onProgress?: (table: string, p: ExportProgress) => void, signal?: AbortSignal): Promise<ArchivedFile[]> {
  const files: ArchivedFile[] = [];
  await mkdir(dir, { recursive: true });
  for (const c of counts.filter((x) => x.rows > 0)) {
    const r = await exportData({ ...archiveRequest(c, untilSec), target, out: join(dir, archiveFileName(c, untilSec)), signal, onProgress: (p) => onProgress?.(c.id, p) });
    files.push({ id: c.id, rows: r.rows, bytes: r.bytes, out: r.out });
  }
  return files;
}
