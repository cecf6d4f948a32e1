// Analytics queries on synthetic Claude-Code-shaped events: the sidebar's whole query set and each
// panel's set, run by the same loaders (a) over HTTP through the embedded server with
// @clickhouse/client, as the extension does, and (b) on the bare chDB engine in-process (a Session on
// the same data), in the same run. Also the time from an acknowledged OTLP export to the sidebar's
// watermark seeing it. Prints one Markdown section.
// Knobs: CT_BENCH_SIZES (default 1000000,10000000), CT_BENCH_RUNS (median of, default 7),
// CT_BENCH_ANALYTICS_DATA=<folder>: keep each size's filled data directory in <folder>/events-<n> and reuse
// it on later runs (the 10M fill takes minutes); the fill time is kept beside it so the windows see the
// same data a fresh fill gives. Without it every run fills a fresh temporary directory and deletes it.
import { Session } from 'chdb';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadChapters, loadCost, loadErrors, loadSidebar } from '../src/core/analytics';
import { watermark, type BoundQuery, type QueryRunner } from '../src/core/queries';
import { httpRunner } from '../src/vscode/webviews/connection';
import { logsRequest, postOtlp } from '../test/support/otlp';
import { startServer } from '../test/support/server';
import { median } from './lib/measure';

const SIZES = (process.env.CT_BENCH_SIZES ?? '1000000,10000000').split(',').map(Number);
const RUNS = Number(process.env.CT_BENCH_RUNS ?? 7);
const USER = 'user0';
const KEEP = process.env.CT_BENCH_ANALYTICS_DATA;

type Who = { userId: string; now: Date };
const SETS: Record<string, (r: QueryRunner, who: Who) => Promise<unknown>> = {
  'sidebar (5 queries)': (r, who) => loadSidebar(r, who, { chapter: 'ch07', listPeriod: 'd7', scope: 'all' }),
  'cost panel, 30 days (3)': (r, who) => loadCost(r, who, { preset: 30, scope: 'me' }),
  'errors panel, 30 days (4)': (r, who) => loadErrors(r, who, { preset: 30, scope: 'me' }),
  'chapters panel, 30 days, all authors (1)': (r, who) => loadChapters(r, who, { preset: 30, scope: 'all' }),
  'watermark (1)': (r) => r.rows(watermark()),
};

/** Events over the last 35 days: 5 authors, 30 chapters, 3 models, Claude Code's event mix. */
const SYNTH = `INSERT INTO telemetry_events (timestamp, event_type, user_id, session_id, prompt_id, model, cost_usd,
  input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, token_count, duration_ms, status_code, error_type,
  error_message, attempt, chapter_context)
SELECT ts, et, concat('user', toString(h2 % 5)), concat('s', toString(intDiv(n, 40))), concat('p', toString(intDiv(n, 8))),
  ['claude-opus-4-8', 'claude-sonnet-4-5', 'claude-haiku-4-5'][1 + h3 % 3],
  if(et = 'api_request', (h3 % 1000) / 10000.0, 0),
  if(et = 'api_request', h3 % 5000, 0), if(et = 'api_request', h2 % 800, 0),
  if(et = 'api_request', h3 % 20000, 0), if(et = 'api_request', h2 % 3000, 0),
  if(et = 'api_request', h3 % 5000 + h2 % 800 + h3 % 20000 + h2 % 3000, 0),
  h2 % 4000, if(et IN ('api_error', 'api_retries_exhausted'), [429, 500, 529][1 + h3 % 3], 0),
  if(et IN ('api_error', 'api_retries_exhausted'), ['rate_limit_error', 'api_error', 'overloaded_error'][1 + h3 % 3], ''),
  if(et IN ('api_error', 'api_retries_exhausted'), concat('synthetic error ', toString(h3 % 17)), ''),
  if(et = 'api_error', 1 + h2 % 3, 0), concat('ch', leftPad(toString(1 + h2 % 30), 2, '0'))
FROM (
  SELECT number + {offset:UInt64} AS n, cityHash64(n, 1) AS h1, cityHash64(n, 2) AS h2, cityHash64(n, 3) AS h3,
    fromUnixTimestamp64Milli(toInt64({now:Int64} - h1 % (35 * 86400000))) AS ts,
    multiIf(h1 % 100 < 60, 'api_request', h1 % 100 < 85, 'user_prompt', h1 % 100 < 95, 'tool_result',
            h1 % 100 < 98, 'api_error', h1 % 100 < 99, 'api_retries_exhausted', 'tool_decision') AS et
  FROM numbers({count:UInt64})
)`;
const FOCUS = `INSERT INTO chapter_focus (timestamp, user_id, chapter, workspace, file)
SELECT fromUnixTimestamp64Milli(toInt64({now:Int64} - cityHash64(number, 9) % (35 * 86400000))), concat('user', toString(number % 5)),
  concat('ch', leftPad(toString(1 + cityHash64(number, 8) % 30), 2, '0')), 'book', '' FROM numbers({count:UInt64})`;

async function time(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: caches and marks loaded
  const ts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function chdbRunner(s: Session): QueryRunner {
  return {
    async rows<Row>(q: BoundQuery<Row>): Promise<Row[]> {
      const out = (await s.queryBindAsync(q.sql, q.params, { format: 'JSONEachRow' })).text().trim();
      return out ? out.split('\n').map((l) => JSON.parse(l) as Row) : [];
    },
  };
}

async function main(): Promise<void> {
  const lines: string[] = ['## Analytics queries (sidebar and panels)', '',
    `Median of ${RUNS} runs after a warm-up. "Ours" = the loaders over HTTP through the embedded server with @clickhouse/client (what the extension does); "bare" = the same loaders and SQL on a chDB Session in-process on the same data. Targets: ≤ 2× bare; sidebar ≤ 100 ms at 1M events; Chapters panel ≤ 400 ms at 10M events; export → sidebar ≤ 2 s. The chapter figures read events_chapters (chapter attributed when stored, 0010), merged as after background merges.`, '',
    '| events | query set | ours (ms) | bare chDB (ms) | ratio |', '|---:|---|---:|---:|---:|'];
  const latency: string[] = [];
  for (const n of SIZES) {
    const dataDir = KEEP ? join(KEEP, `events-${n}`) : mkdtempSync(join(tmpdir(), 'ct-bench-analytics-'));
    const filledAt = join(dataDir, 'bench-filled-at');
    const reuse = KEEP !== undefined && existsSync(filledAt);
    if (KEEP) mkdirSync(dataDir, { recursive: true });
    const NOW = reuse ? Number(readFileSync(filledAt, 'utf8')) : Date.now();
    const who = { userId: USER, now: new Date(NOW) };
    const ours: Record<string, number> = {};
    const server = await startServer({ dataDir, timeoutMs: 120_000 });
    try {
      if (!reuse) {
        // The focus timeline first: the events are then attributed as they are stored (events_chapters_mv,
        // 0010). Focus records written straight into chapter_focus do not re-attribute stored events (only
        // those arriving through otel_logs do).
        await server.sql(FOCUS, { count: String(Math.max(1000, Math.floor(n / 1000))), now: String(NOW) });
        const chunk = 1_000_000;
        for (let off = 0; off < n; off += chunk) {
          await server.sql(SYNTH, { offset: String(off), count: String(Math.min(chunk, n - off)), now: String(NOW) });
        }
        if (KEEP) writeFileSync(filledAt, String(NOW));
      }
      // What the chapter figures read must be what the ASOF view gives (else the timings mean nothing).
      const perChapter = (from: string) => server.sql(`SELECT chapter, chapter_source, count(), round(sum(cost_usd), 6) FROM ${from} GROUP BY ALL ORDER BY ALL FORMAT TSV`);
      if (await perChapter('events_chapters FINAL') !== await perChapter('events_attributed')) throw new Error('events_chapters differs from events_attributed');
      await server.sql('OPTIMIZE TABLE telemetry_events FINAL');
      await server.sql('OPTIMIZE TABLE events_chapters FINAL');
      const run = httpRunner(server.httpUrl);
      for (const [name, fn] of Object.entries(SETS)) ours[name] = await time(() => fn(run, who));
      // Export → watermark moved (what the sidebar's 1 s poll looks for) → sidebar reloaded.
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        const [w0] = await run.rows(watermark());
        const t0 = performance.now();
        const r = await postOtlp(server.otlpHttpUrl, 'logs', JSON.stringify(logsRequest([{ name: 'api_request', attributes: { model: 'claude-sonnet-4-5', cost_usd: 0.01, input_tokens: 5 } }], { 'service.name': 'claude-code', user_id: USER })), 'application/json');
        if (r.status !== 200) throw new Error(`export failed: ${r.status}`);
        for (;;) {
          const [w] = await run.rows(watermark());
          if (w?.events !== w0?.events) break;
        }
        await SETS['sidebar (5 queries)']!(run, who);
        samples.push(performance.now() - t0);
      }
      latency.push(`| ${n.toLocaleString('en-US')} | ${median(samples).toFixed(0)} | ${(median(samples) + 1000).toFixed(0)} |`);
      await run.close();
    } finally {
      await server.stop();
    }
    const s = new Session(dataDir);
    try {
      const bare = chdbRunner(s);
      for (const [name, fn] of Object.entries(SETS)) {
        const b = await time(() => fn(bare, who));
        lines.push(`| ${n.toLocaleString('en-US')} | ${name} | ${ours[name]!.toFixed(1)} | ${b.toFixed(1)} | ${(ours[name]! / b).toFixed(2)}× |`);
      }
    } finally {
      s.close();
      if (!KEEP) rmSync(dataDir, { recursive: true, force: true });
    }
  }
  lines.push('', 'Export → sidebar: from the moment the server acknowledged an OTLP export until the watermark query sees it and the sidebar\'s query set has reloaded (median of 5); the view polls the watermark every 1 s while visible, so the worst case adds up to 1 s.', '',
    '| events | ack → reloaded (ms) | worst case with the 1 s poll (ms) |', '|---:|---:|---:|', ...latency);
  console.log(lines.join('\n'));
}

void main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
