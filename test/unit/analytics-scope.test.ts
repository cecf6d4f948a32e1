// The scope chooser's rules without an engine: which scopes a window offers, that a webview cannot
// ask for more, the hidden-rows words, and that the Team queries bind every value and read only
// the team server's aggregate tables (a coordinator is refused raw rows of other members).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as Q from '../../src/core/queries';
import { chooseScope, filterScope, hiddenRowsText, scopeOptions, type ScopeContext } from '../../src/core/analytics';

const local: ScopeContext = { userId: 'jan' };
const contributor: ScopeContext = { userId: 'jan', team: { team: 'press', member: 'alice', role: 'contributor' } };
const coordinator: ScopeContext = { userId: 'jan', team: { team: 'press', member: 'carol', role: 'coordinator' } };

describe('scope choices', () => {
  test('local mode: all authors (first, the default) or only the configured id', () => {
    assert.deepEqual(scopeOptions(local), [
      { scope: 'all', label: 'All authors in this store' },
      { scope: 'me', label: 'Only jan' },
    ]);
    assert.equal(chooseScope(undefined, local), 'all');
  });
  test('central mode: Mine for every member, Team only for coordinators and admins', () => {
    assert.deepEqual(scopeOptions(contributor).map((o) => o.scope), ['all', 'me', 'mine']);
    assert.deepEqual(scopeOptions(coordinator).map((o) => o.scope), ['all', 'me', 'mine', 'team']);
    assert.deepEqual(scopeOptions({ ...coordinator, team: { ...coordinator.team!, role: 'admin' } }).map((o) => o.scope), ['all', 'me', 'mine', 'team']);
    assert.match(scopeOptions(contributor)[2]!.label, /alice/);
  });
  test('a webview cannot choose what the window does not offer', () => {
    assert.equal(chooseScope('team', contributor), 'all');
    assert.equal(chooseScope('mine', local), 'all');
    assert.equal(chooseScope('team', coordinator), 'team');
    assert.equal(chooseScope('me', local), 'me');
    for (const junk of [null, 42, {}, 'ALL', "me' OR 1=1"]) assert.equal(chooseScope(junk, coordinator), 'all');
  });
  test('row filters: one author for me and mine, everyone for all', () => {
    assert.equal(filterScope('me'), 'me');
    assert.equal(filterScope('mine'), 'me');
    assert.equal(filterScope('all'), 'all');
  });
  test('hidden-rows words', () => {
    assert.equal(hiddenRowsText(undefined), undefined);
    assert.equal(hiddenRowsText({ requests: 0, errors: 0, authors: 0 }), undefined);
    assert.equal(hiddenRowsText({ requests: 12, errors: 0, authors: 1 }), '12 requests by another author hidden');
    assert.equal(hiddenRowsText({ requests: 1, errors: 1, authors: 2 }), '1 request and 1 error by 2 other authors hidden');
    assert.equal(hiddenRowsText({ requests: 0, errors: 1234, authors: 3 }), '1,234 errors by 3 other authors hidden');
  });
});

describe('scope queries', () => {
  const EVIL = "ZZ' OR 1=1 --";
  const f: Q.Filter = { userId: EVIL, scope: 'me', fromMs: 1, toMs: 2, timeZone: 'UTC' };
  const range: Q.DayRange = { fromDay: '2026-11-01', toDay: '2026-11-30' };
  const team = [
    Q.teamCostByMember(range), Q.teamDailyCostByMember(range), Q.teamErrorRateByMember(range), Q.teamErrorPatterns(range),
    Q.teamDailyErrors(range), Q.teamErrorsByMember(range), Q.teamChapterComplexity(range), Q.teamChapterByMember(range), Q.teamChapterSessions(range),
  ];
  test('the hidden-rows query counts the other authors: user bound, never in the SQL text', () => {
    const q = Q.hiddenByAuthor(f);
    assert.ok(!q.sql.includes('ZZ'));
    assert.equal(q.params.user, EVIL);
    assert.match(q.sql, /user_id != \{user:String\}/);
    assert.doesNotMatch(q.sql, /user_id = \{user:String\}/);
  });
  test('every placeholder bound, every value used', () => {
    for (const q of [...team, Q.hiddenByAuthor(f)]) {
      const names = new Set([...q.sql.matchAll(/\{(\w+):[^}]+\}/g)].map((m) => m[1]!));
      assert.deepEqual([...names].sort(), Object.keys(q.params).sort(), q.name);
    }
  });
  test('Team queries read only the aggregate tables', () => {
    const AGGREGATES = new Set(['daily_metrics', 'session_summaries', 'daily_errors', 'events_15m']);
    for (const q of team) {
      const tables = [...q.sql.matchAll(/\b(?:FROM|(?<!ARRAY )JOIN)\s+([A-Za-z_][\w.]*)/gi)].map((m) => m[1]!);
      assert.ok(tables.length > 0, q.name);
      for (const t of tables) assert.ok(AGGREGATES.has(t), `${q.name} reads ${t}`);
    }
  });
});
