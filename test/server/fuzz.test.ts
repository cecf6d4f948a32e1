// Bounded, seeded fuzzing of the built server's OTLP receivers: thousands of mutated OTLP/HTTP bodies
// (protobuf, JSON, gzip, deflate, wrong headers) and gRPC Export messages. Every answer must be a 2xx or 4xx
// (gRPC: OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED); a 503 / UNAVAILABLE only as the store's own "retry"; the
// process never dies or logs an uncaught error, still stores a valid export afterwards, and its memory stays
// bounded. The seed is printed; CT_FUZZ_SEED=<n> replays a run. Bounded by a case count and a time budget (a
// bound on the run, not an assertion about speed).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { attrs, encodeLogs, encodeMetrics, encodeTraces, logsRequest, nowNanos } from '../support/otlp';
import type { RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';

const SEED = Number(process.env.CT_FUZZ_SEED ?? 20261130);
const HTTP_CASES = 3000;
const GRPC_CASES = 1000;
const BUDGET_MS = 45_000;
const PARALLEL = 8;
/** How much the server's resident memory may grow over the run (the engine caches; a leak grows without end). */
const RSS_GROWTH_LIMIT_MB = 300;

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Signal = 'logs' | 'metrics' | 'traces';
const SIGNALS: Signal[] = ['logs', 'metrics', 'traces'];

function metricsRequest(): object {
  const t = nowNanos();
  return {
    resourceMetrics: [{
      resource: { attributes: attrs({ 'service.name': 'claude-code', user_id: 'fuzz' }) },
      scopeMetrics: [{
        scope: { name: 'com.anthropic.claude_code', version: '2.1.197' },
        metrics: [
          { name: 'claude_code.token.usage', unit: 'tokens', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ attributes: attrs({ type: 'input', model: 'm' }), startTimeUnixNano: t, timeUnixNano: t, asInt: 12 }] } },
          { name: 'g', gauge: { dataPoints: [{ timeUnixNano: t, asDouble: 0.5 }] } },
          { name: 'h', histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: t, count: 3, sum: 4.5, bucketCounts: [1, 2], explicitBounds: [1] }] } },
          { name: 'e', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: t, count: 2, scale: 1, zeroCount: 0, positive: { offset: 0, bucketCounts: [1, 1] } }] } },
          { name: 's', summary: { dataPoints: [{ timeUnixNano: t, count: 2, sum: 3, quantileValues: [{ quantile: 0.5, value: 1 }] }] } },
        ],
      }],
    }],
  };
}

function tracesRequest(): object {
  const t = nowNanos();
  return {
    resourceSpans: [{
      resource: { attributes: attrs({ 'service.name': 'claude-code' }) },
      scopeSpans: [{
        scope: { name: 's' },
        spans: [{
          traceId: Buffer.alloc(16, 1).toString('base64'), spanId: Buffer.alloc(8, 2).toString('base64'), name: 'span', kind: 3,
          startTimeUnixNano: t, endTimeUnixNano: t, attributes: attrs({ a: 1 }), events: [{ timeUnixNano: t, name: 'ev' }], status: { code: 2, message: 'x' },
        }],
      }],
    }],
  };
}

const baseObjects: Record<Signal, () => object> = {
  logs: () => logsRequest([{ name: 'api_request', attributes: { cost_usd: 0.01, input_tokens: 3, model: 'm' } }, { name: 'user_prompt', attributes: { prompt_length: 5 } }], { 'service.name': 'claude-code', user_id: 'fuzz', chapter: 'ch1' }),
  metrics: metricsRequest,
  traces: tracesRequest,
};
const encoders: Record<Signal, (o: object) => Buffer> = { logs: encodeLogs, metrics: encodeMetrics, traces: encodeTraces };

/** Byte-level mutations of a protobuf (or any) body. */
function mutateBytes(rnd: () => number, b: Buffer, other: Buffer): Buffer {
  const int = (n: number) => Math.floor(rnd() * n);
  const out = Buffer.from(b);
  switch (int(11)) {
    case 0: for (let i = 0, n = 1 + int(8); i < n && out.length; i++) out[int(out.length)]! ^= 1 << int(8); return out;
    case 1: for (let i = 0, n = 1 + int(4); i < n && out.length; i++) out[int(out.length)] = [0, 0xff, 0x80, 0x7f, 0x0a, 0x12][int(6)]!; return out;
    case 2: return out.subarray(0, int(out.length + 1));
    case 3: { const at = int(out.length + 1); return Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(32) }, () => int(256))), out.subarray(at)]); }
    case 4: { const at = int(out.length + 1); return Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + int(64))]); }
    case 5: { const at = int(out.length + 1); const len = int(200); return Buffer.concat([out.subarray(0, at + len), out.subarray(at, at + len), out.subarray(at + len)]); }
    case 6: return Buffer.concat([out.subarray(0, int(out.length + 1)), other.subarray(int(other.length + 1))]);
    case 7: return Buffer.from(Array.from({ length: int(2000) }, () => int(256)));
    // A length-delimited field 1 claiming far more bytes than follow; an overlong varint.
    case 8: return Buffer.concat([Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), out]);
    case 9: return Buffer.concat([out, Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]);
    // Nested messages many levels deep (field 1, length-delimited, around itself).
    default: {
      let m = Buffer.alloc(0);
      for (let i = 0, n = 50 + int(3000); i < n; i++) m = Buffer.concat([Buffer.from([0x0a]), varint(m.length), m]);
      return m;
    }
  }
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) { bytes.push((n & 0x7f) | 0x80); n >>>= 7; }
  bytes.push(n);
  return Buffer.from(bytes);
}

const oddValues: unknown[] = [null, true, 0, -1, 1.5, 2 ** 64, -(2 ** 63), '__NUM_1e309__', '__NUM_-1e400__', '__NUM_123456789012345678901234567890__', 'NaN', '-1', '99999999999999999999999', '', 'x'.repeat(5000), '\u0000\ud800', [], [null], {}, { stringValue: 1 }, { intValue: 'abc' }, { arrayValue: { values: [{ kvlistValue: null }] } }];

/** Structure-aware mutations of an OTLP/JSON object, as JSON text: wrong types, missing and unknown keys, deep nesting. */
function mutateJson(rnd: () => number, o: unknown): string {
  const int = (n: number) => Math.floor(rnd() * n);
  const copy = JSON.parse(JSON.stringify(o)) as unknown;
  const nodes: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (v: unknown) => {
    if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        nodes.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
        walk((v as Record<string, unknown>)[k]);
      }
    }
  };
  walk(copy);
  for (let i = 0, n = 1 + int(4); i < n && nodes.length; i++) {
    const [parent, key] = nodes[int(nodes.length)]!;
    const p = parent as Record<string | number, unknown>;
    switch (int(4)) {
      case 0: p[key] = oddValues[int(oddValues.length)]; break;
      case 1: delete p[key]; break;
      case 2: p[`unknown${int(9)}`] = oddValues[int(oddValues.length)]; break;
      // Deeper than JSON.stringify can write: spliced in as text below.
      default: p[key] = `__DEEP_${10 + int(20_000)}__`;
    }
  }
  return JSON.stringify(copy)
    .replace(/"__DEEP_(\d+)__"/g, (_m, n: string) => `${'{"arrayValue":{"values":['.repeat(Number(n))}{"stringValue":"leaf"}${']}}'.repeat(Number(n))}`)
    // Numbers JavaScript cannot hold (JSON.stringify would write null): spliced in as text.
    .replace(/"__NUM_([-\d.e]+)__"/g, '$1');
}

interface HttpCase { path: string; method: string; headers: Record<string, string>; body: Buffer; what: string }

function httpCase(rnd: () => number, bases: Record<Signal, { pb: Buffer; obj: object }>): HttpCase {
  const int = (n: number) => Math.floor(rnd() * n);
  const signal = SIGNALS[int(3)]!;
  const other = bases[SIGNALS[int(3)]!];
  const kind = int(10);
  let body: Buffer;
  let ct: string;
  let what: string;
  if (kind < 4) {
    body = mutateBytes(rnd, bases[signal].pb, other.pb); ct = 'application/x-protobuf'; what = 'protobuf';
  } else if (kind < 7) {
    body = Buffer.from(mutateJson(rnd, bases[signal].obj)); ct = 'application/json'; what = 'json';
  } else if (kind < 8) {
    body = mutateBytes(rnd, Buffer.from(JSON.stringify(bases[signal].obj)), Buffer.from(JSON.stringify(other.obj))); ct = 'application/json'; what = 'json-bytes';
  } else {
    // Protobuf under a JSON content type and the other way round, or no/odd content types.
    body = rnd() < 0.5 ? bases[signal].pb : Buffer.from(JSON.stringify(bases[signal].obj));
    ct = ['application/json', 'application/x-protobuf', 'application/protobuf', 'text/plain', '', 'application/json; charset=utf-8', 'multipart/form-data; boundary=x'][int(7)]!;
    what = 'content-type';
  }
  const headers: Record<string, string> = {};
  if (ct) headers['content-type'] = ct;
  const enc = int(10);
  if (enc === 0) { body = gzipSync(body); headers['content-encoding'] = 'gzip'; what += '+gzip'; }
  if (enc === 1) { body = mutateBytes(rnd, gzipSync(body), other.pb); headers['content-encoding'] = 'gzip'; what += '+bad-gzip'; }
  if (enc === 2) { headers['content-encoding'] = 'gzip'; what += '+not-gzip'; }
  if (enc === 3) { body = deflateSync(body); headers['content-encoding'] = 'deflate'; what += '+deflate'; }
  if (enc === 4) { headers['content-encoding'] = ['br', 'zstd', 'gzip, gzip', 'GZIP'][int(4)]!; what += `+${headers['content-encoding']}`; }
  const path = int(40) === 0 ? ['/v1/log', '/v1/logs/', '/v1/logs?x=1', '/%2e%2e/v1/logs', '/v1/metrics#x'][int(5)]! : `/v1/${signal}`;
  const method = int(60) === 0 ? ['GET', 'PUT', 'DELETE'][int(3)]! : 'POST';
  return { path, method, headers, body, what };
}

function send(port: number, c: HttpCase): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: c.path, method: c.method, headers: { ...c.headers, 'content-length': String(c.body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(c.body);
  });
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A 503 is acceptable only as the store asking the sender to retry (Retry-After and the receiver's "retry" wording). */
function isStoreRetry(r: { status: number; headers: Record<string, unknown>; body: string }): boolean {
  return r.status === 503 && r.headers['retry-after'] !== undefined && /retry/.test(r.body) && !/Cannot parse|TYPE_MISMATCH|INCORRECT_DATA|Syntax error/i.test(r.body);
}

let srv: RunningServer;
const rnd = prng(SEED);
const bases = Object.fromEntries(SIGNALS.map((s) => { const obj = baseObjects[s](); return [s, { obj, pb: encoders[s](obj) }]; })) as Record<Signal, { pb: Buffer; obj: object }>;
let rssStart = 0;

serverPerFile(async (started) => {
  srv = started;
  // Warm up with valid exports so the engine's steady state is the baseline, not its empty start.
  for (let i = 0; i < 60; i++) {
    const s = SIGNALS[i % 3]!;
    const r = await send(srv.otlpHttpPort, { path: `/v1/${s}`, method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: bases[s].pb, what: 'warm-up' });
    assert.equal(r.status, 200, r.body);
  }
  rssStart = rssMb(srv.proc.pid!);
  console.log(`fuzz seed ${SEED} (CT_FUZZ_SEED replays it); server RSS after warm-up ${rssStart.toFixed(0)} MB`);
});

describe('fuzzing the OTLP receivers', { timeout: 180_000 }, () => {
  const deadline = Date.now() + BUDGET_MS;
  const bad: string[] = [];

  test('OTLP/HTTP: mutated protobuf, JSON, gzip and headers get 2xx or 4xx', async () => {
    const counts = new Map<number, number>();
    const retries = new Set<string>();
    let done = 0;
    while (done < HTTP_CASES && Date.now() < deadline && bad.length < 20) {
      const batch = Array.from({ length: Math.min(PARALLEL, HTTP_CASES - done) }, () => httpCase(rnd, bases));
      const results = await Promise.all(batch.map(async (c) => {
        const t = Date.now();
        try {
          return { c, r: await send(srv.otlpHttpPort, c), ms: Date.now() - t };
        } catch (e) {
          return { c, r: { status: -1, headers: {}, body: (e as Error).message }, ms: Date.now() - t };
        }
      }));
      for (const { c, r, ms } of results) {
        if (process.env.CT_FUZZ_DEBUG && ms > 300) console.log(`slow ${ms} ms: ${c.method} ${c.path} ${c.what} ${c.body.length} → ${r.status} ${r.body.slice(0, 100)}`);
        counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
        if (r.status === 503) retries.add(r.body.slice(0, 200));
        const ok = (r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500) || isStoreRetry(r);
        if (!ok) bad.push(`${c.method} ${c.path} ${c.what} ${JSON.stringify(c.headers)} ${c.body.length} bytes → ${r.status} ${r.body.slice(0, 300)}`);
      }
      done += batch.length;
    }
    console.log(`HTTP cases: ${done}; statuses ${JSON.stringify(Object.fromEntries(counts))}${retries.size ? `; 503s: ${[...retries].join(' | ')}` : ''}`);
    assert.deepEqual(bad, []);
    assert.ok((counts.get(200) ?? 0) > 0 && (counts.get(400) ?? 0) > 0, 'the mutations reach both the accepting and the refusing paths');
    assert.equal(srv.proc.exitCode, null, srv.output().slice(-2000));
  });

  test('OTLP/gRPC: mutated Export messages get OK, INVALID_ARGUMENT or RESOURCE_EXHAUSTED', async () => {
    const client = new grpc.Client(`127.0.0.1:${srv.grpcPort}`, grpc.credentials.createInsecure());
    const paths: Record<Signal, string> = {
      logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    };
    const call = (path: string, body: Buffer) => new Promise<{ code: number; details: string }>((resolve) => {
      client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, { deadline: Date.now() + 30_000 }, (err) => resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' }));
    });
    const counts = new Map<string, number>();
    let done = 0;
    try {
      while (done < GRPC_CASES && Date.now() < deadline + 10_000 && bad.length < 20) {
        const batch = Array.from({ length: Math.min(PARALLEL, GRPC_CASES - done) }, () => {
          const s = SIGNALS[Math.floor(rnd() * 3)]!;
          const body = rnd() < 0.15 ? bases[s].pb : mutateBytes(rnd, bases[s].pb, bases[SIGNALS[Math.floor(rnd() * 3)]!].pb);
          return { s, body };
        });
        const results = await Promise.all(batch.map(async (c) => ({ c, r: await call(paths[c.s], c.body) })));
        for (const { c, r } of results) {
          const name = grpc.status[r.code] ?? String(r.code);
          counts.set(name, (counts.get(name) ?? 0) + 1);
          if (r.code === grpc.status.UNAVAILABLE) console.log(`gRPC UNAVAILABLE: ${r.details.slice(0, 200)}`);
          const ok = [grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED].includes(r.code)
            || (r.code === grpc.status.UNAVAILABLE && /retry/.test(r.details) && !/Cannot parse|TYPE_MISMATCH|INCORRECT_DATA/i.test(r.details));
          if (!ok) bad.push(`gRPC ${c.s} ${c.body.length} bytes → ${name} ${r.details.slice(0, 300)}`);
        }
        done += batch.length;
      }
    } finally {
      client.close();
    }
    console.log(`gRPC cases: ${done}; codes ${JSON.stringify(Object.fromEntries(counts))}`);
    assert.deepEqual(bad, []);
    assert.ok((counts.get('OK') ?? 0) > 0 && (counts.get('INVALID_ARGUMENT') ?? 0) > 0);
  });

  test('afterwards: alive, no uncaught error, a valid export is stored, memory bounded', async () => {
    assert.equal(srv.proc.exitCode, null, srv.output().slice(-2000));
    assert.doesNotMatch(srv.output(), /uncaught|unhandled/i);
    const health = await fetch(`${srv.otlpHttpUrl}/health`);
    assert.equal(health.status, 200);
    const marker = `after-fuzz-${SEED}`;
    const body = encodeLogs(logsRequest([{ name: 'api_request' }, { name: 'api_request' }], { 'service.name': 'claude-code', user_id: marker }));
    const r = await send(srv.otlpHttpPort, { path: '/v1/logs', method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body, what: 'check' });
    assert.equal(r.status, 200, r.body);
    const n = await srv.sql(`SELECT count() FROM otel_logs WHERE ResourceAttributes['user_id'] = '${marker}' FORMAT TSV`);
    assert.equal(n.trim(), '2');
    const rss = rssMb(srv.proc.pid!);
    console.log(`server RSS after the run ${rss.toFixed(0)} MB (start ${rssStart.toFixed(0)} MB)`);
    assert.ok(rss - rssStart < RSS_GROWTH_LIMIT_MB, `RSS grew from ${rssStart.toFixed(0)} MB to ${rss.toFixed(0)} MB`);
  });
});
