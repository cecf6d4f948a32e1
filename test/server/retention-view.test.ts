// Retention you can see and the archive before cleanup, on a real embedded server: the retention view read
// anonymously (disk from system.parts, oldest record, the TTL's days) equals SQL; the rows counted and
// archived as "expiring within 7 days" are exactly the ones around the boundary; the Parquet files read back
// through the engine hold exactly them; and the engine's own TTL, shortened by the 7 days and forced with a
// merge, removes exactly the archived rows from the row-level TTL tables.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';
import { archiveExpiring, countExpiring, fetchRetentionView } from '../../src/stack/archive-data';
import { archiveUntilSec } from '../../src/core/data/archive-plan';
import { applyRetentionOverHttp } from '../../src/stack/retention-over-http';

let srv: RunningServer;
const out = mkdtempSync(join(tmpdir(), 'ct-archive-'));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Hours relative to the 7-day boundary of a 90-day TTL (now − 83 days): ≤ 0 expires within 7 days. */
const AROUND = { a: -5 * 24, b: -30, c: -2, d: 2, e: 30, f: 78 * 24 };
const EXPIRING = ['a', 'b', 'c'];
let nowMs: number;

serverPerFile(async (s) => {
  srv = s;
  nowMs = Date.now();
  const rows = Object.entries(AROUND).flatMap(([label, h]) => {
    const ts = new Date(nowMs - 83 * DAY + h * HOUR).toISOString().replace('T', ' ').replace('Z', '');
    return [
      { Timestamp: ts, ServiceName: 'claude-code', ResourceAttributes: { user_id: 'alice' },
        LogAttributes: { 'event.name': 'api_request', 'session.id': `s-${label}`, chapter: 'ch01', model: 'm', cost_usd: '1', input_tokens: '10' } },
      { Timestamp: ts, ServiceName: 'chapter-telemetry', ResourceAttributes: { user_id: 'alice' },
        LogAttributes: { 'event.name': 'chapter_focus', chapter: `ch-${label}`, user_id: 'alice' } },
    ];
  });
  await srv.sql(`INSERT INTO otel_logs FORMAT JSONEachRow\n${rows.map((r) => JSON.stringify(r)).join('\n')}`);
  await srv.sql("INSERT INTO daily_metrics (day, user_id, chapter, model, cost_usd) VALUES ('2025-01-06', 'alice', 'ch00', 'm', 2)");
});
after(() => rmSync(out, { recursive: true, force: true }));

const one = async (sql: string) => (await srv.sql(`${sql} FORMAT TSV`)).trim();

test('the retention view (anonymous) equals SQL: compressed bytes and rows of active parts, oldest record, TTL days', async () => {
  const view = await fetchRetentionView({ url: srv.httpUrl });
  const byTable = new Map(view.map((v) => [v.table, v]));
  assert.ok(view.length >= 14, view.map((v) => v.table).join(','));
  for (const v of view) {
    const [bytes, rows] = (await one(`SELECT sum(data_compressed_bytes), sum(rows) FROM system.parts WHERE database = 'default' AND table = '${v.table}' AND active`)).split('\t');
    assert.equal(v.compressedBytes, Number(bytes), v.table);
    assert.equal(v.rows, Number(rows), v.table);
  }
  const oldestLog = Number(await one('SELECT toUnixTimestamp(min(TimestampTime)) FROM otel_logs'));
  assert.equal(byTable.get('otel_logs')!.oldestSec, oldestLog);
  assert.equal(oldestLog, Math.floor((nowMs - 83 * DAY + AROUND.a * HOUR) / 1000));
  assert.equal(byTable.get('telemetry_events')!.oldestSec, Number(await one('SELECT toUnixTimestamp(min(timestamp)) FROM telemetry_events')));
  assert.equal(new Date(byTable.get('daily_metrics')!.oldestSec! * 1000).toISOString().slice(0, 10), await one('SELECT min(day) FROM daily_metrics'));
  assert.equal(byTable.get('otel_traces')!.oldestSec, undefined, 'an empty table has no oldest record');
  assert.ok(byTable.get('telemetry_events')!.compressedBytes > 0);
  assert.deepEqual([byTable.get('telemetry_events')!.days, byTable.get('session_summaries')!.days, byTable.get('daily_metrics')!.days], [90, 365, 0]);
});

test('exactly the rows past the 7-day boundary are counted and archived; the engine\'s TTL then removes exactly them', async () => {
  const until = archiveUntilSec(nowMs);
  const counts = await countExpiring({ url: srv.httpUrl }, until);
  const n = Object.fromEntries(counts.map((c) => [c.id, c.rows]));
  assert.deepEqual(n, { events: 3, focus: 3, sessions: 0, otel_logs: 6, otel_metrics_sum: 0, otel_metrics_gauge: 0, otel_metrics_histogram: 0,
    otel_metrics_exponential_histogram: 0, otel_metrics_summary: 0, otel_traces: 0 });

  const files = await archiveExpiring({ url: srv.httpUrl }, counts, until, out);
  assert.deepEqual(files.map((f) => f.id), ['events', 'focus', 'otel_logs']);
  assert.deepEqual(readdirSync(out).sort(), files.map((f) => f.out.slice(out.length + 1)).sort(), 'no .partial left, nothing else');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const chdb = require('chdb') as typeof import('chdb');
  const read = (file: string, col: string) => chdb.query(`SELECT arraySort(groupArray(${col})) FROM file('${file}', Parquet)`, 'TSV').trim();
  const f = Object.fromEntries(files.map((x) => [x.id, x.out]));
  const want = `['${EXPIRING.map((l) => `s-${l}`).join("','")}']`;
  assert.equal(read(f.events!, 'session_id'), want);
  assert.equal(read(f.focus!, 'chapter'), `['${EXPIRING.map((l) => `ch-${l}`).join("','")}']`);
  assert.equal(read(f.otel_logs!, "if(ServiceName = 'claude-code', LogAttributes['session.id'], LogAttributes['chapter'])"),
    `['${[...EXPIRING.map((l) => `ch-${l}`), ...EXPIRING.map((l) => `s-${l}`)].sort().join("','")}']`);

  // Now the engine decides: a TTL 7 days shorter, applied at once, removes what would go within 7 days.
  await applyRetentionOverHttp({ url: srv.httpUrl, auth: srv.credentials }, { rawDays: 83, sessionDays: 365 });
  for (const t of ['telemetry_events', 'chapter_focus']) await srv.sql(`OPTIMIZE TABLE ${t} FINAL`);
  const kept = await one('SELECT arraySort(groupArray(session_id)) FROM telemetry_events');
  assert.equal(kept, "['s-d','s-e','s-f']");
  assert.equal(await one('SELECT arraySort(groupArray(chapter)) FROM chapter_focus'), "['ch-d','ch-e','ch-f']");
});
