/**
 * Carrying history between two real stores (two embedded servers): a copy rebuilds the derived
 * tables, copying again adds nothing, and a round trip brings back only what is new — costs are
 * never counted twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { migrateHistory } from '../../src/stack/migrate-history';
import type { WriterCredentials } from '../../src/stack/types';
import { startServer, type RunningServer } from '../support/server';
import { freePort } from '../support/ports';
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

/** The server's writer credential (test/support/server.ts gains it with the endpoint lock-down). */
const auth = (s: RunningServer): WriterCredentials | undefined => (s as RunningServer & { credentials?: WriterCredentials }).credentials;
const copy = (from: RunningServer, to: RunningServer) => migrateHistory({ from: from.httpUrl, to: to.httpUrl, fromAuth: auth(from), toAuth: auth(to) });

const cost = async (s: RunningServer) => Number(await s.sql('SELECT round(sum(cost_usd), 6) FROM telemetry_events'));
const rows = async (s: RunningServer, t: string) => Number(await s.sql(`SELECT count() FROM ${t}`));

test('copy, copy again, and a round trip never count a row twice', async () => {
  await send(a, 'a1', [0.5, 0.25]);
  await send(a, 'a2', [1]);

  const first = await copy(a, b);
  const logs = first.tables.find((t) => t.table === 'otel_logs')!;
  assert.deepEqual([logs.sourceRows, logs.copiedRows, logs.alreadyPresent], [3, 3, 0]);
  assert.equal(await cost(b), 1.75, 'the derived events were rebuilt from the copied raw rows');
  assert.equal(await rows(b, 'otel_metrics_sum'), 2);

  const again = await copy(a, b);
  for (const t of again.tables) assert.equal(t.copiedRows, 0, `${t.table}: nothing new to copy`);
  assert.equal(again.tables.find((t) => t.table === 'otel_logs')!.alreadyPresent, 3);
  assert.equal(await cost(b), 1.75, 'copying again did not double the cost');
  assert.equal(await rows(b, 'otel_logs'), 3);

  // New work lands in B; carrying B's history back to A brings only that.
  await send(b, 'b1', [2]);
  const back = await copy(b, a);
  const backLogs = back.tables.find((t) => t.table === 'otel_logs')!;
  assert.deepEqual([backLogs.sourceRows, backLogs.copiedRows, backLogs.alreadyPresent], [4, 1, 3]);
  assert.equal(await cost(a), 3.75);
  assert.equal(await rows(a, 'otel_logs'), 4);
  assert.equal(await rows(a, 'otel_metrics_sum'), 3);
  assert.equal(await a.sql("SELECT count() FROM telemetry_events WHERE session_id = 'b1'"), '1\n');
});

test('the writer credential travels as HTTP basic auth on every request, never in a URL; staging tables are gone', async () => {
  // A relay in front of B records what the copy sends, then forwards it unchanged.
  const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const port = await freePort();
  const target = new URL(b.httpUrl);
  const relay = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ url: req.url ?? '', headers: req.headers, body: body.toString('utf8') });
      const out = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      out.end(body);
    });
  });
  await new Promise<void>((r) => relay.listen(port, '127.0.0.1', r));
  try {
    const creds: WriterCredentials = auth(b) ?? { user: 'telemetry_writer', password: 'not-a-real-password-42' };
    await send(a, 'a3', [0.125]);
    const r = await migrateHistory({ from: a.httpUrl, to: `http://127.0.0.1:${port}/`, fromAuth: auth(a), toAuth: creds });
    assert.ok(r.tables.find((t) => t.table === 'otel_logs')!.copiedRows >= 1);
    const basic = `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}`;
    assert.ok(seen.length > 0);
    for (const s of seen) {
      assert.equal(s.headers.authorization, basic, `${s.url} carried the writer credential`);
      assert.ok(!decodeURIComponent(s.url).includes(creds.password), `no password in ${s.url}`);
    }
    assert.ok(seen.some((s) => /INSERT INTO default\.`otel_logs` SELECT/.test(s.body)), 'the engine does the anti-join');
    assert.equal(await b.sql("SELECT count() FROM system.tables WHERE database = 'default' AND name LIKE '\\_ct\\_copy\\_%'"), '0\n');
  } finally {
    relay.close();
  }
});

test('without the destination writer credential the copy is refused with a clear error and writes nothing', async () => {
  const before = await rows(b, 'otel_logs');
  await assert.rejects(migrateHistory({ from: a.httpUrl, to: b.httpUrl }), (e: Error & { hint?: string }) => {
    assert.match(e.message, /refused the history copy's credentials/);
    assert.ok(e.hint);
    return true;
  });
  assert.equal(await rows(b, 'otel_logs'), before);
});

test('values with line ends, tabs, quotes, backslashes and bytes that are not UTF-8 arrive byte for byte, whatever the piece size', async () => {
  const [src, dst] = await Promise.all([startServer(), startServer()]);
  try {
    await send(src, 's1', [0.5]);
    // Written by SQL: the receiver would have made the invalid bytes U+FFFD.
    await src.sql(`INSERT INTO otel_logs (Timestamp, ServiceName, Body, LogAttributes, ResourceAttributes)
      SELECT now64(9) - toIntervalSecond(number), 'claude-code',
        concat('line\\nbreak\\ttab\\\\back ''single'' "double" ', unhex('ff00fe'), ' é 😀 ', toString(number)),
        map('event.name', 'api_request', 'a\\tkey', 'v\\nw', 'quote''s', unhex('c3')), map('user_id', 'alice')
      FROM numbers(25)`);
    const sum = (s: RunningServer) => s.sql('SELECT count(), groupBitXor(cityHash64(*)) FROM otel_logs FORMAT TSV');
    const res = await migrateHistory({ from: src.httpUrl, to: dst.httpUrl, toAuth: dst.credentials, batchRows: 2, batchBytes: 300 });
    assert.equal(res.tables.find((t) => t.table === 'otel_logs')!.copiedRows, 26);
    assert.equal(await sum(dst), await sum(src), 'every row equal, column for column');
    assert.equal(await cost(dst), 0.5, 'the derived events were rebuilt');
  } finally {
    await Promise.all([src.stop(), dst.stop()]);
  }
});
