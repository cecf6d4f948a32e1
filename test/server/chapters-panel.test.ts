/**
 * The Chapters panel's one-pass query (issue 12: chapterPanel, events_chapters FINAL with a PREWHERE
 * on the event type, contributors over a hash of the author, cost per day as a map) gives exactly the
 * figures the ASOF view events_attributed gives on the same data: per chapter tokens, requests,
 * contributors, sessions and cost, and the cost per local day and chapter. The data has focus records
 * that arrive before, after (late: stored events are re-attributed, so events_chapters holds
 * superseded rows that FINAL must drop) and in the same block as their events, requests that cost
 * nothing (a day whose sum is 0 must stay a row), events without a session and of other types, and
 * two zones whose days start at different instants (UTC and +05:30). Real chDB, real migrations, the
 * parts left unmerged.
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
import { loadChapters } from '../../src/core/analytics';
import type { BoundQuery, QueryRunner } from '../../src/core/queries';

let store: Store;
let dir: string;
const run: QueryRunner = {
  async rows<Row>(q: BoundQuery<Row>): Promise<Row[]> {
    const params = Object.fromEntries(Object.entries(q.params).map(([k, v]) => [k, String(v)]));
    // As the HTTP endpoint runs a reader's query: in a reader session, with its settings.
    const out = (await store.query(q.sql, { params, format: 'JSONEachRow', identity: 'reader' })).toString('utf8').trim();
    return out ? out.split('\n').map((l) => JSON.parse(l) as Row) : [];
  },
};

// The data spans two months, so two partitions (readers merge FINAL per partition).
const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

function event(user: string, ms: number, n: number, extra: Record<string, string> = {}): object {
  const type = n % 6 === 5 ? 'api_error' : n % 6 === 4 ? 'user_prompt' : 'api_request';
  return {
    Timestamp: iso(ms), ServiceName: 'claude-code', ResourceAttributes: { user_id: user },
    LogAttributes: { 'event.name': type, 'event.timestamp': new Date(ms).toISOString(),
      // Every 9th event has no session; sessions run across chapters and days.
      'session.id': n % 9 === 8 ? '' : `${user}-s${Math.floor(n / 11)}`, 'event.sequence': String(n), model: 'claude-sonnet-4-5',
      // Every 7th request costs nothing.
      cost_usd: n % 7 === 3 ? '0' : String((n % 13) / 100 + 0.01), input_tokens: String(n * 3), output_tokens: String(n % 11),
      cache_read_tokens: String(n * 17), cache_creation_tokens: String(n % 5), ...extra },
  };
}
const insert = (rows: object[]): Promise<void> => insertLogRows(store, rows);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ct-chapters-panel-'));
  store = await openChdbStore(dir);
  await applyMigrations(store, migrationsDir());
  // Superseded rows must still be there when the panel reads (FINAL drops them, not a merge).
  await store.query('SYSTEM STOP MERGES events_chapters');
  const start = NOW - 12 * 24 * HOUR;
  // alice: focus first, then events over 12 days, a few per insert (many small parts).
  for (let d = 0; d < 12; d++) await insert([focusRow('alice', start + d * 24 * HOUR, `ch0${1 + (d % 4)}`)]);
  for (let i = 0; i < 240; i += 30) await insert(Array.from({ length: 30 }, (_, k) => event('alice', start + (i + k) * 70 * MIN, i + k)));
  // bob: events first, his focus records arrive late (re-attributing stored events), out of order.
  await insert(Array.from({ length: 120 }, (_, k) => event('bob', start + k * 2 * HOUR + 17 * MIN, k, { chapter: 'ch09' })));
  await insert([focusRow('bob', start + 100 * HOUR, 'ch02'), focusRow('bob', start + 30 * HOUR, 'ch03')]);
  await insert([focusRow('bob', start + 10 * HOUR, 'ch01')]);
  // carol: focus records and events in the same block, some events 8+ hours after any focus (terminal tag).
  await insert([focusRow('carol', start + 5 * HOUR, 'ch04'),
    ...Array.from({ length: 60 }, (_, k) => event('carol', start + 5 * HOUR + k * 3 * HOUR, k, k % 2 ? { chapter: 'ch05' } : {}))]);
  // dave: a day whose only request (tagged ch07) cost nothing.
  await insert([event('dave', NOW - 3 * 24 * HOUR, 3, { chapter: 'ch07' })]);
  // An event of alice's exactly at a zone's midnight edge, both sides.
  await insert([event('alice', Date.UTC(2026, 11, 1, 18, 30) - 1, 1000), event('alice', Date.UTC(2026, 11, 1, 18, 30), 1006)]);
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The same figures straight from the ASOF view, as the panel showed them before insert-time attribution. */
async function reference(fromMs: number, toMs: number, user: string, tz: string) {
  const params = { from: String(fromMs), to: String(toMs), user, tz };
  const where = `event_type = 'api_request' AND timestamp >= fromUnixTimestamp64Milli({from:Int64})
    AND timestamp < fromUnixTimestamp64Milli({to:Int64}) AND ({user:String} = '' OR user_id = {user:String})`;
  const json = async (sql: string) => (await store.query(sql, { params, format: 'JSONEachRow' })).toString('utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const chapters = await json(`SELECT chapter, toFloat64(sum(token_count)) AS tokens, toFloat64(count()) AS requests,
    toFloat64(uniqExact(user_id)) AS contributors, toFloat64(uniqExactIf(session_id, session_id != '')) AS sessions, toFloat64(sum(cost_usd)) AS cost
    FROM events_attributed WHERE ${where} GROUP BY chapter ORDER BY tokens DESC, chapter ASC`);
  const daily = await json(`SELECT toString(toDate(timestamp, {tz:String})) AS day, chapter, toFloat64(sum(cost_usd)) AS cost
    FROM events_attributed WHERE ${where} GROUP BY day, chapter ORDER BY day, chapter`);
  return { chapters, daily };
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

describe('Chapters panel (one pass over events_chapters) equals the ASOF view', () => {
  test('the data has superseded rows, zero-cost days and three attribution sources', async () => {
    const parts = (await store.query(`SELECT count(), uniqExact(partition) FROM system.parts WHERE active AND database = 'default' AND table = 'events_chapters' FORMAT TSV`)).toString().trim().split('\t').map(Number);
    assert.ok(parts[0]! > 2, 'several unmerged parts');
    assert.equal(parts[1], 2, 'two partitions');
    const setting = (await store.query(`SELECT value FROM system.settings WHERE name = 'do_not_merge_across_partitions_select_final'`, { identity: 'reader' })).toString().trim();
    assert.equal(setting, '1', 'readers merge FINAL per partition');
    const stored = Number((await store.query('SELECT count() FROM events_chapters')).toString().trim());
    const events = Number((await store.query('SELECT count() FROM telemetry_events')).toString().trim());
    assert.ok(stored > events, `late focus records left superseded rows (${stored} rows for ${events} events)`);
    const sources = (await store.query(`SELECT arraySort(groupUniqArray(chapter_source)) FROM events_attributed FORMAT TSV`)).toString().trim();
    assert.equal(sources, `['focus','none','terminal']`);
    // 0012: what the chapter figures read is LZ4, the rest still ZSTD.
    const codecs = (await store.query(`SELECT name, compression_codec FROM system.columns WHERE database = 'default' AND table = 'events_chapters'
      AND name IN ('chapter', 'session_hash', 'timestamp', 'session_id') ORDER BY name FORMAT TSV`)).toString().trim();
    assert.equal(codecs, 'chapter\tCODEC(LZ4)\nsession_hash\tCODEC(LZ4)\nsession_id\tCODEC(ZSTD(3))\ntimestamp\tCODEC(Delta(8), LZ4)');
  });

  for (const tz of ['UTC', 'Asia/Kolkata']) {
    for (const scope of ['all', 'me'] as const) {
      test(`${scope}, days in ${tz}`, async () => {
        const d = await loadChapters(run, { userId: 'alice', now: new Date(NOW), timeZone: tz }, { preset: 30, scope });
        const ref = await reference(d.range.fromMs, d.range.toMs, scope === 'me' ? 'alice' : '', tz);
        assert.ok(ref.chapters.length >= 4, 'several chapters');
        assert.deepEqual(d.chapters.map((r) => r.chapter), ref.chapters.map((r) => r.chapter), 'chapters, in order');
        for (const [i, r] of d.chapters.entries()) {
          const e = ref.chapters[i]!;
          assert.deepEqual([r.tokens, r.requests, r.contributors, r.sessions], [e.tokens, e.requests, e.contributors, e.sessions], r.chapter);
          close(r.cost, e.cost as number, `${r.chapter} cost`);
          close(r.avg_tokens_per_request, (e.tokens as number) / (e.requests as number), `${r.chapter} tokens per request`);
        }
        assert.deepEqual(d.dailyCost.map((r) => [r.day, r.chapter]), ref.daily.map((r) => [r.day, r.chapter]), 'day × chapter rows, in order');
        for (const [i, r] of d.dailyCost.entries()) close(r.cost, ref.daily[i]!.cost as number, `${r.day} ${r.chapter}`);
        if (scope === 'all') assert.ok(ref.daily.some((r) => r.cost === 0), 'a day × chapter whose requests cost nothing is a row');
      });
    }
  }
});
