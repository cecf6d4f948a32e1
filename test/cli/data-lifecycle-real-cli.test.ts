// Export and weekly report from real Claude Code data: the real CLI (answered by the fake Anthropic API on
// loopback) works on three chapters with three models and meets a 429 and a 529; `npm run export` of every
// table it fills, in every format, holds the rows and sums SQL gives, and `npm run report` for this week
// gives the numbers SQL gives.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer, repoRoot, type RunningServer } from '../support/server';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { runClaude, type RunClaudeOptions } from '../support/claude-cli';
import { eventually } from '../support/otlp';
import { close, readBack } from '../support/export-check';
import { checkReport } from '../support/report-check';
import { isoWeekOf, previousWeek } from '../../src/core/report/iso-week';

const run = promisify(execFile);
let server: RunningServer;
let api: FakeAnthropic;
let out: string;
const homes: string[] = [];

async function claude(o: Omit<RunClaudeOptions, 'protocol' | 'endpoint' | 'apiUrl'>): Promise<number | null> {
  const r = await runClaude({ protocol: 'http/protobuf', endpoint: server.otlpHttpUrl, apiUrl: api.url, userId: 'cli-user', ...o });
  homes.push(r.home);
  return r.code;
}

before(async () => {
  server = await startServer();
  api = await startFakeAnthropic();
  out = mkdtempSync(join(tmpdir(), 'ct-cli-lifecycle-'));
  const work: [string, string, string][] = [['ch01', 'claude-sonnet-4-5', 'alice'], ['ch02', 'claude-opus-4-1', 'alice'], ['ch03', 'claude-haiku-4-5', 'alice'], ['ch01', 'claude-sonnet-4-5', 'bob']];
  for (const [i, [chapter, model, user]] of work.entries()) {
    api.enqueue({ kind: 'text', text: 'done', usage: { input_tokens: 100 * (i + 1), output_tokens: 20 * (i + 1), cache_read_input_tokens: 1000 * (i + 1), cache_creation_input_tokens: 10 } });
    assert.equal(await claude({ prompt: `revise ${chapter}`, model, resourceAttributes: { chapter, user_id: user } }), 0);
  }
  for (const status of [429, 529]) {
    api.enqueue({ kind: 'error', status, message: status === 429 ? 'rate limited' : 'Overloaded' });
    assert.equal(await claude({ prompt: 'one more', resourceAttributes: { chapter: 'ch02', user_id: 'alice' } }), 1);
  }
  await eventually(async () => (await server.sql("SELECT countIf(event_type = 'api_request'), countIf(event_type = 'api_error') FROM telemetry_events")).trim() === '4\t2',
    async () => server.sql('SELECT event_type, count() FROM telemetry_events GROUP BY event_type'), 60_000);
  await eventually(async () => Number(await server.sql('SELECT count() FROM otel_metrics_sum')) > 0, () => 'no metrics from the CLI', 60_000);
});
after(async () => {
  await api?.close();
  await server?.stop();
  for (const d of [...homes, out, server?.dataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

const TABLES: Record<string, { column: string; sql: string }> = {
  events: { column: 'cost_usd', sql: 'SELECT count(), sum(cost_usd) FROM telemetry_events' },
  sessions: { column: 'tokens', sql: 'SELECT count(), sum(t) FROM (SELECT sum(tokens) AS t FROM session_summaries GROUP BY user_id, session_id)' },
  daily: { column: 'cost_usd', sql: 'SELECT count(), sum(c) FROM (SELECT sum(cost_usd) AS c FROM daily_metrics GROUP BY day, user_id, chapter, model)' },
  // The CLI's log records carry no severity or other number: rows only.
  otel_logs: { column: 'timestamp', sql: 'SELECT count(), 0 FROM otel_logs' },
  otel_metrics_sum: { column: 'Value', sql: 'SELECT count(), sum(Value) FROM otel_metrics_sum' },
};

test('every table the CLI fills, in every format, holds what SQL holds', async () => {
  for (const [table, { column, sql }] of Object.entries(TABLES)) {
    const [rows, sum] = (await server.sql(sql)).trim().split('\t').map(Number);
    assert.ok(rows! > 0 && (sum! > 0 || column === 'timestamp'), `${table} has real data`);
    for (const format of ['csv', 'jsonl', 'parquet']) {
      const file = join(out, `${table}.${format}`);
      await run(process.execPath, [join(repoRoot, 'dist', 'export-cli.js'), '--url', server.httpUrl, '--table', table, '--format', format, '--out', file]);
      const [gotRows, gotSum] = readBack(file, format, column);
      assert.equal(gotRows, rows, `${table} ${format}`);
      assert.ok(close(gotSum, sum!), `${table} ${format}: ${gotSum} vs ${sum}`);
    }
  }
});

test('the weekly report of this week equals SQL (three chapters, three models, a 429 and a 529)', async () => {
  const week = isoWeekOf(Date.now());
  const prev = previousWeek(week);
  await run(process.execPath, [join(repoRoot, 'dist', 'report-cli.js'), '--url', server.httpUrl, '--user', 'alice', '--week', week.id, '--format', 'md', '--out', out]);
  const md = readFileSync(join(out, `${week.id}.md`), 'utf8');
  await checkReport(server, md, { all: '0', user: 'alice' }, { from: week.start, to: week.end }, { from: prev.start, to: prev.end },
    { previousWeekRequests: false, models: 3, minChapters: 3 });
});
