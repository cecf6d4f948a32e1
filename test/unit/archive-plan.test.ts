// Archive before cleanup without an engine: which tables, the boundary (the TTL's own expression, the
// store's days, now + 7 days), the file names, when to offer (at most once a week, never after "Don't ask
// again", never for nothing), and the first start of an ISO week for the weekly report.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ARCHIVE_HORIZON_DAYS, OFFER_INTERVAL_MS, archiveFileName, archiveRequest, archiveTargets, archiveUntilSec, offerMessage, shouldOfferArchive,
} from '../../src/core/data/archive-plan';
import { planExport } from '../../src/core/data/export-plan';
import { RETAINED_TABLES } from '../../src/core/data/retention-rules';
import { weeklyReportOnStart } from '../../src/core/report/first-start';

const DAY = 86_400_000;
const now = Date.UTC(2026, 10, 30, 8, 6, 45, 500);
const view = RETAINED_TABLES.map((t) => ({ table: t.table, days: t.keep === 'raw' ? 90 : 365 })).concat([{ table: 'daily_metrics', days: 0 }]);

describe('archive plan', () => {
  test('archives every exportable table with a TTL; not the aggregates, the rollup or the trace index; not a table kept forever now', () => {
    const ids = archiveTargets(view).map((t) => t.id);
    assert.deepEqual(ids, ['events', 'focus', 'sessions', 'otel_logs', 'otel_metrics_sum', 'otel_metrics_gauge', 'otel_metrics_histogram',
      'otel_metrics_exponential_histogram', 'otel_metrics_summary', 'otel_traces']);
    const noSessions = archiveTargets(view.map((v) => (v.table === 'session_summaries' ? { ...v, days: 0 } : v)));
    assert.ok(!noSessions.some((t) => t.id === 'sessions'));
    assert.equal(archiveTargets(view).find((t) => t.id === 'sessions')!.days, 365);
  });

  test('the boundary is now + 7 days in whole seconds, compared with the TTL expression plus the store\'s days', () => {
    const until = archiveUntilSec(now);
    assert.equal(until, Math.floor(now / 1000) + ARCHIVE_HORIZON_DAYS * 86_400);
    const t = archiveTargets(view).find((x) => x.id === 'otel_logs')!;
    const plan = planExport(archiveRequest(t, until));
    assert.equal(plan.format, 'parquet');
    assert.match(plan.sql, /WHERE TimestampTime \+ toIntervalDay\(\{ttl_days:UInt32\}\) <= toDateTime\(\{until:UInt32\}\) FORMAT Parquet$/);
    assert.deepEqual(plan.params, { ttl_days: '90', until: String(until) });
    const s = planExport(archiveRequest(archiveTargets(view).find((x) => x.id === 'sessions')!, until));
    assert.match(s.sql, /GROUP BY user_id, session_id\) WHERE toDateTime\(last_seen\) \+ toIntervalDay/);
    assert.match(s.countSql, /^SELECT count\(\) FROM \(SELECT \* FROM/);
  });

  test('a table kept forever or a bad boundary is refused', () => {
    assert.throws(() => planExport({ table: 'daily', format: 'parquet', expiring: { days: 90, untilSec: 1 } }), /kept forever/);
    assert.throws(() => planExport({ table: 'events', format: 'parquet', expiring: { days: 0, untilSec: 1 } }), /whole positive days/);
    assert.throws(() => planExport({ table: 'events', format: 'parquet', expiring: { days: 9.5, untilSec: 1 } }), /whole positive days/);
  });

  test('file names carry the table and the boundary instant', () => {
    const t = archiveTargets(view)[0]!;
    assert.equal(archiveFileName(t, Date.UTC(2026, 11, 7, 8, 6, 45) / 1000), 'events-until-20261207T080645Z.parquet');
  });

  test('offer: only with rows about to expire, at most once a week, never after "Don\'t ask again"', () => {
    assert.equal(shouldOfferArchive({}, 0, now), false);
    assert.equal(shouldOfferArchive({}, 5, now), true);
    assert.equal(shouldOfferArchive({ never: true }, 5, now), false);
    assert.equal(shouldOfferArchive({ lastOfferedMs: now - OFFER_INTERVAL_MS + 1 }, 5, now), false);
    assert.equal(shouldOfferArchive({ lastOfferedMs: now - OFFER_INTERVAL_MS }, 5, now), true);
    assert.equal(shouldOfferArchive({ lastOfferedMs: now + DAY }, 5, now), false, 'a clock a day behind waits');
    assert.equal(shouldOfferArchive({ lastOfferedMs: now + 30 * DAY }, 5, now), true, 'a clock set back by a month does not silence it for a month');
  });

  test('the message counts rows per table and names the day', () => {
    assert.equal(offerMessage([{ id: 'events', rows: 1200 }, { id: 'focus', rows: 0 }, { id: 'otel_logs', rows: 3 }], Date.UTC(2026, 11, 7) / 1000),
      '1,203 records pass their retention by 2026-12-07 and will be removed (events 1,200, otel_logs 3). Archive them as Parquet first?');
  });
});

describe('weekly report on the first start of a week', () => {
  const mon = Date.UTC(2026, 10, 30, 0, 0, 1); // Monday of 2026-W49
  test('first start of a week reports the last full week; a later start that week does not', () => {
    assert.deepEqual(weeklyReportOnStart(undefined, mon).due?.id, '2026-W48');
    assert.equal(weeklyReportOnStart(undefined, mon).current.id, '2026-W49');
    assert.equal(weeklyReportOnStart('2026-W49', mon + 3 * DAY).due, undefined);
    assert.equal(weeklyReportOnStart('2026-W48', mon - 2000).due, undefined, 'Sunday 23:59:59 is still W48');
    assert.equal(weeklyReportOnStart('2026-W48', mon).due?.id, '2026-W48');
  });
  test('across the year boundary and after a skipped week; a clock set back reports nothing', () => {
    assert.equal(weeklyReportOnStart('2026-W52', Date.UTC(2027, 0, 4, 9)).due?.id, '2026-W53');
    assert.equal(weeklyReportOnStart('2026-W45', mon).due?.id, '2026-W48');
    assert.equal(weeklyReportOnStart('2027-W02', mon).due, undefined);
  });
});
