// The ClickHouse schema on the real chDB engine: migrations apply once and are idempotent, the
// materialized views derive telemetry_events / chapter_focus / rollups by the documented rules,
// and events_attributed picks the focused chapter, the terminal tag, or none.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openChdbStore } from '../../src/server/store/chdb';
import type { Store } from '../../src/server/store/types';
import { applyMigrations, listMigrations, migrationsDir, splitStatements } from '../../src/server/migrations';

let store: Store;
let dataDir: string;

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ct-schema-'));
  store = await openChdbStore(dataDir);
});
after(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function rows<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const text = (await store.query(`${sql} FORMAT JSONEachRow`, { settings: { output_format_json_quote_64bit_integers: '0' } })).toString('utf8');
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as T);
}


/** A calendar day `back` days before today (UTC): rows must be newer than the 90-day TTL. */
function day(back: number): string {
  return new Date(Date.now() - back * 86_400_000).toISOString().slice(0, 10);
}
const D1 = day(3);
const D2 = day(2);
const D3 = day(5);
const D3next = day(4);

type Attrs = Record<string, string>;
/** One otel_logs row shaped like the real CLI's records (catalog-2.1.197.json): values are strings. */
function logRow(ts: string, attrs: Attrs, resource: Attrs = {}, service = 'claude-code'): string {
  return JSON.stringify({
    Timestamp: ts,
    ServiceName: service,
    Body: `claude_code.${attrs['event.name'] ?? ''}`,
    ResourceAttributes: { 'service.name': service, 'service.version': '2.1.197', ...resource },
    ScopeName: 'com.anthropic.claude_code.events',
    LogAttributes: attrs,
  });
}
async function insertLogs(lines: string[]): Promise<void> {
  await store.insertJsonEachRow('otel_logs', Buffer.from(lines.join('\n')));
}
async function reset(): Promise<void> {
  for (const t of ['otel_logs', 'telemetry_events', 'chapter_focus', 'session_summaries', 'daily_metrics']) {
    await store.query(`TRUNCATE TABLE IF EXISTS default.${t}`);
  }
}

describe('splitStatements', () => {
  test('splits at ; outside strings, quoted names and comments', () => {
    const sql = [
      "-- a comment; with a semicolon",
      "SELECT 'a;b', \"x;y\", `p;q` /* c; d */;",
      "SELECT 'it''s; fine', 'back\\'slash;';",
      "/* only a comment; */",
      "SELECT 3",
    ].join('\n');
    assert.deepEqual(splitStatements(sql), [
      "-- a comment; with a semicolon\nSELECT 'a;b', \"x;y\", `p;q` /* c; d */",
      "SELECT 'it''s; fine', 'back\\'slash;'",
      '/* only a comment; */\nSELECT 3',
    ]);
  });
});

describe('migrations', () => {
  test('apply on a fresh data dir, then a second run applies nothing', async () => {
    const files = listMigrations(migrationsDir());
    assert.ok(files.length >= 4, `expected the numbered migrations, got ${files.join(', ')}`);
    const first = await applyMigrations(store, migrationsDir());
    assert.deepEqual(first, files);
    const second = await applyMigrations(store, migrationsDir());
    assert.deepEqual(second, []);
    const recorded = await rows<{ version: string }>('SELECT version FROM default.schema_migrations ORDER BY version');
    assert.deepEqual(recorded.map((r) => r.version), files);
    const tables = (await rows<{ name: string }>("SELECT name FROM system.tables WHERE database = 'default' ORDER BY name")).map((r) => r.name);
    for (const t of ['otel_logs', 'otel_metrics_sum', 'otel_metrics_gauge', 'otel_metrics_histogram',
      'otel_metrics_exponential_histogram', 'otel_metrics_summary', 'otel_traces', 'otel_traces_trace_id_ts',
      'telemetry_events', 'chapter_focus', 'events_attributed', 'session_summaries', 'daily_metrics']) {
      assert.ok(tables.includes(t), `table ${t} missing; have ${tables.join(', ')}`);
    }
  });

  test('every statement is safe to re-run without the runner (docker-entrypoint-initdb.d)', async () => {
    const dir = migrationsDir();
    const before = await rows<{ n: number }>("SELECT count() AS n FROM system.tables WHERE database = 'default'");
    for (const f of listMigrations(dir)) {
      for (const stmt of splitStatements(readFileSync(path.join(dir, f), 'utf8'))) await store.query(stmt);
    }
    const afterRerun = await rows<{ n: number }>("SELECT count() AS n FROM system.tables WHERE database = 'default'");
    assert.deepEqual(afterRerun, before);
    // Re-running must not have attached the views twice: one raw row still gives one event.
    await reset();
    await insertLogs([logRow(`${D1} 00:00:00`, { 'event.name': 'user_prompt', 'session.id': 's' }, { 'user.id': 'u' })]);
    assert.deepEqual(await rows('SELECT count() AS n FROM telemetry_events'), [{ n: 1 }]);
  });

  test('a failing statement names the file and the statement, and the file stays unrecorded', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ct-mig-'));
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, '0001_ok.sql'), 'CREATE TABLE IF NOT EXISTS default.t_ok (a UInt8) ENGINE = MergeTree ORDER BY a;\n');
      writeFileSync(path.join(dir, '0002_bad.sql'), "SELECT 1;\nCREATE TABLE default.t_bad (a NoSuchType) ENGINE = MergeTree ORDER BY a;\n");
      await store.query("DELETE FROM default.schema_migrations WHERE version IN ('0001_ok.sql', '0002_bad.sql')");
      await assert.rejects(applyMigrations(store, dir), (err: Error) => {
        assert.match(err.message, /0002_bad\.sql/);
        assert.match(err.message, /statement 2 of 2/);
        assert.match(err.message, /NoSuchType/);
        return true;
      });
      const recorded = await rows<{ version: string }>("SELECT version FROM default.schema_migrations WHERE version LIKE '000%_ok.sql' OR version LIKE '000%_bad.sql'");
      assert.deepEqual(recorded.map((r) => r.version), ['0001_ok.sql']);
    } finally {
      await store.query("DELETE FROM default.schema_migrations WHERE version IN ('0001_ok.sql', '0002_bad.sql')");
      await store.query('DROP TABLE IF EXISTS default.t_ok');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('telemetry_events materialized view', () => {
  beforeEach(reset);

  test('api_request: string numerics, token_count, cost, event.timestamp, app version, request id', async () => {
    await insertLogs([logRow(`${D1} 00:04:49.000`, {
      'event.name': 'api_request', 'event.timestamp': `${D1}T00:04:48.191Z`, 'event.sequence': '1',
      'session.id': 'sess-1', 'prompt.id': 'p-1', 'user.id': 'hash-u', 'terminal.type': 'xterm', 'app.version': '2.1.197',
      model: 'claude-opus-4-8', input_tokens: '25', output_tokens: '7', cache_read_tokens: '11', cache_creation_tokens: '13',
      cost_usd: '0.00038675000000000005', duration_ms: '23', request_id: 'req_fake_1', chapter: 'ch05',
    }, { chapter: 'ch05', 'user.id': 'hash-u' })]);
    const [e] = await rows<Record<string, unknown>>('SELECT *, toString(timestamp) AS ts FROM telemetry_events');
    assert.ok(e);
    assert.equal(e['ts'], `${D1} 00:04:48.191`);
    assert.equal(e['event_type'], 'api_request');
    assert.equal(e['service_name'], 'claude-code');
    assert.equal(e['user_id'], 'hash-u');
    assert.equal(e['session_id'], 'sess-1');
    assert.equal(e['prompt_id'], 'p-1');
    assert.equal(e['event_sequence'], 1);
    assert.equal(e['model'], 'claude-opus-4-8');
    assert.equal(e['cost_usd'], 0.00038675000000000005);
    assert.deepEqual([e['input_tokens'], e['output_tokens'], e['cache_read_tokens'], e['cache_creation_tokens']], [25, 7, 11, 13]);
    assert.equal(e['token_count'], 56);
    assert.equal(e['duration_ms'], 23);
    assert.equal(e['status_code'], 0);
    assert.equal(e['error_type'], '');
    assert.equal(e['success'], 1);
    assert.equal(e['chapter_context'], 'ch05');
    assert.equal(e['terminal_type'], 'xterm');
    assert.equal(e['app_version'], '2.1.197');
    assert.equal(e['request_id'], 'req_fake_1');
  });

  test('timestamp falls back to the record time when event.timestamp is missing or unparseable', async () => {
    await insertLogs([
      logRow(`${D1} 10:00:00.250`, { 'event.name': 'user_prompt', 'session.id': 'a' }),
      logRow(`${D1} 11:00:00.500`, { 'event.name': 'user_prompt', 'session.id': 'b', 'event.timestamp': 'not a time' }),
    ]);
    const r = await rows<{ s: string; ts: string }>('SELECT session_id AS s, toString(timestamp) AS ts FROM telemetry_events ORDER BY s');
    assert.deepEqual(r, [{ s: 'a', ts: `${D1} 10:00:00.250` }, { s: 'b', ts: `${D1} 11:00:00.500` }]);
  });

  test('user_id: resource user_id, else user.email, else user.account_uuid, else user.id', async () => {
    const all = { 'user.email': 'a@b.c', 'user.account_uuid': 'acct-1', 'user.id': 'hash-1' };
    await insertLogs([
      logRow(`${D1} 00:00:01`, { 'event.name': 'user_prompt', 'session.id': '1', ...all }, { user_id: 'alice' }),
      logRow(`${D1} 00:00:02`, { 'event.name': 'user_prompt', 'session.id': '2', ...all }),
      logRow(`${D1} 00:00:03`, { 'event.name': 'user_prompt', 'session.id': '3' }, { 'user.email': 'r@b.c', 'user.id': 'h' }),
      logRow(`${D1} 00:00:04`, { 'event.name': 'user_prompt', 'session.id': '4', 'user.account_uuid': 'acct-2', 'user.id': 'hash-2' }),
      logRow(`${D1} 00:00:05`, { 'event.name': 'user_prompt', 'session.id': '5', 'user.id': 'hash-3' }),
      logRow(`${D1} 00:00:06`, { 'event.name': 'user_prompt', 'session.id': '6' }, { 'user.id': 'hash-4' }),
      logRow(`${D1} 00:00:07`, { 'event.name': 'user_prompt', 'session.id': '7' }),
    ]);
    const r = await rows<{ s: string; u: string }>('SELECT session_id AS s, toString(user_id) AS u FROM telemetry_events ORDER BY s');
    assert.deepEqual(r.map((x) => x.u), ['alice', 'a@b.c', 'r@b.c', 'acct-2', 'hash-3', 'hash-4', '']);
  });

  test('error_type for api_error / api_retries_exhausted by status code, and a failed tool_result', async () => {
    const cases: Array<[string, string]> = [
      ['429', 'rate_limit_error'], ['529', 'overloaded_error'], ['500', 'api_error'], ['401', 'authentication_error'],
      ['403', 'permission_error'], ['400', 'invalid_request_error'], ['413', 'request_too_large'], ['', 'connection_error'],
      ['503', 'api_error'], ['404', 'invalid_request_error'], ['undefined', 'connection_error'],
    ];
    await insertLogs(cases.map(([code], i) => logRow(`${D1} 00:00:${String(10 + i)}`, {
      'event.name': 'api_error', 'session.id': `e${String(i).padStart(2, '0')}`, model: 'm', error: `fake ${code} error`, attempt: '1',
      ...(code === '' ? {} : { status_code: code }),
    })));
    await insertLogs([
      logRow(`${D1} 00:01:00`, { 'event.name': 'api_retries_exhausted', 'session.id': 'x1', status_code: '500', total_attempts: '3', error: 'fake 500 api_error' }),
      logRow(`${D1} 00:01:01`, { 'event.name': 'tool_result', 'session.id': 'x2', tool_name: 'Bash', success: 'false', error_type: 'ShellError', error: 'Shell command failed', duration_ms: '28' }),
      logRow(`${D1} 00:01:02`, { 'event.name': 'tool_result', 'session.id': 'x3', tool_name: 'Bash', success: 'true', duration_ms: '5' }),
      logRow(`${D1} 00:01:03`, { 'event.name': 'tool_decision', 'session.id': 'x4', tool_name: 'Bash', decision: 'reject' }),
    ]);
    const r = await rows<{ s: string; t: string; c: number; ok: number; msg: string; att: number }>(
      'SELECT session_id AS s, toString(error_type) AS t, status_code AS c, success AS ok, error_message AS msg, attempt AS att FROM telemetry_events ORDER BY s');
    const errs = r.filter((x) => x.s.startsWith('e'));
    assert.deepEqual(errs.map((x) => x.t), cases.map(([, t]) => t));
    assert.deepEqual(errs.map((x) => x.c), cases.map(([c]) => Number(c) || 0));
    assert.ok(errs.every((x) => x.ok === 0 && x.att === 1));
    assert.equal(errs[0]!.msg, 'fake 429 error');
    const [exhausted, failedTool, okTool, decision] = r.filter((x) => x.s.startsWith('x'));
    assert.deepEqual([exhausted!.t, exhausted!.ok, exhausted!.att], ['api_error', 0, 3]);
    assert.deepEqual([failedTool!.t, failedTool!.ok, failedTool!.msg], ['ShellError', 0, 'Shell command failed']);
    assert.deepEqual([okTool!.t, okTool!.ok], ['', 1]);
    assert.deepEqual([decision!.t, decision!.ok], ['', 1]);
    const [d] = await rows<{ d: string; tool: string }>("SELECT toString(decision) AS d, toString(tool_name) AS tool FROM telemetry_events WHERE session_id = 'x4'");
    assert.deepEqual(d, { d: 'reject', tool: 'Bash' });
  });

  test('chapter_context is the chapter attribute verbatim (record first, then resource)', async () => {
    const odd = ['ch "07" \'quoted\'', '<img src=x onerror=alert(1)>', 'Kapitel 3 — Ärger', ''];
    await insertLogs(odd.map((c, i) => logRow(`${D1} 00:02:0${i}`, { 'event.name': 'user_prompt', 'session.id': `c${i}`, chapter: c }, { chapter: 'resource-ch' })));
    await insertLogs([logRow(`${D1} 00:02:09`, { 'event.name': 'user_prompt', 'session.id': 'c9', workspace: 'book' }, { chapter: 'ch09' })]);
    const r = await rows<{ c: string; w: string }>('SELECT toString(chapter_context) AS c, toString(workspace) AS w FROM telemetry_events ORDER BY session_id');
    assert.deepEqual(r.map((x) => x.c), [...odd, 'ch09']);
    assert.equal(r[4]!.w, 'book');
  });

  test('records without event.name and chapter_focus records are not events; chapter_focus goes to its own table', async () => {
    await insertLogs([
      logRow(`${D1} 00:03:00`, { foo: 'bar' }),
      logRow(`${D1} 00:03:01`, { 'event.name': 'chapter_focus', chapter: 'ch03', user_id: 'alice', workspace: 'book', file: 'docs/03/x.md' }, {}, 'chapter-telemetry'),
      logRow(`${D1} 00:03:02`, { 'event.name': 'user_prompt', 'session.id': 's' }),
    ]);
    assert.deepEqual(await rows('SELECT toString(event_type) AS t FROM telemetry_events'), [{ t: 'user_prompt' }]);
    assert.deepEqual(await rows('SELECT toString(timestamp) AS ts, toString(user_id) AS u, chapter, workspace, file FROM chapter_focus'),
      [{ ts: `${D1} 00:03:01.000`, u: 'alice', chapter: 'ch03', workspace: 'book', file: 'docs/03/x.md' }]);
  });
});

describe('events_attributed', () => {
  beforeEach(reset);

  test('focus within 8 hours wins; older focus or none falls back to the terminal tag, else none', async () => {
    const focus = (ts: string, user: string, chapter: string): string =>
      logRow(ts, { 'event.name': 'chapter_focus', chapter, user_id: user, file: 'f.md' }, { user_id: user }, 'chapter-telemetry');
    const ev = (ts: string, user: string, sess: string, chapter?: string): string =>
      logRow(ts, { 'event.name': 'api_request', 'session.id': sess, input_tokens: '1', ...(chapter ? { chapter } : {}) }, { user_id: user, ...(chapter ? { chapter } : {}) });
    await insertLogs([
      focus(`${D2} 09:00:00`, 'alice', 'ch03'),
      focus(`${D2} 10:00:00`, 'alice', 'ch05'),
      focus(`${D2} 09:30:00`, 'bob', 'ch09'),
      ev(`${D2} 09:59:59`, 'alice', 'a1', 'ch01'), // latest focus before it: ch03
      ev(`${D2} 10:00:00`, 'alice', 'a2', 'ch01'), // focus at the same instant: ch05
      ev(`${D2} 18:00:00`, 'alice', 'a3', 'ch01'), // exactly 8 h after ch05 focus: still focus
      ev(`${D2} 18:00:01`, 'alice', 'a4', 'ch01'), // more than 8 h: terminal tag
      ev(`${D2} 08:59:59`, 'alice', 'a5', 'ch01'), // before any focus: terminal tag
      ev(`${D2} 08:00:00`, 'alice', 'a6'),          // no focus yet, no tag: none
      ev(`${D2} 10:30:00`, 'carol', 'c1', 'ch02'), // another author's focus never applies
      ev(`${D2} 10:30:00`, 'bob', 'b1'),           // bob's own focus
    ]);
    const r = await rows<{ s: string; chapter: string; src: string; ctx: string }>(
      'SELECT session_id AS s, chapter, chapter_source AS src, toString(chapter_context) AS ctx FROM events_attributed ORDER BY s');
    assert.deepEqual(r.map((x) => [x.s, x.chapter, x.src]), [
      ['a1', 'ch03', 'focus'], ['a2', 'ch05', 'focus'], ['a3', 'ch05', 'focus'], ['a4', 'ch01', 'terminal'],
      ['a5', 'ch01', 'terminal'], ['a6', '', 'none'], ['b1', 'ch09', 'focus'], ['c1', 'ch02', 'terminal'],
    ]);
    // Every telemetry_events column is there too.
    const cols = (await rows<{ name: string }>("SELECT name FROM system.columns WHERE database = 'default' AND table = 'events_attributed' ORDER BY position")).map((c) => c.name);
    const base = (await rows<{ name: string }>("SELECT name FROM system.columns WHERE database = 'default' AND table = 'telemetry_events' ORDER BY position")).map((c) => c.name);
    assert.deepEqual(cols, [...base, 'chapter', 'chapter_source']);
  });
});

describe('session_summaries and daily_metrics', () => {
  beforeEach(reset);

  test('numbers per session and per day × user × chapter × model after OPTIMIZE FINAL, across several inserts', async () => {
    const req = (ts: string, sess: string, chapter: string, model: string, tok: [number, number, number, number], cost: string): string =>
      logRow(ts, { 'event.name': 'api_request', 'session.id': sess, chapter, model, cost_usd: cost,
        input_tokens: String(tok[0]), output_tokens: String(tok[1]), cache_read_tokens: String(tok[2]), cache_creation_tokens: String(tok[3]) }, { user_id: 'alice' });
    const err = (ts: string, sess: string, chapter: string, model: string): string =>
      logRow(ts, { 'event.name': 'api_error', 'session.id': sess, chapter, model, status_code: '429' }, { user_id: 'alice' });
    // Three separate inserts = three parts per rollup until they merge.
    await insertLogs([req(`${D3} 10:00:00`, 's1', 'ch01', 'opus', [10, 20, 30, 40], '0.5'), err(`${D3} 10:01:00`, 's1', 'ch01', 'opus')]);
    await insertLogs([req(`${D3} 11:00:00`, 's1', 'ch02', 'opus', [1, 2, 3, 4], '0.25'),
      logRow(`${D3} 11:05:00`, { 'event.name': 'user_prompt', 'session.id': 's1', chapter: 'ch02' }, { user_id: 'alice' })]);
    await insertLogs([req(`${D3next} 09:00:00`, 's2', 'ch01', 'haiku', [5, 5, 0, 0], '0.125'), req(`${D3} 12:00:00`, 's1', 'ch01', 'opus', [1, 1, 1, 1], '0.125')]);
    await store.query('OPTIMIZE TABLE default.session_summaries FINAL');
    await store.query('OPTIMIZE TABLE default.daily_metrics FINAL');

    const sessions = await rows('SELECT session_id, toString(user_id) AS user_id, arraySort(groupUniqArrayArray(chapters)) AS chapters, toString(min(first_seen)) AS first_seen, toString(max(last_seen)) AS last_seen, sum(cost_usd) AS cost_usd, sum(tokens) AS tokens, sum(requests) AS requests, sum(errors) AS errors FROM session_summaries GROUP BY user_id, session_id ORDER BY session_id');
    assert.deepEqual(sessions, [
      { session_id: 's1', user_id: 'alice', chapters: ['ch01', 'ch02'], first_seen: `${D3} 10:00:00.000`, last_seen: `${D3} 12:00:00.000`, cost_usd: 0.875, tokens: 100 + 10 + 4, requests: 3, errors: 1 },
      { session_id: 's2', user_id: 'alice', chapters: ['ch01'], first_seen: `${D3next} 09:00:00.000`, last_seen: `${D3next} 09:00:00.000`, cost_usd: 0.125, tokens: 10, requests: 1, errors: 0 },
    ]);
    // After the merge there is one row per key, so even a plain SELECT gives the totals.
    assert.deepEqual(await rows('SELECT count() AS n FROM session_summaries'), [{ n: 2 }]);

    const daily = await rows('SELECT toString(day) AS day, toString(user_id) AS user_id, toString(chapter) AS chapter, toString(model) AS model, sum(cost_usd) AS cost_usd, sum(input_tokens) AS i, sum(output_tokens) AS o, sum(cache_read_tokens) AS cr, sum(cache_creation_tokens) AS cc, sum(requests) AS requests, sum(errors) AS errors FROM daily_metrics GROUP BY day, user_id, chapter, model ORDER BY day, chapter, model');
    assert.deepEqual(daily, [
      { day: `${D3}`, user_id: 'alice', chapter: 'ch01', model: 'opus', cost_usd: 0.625, i: 11, o: 21, cr: 31, cc: 41, requests: 2, errors: 1 },
      { day: `${D3}`, user_id: 'alice', chapter: 'ch02', model: 'opus', cost_usd: 0.25, i: 1, o: 2, cr: 3, cc: 4, requests: 1, errors: 0 },
      { day: `${D3next}`, user_id: 'alice', chapter: 'ch01', model: 'haiku', cost_usd: 0.125, i: 5, o: 5, cr: 0, cc: 0, requests: 1, errors: 0 },
    ]);
    assert.deepEqual(await rows('SELECT count() AS n FROM daily_metrics'), [{ n: 3 }]);
  });
});
