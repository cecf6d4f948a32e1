// The query layer's promises that hold without an engine: values never enter SQL text, every
// placeholder is bound, and the pure shaping (days, rates, ranges, CSV, failure words) is right.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as Q from '../../src/core/queries';
import { cacheHitRate, classifyQueryFailure, daysBetween, errorRate, fillDays, midnightMs, resolveRange, toCsv } from '../../src/core/analytics';

const EVIL = "ZZ' OR 1=1 -- <img src=x onerror=alert(1)>";
const f: Q.Filter = { userId: EVIL, scope: 'me', fromMs: 1_700_000_000_000, toMs: 1_700_086_400_000, timeZone: 'Europe/Berlin' };
const all: Q.BoundQuery<unknown>[] = [
  Q.periodTotals(f, { todayMs: 1, d7Ms: 2, d30Ms: 3 }), Q.chapterBoard(f, 2, 1, EVIL), Q.costByModel(f), Q.dailyCost(f),
  Q.watermark(), Q.hasEvents(),
  Q.dailyCostByModel(f), Q.costByChapter(f), Q.dailyTokensByType(f),
  Q.errorsByTypeAndStatus(f), Q.dailyErrorRate(f), Q.topErrorMessages(f, 20), Q.affectedSessions(f, 50), Q.latestOccurrences(f, EVIL, 20),
  Q.chapterPanel(f), Q.chapterSessions(f, EVIL, 50),
];

describe('analytics queries', () => {
  test('no value ever appears in SQL text; it travels as a bound parameter', () => {
    for (const q of all) {
      assert.ok(!q.sql.includes('ZZ'), `${q.name} has the value in its SQL`);
      assert.ok(!q.sql.includes('Europe/Berlin'), `${q.name} has the time zone in its SQL`);
    }
    const withEvil = all.filter((q) => Object.values(q.params).includes(EVIL)).map((q) => q.name);
    assert.ok(withEvil.includes('sidebar.chapterBoard') && withEvil.includes('errors.occurrences') && withEvil.includes('chapters.sessions'));
  });

  test('every {name:Type} placeholder has a value, and every value a placeholder', () => {
    for (const q of all) {
      const names = new Set([...q.sql.matchAll(/\{(\w+):[^}]+\}/g)].map((m) => m[1]!));
      assert.deepEqual([...names].sort(), Object.keys(q.params).sort(), q.name);
    }
  });

  test('scope "all" binds an empty user (everyone), "me" binds the user id', () => {
    assert.equal(Q.filterParams({ ...f, scope: 'all' }).user, '');
    assert.equal(Q.filterParams(f).user, EVIL);
  });

  test('the sidebar totals read one column per metric and period', () => {
    const sql = Q.periodTotals(f, { todayMs: 1, d7Ms: 2, d30Ms: 3 }).sql;
    for (const p of Q.PERIOD_KEYS) for (const c of Q.TOTALS_COLUMNS) assert.match(sql, new RegExp(`AS ${c}_${p}\\b`));
    assert.equal(Q.periodTotals(f, { todayMs: 1, d7Ms: 2, d30Ms: 3 }).params.from_ms, 3, 'the scan starts at the 30-day start');
  });

  test('limits are whole and at least 1', () => {
    assert.equal(Q.topChaptersOf([{ chapter: 'a', list_cost: 1, list_requests: 1, list_tokens: 1, cost: 1, cost_today: 0, requests: 1, tokens: 1, errors: 0, sessions: 0 }], 0).length, 1);
    assert.equal(Q.topErrorMessages(f, 7.9).params.limit, 7);
  });
});

describe('sidebar chapter board', () => {
  const row = (chapter: string, list_cost: number, list_requests: number, cost = list_cost) =>
    ({ chapter, list_cost, list_requests, list_tokens: list_requests * 10, cost, cost_today: 0, requests: list_requests, tokens: 0, errors: 0, sessions: 0 });
  test('top chapters: by list-period cost, ties by name, chapters without requests in the period left out', () => {
    const board = [row('b', 1, 1), row('a', 1, 2), row('old', 0, 0, 5), row('c', 3, 1), row('d', 0.5, 1)];
    assert.deepEqual(Q.topChaptersOf(board, 3).map((r) => r.chapter), ['c', 'a', 'b']);
    assert.deepEqual(Q.topChaptersOf(board, 3)[1], { chapter: 'a', cost: 1, requests: 2, tokens: 20 });
  });
  test('current chapter: its row, or zeros when it has none', () => {
    assert.equal(Q.chapterTotalsOf([row('x', 1, 1, 7)], 'x').cost, 7);
    assert.deepEqual(Q.chapterTotalsOf([row('x', 1, 1)], 'y'), { cost: 0, cost_today: 0, requests: 0, tokens: 0, errors: 0, sessions: 0 });
  });
});

describe('analytics shaping', () => {
  test('days, filled days and ranges in the local zone', () => {
    const now = new Date(2026, 2, 10, 15, 30);
    assert.deepEqual(daysBetween(midnightMs(now, 2), midnightMs(now, -1)), ['2026-03-08', '2026-03-09', '2026-03-10']);
    assert.deepEqual(fillDays(['a', 'b', 'c'], [{ day: 'b', v: 2 }], (day) => ({ day, v: 0 })), [{ day: 'a', v: 0 }, { day: 'b', v: 2 }, { day: 'c', v: 0 }]);
    const r7 = resolveRange({ preset: 7, scope: 'me' }, now);
    assert.deepEqual([r7.days.length, r7.days[0], r7.days[6]], [7, '2026-03-04', '2026-03-10']);
    assert.equal(r7.toMs, new Date(2026, 2, 11).getTime());
    const rc = resolveRange({ preset: 'custom', fromDay: '2026-02-27', toDay: '2026-02-25', scope: 'me' }, now);
    assert.deepEqual(rc.days, ['2026-02-25', '2026-02-26', '2026-02-27'], 'a reversed custom range is put in order');
    const bad = resolveRange({ preset: 'custom', fromDay: "2026-01-01' --", toDay: '2026-01-02', scope: 'me' }, now);
    assert.equal(bad.days.length, 30, 'a malformed custom range falls back to 30 days');
  });

  test('rates never divide by zero', () => {
    assert.equal(cacheHitRate({ input_tokens: 0, cache_read_tokens: 0, cache_creation_tokens: 0 }), 0);
    assert.equal(cacheHitRate({ input_tokens: 10, cache_read_tokens: 30, cache_creation_tokens: 10 }), 0.6);
    assert.equal(errorRate({ requests: 0, errors: 0 }), 0);
    assert.equal(errorRate({ requests: 3, errors: 1 }), 0.25);
  });

  test('CSV quotes what needs quoting and keeps formulas as text', () => {
    assert.equal(toCsv(['a', 'b'], [['x,y', 1.5], ['say "hi"', 2], ['=HYPERLINK("x")', -1]]),
      'a,b\r\n"x,y",1.5\r\n"say ""hi""",2\r\n"\'=HYPERLINK(""x"")",-1\r\n');
  });

  test('failures are put in words with what to do', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.equal(classifyQueryFailure(refused, 'http://127.0.0.1:1').kind, 'unreachable');
    assert.equal(classifyQueryFailure(new Error('x'), undefined).kind, 'unreachable');
    assert.equal(classifyQueryFailure(Object.assign(new Error('Unknown table expression identifier'), { code: '60' }), 'u').kind, 'schema');
    const other = classifyQueryFailure(new Error('Syntax error'), 'u');
    assert.equal(other.kind, 'query');
    assert.ok(other.message && other.hint);
  });
});

describe('Chapters panel rows', () => {
  const row = (chapter: string, days: Record<string, number>): Q.ChapterPanelRow =>
    ({ chapter, tokens: 1, requests: 1, avg_tokens_per_request: 1, contributors: 1, sessions: 1, cost: 1, days });
  test('one row per chapter and per day with cost (zero kept), ordered by day then chapter in the engine\'s byte order', () => {
    // U+FF21 (fullwidth A) sorts before U+1F4D6 (📖) in UTF-8 bytes, after it in UTF-16 code units.
    const { chapters, dailyCost } = Q.splitChapterPanel([
      row('ch02', { '2026-11-02': 0.5, '2026-11-01': 0 }), row('\u{1F4D6}', { '2026-11-01': 2 }), row('\uFF21', { '2026-11-01': 1 }),
    ]);
    assert.deepEqual(chapters.map((c) => [c.chapter, 'days' in c]), [['ch02', false], ['\u{1F4D6}', false], ['\uFF21', false]]);
    assert.deepEqual(dailyCost, [
      { day: '2026-11-01', chapter: 'ch02', cost: 0 }, { day: '2026-11-01', chapter: '\uFF21', cost: 1 },
      { day: '2026-11-01', chapter: '\u{1F4D6}', cost: 2 }, { day: '2026-11-02', chapter: 'ch02', cost: 0.5 },
    ]);
  });
});
