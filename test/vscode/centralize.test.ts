// "Centralize Telemetry" and "Revert to Local" in a real VS Code (code-server + Chromium), against the real team
// server in its own network namespace over TLS (test/support/netns.ts, team-server.ts). The wizard is driven from
// the palette: each "No" ends with its advice and changes nothing; the Back button returns to the previous step;
// the full path (contributor bundle, no-content, all history) tests the connection, then forwards. The real Claude
// Code CLI runs in an integrated terminal (its telemetry goes to the LOCAL stack on loopback) and its records
// arrive at the team server under the member's name. The secret is nowhere in the terminal environment, the
// settings files, .claude/settings.local.json or the extension's log. Team server stopped → collection goes on,
// the status bar warns after a minute; started again → delivered. Revert to Local → nothing more goes up and
// collection goes on locally. One code-server session for the whole file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, type IssuedMember } from '../../src/server/team/admin';
import { otelEnv } from '../support/claude-cli';
import { buildCheckout, launchVSCode, repoRoot, waitForWorkbench, type VSCode } from '../support/codeserver';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { freeStackPorts, killServerFromState, localStackSettings, startCollectionFromStatusBar } from '../support/local-stack-vscode';
import { sqlOver } from '../support/server';
import { startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';
import {
  clickNotificationButton, dismissNotifications, newTerminal, pickQuickInputItem, quickInputBack, runCommand, runInTerminal, statusBarItem, submitQuickInput,
  waitForNotification, waitForQuickInputTitle, waitForStatusBarText,
} from '../support/vscode-ui';
import { eventually } from '../support/eventually';

const STATUS = 'chapterTelemetry.status';
const AUTHOR = 'central-author';
const TEAM = 'Book Team';
const PORTS = { grpc: 26317, otlpHttp: 26318, http: 26123 };
const root = mkdtempSync(join(tmpdir(), 'ct-central-'));
const workspace = join(root, 'book');
const dataDir = join(root, 'data');

let vs: VSCode;
let fake: FakeAnthropic;
let host: NetnsHost;
let team: TeamServerProcess;
let admin: IssuedMember;
let alice: IssuedMember;
let ports: { grpc: number; otlpHttp: number; http: number };

const localCount = async (query: string) => Number((await sqlOver(`http://127.0.0.1:${ports.http}/`, query, {})).trim());
const teamCount = async (query: string) => Number((await teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret, query))[0]!.n);
const localRequests = () => localCount("SELECT count() FROM otel_logs WHERE LogAttributes['event.name'] = 'api_request'");
const teamRequests = () => teamCount(`SELECT count() AS n FROM otel_logs WHERE LogAttributes['event.name'] = 'api_request' AND ResourceAttributes['user_id'] = 'alice'`);

/** Every file under `dir` (skipping unreadable ones), for the secret search. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    try {
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    } catch {
      return [];
    }
  });
}

async function statusKind(): Promise<'error' | 'warning' | 'standard'> {
  const cls = (await statusBarItem(vs.page, STATUS).getAttribute('class')) ?? '';
  return /\berror-kind\b/.test(cls) ? 'error' : /\bwarning-kind\b/.test(cls) ? 'warning' : 'standard';
}

/** Every message in the notification centre (toasts hide themselves; the centre keeps them). */
async function notificationCenter(): Promise<string[]> {
  const page = vs.page;
  await runCommand(page, 'Notifications: Show Notifications');
  const center = page.locator('.notifications-center');
  await center.waitFor({ state: 'visible', timeout: 15_000 });
  const texts = (await center.locator('.notification-list-item-message').allTextContents()).map((t) => t.trim());
  await page.keyboard.press('Escape');
  return texts;
}

async function claudeInTerminal(): Promise<void> {
  const out = await runInTerminal(vs.page, 'claude -p "say hi" --model claude-sonnet-4-5; echo "exit=$?"', 180_000);
  assert.match(out, /exit=0$/, out);
}

describe('Centralize Telemetry and Revert to Local in a real VS Code, against a team server over TLS', () => {
  before(async () => {
    buildCheckout();
    mkdirSync(join(workspace, 'ch01'), { recursive: true });
    writeFileSync(join(workspace, 'ch01', 'draft.md'), '# Chapter 1\n');
    host = createNetnsHost();
    const dir = join(root, 'team');
    admin = (await initTeam({ dir, name: TEAM, hostnames: [host.nsAddress], ports: PORTS })).admin;
    alice = await addMember(dir, 'alice', 'contributor');
    team = await startTeamServer(host, dir, join(root, 'team-data'));
    fake = await startFakeAnthropic();
    ports = await freeStackPorts();
    // Only what points the CLI at the fake API; every telemetry variable comes from the extension (local stack).
    const cliEnv = Object.fromEntries(Object.entries(otelEnv({ protocol: 'grpc', endpoint: 'unused', apiUrl: fake.url }))
      .filter(([k]) => !k.startsWith('OTEL_') && k !== 'CLAUDE_CODE_ENABLE_TELEMETRY'));
    vs = await launchVSCode({
      workspace, extensionDevelopmentPath: repoRoot, name: 'centralize', env: cliEnv,
      settings: {
        'chapterTelemetry.userId': AUTHOR,
        ...localStackSettings(ports, dataDir),
      },
    });
  });

  after(async () => {
    if (vs) {
      // The extension's own log (its output channel) beside the screenshots, for a failure's post-mortem.
      const logs = filesUnder(join(vs.userDataDir, 'logs')).filter((p) => /Chapter Telemetry\.log$/.test(p));
      writeFileSync(join(repoRoot, '.test-artifacts', 'vscode', 'centralize-extension.log'), logs.map((p) => `== ${p}\n${readFileSync(p, 'utf8')}`).join('\n'));
      killServerFromState(vs);
      await vs.close();
    }
    await fake?.close();
    await team?.stop();
    host?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  test('collection on: the status bar shows the local state', async () => {
    await startCollectionFromStatusBar(vs.page);
  });

  test('"No" to cross-team analytics: stay local, with the reason', async () => {
    const page = vs.page;
    await runCommand(page, 'Chapter Telemetry: Centralize Telemetry');
    await waitForQuickInputTitle(page, /Centralize Telemetry.*1\/5/);
    await pickQuickInputItem(page, 'No: I only need my own numbers');
    assert.match(await waitForNotification(page, /Stay local\. Centralizing only pays/), /leave nothing on a server/);
  });

  test('an empty store is not reliable yet: waiting is recommended, and Back returns to step 1', async () => {
    const page = vs.page;
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Centralize Telemetry');
    await pickQuickInputItem(page, 'Yes: a coordinator needs numbers');
    await waitForQuickInputTitle(page, /2\/5/);
    // The measured facts are listed (no Claude Code run yet).
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'No Claude Code records in the local store yet' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    await quickInputBack(page);
    await waitForQuickInputTitle(page, /1\/5/);
    await pickQuickInputItem(page, 'Yes: a coordinator needs numbers');
    await pickQuickInputItem(page, 'Wait and keep collecting locally (recommended)');
    await waitForNotification(page, /Wait before centralizing/);
  });

  test('the team has not agreed: stay local until it has', async () => {
    const page = vs.page;
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Centralize Telemetry');
    await pickQuickInputItem(page, 'Yes: a coordinator needs numbers');
    await pickQuickInputItem(page, 'Continue anyway');
    await waitForQuickInputTitle(page, /3\/5/);
    // Each level lists its fields: no-content names what it drops.
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'No prompts or error text' }).first().waitFor({ state: 'visible' });
    await pickQuickInputItem(page, 'The team has not agreed yet');
    await waitForNotification(page, /Stay local until the team has agreed/);
    assert.equal(existsSync(join(dataDir, 'forward.json')), false, 'a No changes nothing');
  });

  test('the full path: bundle pasted, connection tested, forwarding on, status bar Central · team', async () => {
    const page = vs.page;
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Centralize Telemetry');
    await pickQuickInputItem(page, 'Yes: a coordinator needs numbers');
    await pickQuickInputItem(page, 'Continue anyway');
    await pickQuickInputItem(page, 'No prompts or error text');
    await waitForQuickInputTitle(page, /4\/5/);
    // A cut-off line is refused in the input itself.
    await submitQuickInput(page, alice.bundle.slice(0, -3));
    await page.locator('.quick-input-widget .quick-input-message', { hasText: /cut off|checksum/ }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await submitQuickInput(page, alice.bundle);
    await waitForQuickInputTitle(page, /5\/5/);
    await pickQuickInputItem(page, 'All of it');
    const connected = await waitForNotification(page, /Connected to team Book Team as alice \(contributor\)/, 60_000);
    assert.match(connected, /No prompts or error text/);
    // The (small) history moved, with the count check's sentence.
    await waitForNotification(page, /history moved to team Book Team\. Count check/, 60_000);
    await waitForStatusBarText(page, STATUS, /Central · Book Team/, 30_000);
    await vs.screenshot('01-central');
    // Visible settings, no secret; forward.json (the server's copy of the secret) owner-only.
    const settings = JSON.parse(readFileSync(join(vs.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(settings['chapterTelemetry.team.endpoint'], alice.otlp_http);
    assert.equal(settings['chapterTelemetry.team.privacy'], 'no-content');
    const fwd = join(dataDir, 'forward.json');
    assert.equal(statSync(fwd).mode & 0o777, 0o600);
    assert.equal((JSON.parse(readFileSync(fwd, 'utf8')) as { privacy: string }).privacy, 'no-content');
  });

  test('claude in an integrated terminal: its records reach the team server under alice', async () => {
    const page = vs.page;
    await newTerminal(page);
    await claudeInTerminal();
    const local = await eventually('the run in the local store', async () => ((await localRequests()) > 0 ? localRequests() : undefined), 60_000);
    await eventually('the run at the team server under alice', async () => ((await teamRequests()) === local ? true : undefined), 90_000);
    // no-content: the prompt text never reached the team (the CLI redacts it locally too; the key itself is dropped).
    assert.equal(await teamCount("SELECT count() AS n FROM otel_logs WHERE mapContains(LogAttributes, 'prompt')"), 0);
    // Verify Collection adds the forwarding counts: local, delivered, queue, lag.
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Verify Collection');
    const verified = await waitForNotification(page, /Central \(team Book Team, /, 30_000);
    const m = /Central \(team Book Team, (\w+)\): ([\d,]+) local records, ([\d,]+) delivered, ([\d,]+) in the queue, lag (\w+)/.exec(verified);
    assert.ok(m, verified);
    const [localRows, delivered, queue] = [m[2], m[3], m[4]].map((x) => Number(x!.replace(/,/g, '')));
    assert.equal(localRows, delivered! + queue!, verified);
    assert.ok(localRows! >= await localCount('SELECT count() FROM otel_logs'), verified);
  });

  test('the secret is nowhere: terminal environment, settings files, .claude/settings.local.json, the extension log', async () => {
    const page = vs.page;
    // Written to a file: the whole environment is longer than the terminal's screen.
    const envFile = join(root, 'terminal-env.txt');
    assert.equal(await runInTerminal(page, `env > ${envFile}; echo written`), 'written');
    const env = readFileSync(envFile, 'utf8');
    assert.ok(env.includes('OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:'), 'the terminal points at the local stack');
    assert.ok(!env.includes(alice.secret), 'no secret in the terminal environment');
    const places = [
      join(vs.userDataDir, 'User', 'settings.json'),
      join(workspace, '.vscode', 'settings.json'),
      join(workspace, '.claude', 'settings.local.json'),
      ...filesUnder(join(vs.userDataDir, 'logs')),
    ].filter((p) => existsSync(p));
    assert.ok(places.some((p) => p.includes('logs')), 'the log folder was searched');
    for (const p of places) assert.ok(!readFileSync(p, 'latin1').includes(alice.secret), `secret found in ${p}`);
  });

  test('team server stopped: collection goes on, the status bar warns after a minute; started again: delivered', async () => {
    const page = vs.page;
    await team.stop();
    try {
      const before = await localRequests();
      await claudeInTerminal();
      await eventually('the run in the local store', async () => ((await localRequests()) > before ? true : undefined), 60_000);
      // Failing for more than a minute → warning colour and the $(warning) text, with one notification.
      await eventually('the status bar warning', async () => ((await statusKind()) === 'warning' ? true : undefined), 150_000);
      await waitForNotification(page, /Delivery to team Book Team has failed for .*records wait in the queue/, 30_000);
      await vs.screenshot('02-outage');
    } finally {
      team = await startTeamServer(host, join(root, 'team'), join(root, 'team-data'));
    }
    const local = await localRequests();
    await eventually('every record delivered once', async () => ((await teamRequests()) === local ? true : undefined), 120_000);
    await eventually('the warning cleared', async () => ((await statusKind()) === 'standard' ? true : undefined), 60_000);
  });

  test('Revert to Local: forwarding stops, the secret is forgotten, collection goes on locally', async () => {
    const page = vs.page;
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Revert to Local');
    await pickQuickInputItem(page, 'Keep the queue');
    await pickQuickInputItem(page, 'Keep only what this machine collected');
    await pickQuickInputItem(page, 'Forget my team secret');
    await waitForNotification(page, /Back to local: nothing more goes to team Book Team \(queue kept, secret forgotten\)/);
    await waitForStatusBarText(page, STATUS, /^Telemetry( · .+)?$/, 30_000);
    assert.equal(existsSync(join(dataDir, 'forward.json')), false, 'no forward.json: the secret is off the disk');
    const settings = JSON.parse(readFileSync(join(vs.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(settings['chapterTelemetry.team.endpoint'], undefined);
    const teamBefore = await teamRequests();
    const localBefore = await localRequests();
    await claudeInTerminal();
    await eventually('the run in the local store', async () => ((await localRequests()) > localBefore ? true : undefined), 60_000);
    assert.equal(await teamRequests(), teamBefore, 'nothing more reached the team');
  });

  test('a history move in the UI: Cancel pauses it; after a window reload it shows paused; Resume finishes it with a count check', async () => {
    const page = vs.page;
    const ROWS = 300_000;
    const writer = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { user: string; password: string };
    for (let b = 0; b < ROWS / 20_000; b++) {
      await sqlOver(`http://127.0.0.1:${ports.http}/`, `INSERT INTO otel_logs (Timestamp, ServiceName, Body, LogAttributes, ResourceAttributes) SELECT now64(9) - toIntervalMillisecond(number), 'claude-code', 'claude_code.api_request', map('event.name', 'api_request', 'session.id', 'ui-history', 'seq', toString(${b * 20_000} + number)), map('service.name', 'claude-code') FROM numbers(20000)`, {}, writer);
    }
    const moved = () => teamCount("SELECT count() AS n FROM otel_logs WHERE LogAttributes['session.id'] = 'ui-history'");
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Centralize Telemetry');
    await pickQuickInputItem(page, 'Yes: a coordinator needs numbers');
    // One active day so far: still "wait" is recommended; continue anyway.
    await pickQuickInputItem(page, 'Continue anyway');
    await waitForQuickInputTitle(page, /3\/5/);
    await pickQuickInputItem(page, 'Everything');
    await waitForQuickInputTitle(page, /4\/5/);
    await submitQuickInput(page, alice.bundle);
    await waitForQuickInputTitle(page, /5\/5/);
    await pickQuickInputItem(page, 'Since a date');
    await submitQuickInput(page, new Date().toISOString().slice(0, 10), /Move the records from this day on/);
    await waitForNotification(page, /Moving your history to team Book Team/, 60_000);
    await waitForNotification(page, /records \(\d+%\)/, 60_000);
    await clickNotificationButton(page, /Moving your history to team Book Team/, 'Cancel');
    await eventually('forward.json paused', async () => ((JSON.parse(readFileSync(join(dataDir, 'forward.json'), 'utf8')) as { enabled: boolean }).enabled === false ? true : undefined), 30_000);
    // The toast may already have hidden itself: the notification centre keeps every message.
    await eventually('the paused message', async () => ((await notificationCenter()).some((t) => /History move paused at .* Nothing is sent until you resume/.test(t)) ? true : undefined), 30_000);
    const atPause = await moved();
    assert.ok(atPause < ROWS, `paused before the end (${atPause} of ${ROWS})`);
    await vs.screenshot('03-history-paused');

    await page.reload();
    await waitForWorkbench(page);
    await waitForNotification(page, /forwarding to team Book Team is paused/, 120_000);
    await clickNotificationButton(page, /forwarding to team Book Team is paused/, 'Resume');
    await waitForNotification(page, /history moved to team Book Team\. Count check/, 300_000);
    assert.equal(await moved(), ROWS, 'every record once');
    assert.equal(Number((await teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret, "SELECT uniqExact(LogAttributes['seq']) AS n FROM otel_logs WHERE LogAttributes['session.id'] = 'ui-history'"))[0]!.n), ROWS);
    await waitForStatusBarText(page, STATUS, /Central · Book Team/, 30_000);
    await vs.screenshot('04-history-moved');
  });
});
