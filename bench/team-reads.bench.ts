// Team reads scoped by role: the sidebar's query set at 1M events over the team server's ClickHouse
// HTTPS port, as a contributor (row filters in the member's sessions, plus the AST and query-tree
// checks of every statement) against the same queries as the admin (no filters, the same checks),
// in the same run on the same data. The sidebar queries name their author themselves, so both
// answer the same rows: that is checked, so the comparison is like for like. Target: ≤ 1.2×.
// Also the admin's figure against the local anonymous reader over plain HTTP (no TLS, no checks).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deepStrictEqual } from 'node:assert';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { loadSidebar } from '../src/core/analytics';
import type { BoundQuery, QueryRunner } from '../src/core/queries';
import { httpRunner } from '../src/vscode/webviews/connection';
import { addMember, initTeam } from '../src/server/team/admin';
import { startServer } from '../test/support/server';
import { median } from './lib/measure';

const EVENTS = Number(process.env.CT_BENCH_TEAM_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.CT_BENCH_RUNS ?? 9);
const NOW = Date.now();
const who = { userId: 'user0', now: new Date(NOW) };
const sidebar = (r: QueryRunner) => loadSidebar(r, who, { chapter: 'ch07', listPeriod: 'd7' });

/** The analytics bench's event mix (5 authors, 30 chapters, 35 days), fewer columns. */
const SYNTH = `INSERT INTO telemetry_events (timestamp, event_type, user_id, session_id, model, cost_usd, input_tokens, output_tokens,
  token_count, status_code, chapter_context)
SELECT ts, et, concat('user', toString(h2 % 5)), concat('s', toString(intDiv(number, 40))),
  ['claude-opus-4-8', 'claude-sonnet-4-5', 'claude-haiku-4-5'][1 + h3 % 3], if(et = 'api_request', (h3 % 1000) / 10000.0, 0),
  if(et = 'api_request', h3 % 5000, 0), if(et = 'api_request', h2 % 800, 0), if(et = 'api_request', h3 % 5000 + h2 % 800, 0),
  if(et = 'api_error', [429, 500, 529][1 + h3 % 3], 0), concat('ch', leftPad(toString(1 + h2 % 30), 2, '0'))
FROM (
  SELECT number, cityHash64(number, 1) AS h1, cityHash64(number, 2) AS h2, cityHash64(number, 3) AS h3,
    fromUnixTimestamp64Milli(toInt64({now:Int64} - h1 % (35 * 86400000))) AS ts,
    multiIf(h1 % 100 < 60, 'api_request', h1 % 100 < 85, 'user_prompt', h1 % 100 < 95, 'tool_result', h1 % 100 < 98, 'api_error', 'tool_decision') AS et
  FROM numbers({count:UInt64})
)`;

/** A member's runner: @clickhouse/client over HTTPS trusting the team CA, as a member's extension would. */
function memberRunner(url: string, ca: Buffer, user: string, password: string): QueryRunner & { close(): Promise<void> } {
  const client = createClient({ url, username: user, password, tls: { ca_cert: ca }, request_timeout: 60_000, keep_alive: { enabled: false }, log: { level: ClickHouseLogLevel.OFF } });
  return {
    async rows<Row>(q: BoundQuery<Row>): Promise<Row[]> {
      const rs = await client.query({ query: q.sql, query_params: q.params, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
      return await rs.json<Row>();
    },
    close: () => client.close(),
  };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'ct-bench-team-'));
  const dataDir = join(root, 'data');
  try {
    // Filled through a local server (the team port writes nothing), then served as a team.
    const local = await startServer({ dataDir, timeoutMs: 120_000 });
    const t0 = performance.now();
    try {
      await local.sql(SYNTH, { count: String(EVENTS), now: String(NOW) });
      await local.sql('OPTIMIZE TABLE telemetry_events FINAL');
    } finally {
      await local.stop();
    }
    const filled = (performance.now() - t0) / 1000;
    const teamDir = join(root, 'team');
    const admin = (await initTeam({ dir: teamDir, name: 'Bench', hostnames: ['127.0.0.1'] })).admin;
    const member = await addMember(teamDir, 'user0', 'contributor');
    const ca = readFileSync(join(teamDir, 'tls/ca.crt'));
    const server = await startServer({ dataDir, extraArgs: ['--team', teamDir], timeoutMs: 120_000 });
    const url = `https://127.0.0.1:${server.httpPort}`;
    const runners = { contributor: memberRunner(url, ca, 'user0', member.secret), admin: memberRunner(url, ca, 'admin', admin.secret) };
    const times: Record<string, number[]> = { contributor: [], admin: [] };
    try {
      // Float sums may add in another order: compared to 6 decimals.
      const rounded = (x: unknown) => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v));
      deepStrictEqual(rounded(await sidebar(runners.contributor)), rounded(await sidebar(runners.admin)));
      // Interleaved, so both see the same machine load (other processes share these cores).
      for (let i = 0; i < RUNS; i++) {
        for (const [role, r] of Object.entries(runners)) {
          const s = performance.now();
          await sidebar(r);
          times[role]!.push(performance.now() - s);
        }
      }
    } finally {
      for (const r of Object.values(runners)) await r.close();
      await server.stop();
    }
    // The same queries on the local server (plain HTTP, anonymous reader, no checks), same data.
    const plain = await startServer({ dataDir, timeoutMs: 120_000 });
    const local2 = httpRunner(plain.httpUrl);
    const localTimes: number[] = [];
    try {
      await sidebar(local2);
      for (let i = 0; i < RUNS; i++) {
        const s = performance.now();
        await sidebar(local2);
        localTimes.push(performance.now() - s);
      }
    } finally {
      await local2.close();
      await plain.stop();
    }
    const c = median(times.contributor!);
    const a = median(times.admin!);
    const l = median(localTimes);
    console.log([
      '## Team reads scoped by role (`bench/team-reads.bench.ts`)', '',
      `The sidebar's query set (5 queries, author user0) at ${EVENTS.toLocaleString('en-US')} events (filled in ${filled.toFixed(1)} s), median of ${RUNS} interleaved runs after a warm-up, over the team server's ClickHouse HTTPS port with @clickhouse/client. Contributor = the member's row-filtered read-only sessions; admin = no filters; both pass the same statement checks (kind, query guard, EXPLAIN AST, EXPLAIN QUERY TREE) and return the same rows (checked). Local = the same queries on the local server over plain HTTP as the anonymous reader (no TLS, no checks). Target: contributor ≤ 1.2× admin.`, '',
      '| events | contributor, scoped (ms) | admin, unscoped (ms) | ratio | local reader, plain HTTP (ms) | admin vs local |', '|---:|---:|---:|---:|---:|---:|',
      `| ${EVENTS.toLocaleString('en-US')} | ${c.toFixed(1)} | ${a.toFixed(1)} | ${(c / a).toFixed(2)}× | ${l.toFixed(1)} | ${(a / l).toFixed(2)}× |`,
    ].join('\n'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

void main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
