// The pull-back's record identity (src/core/data/record-identity.ts) on the real engine: a row and the
// copy the team server stores of it — identity stamped, each privacy level applied by the team's own
// code (applyTeamPolicy) — have the same identity; two different events never do; and the SQL form
// of the content-key rule agrees with isContentAttribute for every attribute key Claude Code sends
// (the reference catalogues) and for keys a later version might invent.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openChdbStore } from '../../src/server/store/chdb';
import type { Store } from '../../src/server/store/types';
import { applyMigrations, migrationsDir } from '../../src/server/migrations';
import { CONTENT_KEY_SQL, RECORD_IDENTITY } from '../../src/core/data/record-identity';
import { AGGREGATE_EVENT_ATTRIBUTES, CONTENT_ATTRIBUTES, isContentAttribute, PRIVACY_LEVELS } from '../../src/core/team-privacy';
import { repoRoot } from '../support/server';
import { applyTeamPolicy } from '../../src/server/team/privacy';

/** The reference catalogues of the real CLI beside the repository (../shared/reference), also from a worktree one level down. */
const REFERENCE = [join(repoRoot, '..', 'shared', 'reference'), join(repoRoot, '..', '..', 'shared', 'reference')].find((d) => existsSync(d));

describe('record identity', () => {
  let dir: string;
  let store: Store;
  const q = async (sql: string) => (await store.query(sql, { format: 'TabSeparated' })).toString('utf8').trim();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ct-identity-'));
    store = await openChdbStore(dir);
    await applyMigrations(store, migrationsDir());
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The identity of each JSONEachRow line, as the engine computes it for `table`. */
  async function ids(table: string, lines: string[]): Promise<string[]> {
    // A scratch copy of the table without its deduplication window (two copies with the same bytes are
    // both stored), one insert per line: the block numbers give the order back.
    const scratch = `default._identity_${table}`;
    await store.query(`DROP TABLE IF EXISTS ${scratch}`);
    await store.query(`CREATE TABLE ${scratch} AS default.${table} ENGINE = MergeTree PRIMARY KEY tuple() ORDER BY tuple()`);
    for (const line of lines) await store.query(`INSERT INTO ${scratch} FORMAT JSONEachRow`, { data: Buffer.from(`${line}\n`) });
    const out = (await q(`SELECT ${RECORD_IDENTITY[table]} FROM ${scratch} ORDER BY _block_number`)).split('\n');
    assert.equal(out.length, lines.length);
    return out;
  }

  const log = (seq: number, extra: Record<string, string> = {}) => JSON.stringify({
    Timestamp: '2026-11-30 08:00:00.123456789', ServiceName: 'claude-code', SeverityNumber: 9, Body: 'claude_code.tool_result', TraceId: 'ab', SpanId: 'cd',
    ResourceAttributes: { 'service.name': 'claude-code', 'user.id': 'hash', 'host.arch': 'amd64', user_id: 'local-name' }, ScopeAttributes: { a: 'b' },
    LogAttributes: { 'event.name': 'tool_result', 'event.sequence': String(seq), 'event.timestamp': '2026-11-30T08:00:00.123Z', 'session.id': 's1', 'prompt.id': 'p1',
      tool_name: 'Bash', success: 'false', error: 'ENOENT /home/me/book/ch01.md', tool_parameters: '{"command":"ls"}', full_command: 'ls', duration_ms: '12', user_id: 'local-name', ...extra },
  });

  test('logs: the team\'s copy at every privacy level has the local row\'s identity; another event has another', async () => {
    const original = log(7);
    const copies = PRIVACY_LEVELS.map((privacy) => applyTeamPolicy(new Map([['otel_logs', [original]]]), { member: 'pia', privacy }).rows.get('otel_logs')![0]!);
    assert.notEqual(copies[1], original, 'no-content changed the row');
    const [local, ...team] = await ids('otel_logs', [original, ...copies]);
    for (const [i, id] of team.entries()) assert.equal(id, local, `${PRIVACY_LEVELS[i]}: ${copies[i]}`);
    const [a, b, c] = await ids('otel_logs', [log(7), log(8), log(7, { 'session.id': 's2' })]);
    assert.notEqual(a, b);
    assert.notEqual(a, c);
    // Map order is not identity: the same attributes written in another order.
    const row = JSON.parse(original) as { LogAttributes: Record<string, string> };
    const reversed = JSON.stringify({ ...row, LogAttributes: Object.fromEntries(Object.entries(row.LogAttributes).reverse()) });
    const [x, y] = await ids('otel_logs', [original, reversed]);
    assert.equal(x, y);
  });

  test('metrics: the team\'s copy keeps the identity; another value, time or series does not', async () => {
    const point = (value: number, type = 'input', time = '2026-11-30 08:00:01.000000000') => JSON.stringify({
      ResourceAttributes: { 'service.name': 'claude-code', user_id: 'local-name' }, ServiceName: 'claude-code', MetricName: 'claude_code.token.usage',
      Attributes: { 'session.id': 's1', model: 'claude-sonnet-4-5', type, 'user.id': 'hash', user_id: 'local-name', file_path: '/home/me/book/ch01.md' },
      StartTimeUnix: '2026-11-30 08:00:00.000000000', TimeUnix: time, Value: value,
    });
    const original = point(25);
    const copies = PRIVACY_LEVELS.map((privacy) => applyTeamPolicy(new Map([['otel_metrics_sum', [original]]]), { member: 'pia', privacy }).rows.get('otel_metrics_sum')![0]!);
    const [local, ...team] = await ids('otel_metrics_sum', [original, ...copies, point(26), point(25, 'output'), point(25, 'input', '2026-11-30 08:00:02.000000000')]);
    for (let i = 0; i < copies.length; i++) assert.equal(team[i], local, PRIVACY_LEVELS[i]);
    for (const other of team.slice(copies.length)) assert.notEqual(other, local);
  });

  test('the SQL content-key rule is isContentAttribute, for every key Claude Code sends and invented ones', async () => {
    const keys = new Set<string>(['my_new_prompt', 'stack.message', 'x.output', 'outputs', 'promptly', 'file', 'filename', 'error_type', 'path_count', "it's", ...CONTENT_ATTRIBUTES, ...AGGREGATE_EVENT_ATTRIBUTES]);
    for (const f of REFERENCE ? ['catalog-2.1.197.json', 'catalog-2.1.332.json'] : []) {
      const cat = JSON.parse(readFileSync(join(REFERENCE!, f), 'utf8')) as { resourceAttributes: Record<string, unknown>; events: Record<string, { attributes: Record<string, unknown> }>; metrics: Record<string, { attributeKeys?: string[] | Record<string, unknown> }> };
      for (const k of Object.keys(cat.resourceAttributes)) keys.add(k);
      for (const e of Object.values(cat.events)) for (const k of Object.keys(e.attributes)) keys.add(k);
      for (const mtr of Object.values(cat.metrics)) for (const k of Array.isArray(mtr.attributeKeys) ? mtr.attributeKeys : Object.keys(mtr.attributeKeys ?? {})) keys.add(k);
    }
    const list = [...keys].sort();
    const literal = `[${list.map((k) => `'${k.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(',')}]`;
    const sql = (await q(`SELECT arrayMap(k -> toUInt8(${CONTENT_KEY_SQL}), ${literal})`)).replace(/[[\]]/g, '').split(',').map(Number);
    assert.deepEqual(Object.fromEntries(list.map((k, i) => [k, sql[i] === 1])), Object.fromEntries(list.map((k) => [k, isContentAttribute(k)])));
    assert.ok(list.length > (REFERENCE ? 60 : 40), `${list.length} keys`);
  });
});
