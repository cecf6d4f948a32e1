// Budgets in a real VS Code (code-server + Chromium): the extension's embedded server stores real Claude Code runs
// (fake Anthropic API on loopback, token usage large enough that each run costs dollars); a daily limit set from
// the first run's stored cost puts the spend at ~85 % (warning colour, no notification), a second run past 100 %
// (error colour, exactly one notification with "Open Cost panel" / "Change limit"), a third run stays over without
// a second notification, and the test-only clock (user setting chapterTelemetry.budget.testOnlyNow) moved into
// the next day resets the daily state. The tooltip's figures equal SQL over the same store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { runClaude } from '../support/claude-cli';
import { launchVSCode, repoRoot, type VSCode } from '../support/codeserver';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { closeVSCodeAndStack, freeStackPorts, localStackSettings, stackSql, startCollectionFromStatusBar } from '../support/local-stack-vscode';
import { setUserSettings as setUserSettingsIn } from '../support/user-settings';
import { runCommand, statusBarItem, webviewFrame } from '../support/vscode-ui';
import { eventually } from '../support/eventually';

const STATUS = 'chapterTelemetry.status';
const AUTHOR = 'budget-author';
const root = mkdtempSync(join(tmpdir(), 'ct-budget-e2e-'));
const workspace = join(root, 'book');
const REACHED = /Daily budget reached/;

let vs: VSCode;
let fake: FakeAnthropic;
let ports: { grpc: number; otlpHttp: number; http: number };
let limit = 0;

const sql = (query: string, params: Record<string, string> = {}) => stackSql(ports, query, params);

function midnightMs(daysAhead = 0): number {
  const n = new Date();
  return new Date(n.getFullYear(), n.getMonth(), n.getDate() + daysAhead).getTime();
}

/** The author's API spend today (local day), as the store has it. */
async function spentToday(): Promise<number> {
  return Number(await sql(`SELECT toFloat64(sum(cost_usd)) FROM telemetry_events WHERE event_type = 'api_request' AND user_id = {u:String}
    AND timestamp >= fromUnixTimestamp64Milli({f:Int64}) AND timestamp < fromUnixTimestamp64Milli({t:Int64})`,
  { u: AUTHOR, f: String(midnightMs(0)), t: String(midnightMs(1)) }));
}

async function requestsStored(): Promise<number> {
  return Number(await sql(`SELECT count() FROM telemetry_events WHERE event_type = 'api_request' AND user_id = {u:String}`, { u: AUTHOR }));
}

/** One real CLI run; resolves when its api_request events are stored. */
async function claudeRun(): Promise<void> {
  const before = await requestsStored();
  const r = await runClaude({
    protocol: 'http/json', endpoint: `http://127.0.0.1:${ports.otlpHttp}`, apiUrl: fake.url, prompt: 'say hi',
    resourceAttributes: { user_id: AUTHOR, chapter: 'ch01' }, userId: AUTHOR,
  });
  assert.equal(r.code, 0, `claude exited ${r.code}: ${r.stderr}`);
  await eventually('the run\'s api_request events', async () => ((await requestsStored()) > before ? true : undefined), 60_000);
}

const setUserSettings = (patch: Record<string, unknown>) => setUserSettingsIn(vs, patch);

const usd = (v: number) => `$${v.toFixed(2)}`;

/** The status bar item's colour kind (VS Code marks items with an error/warning background by a class). */
async function statusKind(page: Page): Promise<'error' | 'warning' | 'standard'> {
  const cls = (await statusBarItem(page, STATUS).getAttribute('class')) ?? '';
  return /\berror-kind\b/.test(cls) ? 'error' : /\bwarning-kind\b/.test(cls) ? 'warning' : 'standard';
}

async function waitForKind(page: Page, kind: 'error' | 'warning' | 'standard'): Promise<void> {
  // The extension reads the spend every 15 s and at once on a settings change.
  await eventually(`the status bar in the ${kind} colour`, async () => ((await statusKind(page)) === kind ? true : undefined), 60_000).catch(async (e: Error) => {
    const item = statusBarItem(page, STATUS);
    throw new Error(`${e.message}; class="${await item.getAttribute('class')}" aria="${await item.getAttribute('aria-label')}" tooltip="${await tooltip(page).catch(() => '?')}"`);
  });
}

/** The status bar tooltip's text (hovering the item). */
async function tooltip(page: Page): Promise<string> {
  await page.mouse.move(0, 0);
  await statusBarItem(page, STATUS).hover();
  const hover = page.locator('.workbench-hover, .monaco-hover').filter({ hasText: 'Chapter Telemetry' }).last();
  await hover.waitFor({ state: 'visible', timeout: 15_000 });
  const text = ((await hover.textContent()) ?? '').replace(/\s+/g, ' ');
  await page.mouse.move(0, 0);
  return text;
}

async function waitForTooltip(page: Page, re: RegExp): Promise<string> {
  return await eventually(`a tooltip matching ${re}`, async () => {
    const t = await tooltip(page);
    return re.test(t) ? t : undefined;
  }, 60_000);
}

/** Budget notifications in the notification centre (toasts hide themselves; the centre keeps every one). */
async function budgetNotifications(page: Page): Promise<string[]> {
  await runCommand(page, 'Notifications: Show Notifications');
  const center = page.locator('.notifications-center');
  await center.waitFor({ state: 'visible', timeout: 15_000 });
  const texts = (await center.locator('.notification-list-item-message').allTextContents()).map((t) => t.trim());
  await page.keyboard.press('Escape');
  return texts.filter((t) => REACHED.test(t));
}

describe('spend budgets in a real VS Code', () => {
  before(async () => {
    ports = await freeStackPorts();
    mkdirSync(join(workspace, 'ch01'), { recursive: true });
    writeFileSync(join(workspace, 'ch01', 'draft.md'), '# Chapter 1\n');
    // 100k input + 100k output tokens per request: dollars per run, so cents-rounded figures are meaningful.
    fake = await startFakeAnthropic({ defaultUsage: { input_tokens: 100_000, output_tokens: 100_000, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } });
    vs = await launchVSCode({
      workspace, extensionDevelopmentPath: repoRoot, name: 'budget',
      settings: {
        'chapterTelemetry.userId': AUTHOR,
        ...localStackSettings(ports, join(root, 'data')),
      },
    });
  });

  after(() => closeVSCodeAndStack(vs, { stopCollection: true, fake, root }));

  test('with collection on and no limit, the status bar has no budget colour', async () => {
    const page = vs.page;
    // The status bar item appears once the extension is active; a click turns collection on.
    await startCollectionFromStatusBar(page);
    await claudeRun();
    assert.equal(await statusKind(page), 'standard');
    assert.doesNotMatch(await tooltip(page), /Budget/);
  });

  test('a daily limit at ~85 % of today\'s spend: warning colour, the figure in the tooltip, no notification', async () => {
    const page = vs.page;
    const spent = await spentToday();
    assert.ok(spent > 0.5, `a run costs dollars (stored ${spent})`);
    limit = Math.round((spent / 0.85) * 100) / 100;
    await setUserSettings({ 'chapterTelemetry.budget.dailyUsd': limit });
    await waitForKind(page, 'warning');
    const t = await waitForTooltip(page, /Budget/);
    assert.ok(t.includes(`${usd(spent)} of ${usd(limit)} today`), `tooltip: ${t}`);
    assert.match(t, /nearly reached/);
    assert.deepEqual(await budgetNotifications(page), []);
    await vs.screenshot('01-warning');
  });

  test('a second run crosses 100 %: error colour and exactly one notification with its two actions', async () => {
    const page = vs.page;
    await claudeRun();
    const spent = await spentToday();
    assert.ok(spent >= limit, `over the limit now (${spent} of ${limit})`);
    await waitForKind(page, 'error');
    const t = await waitForTooltip(page, new RegExp(`\\${usd(spent)} of \\${usd(limit)} today`));
    assert.match(t, /Budget — reached/);
    const toast = page.locator('.notification-toast').filter({ hasText: REACHED }).first();
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await toast.locator('.monaco-button', { hasText: 'Open Cost panel' }).count(), 1);
    assert.equal(await toast.locator('.monaco-button', { hasText: 'Change limit' }).count(), 1);
    await vs.screenshot('02-over');
    const shown = await budgetNotifications(page);
    assert.equal(shown.length, 1, `one notification: ${JSON.stringify(shown)}`);
    assert.ok(shown[0]!.includes(`${usd(spent)} of ${usd(limit)} today`), shown[0]);
  });

  test('more spend the same day stays over and does not notify again', async () => {
    const page = vs.page;
    await claudeRun();
    const spent = await spentToday();
    // Wait until the extension has read the third run's spend, then count.
    await waitForTooltip(page, new RegExp(`\\${usd(spent)} of \\${usd(limit)} today`));
    assert.equal(await statusKind(page), 'error');
    assert.equal((await budgetNotifications(page)).length, 1);
  });

  test('the next day (test clock) resets the daily state; the notification is not repeated', async () => {
    const page = vs.page;
    const before = await budgetNotifications(page);
    assert.equal(before.length, 1, 'the one notification of today so far');
    await setUserSettings({ 'chapterTelemetry.budget.testOnlyNow': new Date(midnightMs(1) + 60_000).toISOString() });
    await waitForKind(page, 'standard');
    const t = await waitForTooltip(page, new RegExp(`\\$0\\.00 of \\${usd(limit)} today`));
    assert.doesNotMatch(t, /reached/);
    await vs.screenshot('03-next-day');
    // Back to the real day: over again, and that day's crossing was already notified (globalState), so no new one.
    await setUserSettings({ 'chapterTelemetry.budget.testOnlyNow': '' });
    await waitForKind(page, 'error');
    await waitForTooltip(page, /Budget — reached/);
    assert.deepEqual(await budgetNotifications(page), before);
  });

  test('the Cost panel names the daily limit it draws', async () => {
    const page = vs.page;
    await runCommand(page, 'Chapter Telemetry: Show Cost');
    const f = await webviewFrame(page, '[data-metric="limits"]', 60_000);
    assert.equal(Number(await f.locator('[data-metric="limits"]').getAttribute('data-daily')), limit);
    await vs.screenshot('04-cost-panel');
  });
});
