// The ClickHouse HTTP endpoint under load (issue 15), each figure against a baseline from the same run:
// - a large result streamed through :8123 as Parquet and CSV: the server's RSS growth while it streams, and its
//   rate against the bare engine writing the same result to a local file (INTO OUTFILE, another process);
// - RSS after an abandoned endless query (`SELECT * FROM system.numbers`, client hangs up) against before it;
// - the sidebar's query set while a heavy query runs, against the same set on an idle server.
// Size: CT_BENCH_EXPORT_ROWS (default 10000000); runs per format, engine and server interleaved, medians reported:
// CT_BENCH_EXPORT_RUNS (default 3). Beside wall time, CPU time (the engine's: this process; the server's: /proc) and
// the load average, since on a shared machine wall-clock ratios are only as good as the load is steady.
import { Session } from 'chdb';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSidebar } from '../src/core/analytics';
import { httpRunner } from '../src/vscode/webviews/connection';
import { basicAuth, startServer, stopAndRemove, type RunningServer } from '../test/support/server';
import { median, medianMs, processCpuMs, rssMiB, table, timeMs, verdict } from './lib/measure';

const ROWS = Number(process.env.CT_BENCH_EXPORT_ROWS ?? 10_000_000);
const RUNS = Number(process.env.CT_BENCH_EXPORT_RUNS ?? 3);
/** Event-shaped rows without storing them first: the engine makes them as fast as it can read a table. */
const RESULT = `SELECT number AS id, toDateTime64(1764460800 + intDiv(number, 10), 3) AS ts, concat('ch', toString(number % 12)) AS chapter,
  ['claude-sonnet-4-5', 'claude-opus-4-8'][number % 2 + 1] AS model, number % 5000 AS input_tokens, (number % 997) / 1000 AS cost_usd
  FROM numbers(${ROWS})`;

/** Streams a query's answer to nowhere, sampling the server's RSS; bytes received, the peak RSS growth, ms to the first byte. */
function streamOut(srv: RunningServer, sql: string, hangUpAfterBytes?: number): Promise<{ bytes: number; peakGrowthMiB: number; firstByteMs: number }> {
  const base = rssMiB(srv.proc.pid!);
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(srv.proc.pid!))), 100);
  const t0 = performance.now();
  let firstByteMs = 0;
  return new Promise((resolve, reject) => {
    const req = request(srv.httpUrl, { method: 'POST', headers: basicAuth(srv.credentials) }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        if (bytes === 0) firstByteMs = performance.now() - t0;
        bytes += c.length;
        if (hangUpAfterBytes !== undefined && bytes >= hangUpAfterBytes) {
          req.destroy();
          clearInterval(sampler);
          resolve({ bytes, peakGrowthMiB: peak - base, firstByteMs });
        }
      });
      res.on('end', () => {
        clearInterval(sampler);
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        resolve({ bytes, peakGrowthMiB: peak - base, firstByteMs });
      });
      res.on('error', () => undefined);
    });
    req.on('error', (e) => (hangUpAfterBytes === undefined ? reject(e) : undefined));
    req.end(sql);
  });
}

async function main(): Promise<void> {
  const srv = await startServer();
  const out: string[] = ['## Query endpoint (issue 15)', ''];
  try {
    // 1. Streamed exports against the bare engine writing the same result to a file (its own defaults), interleaved.
    const bareDir = mkdtempSync(join(tmpdir(), 'ct-bench-bare-'));
    const bare = new Session(join(bareDir, 'db'));
    const rows: Array<Array<string | number>> = [];
    const loads: number[] = [loadavg()[0]!];
    for (const format of ['Parquet', 'CSVWithNames']) {
      const file = join(bareDir, `out.${format}`);
      const runs: Array<{ engineMs: number; engineCpu: number; serverMs: number; serverCpu: number; growth: number; firstByte: number; ours: number; size: number }> = [];
      for (let r = 0; r < RUNS; r++) {
        rmSync(file, { force: true });
        const c0 = process.cpuUsage();
        const engineMs = await timeMs(() => bare.queryAsync(`${RESULT} INTO OUTFILE '${file}' FORMAT ${format}`));
        const c = process.cpuUsage(c0);
        const s0 = processCpuMs(srv.proc.pid!);
        let streamed = { bytes: 0, peakGrowthMiB: 0, firstByteMs: 0 };
        const serverMs = await timeMs(async () => (streamed = await streamOut(srv, `${RESULT} FORMAT ${format}`)));
        runs.push({ engineMs, engineCpu: (c.user + c.system) / 1000, serverMs, serverCpu: processCpuMs(srv.proc.pid!) - s0, growth: streamed.peakGrowthMiB,
          firstByte: streamed.firstByteMs, ours: streamed.bytes, size: statSync(file).size });
        loads.push(loadavg()[0]!);
      }
      const engineMs = median(runs.map((x) => x.engineMs));
      const serverMs = median(runs.map((x) => x.serverMs));
      const ratio = engineMs / serverMs;
      // The worst run's RSS growth: the target is a bound.
      const growth = Math.max(...runs.map((x) => x.growth));
      rows.push([format, ROWS, `${(runs[0]!.ours / 1048576).toFixed(1)} / ${(runs[0]!.size / 1048576).toFixed(1)}`, Math.round(engineMs), Math.round(serverMs),
        Math.round(median(runs.map((x) => x.firstByte))), ratio, median(runs.map((x) => x.engineCpu)) / median(runs.map((x) => x.serverCpu)), growth,
        `${verdict(ratio >= 0.8)} (≥ 0.8×), ${verdict(growth <= 100)} (≤ 100 MB)`]);
    }
    bare.close();
    rmSync(bareDir, { recursive: true, force: true });
    out.push(`Median of ${RUNS} interleaved runs per format (RSS growth: the largest); 1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus().length} cores.`, '');
    out.push(table(['format', 'rows', 'MiB (ours / engine)', 'engine to file ms', 'through :8123 ms', 'first byte ms', 'rate vs engine', 'CPU: engine / server', 'server RSS growth MiB', 'targets'], rows), '');

    // 2. An abandoned endless query.
    const before = rssMiB(srv.proc.pid!);
    const abandoned = await streamOut(srv, 'SELECT * FROM system.numbers FORMAT JSONEachRow', 64 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 2000));
    const after = rssMiB(srv.proc.pid!);
    out.push(table(['abandoned endless query', 'RSS before MiB', 'peak growth while streaming MiB', 'RSS 2 s after hang-up MiB', 'after / before'],
      [['SELECT * FROM system.numbers, hung up after 64 MiB', Math.round(before), abandoned.peakGrowthMiB, Math.round(after), after / before]]), '');

    // 3. The sidebar's query set, idle and beside a heavy query.
    const run = httpRunner(srv.httpUrl);
    const sidebar = () => loadSidebar(run, { userId: 'alice', timeZone: 'UTC' }, { chapter: 'ch07', listPeriod: 'd7' });
    const idle = await medianMs(sidebar, 7);
    const heavy = request(srv.httpUrl, { method: 'POST' });
    heavy.on('error', () => undefined);
    heavy.end('SELECT count() FROM numbers(1000000000000) WHERE sipHash64(number) % 7 = 1');
    await new Promise((r) => setTimeout(r, 500));
    const busy = await medianMs(sidebar, 7);
    heavy.destroy();
    await run.close();
    out.push(table(['sidebar query set (5 queries)', 'idle ms', 'beside a heavy query ms', 'ratio'], [['median of 7', idle, busy, busy / idle]]));
  } finally {
    await stopAndRemove(srv);
  }
  console.log(out.join('\n'));
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
