/**
 * The embedded server's OTLP receiver against the real engine: every signal and metric kind
 * lands in its table column for column, over HTTP (protobuf, JSON, gzip) and gRPC; bad input is
 * refused with the right status and the server keeps serving.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type { RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';
import { encodeLogs, encodeMetrics, encodeTraces, logsRequest, nowNanos, postOtlp, attrs } from '../support/otlp';

let srv: RunningServer;
serverPerFile((s) => (srv = s));

async function rows(sql: string, params: Record<string, string> = {}): Promise<Array<Record<string, unknown>>> {
  const text = await srv.sql(`${sql} FORMAT JSONEachRow`, params);
  return text.trim() === '' ? [] : text.trim().split('\n').map((l) => JSON.parse(l));
}

function grpcExport(path: string, body: Buffer, options: grpc.ChannelOptions = {}): Promise<{ code: number; details: string }> {
  const client = new grpc.Client(`127.0.0.1:${srv.grpcPort}`, grpc.credentials.createInsecure(), options);
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, (err) => {
      client.close();
      resolve({ code: err ? err.code : 0, details: err ? err.details : '' });
    });
  });
}
const LOGS_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

describe('logs', () => {
  test('protobuf, JSON and gzip exports become otel_logs and telemetry_events rows', async () => {
    const session = `s-${Date.now()}`;
    const mk = (encodingTag: string) => logsRequest([
      { name: 'api_request', attributes: { 'session.id': session, model: 'claude-sonnet-4-5', input_tokens: 25, output_tokens: 7, cache_read_tokens: 11, cache_creation_tokens: 13, cost_usd: 0.000387, duration_ms: 23, chapter: `ch-${encodingTag}`, 'user.id': 'abc' } },
    ], { 'service.name': 'claude-code', user_id: 'alice', 'service.version': '2.1.197' });
    const pb = await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(mk('pb')), 'application/x-protobuf');
    assert.equal(pb.status, 200);
    assert.equal(pb.body.length, 0, 'an empty ExportLogsServiceResponse');
    const js = await postOtlp(srv.otlpHttpUrl, 'logs', JSON.stringify(mk('json')), 'application/json');
    assert.equal(js.status, 200);
    assert.equal(js.body.toString(), '{}');
    const gz = await postOtlp(srv.otlpHttpUrl, 'logs', gzipSync(encodeLogs(mk('gzip'))), 'application/x-protobuf', { 'content-encoding': 'gzip' });
    assert.equal(gz.status, 200);
    const grpcRes = await grpcExport(LOGS_PATH, encodeLogs(mk('grpc')));
    assert.equal(grpcRes.code, 0, grpcRes.details);
    const grpcGz = await grpcExport(LOGS_PATH, encodeLogs(mk('grpcgz')), { 'grpc.default_compression_algorithm': 2 });
    assert.equal(grpcGz.code, 0, grpcGz.details);

    const got = await rows(
      'SELECT chapter_context, user_id, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, token_count, cost_usd, model, app_version FROM telemetry_events WHERE session_id = {s:String} ORDER BY chapter_context',
      { s: session },
    );
    assert.deepEqual(got.map((r) => r.chapter_context), ['ch-grpc', 'ch-grpcgz', 'ch-gzip', 'ch-json', 'ch-pb']);
    for (const r of got) {
      assert.equal(r.user_id, 'alice');
      assert.equal(r.input_tokens, 25);
      assert.equal(r.output_tokens, 7);
      assert.equal(r.cache_read_tokens, 11);
      assert.equal(r.cache_creation_tokens, 13);
      assert.equal(r.token_count, 56);
      assert.equal(r.cost_usd, 0.000387);
      assert.equal(r.model, 'claude-sonnet-4-5');
    }
    const raw = await rows("SELECT ServiceName, ScopeName, ScopeVersion, Body, LogAttributes['input_tokens'] AS it, ResourceAttributes['user_id'] AS u FROM otel_logs WHERE LogAttributes['session.id'] = {s:String} LIMIT 1", { s: session });
    assert.deepEqual(raw[0], { ServiceName: 'claude-code', ScopeName: 'com.anthropic.claude_code.events', ScopeVersion: '2.1.197', Body: 'claude_code.api_request', it: '25', u: 'alice' });
  });

  test('nanosecond timestamps, trace ids and severity survive exactly', async () => {
    // Recent (older rows fall to the 90-day TTL at once), with every nanosecond digit significant.
    const nanos = `${Math.floor(Date.now() / 1000) - 60}285123456`;
    const req = {
      resourceLogs: [{
        resource: { attributes: attrs({ 'service.name': 'ts-check' }) },
        scopeLogs: [{ logRecords: [{ timeUnixNano: nanos, severityNumber: 9, severityText: 'INFO', traceId: 'AAECAwQFBgcICQoLDA0ODw==', spanId: 'AAECAwQFBgc=', flags: 1, body: { kvlistValue: { values: [{ key: 'a', value: { intValue: 1 } }] } } }] }],
      }],
    };
    assert.equal((await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(req), 'application/x-protobuf')).status, 200);
    const json = { resourceLogs: [{ resource: { attributes: attrs({ 'service.name': 'ts-check-json' }) }, scopeLogs: [{ logRecords: [{ timeUnixNano: nanos, severityNumber: 'SEVERITY_NUMBER_WARN', traceId: '000102030405060708090a0b0c0d0e0f', spanId: '0001020304050607', body: { stringValue: 'x' } }] }] }] };
    assert.equal((await postOtlp(srv.otlpHttpUrl, 'logs', JSON.stringify(json), 'application/json')).status, 200);
    const got = await rows("SELECT ServiceName, toString(toUnixTimestamp64Nano(Timestamp)) AS ns, TraceId, SpanId, SeverityNumber, Body FROM otel_logs WHERE ServiceName LIKE 'ts-check%' ORDER BY ServiceName");
    assert.deepEqual(got, [
      { ServiceName: 'ts-check', ns: nanos, TraceId: '000102030405060708090a0b0c0d0e0f', SpanId: '0001020304050607', SeverityNumber: 9, Body: '{"a":1}' },
      { ServiceName: 'ts-check-json', ns: nanos, TraceId: '000102030405060708090a0b0c0d0e0f', SpanId: '0001020304050607', SeverityNumber: 13, Body: 'x' },
    ]);
  });
});

describe('records without times', () => {
  test('an unset start time lands as the epoch, a missing time as the receive time; nothing is refused', async () => {
    const before = Date.now();
    const metrics = { resourceMetrics: [{ resource: { attributes: attrs({ 'service.name': 'no-times' }) }, scopeMetrics: [{ metrics: [
      { name: 'no.start', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: nowNanos(), asDouble: 1, exemplars: [{ asDouble: 2 }] }] } },
      { name: 'no.time', gauge: { dataPoints: [{ asInt: 3 }] } },
    ] }] }] };
    const m = await postOtlp(srv.otlpHttpUrl, 'metrics', encodeMetrics(metrics), 'application/x-protobuf');
    assert.equal(m.status, 200, m.body.toString('latin1'));
    const logs = { resourceLogs: [{ resource: { attributes: attrs({ 'service.name': 'no-times' }) }, scopeLogs: [{ logRecords: [{ body: { stringValue: 'timeless' } }] }] }] };
    assert.equal((await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(logs), 'application/x-protobuf')).status, 200);
    assert.deepEqual(await rows("SELECT toUnixTimestamp64Nano(StartTimeUnix) AS s, Exemplars.TimeUnix AS et FROM otel_metrics_sum WHERE MetricName = 'no.start'"),
      [{ s: 0, et: ['1970-01-01 00:00:00.000000000'] }]);
    const [g] = await rows("SELECT toUnixTimestamp64Milli(TimeUnix) AS t FROM otel_metrics_gauge WHERE MetricName = 'no.time'");
    assert.ok(Number(g!.t) >= before - 1000, 'a point without a time is stamped when received');
    const [l] = await rows("SELECT toUnixTimestamp64Milli(Timestamp) AS t FROM otel_logs WHERE Body = 'timeless'");
    assert.ok(Number(l!.t) >= before - 1000, 'a record without times is stamped when received (not 1970, which retention would drop)');
  });
});

describe('metrics and traces', () => {
  test('sum, gauge, histogram, exponential histogram and summary each land in their table', async () => {
    const t = nowNanos();
    const start = nowNanos(-10_000);
    const point = { startTimeUnixNano: start, timeUnixNano: t, attributes: attrs({ 'session.id': 'm1', type: 'input' }) };
    const req = {
      resourceMetrics: [{
        resource: { attributes: attrs({ 'service.name': 'claude-code', user_id: 'alice' }) },
        scopeMetrics: [{
          scope: { name: 'com.anthropic.claude_code', version: '2.1.197' },
          metrics: [
            { name: 'claude_code.token.usage', unit: 'tokens', description: 'Number of tokens used', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ ...point, asDouble: 25 }] } },
            { name: 'test.gauge', gauge: { dataPoints: [{ ...point, asInt: 42, exemplars: [{ timeUnixNano: t, asDouble: 1.5, spanId: 'AAECAwQFBgc=', traceId: 'AAECAwQFBgcICQoLDA0ODw==' }] }] } },
            { name: 'test.histogram', histogram: { aggregationTemporality: 2, dataPoints: [{ ...point, count: 3, sum: 6, bucketCounts: [1, 2, 0], explicitBounds: [1, 5], min: 1, max: 3 }] } },
            { name: 'test.exphistogram', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{ ...point, count: 4, sum: 10, scale: 2, zeroCount: 1, positive: { offset: 3, bucketCounts: [1, 2] }, negative: { offset: -1, bucketCounts: [0] }, min: 0, max: 5 }] } },
            { name: 'test.summary', summary: { dataPoints: [{ ...point, count: 5, sum: 15, quantileValues: [{ quantile: 0.5, value: 3 }, { quantile: 0.99, value: 5 }] }] } },
          ],
        }],
      }],
    };
    const res = await postOtlp(srv.otlpHttpUrl, 'metrics', encodeMetrics(req), 'application/x-protobuf');
    assert.equal(res.status, 200, res.body.toString());
    const sum = await rows("SELECT MetricName, MetricUnit, Value, AggregationTemporality, IsMonotonic, Attributes['type'] AS type, ServiceName FROM otel_metrics_sum WHERE Attributes['session.id'] = 'm1'");
    assert.deepEqual(sum, [{ MetricName: 'claude_code.token.usage', MetricUnit: 'tokens', Value: 25, AggregationTemporality: 1, IsMonotonic: true, type: 'input', ServiceName: 'claude-code' }]);
    const gauge = await rows("SELECT Value, Exemplars.Value AS ev, Exemplars.SpanId AS es FROM otel_metrics_gauge WHERE MetricName = 'test.gauge'");
    assert.deepEqual(gauge, [{ Value: 42, ev: [1.5], es: ['0001020304050607'] }]);
    const hist = await rows("SELECT Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality FROM otel_metrics_histogram WHERE MetricName = 'test.histogram'");
    assert.deepEqual(hist, [{ Count: 3, Sum: 6, BucketCounts: [1, 2, 0], ExplicitBounds: [1, 5], Min: 1, Max: 3, AggregationTemporality: 2 }]);
    const exp = await rows("SELECT Count, Sum, Scale, ZeroCount, PositiveOffset, PositiveBucketCounts, NegativeOffset, NegativeBucketCounts FROM otel_metrics_exponential_histogram WHERE MetricName = 'test.exphistogram'");
    assert.deepEqual(exp, [{ Count: 4, Sum: 10, Scale: 2, ZeroCount: 1, PositiveOffset: 3, PositiveBucketCounts: [1, 2], NegativeOffset: -1, NegativeBucketCounts: [0] }]);
    const summary = await rows("SELECT Count, Sum, ValueAtQuantiles.Quantile AS q, ValueAtQuantiles.Value AS v FROM otel_metrics_summary WHERE MetricName = 'test.summary'");
    assert.deepEqual(summary, [{ Count: 5, Sum: 15, q: [0.5, 0.99], v: [3, 5] }]);
  });

  test('spans land in otel_traces with duration, kind, status, events and links', async () => {
    const startNs = BigInt(Date.now() - 60_000) * 1_000_000n;
    const req = {
      resourceSpans: [{
        resource: { attributes: attrs({ 'service.name': 'claude-code' }) },
        scopeSpans: [{
          scope: { name: 'com.anthropic.claude_code.tracing', version: '1.0.0' },
          spans: [{
            traceId: 'AAECAwQFBgcICQoLDA0ODw==', spanId: 'AQIDBAUGBwg=', name: 'claude_code.llm_request', kind: 3,
            startTimeUnixNano: startNs.toString(), endTimeUnixNano: (startNs + 24_000_000n).toString(),
            attributes: attrs({ model: 'claude-sonnet-4-5', input_tokens: 25 }),
            status: { code: 2, message: 'boom' },
            events: [{ timeUnixNano: startNs.toString(), name: 'first_token', attributes: attrs({ ttft_ms: 11 }) }],
            links: [{ traceId: 'AAECAwQFBgcICQoLDA0ODw==', spanId: 'AAECAwQFBgc=' }],
          }],
        }],
      }],
    };
    assert.equal((await postOtlp(srv.otlpHttpUrl, 'traces', encodeTraces(req), 'application/x-protobuf')).status, 200);
    const got = await rows("SELECT SpanName, SpanKind, Duration, StatusCode, StatusMessage, SpanAttributes['input_tokens'] AS it, Events.Name AS en, Links.SpanId AS ls FROM otel_traces WHERE SpanId = '0102030405060708'");
    assert.deepEqual(got, [{ SpanName: 'claude_code.llm_request', SpanKind: 'Client', Duration: 24_000_000, StatusCode: 'Error', StatusMessage: 'boom', it: '25', en: ['first_token'], ls: ['0001020304050607'] }]);
  });
});

describe('bad input', () => {
  test('a body that does not inflate gets 400 and its kept-alive connection serves the next export', async () => {
    // One socket for both requests: the second is parsed only if the server read the first body to its end.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: Buffer, headers: Record<string, string>) => new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
      const req = request(`${srv.otlpHttpUrl}/v1/logs`, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': String(body.length), ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket }));
      });
      req.on('error', reject);
      req.end(body);
    });
    try {
      const good = encodeLogs(logsRequest([{ name: 'user_prompt' }]));
      // Incompressible, so most of the body is still on its way when the inflater gives up.
      const gz = gzipSync(Buffer.concat([good, randomBytes(1_000_000)]));
      gz[20] ^= 0xff;
      const first = await post(gz, { 'content-encoding': 'gzip' });
      assert.equal(first.status, 400);
      const second = await post(good, {});
      assert.equal(second.status, 200);
      assert.equal(second.socket, first.socket, 'the same kept-alive connection');
    } finally {
      agent.destroy();
    }
  });

  test('values of the wrong type or range are the sender\'s error (400), never a store failure to retry (503)', async () => {
    const t = nowNanos();
    const withPoint = (point: object) => JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'h', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: t, count: 1, ...point }] } }] }] }] });
    for (const point of [{ positive: { offset: { a: 1 } } }, { count: 2.5 }, { positive: { offset: 0, bucketCounts: [1.5] } }, { timeUnixNano: '99999999999999999999' }, { scale: 2 ** 40 }]) {
      const r = await postOtlp(srv.otlpHttpUrl, 'metrics', withPoint(point), 'application/json');
      assert.equal(r.status, 400, `${JSON.stringify(point)} → ${r.status} ${r.body.toString()}`);
    }
    const sum = JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 's', sum: { aggregationTemporality: '99999999999999999999999', dataPoints: [{ timeUnixNano: t, asInt: 1 }] } }] }] }] });
    assert.equal((await postOtlp(srv.otlpHttpUrl, 'metrics', sum, 'application/json')).status, 200, 'an unknown enum value is unspecified, as for a newer sender');
    const lone = JSON.stringify(logsRequest([{ name: 'user_prompt', attributes: { prompt: 'a\ud800b' } }], { 'service.name': 'claude-code', user_id: 'lone-surrogate' }));
    assert.equal((await postOtlp(srv.otlpHttpUrl, 'logs', lone, 'application/json')).status, 200);
    assert.equal((await srv.sql("SELECT LogAttributes['prompt'] FROM otel_logs WHERE ResourceAttributes['user_id'] = 'lone-surrogate' FORMAT TSV")).trim(), 'a\uFFFDb');
  });

  test('each kind of bad request gets its status and a message, and nothing is stored', async () => {
    const before = await srv.sql('SELECT count() FROM otel_logs');
    const good = encodeLogs(logsRequest([{ name: 'user_prompt', attributes: { prompt: '<REDACTED>' } }]));

    const truncated = await postOtlp(srv.otlpHttpUrl, 'logs', good.subarray(0, good.length - 7), 'application/x-protobuf');
    assert.equal(truncated.status, 400);
    // The body is a google.rpc.Status: field 2 carries the message.
    assert.match(truncated.body.toString('latin1'), /malformed OTLP protobuf logs request/);

    const badJson = await postOtlp(srv.otlpHttpUrl, 'logs', '{"resourceLogs": [', 'application/json');
    assert.equal(badJson.status, 400);
    assert.match(JSON.parse(badJson.body.toString()).message, /malformed OTLP JSON/);

    const wrongShape = await postOtlp(srv.otlpHttpUrl, 'logs', '{"resourceLogs": 5}', 'application/json');
    assert.equal(wrongShape.status, 400);
    assert.match(JSON.parse(wrongShape.body.toString()).message, /must be an array/);

    const type = await postOtlp(srv.otlpHttpUrl, 'logs', 'hello', 'text/plain');
    assert.equal(type.status, 415);
    assert.match(type.body.toString(), /application\/x-protobuf or application\/json/);

    const huge = await postOtlp(srv.otlpHttpUrl, 'logs', Buffer.alloc(33 * 1024 * 1024, 1), 'application/x-protobuf');
    assert.equal(huge.status, 413);

    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024));
    assert.ok(bomb.length < 1024 * 1024, 'the bomb itself is small');
    const bombRes = await postOtlp(srv.otlpHttpUrl, 'logs', bomb, 'application/x-protobuf', { 'content-encoding': 'gzip' });
    assert.equal(bombRes.status, 413);
    assert.match(bombRes.body.toString('latin1'), /once decompressed/);

    const badGzip = await postOtlp(srv.otlpHttpUrl, 'logs', Buffer.from('not gzip at all'), 'application/x-protobuf', { 'content-encoding': 'gzip' });
    assert.equal(badGzip.status, 400);

    const unknown = await fetch(`${srv.otlpHttpUrl}/v1/profiles`, { method: 'POST', body: 'x' });
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /\/v1\/logs/);
    const get = await fetch(`${srv.otlpHttpUrl}/v1/logs`);
    assert.equal(get.status, 405);

    const grpcBad = await grpcExport(LOGS_PATH, Buffer.from([0x0a, 0xff, 0xff, 0xff]));
    assert.equal(grpcBad.code, grpc.status.INVALID_ARGUMENT);
    assert.match(grpcBad.details, /malformed OTLP protobuf/);

    assert.equal(await srv.sql('SELECT count() FROM otel_logs'), before, 'no bad request stored anything');
    // …and the server still takes good data on both transports.
    assert.equal((await postOtlp(srv.otlpHttpUrl, 'logs', good, 'application/x-protobuf')).status, 200);
    // A second, different export: the same one sent again would be stored once (insert deduplication).
    const good2 = encodeLogs(logsRequest([{ name: 'user_prompt', attributes: { prompt: '<REDACTED>', 'prompt.id': 'second' } }]));
    assert.equal((await grpcExport(LOGS_PATH, good2)).code, 0);
    assert.equal(Number(await srv.sql('SELECT count() FROM otel_logs')), Number(before) + 2);
    const health = await (await fetch(`${srv.otlpHttpUrl}/health`)).json() as { status: string; rejected: { logs: number } };
    assert.equal(health.status, 'ok');
    assert.ok(health.rejected.logs >= 4);
  });
});
