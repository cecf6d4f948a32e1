/**
 * What Verify Collection and the status-bar tooltip count, over the ClickHouse HTTP interface
 * (the same in embedded and docker mode). Claude Code's records are everything not sent by us.
 * Pure: the query and the reading of its row; `src/vscode/store-counts.ts` runs it.
 */
import type { BoundQuery } from './queries/types';

export const COUNTS_SQL = `
SELECT
  (SELECT count() FROM default.otel_logs
     WHERE TimestampTime >= now() - toIntervalMinute({minutes:UInt32}) AND ServiceName != 'chapter-telemetry') AS events,
  (SELECT count() FROM default.otel_logs
     WHERE TimestampTime >= now() - toIntervalMinute({minutes:UInt32}) AND ServiceName != 'chapter-telemetry'
       AND ResourceAttributes['user_id'] = {user:String}) AS tagged_events,
  (SELECT count() FROM default.otel_logs
     WHERE TimestampTime >= today() AND ServiceName != 'chapter-telemetry') AS events_today,
  (SELECT count() FROM default.otel_metrics_sum WHERE TimeUnix >= now() - toIntervalMinute({minutes:UInt32}))
  + (SELECT count() FROM default.otel_metrics_gauge WHERE TimeUnix >= now() - toIntervalMinute({minutes:UInt32}))
  + (SELECT count() FROM default.otel_metrics_histogram WHERE TimeUnix >= now() - toIntervalMinute({minutes:UInt32})) AS metric_points,
  greatest(
    (SELECT toUnixTimestamp64Milli(max(Timestamp)) FROM default.otel_logs WHERE ServiceName != 'chapter-telemetry'),
    (SELECT toUnixTimestamp64Milli(max(TimeUnix)) FROM default.otel_metrics_sum)) AS last_ms`;

export interface Counts {
  events: number;
  taggedEvents: number;
  eventsToday: number;
  metricPoints: number;
  lastReceivedAt?: Date;
}

export type CountsRow = Record<string, string | number | null>;

export function countsQuery(userId: string, minutes = 15): BoundQuery<CountsRow> {
  return { name: 'collection-counts', sql: COUNTS_SQL, params: { minutes, user: userId } };
}

export function countsFromRow(row: CountsRow | undefined): Counts {
  const n = (k: string) => Number(row?.[k] ?? 0) || 0;
  const last = n('last_ms');
  return {
    events: n('events'),
    taggedEvents: n('tagged_events'),
    eventsToday: n('events_today'),
    metricPoints: n('metric_points'),
    lastReceivedAt: last > 0 ? new Date(last) : undefined,
  };
}
