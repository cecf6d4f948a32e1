// Central mode's access SQL (telemetry-server/central/*.sql) against the real engine, as far as the
// engine goes: chDB (clickhouse-local) has no writable access storage, so it refuses CREATE USER /
// ROLE / ROW POLICY, and no ClickHouse server can run on this machine. What runs here:
// - every statement parses with the engine's own parser (formatQuerySingleLine);
// - coverage from the real schema: every table the migrations create with member rows (a user_id
//   column or ResourceAttributes) has policies for each reading role and the writer, and no role
//   may SELECT a table without them;
// - every policy condition, run as a WHERE against the real tables holding two authors' rows
//   (chDB's currentUser() is `default`, so `default` plays the member), selects exactly the
//   member's rows (own) or all rows (permissive).
// NOT exercised: ClickHouse enforcing those policies for a logged-in user (needs a server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openChdbStore } from '../../src/server/store/chdb';
import type { Store } from '../../src/server/store/types';
import { applyMigrations, migrationsDir } from '../../src/server/migrations';
import { centralStatements, memberStatements, CLICKHOUSE_ROLE, WRITER_ROLE } from '../../src/server/team/central-sql';

let store: Store;
let dataDir: string;
/** Tables access.sql names that a later migration creates (issue 9's error rollup, another helper's part). */
const PENDING_TABLES = new Set(['daily_errors']);

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ct-central-'));
  store = await openChdbStore(dataDir);
  await applyMigrations(store, migrationsDir());
});
after(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function rows<T>(sql: string): Promise<T[]> {
  const text = (await store.query(`${sql} FORMAT JSONEachRow`, { settings: { output_format_json_quote_64bit_integers: '0' } })).toString('utf8');
  return text.split('\n').filter((l) => l).map((l) => JSON.parse(l) as T);
}

interface Policy { name: string; table: string; condition: string; roles: string[] }
const POLICY_RE = /^CREATE ROW POLICY OR REPLACE (\w+) ON default\.(\w+) AS PERMISSIVE FOR SELECT USING (.+) TO ([\w, ]+)$/s;
const GRANT_RE = /^GRANT (SELECT(?:, SHOW)?|INSERT, SELECT) ON (default\.[\w*]+) TO ([\w, ]+)$/;

function policies(): Policy[] {
  return centralStatements('access.sql').filter((s) => s.includes('ROW POLICY')).map((s) => {
    const m = POLICY_RE.exec(s.replace(/^(--[^\n]*\n)+/, ''));
    assert.ok(m, `policy statement not in the reviewed shape: ${s}`);
    return { name: m[1]!, table: m[2]!, condition: m[3]!, roles: m[4]!.split(',').map((r) => r.trim()) };
  });
}

function selectGrants(): Map<string, Set<string>> {
  const byRole = new Map<string, Set<string>>();
  for (const s of centralStatements('access.sql').map((x) => x.replace(/^(--[^\n]*\n)+/, ''))) {
    const m = GRANT_RE.exec(s);
    if (!m || !m[1]!.includes('SELECT')) continue;
    for (const r of m[3]!.split(',').map((x) => x.trim())) {
      if (!byRole.has(r)) byRole.set(r, new Set());
      byRole.get(r)!.add(m[2]!.replace('default.', ''));
    }
  }
  return byRole;
}

test('every statement of access.sql and of the filled member templates parses with the engine', async () => {
  const all = [
    ...centralStatements('access.sql'),
    ...memberStatements('member-add.sql', { user: 'alice', role: 'contributor', passwordSha256: 'a'.repeat(64) }),
    ...memberStatements('member-rotate.sql', { user: 'alice', passwordSha256: 'b'.repeat(64) }),
    ...memberStatements('member-remove.sql', { user: 'alice' }),
  ];
  assert.ok(all.length > 40);
  for (const s of all) await assert.doesNotReject(store.normalize(s), s);
  // The engine itself refuses them (no writable access storage): say so, so nobody mistakes a pass above for enforcement.
  await assert.rejects(store.query('CREATE ROLE IF NOT EXISTS ct_probe'), /ACCESS_DENIED|Not enough privileges|access storage/i);
});

test('member templates: values are quoted, nothing is left unfilled, bad values are refused', async () => {
  const add = memberStatements('member-add.sql', { user: 'bob-2', role: 'coordinator', passwordSha256: 'c'.repeat(64) });
  assert.deepEqual(add.map((s) => s.split(' ').slice(0, 3).join(' ')), ['CREATE USER `bob-2`', 'GRANT ct_coordinator TO', 'ALTER USER `bob-2`']);
  assert.match(add[0]!, new RegExp(`sha256_hash BY '${'c'.repeat(64)}' SETTINGS PROFILE 'ct_member_readonly'$`));
  assert.equal(await store.normalize(add[1]!), 'GRANT ct_coordinator TO `bob-2`');
  for (const s of add) assert.doesNotMatch(s, /\{\{|--/);
  assert.throws(() => memberStatements('member-add.sql', { user: 'x`; DROP USER default; --', role: 'admin', passwordSha256: 'c'.repeat(64) }), /not a member name/);
  assert.throws(() => memberStatements('member-add.sql', { user: 'bob', role: 'admin', passwordSha256: "x' OR 1" }), /64 lower-case hex/);
  assert.throws(() => memberStatements('member-add.sql', { user: 'bob' }), /no value for \{\{password_sha256\}\}/);
});

test('coverage from the real schema: every table with member rows has a policy per reading role and the writer; no SELECT grant without policies', async () => {
  const tables = await rows<{ name: string; engine: string; by: string }>(
    `SELECT t.name AS name, t.engine AS engine, any(c.name) AS by FROM system.tables AS t INNER JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
     WHERE t.database = 'default' AND c.name IN ('user_id', 'ResourceAttributes') GROUP BY t.name, t.engine ORDER BY name`);
  // A Null table (0011's focus_blocks) stores nothing and is granted to no role: no rows a policy could scope.
  const stored = tables.filter((t) => !['MaterializedView', 'View', 'Null'].includes(t.engine)).map((t) => t.name);
  assert.ok(stored.length >= 12, `tables with member rows: ${stored.join(', ')}`);
  const ps = policies();
  const schemaTables = new Set((await rows<{ name: string }>("SELECT name FROM system.tables WHERE database = 'default'")).map((r) => r.name));
  for (const p of ps) assert.ok(schemaTables.has(p.table) || PENDING_TABLES.has(p.table), `a policy names ${p.table}, which the schema does not have`);
  const readers = [...Object.values(CLICKHOUSE_ROLE), WRITER_ROLE];
  for (const t of stored) {
    const covered = new Set(ps.filter((p) => p.table === t).flatMap((p) => p.roles));
    for (const r of readers) assert.ok(covered.has(r), `${t}: no policy for ${r}`);
    const own = ps.find((p) => p.table === t && p.roles.includes('ct_contributor'))!;
    assert.match(own.condition, /= currentUser\(\)$/, `${t}: a contributor's policy must compare with currentUser()`);
  }
  // Contributors and coordinators: only tables with their policies, plus the one plain view over them.
  const grants = selectGrants();
  for (const r of ['ct_contributor', 'ct_coordinator']) {
    for (const t of grants.get(r)!) {
      if (t === 'events_attributed') continue;
      assert.ok(ps.some((p) => p.table === t && p.roles.includes(r)), `${r} may SELECT ${t}, which has no policy for it`);
    }
    for (const t of stored) assert.ok(grants.get(r)!.has(t), `${r} cannot read ${t}`);
  }
  // The plain view reads with the caller's rights, over tables that are covered.
  const view = tables.find((t) => t.name === 'events_attributed');
  assert.equal(view?.engine, 'View');
  assert.ok(centralStatements('access.sql').some((s) => s.endsWith('ALTER TABLE default.events_attributed MODIFY SQL SECURITY INVOKER')));
  // Raw and per-event tables: coordinators read their own rows only; aggregates: all rows.
  for (const t of ['otel_logs', 'otel_traces', 'telemetry_events', 'chapter_focus']) {
    assert.ok(ps.some((p) => p.table === t && p.roles.includes('ct_coordinator') && p.condition.includes('currentUser()')), `${t}: coordinator not scoped`);
  }
  for (const t of ['session_summaries', 'daily_metrics', 'events_15m', 'daily_errors']) {
    assert.ok(ps.some((p) => p.table === t && p.roles.includes('ct_coordinator') && p.condition === '1'), `${t}: coordinator does not see the team`);
  }
});

test('access.sql shape: read-only CONST profile on every member role, no system grants, no ALL/ALL EXCEPT policies', () => {
  const sql = centralStatements('access.sql').map((s) => s.replace(/^(--[^\n]*\n)+/, ''));
  const profile = sql.find((s) => s.startsWith('ALTER SETTINGS PROFILE ct_member_readonly'))!;
  assert.match(profile, /readonly = 1 CONST/);
  for (const r of Object.values(CLICKHOUSE_ROLE)) assert.ok(sql.includes(`CREATE ROLE IF NOT EXISTS ${r} SETTINGS PROFILE 'ct_member_readonly'`), r);
  for (const s of sql) {
    assert.doesNotMatch(s, /\bON system\./i, s);
    assert.doesNotMatch(s, /\bTO ALL\b/i, s);
    if (s.startsWith('GRANT')) assert.doesNotMatch(s, /ON \*\.\*/, s);
  }
  assert.ok(memberStatements('member-add.sql', { user: 'a', role: 'admin', passwordSha256: '0'.repeat(64) })[0]!.includes("SETTINGS PROFILE 'ct_member_readonly'"));
});

test('every policy condition, evaluated on the real tables, selects exactly the member\'s rows (own) or every row (all)', async () => {
  const me = (await store.query('SELECT currentUser()', { format: 'TabSeparated' })).toString().trim();
  const now = Date.now();
  const ts = (i: number) => new Date(now - 3_600_000 + i * 1000).toISOString().replace('T', ' ').replace('Z', '');
  const log = (user: string, i: number, event: string, extra: Record<string, string> = {}) => JSON.stringify({
    Timestamp: ts(i), ServiceName: 'claude-code', Body: `claude_code.${event}`,
    ResourceAttributes: { 'service.name': 'claude-code', user_id: user }, ScopeName: 'x',
    LogAttributes: { 'event.name': event, 'session.id': `s-${user}`, model: 'm', cost_usd: '0.5', status_code: event === 'api_error' ? '529' : '', ...extra },
  });
  const lines: string[] = [];
  for (const [u, n] of [[me, 3], ['bob', 5]] as const) {
    for (let i = 0; i < n; i++) {
      lines.push(log(u, i, 'api_request'), log(u, i, 'api_error', { error: 'overloaded' }), log(u, i, 'chapter_focus', { chapter: '01', file: 'docs/a.md' }));
    }
  }
  await store.insertJsonEachRow('otel_logs', Buffer.from(lines.join('\n')));
  const metric = (u: string) => JSON.stringify({ ResourceAttributes: { user_id: u }, ServiceName: 'claude-code', MetricName: 'claude_code.cost.usage', TimeUnix: ts(0), StartTimeUnix: ts(0), Value: 1 });
  await store.insertJsonEachRow('otel_metrics_sum', Buffer.from([metric(me), metric('bob'), metric('bob')].join('\n')));
  const owner = (t: string) => (t.startsWith('otel_') ? "ResourceAttributes['user_id']" : 'toString(user_id)');
  let checked = 0;
  const present = new Set((await rows<{ name: string }>("SELECT name FROM system.tables WHERE database = 'default'")).map((r) => r.name));
  for (const p of policies()) {
    if (!present.has(p.table)) continue;
    const [c] = await rows<{ total: number; mine: number; hit: number; hitMine: number }>(
      `SELECT count() AS total, countIf(${owner(p.table)} = '${me}') AS mine, countIf(${p.condition}) AS hit, countIf((${p.condition}) AND ${owner(p.table)} = '${me}') AS hitMine FROM default.${p.table}`);
    if (['otel_logs', 'otel_metrics_sum', 'telemetry_events', 'chapter_focus', 'session_summaries', 'daily_metrics', 'events_15m'].includes(p.table)) {
      assert.ok(c!.mine > 0 && c!.total > c!.mine, `${p.table}: test rows of two authors expected (${JSON.stringify(c)})`);
    }
    if (p.condition === '1') assert.equal(c!.hit, c!.total, `${p.name} on ${p.table}`);
    else assert.deepEqual([c!.hit, c!.hitMine], [c!.mine, c!.mine], `${p.name} on ${p.table}: ${p.condition}`);
    checked++;
  }
  // 26 policies, 24 on tables the schema has now (daily_errors comes with its migration).
  assert.ok(checked >= 24, `policies evaluated: ${checked}`);
});
