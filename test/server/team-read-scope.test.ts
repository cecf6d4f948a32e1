/**
 * The team roles' read lists (src/server/team/read-scope.ts) against the migrated schema in real
 * chDB, so a schema change that the lists do not follow fails here: every table holding members'
 * rows has a member column listed, every table a materialized view fills is listed (a filter on a
 * view's source does not reach its target), and every plain view members may read reads only
 * tables filtered for them, walked through the engine's own resolved tree. Also migration 0007's
 * backfill: the errors already stored land in daily_errors once, a rerun adds nothing, and new
 * errors arrive through the view.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openChdbStore } from '../../src/server/store/chdb';
import type { Store } from '../../src/server/store/types';
import { applyMigrations, listMigrations, migrationsDir, splitStatements } from '../../src/server/migrations';
import { AGGREGATE_TABLES, MEMBER_COLUMNS, MEMBER_VIEWS, readableTables, tableFilters } from '../../src/server/team/read-scope';
import { checkAst, checkKind, checkTree } from '../../src/server/team/read-check';
import { StoreError } from '../../src/server/store/types';

let store: Store;
let root: string;

async function rows(sql: string): Promise<string[][]> {
  const text = (await store.query(sql, { format: 'TSVRaw' })).toString('utf8');
  return text.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

const ts = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString().slice(0, 19).replace('T', ' ');
const errorLog = (user: string, minutesAgo: number, status: string) =>
  ({ Timestamp: ts(minutesAgo), ServiceName: 'claude-code', ResourceAttributes: { user_id: user }, LogAttributes: { 'event.name': 'api_error', 'session.id': `s-${user}`, model: 'm', status_code: status, attempt: '2', error: 'text' } });

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ct-read-scope-'));
  store = await openChdbStore(path.join(root, 'data'));
  // Migrations up to 0006, some errors stored, then the rest (0007 backfills them).
  const early = path.join(root, 'early');
  mkdirSync(early);
  for (const f of listMigrations(migrationsDir()).filter((f) => f < '0007')) copyFileSync(path.join(migrationsDir(), f), path.join(early, f));
  await applyMigrations(store, early);
  await store.insertJsonEachRow('otel_logs', Buffer.from([errorLog('alice', 30, '429'), errorLog('alice', 20, '429'), errorLog('bob', 10, '529')].map((r) => JSON.stringify(r)).join('\n')));
  await applyMigrations(store, migrationsDir());
});
after(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('read lists against the schema', () => {
  test('every table with a member column (user_id or the resource attributes) is listed, and nothing listed is missing', async () => {
    const withMembers = await rows(`SELECT DISTINCT database || '.' || table FROM system.columns WHERE database = 'default' AND name IN ('user_id', 'ResourceAttributes')
      AND (database, table) IN (SELECT database, name FROM system.tables WHERE engine LIKE '%MergeTree') ORDER BY 1`);
    assert.deepEqual(withMembers.map((r) => r[0]), Object.keys(MEMBER_COLUMNS).sort());
    for (const t of AGGREGATE_TABLES) assert.ok(t in MEMBER_COLUMNS, t);
  });

  test('every table a materialized view fills holds members\' rows and is listed, or is one no member reads', async () => {
    const mvs = await rows("SELECT name, create_table_query FROM system.tables WHERE database = 'default' AND engine = 'MaterializedView'");
    assert.ok(mvs.length >= 7);
    for (const [name, ddl] of mvs) {
      const target = /\bTO (\S+)/.exec(ddl!)?.[1]?.replace(/`/g, '');
      assert.ok(target, `${name} writes TO a table`);
      // A Null table (0011's focus_blocks) stores nothing: it only passes a block on to its own views. No member reads it.
      const [[engine]] = await rows(`SELECT engine FROM system.tables WHERE database || '.' || name = '${target}'`);
      if (engine === 'Null') {
        assert.ok(!readableTables('contributor')!.has(target) && !readableTables('coordinator')!.has(target));
        continue;
      }
      if (target === 'default.otel_traces_trace_id_ts') {
        // Trace ids and times only, no member column: refused to contributors and coordinators.
        assert.ok(!readableTables('contributor')!.has(target) && !readableTables('coordinator')!.has(target));
        continue;
      }
      assert.ok(target in MEMBER_COLUMNS, `${name} → ${target} needs a member filter`);
      for (const role of ['contributor', 'coordinator'] as const) assert.ok(!readableTables(role)!.has(`default.${name}`), `${role} may not name ${name}`);
    }
  });

  test('every plain view members read resolves, through the engine\'s own tree, to tables filtered for each role', async () => {
    const views = await rows("SELECT database || '.' || name, as_select FROM system.tables WHERE database = 'default' AND engine = 'View'");
    const viewNames = new Set(views.map((v) => v[0]!));
    for (const v of MEMBER_VIEWS) assert.ok(viewNames.has(v), `${v} exists`);
    const sources = async (view: string, seen = new Set<string>()): Promise<Set<string>> => {
      const select = views.find((v) => v[0] === view)![1]!;
      const tree = (await store.query(`EXPLAIN QUERY TREE ${select}`, { format: 'TSVRaw' })).toString('utf8');
      for (const m of tree.matchAll(/table_name: ([\w.]+)/g)) {
        const t = m[1]!;
        if (seen.has(t)) continue;
        seen.add(t);
        if (viewNames.has(t)) await sources(t, seen);
      }
      assert.doesNotMatch(tree, /table_function_name/, `${view} reads no table function`);
      return seen;
    };
    for (const view of MEMBER_VIEWS) {
      const read = [...(await sources(view))].filter((t) => !viewNames.has(t));
      assert.ok(read.length > 0);
      for (const role of ['contributor', 'coordinator'] as const) {
        const filtered = tableFilters('alice', role);
        for (const t of read) assert.ok(t in filtered || (role === 'coordinator' && AGGREGATE_TABLES.includes(t)), `${view} reads ${t}, unfiltered for ${role}`);
      }
    }
  });

  test('filters: own rows for contributors everywhere, for coordinators in raw tables only, none for the admin; names are quoted', () => {
    assert.equal(tableFilters('alice', 'contributor')['default.daily_metrics'], "user_id = 'alice'");
    assert.equal(tableFilters('alice', 'contributor')['default.otel_logs'], "ResourceAttributes['user_id'] = 'alice'");
    assert.equal(tableFilters('carol', 'coordinator')['default.daily_metrics'], undefined);
    assert.equal(tableFilters('carol', 'coordinator')['default.telemetry_events'], "user_id = 'carol'");
    assert.deepEqual(tableFilters('dana', 'admin'), {});
    assert.equal(readableTables('admin'), undefined);
    assert.equal(tableFilters("o'x\\", 'contributor')['default.chapter_focus'], "user_id = 'o\\'x\\\\'");
  });
});

describe('the checks on engine dumps', () => {
  const rule = { role: 'contributor' as const, readable: readableTables('contributor') };
  const catalogue = { databases: new Set(['default', 'system', 'information_schema']), tables: new Set(['default.daily_metrics', 'default.daily_metrics_mv', 'system.one', 'system.tables']) };
  const denied = (fn: () => void, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof StoreError && e.clickhouseCode === 497 && re.test(e.message));
  const ast = async (sql: string) => (await store.query(`EXPLAIN AST ${sql}`, { format: 'TSVRaw' })).toString('utf8');

  test('AST: materialized views, other databases, table functions but generators, by-name functions', async () => {
    checkAst(await ast('SELECT sum(errors) AS errors FROM daily_metrics AS d WHERE d.user_id IN (SELECT user_id FROM daily_metrics) FORMAT JSON'), rule, catalogue);
    checkAst(await ast('SELECT * FROM numbers(3), generate_series(1, 2) AS g'), rule, catalogue);
    const viaMv = await ast('SELECT (SELECT throwIf(count() > 0) FROM default.daily_metrics_mv)');
    denied(() => checkAst(viaMv, rule, catalogue), /may not read default\.daily_metrics_mv/);
    denied(() => checkAst('TableIdentifier default.daily_metrics_mv (alias x)', rule, catalogue), /may not read default\.daily_metrics_mv/);
    denied(() => checkAst('Identifier DAILY_METRICS_MV', rule, catalogue), /may not read default\.daily_metrics_mv/);
    denied(() => checkAst('Identifier system.whatever', rule, catalogue), /may not read system\.whatever/);
    denied(() => checkAst('Identifier information_schema.tables', rule, catalogue), /may not read information_schema\.tables/);
    denied(() => checkAst(' TableExpression (children 1)\n  Function merge (alias m) (children 1)', rule, catalogue), /merge\(\) is not allowed/);
    denied(() => checkAst(' ExpressionList\n  Function dictGetOrDefault (children 1)', rule, catalogue), /dictGetOrDefault\(\) is not allowed/);
    checkAst(' ExpressionList\n  Function format (children 1)', rule, catalogue);
  });

  test('tree: unlisted tables, the other-queries tables even for the admin, table functions', () => {
    checkTree('TABLE id: 3, alias: __table1, table_name: default.daily_metrics', rule);
    denied(() => checkTree('TABLE id: 3, alias: __table1, table_name: default.schema_migrations', rule), /may not read default\.schema_migrations/);
    denied(() => checkTree('TABLE id: 3, table_name: system.query_log', { role: 'admin', readable: undefined }), /other members' queries/);
    checkTree('TABLE id: 3, table_name: system.tables', { role: 'admin', readable: undefined });
    denied(() => checkTree('TABLE_FUNCTION id: 7, alias: __table3, table_function_name: merge', rule), /merge\(\) is not allowed/);
    denied(() => checkTree('FUNCTION id: 5, function_name: joinGet, function_type: ordinary', rule), /joinGet\(\) is not allowed/);
  });

  test('kinds: members SELECT/WITH only; the admin also SHOW, DESCRIBE of a table, EXISTS', () => {
    assert.equal(checkKind('WITH 1 AS x SELECT x', rule), 'WITH');
    denied(() => checkKind("SHOW TABLES", rule), /SHOW is not allowed for the contributor role/);
    const admin = { role: 'admin' as const, readable: undefined };
    assert.equal(checkKind('DESCRIBE TABLE default.daily_metrics', admin), 'DESCRIBE');
    denied(() => checkKind('DESCRIBE (SELECT 1)', admin), /table by name only/);
    denied(() => checkKind('SHOW FULL PROCESSLIST', admin), /PROCESSLIST/);
    denied(() => checkKind("EXPLAIN SELECT 1", admin), /EXPLAIN is not offered/);
  });
});

describe('migration 0007: daily_errors', () => {
  test('backfills the errors stored before it, once; new errors arrive through the view', async () => {
    const perMember = async () => await rows('SELECT user_id, status_code, sum(errors), sum(attempts) FROM daily_errors GROUP BY user_id, status_code ORDER BY user_id');
    assert.deepEqual(await perMember(), [['alice', '429', '2', '4'], ['bob', '529', '1', '2']]);
    // Run the file again, as the official image's initdb might: nothing doubles.
    for (const stmt of splitStatements(readFileSync(path.join(migrationsDir(), '0007_daily_errors.sql'), 'utf8'))) await store.query(stmt);
    assert.deepEqual(await perMember(), [['alice', '429', '2', '4'], ['bob', '529', '1', '2']]);
    await store.insertJsonEachRow('otel_logs', Buffer.from(JSON.stringify(errorLog('bob', 5, '529'))));
    assert.deepEqual(await perMember(), [['alice', '429', '2', '4'], ['bob', '529', '2', '4']]);
    // No message text in the rollup.
    const cols = await rows("SELECT name FROM system.columns WHERE database = 'default' AND table = 'daily_errors'");
    assert.ok(!cols.some(([c]) => /message|error$|text|prompt/.test(c!)), cols.join());
  });
});
