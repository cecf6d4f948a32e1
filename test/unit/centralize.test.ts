/** The pure side of Centralize Telemetry / Revert to Local (src/core/centralize.ts). */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  assessReliability, centralView, connectionTestRequest, historyProgressText, parseCentralizeArgs, parseHistoryChoice, parseRevertArgs,
  privacyChoices, verifyCentralLine, FAILING_WARN_MS, RELIABLE_MIN_ACTIVE_DAYS, RELIABLE_MIN_EVENTS, type LocalFacts,
} from '../../src/core/centralize';
import { AGGREGATE_EVENT_ATTRIBUTES, CONTENT_ATTRIBUTES, PRIVACY_LEVELS } from '../../src/core/team-privacy';

const NOW = new Date('2026-11-30T12:00:00Z');
const day = (n: number) => new Date(NOW.getTime() - n * 86_400_000);

describe('reliability (step 2)', () => {
  const steady: LocalFacts = { firstEventAt: day(10), lastEventAt: day(0.01), events: 400, activeDays: 6, rejectedExports: 0, apiErrors: 2, diskBytes: 3 * 1024 * 1024 };

  test('a steady store is enough, and its facts are stated', () => {
    const r = assessReliability(steady, NOW);
    assert.equal(r.enough, true);
    assert.deepEqual(r.reasons, []);
    const text = r.facts.join('\n');
    assert.match(text, /Collecting since 2026-11-20 \(10 days\), records on 6 days/);
    assert.match(text, /400 Claude Code records/);
    assert.match(text, /0 refused exports.*2 API errors/);
    assert.match(text, /3\.0 MiB on disk/);
  });

  test('each shortfall is a reason', () => {
    const cases: Array<[Partial<LocalFacts>, RegExp]> = [
      [{ activeDays: RELIABLE_MIN_ACTIVE_DAYS - 1 }, /records on 2 days/],
      [{ events: RELIABLE_MIN_EVENTS - 1 }, /49 records/],
      [{ lastEventAt: day(8) }, /nothing arrived in the last 7 days/],
      [{ rejectedExports: 3 }, /3 exports were refused/],
    ];
    for (const [patch, re] of cases) {
      const r = assessReliability({ ...steady, ...patch }, NOW);
      assert.equal(r.enough, false, JSON.stringify(patch));
      assert.equal(r.reasons.length, 1, JSON.stringify(r.reasons));
      assert.match(r.reasons[0]!, re);
    }
  });

  test('an empty store is not enough and says so', () => {
    const r = assessReliability({ events: 0, activeDays: 0, rejectedExports: 0, apiErrors: 0, diskBytes: 0 }, NOW);
    assert.equal(r.enough, false);
    assert.match(r.facts.join('\n'), /No Claude Code records in the local store yet/);
    assert.match(r.facts.join('\n'), /Last record: never/);
  });
});

describe('privacy choices (step 3)', () => {
  test('one per level, naming the fields each drops or keeps', () => {
    const c = privacyChoices();
    assert.deepEqual(c.map((x) => x.level), [...PRIVACY_LEVELS]);
    const noContent = c.find((x) => x.level === 'no-content')!;
    for (const a of CONTENT_ATTRIBUTES) assert.ok(noContent.detail.includes(a), a);
    const agg = c.find((x) => x.level === 'aggregates-only')!;
    for (const a of AGGREGATE_EVENT_ATTRIBUTES) assert.ok(agg.detail.includes(a), a);
    assert.deepEqual(c.map((x) => x.label), ['Everything', 'No prompts or error text', 'Daily aggregates only']);
  });
});

describe('argument forms', () => {
  test('history: all, none, or a real past date', () => {
    assert.equal(parseHistoryChoice('all', NOW), 'all');
    assert.equal(parseHistoryChoice('none', NOW), 'none');
    assert.equal(parseHistoryChoice('2026-11-01', NOW), '2026-11-01');
    for (const bad of ['2026-02-30', '2027-01-01', '26-11-01', 'yesterday', 5, undefined]) assert.equal(parseHistoryChoice(bad, NOW), undefined, String(bad));
  });

  test('centralize: known fields only, checked types', () => {
    assert.deepEqual(parseCentralizeArgs({ bundle: 'ctteam1.x', privacy: 'no-content', history: 'none' }, NOW), { args: { bundle: 'ctteam1.x', privacy: 'no-content', history: 'none' } });
    assert.deepEqual(parseCentralizeArgs(undefined, NOW), { args: {} });
    assert.match((parseCentralizeArgs({ privacy: 'some' }, NOW) as { error: string }).error, /privacy must be one of/);
    assert.match((parseCentralizeArgs({ bundle: 5 }, NOW) as { error: string }).error, /bundle must be/);
    assert.match((parseCentralizeArgs({ secret: 'x' }, NOW) as { error: string }).error, /Unknown argument field\(s\): secret/);
    assert.match((parseCentralizeArgs('ctteam1.x', NOW) as { error: string }).error, /must be an object/);
    assert.match((parseCentralizeArgs({ history: '2099-01-01' }, NOW) as { error: string }).error, /history must be/);
  });

  test('revert: booleans only', () => {
    assert.deepEqual(parseRevertArgs({ pullBack: false, forgetSecret: true }), { args: { pullBack: false, forgetSecret: true } });
    assert.match((parseRevertArgs({ forgetSecret: 'yes' }) as { error: string }).error, /forgetSecret must be true or false/);
    assert.match((parseRevertArgs({ keep: true }) as { error: string }).error, /Unknown/);
  });
});

describe('connection test record', () => {
  test('carries its marker in session.id and nothing else of the author', () => {
    const req = connectionTestRequest('ct-test-123', NOW, '0.1.0') as { resourceLogs: Array<{ resource: { attributes: Array<{ key: string }> }; scopeLogs: Array<{ logRecords: Array<{ attributes: Array<{ key: string; value: { stringValue: string } }>; timeUnixNano: string }> }> }> };
    const rec = req.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    assert.equal(rec.attributes.find((a) => a.key === 'session.id')?.value.stringValue, 'ct-test-123');
    assert.equal(rec.timeUnixNano, `${NOW.getTime()}000000`);
    // Every attribute survives the strictest level, so the read-back works whatever the team's level.
    for (const a of rec.attributes) assert.ok(AGGREGATE_EVENT_ATTRIBUTES.includes(a.key), a.key);
    assert.deepEqual(req.resourceLogs[0]!.resource.attributes.map((a) => a.key), ['service.name']);
  });
});

describe('progress and state', () => {
  test('history progress reads as records, bytes, rate and time left', () => {
    assert.equal(historyProgressText({ total_rows: 100_000, delivered_rows: 12_000, bytes: 3_250_000, rows_per_s: 5000, eta_s: 17.6 }), '12,000 of 100,000 records (12%) · 3.1 MiB · 5,000 records/s · about 18 s left');
    assert.equal(historyProgressText({ total_rows: 10, delivered_rows: 10, bytes: 900, rows_per_s: 0, eta_s: 0 }), '10 of 10 records (100%) · 900 B');
  });

  test('status bar: Central · team, warning only after a minute of failing', () => {
    const base = { local_rows: 50, delivered_rows: 40, queue_rows: 10, last_delivery_at: '2026-11-30T11:58:00Z' };
    const ok = centralView('Book Team', { state: 'delivering', ...base }, NOW);
    assert.equal(ok.text, '$(cloud) Central · Book Team');
    assert.equal(ok.warning, false);
    assert.ok(ok.tooltip.includes('Queue: 10 records waiting'));
    assert.ok(ok.tooltip.some((l) => l.startsWith('Last delivery: 2 minutes ago')));
    const young = centralView('Book Team', { state: 'failing', ...base, failing_since: new Date(NOW.getTime() - FAILING_WARN_MS + 1000).toISOString(), last_error: 'ECONNREFUSED' }, NOW);
    assert.equal(young.warning, false);
    const old = centralView('Book Team', { state: 'failing', ...base, failing_since: new Date(NOW.getTime() - 5 * 60_000).toISOString(), last_error: 'ECONNREFUSED' }, NOW);
    assert.equal(old.warning, true);
    assert.equal(old.text, '$(warning) Central · Book Team');
    assert.match(old.problem!, /failed for 5 min \(ECONNREFUSED\).*10 records wait in the queue/);
    assert.equal(centralView('$(bug)', undefined, NOW).text, '$(cloud) Central · \\$(bug)');
  });

  test('verify line: local, delivered, queue, lag', () => {
    assert.equal(verifyCentralLine('T', { state: 'idle', local_rows: 5, delivered_rows: 5, queue_rows: 0 }, NOW), 'Central (team T, idle): 5 local records, 5 delivered, 0 in the queue, lag none.');
    assert.equal(verifyCentralLine('T', { state: 'failing', local_rows: 5, delivered_rows: 2, queue_rows: 3, last_delivery_at: '2026-11-30T11:55:00Z' }, NOW), 'Central (team T, failing): 5 local records, 2 delivered, 3 in the queue, lag 5 min.');
  });
});
