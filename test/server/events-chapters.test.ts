/**
 * Attribution at insert time (issue 12, 0010_events_chapters.sql): events_chapters, read with FINAL,
 * gives every event exactly the chapter and source the ASOF view events_attributed gives it, on the
 * same data, whatever order events and focus records arrive in: focus before its events, focus
 * records arriving late (after the events they cover), out of order, in the same OTLP block as the
 * events, in many small blocks, and in bulk (a history copy). Real chDB, real migrations.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openChdbStore } from '../../src/server/store/chdb';
import type { Store } from '../../src/server/store/types';
import { applyMigrations, migrationsDir } from '../../src/server/migrations';
import { focusRow, insertLogRows, iso } from '../support/focus-rows';

let store: Store;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ct-events-chapters-'));
  store = await openChdbStore(dir);
  await applyMigrations(store, migrationsDir());
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 20, 6, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

/** One otel_logs row: a Claude Code event or the extension's focus record (user_id on the resource). */
function event(user: string, ms: number, n: number, extra: Record<string, string> = {}): object {
  return {
    Timestamp: iso(ms), ServiceName: 'claude-code', ResourceAttributes: { user_id: user },
    LogAttributes: { 'event.name': n % 5 === 4 ? 'api_error' : 'api_request', 'event.timestamp': new Date(ms).toISOString(),
      'session.id': `${user}-s${Math.floor(n / 7)}`, 'event.sequence': String(n), model: 'claude-sonnet-4-5',
      cost_usd: String((n % 13) / 100), input_tokens: String(n * 3), output_tokens: String(n % 11), cache_read_tokens: String(n * 17),
      cache_creation_tokens: String(n % 5), ...extra },
  };
}
const insert = (rows: object[]): Promise<void> => insertLogRows(store, rows);

async function tsv(sql: string, params: Record<string, string> = {}): Promise<string> {
  return (await store.query(sql, { params, format: 'TabSeparated' })).toString('utf8');
}

/** Every event of `users` (its stored columns, chapter and source), from the view and from the table, sorted. */
async function both(users: string[]): Promise<{ view: string; table: string; n: number }> {
  const cols = `toString(user_id), toString(timestamp), toString(event_type), session_id, toString(model), cost_usd, input_tokens,
    output_tokens, cache_read_tokens, cache_creation_tokens, token_count, toString(chapter_context), chapter, chapter_source`;
  const where = `WHERE has(splitByChar(',', {u:String}), toString(user_id))`;
  const params = { u: users.join(',') };
  const view = await tsv(`SELECT ${cols} FROM events_attributed ${where} ORDER BY ALL`, params);
  const table = await tsv(`SELECT ${cols} FROM events_chapters FINAL ${where} ORDER BY ALL`, params);
  return { view, table, n: view.split('\n').filter(Boolean).length };
}

describe('events_chapters equals events_attributed', () => {
  test('focus stored before its events (the usual order)', async () => {
    await insert([focusRow('a1', T0, 'ch01'), focusRow('a1', T0 + 2 * HOUR, 'ch02')]);
    await insert(Array.from({ length: 40 }, (_, i) => event('a1', T0 - HOUR + i * 7 * MIN, i)));
    const r = await both(['a1']);
    assert.equal(r.n, 40);
    assert.match(r.view, /\tch01\tfocus\n/);
    assert.match(r.view, /\tch02\tfocus\n/);
    assert.match(r.view, /\tnone\n/, 'events before the first focus record');
    assert.equal(r.table, r.view);
  });

  test('focus records arriving late, after the events they cover, and out of order', async () => {
    // Events over 12 hours, the terminal tag ch99 on some of them, then the focus records in reverse time order,
    // one export each: every late record moves the events after it (up to the next record, and 8 hours at most).
    await insert(Array.from({ length: 120 }, (_, i) => event('a2', T0 + i * 6 * MIN, i, i % 3 === 0 ? { chapter: 'ch99' } : {})));
    const before = await both(['a2']);
    assert.equal(before.table, before.view);
    assert.doesNotMatch(before.view, /\tfocus\n/);
    const late = [[T0 + 9 * HOUR, 'ch03'], [T0 + 4 * HOUR + 30 * MIN, 'ch02'], [T0 + 30 * MIN, 'ch01'], [T0 + 6 * HOUR, '']] as const;
    for (const [ms, ch] of late) {
      await insert([focusRow('a2', ms, ch)]);
      const r = await both(['a2']);
      assert.equal(r.table, r.view, `after the late focus record at ${iso(ms)}`);
    }
    const r = await both(['a2']);
    for (const ch of ['ch01', 'ch02', 'ch03']) assert.match(r.view, new RegExp(`\\t${ch}\\tfocus\\n`));
    assert.match(r.view, /\tch99\tterminal\n/, 'the empty focus record falls back to the terminal tag');
    // More than 8 hours after ch01's record and before ch02's: no focus.
    assert.equal(r.n, 120);
  });

  test('a focus record between two already-late ones, and one older than everything', async () => {
    await insert([focusRow('a2', T0 + 5 * HOUR, 'ch05')]);
    await insert([focusRow('a2', T0 - 3 * HOUR, 'ch00')]);
    const r = await both(['a2']);
    assert.match(r.view, /\tch05\tfocus\n/);
    assert.equal(r.table, r.view);
  });

  test('focus records and events in the same OTLP block, in either order', async () => {
    const rows: object[] = [];
    for (let i = 0; i < 60; i++) rows.push(event('a3', T0 + i * 5 * MIN, i));
    rows.splice(10, 0, focusRow('a3', T0 + 20 * MIN, 'ch07'));
    rows.push(focusRow('a3', T0 + 3 * HOUR, 'ch08'));
    await insert(rows);
    const r = await both(['a3']);
    assert.match(r.view, /\tch07\tfocus\n/);
    assert.match(r.view, /\tch08\tfocus\n/);
    assert.equal(r.table, r.view);
  });

  test('many authors, shuffled small exports, then a bulk block (a history copy)', async () => {
    // A deterministic shuffle of events and focus records of three authors, sent in exports of 1 to 9 records.
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const all: object[] = [];
    for (const u of ['b1', 'b2', 'b3']) {
      for (let i = 0; i < 150; i++) all.push(event(u, T0 + Math.floor(rnd() * 30 * HOUR), i, rnd() < 0.3 ? { chapter: 'tag' } : {}));
      for (let i = 0; i < 12; i++) all.push(focusRow(u, T0 + Math.floor(rnd() * 30 * HOUR), rnd() < 0.1 ? '' : `ch${i}`));
    }
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    for (let i = 0; i < all.length;) {
      const k = 1 + Math.floor(rnd() * 9);
      await insert(all.slice(i, i + k));
      i += k;
    }
    const r = await both(['b1', 'b2', 'b3']);
    assert.equal(r.n, 450);
    assert.match(r.view, /\tfocus\n/);
    assert.match(r.view, /\tterminal\n/);
    assert.equal(r.table, r.view);

    // The same records again as one block for other authors (what a history copy inserts).
    const bulk = all.map((row) => JSON.parse(JSON.stringify(row).replace(/"b(\d)"/g, '"c$1"').replace(/"b(\d)-s/g, '"c$1-s')) as object);
    await insert(bulk);
    const c = await both(['c1', 'c2', 'c3']);
    assert.equal(c.n, 450);
    assert.equal(c.table, c.view);
    assert.equal(c.table.replace(/\bc(\d)/g, 'b$1'), r.table, 'the same attribution as the small exports');
  });

  test('a history copy: focus records and events each in one INSERT … SELECT of many blocks', async () => {
    // A statement's later blocks do not see what its earlier blocks' views stored until it ends, so Switch
    // Mode's copy (src/stack/migrate-history.ts) sends otel_logs' focus records in one statement and the
    // events in the next; here each split into blocks of 40 rows, blocks in time order and in reverse. The
    // second pair of authors has its events stored first (a store that already held them), focus after.
    let seed = 11;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const blocks = { max_block_size: '40', max_insert_block_size: '40', min_insert_block_size_rows: '0', min_insert_block_size_bytes: '0' };
    for (const [users, order, first] of [[['e1', 'e2'], 'ASC', '='], [['f1', 'f2'], 'DESC', '='], [['g1', 'g2'], 'ASC', '!=']] as const) {
      const rows: object[] = [];
      for (const u of users) {
        for (let i = 0; i < 200; i++) rows.push(event(u, T0 + Math.floor(rnd() * 20 * HOUR), i, rnd() < 0.3 ? { chapter: 'tag' } : {}));
        for (let i = 0; i < 10; i++) rows.push(focusRow(u, T0 + Math.floor(rnd() * 20 * HOUR), `ch${i}`));
      }
      await store.query('CREATE TABLE stage AS otel_logs ENGINE = MergeTree PRIMARY KEY tuple() ORDER BY tuple()');
      await store.insertJsonEachRow('stage', Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')));
      for (const op of [first, first === '=' ? '!=' : '=']) {
        await store.query(`INSERT INTO otel_logs SELECT * FROM stage WHERE LogAttributes['event.name'] ${op} 'chapter_focus' ORDER BY Timestamp ${order}`, { settings: blocks });
      }
      await store.query('DROP TABLE stage');
      const r = await both([...users]);
      assert.equal(r.n, 400);
      assert.match(r.view, /\tfocus\n/);
      assert.equal(r.table, r.view, `${users.join(', ')}: blocks in ${order} time order`);
    }
  });

  test('after merges the table holds one row per event', async () => {
    await store.query('OPTIMIZE TABLE events_chapters FINAL');
    assert.equal(await tsv('SELECT count() FROM events_chapters'), await tsv('SELECT count() FROM telemetry_events'));
    const r = await both(['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1', 'c2', 'c3', 'e1', 'e2', 'f1', 'f2', 'g1', 'g2']);
    assert.equal(r.table, r.view);
  });
});

test('the migration attributes the events stored before it, once', async () => {
  // The store as before 0010, with every event and focus record of the tests above, then 0010 (twice).
  for (const v of ['events_chapters_mv', 'events_chapters_same_block_mv', 'events_chapters_refocus_mv']) await store.query(`DROP VIEW ${v}`);
  await store.query('DROP TABLE events_chapters');
  // 0011 again too: it moves the two focus views 0010 creates behind focus_blocks.
  await store.query("DELETE FROM schema_migrations WHERE version LIKE '0010_%' OR version LIKE '0011_%'");
  await applyMigrations(store, migrationsDir());
  await store.query("DELETE FROM schema_migrations WHERE version LIKE '0010_%' OR version LIKE '0011_%'");
  await applyMigrations(store, migrationsDir());
  assert.match(await tsv("SELECT create_table_query FROM system.tables WHERE name = 'events_chapters_refocus_mv'"), /FROM default\.focus_blocks/);
  assert.equal(await tsv('SELECT count() FROM events_chapters'), await tsv('SELECT count() FROM telemetry_events'));
  const r = await both(['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1', 'c2', 'c3', 'e1', 'e2', 'f1', 'f2', 'g1', 'g2']);
  assert.ok(r.n > 1000);
  assert.equal(r.table, r.view);
});
