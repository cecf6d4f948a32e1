// The embedded server's memory (issue 12, "Memory"): resident set fresh, at the peak of a sustained
// ingest load, idle after it, and idle after exporting a large result through :8123 (CSV, streamed).
// Targets: idle ≤ 300 MB after any load, peak under the ingest load ≤ 400 MB.
// Sizes: CT_BENCH_MEMORY_LOAD_S (seconds of load, default 600, the 10 minutes),
// CT_BENCH_MEMORY_EXPORT_EVENTS (default 10000000), CT_BENCH_MEMORY_SENDERS (default 4).
import { startServer, stopAndRemove, type RunningServer } from '../test/support/server';
import { encodeLogs } from '../test/support/otlp';
import { exportRequest } from './lib/claude-export';
import { readFileSync } from 'node:fs';
import { rssMiB, table, verdict } from './lib/measure';

const LOAD_S = Number(process.env.CT_BENCH_MEMORY_LOAD_S ?? 600);
const EXPORT_EVENTS = Number(process.env.CT_BENCH_MEMORY_EXPORT_EVENTS ?? 10_000_000);
const SENDERS = Number(process.env.CT_BENCH_MEMORY_SENDERS ?? 4);
const SETTLE_MS = 15_000;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Of the RSS: anonymous memory (V8 heap, the engine's allocations) and file-backed pages (mostly the
 * engine library's code, ~170 MiB of it mapped by loading it; only the kernel decides when those go).
 */
function split(pid: number): string {
  const t = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(t)?.[1] ?? NaN) / 1024;
  return `${kb('RssAnon').toFixed(0)} / ${kb('RssFile').toFixed(0)}`;
}

/** RSS once the server has been left alone for SETTLE_MS (what a user's machine sees between bursts). */
async function settled(srv: RunningServer): Promise<[number, string]> {
  await pause(SETTLE_MS);
  return [rssMiB(srv.proc.pid!), split(srv.proc.pid!)];
}

async function main(): Promise<void> {
  const srv = await startServer();
  const pid = srv.proc.pid!;
  let peak = 0;
  let peakSplit = '';
  const sampler = setInterval(() => {
    const now = rssMiB(pid);
    if (now > peak) [peak, peakSplit] = [now, split(pid)];
  }, 50);
  const fresh = await settled(srv);

  // Sustained load: SENDERS senders, 512-record exports back to back, each new (no deduplication shortcut).
  let n = 0;
  let records = 0;
  const until = Date.now() + LOAD_S * 1000;
  peak = 0;
  await Promise.all(Array.from({ length: SENDERS }, async () => {
    while (Date.now() < until) {
      const r = await fetch(`${srv.otlpHttpUrl}/v1/logs`, { method: 'POST', body: encodeLogs(exportRequest(n++, 512)) as unknown as BodyInit, headers: { 'content-type': 'application/x-protobuf' } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`export: HTTP ${r.status}`);
      records += 512;
    }
  }));
  const [loadPeak, loadPeakSplit] = [peak, peakSplit];
  const afterLoad = await settled(srv);

  // A large result streamed out as CSV (the export path of issue 12's "Streamed results").
  await srv.sql(`INSERT INTO telemetry_events (timestamp, event_type, user_id, session_id, model, cost_usd, input_tokens, output_tokens, chapter_context)
    SELECT now64(3) - toIntervalMillisecond(number % (30 * 86400000)), 'api_request', concat('user', toString(number % 7)), toString(intDiv(number, 40)),
      ['claude-sonnet-4-5','claude-opus-4-8','claude-haiku-4-5'][1 + number % 3], 0.0003 + (number % 10) * 0.0001, 20 + number % 50, 7 + number % 300,
      concat('ch', leftPad(toString(number % 12), 2, '0'))
    FROM numbers(${EXPORT_EVENTS})`);
  const beforeExport = await settled(srv);
  peak = 0;
  const res = await fetch(srv.httpUrl, { method: 'POST', body: 'SELECT * FROM telemetry_events FORMAT CSV' });
  let bytes = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) bytes += c.length;
  const [exportPeak, exportPeakSplit] = [peak, peakSplit];
  const afterExport = await settled(srv);
  clearInterval(sampler);
  await stopAndRemove(srv);

  process.stdout.write([
    `## Memory (\`bench/memory.bench.ts\`)`,
    '',
    `Server RSS (MiB), each idle figure ${SETTLE_MS / 1000} s after the server was left alone. Load: ${SENDERS} senders of 512-record`,
    `exports for ${LOAD_S} s (${records.toLocaleString('en')} records); export: ${EXPORT_EVENTS.toLocaleString('en')} events as CSV through :8123 (${(bytes / 2 ** 20).toFixed(0)} MiB).`,
    '',
    table(['state', 'RSS MiB', 'anon / file MiB', 'target', 'verdict'], [
      ['fresh, idle', fresh[0], fresh[1], '≤ 300', verdict(fresh[0] <= 300)],
      ['peak during the ingest load', loadPeak, loadPeakSplit, '≤ 400', verdict(loadPeak <= 400)],
      ['idle after the ingest load', afterLoad[0], afterLoad[1], '≤ 300', verdict(afterLoad[0] <= 300)],
      [`idle with ${EXPORT_EVENTS.toLocaleString('en')} more events stored`, beforeExport[0], beforeExport[1], '≤ 300', verdict(beforeExport[0] <= 300)],
      ['peak during the export', exportPeak, exportPeakSplit, '', ''],
      ['idle after the export', afterExport[0], afterExport[1], '≤ 300', verdict(afterExport[0] <= 300)],
    ]),
  ].join('\n') + '\n');
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
