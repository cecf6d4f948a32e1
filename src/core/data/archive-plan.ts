/**
 * Archive before cleanup: which rows the store's retention removes within the next ARCHIVE_HORIZON_DAYS,
 * where their Parquet files go, and when to offer the archive. Pure: the boundary is the TTL's own
 * expression and the days the store's TTL holds now (read back by src/core/data/retention-view.ts), the
 * instant comes from the caller's clock; src/stack/archive-data.ts counts and exports through the export path.
 */
import type { ExportRequest } from './export-plan';
import { retainedTable } from './retention-rules';
import { EXPORT_TABLES, type DataTableId } from './tables';

export const ARCHIVE_HORIZON_DAYS = 7;
const DAY_MS = 86_400_000;
/** At most one offer per this interval, whatever the answer ("Not now" or no answer at all). */
export const OFFER_INTERVAL_MS = 7 * DAY_MS;

export interface ArchiveTarget {
  /** The export catalog's id (`events`, `otel_logs`, …). */
  id: DataTableId;
  table: string;
  /** The days the store's TTL keeps this table's rows now. */
  days: number;
}

/**
 * Tables worth archiving: those one can export whose store table has a TTL (days > 0). Not here: the
 * daily aggregates (kept forever), the quarter-hour rollup and the trace-id index (caches derived from
 * the events and spans, which are archived themselves).
 */
export function archiveTargets(view: readonly { table: string; days: number }[]): ArchiveTarget[] {
  const days = new Map(view.map((v) => [v.table, v.days]));
  return EXPORT_TABLES.filter((t) => retainedTable(t.table) && (days.get(t.table) ?? 0) > 0)
    .map((t) => ({ id: t.id, table: t.table, days: days.get(t.table)! }));
}

/** The instant (epoch seconds) up to which expiring rows are archived: now + the horizon. */
export function archiveUntilSec(nowMs: number): number {
  return Math.floor(nowMs / 1000) + ARCHIVE_HORIZON_DAYS * 86_400;
}

/** The export of one table's rows that expire by `untilSec` (the same WHERE as its TTL), as Parquet. */
export function archiveRequest(t: ArchiveTarget, untilSec: number): ExportRequest {
  return { table: t.id, format: 'parquet', expiring: { days: t.days, untilSec } };
}

/** `events-until-20261207T080645Z.parquet`: the table and the boundary, so two archives never share a name. */
export function archiveFileName(t: ArchiveTarget, untilSec: number): string {
  const stamp = new Date(untilSec * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${t.id}-until-${stamp}.parquet`;
}

export interface OfferMemory {
  /** Epoch ms of the last offer shown. */
  lastOfferedMs?: number;
  /** The author answered "Don't ask again". */
  never?: boolean;
}

/** Offer when rows are about to expire, the author did not decline for good, and no offer came in the last week. */
export function shouldOfferArchive(memory: OfferMemory, expiringRows: number, nowMs: number): boolean {
  if (memory.never || expiringRows <= 0) return false;
  const last = memory.lastOfferedMs;
  // A clock set back (last offer "in the future") waits for the interval from now on, not forever.
  return last === undefined || nowMs - last >= OFFER_INTERVAL_MS || last - nowMs > OFFER_INTERVAL_MS;
}

/** The notification's text: how many rows, of which tables, leave when. */
export function offerMessage(counts: readonly { id: string; rows: number }[], untilSec: number): string {
  const total = counts.reduce((s, c) => s + c.rows, 0);
  const parts = counts.filter((c) => c.rows > 0).map((c) => `${c.id} ${c.rows.toLocaleString('en-US')}`);
  return `${total.toLocaleString('en-US')} records pass their retention by ${new Date(untilSec * 1000).toISOString().slice(0, 10)} and will be removed (${parts.join(', ')}). Archive them as Parquet first?`;
}
