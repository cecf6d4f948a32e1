// Issue 3 at the UI level, in a real VS Code (code-server + headless Chromium) with the extension from this checkout:
// the status bar toggles collection, terminals get the env, the chapter follows the focused file, the real Claude Code
// CLI run in that terminal (fake Anthropic API on loopback) is counted by Verify Collection and stored with the chapter
// in focus, a second window attaches to the running server, and a held port gives a clear message.
// The steps share one window and build on each other, in order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { otelEnv } from '../support/claude-cli';
import { buildCheckout, launchVSCode, repoRoot, type VSCode } from '../support/codeserver';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { freePort } from '../support/ports';
import { closeVSCodeAndServers, embeddedServerState, serverPidsOnPort, stackSql } from '../support/local-stack-vscode';
import { pidAlive } from '../../src/server/pid';
import {
  clickNotificationButton, dismissNotifications, newTerminal, openFile, runCommand, runInTerminal, statusBarAriaLabel,
  statusBarItem, waitForNotification, waitForStatusBarText,
} from '../support/vscode-ui';
import { eventually } from '../support/eventually';

const STATUS = 'chapterTelemetry.status';
const AUTHOR = 'ui-author';
const CH3 = '03-prompts';
const CH5 = '05-agents';
const root = mkdtempSync(join(tmpdir(), 'ct-ui-'));
const workspace = join(root, 'book');

let vs: VSCode;
let fake: FakeAnthropic;
let ports: { grpc: number; otlpHttp: number; http: number };

/** A Docusaurus-style book: docs/<NN-part>/<NN-chapter>/… */
function writeBook(): void {
  const files: Record<string, string> = {
    [`docs/01-foundations/${CH3}/index.md`]: '# Prompts\n',
    [`docs/02-practice/${CH5}/index.md`]: '# Agents\n',
    'docusaurus.config.js': 'module.exports = { title: "A book" };\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(workspace, rel, '..'), { recursive: true });
    writeFileSync(join(workspace, rel), text);
  }
}

const sql = (query: string, params: Record<string, string> = {}) => stackSql(ports, query, params);

/** The embedded server's state file (shared by every window of this VS Code), and the servers on this test's port. */
const serverState = () => embeddedServerState(vs);
const serverProcesses = () => serverPidsOnPort(ports.http);

const onText = /^Telemetry( · .+)?$/;

describe('extension UI in a real VS Code', () => {
  before(async () => {
    buildCheckout();
    writeBook();
    fake = await startFakeAnthropic();
    ports = { grpc: await freePort(), otlpHttp: await freePort(), http: await freePort() };
    // Only what points the CLI at the fake API; every telemetry variable must come from the extension.
    const cliEnv = Object.fromEntries(Object.entries(otelEnv({ protocol: 'grpc', endpoint: 'unused', apiUrl: fake.url }))
      .filter(([k]) => !k.startsWith('OTEL_') && k !== 'CLAUDE_CODE_ENABLE_TELEMETRY'));
    vs = await launchVSCode({
      workspace,
      extensionDevelopmentPath: repoRoot,
      name: 'ui',
      env: cliEnv,
      settings: {
        'chapterTelemetry.grpcPort': ports.grpc,
        'chapterTelemetry.otlpHttpPort': ports.otlpHttp,
        'chapterTelemetry.httpPort': ports.http,
        'chapterTelemetry.userId': AUTHOR,
        // The terminal must keep the env it was born with when the chapter changes (the blind spot under test).
        'terminal.integrated.environmentChangesRelaunch': false,
      },
    });
  });

  after(() => closeVSCodeAndServers(vs, ports, { fake, root }));

  test('the status bar starts Off; a click turns collection On and the server answers', async () => {
    const page = vs.page;
    await waitForStatusBarText(page, STATUS, /Telemetry Off/);
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, onText, 90_000);
    await vs.screenshot('01-on');
    const ping = await fetch(`http://127.0.0.1:${ports.http}/ping`);
    assert.equal((await ping.text()).trim(), 'Ok.');
    assert.match(await statusBarAriaLabel(page, STATUS), /Chapter Telemetry on/);
  });

  test('opening a file in chapter 3 then one in chapter 5 moves the status bar chapter', async () => {
    const page = vs.page;
    await openFile(page, `docs/01-foundations/${CH3}/index.md`);
    assert.equal(await waitForStatusBarText(page, STATUS, new RegExp(CH3)), `Telemetry · ${CH3}`);
    await vs.screenshot('02-chapter-3');
    await openFile(page, `docs/02-practice/${CH5}/index.md`);
    assert.equal(await waitForStatusBarText(page, STATUS, new RegExp(CH5)), `Telemetry · ${CH5}`);
    await vs.screenshot('03-chapter-5');
    // Each focus change travelled the OTLP pipeline as a chapter_focus record.
    const focus = await eventually('chapter_focus rows for both chapters', async () => {
      const rows = await sql('SELECT chapter FROM chapter_focus WHERE user_id = {u:String} ORDER BY timestamp FORMAT TSV', { u: AUTHOR });
      return rows.includes(CH3) && rows.includes(CH5) ? rows.split('\n') : undefined;
    });
    assert.deepEqual(focus.slice(-2), [CH3, CH5]);
  });

  let terminalOpened = false;
  test('a new terminal (opened under chapter 3) carries the endpoint and the resource attributes', async () => {
    const page = vs.page;
    await openFile(page, `docs/01-foundations/${CH3}/index.md`);
    await waitForStatusBarText(page, STATUS, new RegExp(CH3));
    await newTerminal(page);
    terminalOpened = true;
    const out = await runInTerminal(page, 'echo "$OTEL_EXPORTER_OTLP_ENDPOINT $OTEL_RESOURCE_ATTRIBUTES"; echo "$CLAUDE_CODE_ENABLE_TELEMETRY $OTEL_LOGS_EXPORTER $OTEL_METRICS_EXPORTER"');
    await vs.screenshot('04-terminal-env');
    const [endpointAndAttrs, flags] = out.split('\n');
    const [endpoint, attrs] = (endpointAndAttrs ?? '').split(' ');
    assert.equal(endpoint, `http://127.0.0.1:${ports.grpc}`);
    const kv = Object.fromEntries((attrs ?? '').split(',').map((p) => p.split('=').map(decodeURIComponent)));
    assert.equal(kv.chapter, CH3);
    assert.equal(kv.user_id, AUTHOR);
    assert.equal(flags, '1 otlp otlp');
  });

  let beforeVerify = '';
  test('Verify Collection before any Claude Code run says nothing has arrived yet', async () => {
    const page = vs.page;
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Verify Collection');
    beforeVerify = await waitForNotification(page, /Chapter Telemetry:/);
    await vs.screenshot('05-verify-empty');
    assert.match(beforeVerify, /nothing has arrived yet/);
  });

  test('claude in that terminal, after the focus moved to chapter 5, is counted and stored under chapter 5', async () => {
    assert.ok(terminalOpened, 'needs the terminal opened under chapter 3');
    const page = vs.page;
    await openFile(page, `docs/02-practice/${CH5}/index.md`);
    await waitForStatusBarText(page, STATUS, new RegExp(CH5));
    // The terminal still has chapter 3 in its env: only the focus timeline can know the author is on chapter 5.
    await page.locator('.terminal-wrapper.active .xterm').click();
    const before = fake.messageRequests().length;
    const out = await runInTerminal(page, 'claude -p "say hi" --model claude-sonnet-4-5; echo "exit=$?"', 180_000);
    await vs.screenshot('06-claude-in-terminal');
    assert.match(out, /Hello from the fake API\./);
    assert.match(out, /exit=0$/);
    assert.ok(fake.messageRequests().length > before, 'the CLI reached the fake API');

    const row = await eventually('the api_request event in events_attributed', async () => {
      const r = await sql(
        `SELECT chapter, chapter_source, chapter_context FROM events_attributed
         WHERE user_id = {u:String} AND event_type = 'api_request' ORDER BY timestamp DESC LIMIT 1 FORMAT TSV`, { u: AUTHOR });
      return r ? r.split('\t') : undefined;
    });
    assert.deepEqual(row, [CH5, 'focus', CH3]);

    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Verify Collection');
    const verified = await waitForNotification(page, /Collection works/);
    await vs.screenshot('07-verify-counted');
    const events = Number(/(\d+) event\(s\)/.exec(verified)?.[1]);
    const stored = Number(await sql(
      `SELECT count() FROM telemetry_events WHERE user_id = {u:String} AND timestamp > now() - INTERVAL 15 MINUTE`, { u: AUTHOR }));
    assert.ok(stored > 0);
    assert.equal(events, stored, `Verify said: ${verified}`);
  });

  test('a second window attaches to the running server instead of starting another', async () => {
    const first = serverState();
    assert.ok(first && pidAlive(first.pid), 'a server is running');
    assert.deepEqual(serverProcesses(), [first.pid]);
    const second: Page = await vs.openWindow();
    try {
      await waitForStatusBarText(second, STATUS, onText, 60_000);
      await vs.screenshot('08-second-window', second);
      assert.match(await statusBarAriaLabel(second, STATUS), /Chapter Telemetry on/);
      assert.equal(serverState()?.pid, first.pid);
      assert.deepEqual(serverProcesses(), [first.pid], 'still exactly one server process');
    } finally {
      await second.close();
    }
  });

  let holder: Server | undefined;
  after(() => holder?.close());

  test('a port held by another process gives a clear message; Restart recovers once it is free', async () => {
    const page = vs.page;
    await dismissNotifications(page);
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, /Telemetry Off/, 60_000);
    await eventually('the server to exit', async () => (serverProcesses().length === 0 ? true : undefined));

    holder = createServer();
    await new Promise<void>((r) => holder!.listen(ports.grpc, '127.0.0.1', r));
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, /Telemetry Error/, 90_000);
    const msg = await waitForNotification(page, /Chapter Telemetry:/);
    await vs.screenshot('09-port-held');
    assert.match(msg, new RegExp(`\\b${ports.grpc}\\b`), 'the message names the port');
    assert.match(msg, /in use|already used|held/i);

    await new Promise<void>((r) => holder!.close(() => r()));
    holder = undefined;
    await clickNotificationButton(page, /Chapter Telemetry:/, 'Restart');
    await waitForStatusBarText(page, STATUS, onText, 90_000);
    await vs.screenshot('10-restarted');

    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, /Telemetry Off/, 60_000);
    await eventually('the server to exit after Stop', async () => (serverProcesses().length === 0 ? true : undefined));
  });
});
