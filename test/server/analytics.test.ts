// The analytics query layer against the real embedded server (chDB engine, real migrations), over
// HTTP with @clickhouse/client exactly as the extension runs it. A known dataset goes in through
// OTLP/HTTP JSON; every number the views would show is compared with a hand-computed one.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyQueryFailure, loadChapterSessions, loadChapters, loadCost, loadErrors, loadOccurrences, loadSidebar, midnightMs,
} from '../../src/core/analytics';
import { chapterBoard, chapterTotalsOf, hasEvents, watermark, type Filter } from '../../src/core/queries';
import { httpRunner, type HttpRunner } from '../../src/vscode/webviews/connection';
import { eventually, logsRequest, postOtlp, type EventSpec } from '../support/otlp';
import { freePort } from '../support/ports';
import { startServer, type RunningServer } from '../support/server';

const INJECTION = "x' OR 1=1 --";
const XSS = '<img src=x onerror=alert(1)>';
const now = new Date();
const DAY = 86_400_000;
/** A moment inside local day `daysBack` (0 = today, always before now). */
function at(daysBack: number): number {
  if (daysBack === 0) return midnightMs(now, 0) + Math.floor((now.getTime() - midnightMs(now, 0)) / 2);
  return midnightMs(now, daysBack) + DAY / 2;
}

interface Ev {
  user: string;
  t: number;
  name: string;
  chapter?: string;
  session: string;
  attrs?: Record<string, string | number>;
}
function req(user: string, t: number, session: string, chapter: string, model: string, cost: number, tokens: [number, number, number, number]): Ev {
  const [input, output, cacheRead, cacheCreation] = tokens;
  return { user, t, name: 'api_request', chapter, session, attrs: { model, cost_usd: cost, input_tokens: input, output_tokens: output, cache_read_tokens: cacheRead, cache_creation_tokens: cacheCreation, duration_ms: '20' } };
}

const OPUS = 'claude-opus-4-8';
const SONNET = 'claude-sonnet-4-5';
const events: Ev[] = [
  req('alice', at(0), 's1', 'ch01', OPUS, 0.25, [100, 50, 400, 50]),
  req('alice', at(0) + 1000, 's2', INJECTION, SONNET, 0.05, [10, 5, 0, 0]),
  { user: 'alice', t: at(0) + 2000, name: 'api_error', chapter: 'ch01', session: 's1', attrs: { model: OPUS, error: 'fake 429 rate_limit_error', status_code: 429, attempt: 1, duration_ms: 14 } },
  { user: 'alice', t: at(0) + 3000, name: 'user_prompt', chapter: 'ch01', session: 's5', attrs: { prompt: '<REDACTED>', prompt_length: '6' } },
  req('alice', at(3), 's3', 'ch02', OPUS, 1.0, [1000, 500, 2000, 500]),
  { user: 'alice', t: at(3) + 1000, name: 'api_retries_exhausted', chapter: 'ch02', session: 's3', attrs: { model: OPUS, error: 'fake 500 api_error', status_code: 500, total_attempts: 3 } },
  req('alice', at(10), 's4', 'ch01', SONNET, 0.5, [200, 100, 0, 0]),
  req('alice', at(40), 's6', 'ch01', OPUS, 9.0, [1, 1, 1, 1]),
  req('bob', at(0) + 5000, 's9', 'ch01', OPUS, 2.0, [1, 1, 0, 0]),
  req('bob', at(0) + 6000, 's10', XSS, OPUS, 0.125, [3, 4, 0, 0]),
];
/** Alice focused ch03 an hour before her day-10 request: that request is attributed to ch03, not its terminal tag. */
const focus = { user: 'alice', t: at(10) - 3_600_000, chapter: 'ch03' };

async function send(server: RunningServer): Promise<void> {
  for (const e of events) {
    const spec: EventSpec = {
      name: e.name,
      timeNanos: (BigInt(e.t) * 1_000_000n).toString(),
      attributes: { 'session.id': e.session, 'event.timestamp': new Date(e.t).toISOString(), 'prompt.id': `p-${e.session}`, ...(e.chapter !== undefined ? { chapter: e.chapter } : {}), ...e.attrs },
    };
    const r = await postOtlp(server.otlpHttpUrl, 'logs', JSON.stringify(logsRequest([spec], { 'service.name': 'claude-code', user_id: e.user })), 'application/json');
    assert.equal(r.status, 200, r.body.toString());
  }
  const f = await postOtlp(server.otlpHttpUrl, 'logs', JSON.stringify(logsRequest([{
    name: 'chapter_focus', timeNanos: (BigInt(focus.t) * 1_000_000n).toString(),
    attributes: { chapter: focus.chapter, user_id: focus.user, 'event.timestamp': new Date(focus.t).toISOString() },
  }], { 'service.name': 'chapter-telemetry', user_id: focus.user })), 'application/json');
  assert.equal(f.status, 200, f.body.toString());
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} ≠ ${b}`);

describe('analytics queries over the real server', () => {
  let server: RunningServer;
  let run: HttpRunner;
  const alice = { userId: 'alice', now };

  before(async () => {
    server = await startServer();
    run = httpRunner(server.httpUrl);
  });
  after(async () => {
    await run?.close();
    await server?.stop();
  });

  test('an empty store says so (the sidebar shows the first steps)', async () => {
    assert.equal((await run.rows(hasEvents()))[0]?.n, 0);
    const s = await loadSidebar(run, alice, { chapter: 'ch01' });
    assert.equal(s.empty, true);
    assert.equal(s.periods.d30.cost, 0);
    assert.equal(s.periods.today.cache_hit_rate, 0);
    assert.equal(s.periods.today.error_rate, 0);
    assert.equal(s.sparkline.length, 14);
  });

  test('the dataset arrives through OTLP and the watermark moves', async () => {
    const [before0] = await run.rows(watermark());
    await send(server);
    await eventually(async () => (await run.rows(watermark()))[0]?.events === events.length && (await run.rows(watermark()))[0]?.focus === 1,
      async () => JSON.stringify(await run.rows(watermark())));
    const [after0] = await run.rows(watermark());
    assert.notEqual(JSON.stringify(after0), JSON.stringify(before0));
  });

  test('sidebar totals for today / 7 days / 30 days are the hand-computed ones (alice only)', async () => {
    const s = await loadSidebar(run, alice, { chapter: 'ch01', listPeriod: 'd7', scope: 'me' });
    assert.equal(s.empty, false);
    const t = s.periods;
    close(t.today.cost, 0.30, 'cost today');
    assert.deepEqual([t.today.requests, t.today.input_tokens, t.today.output_tokens, t.today.cache_read_tokens, t.today.cache_creation_tokens, t.today.errors, t.today.sessions], [2, 110, 55, 400, 50, 1, 3]);
    close(t.today.cache_hit_rate, 400 / 560, 'cache hit today');
    close(t.today.error_rate, 1 / 3, 'error rate today');
    close(t.d7.cost, 1.30, 'cost 7d');
    assert.deepEqual([t.d7.requests, t.d7.input_tokens, t.d7.output_tokens, t.d7.cache_read_tokens, t.d7.cache_creation_tokens, t.d7.errors, t.d7.sessions], [3, 1110, 555, 2400, 550, 1, 4]);
    close(t.d30.cost, 1.80, 'cost 30d (the 40-day-old request is outside)');
    assert.deepEqual([t.d30.requests, t.d30.input_tokens, t.d30.sessions], [4, 1310, 5]);
    close(t.d30.cache_hit_rate, 2400 / (1310 + 2400 + 550), 'cache hit 30d');

    assert.deepEqual(s.topChapters.map((r) => [r.chapter, r.requests]), [['ch02', 1], ['ch01', 1], [INJECTION, 1]]);
    close(s.topChapters[0]!.cost, 1.0, 'ch02 cost');
    assert.deepEqual(s.models.map((r) => [r.model, r.requests]), [[OPUS, 2], [SONNET, 1]]);
    close(s.models[0]!.cost, 1.25, 'opus 7d');

    assert.equal(s.sparkline.length, 14);
    const byDay = new Map(s.sparkline.map((r) => [r.day, r]));
    const dayOf = (ms: number) => { const d = new Date(ms); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; };
    close(byDay.get(dayOf(at(0)))!.cost, 0.30, 'sparkline today');
    close(byDay.get(dayOf(at(3)))!.cost, 1.0, 'sparkline 3 days ago');
    close(byDay.get(dayOf(at(10)))!.cost, 0.5, 'sparkline 10 days ago');
    close(s.sparkline.reduce((a, r) => a + r.cost, 0), 1.80, 'sparkline sum');

    assert.equal(s.current?.chapter, 'ch01');
    const c = s.current!.totals;
    close(c.cost, 0.25, 'current chapter cost');
    close(c.cost_today, 0.25, 'current chapter cost today');
    // Sessions count every event in the chapter: s1 (request + error) and s5 (a prompt only).
    assert.deepEqual([c.requests, c.tokens, c.errors, c.sessions], [1, 600, 1, 2]);
  });

  test('the chapter timeline wins over the terminal tag (events_attributed)', async () => {
    const s = await loadSidebar(run, alice, { listPeriod: 'd30', scope: 'me' });
    assert.deepEqual(s.topChapters.map((r) => r.chapter), ['ch02', 'ch03', 'ch01', INJECTION]);
    close(s.topChapters[1]!.cost, 0.5, 'ch03 (focus) cost');
  });

  test('scopes: the whole store by default; "me" keeps alice and counts what it hides (bob\'s two requests)', async () => {
    const all = await loadSidebar(run, alice, { listPeriod: 'd30' });
    assert.equal(all.scope, 'all');
    assert.equal(all.userId, '');
    assert.equal(all.hidden, undefined);
    assert.deepEqual([all.periods.today.requests, all.periods.d30.requests], [4, 6]);
    close(all.periods.d30.cost, 1.80 + 2.125, 'cost 30d, every author');
    const me = await loadSidebar(run, alice, { listPeriod: 'd30', scope: 'me' });
    assert.equal(me.userId, 'alice');
    assert.deepEqual(me.hidden, { requests: 2, errors: 0, authors: 1 });
    // The panels: the same note over their own window; none when nothing is hidden (bob has nothing 40 days back).
    assert.deepEqual((await loadCost(run, alice, { preset: 30, scope: 'me' })).hidden, { requests: 2, errors: 0, authors: 1 });
    assert.deepEqual((await loadErrors(run, { userId: 'bob', now }, { preset: 7, scope: 'me' })).hidden, { requests: 3, errors: 1, authors: 1 });
    assert.equal((await loadChapters(run, alice, { preset: 30, scope: 'all' })).hidden, undefined);
    assert.equal((await loadCost(run, alice, { preset: 'custom', fromDay: '2001-01-01', toDay: '2001-01-02', scope: 'me' })).hidden, undefined);
  });

  test('parameters bind safely: a chapter named like an injection matches only itself', async () => {
    // @clickhouse/client sends param_ values TSV-escaped (a quote becomes backslash-quote), as ClickHouse's HTTP interface parses them.
    for (const v of [INJECTION, "a\\b", 'tab\there', XSS]) {
      const [echo] = await run.rows<{ v: string }>({ name: 'echo', sql: 'SELECT {v:String} AS v', params: { v } });
      assert.equal(echo?.v, v, 'a bound value reaches the engine unchanged');
    }
    const f: Filter = { userId: 'alice', scope: 'me', fromMs: midnightMs(now, 29), toMs: midnightMs(now, -1), timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone };
    const today = midnightMs(now, 0);
    const board = await run.rows(chapterBoard(f, f.fromMs, today, INJECTION));
    const inj = chapterTotalsOf(board, INJECTION);
    close(inj.cost, 0.05, 'injection chapter cost');
    assert.equal(inj.requests, 1);
    assert.ok(inj.sessions > 0, 'sessions are counted for the bound chapter');
    assert.deepEqual(board.filter((r) => r.chapter !== INJECTION && r.sessions > 0), [], '…and for no other chapter');
    const none = await run.rows(chapterBoard(f, f.fromMs, today, "nope' OR '1'='1"));
    assert.deepEqual(none.filter((r) => r.sessions > 0), [], 'an injection-shaped chapter matches nothing');
    const other = await run.rows(chapterBoard({ ...f, userId: "alice' OR '1'='1" }, f.fromMs, today, 'ch01'));
    assert.deepEqual(other, [], 'a user id is bound too');
  });

  test('cost panel: daily cost by model, by chapter, tokens by type; scope "all" adds other authors', async () => {
    const mine = await loadCost(run, alice, { preset: 30, scope: 'me' });
    assert.equal(mine.range.days.length, 30);
    assert.deepEqual(mine.models, [OPUS, SONNET]);
    close(mine.daily.reduce((a, r) => a + r.cost, 0), 1.80, 'daily sum');
    assert.equal(mine.daily.reduce((a, r) => a + r.requests, 0), 4);
    const ch01 = mine.chapters.find((r) => r.chapter === 'ch01')!;
    assert.deepEqual([ch01.requests, ch01.input_tokens, ch01.output_tokens, ch01.cache_read_tokens, ch01.cache_creation_tokens, ch01.tokens], [1, 100, 50, 400, 50, 600]);
    assert.equal(mine.tokens.length, 30);
    assert.equal(mine.tokens.reduce((a, r) => a + r.cache_read_tokens, 0), 2400);

    const all = await loadCost(run, alice, { preset: 7, scope: 'all' });
    assert.equal(all.range.days.length, 7);
    const opusToday = all.daily.filter((r) => r.model === OPUS && r.day === all.range.days[6]);
    close(opusToday.reduce((a, r) => a + r.cost, 0), 0.25 + 2.0 + 0.125, 'opus today, everyone');
    assert.ok(all.chapters.some((r) => r.chapter === XSS), 'the XSS chapter name is returned verbatim, as data');

    const custom = await loadCost(run, alice, { preset: 'custom', fromDay: mine.range.days[26], toDay: mine.range.days[26], scope: 'me' });
    assert.deepEqual(custom.range.days, [mine.range.days[26]]);
    close(custom.daily.reduce((a, r) => a + r.cost, 0), 1.0, 'custom single day = 3 days ago');
  });

  test('errors panel: by type and status, rate, retries exhausted, messages, sessions, occurrences', async () => {
    const e = await loadErrors(run, alice, { preset: 7, scope: 'me' });
    assert.deepEqual(e.byTypeStatus.map((r) => [r.error_type, r.status_code, r.errors]), [['rate_limit_error', '429', 1]]);
    assert.equal(e.retriesExhausted, 1);
    const today = e.rate[6]!;
    assert.deepEqual([today.requests, today.errors], [2, 1]);
    close(today.error_rate, 1 / 3, 'error rate today');
    assert.deepEqual(e.messages.map((r) => [r.error_type, r.error_message, r.errors]).sort(),
      [['api_error', 'fake 500 api_error', 1], ['rate_limit_error', 'fake 429 rate_limit_error', 1]]);
    assert.deepEqual(e.sessions.map((r) => [r.session_id, r.errors, r.retries_exhausted, r.last_chapter]).sort(),
      [['s1', 1, 0, 'ch01'], ['s3', 0, 1, 'ch02']]);
    const occ = await loadOccurrences(run, alice, { preset: 7, scope: 'me' }, 'rate_limit_error');
    assert.equal(occ.length, 1);
    assert.deepEqual([occ[0]!.status_code, occ[0]!.attempt, occ[0]!.chapter, occ[0]!.session_id, occ[0]!.model], ['429', 1, 'ch01', 's1', OPUS]);
    assert.deepEqual(await loadOccurrences(run, alice, { preset: 7, scope: 'me' }, "rate_limit_error' OR '1'='1"), []);
  });

  test('chapters panel: tokens, contributors, average tokens per request, cost, sessions', async () => {
    const c = await loadChapters(run, alice, { preset: 30, scope: 'all' });
    const ch01 = c.chapters.find((r) => r.chapter === 'ch01')!;
    assert.deepEqual([ch01.tokens, ch01.requests, ch01.avg_tokens_per_request, ch01.contributors, ch01.sessions], [602, 2, 301, 2, 2]);
    close(ch01.cost, 2.25, 'ch01 cost, everyone');
    assert.deepEqual(c.chapters.map((r) => r.chapter), ['ch02', 'ch01', 'ch03', INJECTION, XSS]);
    const sessions = await loadChapterSessions(run, alice, { preset: 30, scope: 'all' }, 'ch01');
    assert.deepEqual(sessions.map((r) => [r.session_id, r.author, r.requests, r.errors]).sort(), [['s1', 'alice', 1, 1], ['s5', 'alice', 0, 0], ['s9', 'bob', 1, 0]]);
  });

  test('an unreachable store is classified as such, with what to do', async () => {
    const port = await freePort();
    const dead = httpRunner(`http://127.0.0.1:${port}`);
    try {
      const err = await dead.rows(watermark()).then(() => undefined, (e: unknown) => e);
      assert.ok(err, 'a query to a closed port fails');
      const f = classifyQueryFailure(err, `http://127.0.0.1:${port}`);
      assert.equal(f.kind, 'unreachable');
      assert.match(f.hint, /Start/);
    } finally {
      await dead.close();
    }
    assert.equal(classifyQueryFailure(new Error('no endpoint'), undefined).kind, 'unreachable');
    const bad = await run.rows({ name: 'x', sql: 'SELECT * FROM no_such_table', params: {} }).then(() => undefined, (e: unknown) => e);
    assert.equal(classifyQueryFailure(bad, server.httpUrl).kind, 'schema');
  });
});

