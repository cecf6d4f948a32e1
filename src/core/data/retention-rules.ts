/**
 * Which store table keeps its rows how long, and which DateTime expression its TTL counts from. The one
 * list: src/server/retention.ts sets the TTLs from it, the retention view (Verify) and the archive before
 * cleanup read the boundary from it. The migrations (telemetry-server/clickhouse/migrations) create the
 * same TTL expressions with the default days; test/unit/retention-rules.test.ts checks they agree.
 */

/** 'raw' = raw OTLP tables, events (and their chapters), focus timeline, quarter-hour rollup; 'session' = session summaries. */
export type RetentionClass = 'raw' | 'session';

export interface RetentionDays {
  /** Days to keep the raw otel_* tables, telemetry_events, events_chapters, chapter_focus and events_15m; 0 = forever. */
  rawDays: number;
  /** Days to keep session_summaries; 0 = forever. */
  sessionDays: number;
}

export interface RetainedTable {
  /** The store table (database `default`). */
  table: string;
  /** The DateTime expression the TTL adds its days to (as written in the migrations). */
  ttlTime: string;
  keep: RetentionClass;
}

function raw(table: string, ttlTime: string): RetainedTable {
  return { table, ttlTime, keep: 'raw' };
}

export const RETAINED_TABLES: readonly RetainedTable[] = [
  raw('otel_logs', 'TimestampTime'),
  raw('otel_metrics_sum', 'toDateTime(TimeUnix)'),
  raw('otel_metrics_gauge', 'toDateTime(TimeUnix)'),
  raw('otel_metrics_histogram', 'toDateTime(TimeUnix)'),
  raw('otel_metrics_exponential_histogram', 'toDateTime(TimeUnix)'),
  raw('otel_metrics_summary', 'toDateTime(TimeUnix)'),
  raw('otel_traces', 'toDateTime(Timestamp)'),
  raw('otel_traces_trace_id_ts', 'Start'),
  raw('telemetry_events', 'toDateTime(timestamp)'),
  raw('chapter_focus', 'toDateTime(timestamp)'),
  // Each event with its chapter (0010): kept exactly as long as the events it attributes.
  raw('events_chapters', 'toDateTime(timestamp)'),
  raw('events_15m', 'bucket'),
  { table: 'session_summaries', ttlTime: 'toDateTime(last_seen)', keep: 'session' },
];

/** Tables kept forever by design (no TTL), with the column that dates a row. */
export const FOREVER_TABLES: readonly { table: string; time: string }[] = [{ table: 'daily_metrics', time: 'day' }, { table: 'daily_errors', time: 'day' }];

export function retainedTable(table: string): RetainedTable | undefined {
  return RETAINED_TABLES.find((t) => t.table === table);
}

export function daysFor(keep: RetentionClass, days: RetentionDays): number {
  return keep === 'raw' ? days.rawDays : days.sessionDays;
}

/** What the retention class is called for people. */
export const CLASS_LABEL: Record<RetentionClass | 'forever', string> = {
  raw: 'raw records and events',
  session: 'session summaries',
  forever: 'aggregates',
};

/** The number of days in a table's TTL (`… + toIntervalDay(N)` as the engine shows it), or 0 when it has none. */
export function ttlDays(createTableQuery: string): number {
  const ttl = /\bTTL\s+(.*?)(?:\s+SETTINGS\s|$)/s.exec(createTableQuery);
  if (!ttl) return 0;
  const days = /toIntervalDay\((\d+)\)/.exec(ttl[1]!);
  if (!days) throw new Error(`Unrecognised TTL clause "${ttl[1]}"; remove it by hand (ALTER TABLE … REMOVE TTL) and restart.`);
  return Number(days[1]);
}
