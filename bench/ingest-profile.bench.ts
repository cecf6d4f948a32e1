// Where ingest time goes (issue 12, "Ingest"): the receiver's own stages per record, and the engine's
// insert of the same rows into the full schema in 8192-row chunks with each materialized view's share,
// measured by inserting into a scratch store with that view dropped (full − without it).
// Also the engine's CPU per record at the insert sizes the server makes (512 rows: one export; 2048: four senders'
// exports together; 8192) and the fixed cost per insert that follows, into the full schema and into the raw table alone,
// with the engine's own counters of where an insert's time goes (planning the views again for every insert, merges).
// Size: CT_BENCH_PROFILE_EVENTS (default 50176); CT_BENCH_PROFILE_RUNS (median of, default 3);
// CT_BENCH_PROFILE_SIZES=0 leaves out the insert-size part; CT_BENCH_PROFILE_PARALLEL=0 the two-inserts-at-once part
// (lib/parallel-inserts.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from '../src/server/store/chdb';
import { applyMigrations, migrationsDir } from '../src/server/migrations';
import { decodeExport } from '../src/server/otlp/decode';
import { ExportLogsServiceRequest } from '../src/server/otlp/proto';
import { bodyToken, exportBody } from '../src/server/ingest';
import { encodeLogs } from '../test/support/otlp';
import { exportRequest, insertBodies } from './lib/claude-export';
import { median, table } from './lib/measure';
import { parallelInsert, type ParallelCase } from './lib/parallel-inserts';

/**
 * CPU time (this process, every thread: the engine runs in it) spent in `fn`, in ms. Not wall time: on a
 * machine other sessions load, wall time mostly measures their share of the cores.
 */
async function cpuMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

const EVENTS = Number(process.env.CT_BENCH_PROFILE_EVENTS ?? 50_176);
const RUNS = Number(process.env.CT_BENCH_PROFILE_RUNS ?? 3);
const BATCH = 512;
const CHUNK = 8192;

/** The schema's materialized views (read from a migrated scratch store, so views added later are measured too). */
async function views(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ct-bench-prof-'));
  const store = await ChdbStore.open(dir);
  try {
    await applyMigrations(store, migrationsDir());
    const out = await store.query("SELECT name FROM system.tables WHERE database = 'default' AND engine = 'MaterializedView' ORDER BY name");
    return out.toString('utf8').split('\n').filter(Boolean);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The engine's own time counters (system.events) that say where an insert's fixed cost goes, in µs. */
const ENGINE_COUNTERS = ['InsertQueryTimeMicroseconds', 'QueryAnalysisMicroseconds', 'QueryPlanBuildMicroseconds', 'QueryPlanOptimizeMicroseconds',
  'QueryPipelineBuildMicroseconds', 'MergeMutateBackgroundExecutorTaskExecuteStepMicroseconds'] as const;
type EngineCounters = Record<(typeof ENGINE_COUNTERS)[number], number>;

async function engineCounters(store: ChdbStore): Promise<EngineCounters> {
  const list = ENGINE_COUNTERS.map((c) => `'${c}'`).join(', ');
  const out = (await store.query(`SELECT event, value FROM system.events WHERE event IN (${list}) FORMAT TSV`)).toString('utf8');
  const got = new Map(out.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
  return Object.fromEntries(ENGINE_COUNTERS.map((c) => [c, Number(got.get(c) ?? 0)])) as EngineCounters;
}

/**
 * CPU ms of inserting `chunks` into a fresh store; `counters`: the engine's counters per insert, from the second insert
 * on (the CPU time includes the first, as this bench always measured it).
 */
async function insertRun(chunks: Buffer[], drop: string[], dedup: boolean): Promise<{ cpuMs: number; counters: EngineCounters }> {
  const dir = mkdtempSync(join(tmpdir(), 'ct-bench-prof-'));
  const store = await ChdbStore.open(dir);
  try {
    await applyMigrations(store, migrationsDir());
    for (const v of drop) await store.query(`DROP VIEW default.${v}`);
    let cpu = 0;
    let before: EngineCounters | undefined;
    for (const [i, c] of chunks.entries()) {
      cpu += await cpuMs(() => store.insertJsonEachRow('otel_logs', c, dedup ? { dedupToken: `prof-${i}` } : {}));
      // Counted from the second insert on: the first into a fresh store also pays for warming the engine up.
      if (i === 0) before = await engineCounters(store);
    }
    const after = await engineCounters(store);
    const counted = Math.max(1, chunks.length - 1);
    const counters = Object.fromEntries(ENGINE_COUNTERS.map((c) => [c, (after[c] - before![c]) / counted])) as EngineCounters;
    return { cpuMs: cpu, counters };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function insertMs(chunks: Buffer[], drop: string[], dedup: boolean): Promise<number> {
  return (await insertRun(chunks, drop, dedup)).cpuMs;
}

async function main(): Promise<void> {
  const batches = Math.ceil(EVENTS / BATCH);
  const events = batches * BATCH;
  const bodies = Array.from({ length: batches }, (_, b) => encodeLogs(exportRequest(b, BATCH)));
  const perRecordUs = (ms: number) => (ms * 1000) / events;

  // The receiver's stages, each timed over every export (median of RUNS).
  const decodeOnly = median(await Promise.all(Array.from({ length: RUNS }, () => cpuMs(async () => { for (const b of bodies) ExportLogsServiceRequest.decode(b); }))));
  const decodeRows = median(await Promise.all(Array.from({ length: RUNS }, () => cpuMs(async () => { for (const b of bodies) decodeExport('logs', b, 'protobuf'); }))));
  const lines = bodies.map((b) => decodeExport('logs', b, 'protobuf').rows.get('otel_logs')!);
  const tokenAndBody = median(await Promise.all(Array.from({ length: RUNS }, () => cpuMs(async () => {
    for (const l of lines) bodyToken('otel_logs', exportBody(l));
  }))));

  const VIEWS = await views();
  const all = lines.flat();
  const chunks = insertBodies(all, CHUNK);
  const variants: Array<[string, string[], boolean]> = [
    ['full schema, deduplication token (the server\'s insert)', [], true],
    ['full schema, no token (the baseline)', [], false],
    ['raw table only (every view dropped)', VIEWS, false],
    ...VIEWS.map((v): [string, string[], boolean] => [`full schema without ${v}`, [v], false]),
  ];
  const ms = new Map<string, number[]>();
  // Interleaved runs: the machine's load drifts, each variant sees the same drift.
  for (let r = 0; r < RUNS; r++) for (const [name, drop, dedup] of variants) ms.set(name, [...(ms.get(name) ?? []), await insertMs(chunks, drop, dedup)]);
  const m = (name: string) => median(ms.get(name)!);
  const base = m('full schema, no token (the baseline)');
  const rows = variants.map(([name]) => [name, Math.round(events / (m(name) / 1000)), perRecordUs(m(name)), m(name) / base]);
  const shares = VIEWS.map((v) => [v, perRecordUs(base - m(`full schema without ${v}`)), (base - m(`full schema without ${v}`)) / base]);

  // The engine's cost per record by insert size (the server's insert: full schema, a token per insert), interleaved.
  const SIZES = [512, 2048, 8192];
  const sizeParts: string[] = [];
  if (process.env.CT_BENCH_PROFILE_SIZES !== '0') {
    const bySize = new Map<string, number[]>();
    const countersBySize = new Map<string, EngineCounters[]>();
    for (let r = 0; r < RUNS; r++) {
      for (const size of SIZES) {
        for (const [schema, drop] of [['full', []], ['raw', VIEWS]] as Array<[string, string[]]>) {
          const key = `${schema} ${size}`;
          const run = await insertRun(insertBodies(all, size), drop, true);
          bySize.set(key, [...(bySize.get(key) ?? []), run.cpuMs]);
          countersBySize.set(key, [...(countersBySize.get(key) ?? []), run.counters]);
        }
      }
    }
    const us = (key: string) => perRecordUs(median(bySize.get(key)!));
    // Per insert, ms: the insert statement's own time, its planning (the views' SELECTs are analysed and planned again
    // for every insert), and the background merges it leaves behind.
    const counterMs = (key: string, names: ReadonlyArray<keyof EngineCounters>) =>
      median(countersBySize.get(key)!.map((c) => names.reduce((sum, n) => sum + c[n], 0))) / 1000;
    const planning = ['QueryAnalysisMicroseconds', 'QueryPlanBuildMicroseconds', 'QueryPlanOptimizeMicroseconds', 'QueryPipelineBuildMicroseconds'] as const;
    const engineRows = SIZES.flatMap((n) => (['full', 'raw'] as const).map((schema) => {
      const key = `${schema} ${n}`;
      const insert = counterMs(key, ['InsertQueryTimeMicroseconds']);
      return [`${schema === 'full' ? 'full schema' : 'raw table only'}, ${n} rows`, insert, counterMs(key, ['QueryAnalysisMicroseconds']),
        counterMs(key, planning), counterMs(key, planning) / insert, counterMs(key, ['MergeMutateBackgroundExecutorTaskExecuteStepMicroseconds'])];
    }));
    // cost(n rows) = fixed + n × per row, from the 512- and 8192-row inserts.
    const fixedMs = (schema: string) => ((us(`${schema} 512`) - us(`${schema} 8192`)) * 512 * 8192) / (8192 - 512) / 1000;
    sizeParts.push(
      '',
      'The engine\'s CPU per record by insert size (a deduplication token per insert, as the server inserts; one store per run):',
      '',
      table(['rows per insert', 'full schema CPU µs per record', 'raw table only CPU µs per record', 'full schema vs 8192-row inserts'],
        SIZES.map((n) => [n, us(`full ${n}`), us(`raw ${n}`), us(`full ${n}`) / us('full 8192')])),
      '',
      `Fixed cost per insert (from the 512- and 8192-row figures): full schema ${fixedMs('full').toFixed(1)} ms CPU, raw table only ${fixedMs('raw').toFixed(1)} ms CPU.`,
      '',
      'Where an insert\'s time goes, by the engine\'s own counters (`system.events`, the same runs, ms per insert, median): the',
      'insert statement\'s time (wall, on its thread), the part of it spent analysing and planning the statement and every view',
      'it fires (analysis, plan build and optimisation, pipeline build), and the background merge steps run meanwhile:',
      '',
      table(['insert', 'insert statement ms', 'analysis ms', 'planning ms (analysis + plan + pipeline)', 'planning share of the statement', 'merge steps ms'], engineRows),
    );
  }

  // Two inserts at once on two ingest sessions against one at a time (lib/parallel-inserts.ts), interleaved.
  const parallelParts: string[] = [];
  if (process.env.CT_BENCH_PROFILE_PARALLEL !== '0') {
    const one2048 = 'one 2048-row insert at a time';
    const one8192 = 'one 8192-row insert at a time';
    const pvp = { parallel_view_processing: 1 };
    const cases: Array<[string, ParallelCase, string]> = [
      [one2048, { lanes: 1, rowsPerInsert: 2048 }, ''],
      ['two 1024-row inserts at once (4 senders, two inserts per table)', { lanes: 2, rowsPerInsert: 1024 }, one2048],
      ['one 2048-row insert at a time, parallel_view_processing = 1 (4 senders today)', { lanes: 1, rowsPerInsert: 2048, settings: pvp }, one2048],
      [one8192, { lanes: 1, rowsPerInsert: 8192 }, ''],
      ['two 8192-row inserts at once (many senders)', { lanes: 2, rowsPerInsert: 8192 }, one8192],
      ['one 8192-row insert at a time, parallel_view_processing = 1', { lanes: 1, rowsPerInsert: 8192, settings: pvp }, one8192],
    ];
    const load = loadavg()[0]!;
    const res = new Map<string, Array<{ wallMs: number; cpuMs: number }>>();
    for (let r = 0; r < RUNS; r++) for (const [name, c] of cases) res.set(name, [...(res.get(name) ?? []), await parallelInsert(all, c)]);
    const wall = (name: string) => median(res.get(name)!.map((x) => x.wallMs));
    const cpu = (name: string) => median(res.get(name)!.map((x) => x.cpuMs));
    const rate = (name: string) => events / (wall(name) / 1000);
    parallelParts.push(
      '',
      'The second core: two inserts into otel_logs at once, each on an ingest session of its own, or the views of one insert',
      `processed in parallel, against one insert at a time (full schema, a token per insert; wall and CPU time, median of ${RUNS};`,
      `1-minute load average ${load.toFixed(1)} at the start; lib/parallel-inserts.ts says why):`,
      '',
      table(['inserts', 'rows per wall second', 'CPU µs per record', 'cores used (CPU ÷ wall)', 'rows/s vs one at a time', 'CPU per record vs one at a time'],
        cases.map(([name, , vs]) => [name, Math.round(rate(name)), perRecordUs(cpu(name)), cpu(name) / wall(name), vs ? rate(name) / rate(vs) : 1, vs ? cpu(name) / cpu(vs) : 1])),
    );
  }

  process.stdout.write([
    `## Where ingest time goes (\`bench/ingest-profile.bench.ts\`, ${events} api_request records, CPU time, median of ${RUNS})`,
    '',
    'The receiver\'s own work per record, in this process (the server does the same per export):',
    '',
    table(['stage', 'CPU µs per record', 'vs engine insert (baseline)'], [
      ['protobuf decode', perRecordUs(decodeOnly), decodeOnly / base],
      ['decode + rows as JSONEachRow lines', perRecordUs(decodeRows), decodeRows / base],
      ['insert body (lines as UTF-8, once) + export token (its sha256)', perRecordUs(tokenAndBody), tokenAndBody / base],
    ]),
    '',
    `The engine's insert of the same rows in ${CHUNK}-row chunks (\`INSERT … FORMAT JSONEachRow\`, one store per run):`,
    '',
    table(['insert into', 'rows per CPU second', 'CPU µs per record', 'vs full schema'], rows),
    '',
    'Each view\'s share of the full-schema insert (full − full without that view; a view whose table other views',
    'read carries their share too, e.g. telemetry_events_mv; a view on another table, e.g. otel_traces, costs nothing here):',
    '',
    table(['view', 'CPU µs per record', 'share'], shares),
    ...sizeParts,
    ...parallelParts,
  ].join('\n') + '\n');
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
