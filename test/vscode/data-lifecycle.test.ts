// The data-lifecycle commands in a real VS Code (code-server) against a real embedded server fed with
// two authors: Export Data's argument form writes a file holding what SQL holds, Weekly Report writes
// the same Markdown as `npm run report`, Delete My Data removes alice's rows and leaves bob's, and the retention
// settings become the store's TTLs. A third author's old rows, written as the local writer around the
// boundary where the 90-day TTL removes them within 7 days, make the archive offer appear; its Parquet files,
// read back through the engine, hold exactly the rows past the boundary. With the test-only clock in
// 2026-W49 and `report.weeklyOnFirstStart` on, activation writes 2026-W48's report into the workspace once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { buildCheckout, launchVSCode, repoRoot } from '../support/codeserver';
import { startServer, type RunningServer } from '../support/server';
import { feedAuthor } from '../support/lifecycle-data';

const suiteEntry = join(repoRoot, 'dist', 'test', 'suite', 'index.js');
const workspace = mkdtempSync(join(tmpdir(), 'ct-data-ws-'));
const out = mkdtempSync(join(tmpdir(), 'ct-data-out-'));
let srv: RunningServer;

before(async () => {
  buildCheckout();
  writeFileSync(join(workspace, 'README.md'), '# a book\n');
  srv = await startServer();
  await feedAuthor(srv, 'alice', 1);
  await feedAuthor(srv, 'bob', 2);
  await feedOldRows();
});
after(async () => {
  await srv?.stop();
  for (const d of [workspace, out, srv?.dataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

const count = async (sql: string) => Number((await srv.sql(sql)).trim());
const HOUR = 3_600_000;
/** carol's rows, in hours from the 7-day boundary of the 90-day TTL (now − 83 days): ≤ 0 expires within 7 days. */
const AROUND: Record<string, number> = { a: -4 * 24, b: -30, c: -3, d: 3, e: 30, f: 60 * 24 };
const EXPIRING = ['a', 'b', 'c'];

async function feedOldRows(): Promise<void> {
  const now = Date.now();
  const rows = Object.entries(AROUND).flatMap(([label, h]) => {
    const ts = new Date(now - 83 * 24 * HOUR + h * HOUR).toISOString().replace('T', ' ').replace('Z', '');
    return [
      { Timestamp: ts, ServiceName: 'claude-code', ResourceAttributes: { user_id: 'carol' },
        LogAttributes: { 'event.name': 'api_request', 'session.id': `old-${label}`, chapter: 'ch09', model: 'claude-haiku-4-5', cost_usd: '0.25', input_tokens: '10' } },
      { Timestamp: ts, ServiceName: 'chapter-telemetry', ResourceAttributes: { user_id: 'carol' },
        LogAttributes: { 'event.name': 'chapter_focus', chapter: `old-${label}`, user_id: 'carol' } },
    ];
  });
  await srv.sql(`INSERT INTO otel_logs FORMAT JSONEachRow\n${rows.map((r) => JSON.stringify(r)).join('\n')}`);
}

test('Export Data, Weekly Report and Delete My Data from the extension host', async () => {
  const bobBefore = await count("SELECT count() FROM telemetry_events WHERE user_id = 'bob'");
  const eventsInRange = await count("SELECT count() FROM telemetry_events WHERE toDate(timestamp) BETWEEN '2026-11-16' AND '2026-11-29'");
  const dailyRows = await count('SELECT count() FROM (SELECT 1 FROM daily_metrics GROUP BY day, user_id, chapter, model)');
  const cliDir = join(out, 'cli');
  execFileSync(process.execPath, [join(repoRoot, 'dist', 'report-cli.js'), '--url', srv.httpUrl, '--user', 'alice', '--week', '2026-W48', '--format', 'md', '--out', cliDir]);

  const vs = await launchVSCode({
    workspace, extensionDevelopmentPath: repoRoot, extensionTestsPath: suiteEntry, name: 'data-lifecycle',
    settings: { 'chapterTelemetry.httpPort': srv.httpPort, 'chapterTelemetry.host': '127.0.0.1', 'chapterTelemetry.dataDir': srv.dataDir, 'chapterTelemetry.userId': 'alice',
      'chapterTelemetry.report.weeklyOnFirstStart': true, 'chapterTelemetry.budget.testOnlyNow': '2026-12-02T10:00:00.000Z' },
    env: { CT_SUITE_GREP: 'data lifecycle', CT_DATA_LIFECYCLE_OUT: out },
  });
  try {
    const r = await vs.runTests(600_000);
    writeFileSync(join(repoRoot, '.test-artifacts', 'vscode', 'data-lifecycle-mocha.log'), r.log);
    assert.equal(r.exitCode, 0, r.log);
    assert.match(r.log, /9 passing/);
  } finally {
    await vs.close();
  }
  const csv = parse(readFileSync(join(out, 'events.csv')), { columns: true }) as Record<string, string>[];
  assert.equal(csv.length, eventsInRange);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(results.exportParquet.rows, dailyRows);
  assert.equal(readFileSync(join(out, 'reports', '2026-W48.md'), 'utf8'), readFileSync(join(cliDir, '2026-W48.md'), 'utf8'), 'the command and the CLI write the same report');
  assert.match(readFileSync(join(out, 'reports', '2026-W48.html'), 'utf8'), /<svg/);
  // The first start of 2026-W49 wrote last week's report into the workspace's reports/, the same as the CLI's.
  // (The suite then moved that folder aside to put a link in its place, which the report command refused.)
  assert.equal(readFileSync(join(workspace, 'reports-first-start', '2026-W48.md'), 'utf8'), readFileSync(join(cliDir, '2026-W48.md'), 'utf8'));
  assert.match(readFileSync(join(workspace, 'reports-first-start', '2026-W48.html'), 'utf8'), /<svg/);
  // The archive, read back through the engine: exactly carol's rows past the boundary, in each table.
  const files = Object.fromEntries((results.archive.files as { id: string; out: string }[]).map((f) => [f.id, f.out]));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const chdb = require('chdb') as typeof import('chdb');
  const read = (file: string, col: string) => chdb.query(`SELECT count(), arraySort(groupArray(${col})) FROM file('${file}', Parquet)`, 'TSV').trim();
  const want = (n: number) => `${n}\t['${EXPIRING.map((l) => `old-${l}`).join("','")}']`;
  assert.equal(read(files.events!, 'session_id'), want(3));
  assert.equal(read(files.focus!, 'chapter'), want(3));
  assert.equal(read(files.otel_logs!, "LogAttributes['session.id']").split('\t')[0], '6');
  assert.equal(read(files.otel_logs!, "if(ServiceName = 'claude-code', LogAttributes['session.id'], '')"),
    `6\t['','','','${EXPIRING.map((l) => `old-${l}`).join("','")}']`);
  for (const t of ['telemetry_events', 'chapter_focus', 'session_summaries', 'daily_metrics', 'events_15m']) {
    assert.equal(await count(`SELECT count() FROM ${t} WHERE user_id = 'alice'`), 0, t);
  }
  assert.equal(await count("SELECT count() FROM otel_logs WHERE ResourceAttributes['user_id'] = 'alice'"), 0);
  assert.equal(await count("SELECT count() FROM telemetry_events WHERE user_id = 'bob'"), bobBefore);
  const ttl = async (t: string) => (await srv.sql(`SELECT create_table_query FROM system.tables WHERE database = 'default' AND name = '${t}' FORMAT TSVRaw`));
  assert.match(await ttl('telemetry_events'), /toIntervalDay\(30\)/);
  assert.match(await ttl('otel_logs'), /toIntervalDay\(30\)/);
  assert.match(await ttl('session_summaries'), /toIntervalDay\(60\)/);
});
