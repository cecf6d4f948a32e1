// Analytics scope in a real VS Code (code-server + Chromium), the case a new user hit: Claude Code ran
// with user_id=alice while chapterTelemetry.userId is unset (so the extension's author id is the OS
// user). Every view must show alice's numbers by default (the whole local store); choosing "Only
// <OS user>" shows that user's (none) and says how many rows of other authors it hides; "Show them"
// brings them back. Every number equals SQL run on the store's ClickHouse HTTP port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { runClaude } from '../support/claude-cli';
import { launchVSCode, repoRoot, type VSCode } from '../support/codeserver';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { eventually } from '../support/otlp';
import { closeVSCodeAndStack, freeStackPorts, localStackSettings, stackSql } from '../support/local-stack-vscode';
import { dataValue, openSidebar, runCommand, waitForStatusBarText, waitWebviewState, webviewFrame } from '../support/vscode-ui';

const ALICE = 'alice';
const OS_USER = userInfo().username;
const root = mkdtempSync(join(tmpdir(), 'ct-scope-e2e-'));
const workspace = join(root, 'book');

let vs: VSCode;
let fake: FakeAnthropic;
let ports: { grpc: number; otlpHttp: number; http: number };

const sql = (query: string, params: Record<string, string> = {}) => stackSql(ports, query, params);
const num = async (query: string, params: Record<string, string> = {}) => Number(await sql(query, params));

/** Local midnight 29 days ago: the start of the panels' default 30-day range and of the sidebar's 30 days. */
function thirtyDayStartMs(): string {
  const n = new Date();
  return String(new Date(n.getFullYear(), n.getMonth(), n.getDate() - 29).getTime());
}
const IN_RANGE = `timestamp >= fromUnixTimestamp64Milli({t:Int64})`;

async function claudeAsAlice(chapter: string): Promise<void> {
  const r = await runClaude({
    protocol: 'http/json', endpoint: `http://127.0.0.1:${ports.otlpHttp}`, apiUrl: fake.url, prompt: 'say hi',
    resourceAttributes: { user_id: ALICE, chapter }, userId: ALICE,
  });
  assert.ok(r.code === 0 || r.code === 1, `claude exited ${r.code}: ${r.stderr}`);
}

/** Waits until the view shows `expected` at `selector` (a view may still hold a render from before). */
async function shows(f: Frame, selector: string, expected: number): Promise<void> {
  await eventually(async () => Math.abs((await dataValue(f, selector)) - expected) < 1e-9,
    async () => `${selector} shows ${await dataValue(f, selector).catch((e: Error) => e.message)}, SQL says ${expected}`, 30_000);
}

describe('analytics scope in a real VS Code (user_id=alice, author id = the OS user)', () => {
  let aliceCost = 0;
  let aliceRequests = 0;
  let aliceErrors = 0;

  before(async () => {
    assert.notEqual(OS_USER, ALICE, 'the test needs an OS user other than alice');
    ports = await freeStackPorts();
    mkdirSync(join(workspace, 'ch01'), { recursive: true });
    writeFileSync(join(workspace, 'ch01', 'draft.md'), '# Chapter 1\n');
    fake = await startFakeAnthropic();
    vs = await launchVSCode({
      workspace, extensionDevelopmentPath: repoRoot, name: 'analytics-scope',
      // No chapterTelemetry.userId: the extension's author id is the OS user, as for a new user.
      settings: {
        ...localStackSettings(ports, join(root, 'data')),
      },
    });
  });

  after(() => closeVSCodeAndStack(vs, { stopCollection: true, fake, root }));

  test('claude runs as alice; the store holds her requests and nothing of the OS user', async () => {
    // The extension activates on startup finished: its status bar item says it is there.
    await waitForStatusBarText(vs.page, 'chapterTelemetry.status', /Telemetry Off/, 90_000);
    await runCommand(vs.page, 'Chapter Telemetry: Start Collection');
    await eventually(async () => (await fetch(`http://127.0.0.1:${ports.http}/ping`).then((r) => r.text(), () => '')) === 'Ok.\n' || false,
      () => vs.output().slice(-3000), 120_000);
    await claudeAsAlice('ch01');
    await claudeAsAlice('ch02');
    fake.enqueue({ kind: 'error', status: 500 });
    await claudeAsAlice('ch02');
    const p = { u: ALICE, t: thirtyDayStartMs() };
    await eventually(async () => (await num(`SELECT count() FROM telemetry_events WHERE event_type IN ('api_request','api_error') AND user_id = {u:String}`, p)) === 3,
      async () => sql(`SELECT user_id, event_type FROM telemetry_events FORMAT TSV`), 60_000);
    aliceCost = await num(`SELECT sum(cost_usd) FROM telemetry_events WHERE event_type = 'api_request' AND user_id = {u:String} AND ${IN_RANGE}`, p);
    aliceRequests = await num(`SELECT count() FROM telemetry_events WHERE event_type = 'api_request' AND user_id = {u:String} AND ${IN_RANGE}`, p);
    aliceErrors = await num(`SELECT count() FROM telemetry_events WHERE event_type = 'api_error' AND user_id = {u:String} AND ${IN_RANGE}`, p);
    assert.ok(aliceCost > 0 && aliceRequests === 2 && aliceErrors === 1, JSON.stringify({ aliceCost, aliceRequests, aliceErrors }));
    assert.equal(await num(`SELECT count() FROM telemetry_events WHERE user_id = {u:String}`, { u: OS_USER }), 0);
  });

  test('Show Cost shows alice\'s cost by default (the whole store), equal to SQL', async () => {
    await runCommand(vs.page, 'Chapter Telemetry: Show Cost');
    const f = await webviewFrame(vs.page, 'body[data-kind="cost"]', 60_000);
    await waitWebviewState(f, 'ready');
    assert.equal(await f.locator('select[data-control="scope"]').inputValue(), 'all');
    await shows(f, '[data-metric="total-cost"]', aliceCost);
    assert.equal(await f.locator('[data-section="hidden"]').count(), 0, 'no note when nothing is hidden');
    await vs.screenshot('scope-cost-all');
  });

  test('"Only <OS user>": $0.00, and the note counts alice\'s hidden requests and errors; "Show them" brings them back', async () => {
    const f = await webviewFrame(vs.page, 'body[data-kind="cost"]', 60_000);
    const labels = await f.locator('select[data-control="scope"] option').allTextContents();
    assert.deepEqual(labels, ['All authors in this store', `Only ${OS_USER}`], 'local mode offers exactly the two local scopes');
    await f.locator('select[data-control="scope"]').selectOption('me');
    const note = f.locator('[data-section="hidden"]');
    await note.waitFor({ timeout: 30_000 });
    await shows(f, '[data-metric="total-cost"]', 0);
    const p = { u: OS_USER, t: thirtyDayStartMs() };
    const hiddenRequests = await num(`SELECT count() FROM telemetry_events WHERE event_type = 'api_request' AND user_id != {u:String} AND ${IN_RANGE}`, p);
    const hiddenErrors = await num(`SELECT count() FROM telemetry_events WHERE event_type = 'api_error' AND user_id != {u:String} AND ${IN_RANGE}`, p);
    assert.deepEqual([hiddenRequests, hiddenErrors], [aliceRequests, aliceErrors]);
    assert.equal(Number(await note.getAttribute('data-requests')), hiddenRequests);
    assert.equal(Number(await note.getAttribute('data-errors')), hiddenErrors);
    assert.match(await note.innerText(), new RegExp(`^${hiddenRequests} requests and ${hiddenErrors} error by another author hidden`));
    await vs.screenshot('scope-cost-only-me');

    await note.locator('button[data-action="show-hidden"]').click();
    await shows(f, '[data-metric="total-cost"]', aliceCost);
    assert.equal(await f.locator('select[data-control="scope"]').inputValue(), 'all');
    assert.equal(await f.locator('[data-section="hidden"]').count(), 0);
  });

  test('Errors and Chapters: alice by default; "Only <OS user>" hides her with the same count', async () => {
    await runCommand(vs.page, 'Chapter Telemetry: Show Errors');
    const e = await webviewFrame(vs.page, 'body[data-kind="errors"]', 60_000);
    await waitWebviewState(e, 'ready');
    await shows(e, '[data-metric="errors"]', aliceErrors);
    await shows(e, '[data-metric="requests"]', aliceRequests);
    await e.locator('select[data-control="scope"]').selectOption('me');
    await e.locator('[data-section="hidden"]').waitFor({ timeout: 30_000 });
    await shows(e, '[data-metric="errors"]', 0);
    assert.equal(Number(await e.locator('[data-section="hidden"]').getAttribute('data-errors')), aliceErrors);

    await runCommand(vs.page, 'Chapter Telemetry: Show Chapters');
    const c = await webviewFrame(vs.page, 'body[data-kind="chapters"]', 60_000);
    await waitWebviewState(c, 'ready');
    const expected = await num(`SELECT uniqExact(chapter) FROM events_attributed WHERE event_type = 'api_request' AND ${IN_RANGE}`, { t: thirtyDayStartMs() });
    await eventually(async () => (await c.locator('table[data-table="complexity"] tbody td[data-col="chapter"]').count()) === expected,
      async () => `chapters shown: ${await c.locator('table[data-table="complexity"] tbody td[data-col="chapter"]').count()}, SQL ${expected}`, 30_000);
    await c.locator('select[data-control="scope"]').selectOption('me');
    await c.locator('[data-section="hidden"]').waitFor({ timeout: 30_000 });
    assert.equal(Number(await c.locator('[data-section="hidden"]').getAttribute('data-requests')), aliceRequests);
    assert.equal(await c.locator('table[data-table="complexity"] tbody td[data-col="chapter"]').count(), 0);
  });

  test('the sidebar: alice\'s 30 days by default; only the OS user hides them with a note; Show them', async () => {
    await openSidebar(vs.page);
    const side = await webviewFrame(vs.page, 'body[data-view="sidebar"]', 60_000);
    await waitWebviewState(side, 'ready');
    assert.equal(await side.locator('select[data-control="scope"]').inputValue(), 'all');
    await shows(side, 'td[data-metric="cost"][data-period="d30"]', aliceCost);
    await shows(side, 'td[data-metric="requests"][data-period="d30"]', aliceRequests);
    await shows(side, 'td[data-metric="errors"][data-period="d30"]', aliceErrors);
    await side.locator('select[data-control="scope"]').selectOption('me');
    const note = side.locator('[data-section="hidden"]');
    await note.waitFor({ timeout: 30_000 });
    await shows(side, 'td[data-metric="requests"][data-period="d30"]', 0);
    assert.equal(Number(await note.getAttribute('data-requests')), aliceRequests);
    assert.equal(Number(await note.getAttribute('data-authors')), 1);
    await vs.screenshot('scope-sidebar-only-me');
    await note.locator('button[data-action="show-hidden"]').click();
    await shows(side, 'td[data-metric="requests"][data-period="d30"]', aliceRequests);
    assert.equal(await side.locator('select[data-control="scope"]').inputValue(), 'all');
  });
});
