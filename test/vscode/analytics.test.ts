// The analytics in a real VS Code (code-server + Chromium): the extension starts its embedded server,
// the real Claude Code CLI (fake Anthropic API on loopback) produces telemetry in a few chapters with
// an error, and the numbers read out of the sidebar and panel webviews equal the same SQL run on the
// server's ClickHouse HTTP port. Chapter names with markup and quotes stay text. Screenshots light + dark.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { runClaude } from '../support/claude-cli';
import { launchVSCode, repoRoot, waitForWorkbench, type VSCode } from '../support/codeserver';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { eventually } from '../support/otlp';
import { closeVSCodeAndStack, freeStackPorts, localStackSettings, stackSql } from '../support/local-stack-vscode';
import { dataValue, openFile, openSidebar, runCommand, tableRows, waitWebviewState, webviewFrame } from '../support/vscode-ui';

const AUTHOR = 'e2e-author';
const XSS = '<img src=x onerror=alert(1)>';
const QUOTED = `Tom's "draft"`;
const root = mkdtempSync(join(tmpdir(), 'ct-analytics-e2e-'));
const workspace = join(root, 'book');

let vs: VSCode;
let fake: FakeAnthropic;
let ports: { grpc: number; otlpHttp: number; http: number };
const dialogs: string[] = [];

const sql = (query: string, params: Record<string, string> = {}) => stackSql(ports, query, params);
const num = async (query: string, params: Record<string, string> = {}) => Number(await sql(query, params));

function todayMidnightMs(): number {
  const n = new Date();
  return new Date(n.getFullYear(), n.getMonth(), n.getDate()).getTime();
}

async function claude(chapter: string, prompt = 'say hi'): Promise<void> {
  const r = await runClaude({
    protocol: 'http/json', endpoint: `http://127.0.0.1:${ports.otlpHttp}`, apiUrl: fake.url, prompt,
    resourceAttributes: { user_id: AUTHOR, chapter }, userId: AUTHOR,
  });
  assert.ok(r.code === 0 || r.code === 1, `claude exited ${r.code}: ${r.stderr}`);
}

async function frameWith(page: Page, selector: string): Promise<Frame> {
  return await webviewFrame(page, selector, 60_000);
}

async function assertNoMarkupFromData(f: Frame): Promise<void> {
  assert.equal(await f.locator('img').count(), 0, 'a chapter name became an <img> element');
  const texts = await f.locator('td[data-col="chapter"]').allTextContents();
  assert.ok(texts.some((t) => t.includes(XSS)), `the XSS chapter shows as text (saw ${JSON.stringify(texts)})`);
  assert.ok(texts.some((t) => t.includes(QUOTED)), `the quoted chapter shows as text (saw ${JSON.stringify(texts)})`);
}

describe('analytics in a real VS Code', () => {
  before(async () => {
    ports = await freeStackPorts();
    mkdirSync(join(workspace, 'ch01'), { recursive: true });
    writeFileSync(join(workspace, 'ch01', 'draft.md'), '# Chapter 1\n');
    fake = await startFakeAnthropic();
    vs = await launchVSCode({
      workspace, extensionDevelopmentPath: repoRoot, name: 'analytics',
      settings: {
        'chapterTelemetry.userId': AUTHOR,
        ...localStackSettings(ports, join(root, 'data')),
        'workbench.colorTheme': 'Default Dark Modern',
      },
    });
    vs.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  after(() => closeVSCodeAndStack(vs, { stopCollection: true, fake, root }));

  test('with collection off the sidebar says so and offers Start and Show Logs', async () => {
    await openSidebar(vs.page);
    const side = await frameWith(vs.page, 'body[data-view="sidebar"]');
    await waitWebviewState(side, 'unreachable');
    assert.equal(await side.locator('.failure button', { hasText: 'Start' }).count(), 1);
    assert.equal(await side.locator('.failure button', { hasText: 'Show Logs' }).count(), 1);
    await vs.screenshot('sidebar-unreachable');
  });

  test('after Start the empty store shows the three first steps', async () => {
    const side = await frameWith(vs.page, 'body[data-view="sidebar"]');
    await side.locator('.failure button', { hasText: 'Start' }).click();
    await eventually(async () => (await fetch(`http://127.0.0.1:${ports.http}/ping`).then((r) => r.text(), () => '')) === 'Ok.\n' || false,
      () => vs.output().slice(-3000), 120_000);
    await waitWebviewState(side, 'empty');
    assert.equal(await side.locator('section[data-section="empty"] ol > li').count(), 3);
  });

  test('real Claude Code telemetry appears in the sidebar, equal to SQL on the HTTP port', async () => {
    await claude('ch01');
    await claude('ch01');
    await claude(XSS);
    await claude(QUOTED);
    fake.enqueue({ kind: 'error', status: 429 });
    await claude('ch02');
    await eventually(async () => (await num(`SELECT count() FROM telemetry_events WHERE event_type IN ('api_request','api_error') AND user_id = {u:String}`, { u: AUTHOR })) === 5,
      async () => sql(`SELECT event_type, chapter_context, status_code FROM telemetry_events FORMAT TSV`), 60_000);
    assert.equal(await num(`SELECT count() FROM telemetry_events WHERE chapter_context = {c:String}`, { c: XSS }) > 0, true, 'the XSS chapter name is stored verbatim');

    const side = await frameWith(vs.page, 'body[data-view="sidebar"]');
    await waitWebviewState(side, 'ready');
    const since = String(todayMidnightMs());
    const where = `user_id = {u:String} AND timestamp >= fromUnixTimestamp64Milli({t:Int64})`;
    const p = { u: AUTHOR, t: since };
    const expect = {
      cost: await num(`SELECT sumIf(cost_usd, event_type = 'api_request') FROM telemetry_events WHERE ${where}`, p),
      requests: await num(`SELECT countIf(event_type = 'api_request') FROM telemetry_events WHERE ${where}`, p),
      input_tokens: await num(`SELECT sumIf(input_tokens, event_type = 'api_request') FROM telemetry_events WHERE ${where}`, p),
      cache_read_tokens: await num(`SELECT sumIf(cache_read_tokens, event_type = 'api_request') FROM telemetry_events WHERE ${where}`, p),
      errors: await num(`SELECT countIf(event_type = 'api_error') FROM telemetry_events WHERE ${where}`, p),
      sessions: await num(`SELECT uniqExact(session_id) FROM telemetry_events WHERE ${where}`, p),
    };
    assert.ok(expect.cost > 0 && expect.requests === 4 && expect.errors === 1, JSON.stringify(expect));
    // The sidebar may still show a render from before the last export; it must converge to the SQL by itself.
    const shown = async () => Object.fromEntries(await Promise.all(Object.keys(expect).map(async (k) => [k, await dataValue(side, `td[data-metric="${k}"][data-period="today"]`)] as const)));
    await eventually(async () => {
      const s = await shown();
      return Object.entries(expect).every(([k, v]) => Math.abs(s[k]! - v) < 1e-9);
    }, async () => `sidebar ${JSON.stringify(await shown())}, SQL ${JSON.stringify(expect)}`, 30_000);
    const chapters = await tableRows(side, 'top-chapters');
    const ch01 = await num(`SELECT sum(cost_usd) FROM telemetry_events WHERE event_type = 'api_request' AND chapter_context = 'ch01' AND ${where}`, p);
    assert.ok(Math.abs(Number(chapters.find((r) => r.chapter === 'ch01')?.cost) - ch01) < 1e-9, JSON.stringify(chapters));
    await assertNoMarkupFromData(side);
    await vs.screenshot('sidebar-dark');
  });

  test('a new export shows in the sidebar by itself', async () => {
    const side = await frameWith(vs.page, 'body[data-view="sidebar"]');
    const before0 = await dataValue(side, 'td[data-metric="requests"][data-period="today"]');
    await claude('ch01');
    await eventually(async () => (await dataValue(side, 'td[data-metric="requests"][data-period="today"]')) === before0 + 1,
      async () => `still ${await dataValue(side, 'td[data-metric="requests"][data-period="today"]')}`, 30_000);
  });

  test('the current chapter shows its totals once a chapter file is in focus', async () => {
    await openFile(vs.page, 'ch01/draft.md');
    const side = await frameWith(vs.page, 'body[data-view="sidebar"]');
    await side.locator('[data-section="current"] [data-chapter="ch01"]').waitFor({ timeout: 30_000 });
    const expected = await num(`SELECT countIf(event_type = 'api_request') FROM events_attributed WHERE chapter = 'ch01' AND user_id = {u:String}`, { u: AUTHOR });
    assert.equal(await dataValue(side, '[data-section="current"] td[data-metric="requests"]'), expected);
  });

  test('Show Cost: totals and chapters equal SQL; names stay text', async () => {
    await runCommand(vs.page, 'Chapter Telemetry: Show Cost');
    const f = await frameWith(vs.page, 'body[data-kind="cost"]');
    await waitWebviewState(f, 'ready');
    const total = await num(`SELECT sum(cost_usd) FROM telemetry_events WHERE event_type = 'api_request' AND user_id = {u:String}`, { u: AUTHOR });
    assert.ok(Math.abs((await dataValue(f, '[data-metric="total-cost"]')) - total) < 1e-9);
    const rows = await tableRows(f, 'chapters');
    const byChapter = JSON.parse(`[${(await sql(`SELECT chapter, sum(cost_usd) AS cost, sum(token_count) AS tokens FROM events_attributed WHERE event_type = 'api_request' AND user_id = {u:String} GROUP BY chapter FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers = 0`, { u: AUTHOR })).split('\n').join(',')}]`) as { chapter: string; cost: number; tokens: number }[];
    assert.equal(rows.length, byChapter.length);
    for (const c of byChapter) {
      const r = rows.find((x) => x.chapter === c.chapter);
      assert.ok(r, `chapter ${c.chapter} missing in the panel`);
      assert.ok(Math.abs(Number(r.cost) - c.cost) < 1e-9 && Number(r.tokens) === c.tokens, `${c.chapter}: ${JSON.stringify(r)} vs ${JSON.stringify(c)}`);
    }
    await assertNoMarkupFromData(f);
    assert.ok(await f.locator('canvas').count() >= 3, 'three charts');
    await vs.screenshot('cost-dark');
  });

  test('Show Errors: the 429 is counted and a click lists its occurrence', async () => {
    await runCommand(vs.page, 'Chapter Telemetry: Show Errors');
    const f = await frameWith(vs.page, 'body[data-kind="errors"]');
    await waitWebviewState(f, 'ready');
    const errors = await num(`SELECT count() FROM telemetry_events WHERE event_type = 'api_error' AND user_id = {u:String}`, { u: AUTHOR });
    assert.equal(await dataValue(f, '[data-metric="errors"]'), errors);
    const byType = await tableRows(f, 'by-type');
    assert.deepEqual(byType.map((r) => [r.error_type, r.status_code]), [['rate_limit_error', '429']]);
    await f.locator('table[data-table="by-type"] button.link', { hasText: 'rate_limit_error' }).first().click();
    await f.locator('table[data-table="occurrences"] tbody tr td[data-col="status_code"]').first().waitFor({ timeout: 30_000 });
    const occ = await tableRows(f, 'occurrences');
    assert.deepEqual(occ.map((r) => [r.status_code, r.chapter]), [['429', 'ch02']]);
    await vs.screenshot('errors-dark');
  });

  test('Show Chapters: tokens, contributors and averages equal SQL', async () => {
    await runCommand(vs.page, 'Chapter Telemetry: Show Chapters');
    const f = await frameWith(vs.page, 'body[data-kind="chapters"]');
    await waitWebviewState(f, 'ready');
    const rows = await tableRows(f, 'complexity');
    const expected = JSON.parse(`[${(await sql(`SELECT chapter, sum(token_count) AS tokens, uniqExact(user_id) AS contributors, count() AS requests FROM events_attributed WHERE event_type = 'api_request' AND user_id = {u:String} GROUP BY chapter FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers = 0`, { u: AUTHOR })).split('\n').join(',')}]`) as { chapter: string; tokens: number; contributors: number; requests: number }[];
    for (const c of expected) {
      const r = rows.find((x) => x.chapter === c.chapter);
      assert.ok(r, `chapter ${c.chapter} missing`);
      assert.deepEqual([Number(r.tokens), Number(r.contributors), Number(r.avg_tokens_per_request)], [c.tokens, c.contributors, c.tokens / c.requests]);
    }
    await assertNoMarkupFromData(f);
    // Drill-down binds the chapter name as a parameter: a quote and markup must match exactly their own sessions.
    for (const chapter of [QUOTED, XSS]) {
      await f.locator('table[data-table="complexity"] button.link', { hasText: chapter }).first().click();
      await f.locator('table[data-table="chapter-sessions"] caption', { hasText: chapter }).waitFor({ timeout: 30_000 });
      const sessions = await tableRows(f, 'chapter-sessions');
      const expectedSessions = await num(`SELECT uniqExact(session_id) FROM events_attributed WHERE chapter = {c:String} AND user_id = {u:String}`, { c: chapter, u: AUTHOR });
      assert.equal(sessions.length, expectedSessions, `${chapter}: ${JSON.stringify(sessions)}`);
      assert.ok(expectedSessions > 0);
    }
    await assertNoMarkupFromData(f);
    await vs.screenshot('chapters-dark');
  });

  test('light theme screenshots; no script from data ever ran', async () => {
    await vs.page.locator('.monaco-workbench.vs-dark').waitFor({ timeout: 30_000 });
    await runCommand(vs.page, 'Preferences: Toggle between Light/Dark Themes');
    await vs.page.locator('.monaco-workbench.vs:not(.vs-dark)').waitFor({ timeout: 30_000 });
    for (const [cmd, kind] of [['Show Cost', 'cost'], ['Show Errors', 'errors'], ['Show Chapters', 'chapters']] as const) {
      await runCommand(vs.page, `Chapter Telemetry: ${cmd}`);
      const f = await frameWith(vs.page, `body[data-kind="${kind}"]`);
      await waitWebviewState(f, 'ready');
      await vs.screenshot(`${kind}-light`);
    }
    await openSidebar(vs.page);
    await waitWebviewState(await frameWith(vs.page, 'body[data-view="sidebar"]'), 'ready');
    await vs.screenshot('sidebar-light');
    assert.deepEqual(dialogs, [], 'an alert() ran');
  });

  test('a panel comes back after a window reload, with its range', async () => {
    await runCommand(vs.page, 'Chapter Telemetry: Show Chapters');
    const f = await frameWith(vs.page, 'body[data-kind="chapters"]');
    await f.locator('select[data-control="range"]').selectOption('90');
    await f.locator('body[data-state="ready"] p.muted').filter({ hasText: /–/ }).first().waitFor({ timeout: 30_000 });
    // The workbench's own reload (it saves the editors' state first, as a user's reload does).
    await runCommand(vs.page, 'Developer: Reload Window');
    await vs.page.waitForLoadState('load');
    await waitForWorkbench(vs.page);
    const back = await frameWith(vs.page, 'body[data-kind="chapters"]');
    await waitWebviewState(back, 'ready');
    assert.equal(await back.locator('select[data-control="range"]').inputValue(), '90');
    assert.ok((await tableRows(back, 'complexity')).length >= 3);
    await vs.screenshot('chapters-restored');
  });
});
