/**
 * Delete My Data in local mode against the real engine, two authors fed through OTLP: the plan's
 * counts see each author's rows in every table; deleting alice as the writer leaves zero of hers
 * everywhere, bob's counts unchanged, and the rollups equal what the remaining events give (as if
 * alice's rows had never arrived). Anonymous deletion is refused by the endpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';
import { feedAuthor } from '../support/lifecycle-data';
import { planDeletion } from '../../src/core/data/delete-plan';
import { countAuthorRows, deleteAuthorRows } from '../../src/stack/delete-data';

let srv: RunningServer;
serverPerFile(async (s) => {
  srv = s;
  await feedAuthor(srv, 'alice', 1);
  await feedAuthor(srv, 'bob', 2);
});

const byTable = (c: { table: string; count: { rows: number } }[]) => Object.fromEntries(c.map((x) => [x.table, x.count.rows]));

/** Rollups recomputed from the events, per author and day: what daily_metrics and sessions must hold. */
const ROLLUP_CHECKS = [
  [`SELECT user_id, day, round(sum(cost_usd), 6), sum(input_tokens), sum(requests), sum(errors) FROM daily_metrics GROUP BY user_id, day ORDER BY user_id, day`,
    `SELECT user_id, toDate(timestamp) AS day, round(sum(cost_usd), 6), sum(input_tokens), countIf(event_type = 'api_request'), countIf(event_type = 'api_error')
      FROM telemetry_events WHERE event_type IN ('api_request', 'api_error') GROUP BY user_id, day ORDER BY user_id, day`],
  [`SELECT user_id, session_id, round(sum(cost_usd), 6), sum(requests) FROM session_summaries GROUP BY user_id, session_id ORDER BY user_id, session_id`,
    `SELECT user_id, session_id, round(sum(cost_usd), 6), countIf(event_type = 'api_request') FROM telemetry_events WHERE session_id != '' GROUP BY user_id, session_id ORDER BY user_id, session_id`],
  [`SELECT user_id, round(sum(cost_usd), 6), sum(requests), sum(errors), uniqExactMerge(sessions) FROM events_15m GROUP BY user_id ORDER BY user_id`,
    `SELECT user_id, round(sumIf(cost_usd, event_type = 'api_request'), 6), countIf(event_type = 'api_request'), countIf(event_type = 'api_error'), uniqExactIf(session_id, session_id != '') FROM telemetry_events GROUP BY user_id ORDER BY user_id`],
  // The events with their chapters (0010): one row per event, as telemetry_events.
  [`SELECT user_id, count(), round(sum(cost_usd), 6) FROM events_chapters FINAL GROUP BY user_id ORDER BY user_id`,
    `SELECT user_id, count(), round(sum(cost_usd), 6) FROM telemetry_events GROUP BY user_id ORDER BY user_id`],
];

test('counts, delete alice as the writer, all of hers zero, bob untouched, rollups rebuilt without her', async () => {
  const target = { url: srv.httpUrl };
  const alice = planDeletion('alice');
  const bob = planDeletion('bob');
  const aliceBefore = await countAuthorRows(target, alice);
  const bobBefore = await countAuthorRows(target, bob);
  for (const c of aliceBefore) assert.ok(c.count.rows > 0, `alice has rows in ${c.table}`);
  for (const c of bobBefore) assert.ok(c.count.rows > 0, `bob has rows in ${c.table}`);
  const events = aliceBefore.find((c) => c.table === 'telemetry_events')!.count;
  assert.match(events.first, /^2026-11-1[67] /);
  assert.match(events.last, /^2026-11-2[89] /);

  await assert.rejects(deleteAuthorRows(target, alice), /writer credential/);
  // The endpoint itself refuses an anonymous deletion (read-only reader).
  const res = await fetch(`${srv.httpUrl}/?param_user=alice`, { method: 'POST', body: alice.deletes[1]!.sql });
  assert.notEqual(res.status, 200);
  assert.deepEqual(byTable(await countAuthorRows(target, alice)), byTable(aliceBefore));

  const seen: string[] = [];
  await deleteAuthorRows({ ...target, auth: srv.credentials }, alice, (t) => seen.push(t));
  assert.equal(seen.length, aliceBefore.length);

  const aliceAfter = await countAuthorRows(target, alice);
  for (const c of aliceAfter) assert.deepEqual(c.count, { rows: 0, first: '', last: '' }, c.table);
  assert.deepEqual(byTable(await countAuthorRows(target, bob)), byTable(bobBefore));
  for (const [rollup, fromEvents] of ROLLUP_CHECKS) {
    const got = await srv.sql(rollup!);
    assert.ok(!got.includes('alice'));
    assert.ok(got.includes('bob'));
    assert.equal(got, await srv.sql(fromEvents!));
  }
});

test('a plan never puts the author id into SQL text', () => {
  const p = planDeletion("x' OR 1=1 --");
  for (const s of [...p.deletes.map((d) => d.sql), ...p.counts.map((c) => c.countSql)]) {
    assert.ok(!s.includes('OR 1=1'));
    assert.match(s, /\{user:String\}/);
  }
  assert.throws(() => planDeletion('  '), /no author id/);
});
