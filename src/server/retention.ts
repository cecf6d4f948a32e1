/**
 * Retention: the migrations carry the default TTLs (raw + events 90 days, sessions 365 days,
 * daily_metrics forever); this changes them to the configured number of days. It alters only
 * tables whose current TTL differs, so a restart with the same settings rewrites nothing.
 */
import { RETAINED_TABLES, daysFor, ttlDays, type RetentionDays } from '../core/data/retention-rules';
import type { Store } from './store/types';

export { ttlDays };

/** Days per retention class (src/core/data/retention-rules.ts lists the tables of each and their TTL expressions). */
export type RetentionOptions = RetentionDays;

function checkDays(name: string, days: number): void {
  if (!Number.isInteger(days) || days < 0) {
    throw new Error(`${name} must be a whole number of days (0 = keep forever), got ${days}.`);
  }
}

/**
 * Sets the TTL of every retained table to the requested days; returns the tables it altered.
 * Tables that do not exist (a partial schema) are skipped.
 */
export async function applyRetention(store: Pick<Store, 'query'>, options: RetentionOptions): Promise<string[]> {
  checkDays('Retention days', options.rawDays);
  checkDays('Session retention days', options.sessionDays);
  const wanted = RETAINED_TABLES.map((t) => [t.table, t.ttlTime, daysFor(t.keep, options)] as const);
  const rows = (
    await store.query(
      "SELECT name, create_table_query FROM system.tables WHERE database = 'default' FORMAT JSONEachRow",
    )
  )
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as { name: string; create_table_query: string });
  const current = new Map(rows.map((r) => [r.name, r.create_table_query]));
  const altered: string[] = [];
  for (const [table, col, days] of wanted) {
    const ddl = current.get(table);
    if (ddl === undefined || ttlDays(ddl) === days) continue;
    const sql = days === 0
      ? `ALTER TABLE default.${table} REMOVE TTL`
      : `ALTER TABLE default.${table} MODIFY TTL ${col} + INTERVAL ${days} DAY`;
    try {
      await store.query(sql);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`Could not set the retention of ${table} to ${days === 0 ? 'forever' : `${days} days`}: ${reason}`);
    }
    altered.push(table);
  }
  return altered;
}
