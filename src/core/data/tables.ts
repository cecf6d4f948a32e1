/**
 * The fixed catalog of tables a person can export or delete: what they are called on the command
 * line, which store table holds them, which column dates a row and which expression names its author.
 * Nothing outside this list ever reaches SQL as a table name, so a command-line or quick-pick value
 * can only select one of these entries (`findDataTable`), never write SQL.
 */

export type DataTableId =
  | 'events' | 'focus' | 'sessions' | 'daily' | 'events_15m' | 'daily_errors' | 'events_chapters'
  | 'otel_logs' | 'otel_metrics_sum' | 'otel_metrics_gauge' | 'otel_metrics_histogram'
  | 'otel_metrics_exponential_histogram' | 'otel_metrics_summary' | 'otel_traces';

export interface DataTable {
  id: DataTableId;
  /** The store table (database `default`). */
  table: string;
  label: string;
  /** Expression giving a row's time (a date range filters on `toDate` of it, in UTC). */
  time: string;
  /** Expression giving a row's author (the same rule as the migrations' `chapter_telemetry_user_id`). */
  user: string;
  /**
   * What an export reads. Rollups keep several rows per key until background merges run, so their
   * export merges them (one row per key, read as the migrations' README says); other tables as stored.
   */
  exportSelect: string;
  /** Offered for export (the quarter-hour rollup is an internal cache of the events; delete only). */
  exportable: boolean;
}

const METRIC_USER = 'chapter_telemetry_user_id(ResourceAttributes, Attributes)';

function raw(id: DataTableId, label: string, time: string, user: string): DataTable {
  return { id, table: id, label, time, user, exportSelect: `SELECT * FROM default.${id}`, exportable: true };
}

export const DATA_TABLES: readonly DataTable[] = [
  { id: 'events', table: 'telemetry_events', label: 'Events (one row per Claude Code event)', time: 'timestamp', user: 'user_id',
    exportSelect: 'SELECT * FROM default.telemetry_events', exportable: true },
  { id: 'focus', table: 'chapter_focus', label: 'Chapter focus timeline', time: 'timestamp', user: 'user_id',
    exportSelect: 'SELECT * FROM default.chapter_focus', exportable: true },
  { id: 'sessions', table: 'session_summaries', label: 'Session summaries', time: 'first_seen', user: 'user_id',
    exportSelect: `SELECT user_id, session_id, groupUniqArrayArray(chapters) AS chapters, min(first_seen) AS first_seen,
      max(last_seen) AS last_seen, sum(cost_usd) AS cost_usd, sum(tokens) AS tokens, sum(requests) AS requests, sum(errors) AS errors
      FROM default.session_summaries GROUP BY user_id, session_id`, exportable: true },
  { id: 'daily', table: 'daily_metrics', label: 'Daily aggregates', time: 'day', user: 'user_id',
    exportSelect: `SELECT day, user_id, chapter, model, sum(cost_usd) AS cost_usd, sum(input_tokens) AS input_tokens,
      sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens,
      sum(cache_creation_tokens) AS cache_creation_tokens, sum(requests) AS requests, sum(errors) AS errors
      FROM default.daily_metrics GROUP BY day, user_id, chapter, model`, exportable: true },
  { id: 'events_15m', table: 'events_15m', label: 'Quarter-hour rollup', time: 'bucket', user: 'user_id',
    exportSelect: '', exportable: false },
  // Counts of the events' errors (the team's error patterns): delete only, like the quarter-hour rollup.
  { id: 'daily_errors', table: 'daily_errors', label: 'Daily error counts', time: 'day', user: 'user_id',
    exportSelect: '', exportable: false },
  // Each event with its chapter (0010), what the sidebar and Chapters panel read: delete only (the events
  // export holds the events; events_attributed gives their chapters).
  { id: 'events_chapters', table: 'events_chapters', label: 'Events with their chapters', time: 'timestamp', user: 'user_id',
    exportSelect: '', exportable: false },
  raw('otel_logs', 'Raw OTLP logs', 'Timestamp', 'chapter_telemetry_user_id(ResourceAttributes, LogAttributes)'),
  raw('otel_metrics_sum', 'Raw OTLP metrics (sums)', 'TimeUnix', METRIC_USER),
  raw('otel_metrics_gauge', 'Raw OTLP metrics (gauges)', 'TimeUnix', METRIC_USER),
  raw('otel_metrics_histogram', 'Raw OTLP metrics (histograms)', 'TimeUnix', METRIC_USER),
  raw('otel_metrics_exponential_histogram', 'Raw OTLP metrics (exponential histograms)', 'TimeUnix', METRIC_USER),
  raw('otel_metrics_summary', 'Raw OTLP metrics (summaries)', 'TimeUnix', METRIC_USER),
  raw('otel_traces', 'Raw OTLP traces', 'Timestamp', 'chapter_telemetry_user_id(ResourceAttributes, SpanAttributes)'),
];

export const EXPORT_TABLES: readonly DataTable[] = DATA_TABLES.filter((t) => t.exportable);

/** The catalog entry for a name typed by a person, or undefined: the only way from text to a table. */
export function findDataTable(id: string): DataTable | undefined {
  return DATA_TABLES.find((t) => t.id === id);
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A `YYYY-MM-DD` that is a real calendar day, else undefined. */
export function parseDay(s: string): string | undefined {
  const m = DAY.exec(s);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return d.toISOString().slice(0, 10) === s ? s : undefined;
}

/**
 * Copying rows into a table with several INSERT … SELECT statements in this order (conditions that together
 * cover every row once): focus records before the events, since an insert of several blocks attributes an event
 * only to focus records already stored or in its own block (0010_events_chapters.sql). Used by the history copy
 * and pull-back.
 */
export const FOCUS_FIRST_PARTS: Readonly<Record<string, readonly string[]>> = {
  otel_logs: [" AND LogAttributes['event.name'] = 'chapter_focus'", " AND LogAttributes['event.name'] != 'chapter_focus'"],
};
