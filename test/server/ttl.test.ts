// Retention on the real chDB engine: rows dated in the past, a forced merge, then a count per
// table. Each TTL removes exactly the rows older than its limit; daily_metrics keeps everything;
// applyRetention changes the limits (and only when they differ).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openChdbStore } from '../../src/server/store/chdb';
import type { Store } from '../../src/server/store/types';
import { applyMigrations, migrationsDir } from '../../src/server/migrations';
import { applyRetention, ttlDays } from '../../src/server/retention';

let store: Store;
let dataDir: string;

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ct-ttl-'));
  store = await openChdbStore(dataDir);
  await applyMigrations(store, migrationsDir());
});
after(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function count(table: string): Promise<number> {
  return Number((await store.query(`SELECT count() FROM default.${table} FORMAT TabSeparated`)).toString().trim());
}
/** 'YYYY-MM-DD HH:MM:SS' for `days` days ago (UTC), at noon so no day boundary is near. */
function ago(days: number): string {
  const d = new Date(Date.now() - days * 86_400_000);
  d.setUTCHours(12, 0, 0, 0);
  return d.toISOString().slice(0, 19).replace('T', ' ');
}
async function insert(table: string, rows: object[]): Promise<void> {
  await store.insertJsonEachRow(table, Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')));
}
const RAW_METRIC_TABLES = ['otel_metrics_sum', 'otel_metrics_gauge', 'otel_metrics_histogram', 'otel_metrics_exponential_histogram', 'otel_metrics_summary'];
const ALL_TABLES = ['otel_logs', ...RAW_METRIC_TABLES, 'otel_traces', 'otel_traces_trace_id_ts', 'telemetry_events', 'events_chapters', 'chapter_focus', 'events_15m', 'session_summaries', 'daily_metrics'];

async function truncateAll(): Promise<void> {
  for (const t of ALL_TABLES) await store.query(`TRUNCATE TABLE default.${t}`);
}
async function optimizeAll(): Promise<void> {
  for (const t of ALL_TABLES) await store.query(`OPTIMIZE TABLE default.${t} FINAL`);
}
async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ALL_TABLES) out[t] = await count(t);
  return out;
}

/** One event + one focus record per age, one metric point per metric table, one span. */
async function insertAged(ages: number[]): Promise<void> {
  await insert('otel_logs', ages.flatMap((d, i) => [
    { Timestamp: ago(d), ServiceName: 'claude-code', ResourceAttributes: { user_id: 'alice' },
      LogAttributes: { 'event.name': 'api_request', 'session.id': `s${i}`, chapter: 'ch01', model: 'm', cost_usd: '1', input_tokens: '10' } },
    { Timestamp: ago(d), ServiceName: 'chapter-telemetry', ResourceAttributes: { user_id: 'alice' },
      LogAttributes: { 'event.name': 'chapter_focus', chapter: 'ch01', user_id: 'alice' } },
  ]));
  for (const t of RAW_METRIC_TABLES) {
    await insert(t, ages.map((d) => ({ TimeUnix: ago(d), StartTimeUnix: ago(d), MetricName: 'claude_code.token.usage', ServiceName: 'claude-code' })));
  }
  await insert('otel_traces', ages.map((d, i) => ({ Timestamp: ago(d), TraceId: `t${i}`, SpanId: `sp${i}`, SpanName: 'claude_code.llm_request', ServiceName: 'claude-code' })));
}

describe('default TTLs', () => {
  test('raw, events and focus keep 90 days; sessions 365 days; daily_metrics forever', async () => {
    await truncateAll();
    // 10 and 80 days: kept everywhere. 120 and 200 days: past 90. 400 days: past 365 too.
    await insertAged([10, 80, 120, 200, 400]);
    await optimizeAll();
    const c = await counts();
    for (const t of ['otel_logs']) assert.equal(c[t], 4, `${t}: 2 events + 2 focus records under 90 days`);
    for (const t of [...RAW_METRIC_TABLES, 'otel_traces', 'otel_traces_trace_id_ts', 'telemetry_events', 'events_chapters', 'chapter_focus', 'events_15m']) {
      assert.equal(c[t], 2, `${t} should keep the 10- and 80-day rows only`);
    }
    assert.equal(c['session_summaries'], 4, 'sessions under 365 days: 10, 80, 120, 200');
    assert.equal(c['daily_metrics'], 5, 'daily_metrics keeps every day');
    const kept = (await store.query("SELECT groupArray(session_id) FROM (SELECT session_id FROM default.telemetry_events ORDER BY session_id) FORMAT TabSeparated")).toString().trim();
    assert.equal(kept, "['s0','s1']");
    const daily = (await store.query('SELECT sum(requests), sum(cost_usd), sum(input_tokens) FROM default.daily_metrics FORMAT TabSeparated')).toString().trim();
    assert.equal(daily, '5\t5\t50');
  });
});

describe('applyRetention', () => {
  test('changes the TTLs, only where they differ, and the new limits remove what they should', async () => {
    const ddl = async (t: string): Promise<string> =>
      (await store.query(`SELECT create_table_query FROM system.tables WHERE database = 'default' AND name = '${t}' FORMAT TabSeparatedRaw`)).toString();
    assert.equal(ttlDays(await ddl('otel_logs')), 90);
    assert.equal(ttlDays(await ddl('session_summaries')), 365);
    assert.equal(ttlDays(await ddl('daily_metrics')), 0);

    assert.deepEqual(await applyRetention(store, { rawDays: 90, sessionDays: 365 }), [], 'defaults already in place');

    const altered = await applyRetention(store, { rawDays: 30, sessionDays: 100 });
    assert.deepEqual(altered.sort(), ['chapter_focus', 'events_15m', 'events_chapters', 'otel_logs', ...RAW_METRIC_TABLES, 'otel_traces', 'otel_traces_trace_id_ts', 'session_summaries', 'telemetry_events'].sort());
    assert.equal(ttlDays(await ddl('telemetry_events')), 30);
    assert.equal(ttlDays(await ddl('session_summaries')), 100);
    assert.equal(ttlDays(await ddl('daily_metrics')), 0, 'daily_metrics stays forever');
    assert.deepEqual(await applyRetention(store, { rawDays: 30, sessionDays: 100 }), []);

    await truncateAll();
    await insertAged([10, 50, 150]);
    await optimizeAll();
    const c = await counts();
    for (const t of [...RAW_METRIC_TABLES, 'otel_traces', 'otel_traces_trace_id_ts', 'telemetry_events', 'events_chapters', 'chapter_focus', 'events_15m']) {
      assert.equal(c[t], 1, `${t} should keep only the 10-day row under a 30-day limit`);
    }
    assert.equal(c['otel_logs'], 2);
    assert.equal(c['session_summaries'], 2, 'sessions of 10 and 50 days under a 100-day limit');
    assert.equal(c['daily_metrics'], 3);

    // 0 = keep forever: the TTL goes away.
    const removed = await applyRetention(store, { rawDays: 0, sessionDays: 0 });
    assert.equal(removed.length, 13);
    assert.equal(ttlDays(await ddl('otel_logs')), 0);
    assert.equal(ttlDays(await ddl('session_summaries')), 0);
    await truncateAll();
    await insertAged([500]);
    await optimizeAll();
    assert.equal(await count('telemetry_events'), 1);
    assert.equal(await count('session_summaries'), 1);
  });

  test('rejects a negative or fractional number of days with a message', async () => {
    await assert.rejects(applyRetention(store, { rawDays: -1, sessionDays: 365 }), /whole number of days/);
    await assert.rejects(applyRetention(store, { rawDays: 90, sessionDays: 1.5 }), /Session retention days must be a whole number/);
  });
});
