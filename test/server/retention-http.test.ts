/**
 * Retention settings applied to a running embedded store over ClickHouse HTTP as the writer (what the
 * extension does when the setting changes): the TTLs follow, rows past retention disappear after a
 * forced merge while younger ones stay, applying the same values again alters nothing, 0 removes
 * the TTL, and without the writer credential nothing is changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';
import { applyRetentionOverHttp } from '../../src/stack/retention-over-http';
import { ttlDays } from '../../src/server/retention';

let srv: RunningServer;
serverPerFile((s) => (srv = s));

const ddl = async (t: string) => (await srv.sql(`SELECT create_table_query FROM system.tables WHERE database = 'default' AND name = '${t}' FORMAT TSVRaw`)).trim();
const count = async (sql: string) => Number((await srv.sql(sql)).trim());

test('TTLs follow the settings; rows past them go at the next merge, younger rows stay', async () => {
  await srv.sql(`INSERT INTO telemetry_events (timestamp, event_type, user_id, session_id, cost_usd)
    SELECT now64(3) - toIntervalDay(d), 'api_request', 'alice', concat('s', toString(d)), 0.5 FROM (SELECT arrayJoin([5, 20, 40, 80]) AS d)`);
  await srv.sql(`INSERT INTO session_summaries (user_id, session_id, chapters, first_seen, last_seen, cost_usd, tokens, requests, errors)
    SELECT 'alice', concat('old', toString(d)), [], now64(3) - toIntervalDay(d), now64(3) - toIntervalDay(d), 1, 1, 1, 0 FROM (SELECT arrayJoin([10, 50, 100]) AS d)`);
  assert.equal(await count('SELECT count() FROM telemetry_events'), 4);
  assert.equal(ttlDays(await ddl('telemetry_events')), 90);

  await assert.rejects(applyRetentionOverHttp({ url: srv.httpUrl }, { rawDays: 30, sessionDays: 60 }), /writer credential/);
  const altered = await applyRetentionOverHttp({ url: srv.httpUrl, auth: srv.credentials }, { rawDays: 30, sessionDays: 60 });
  for (const t of ['otel_logs', 'otel_traces', 'telemetry_events', 'chapter_focus', 'events_15m', 'session_summaries']) assert.ok(altered.includes(t), t);
  assert.equal(ttlDays(await ddl('telemetry_events')), 30);
  assert.equal(ttlDays(await ddl('otel_metrics_sum')), 30);
  assert.equal(ttlDays(await ddl('session_summaries')), 60);
  assert.equal(ttlDays(await ddl('daily_metrics')), 0, 'daily aggregates are kept forever');

  for (const t of ['telemetry_events', 'session_summaries']) await srv.sql(`OPTIMIZE TABLE ${t} FINAL`);
  assert.equal(await srv.sql("SELECT groupArray(session_id) FROM (SELECT session_id FROM telemetry_events ORDER BY session_id)"), "['s20','s5']\n");
  assert.equal(await srv.sql("SELECT groupArray(session_id) FROM (SELECT session_id FROM session_summaries GROUP BY session_id ORDER BY session_id)"), "['old10','old50','s20','s40','s5']\n", 'sessions (also those the events fed) older than 60 days are gone');

  assert.deepEqual(await applyRetentionOverHttp({ url: srv.httpUrl, auth: srv.credentials }, { rawDays: 30, sessionDays: 60 }), [], 'same values: nothing altered');
  await applyRetentionOverHttp({ url: srv.httpUrl, auth: srv.credentials }, { rawDays: 0, sessionDays: 60 });
  assert.equal(ttlDays(await ddl('telemetry_events')), 0, '0 = forever');
});
