/**
 * A raw record's identity that survives the trip to the team server and back (pull-back, issue 10
 * "Revert to Local"): one SQL expression per raw table, run by the engine on the local store and on
 * the rows read from the team server, so a record the local store already holds is recognised
 * whatever the team changed in it.
 *
 * What the team server changes (src/server/team/privacy.ts): it stamps `user_id` (resource and
 * record attributes); `no-content` drops content attributes and free-text bodies; `aggregates-only`
 * keeps only the aggregate attributes of event logs, clears scope attributes and drops TraceId/SpanId
 * and traces. So an identity may only read what every level keeps, minus `user_id`:
 * - logs: the timestamp, service, severity number and the aggregate event attributes (event.name,
 *   event.timestamp, event.sequence, session.id, prompt.id, model, tokens, cost…): Claude Code numbers
 *   its events per session (`event.sequence`), so two real events never share all of these;
 * - metrics: name, both times, service, the value columns and the non-content point attributes
 *   (a series is its attributes: token type, model, session);
 * - traces: TraceId and SpanId (traces only travel under `all` / `no-content`, which keep both).
 * A privacy-trimmed copy of a record therefore has the same identity as the full local record, so
 * pull-back never adds a "near duplicate" beside it. Map keys are sorted first: a map's order is
 * the order its writer used, which the round trip through JSON may change.
 * Pure: SQL text from fixed lists, no input of anyone's reaches it.
 */
import { AGGREGATE_EVENT_ATTRIBUTES, CONTENT_ATTRIBUTES, CONTENT_SUFFIX_RE } from '../team-privacy';

const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const sqlArray = (xs: readonly string[]) => `[${xs.map(sqlString).join(', ')}]`;

/** Event attributes every privacy level keeps, without the author (the team stamps it). */
const LOG_KEYS = AGGREGATE_EVENT_ATTRIBUTES.filter((k) => k !== 'user_id');

/** `key=value` pairs of a map, sorted, for the keys `keep` (a lambda body over `k`) lets through. */
function sortedPairs(map: string, keep: string): string {
  return `arraySort(arrayFilter(p -> (p.1 != '') , arrayMap((k, v) -> if(${keep}, (k, v), ('', '')), mapKeys(${map}), mapValues(${map}))))`;
}

/** The SQL form of isContentAttribute (src/core/team-privacy.ts) on a key `k`. */
export const CONTENT_KEY_SQL = `(has(${sqlArray(CONTENT_ATTRIBUTES)}, k) OR match(k, ${sqlString(CONTENT_SUFFIX_RE.source)}))`;

const METRIC_ATTRS = sortedPairs('Attributes', `k != 'user_id' AND NOT ${CONTENT_KEY_SQL}`);
const METRIC_BASE = `MetricName, StartTimeUnix, TimeUnix, ServiceName, ${METRIC_ATTRS}`;

export const RECORD_IDENTITY: Readonly<Record<string, string>> = {
  otel_logs: `cityHash64(Timestamp, ServiceName, SeverityNumber, ${sortedPairs('LogAttributes', `has(${sqlArray(LOG_KEYS)}, k)`)})`,
  otel_metrics_sum: `cityHash64(${METRIC_BASE}, Value)`,
  otel_metrics_gauge: `cityHash64(${METRIC_BASE}, Value)`,
  otel_metrics_histogram: `cityHash64(${METRIC_BASE}, Count, Sum, BucketCounts, ExplicitBounds)`,
  otel_metrics_exponential_histogram: `cityHash64(${METRIC_BASE}, Count, Sum, Scale, ZeroCount)`,
  otel_metrics_summary: `cityHash64(${METRIC_BASE}, Count, Sum)`,
  otel_traces: 'cityHash64(TraceId, SpanId)',
};

/** The identity expression of a raw table; throws for any other table (nothing else is pulled back). */
export function recordIdentity(table: string): string {
  const e = RECORD_IDENTITY[table];
  if (!e) throw new Error(`no record identity for ${table}: only the raw OTLP tables are pulled back`);
  return e;
}
