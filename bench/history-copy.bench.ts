// Switch Mode's history copy (src/stack/migrate-history.ts) against the engine's own `INSERT … SELECT`
// of the same rows into the same full schema (issue 12, "History copy": target ≥ 0.5×).
// Both run between real embedded servers: the copy from one server to another over ClickHouse HTTP (what
// Switch Mode does), the baseline inside one server, from a plain table holding the same rows. Wall time
// gives the ratio; CPU seconds and RSS peaks are printed beside it (a shared machine makes wall time noisy).
// Size: CT_BENCH_COPY_EVENTS (default 1000000); CT_BENCH_COPY_RUNS (median of, default 3).
import { loadavg } from 'node:os';
import { migrateHistory } from '../src/stack/migrate-history';
import { logsToRows } from '../src/server/otlp/rows';
import { basicAuth, startServer, stopAndRemove, type RunningServer } from '../test/support/server';
import { exportRequest } from './lib/claude-export';
import { processCpuMs, rssMiB, table, timeMs, verdict } from './lib/measure';

const EVENTS = Number(process.env.CT_BENCH_COPY_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.CT_BENCH_COPY_RUNS ?? 3);
const SEED = 8192;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function insertLines(srv: RunningServer, target: string, lines: string[]): Promise<void> {
  const url = new URL(srv.httpUrl);
  url.searchParams.set('query', `INSERT INTO ${target} FORMAT JSONEachRow`);
  const r = await fetch(url, { method: 'POST', body: lines.join('\n') + '\n', headers: basicAuth(srv.credentials) });
  if (r.status !== 200) throw new Error(`seed insert: HTTP ${r.status} ${await r.text()}`);
}

/**
 * EVENTS Claude-Code-shaped records in `target` (a table with otel_logs' columns): 8192 real receiver
 * rows, then copies of them a minute apart over the last weeks (every row distinct, all within retention).
 */
async function fill(srv: RunningServer, target: string): Promise<void> {
  const rows = new Map<string, string[]>();
  for (let b = 0; b < SEED / 512; b++) logsToRows(exportRequest(b, 512) as never, rows);
  await insertLines(srv, target, rows.get('otel_logs')!);
  const copies = Math.ceil(EVENTS / SEED) - 1;
  if (copies > 0) {
    await srv.sql(`INSERT INTO ${target} SELECT l.* REPLACE (l.Timestamp - toIntervalSecond(n.number * 60) AS Timestamp, toDateTime(l.Timestamp - toIntervalSecond(n.number * 60)) AS TimestampTime)
      FROM ${target} AS l CROSS JOIN numbers(1, ${copies}) AS n`);
  }
}

/** CPU seconds (user + system) a process has used so far. */
const cpuSeconds = (pid: number): number => processCpuMs(pid) / 1000;

/** Samples a process's RSS every 100 ms while `fn` runs; the peak in MiB. */
async function peakRss(pid: number, fn: () => Promise<unknown>): Promise<number> {
  let peak = rssMiB(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
  try {
    await fn();
  } finally {
    clearInterval(sampler);
  }
  return peak;
}

interface Run { ms: number; cpu: number; peak: number }

async function baseline(): Promise<Run> {
  const srv = await startServer();
  try {
    await srv.sql('CREATE TABLE default.bench_src AS default.otel_logs ENGINE = MergeTree PRIMARY KEY tuple() ORDER BY tuple()');
    await fill(srv, 'default.bench_src');
    const cpu0 = cpuSeconds(srv.proc.pid!);
    let ms = 0;
    const peak = await peakRss(srv.proc.pid!, async () => (ms = await timeMs(() => srv.sql('INSERT INTO default.otel_logs SELECT * FROM default.bench_src'))));
    const cpu = cpuSeconds(srv.proc.pid!) - cpu0;
    const n = Number(await srv.sql('SELECT count() FROM default.otel_logs'));
    if (n !== events()) throw new Error(`baseline stored ${n} rows`);
    return { ms, cpu, peak };
  } finally {
    await stopAndRemove(srv);
  }
}

const events = () => Math.ceil(EVENTS / SEED) * SEED;

async function main(): Promise<void> {
  const source = await startServer();
  await fill(source, 'default.otel_logs');
  const copy: Run[] = [];
  const base: Run[] = [];
  // Interleaved (baseline, copy, baseline, copy…) so a busy moment on a shared machine hits both alike.
  for (let r = 0; r < RUNS; r++) {
    base.push(await baseline());
    const dest = await startServer();
    const cpu0 = cpuSeconds(source.proc.pid!) + cpuSeconds(dest.proc.pid!) + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
    let ms = 0;
    const peak = await peakRss(dest.proc.pid!, async () => (ms = await timeMs(async () => {
      const res = await migrateHistory({ from: source.httpUrl, to: dest.httpUrl, toAuth: dest.credentials });
      if (res.totalRows !== events()) throw new Error(`copied ${res.totalRows} rows`);
    })));
    const cpu = cpuSeconds(source.proc.pid!) + cpuSeconds(dest.proc.pid!) + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 - cpu0;
    copy.push({ ms, cpu, peak });
    const n = Number(await dest.sql('SELECT count() FROM default.otel_logs'));
    if (n !== events()) throw new Error(`the copy stored ${n} rows`);
    await stopAndRemove(dest);
  }
  await stopAndRemove(source);
  const rate = (ms: number) => events() / (ms / 1000);
  const b = median(base.map((x) => x.ms));
  const c = median(copy.map((x) => x.ms));
  const bCpu = median(base.map((x) => x.cpu));
  const cCpu = median(copy.map((x) => x.cpu));
  process.stdout.write([
    `## History copy (\`bench/history-copy.bench.ts\`, ${events().toLocaleString('en')} api_request records, median of ${RUNS})`,
    '',
    'Switch Mode\'s copy from one embedded server to an empty one (Native pages streamed from the source\'s',
    '`SELECT … FORMAT Native` into the destination\'s insert, focus records first, count check, the destination\'s',
    'views rebuilding every derived table) against the engine\'s own `INSERT INTO otel_logs SELECT * FROM` a plain',
    'table holding the same rows, inside one server (same views). CPU: the servers\' and the copying process\'s.',
    '',
    table(['path', 'rows/s', 'seconds', 'CPU s', 'server RSS peak MiB', 'vs engine INSERT … SELECT', 'target ≥ 0.5×'], [
      ['engine INSERT … SELECT (baseline)', Math.round(rate(b)), b / 1000, bCpu, Math.round(median(base.map((x) => x.peak))), 1, ''],
      ['history copy, server → server', Math.round(rate(c)), c / 1000, cCpu, Math.round(median(copy.map((x) => x.peak))), rate(c) / rate(b), verdict(rate(c) / rate(b) >= 0.5)],
    ]),
    '',
    `Runs (ms): baseline ${base.map((x) => Math.round(x.ms)).join(', ')}; copy ${copy.map((x) => Math.round(x.ms)).join(', ')}. Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')}.`,
  ].join('\n') + '\n');
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
