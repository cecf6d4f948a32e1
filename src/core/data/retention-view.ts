/**
 * Retention you can see: per store table, the disk it uses (compressed bytes of its active parts, from
 * the engine's system.parts), the oldest record it keeps (by the same DateTime its TTL counts from)
 * and the retention the store applies to it (the days read back from the table's own TTL, so the view
 * shows what the store does, not what a setting asks for). Pure: the queries, the reading of their rows
 * and the lines Verify Collection prints; a QueryRunner given by the caller runs them (anonymous reads).
 */
import type { BoundQuery, QueryRunner } from '../queries/types';
import { formatBytes } from './format-bytes';
import { CLASS_LABEL, FOREVER_TABLES, RETAINED_TABLES, ttlDays, type RetentionClass } from './retention-rules';

export interface TableRetention {
  table: string;
  keep: RetentionClass | 'forever';
  /** Compressed bytes of the table's active parts (system.parts.data_compressed_bytes). */
  compressedBytes: number;
  /** Bytes the active parts take on disk, marks and indexes included (system.parts.bytes_on_disk). */
  diskBytes: number;
  /** Rows in the active parts (before background merges, a rollup can hold several per key). */
  rows: number;
  /** Epoch seconds of the oldest record kept (the TTL's DateTime; the day for an aggregate), undefined when empty. */
  oldestSec: number | undefined;
  /** Days the store's TTL keeps rows; 0 = forever. */
  days: number;
}

export type TableRow = { table: string; ddl: string; compressed: number; disk: number; rows: number };
export type OldestRow = { table: string; n: number; oldest: number };

/** Every table of the database with its DDL and the sizes of its active parts (0 when it has none). */
export function tablesQuery(): BoundQuery<TableRow> {
  return {
    name: 'retention-tables',
    sql: `SELECT t.name AS table, t.create_table_query AS ddl, p.compressed AS compressed, p.disk AS disk, p.rows AS rows
      FROM system.tables AS t
      LEFT JOIN (SELECT table, sum(data_compressed_bytes) AS compressed, sum(bytes_on_disk) AS disk, sum(rows) AS rows
                 FROM system.parts WHERE database = 'default' AND active GROUP BY table) AS p ON p.table = t.name
      WHERE t.database = 'default'`,
    params: {},
  };
}

/** The expression that dates a row of each shown table, in display order: retained tables first, then aggregates. */
const SHOWN: readonly { table: string; time: string; keep: RetentionClass | 'forever' }[] = [
  ...RETAINED_TABLES.map((t) => ({ table: t.table, time: t.ttlTime, keep: t.keep })),
  ...FOREVER_TABLES.map((t) => ({ table: t.table, time: `toDateTime(${t.time}, 'UTC')`, keep: 'forever' as const })),
];

/** The oldest record of each of `tables` (names from the fixed lists above only). */
export function oldestQuery(tables: readonly string[]): BoundQuery<OldestRow> | undefined {
  const parts = SHOWN.filter((s) => tables.includes(s.table))
    .map((s) => `SELECT '${s.table}' AS table, count() AS n, toUnixTimestamp(min(${s.time})) AS oldest FROM default.${s.table}`);
  return parts.length ? { name: 'retention-oldest', sql: parts.join(' UNION ALL '), params: {} } : undefined;
}

export function retentionView(tables: readonly TableRow[], oldest: readonly OldestRow[]): TableRetention[] {
  const byName = new Map(tables.map((t) => [t.table, t]));
  const old = new Map(oldest.map((o) => [o.table, o]));
  const out: TableRetention[] = [];
  for (const s of SHOWN) {
    const t = byName.get(s.table);
    if (!t) continue;
    const o = old.get(s.table);
    out.push({
      table: s.table, keep: s.keep,
      compressedBytes: Number(t.compressed) || 0, diskBytes: Number(t.disk) || 0, rows: Number(t.rows) || 0,
      oldestSec: o && Number(o.n) > 0 ? Number(o.oldest) : undefined,
      days: s.keep === 'forever' ? 0 : ttlDays(t.ddl),
    });
  }
  return out;
}

export async function loadRetentionView(run: QueryRunner): Promise<TableRetention[]> {
  const tables = await run.rows(tablesQuery());
  const q = oldestQuery(tables.map((t) => t.table));
  return retentionView(tables, q ? await run.rows(q) : []);
}

function day(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 10);
}

/** One line per table for Verify's output: size, rows, oldest record (and its age), retention. */
export function retentionLines(view: readonly TableRetention[], nowMs: number): string[] {
  const width = Math.max(0, ...view.map((v) => v.table.length));
  const lines = view.map((v) => {
    const oldest = v.oldestSec === undefined ? 'no records' : `oldest ${day(v.oldestSec)} (${Math.max(0, Math.floor((nowMs / 1000 - v.oldestSec) / 86_400))} days ago)`;
    const kept = v.days === 0 ? `kept forever (${CLASS_LABEL[v.keep === 'forever' ? 'forever' : v.keep]})` : `kept ${v.days} days (${CLASS_LABEL[v.keep as RetentionClass]})`;
    const leaves = v.days > 0 && v.oldestSec !== undefined ? `; the oldest leaves ${day(v.oldestSec + v.days * 86_400)}` : '';
    return `  ${v.table.padEnd(width)}  ${formatBytes(v.compressedBytes).padStart(9)} compressed, ${v.rows.toLocaleString('en-US')} rows; ${oldest}; ${kept}${leaves}`;
  });
  const total = view.reduce((s, v) => s + v.compressedBytes, 0);
  return [`Storage and retention (${formatBytes(total)} compressed in ${view.length} tables, UTC days):`, ...lines];
}
