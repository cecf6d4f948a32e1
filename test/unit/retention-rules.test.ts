// The one list of retained tables (src/core/data/retention-rules.ts) against the migrations that create
// the TTLs: every CREATE TABLE with a TTL is in the list with the same expression and class, daily_metrics
// has none; and the retention lines Verify prints from a known view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FOREVER_TABLES, RETAINED_TABLES, ttlDays } from '../../src/core/data/retention-rules';
import { oldestQuery, retentionLines, retentionView } from '../../src/core/data/retention-view';
import { migrationsDir, splitStatements } from '../../src/server/migrations';

function migrationTtls(): Map<string, { expr: string; days: number } | undefined> {
  const out = new Map<string, { expr: string; days: number } | undefined>();
  for (const f of readdirSync(migrationsDir()).filter((n) => n.endsWith('.sql')).sort()) {
    for (const s of splitStatements(readFileSync(join(migrationsDir(), f), 'utf8'))) {
      const name = /CREATE TABLE IF NOT EXISTS default\.(\w+)/.exec(s)?.[1];
      if (!name) continue;
      const ttl = /\bTTL\s+(.+?)\s*\+\s*INTERVAL\s+(\d+)\s+DAY/s.exec(s);
      out.set(name, ttl ? { expr: ttl[1]!.trim(), days: Number(ttl[2]) } : undefined);
    }
  }
  return out;
}

test('the migrations create exactly the TTLs the list names: same tables, same expressions, 90 / 365 days', () => {
  const ttls = migrationTtls();
  const withTtl = [...ttls].filter(([, v]) => v).map(([k]) => k).sort();
  assert.deepEqual(withTtl, RETAINED_TABLES.map((t) => t.table).sort());
  for (const t of RETAINED_TABLES) {
    assert.equal(ttls.get(t.table)!.expr, t.ttlTime, t.table);
    assert.equal(ttls.get(t.table)!.days, t.keep === 'raw' ? 90 : 365, t.table);
  }
  for (const f of FOREVER_TABLES) assert.equal(ttls.get(f.table), undefined, `${f.table} has no TTL`);
});

test('ttlDays reads the days the engine shows and refuses a clause it does not understand', () => {
  assert.equal(ttlDays('CREATE TABLE x (a DateTime) ENGINE = MergeTree ORDER BY a TTL a + toIntervalDay(30) SETTINGS index_granularity = 8192'), 30);
  assert.equal(ttlDays('CREATE TABLE x (a DateTime) ENGINE = MergeTree ORDER BY a SETTINGS index_granularity = 8192'), 0);
  assert.throws(() => ttlDays('CREATE TABLE x ENGINE = MergeTree ORDER BY a TTL a + toIntervalMonth(1)'), /Unrecognised TTL/);
});

test('the view keeps the display order, reads TTL days from the DDL, and prints one line per table', () => {
  const ddl = (days?: number) => `CREATE TABLE t (x DateTime) ENGINE = MergeTree ORDER BY x${days ? ` TTL x + toIntervalDay(${days})` : ''}`;
  const view = retentionView([
    { table: 'daily_metrics', ddl: ddl(), compressed: 2048, disk: 4096, rows: 3 },
    { table: 'telemetry_events', ddl: ddl(30), compressed: 1536, disk: 3000, rows: 12 },
    { table: 'session_summaries', ddl: ddl(60), compressed: 0, disk: 0, rows: 0 },
    { table: 'schema_migrations', ddl: ddl(), compressed: 900, disk: 900, rows: 6 },
  ], [
    { table: 'telemetry_events', n: 12, oldest: Date.UTC(2026, 10, 1, 12) / 1000 },
    { table: 'session_summaries', n: 0, oldest: 0 },
    { table: 'daily_metrics', n: 3, oldest: Date.UTC(2026, 0, 5) / 1000 },
  ]);
  assert.deepEqual(view.map((v) => [v.table, v.days, v.keep, v.compressedBytes, v.oldestSec !== undefined]), [
    ['telemetry_events', 30, 'raw', 1536, true],
    ['session_summaries', 60, 'session', 0, false],
    ['daily_metrics', 0, 'forever', 2048, true],
  ]);
  const lines = retentionLines(view, Date.UTC(2026, 10, 30, 12));
  assert.equal(lines[0], 'Storage and retention (3.5 KiB compressed in 3 tables, UTC days):');
  assert.match(lines[1]!, /telemetry_events +1\.5 KiB compressed, 12 rows; oldest 2026-11-01 \(29 days ago\); kept 30 days \(raw records and events\); the oldest leaves 2026-12-01$/);
  assert.match(lines[2]!, /session_summaries +0 B compressed, 0 rows; no records; kept 60 days \(session summaries\)$/);
  assert.match(lines[3]!, /daily_metrics +2\.0 KiB compressed, 3 rows; oldest 2026-01-05 \(329 days ago\); kept forever \(aggregates\)$/);
});

test('the oldest query names only tables of the fixed lists that exist', () => {
  const q = oldestQuery(['telemetry_events', 'daily_metrics', "x'; DROP TABLE y"])!;
  assert.equal((q.sql.match(/UNION ALL/g) ?? []).length, 1);
  assert.doesNotMatch(q.sql, /DROP/);
  assert.match(q.sql, /min\(toDateTime\(timestamp\)\)/);
  assert.equal(oldestQuery([]), undefined);
});
