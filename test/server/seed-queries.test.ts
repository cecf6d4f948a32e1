// The four seed queries (telemetry-server/clickhouse/seed-queries/*.sql) on a known dataset in
// real chDB: each file runs verbatim (FORMAT Pretty), and the same SQL with a machine-readable
// format gives exactly the numbers worked out by hand below.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openChdbStore } from '../../src/server/store/chdb';
import type { Store } from '../../src/server/store/types';
import { applyMigrations, migrationsDir } from '../../src/server/migrations';

const SEED_DIR = path.join(__dirname, '..', '..', 'telemetry-server', 'clickhouse', 'seed-queries');
let store: Store;
let dataDir: string;

/** 'YYYY-MM-DD HH:MM:SS' for `days` days ago (UTC) at the given hour. */
function at(days: number, hour: number): string {
  const d = new Date(Date.now() - days * 86_400_000);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString().slice(0, 19).replace('T', ' ');
}
function dayOf(days: number): string {
  return at(days, 0).slice(0, 10);
}
const seed = (name: string): string => readFileSync(path.join(SEED_DIR, name), 'utf8');

async function json(sql: string): Promise<Array<Record<string, unknown>>> {
  const machine = sql.replace(/FORMAT Pretty\s*$/, 'FORMAT JSONEachRow');
  assert.notEqual(machine, sql, 'seed query must end with FORMAT Pretty');
  const text = (await store.query(machine, { settings: { output_format_json_quote_64bit_integers: '0' } })).toString('utf8');
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
}

type Attrs = Record<string, string>;
const log = (ts: string, user: string, attrs: Attrs, service = 'claude-code'): object =>
  ({ Timestamp: ts, ServiceName: service, ResourceAttributes: { user_id: user }, LogAttributes: attrs });
const req = (ts: string, user: string, sess: string, chapter: string, tokens: number, cost: string): object =>
  log(ts, user, { 'event.name': 'api_request', 'session.id': sess, chapter, model: 'claude-opus-4-8', cost_usd: cost,
    input_tokens: String(tokens / 2), output_tokens: String(tokens / 4), cache_read_tokens: String(tokens / 8), cache_creation_tokens: String(tokens / 8) });
const apiErr = (ts: string, user: string, sess: string, code: string): object =>
  log(ts, user, { 'event.name': 'api_error', 'session.id': sess, model: 'claude-opus-4-8', status_code: code, error: `fake ${code}` });

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ct-seed-'));
  store = await openChdbStore(dataDir);
  await applyMigrations(store, migrationsDir());
  const rows = [
    // today-ish (1 day ago): alice in s1 (ch01 terminal tag, focus on ch02), bob in s2 (ch01)
    log(at(1, 8), 'alice', { 'event.name': 'chapter_focus', chapter: 'ch02', user_id: 'alice' }, 'chapter-telemetry'),
    req(at(1, 9), 'alice', 's1', 'ch01', 800, '0.5'),
    req(at(1, 10), 'alice', 's1', 'ch01', 400, '0.25'),
    apiErr(at(1, 11), 'alice', 's1', '429'),
    log(at(1, 11), 'alice', { 'event.name': 'user_prompt', 'session.id': 's1', chapter: 'ch01' }),
    req(at(1, 12), 'bob', 's2', 'ch01', 1600, '1'),
    apiErr(at(1, 13), 'bob', 's2', '529'),
    // 3 days ago: bob in s3 (ch03), a failed tool and a 429
    req(at(3, 9), 'bob', 's3', 'ch03', 80, '0.125'),
    apiErr(at(3, 10), 'bob', 's3', '429'),
    log(at(3, 11), 'bob', { 'event.name': 'tool_result', 'session.id': 's3', tool_name: 'Bash', success: 'false', error_type: 'ShellError', error: 'failed' }),
    // 20 days ago: in the 30-day window, outside the weekly one
    req(at(20, 9), 'carol', 's4', 'ch01', 160, '2'),
    // 45 days ago: outside both windows (still within the 90-day retention)
    req(at(45, 9), 'carol', 's5', 'ch01', 3200, '8'),
  ];
  await store.insertJsonEachRow('otel_logs', Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')));
});
after(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('seed queries', () => {
  test('each file runs verbatim and prints a Pretty table', async () => {
    for (const f of ['cost-by-day.sql', 'error-patterns.sql', 'chapter-complexity.sql', 'weekly-report.sql']) {
      const sql = seed(f);
      assert.match(sql.trimEnd(), /FORMAT Pretty$/, `${f} ends with FORMAT Pretty`);
      const out = (await store.query(sql.trimEnd())).toString('utf8');
      assert.match(out, /┏━/, `${f} printed a Pretty table`);
    }
  });

  test('cost-by-day: cost and requests per day over the last 30 days', async () => {
    assert.deepEqual(await json(seed('cost-by-day.sql')), [
      { day: dayOf(20), cost_usd: 2, requests: 1 },
      { day: dayOf(3), cost_usd: 0.125, requests: 1 },
      { day: dayOf(1), cost_usd: 1.75, requests: 3 },
    ]);
  });

  test('error-patterns: type, status, count, sessions affected, last seen', async () => {
    assert.deepEqual(await json(seed('error-patterns.sql')), [
      { error_type: 'rate_limit_error', status_code: 429, count: 2, sessions_affected: 2, last_seen: `${at(1, 11)}.000` },
      { error_type: 'ShellError', status_code: 0, count: 1, sessions_affected: 1, last_seen: `${at(3, 11)}.000` },
      { error_type: 'overloaded_error', status_code: 529, count: 1, sessions_affected: 1, last_seen: `${at(1, 13)}.000` },
    ]);
  });

  test('chapter-complexity: tokens by the focused (else tagged) chapter', async () => {
    // alice's two requests follow her ch02 focus; the others keep their terminal tag.
    assert.deepEqual(await json(seed('chapter-complexity.sql')), [
      { chapter: 'ch01', total_tokens: 1600 + 160 + 3200, contributors: 2, avg_tokens_per_request: 1653.3, requests: 3 },
      { chapter: 'ch02', total_tokens: 1200, contributors: 1, avg_tokens_per_request: 600, requests: 2 },
      { chapter: 'ch03', total_tokens: 80, contributors: 1, avg_tokens_per_request: 80, requests: 1 },
    ]);
  });

  test('weekly-report: totals of the last 7 days and the API error rate', async () => {
    assert.deepEqual(await json(seed('weekly-report.sql')), [
      // 9 events (the focus record is not an event); 4 requests, 3 API errors → 3/7 = 42.86 %
      { events: 9, requests: 4, errors: 3, error_rate_pct: 42.86, cost_usd: 1.875, sessions: 3, authors: 2 },
    ]);
  });
});
