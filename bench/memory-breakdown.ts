// Diagnostic, not a bench section (`npm run bench` runs *.bench.ts only): what the embedded server's RSS is
// made of before, during and after an ingest load, to decide what to cut (BENCHMARKS.md, "Memory").
// Run: npm run build && node --import tsx bench/memory-breakdown.ts
// Prints, fresh / at the RSS peak of the load / right after / 15 s later: RSS split into anonymous and
// file-backed pages, the server's V8 heap (process.memoryUsage() written by a preloaded module), the engine's
// tracked memory (system.metrics MemoryTracking) and its jemalloc's allocated/active/resident bytes
// (system.jemalloc_stats); during the load the largest tracked memory, the merges' and the inserts' share,
// and the server's CPU time per 1000 records.
// Knobs: CT_BREAKDOWN_LOAD_S (30), CT_BREAKDOWN_SENDERS (4); CT_BREAKDOWN_JE_MALLOC_CONF is given to the
// server as JE_MALLOC_CONF (the engine's jemalloc reads that name, not MALLOC_CONF); CT_BREAKDOWN_NODE_FLAGS
// are added to the server's NODE_OPTIONS (e.g. --max-semi-space-size=4).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, stopAndRemove, type RunningServer } from '../test/support/server';
import { encodeLogs } from '../test/support/otlp';
import { exportRequest } from './lib/claude-export';
import { processCpuMs } from './lib/measure';

const LOAD_S = Number(process.env.CT_BREAKDOWN_LOAD_S ?? 30);
const SENDERS = Number(process.env.CT_BREAKDOWN_SENDERS ?? 4);
const MiB = 2 ** 20;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Figures = Record<string, number>;
const show = (o: Figures) => Object.entries(o).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(1)}`).join(' ');

function proc(pid: number): Figures {
  const t = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(t)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), threads: Number(/Threads:\s+(\d+)/.exec(t)?.[1]) };
}

/** The process's threads by name (the engine names its pools), most common first. */
function threadNames(pid: number): string {
  const counts = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const name = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}×${v}`).join(' ');
}

const cpuSeconds = (pid: number): number => processCpuMs(pid) / 1000;

async function engine(srv: RunningServer): Promise<Figures> {
  const tracked = Number((await srv.sql("SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'")).trim()) / MiB;
  const js = await srv.sql('SELECT * FROM system.jemalloc_stats FORMAT TSVRaw');
  const m = /Allocated: (\d+), active: (\d+), metadata: (\d+).*resident: (\d+)/.exec(js);
  return { tracked, ...(m ? { jeAllocated: +m[1]! / MiB, jeActive: +m[2]! / MiB, jeResident: +m[4]! / MiB } : {}) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ct-breakdown-'));
  const preload = join(dir, 'heap.cjs');
  const heapFile = join(dir, 'heap.json');
  writeFileSync(preload, `setInterval(() => require('fs').writeFileSync(${JSON.stringify(heapFile)}, JSON.stringify(process.memoryUsage())), 100).unref();\n`);
  const heap = (): Figures => {
    try {
      const m = JSON.parse(readFileSync(heapFile, 'utf8')) as NodeJS.MemoryUsage;
      return { heapUsed: m.heapUsed / MiB, heapTotal: m.heapTotal / MiB, external: m.external / MiB };
    } catch {
      return {};
    }
  };
  const env: NodeJS.ProcessEnv = { NODE_OPTIONS: `--require ${preload} ${process.env.CT_BREAKDOWN_NODE_FLAGS ?? ''}` };
  if (process.env.CT_BREAKDOWN_JE_MALLOC_CONF) env.JE_MALLOC_CONF = process.env.CT_BREAKDOWN_JE_MALLOC_CONF;
  const srv = await startServer({ env });
  const pid = srv.proc.pid!;
  await pause(5000);
  console.log('fresh     ', show({ ...proc(pid), ...heap(), ...(await engine(srv)) }));

  let peak: Figures = { rss: 0 };
  let lastEngine: Figures = {};
  const sampler = setInterval(() => {
    const p = proc(pid);
    if (p.rss! > peak.rss!) peak = { ...p, ...heap(), ...lastEngine };
  }, 50);
  const most = { tracked: 0, merges: 0, inserts: 0, concurrentMerges: 0 };
  let loading = true;
  const poller = (async () => {
    while (loading) {
      const [t, merges, inserts, n] = (await srv.sql("SELECT (SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'), (SELECT sum(memory_usage) FROM system.merges), (SELECT sum(memory_usage) FROM system.processes WHERE query ILIKE '%INSERT%'), (SELECT count() FROM system.merges) FORMAT TSV")).trim().split('\t').map(Number);
      lastEngine = await engine(srv);
      most.tracked = Math.max(most.tracked, t! / MiB);
      most.merges = Math.max(most.merges, merges! / MiB);
      most.inserts = Math.max(most.inserts, inserts! / MiB);
      most.concurrentMerges = Math.max(most.concurrentMerges, n!);
      await pause(100);
    }
  })();
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  let batch = 0;
  let records = 0;
  await Promise.all(Array.from({ length: SENDERS }, async () => {
    while (Date.now() - t0 < LOAD_S * 1000) {
      const r = await fetch(`${srv.otlpHttpUrl}/v1/logs`, { method: 'POST', body: encodeLogs(exportRequest(batch++, 512)) as unknown as BodyInit, headers: { 'content-type': 'application/x-protobuf' } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`export: HTTP ${r.status}`);
      records += 512;
    }
  }));
  const seconds = (Date.now() - t0) / 1000;
  const cpuMsPer1k = ((cpuSeconds(pid) - cpu0) * 1e6) / records;
  clearInterval(sampler);
  loading = false;
  await poller;
  console.log('peak      ', show(peak));
  console.log('load      ', show({ records, perSecond: records / seconds, cpuMsPer1k }), 'largest:', show(most));
  console.log('just after', show({ ...proc(pid), ...heap(), ...(await engine(srv)) }));
  console.log('threads   ', threadNames(pid));
  await pause(15_000);
  console.log('idle 15 s ', show({ ...proc(pid), ...heap(), ...(await engine(srv)) }));
  await stopAndRemove(srv);
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
