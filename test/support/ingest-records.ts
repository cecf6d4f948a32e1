// What the Ingest tests (exactly once, group wait) share: exports of numbered records, and their counts per table.
import { decodeExport } from '../../src/server/otlp/decode';
import type { TableRows } from '../../src/server/otlp/rows';
import type { Store } from '../../src/server/store/types';
import { encodeLogs, logsRequest } from './otlp';

/** The rows the receiver builds for one export of `n` api_request records of `session`, numbered from `first`. */
export function exportRows(session: string, first: number, n: number): TableRows {
  const t0 = Date.UTC(2026, 10, 30, 8, 0, 0);
  const events = Array.from({ length: n }, (_, i) => ({
    name: 'api_request',
    timeNanos: (BigInt(t0 + first + i) * 1_000_000n).toString(),
    attributes: { 'session.id': session, 'record.id': `${session}-${first + i}`, cost_usd: 0.01, model: 'claude-sonnet-4-5' },
  }));
  return decodeExport('logs', encodeLogs(logsRequest(events, { 'service.name': 'claude-code', user_id: 'alice' })), 'protobuf').rows;
}

/** A session's raw rows, its distinct record ids, and its rows in telemetry_events. */
export async function sessionCounts(store: Store, session: string): Promise<{ raw: number; distinct: number; events: number }> {
  const out = await store.query(
    `SELECT (SELECT count() FROM otel_logs WHERE LogAttributes['session.id'] = '${session}') AS raw,
            (SELECT uniqExact(LogAttributes['record.id']) FROM otel_logs WHERE LogAttributes['session.id'] = '${session}') AS distinct,
            (SELECT count() FROM telemetry_events WHERE session_id = '${session}') AS events FORMAT JSONEachRow`,
  );
  const r = JSON.parse(out.toString('utf8')) as Record<string, string | number>;
  return { raw: Number(r.raw), distinct: Number(r.distinct), events: Number(r.events) };
}
