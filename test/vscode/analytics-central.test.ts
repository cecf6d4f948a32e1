// The analytics' central scopes in a real VS Code (code-server + Chromium) against the real team server in
// its own network namespace over TLS. carol (coordinator) connects with the Centralize Telemetry wizard;
// bob (contributor) and carol have telemetry on the team server. Then every view offers Local, Mine and
// Team; Mine shows carol's own rows read with her credential, Team shows cost by member, the team's error
// patterns and chapter complexity across contributors — every number equal to SQL the admin runs on the
// team server's RAW events (the views themselves read only aggregates for Team). One session per file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { addMember, initTeam, type IssuedMember } from '../../src/server/team/admin';
import { launchVSCode, repoRoot, type VSCode } from '../support/codeserver';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { encodeLogs, eventually, logsRequest } from '../support/otlp';
import { closeVSCodeAndStack, freeStackPorts, localStackSettings, startCollectionFromStatusBar } from '../support/local-stack-vscode';
import { send, startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';
import {
  dataValue, dismissNotifications, openSidebar, pickQuickInputItem, runCommand, submitQuickInput, tableRows,
  waitForNotification, waitForQuickInputTitle, waitWebviewState, webviewFrame,
} from '../support/vscode-ui';

const TEAM = 'Press Team';
const PORTS = { grpc: 27317, otlpHttp: 27318, http: 27123 };
const root = mkdtempSync(join(tmpdir(), 'ct-central-analytics-'));
const workspace = join(root, 'book');

let vs: VSCode;
let host: NetnsHost;
let team: TeamServerProcess;
let admin: IssuedMember;
const members: Record<string, IssuedMember> = {};

/** Ground truth: the admin's SQL over the team server's raw events. */
async function truth<R>(query: string): Promise<R[]> {
  return (await teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret, `${query} FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers = 0`)) as R[];
}

async function sendLogs(who: string, events: Parameters<typeof logsRequest>[0]): Promise<void> {
  const r = await send(`${members[who]!.otlp_http.replace(/\/$/, '')}/v1/logs`, {
    body: encodeLogs(logsRequest(events, { 'service.name': 'claude-code' })), ca: admin.ca_pem,
    headers: { 'content-type': 'application/x-protobuf', Authorization: `Bearer ${members[who]!.secret}` },
  });
  assert.equal(r.status, 200, r.body);
}
const req = (session: string, chapter: string, cost: number, input: number) =>
  ({ name: 'api_request', attributes: { 'session.id': session, chapter, model: 'claude-sonnet-4-5', cost_usd: cost, input_tokens: input, output_tokens: 5 } });
const apiError = (session: string, chapter: string, status: number) =>
  ({ name: 'api_error', attributes: { 'session.id': session, chapter, model: 'claude-sonnet-4-5', status_code: status, error: 'BOB-ERROR-TEXT' } });

async function shows(f: Frame, selector: string, expected: number): Promise<void> {
  await eventually(async () => Math.abs((await dataValue(f, selector)) - expected) < 1e-9,
    async () => `${selector} shows ${await dataValue(f, selector).catch((e: Error) => e.message)}, SQL says ${expected}`, 30_000);
}

describe('analytics scopes Local / Mine / Team in a real VS Code, against a team server over TLS', () => {
  before(async () => {
    mkdirSync(join(workspace, 'ch01'), { recursive: true });
    writeFileSync(join(workspace, 'ch01', 'draft.md'), '# Chapter 1\n');
    host = createNetnsHost();
    const dir = join(root, 'team');
    admin = (await initTeam({ dir, name: TEAM, hostnames: [host.nsAddress], ports: PORTS })).admin;
    members.bob = await addMember(dir, 'bob', 'contributor');
    members.carol = await addMember(dir, 'carol', 'coordinator');
    team = await startTeamServer(host, dir, join(root, 'team-data'));
    await sendLogs('bob', [req('b1', 'ch01', 1, 300), req('b1', 'ch03', 2, 500), apiError('b1', 'ch03', 529), apiError('b1', 'ch03', 529)]);
    await sendLogs('carol', [req('c1', 'ch01', 0.25, 50), req('c2', 'ch02', 0.5, 80), apiError('c2', 'ch02', 429)]);
    const ports = await freeStackPorts();
    vs = await launchVSCode({
      workspace, extensionDevelopmentPath: repoRoot, name: 'analytics-central',
      settings: {
        'chapterTelemetry.userId': 'carol-local',
        ...localStackSettings(ports, join(root, 'data')),
      },
    });
  });

  after(async () => {
    await closeVSCodeAndStack(vs, { stopCollection: false });
    await team?.stop();
    host?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  test('carol connects as coordinator with the wizard', async () => {
    const page = vs.page;
    await startCollectionFromStatusBar(page, 90_000);
    await runCommand(page, 'Chapter Telemetry: Centralize Telemetry');
    await pickQuickInputItem(page, 'Yes: a coordinator needs numbers');
    await pickQuickInputItem(page, 'Continue anyway');
    await pickQuickInputItem(page, 'No prompts or error text');
    await waitForQuickInputTitle(page, /4\/5/);
    await submitQuickInput(page, members.carol!.bundle);
    await waitForQuickInputTitle(page, /5\/5/);
    await pickQuickInputItem(page, 'All of it');
    await waitForNotification(page, new RegExp(`Connected to team ${TEAM} as carol \\(coordinator\\)`), 60_000);
    await dismissNotifications(page);
  });

  test('Show Cost offers Local, Mine and Team; Team: cost by member equal to the raw events', async () => {
    await runCommand(vs.page, 'Chapter Telemetry: Show Cost');
    const f = await webviewFrame(vs.page, 'body[data-kind="cost"]', 60_000);
    await waitWebviewState(f, 'ready');
    const scope = f.locator('select[data-control="scope"]');
    await eventually(async () => (await scope.locator('option').count()) === 4, async () => JSON.stringify(await scope.locator('option').allTextContents()), 30_000);
    assert.deepEqual(await scope.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ['all', 'me', 'mine', 'team']);
    assert.match((await scope.locator('option[value="team"]').textContent()) ?? '', new RegExp(TEAM));
    await scope.selectOption('team');
    await f.locator('[data-team="cost"]').waitFor({ timeout: 30_000 });
    const expected = await truth<{ member: string; cost: number; requests: number; errors: number }>(`SELECT user_id AS member,
      toFloat64(sumIf(cost_usd, event_type = 'api_request')) AS cost, toFloat64(countIf(event_type = 'api_request')) AS requests,
      toFloat64(countIf(event_type = 'api_error')) AS errors FROM telemetry_events WHERE event_type IN ('api_request', 'api_error')
      GROUP BY member ORDER BY cost DESC, member`);
    assert.deepEqual(expected.map((r) => r.member), ['bob', 'carol']);
    const rows = await tableRows(f, 'team-members');
    assert.deepEqual(rows.map((r) => [r.member, Number(r.cost), Number(r.requests), Number(r.errors)]), expected.map((r) => [r.member, r.cost, r.requests, r.errors]));
    await shows(f, '[data-metric="team-total-cost"]', expected.reduce((s, r) => s + r.cost, 0));
    await vs.screenshot('central-cost-team');
  });

  test('Mine: carol\'s own rows from the team server, equal to SQL over them', async () => {
    const f = await webviewFrame(vs.page, 'body[data-kind="cost"]', 60_000);
    await f.locator('select[data-control="scope"]').selectOption('mine');
    const [mine] = await truth<{ cost: number }>(`SELECT toFloat64(sum(cost_usd)) AS cost FROM telemetry_events WHERE event_type = 'api_request' AND user_id = 'carol'`);
    assert.equal(mine!.cost, 0.75);
    await shows(f, '[data-metric="total-cost"]', mine!.cost);
    assert.equal(await f.locator('[data-section="hidden"]').count(), 0);
    // Local (the store on this machine): empty, nothing of the team's rows.
    await f.locator('select[data-control="scope"]').selectOption('all');
    await shows(f, '[data-metric="total-cost"]', 0);
  });

  test('Team errors: the error patterns equal the raw events, without message text', async () => {
    await runCommand(vs.page, 'Chapter Telemetry: Show Errors');
    const f = await webviewFrame(vs.page, 'body[data-kind="errors"]', 60_000);
    await waitWebviewState(f, 'ready');
    await f.locator('select[data-control="scope"]').selectOption('team');
    await f.locator('[data-team="errors"]').waitFor({ timeout: 30_000 });
    const expected = await truth<{ error_type: string; status_code: string; errors: number; members: number }>(`SELECT error_type, toString(status_code) AS status_code,
      toFloat64(count()) AS errors, toFloat64(uniqExact(user_id)) AS members FROM telemetry_events WHERE event_type = 'api_error'
      GROUP BY error_type, status_code ORDER BY errors DESC, error_type, status_code`);
    assert.equal(expected.length, 2);
    const rows = await tableRows(f, 'team-patterns');
    assert.deepEqual(rows.map((r) => [r.error_type, r.status_code, Number(r.errors), Number(r.members)]), expected.map((r) => [r.error_type, r.status_code, r.errors, r.members]));
    assert.ok(!(await f.locator('body').innerText()).includes('BOB-ERROR-TEXT'), 'no other member\'s error text');
    await vs.screenshot('central-errors-team');
  });

  test('Team chapters: complexity across contributors equal to the raw events', async () => {
    await runCommand(vs.page, 'Chapter Telemetry: Show Chapters');
    const f = await webviewFrame(vs.page, 'body[data-kind="chapters"]', 60_000);
    await waitWebviewState(f, 'ready');
    await f.locator('select[data-control="scope"]').selectOption('team');
    await f.locator('[data-team="chapters"]').waitFor({ timeout: 30_000 });
    const expected = await truth<{ chapter: string; tokens: number; contributors: number }>(`SELECT chapter_context AS chapter, toFloat64(sum(token_count)) AS tokens,
      toFloat64(uniqExact(user_id)) AS contributors FROM telemetry_events WHERE event_type = 'api_request' GROUP BY chapter ORDER BY tokens DESC, chapter`);
    const rows = await tableRows(f, 'team-complexity');
    assert.deepEqual(rows.map((r) => [r.chapter, Number(r.tokens), Number(r.contributors)]), expected.map((r) => [r.chapter, r.tokens, r.contributors]));
    assert.deepEqual(expected.find((r) => r.chapter === 'ch01')?.contributors, 2);
  });

  test('the sidebar: Mine totals and the Team by member', async () => {
    await openSidebar(vs.page);
    const side = await webviewFrame(vs.page, 'body[data-view="sidebar"]', 60_000);
    await eventually(async () => (await side.locator('select[data-control="scope"] option').count()) === 4, () => 'the sidebar offers four scopes', 60_000);
    await side.locator('select[data-control="scope"]').selectOption('mine');
    await shows(side, 'td[data-metric="requests"][data-period="today"]', 2);
    await shows(side, 'td[data-metric="cost"][data-period="today"]', 0.75);
    await side.locator('select[data-control="scope"]').selectOption('team');
    await side.locator('table[data-table="team-members"]').waitFor({ timeout: 30_000 });
    const rows = await tableRows(side, 'team-members');
    assert.deepEqual(rows.map((r) => [r.member, Number(r.requests)]), [['bob', 2], ['carol', 2]]);
    await vs.screenshot('central-sidebar-team');
  });

  test('team server down: Mine says so (no local Start offered), the chooser stays, Local still works', async () => {
    await team.stop();
    const side = await webviewFrame(vs.page, 'body[data-view="sidebar"]', 60_000);
    await side.locator('select[data-control="scope"]').selectOption('mine');
    const failure = side.locator('.failure');
    await failure.waitFor({ timeout: 60_000 });
    assert.match(await failure.locator('.failure-message').innerText(), /team server at https:\/\/.* does not answer/);
    assert.equal(await failure.locator('button', { hasText: 'Start' }).count(), 0, 'Start cannot fix the team server');
    await vs.screenshot('central-sidebar-team-down');
    await side.locator('select[data-control="scope"]').selectOption('all');
    await side.locator('section[data-section="empty"]').waitFor({ timeout: 30_000 });
  });
});
