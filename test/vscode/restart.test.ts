// Issue 13 in a real VS Code (code-server + headless Chromium, the extension from this checkout): the embedded
// server killed with kill -9 while collecting is restarted by the extension — the status bar shows Restarting…,
// then On — and the real Claude Code CLI's next export after the restart is stored. Three crashes within a minute
// end the automatic restarts: Error, a message with the last log lines, and its Restart action brings it back.
// The steps share one window and build on each other, in order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runClaude } from '../support/claude-cli';
import { buildCheckout, launchVSCode, repoRoot, type VSCode } from '../support/codeserver';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { freePort } from '../support/ports';
import { closeVSCodeAndServers, embeddedServerState, serverPidsOnPort, stackSql } from '../support/local-stack-vscode';
import { pidAlive } from '../../src/server/pid';
import { clickNotificationButton, dismissNotifications, statusBarItem, waitForNotification, waitForStatusBarText } from '../support/vscode-ui';
import { eventually } from '../support/eventually';

const STATUS = 'chapterTelemetry.status';
const AUTHOR = 'restart-author';
const onText = /^Telemetry( · .+)?$/;
const root = mkdtempSync(join(tmpdir(), 'ct-restart-'));
const workspace = join(root, 'book');

let vs: VSCode;
let fake: FakeAnthropic;
let ports: { grpc: number; otlpHttp: number; http: number };
const killed: number[] = [];

const sql = (query: string, params: Record<string, string> = {}) => stackSql(ports, query, params);

/** The embedded server's state file (undefined also while it is being rewritten), and the servers on this test's port. */
const serverState = () => embeddedServerState(vs);
const serverProcesses = () => serverPidsOnPort(ports.http);

/** The non-empty lines of the embedded server's log (server.log next to server.json). */
function serverLogLines(): string[] {
  const base = join(vs.userDataDir, 'User', 'globalStorage');
  for (const dir of readdirSync(base)) {
    try {
      return readFileSync(join(base, dir, 'server.log'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    } catch {
      // not this extension's folder
    }
  }
  return [];
}

/** This suite's waits are longer than the shared default: servers restart under it. */
const eventuallyLong = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => eventually(what, fn, timeoutMs);

/** The running server's pid, once it is a new one (not one this test killed) and the status bar says On. */
async function runningServer(): Promise<number> {
  await waitForStatusBarText(vs.page, STATUS, onText, 120_000);
  return await eventuallyLong('a live server in server.json', async () => {
    const pid = serverState()?.pid;
    return pid && !killed.includes(pid) && pidAlive(pid) ? pid : undefined;
  });
}

function kill9(pid: number): void {
  killed.push(pid);
  process.kill(pid, 'SIGKILL');
}

/** The real CLI, exporting over gRPC to the stack's port; resolves once its api_request is stored. */
async function claudeExportStored(label: string): Promise<void> {
  const run = await runClaude({ prompt: `say hi (${label})`, protocol: 'grpc', endpoint: `http://127.0.0.1:${ports.grpc}`, apiUrl: fake.url, resourceAttributes: { user_id: AUTHOR } });
  assert.equal(run.code, 0, run.stderr);
  await eventuallyLong(`the ${label} run's api_request in telemetry_events`, async () => {
    const n = Number(await sql("SELECT count() FROM telemetry_events WHERE session_id = {s:String} AND event_type = 'api_request'", { s: run.sessionId }));
    return n > 0 ? n : undefined;
  });
}

describe('the embedded server is restarted after an unexpected exit', () => {
  before(async () => {
    buildCheckout();
    mkdirSync(join(workspace, 'docs', '01-start'), { recursive: true });
    writeFileSync(join(workspace, 'docs', '01-start', 'index.md'), '# Start\n');
    fake = await startFakeAnthropic();
    ports = { grpc: await freePort(), otlpHttp: await freePort(), http: await freePort() };
    vs = await launchVSCode({
      workspace,
      extensionDevelopmentPath: repoRoot,
      name: 'restart',
      settings: {
        'chapterTelemetry.grpcPort': ports.grpc,
        'chapterTelemetry.otlpHttpPort': ports.otlpHttp,
        'chapterTelemetry.httpPort': ports.http,
        'chapterTelemetry.userId': AUTHOR,
      },
    });
  });

  after(() => closeVSCodeAndServers(vs, ports, { fake, root }));

  test('kill -9 while collecting: Restarting…, then On, and the next Claude Code export is stored', async () => {
    const page = vs.page;
    await waitForStatusBarText(page, STATUS, /Telemetry Off/);
    await statusBarItem(page, STATUS).click();
    const first = await runningServer();
    await claudeExportStored('before the crash');

    kill9(first);
    await waitForStatusBarText(page, STATUS, /Telemetry Restarting…/);
    await vs.screenshot('01-restarting');
    const second = await runningServer();
    await vs.screenshot('02-on-again');
    assert.notEqual(second, first);
    assert.deepEqual(serverProcesses(), [second], 'exactly one server runs');
    await claudeExportStored('after the restart');
  });

  test('three crashes within a minute: Error with the last log lines; Restart brings collection back', async () => {
    const page = vs.page;
    // Stop and Start: the crash count starts afresh, so this test does not depend on the previous one's timing.
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, /Telemetry Off/, 60_000);
    await dismissNotifications(page);
    await statusBarItem(page, STATUS).click();

    kill9(await runningServer());
    await waitForStatusBarText(page, STATUS, /Telemetry Restarting…/);
    kill9(await runningServer());
    await waitForStatusBarText(page, STATUS, /Telemetry Restarting…/);
    kill9(await runningServer());
    await waitForStatusBarText(page, STATUS, /Telemetry Error/);
    const msg = await waitForNotification(page, /stopped unexpectedly 3 times within a minute/);
    await vs.screenshot('03-gave-up');
    assert.match(msg, /no longer restarted automatically/);
    assert.match(msg, /signal SIGKILL/);
    const lastLogLine = serverLogLines().at(-1);
    assert.ok(lastLogLine && msg.includes(`Last log lines: `) && msg.includes(lastLogLine), `the server's last log line (${lastLogLine}) is in the message: ${msg}`);
    await eventuallyLong('no server process left', async () => (serverProcesses().length === 0 ? true : undefined), 20_000);

    await clickNotificationButton(page, /stopped unexpectedly 3 times/, 'Restart');
    await runningServer();
    await vs.screenshot('04-restarted-by-hand');
    await claudeExportStored('after Restart');

    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, /Telemetry Off/, 60_000);
    await eventuallyLong('the server to exit after Stop', async () => (serverProcesses().length === 0 ? true : undefined));
  });
});
