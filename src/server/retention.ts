/**
 * Retention: the migrations carry the default TTLs (raw + events 90 days, sessions 365 days,
 * daily_metrics forever); this changes them to the configured number of days. It alters only
 * tables whose current TTL differs, so a restart with the same settings rewrites nothing.
 */
import type { Store } from './store/types';

export interface RetentionOptions {
  /** Days to keep the raw otel_* tables, telemetry_events, chapter_focus and events_15m; 0 = forever. */
  rawDays: number;
  /** Days to keep session_summaries; 0 = forever. */
  sessionDays: number;
}

/** Each table with retention, and the DateTime expression its TTL counts from. */
const RAW_TABLES: ReadonlyArray<readonly [string, string]> = [
  ['otel_logs', 'TimestampTime'],
  ['otel_metrics_sum', 'toDateTime(TimeUnix)'],
  ['otel_metrics_gauge', 'toDateTime(TimeUnix)'],
  ['otel_metrics_histogram', 'toDateTime(TimeUnix)'],
  ['otel_metrics_exponential_histogram', 'toDateTime(TimeUnix)'],
  ['otel_metrics_summary', 'toDateTime(TimeUnix)'],
  ['otel_traces', 'toDateTime(Timestamp)'],
  ['otel_traces_trace_id_ts', 'Start'],
  ['telemetry_events', 'toDateTime(timestamp)'],
  ['chapter_focus', 'toDateTime(timestamp)'],
  ['events_15m', 'bucket'],
];
const SESSION_TABLES: ReadonlyArray<readonly [string, string]> = [['session_summaries', 'toDateTime(last_seen)']];

/** The number of days in a table's TTL (`… + toIntervalDay(N)`), or 0 when it has none. */
export function ttlDays(createTableQuery: string): number {
  const ttl = /\bTTL\s+(.*?)(?:\s+SETTINGS\s|$)/s.exec(createTableQuery);
  if (!ttl) return 0;
  const days = /toIntervalDay\((\d+)\)/.exec(ttl[1]!);
  if (!days) throw new Error(`Unrecognised TTL clause "${ttl[1]}"; remove it by hand (ALTER TABLE … REMOVE TTL) and restart.`);
  return Number(days[1]);
}

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
  const wanted = [
    ...RAW_TABLES.map(([t, col]) => [t, col, options.rawDays] as const),
    ...SESSION_TABLES.map(([t, col]) => [t, col, options.sessionDays] as const),
  ];
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
