/**
 * What Verify Collection and the status-bar tooltip count, over the ClickHouse HTTP interface
 * (the same in embedded and docker mode). Claude Code's records are everything not sent by us.
 */
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
    (SELECT toUnixTimestamp64Milli(max(TimeUnix)) FROM default.otel_metrics_sum)) AS last_ms
FORMAT JSONEachRow`;

export interface Counts {
  events: number;
  taggedEvents: number;
  eventsToday: number;
  metricPoints: number;
  lastReceivedAt?: Date;
}

export function parseCounts(body: string): Counts {
  const row = JSON.parse(body.trim().split('\n')[0] ?? '{}') as Record<string, string | number>;
  const n = (k: string) => Number(row[k] ?? 0) || 0;
  const last = n('last_ms');
  return {
    events: n('events'),
    taggedEvents: n('tagged_events'),
    eventsToday: n('events_today'),
    metricPoints: n('metric_points'),
    lastReceivedAt: last > 0 ? new Date(last) : undefined,
  };
}

/** Runs COUNTS_SQL against `http://host:port/`; throws with ClickHouse's message on failure. */
export async function fetchCounts(httpUrl: string, userId: string, minutes = 15, timeoutMs = 5000): Promise<Counts> {
  const u = new URL(httpUrl);
  u.searchParams.set('param_minutes', String(minutes));
  u.searchParams.set('param_user', userId);
  const res = await fetch(u, { method: 'POST', body: COUNTS_SQL, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse answered ${res.status}: ${text.trim().slice(0, 300)}`);
  return parseCounts(text);
}
