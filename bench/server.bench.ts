// The embedded server against the bare engine, measured in one run (issue 2's benchmarks):
// - ingest of Claude-Code-shaped log records over OTLP/HTTP protobuf and gRPC (events/s) vs chDB's
//   own INSERT … FORMAT JSONEachRow of the same rows into the same schema (target ≥ 1/3 of it);
// - the four seed queries at 1M and 10M events over the server's HTTP vs the bare engine (≤ 2×);
// - time from start to `ready`, and server RSS idle and under load.
// Sizes: CT_BENCH_INGEST_EVENTS (default 100000), CT_BENCH_QUERY_SIZES (default "1000000,10000000").
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ChdbStore } from '../src/server/store/chdb';
import { applyMigrations, migrationsDir } from '../src/server/migrations';
import { logsToRows } from '../src/server/otlp/rows';
import { basicAuth, sqlOver, startServer, stopAndRemove, type RunningServer } from '../test/support/server';
import { encodeLogs } from '../test/support/otlp';
import { median, medianMs, processCpuMs, rssMiB, table, timeMs, verdict } from './lib/measure';
import { exportRequest, insertBodies } from './lib/claude-export';
import { otlpHttpSender } from './lib/otlp-http-sender';

const INGEST_EVENTS = Number(process.env.CT_BENCH_INGEST_EVENTS ?? 100_000);
const QUERY_SIZES = (process.env.CT_BENCH_QUERY_SIZES ?? '1000000,10000000').split(',').filter(Boolean).map(Number);
const BATCH = 512; // Claude Code's (OpenTelemetry JS) default log batch size
const SENDERS = 4;

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

async function sendAll(bodies: Buffer[], send: (b: Buffer) => Promise<void>, senders = SENDERS): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: senders }, async () => {
    while (next < bodies.length) await send(bodies[next++]!);
  }));
}

async function ingestBench(): Promise<string> {
  const batches = Math.ceil(INGEST_EVENTS / BATCH);
  const requests = Array.from({ length: batches }, (_, b) => exportRequest(b, BATCH));
  const bodies = requests.map(encodeLogs);
  const events = batches * BATCH;

  // Baselines: the bare engine inserting the very rows the receiver produces (same schema, same
  // materialized views), once in the exports' own batches and once in large 8192-row chunks.
  const rowsOut = new Map<string, string[]>();
  for (const r of requests) logsToRows(r as never, rowsOut);
  const lines = rowsOut.get('otel_logs')!;
  const chunked = (size: number) => insertBodies(lines, size);
  const baseline = async (size: number) => {
    const dir = tmp('ct-bench-base-');
    const base = await ChdbStore.open(dir);
    await applyMigrations(base, migrationsDir());
    const chunks = chunked(size);
    const ms = await timeMs(async () => {
      for (const c of chunks) await base.insertJsonEachRow('otel_logs', c);
    });
    await base.close();
    rmSync(dir, { recursive: true, force: true });
    return ms;
  };
  const sameBatchMs = await baseline(BATCH);
  const baseMs = await baseline(8192);

  // Every run sends exports of its own: the server stores an export it already holds only once.
  const freshBodies = (run: number) => Array.from({ length: batches }, (_, b) => encodeLogs(exportRequest(run * batches + b, BATCH)));
  const srv = await startServer();
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(srv.proc.pid!))), 50);
  // As Claude Code's OTLP/HTTP exporter sends (bench/lib/otlp-http-sender.ts): node:http, keep-alive, piped body.
  const http = otlpHttpSender(srv.otlpHttpUrl);
  const httpSend = (b: Buffer) => http.send(b);
  const httpMs = await timeMs(() => sendAll(bodies, httpSend));
  const http32Bodies = freshBodies(1);
  const http32Ms = await timeMs(() => sendAll(http32Bodies, httpSend, 32));
  const grpcBodies = freshBodies(2);
  const client = new grpc.Client(`127.0.0.1:${srv.grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 << 20 });
  const grpcSend = grpcLogsSender(client);
  http.close();
  const grpcMs = await timeMs(() => sendAll(grpcBodies, grpcSend));
  const grpc32Bodies = freshBodies(3);
  const grpc32Ms = await timeMs(() => sendAll(grpc32Bodies, grpcSend, 32));
  client.close();
  clearInterval(sampler);
  const stored = Number(await srv.sql('SELECT count() FROM otel_logs'));
  await stopAndRemove(srv);
  if (stored !== 4 * events) throw new Error(`expected ${4 * events} stored rows, found ${stored}`);

  const rate = (ms: number) => events / (ms / 1000);
  const same = rate(sameBatchMs);
  const big = rate(baseMs);
  const row = (name: string, ms: number) => [name, Math.round(rate(ms)), rate(ms) / same, rate(ms) / big, verdict(rate(ms) / big >= 0.5)];
  return [
    `### Ingest (${events} api_request records, ${BATCH} per export, ${SENDERS} and 32 concurrent senders)`,
    '',
    'Baseline: chDB\'s own `INSERT … FORMAT JSONEachRow` of the same rows into the same schema (every',
    `materialized view), run serially in this process, in 8192-row chunks (the target's baseline) and in the exports' ${BATCH}-row batches.`,
    'The server acknowledges each export after the engine committed it, with insert deduplication on.',
    '',
    table(['path', 'events/s', `vs engine, ${BATCH}-row batches`, 'vs engine, 8192-row chunks', 'target ≥ 0.5 of 8192-row chunks'], [
      row(`chDB insert, ${BATCH}-row batches`, sameBatchMs),
      row('chDB insert, 8192-row chunks (baseline)', baseMs),
      row(`OTLP/HTTP protobuf → server, ${SENDERS} senders`, httpMs),
      row('OTLP/HTTP protobuf → server, 32 senders', http32Ms),
      row(`OTLP/gRPC → server, ${SENDERS} senders`, grpcMs),
      row('OTLP/gRPC → server, 32 senders', grpc32Ms),
    ]),
    '',
    `Server RSS peak under this load: ${peakRss.toFixed(0)} MiB. HTTP exports sent again after a closed keep-alive connection: ${http.resent}.`,
  ].join('\n');
}

/** One OTLP/gRPC logs export per call, the body already encoded: resolves on the server's acknowledgement. */
function grpcLogsSender(client: grpc.Client): (b: Buffer) => Promise<void> {
  return (b) => new Promise<void>((res, rej) => {
    client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (x: Buffer) => x, (x: Buffer) => x, b, (err) => (err ? rej(err) : res()));
  });
}

/**
 * OTLP/HTTP against OTLP/gRPC at 4 senders, paired: one server, the transports' runs interleaved round by round (the
 * order rotating), so the machine's load drifts over all alike; single ingest runs above vary by ±25 % on a shared
 * machine, more than the two transports differ. Also the bench's former HTTP sender (`fetch`), for the record.
 * Figures: events/s as the median of the per-round ratios against gRPC, and the server's and the senders' CPU per event.
 */
async function transportsBench(): Promise<string> {
  const rounds = Number(process.env.CT_BENCH_TRANSPORT_ROUNDS ?? 6);
  const exportsPerRun = Number(process.env.CT_BENCH_TRANSPORT_EXPORTS ?? 64);
  const srv = await startServer();
  const http = otlpHttpSender(srv.otlpHttpUrl);
  const url = `${srv.otlpHttpUrl}/v1/logs`;
  const client = new grpc.Client(`127.0.0.1:${srv.grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 << 20 });
  const senders: Record<string, (b: Buffer) => Promise<void>> = {
    'OTLP/gRPC (baseline)': grpcLogsSender(client),
    'OTLP/HTTP protobuf, as the exporter sends (node:http)': (b) => http.send(b),
    'OTLP/HTTP protobuf, fetch (the bench\'s sender before)': async (b) => {
      const r = await fetch(url, { method: 'POST', body: b as unknown as BodyInit, headers: { 'content-type': 'application/x-protobuf' } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    },
  };
  const names = Object.keys(senders);
  let batchNo = 30_000_000;
  const run = async (name: string, n: number) => {
    const bodies = Array.from({ length: n }, () => encodeLogs(exportRequest(batchNo++, BATCH)));
    const server0 = processCpuMs(srv.proc.pid!);
    const own0 = process.cpuUsage();
    const ms = await timeMs(() => sendAll(bodies, senders[name]!));
    const own = process.cpuUsage(own0);
    const events = n * BATCH;
    return { rate: events / (ms / 1000), serverUs: ((processCpuMs(srv.proc.pid!) - server0) * 1000) / events, senderUs: (own.user + own.system) / events };
  };
  for (const name of names) await run(name, 8); // warm-up: connections, JIT
  const per: Record<string, Array<{ rate: number; serverUs: number; senderUs: number; vsGrpc: number }>> = {};
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]!);
    const got: Record<string, Awaited<ReturnType<typeof run>>> = {};
    for (const name of order) got[name] = await run(name, exportsPerRun);
    for (const name of names) (per[name] ??= []).push({ ...got[name]!, vsGrpc: got[name]!.rate / got[names[0]!]!.rate });
  }
  client.close();
  http.close();
  await stopAndRemove(srv);
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  return [
    `### OTLP/HTTP against OTLP/gRPC, 4 senders, paired (${rounds} interleaved rounds of ${exportsPerRun * BATCH} records on one server)`,
    '',
    table(['path', 'events/s (median)', 'vs gRPC, median of per-round ratios', 'per-round ratios', 'server CPU µs per event', 'senders\' CPU µs per event'],
      names.map((name) => {
        const xs = per[name]!;
        return [name, Math.round(med(xs.map((x) => x.rate))), med(xs.map((x) => x.vsGrpc)), xs.map((x) => x.vsGrpc.toFixed(2)).join(' '), med(xs.map((x) => x.serverUs)), med(xs.map((x) => x.senderUs))];
      })),
  ].join('\n');
}

/** A query of `n` rows of hashing: the bench sizes `n` so it runs about a minute on this machine. */
const longQuery = (n: number) => `SELECT count() FROM numbers(${n}) WHERE sipHash64(number) % 7 = 1`;
const heavyWrite = (n: number) => `INSERT INTO bench_heavy SELECT number, sipHash64(number), toString(number) FROM numbers(${n})`;
const LATENCY_SAMPLES = Number(process.env.CT_BENCH_LATENCY_SAMPLES ?? 300);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/**
 * Issue 15, "collection never waits for a query": one export of 50 records at a time (10 ms apart),
 * each timed from request to acknowledgement (= committed by the engine), on an idle server, while
 * a long analytics query runs on the reader pool, and while a heavy writer statement runs.
 */
async function collectionLatencyBench(): Promise<string> {
  const srv = await startServer();
  let n = 0;
  const oneExport = async (): Promise<number> => {
    const body = encodeLogs(exportRequest(10_000_000 + n++, 50));
    const t0 = process.hrtime.bigint();
    const r = await fetch(`${srv.otlpHttpUrl}/v1/logs`, { method: 'POST', body: body as unknown as BodyInit, headers: { 'content-type': 'application/x-protobuf' } });
    const answer = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200) throw new Error(`export: HTTP ${r.status} ${answer.toString('latin1')}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  /** Exports one at a time; while `during` is given, only until it ends (acknowledgements before its end count). */
  const sample = async (during?: { stillRunning(): boolean }): Promise<number[]> => {
    const xs: number[] = [];
    while (xs.length < LATENCY_SAMPLES) {
      const ms = await oneExport();
      if (during && !during.stillRunning()) break;
      xs.push(ms);
      await new Promise((r) => setTimeout(r, 10));
    }
    return xs;
  };
  /** Starts `sql` over ClickHouse HTTP (as the writer when `auth`); reports whether it was still running at the end. */
  /**
   * Starts `sql` and tracks whether its answer arrived. Nothing can cancel it early (the engine keeps
   * running a statement whose client left; KILL is not offered over HTTP): each ends within about a minute.
   */
  const background = (sql: string, auth: boolean, settings: Record<string, string> = {}) => {
    const ac = new AbortController();
    let finished = false;
    let answer = '';
    const url = new URL(srv.httpUrl);
    url.searchParams.set('query', sql);
    for (const [k, v] of Object.entries(settings)) url.searchParams.set(k, v);
    const done = fetch(url, { method: 'POST', signal: ac.signal, headers: auth ? basicAuth(srv.credentials) : {} })
      .then(async (r) => (answer = `HTTP ${r.status} ${await r.text()}`)).catch(() => '').finally(() => (finished = true));
    return { stillRunning: () => !finished, answer: () => answer, stop: async () => { ac.abort(); await done; } };
  };
  for (let i = 0; i < 20; i++) await oneExport();
  const idle = await sample();
  // Size the long query to about 60 s: rows hashed per second on this machine, now.
  const probeRows = 200_000_000;
  const probeMs = await timeMs(() => sqlOver(srv.httpUrl, longQuery(probeRows)));
  const longRows = Math.round((probeRows / probeMs) * 90_000);
  const q = background(longQuery(longRows), false);
  await new Promise((r) => setTimeout(r, 1000));
  const duringQuery = await sample(q);
  await q.stop();
  await srv.sql('CREATE TABLE bench_heavy (k UInt64, h UInt64, s String) ENGINE = MergeTree ORDER BY h');
  // Sized like the long query (a time limit would not do: the engine refuses a statement it
  // estimates will take longer, at once).
  const probeWriteMs = await timeMs(() => srv.sql(heavyWrite(20_000_000)));
  const writeRows = Math.round((20_000_000 / probeWriteMs) * 90_000);
  const w = background(heavyWrite(writeRows), true);
  await new Promise((r) => setTimeout(r, 1000));
  const duringWrite = await sample(w);
  await w.stop();
  await stopAndRemove(srv);
  if (duringQuery.length < 30 || duringWrite.length < 30) throw new Error(`the background statements ended too soon: ${q.answer()} ${w.answer()}`);
  const p50 = percentile(idle, 50);
  const p99 = percentile(idle, 99);
  const row = (name: string, xs: number[]) => [`${name}`, percentile(xs, 50), percentile(xs, 99), percentile(xs, 50) / p50, percentile(xs, 99) / p99, verdict(percentile(xs, 99) <= 100)];
  return [
    `### Collection while queries run (${LATENCY_SAMPLES} exports of 50 records, one at a time, request → acknowledgement)`,
    '',
    `Long query on the reader pool (anonymous): \`${longQuery(longRows)}\`, sized to run about 90 s here.`,
    `Heavy writer statement (as the writer): \`${heavyWrite(writeRows)}\`, sized the same way.`,
    `Samples count only while the statement runs (up to ${LATENCY_SAMPLES}): ${duringQuery.length} during the query, ${duringWrite.length} during the write.`,
    '',
    table(['server state', 'p50 ms', 'p99 ms', 'p50 vs idle', 'p99 vs idle', 'target p99 ≤ 100 ms'], [
      row('idle (baseline)', idle),
      row('a long query runs (reader pool)', duringQuery),
      row('a heavy writer statement runs', duringWrite),
    ]),
  ].join('\n');
}

/**
 * What the grouping wait (ingest.ts, `--group-wait-ms`) adds to one export on an idle server: exports of
 * 50 records one at a time, request → acknowledgement, against the same server with the wait off.
 */
async function groupWaitBench(): Promise<string> {
  const samples = Number(process.env.CT_BENCH_GROUP_SAMPLES ?? 200);
  const run = async (extraArgs: string[]) => {
    const srv = await startServer({ extraArgs });
    let n = 0;
    const one = async () => {
      const body = encodeLogs(exportRequest(20_000_000 + n++, 50));
      const t0 = process.hrtime.bigint();
      const r = await fetch(`${srv.otlpHttpUrl}/v1/logs`, { method: 'POST', body: body as unknown as BodyInit, headers: { 'content-type': 'application/x-protobuf' } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`export: HTTP ${r.status}`);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    for (let i = 0; i < 20; i++) await one();
    const xs: number[] = [];
    for (let i = 0; i < samples; i++) xs.push(await one());
    await stopAndRemove(srv);
    return xs;
  };
  // Interleaved halves, so the machine's load drifts over both alike.
  const off: number[] = [];
  const on: number[] = [];
  for (let h = 0; h < 2; h++) {
    off.push(...(await run(['--group-wait-ms', '0'])));
    on.push(...(await run([])));
  }
  const row = (name: string, xs: number[]) => [name, percentile(xs, 50), percentile(xs, 99), percentile(xs, 50) - percentile(off, 50), percentile(xs, 99) - percentile(off, 99)];
  return [
    `### What the grouping wait adds to one export on an idle server (${2 * samples} exports of 50 records, one at a time)`,
    '',
    table(['server', 'p50 ms', 'p99 ms', 'p50 added ms', 'p99 added ms'], [row('--group-wait-ms 0 (baseline)', off), row('default wait (10 ms)', on)]),
    '',
    `Target: ≤ 20 ms added at p50 and p99: ${verdict(percentile(on, 50) - percentile(off, 50) <= 20 && percentile(on, 99) - percentile(off, 99) <= 20)}.`,
  ].join('\n');
}

function seedQueries(): Array<[string, string]> {
  const dir = join(__dirname, '..', 'telemetry-server', 'clickhouse', 'seed-queries');
  return readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => [f.replace(/\.sql$/, ''), readFileSync(join(dir, f), 'utf8')]);
}

/** N synthetic events straight into telemetry_events (and a focus timeline), spread over the last 30 days. */
async function fill(store: ChdbStore, n: number): Promise<void> {
  await store.query(`INSERT INTO telemetry_events (timestamp, event_type, user_id, session_id, prompt_id, model, cost_usd, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, token_count, duration_ms, status_code, error_type, error_message, success, chapter_context)
    SELECT now64(3) - toIntervalMillisecond(intHash64(number) % (30 * 86400000)) AS timestamp,
      ['api_request','api_request','api_request','user_prompt','tool_result','api_error'][1 + number % 6] AS event_type,
      concat('user', toString(number % 7)) AS user_id,
      toString(cityHash64(intDiv(number, 40))) AS session_id,
      toString(cityHash64(intDiv(number, 8))) AS prompt_id,
      ['claude-sonnet-4-5','claude-opus-4-8','claude-haiku-4-5'][1 + number % 3] AS model,
      if(event_type = 'api_request', 0.0003 + (number % 10) * 0.0001, 0) AS cost_usd,
      if(event_type = 'api_request', 20 + number % 50, 0), if(event_type = 'api_request', 7 + number % 300, 0),
      if(event_type = 'api_request', number % 1000, 0), if(event_type = 'api_request', number % 40, 0),
      if(event_type = 'api_request', 27 + number % 50 + number % 300 + number % 1000 + number % 40, 0),
      800 + number % 900,
      if(event_type = 'api_error', [429, 500, 529][1 + number % 3], 0),
      if(event_type = 'api_error', ['rate_limit_error','api_error','overloaded_error'][1 + number % 3], if(event_type = 'tool_result' AND number % 5 = 0, 'ShellError', '')),
      if(event_type = 'api_error', 'fake error', ''),
      if(event_type = 'api_error' OR (event_type = 'tool_result' AND number % 5 = 0), 0, 1),
      concat('ch', leftPad(toString(number % 12), 2, '0'))
    FROM numbers(${n})`);
  await store.query(`INSERT INTO chapter_focus (timestamp, user_id, chapter, workspace, file)
    SELECT now64(3) - toIntervalSecond(number * 60), concat('user', toString(number % 7)), concat('ch', leftPad(toString(intHash32(number) % 12), 2, '0')), 'book', 'docs/x.md'
    FROM numbers(${Math.max(1000, Math.floor(n / 1000))})`);
  await store.query('OPTIMIZE TABLE telemetry_events FINAL');
}

async function queryBench(n: number): Promise<string> {
  const dir = tmp('ct-bench-q-');
  const queries = seedQueries();
  const store = await ChdbStore.open(dir);
  await applyMigrations(store, migrationsDir());
  const fillMs = await timeMs(() => fill(store, n));
  // Bare engine first (this process holds the data dir), then the server on the same dir.
  const bare: number[] = [];
  for (const [, sql] of queries) bare.push(await medianMs(() => store.query(sql)));
  await store.close();
  const srv: RunningServer = await startServer({ dataDir: dir });
  const idleRss = rssMiB(srv.proc.pid!);
  const served: number[] = [];
  for (const [, sql] of queries) served.push(await medianMs(() => srv.sql(sql)));
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
  return [
    `### Seed queries at ${n.toLocaleString('en')} events (filled in ${(fillMs / 1000).toFixed(1)} s; median of 5 after a warm-up)`,
    '',
    table(['query', 'bare engine ms', 'server over HTTP ms', 'ratio', 'target ≤ 2×'],
      queries.map(([name], i) => [name, bare[i]!, served[i]!, served[i]! / bare[i]!, verdict(served[i]! / bare[i]! <= 2)])),
    '',
    `Server RSS idle with ${n.toLocaleString('en')} events stored: ${idleRss.toFixed(0)} MiB.`,
  ].join('\n');
}

async function readyBench(): Promise<string> {
  const fresh: number[] = [];
  const warm: number[] = [];
  const engine: number[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = tmp('ct-bench-ready-');
    let t = Date.now();
    let s = await startServer({ dataDir: dir });
    fresh.push(Date.now() - t);
    await s.stop();
    t = Date.now();
    s = await startServer({ dataDir: dir });
    warm.push(Date.now() - t);
    await s.stop();
    // Baseline: a bare process that loads chDB, opens the same dir and answers SELECT 1.
    t = Date.now();
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, ['-e', `const {Session}=require('chdb');const s=new Session(${JSON.stringify(dir)});s.query('SELECT 1');s.close()`], { cwd: join(__dirname, '..') });
    engine.push(Date.now() - t);
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    '### Start to `ready` (process spawn to the ready line, median of 3)',
    '',
    table(['case', 'ms', 'vs bare engine start'], [
      ['bare engine: node + require(chdb) + open dir + SELECT 1 (baseline)', median(engine), 1],
      ['server, first start (creates the schema)', median(fresh), median(fresh) / median(engine)],
      ['server, later start', median(warm), median(warm) / median(engine)],
    ]),
  ].join('\n');
}

async function main(): Promise<void> {
  // CT_BENCH_SERVER_PARTS (e.g. "ingest,latency") runs only those parts.
  const only = (process.env.CT_BENCH_SERVER_PARTS ?? 'ready,ingest,transports,groupwait,latency,queries').split(',');
  // Each part is printed as soon as it is measured, so a later failure keeps the earlier figures.
  const out = (text: string) => process.stdout.write(`${text}\n\n`);
  out('## Embedded server (`bench/server.bench.ts`)');
  if (only.includes('ready')) out(await readyBench());
  if (only.includes('ingest')) out(await ingestBench());
  if (only.includes('transports')) out(await transportsBench());
  if (only.includes('latency')) out(await collectionLatencyBench());
  if (only.includes('groupwait')) out(await groupWaitBench());
  if (only.includes('queries')) for (const n of QUERY_SIZES) out(await queryBench(n));
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
