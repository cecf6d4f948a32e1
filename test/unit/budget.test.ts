// Budget evaluation without an engine: the 80 % / 100 % thresholds, the tooltip figures, the local day and
// ISO week periods (roll-over with a controlled clock), per-chapter patterns, and "one notification per period".
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chapterLimit, costLimits, evaluateBudget, weekToDate, isoWeekKey, keepCrossingKeys, newCrossings, parseLimits, periodsAt, stateOf, type BudgetLimits, type Spend,
} from '../../src/core/budget';
import { loadBudget } from '../../src/core/analytics';
import { budgetSpend, chapterSpend, type BoundQuery, type QueryRunner } from '../../src/core/queries';

const none: Spend = { todayUsd: 0, weekUsd: 0, byChapter: [] };
const daily5: BudgetLimits = { dailyUsd: 5, weeklyUsd: 0, chapterUsd: {} };
// Wednesday 2026-11-25, 10:00 local time.
const wed = new Date(2026, 10, 25, 10, 0, 0);

describe('budget thresholds', () => {
  test('below 80 % is ok, from 80 % warning, from 100 % over', () => {
    assert.equal(stateOf(3.99, 5), 'ok');
    assert.equal(stateOf(4.0, 5), 'warning');
    assert.equal(stateOf(4.99, 5), 'warning');
    assert.equal(stateOf(5.0, 5), 'over');
    assert.equal(stateOf(7.5, 5), 'over');
  });

  test('the tooltip reads "$4.10 of $5.00 today" and the state is the worst limit', () => {
    const ev = evaluateBudget({ todayUsd: 4.1, weekUsd: 6, byChapter: [] }, { dailyUsd: 5, weeklyUsd: 30, chapterUsd: {} }, wed);
    assert.equal(ev.state, 'warning');
    assert.deepEqual(ev.statuses.map((s) => s.text), ['$4.10 of $5.00 today', '$6.00 of $30.00 this week']);
    assert.deepEqual(ev.statuses.map((s) => s.state), ['warning', 'ok']);
    assert.deepEqual(ev.crossings, []);
  });

  test('an over limit is listed first and is a crossing keyed by its period', () => {
    const ev = evaluateBudget({ todayUsd: 1, weekUsd: 31, byChapter: [] }, { dailyUsd: 5, weeklyUsd: 30, chapterUsd: {} }, wed);
    assert.equal(ev.state, 'over');
    assert.equal(ev.statuses[0]!.kind, 'weekly');
    assert.deepEqual(ev.crossings.map((c) => c.key), ['weekly:2026-W48']);
  });

  test('no limits: ok with nothing listed; zero, negative and non-numeric settings are off', () => {
    assert.deepEqual(evaluateBudget({ todayUsd: 100, weekUsd: 100, byChapter: [] }, parseLimits(0, -3, null), wed).statuses, []);
    assert.deepEqual(parseLimits('5', undefined, { 'ch': 0, '': 3, 'x': '2', 'y': 2 }), { dailyUsd: 0, weeklyUsd: 0, chapterUsd: { y: 2 } });
  });
});

describe('budget periods', () => {
  test('local day and ISO week (Monday start) around the clock', () => {
    const p = periodsAt(wed);
    assert.equal(p.day.key, '2026-11-25');
    assert.equal(p.day.fromMs, new Date(2026, 10, 25).getTime());
    assert.equal(p.day.toMs, new Date(2026, 10, 26).getTime());
    assert.equal(p.week.key, '2026-W48');
    assert.equal(p.week.fromMs, new Date(2026, 10, 23).getTime(), 'Monday');
    assert.equal(p.week.toMs, new Date(2026, 10, 30).getTime(), 'next Monday');
    // Sunday is the end of the ISO week, not the start of the next.
    assert.equal(periodsAt(new Date(2026, 10, 29, 23, 59)).week.key, '2026-W48');
    assert.equal(periodsAt(new Date(2026, 10, 30, 0, 0)).week.key, '2026-W49');
  });

  test('ISO week-years at the turn of the year', () => {
    assert.equal(isoWeekKey(new Date(2026, 0, 1)), '2026-W01'); // a Thursday
    assert.equal(isoWeekKey(new Date(2027, 0, 1)), '2026-W53'); // a Friday: still the last week of 2026
    assert.equal(isoWeekKey(new Date(2024, 11, 30)), '2025-W01'); // a Monday in the first week of 2025
  });

  test('a notified daily crossing is not repeated the same day, and a new day starts afresh', () => {
    const spendOver: Spend = { ...none, todayUsd: 6 };
    const first = evaluateBudget(spendOver, daily5, wed);
    const notified = newCrossings(first, []).map((c) => c.key);
    assert.deepEqual(notified, ['daily:2026-11-25']);
    // Later the same day, more spend: still over, nothing new to notify.
    const later = evaluateBudget({ ...none, todayUsd: 9 }, daily5, new Date(2026, 10, 25, 23, 59, 59));
    assert.equal(later.state, 'over');
    assert.deepEqual(newCrossings(later, notified), []);
    // Next day: the day's spend starts at zero (the caller's query is windowed by periodsAt): ok again...
    const nextDay = new Date(2026, 10, 26, 0, 0, 1);
    assert.equal(evaluateBudget(none, daily5, nextDay).state, 'ok');
    // ...and crossing again that day is a new crossing.
    assert.deepEqual(newCrossings(evaluateBudget(spendOver, daily5, nextDay), notified).map((c) => c.key), ['daily:2026-11-26']);
    // Yesterday's key is dropped from what is remembered; chapter keys stay.
    assert.deepEqual(keepCrossingKeys([...notified, 'chapter:a:all', 'weekly:2026-W48'], periodsAt(nextDay)), ['chapter:a:all', 'weekly:2026-W48']);
    assert.deepEqual(keepCrossingKeys(['weekly:2026-W48'], periodsAt(new Date(2026, 10, 30))), []);
  });
});

describe('per-chapter limits', () => {
  const limits: BudgetLimits = { dailyUsd: 0, weeklyUsd: 0, chapterUsd: { '^05-': 2, '^0\\d-': 10, '[': 1 } };
  test('first matching pattern in the order written gives the limit; an invalid pattern never matches', () => {
    assert.deepEqual(chapterLimit('05-agents', limits), { pattern: '^05-', limitUsd: 2 });
    assert.deepEqual(chapterLimit('03-prompts', limits), { pattern: '^0\\d-', limitUsd: 10 });
    assert.equal(chapterLimit('appendix', limits), undefined);
    assert.equal(chapterLimit('', { ...limits, chapterUsd: { '.*': 1 } }), undefined, 'no chapter never has a limit');
  });

  test('each chapter is measured against its own limit', () => {
    const ev = evaluateBudget({ ...none, byChapter: [{ chapter: '03-prompts', cost: 8.5 }, { chapter: '05-agents', cost: 2.2 }, { chapter: 'appendix', cost: 50 }] }, limits, wed);
    assert.deepEqual(ev.statuses.map((s) => [s.chapter, s.state, s.text]), [
      ['05-agents', 'over', '$2.20 of $2.00 for chapter 05-agents'],
      ['03-prompts', 'warning', '$8.50 of $10.00 for chapter 03-prompts'],
    ]);
    assert.deepEqual(ev.crossings.map((c) => c.key), ['chapter:05-agents:all']);
  });

  test('a pattern that times out is skipped, not fatal', () => {
    const exec = (re: RegExp) => (re.source === '^05-' ? ('timeout' as const) : null);
    assert.equal(chapterLimit('05-agents', limits, exec), undefined);
  });
});

describe('budget spend queries', () => {
  const EVIL = "ZZ' OR 1=1 --";
  test('values are bound, never in SQL text; every placeholder has a value', () => {
    const p = periodsAt(wed);
    for (const q of [budgetSpend(EVIL, p.day, p.week), chapterSpend(EVIL, p.day.toMs)] as BoundQuery<unknown>[]) {
      assert.ok(!q.sql.includes('ZZ'), q.name);
      assert.ok(!q.sql.includes(String(p.day.fromMs)), q.name);
      const names = new Set([...q.sql.matchAll(/\{(\w+):[^}]+\}/g)].map((m) => m[1]!));
      assert.deepEqual([...names].sort(), Object.keys(q.params).sort(), q.name);
      assert.equal(q.params.user, EVIL);
    }
  });

  test('loadBudget runs only the queries the limits need and evaluates their rows', async () => {
    const ran: string[] = [];
    const run: QueryRunner = {
      async rows<Row>(q: BoundQuery<Row>): Promise<Row[]> {
        ran.push(q.name);
        if (q.name === 'budget.spend') return [{ today: 4.5, week: 4.5 }] as Row[];
        return [{ chapter: '05-agents', cost: 3 }] as Row[];
      },
    };
    const ev = await loadBudget(run, 'me', daily5, wed);
    assert.deepEqual(ran, ['budget.spend']);
    assert.equal(ev.state, 'warning');
    ran.length = 0;
    const ev2 = await loadBudget(run, 'me', { dailyUsd: 0, weeklyUsd: 0, chapterUsd: { agents: 2 } }, wed);
    assert.deepEqual(ran, ['budget.chapters']);
    assert.equal(ev2.state, 'over');
    ran.length = 0;
    assert.equal((await loadBudget(run, 'me', parseLimits(0, 0, {}), wed)).state, 'ok');
    assert.deepEqual(ran, [], 'no limits: no query');
  });
});

describe('what the Cost panel draws', () => {
  test('week-to-date sums restart on Mondays', () => {
    const days = [['2026-11-28', 1], ['2026-11-29', 2], ['2026-11-30', 4], ['2026-12-01', 0.5]].map(([day, cost]) => ({ day: day as string, cost: cost as number }));
    assert.deepEqual(weekToDate(days).map((r) => r.cost), [1, 3, 4, 4.5]);
  });
  test('each listed chapter gets its own limit from its pattern', () => {
    assert.deepEqual(costLimits({ dailyUsd: 5, weeklyUsd: 0, chapterUsd: { '^05-': 2, '.': 9 } }, ['05-agents', '03-x', '']), { dailyUsd: 5, weeklyUsd: 0, chapters: { '05-agents': 2, '03-x': 9 } });
  });
});
