/**
 * Carrying history between two real stores (two embedded servers): a copy rebuilds the derived
 * tables, copying again adds nothing, and a round trip brings back only what is new — costs are
 * never counted twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrateHistory } from '../../src/stack/migrate-history';
import { startServer, type RunningServer } from '../support/server';
import { encodeLogs, encodeMetrics, logsRequest, nowNanos, postOtlp, attrs } from '../support/otlp';

let a: RunningServer;
let b: RunningServer;
before(async () => {
  [a, b] = await Promise.all([startServer(), startServer()]);
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

async function send(srv: RunningServer, session: string, costs: number[]): Promise<void> {
  const logs = logsRequest(costs.map((c, i) => ({ name: 'api_request', attributes: { 'session.id': session, 'event.sequence': i, cost_usd: c, input_tokens: 10 } })), { 'service.name': 'claude-code', user_id: 'alice' });
  assert.equal((await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(logs), 'application/x-protobuf')).status, 200);
  const metrics = { resourceMetrics: [{ resource: { attributes: attrs({ 'service.name': 'claude-code' }) }, scopeMetrics: [{ metrics: [{ name: 'claude_code.cost.usage', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: nowNanos(), asDouble: costs.reduce((x, y) => x + y, 0), attributes: attrs({ 'session.id': session }) }] } }] }] }] };
  assert.equal((await postOtlp(srv.otlpHttpUrl, 'metrics', encodeMetrics(metrics), 'application/x-protobuf')).status, 200);
}

const cost = async (s: RunningServer) => Number(await s.sql('SELECT round(sum(cost_usd), 6) FROM telemetry_events'));
const rows = async (s: RunningServer, t: string) => Number(await s.sql(`SELECT count() FROM ${t}`));

test('copy, copy again, and a round trip never count a row twice', async () => {
  await send(a, 'a1', [0.5, 0.25]);
  await send(a, 'a2', [1]);

  const first = await migrateHistory({ from: a.httpUrl, to: b.httpUrl });
  const logs = first.tables.find((t) => t.table === 'otel_logs')!;
  assert.deepEqual([logs.sourceRows, logs.copiedRows, logs.alreadyPresent], [3, 3, 0]);
  assert.equal(await cost(b), 1.75, 'the derived events were rebuilt from the copied raw rows');
  assert.equal(await rows(b, 'otel_metrics_sum'), 2);

  const again = await migrateHistory({ from: a.httpUrl, to: b.httpUrl });
  for (const t of again.tables) assert.equal(t.copiedRows, 0, `${t.table}: nothing new to copy`);
  assert.equal(again.tables.find((t) => t.table === 'otel_logs')!.alreadyPresent, 3);
  assert.equal(await cost(b), 1.75, 'copying again did not double the cost');
  assert.equal(await rows(b, 'otel_logs'), 3);

  // New work lands in B; carrying B's history back to A brings only that.
  await send(b, 'b1', [2]);
  const back = await migrateHistory({ from: b.httpUrl, to: a.httpUrl });
  const backLogs = back.tables.find((t) => t.table === 'otel_logs')!;
  assert.deepEqual([backLogs.sourceRows, backLogs.copiedRows, backLogs.alreadyPresent], [4, 1, 3]);
  assert.equal(await cost(a), 3.75);
  assert.equal(await rows(a, 'otel_logs'), 4);
  assert.equal(await rows(a, 'otel_metrics_sum'), 3);
  assert.equal(await a.sql("SELECT count() FROM telemetry_events WHERE session_id = 'b1'"), '1\n');
});
