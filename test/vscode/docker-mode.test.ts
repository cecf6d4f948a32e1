// Issue 5's VS Code half, in a real VS Code (code-server + headless Chromium) with a real Docker Engine: the real
// Claude Code CLI (fake Anthropic API on loopback) fills the embedded store from a VS Code terminal; "Switch Mode"
// carries that history into the docker stack (counts match); the docker stack is what a Start from the status bar
// runs (healthy, Compose labels, loopback ports, docker-compose sees it, container logs in the output channel);
// the CLI exports into it and Verify counts it; Stop/Start keeps the data; a held port is named; switching back
// without the history leaves both stores as they were.
// Stand-in images (scripts/setup/20-docker.sh), a unique compose project and free ports: a developer's own stack is
// never touched. The steps share one window and build on each other, in order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { sourceTables } from '../../src/stack/migrate-history';
import { composeFile, docker, leftovers, nofileHere, purge, STANDIN_CLICKHOUSE, STANDIN_COLLECTOR, uniqueProject } from '../docker/helpers';
import { otelEnv } from '../support/claude-cli';
import { buildCheckout, launchVSCode, repoRoot, type VSCode } from '../support/codeserver';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { freePort } from '../support/ports';
import {
  clickNotificationButton, dismissNotifications, newTerminal, runCommand, runInTerminal, statusBarItem,
  waitForNotification, waitForStatusBarText,
} from '../support/vscode-ui';
import { eventually } from '../support/eventually';

const STATUS = 'chapterTelemetry.status';
const AUTHOR = 'docker-author';
const onText = /^Telemetry( · .+)?$/;
const root = mkdtempSync(join(tmpdir(), 'ct-docker-ui-'));
const workspace = join(root, 'book');
const project = uniqueProject('vscode');
const squatter = `${project}-clickhouse-1`;

let vs: VSCode;
let fake: FakeAnthropic;
let ports: { grpc: number; otlpHttp: number; http: number; metrics: number };

async function sql(query: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${ports.http}/`, { method: 'POST', body: query });
  const text = await res.text();
  if (!res.ok) throw new Error(`SQL failed (${res.status}): ${text}`);
  return text.trim();
}

/** Rows per source table of the store on the test's ClickHouse HTTP port (whichever mode runs it). */
async function tableCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of await sourceTables(`http://127.0.0.1:${ports.http}/`)) out[t] = Number(await sql(`SELECT count() FROM default.\`${t}\``));
  return out;
}

/** This suite's waits are longer than the shared default: servers restart under it. */
const eventuallyLong = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => eventually(what, fn, timeoutMs);

/** Embedded server processes this VS Code started (normal or temporary ports): their state files live in its user data. */
function serverProcesses(): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('server.js') && l.includes(vs.userDataDir)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** Clicks the quick-pick row whose label matches `label` (waits for the pick to show it). */
async function pick(page: Page, label: RegExp, timeoutMs = 120_000): Promise<void> {
  const row = page.locator('.quick-input-widget .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: label }) }).first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click();
}

/** The status bar tooltip (hover), where the mode is named. */
async function tooltip(page: Page): Promise<string> {
  await page.mouse.move(700, 300);
  await statusBarItem(page, STATUS).hover();
  const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'Mode:' }).first();
  await hover.waitFor({ state: 'visible', timeout: 15_000 });
  const text = ((await hover.textContent()) ?? '').replace(/\s+/g, ' ');
  await page.mouse.move(700, 300);
  return text;
}

/** What the extension wrote to its "Chapter Telemetry" output channel (a log file in the user-data dir). */
function outputChannelText(): string {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('Chapter Telemetry.log')) found.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(vs.userDataDir, 'logs'));
  return found.join('\n');
}

async function projectContainers(all = false) {
  return await docker.listContainers({ all, filters: { label: [`com.docker.compose.project=${project}`] } });
}

async function claudeInTerminal(page: Page): Promise<void> {
  const before = fake.messageRequests().length;
  await page.locator('.terminal-wrapper.active .xterm').click();
  const out = await runInTerminal(page, 'claude -p "say hi" --model claude-sonnet-4-5; echo "exit=$?"', 180_000);
  assert.match(out, /Hello from the fake API\./);
  assert.match(out, /exit=0$/);
  assert.ok(fake.messageRequests().length > before, 'the CLI reached the fake API');
}

describe('docker mode and Switch Mode in a real VS Code with a real Docker Engine', () => {
  before(async () => {
    buildCheckout();
    mkdirSync(join(workspace, 'docs', '01-part', '03-prompts'), { recursive: true });
    writeFileSync(join(workspace, 'docs', '01-part', '03-prompts', 'index.md'), '# Prompts\n');
    fake = await startFakeAnthropic();
    // Four different ports: a port freed a moment ago can be handed out again.
    const picked = new Set<number>();
    while (picked.size < 4) picked.add(await freePort());
    const [grpc, otlpHttp, http, metrics] = [...picked] as [number, number, number, number];
    ports = { grpc, otlpHttp, http, metrics };
    // Only what points the CLI at the fake API; every telemetry variable must come from the extension.
    const cliEnv = Object.fromEntries(Object.entries(otelEnv({ protocol: 'grpc', endpoint: 'unused', apiUrl: fake.url }))
      .filter(([k]) => !k.startsWith('OTEL_') && k !== 'CLAUDE_CODE_ENABLE_TELEMETRY'));
    vs = await launchVSCode({
      workspace,
      extensionDevelopmentPath: repoRoot,
      name: 'docker-mode',
      // Compose variables reach the backend through the extension host's environment (Docker may not raise
      // the open-files limit above its own here).
      env: { ...cliEnv, CLICKHOUSE_NOFILE: nofileHere(), OTELCOL_NOFILE: nofileHere(), OTELCOL_METRICS_PORT: String(ports.metrics) },
      settings: {
        'chapterTelemetry.grpcPort': ports.grpc,
        'chapterTelemetry.otlpHttpPort': ports.otlpHttp,
        'chapterTelemetry.httpPort': ports.http,
        'chapterTelemetry.userId': AUTHOR,
        // The images and the project through the settings (the stand-ins: nothing can be pulled here).
        'chapterTelemetry.docker.clickhouseImage': STANDIN_CLICKHOUSE,
        'chapterTelemetry.docker.collectorImage': STANDIN_COLLECTOR,
        'chapterTelemetry.docker.projectName': project,
      },
    });
  });

  let holder: Server | undefined;
  after(async () => {
    holder?.close();
    const pids = vs ? serverProcesses() : [];
    await vs?.close();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await purge(project);
    await docker.getContainer(squatter).remove({ force: true }).catch(() => undefined);
    await fake?.close();
    rmSync(root, { recursive: true, force: true });
  });

  let history: Record<string, number> = {};
  test('embedded first: the status bar turns collection on and claude in a terminal fills the store', async () => {
    const page = vs.page;
    await waitForStatusBarText(page, STATUS, /Telemetry Off/);
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, onText, 120_000);
    assert.match(await tooltip(page), /Mode: embedded/);
    await newTerminal(page);
    await claudeInTerminal(page);
    await eventuallyLong('the api_request in the embedded store', async () =>
      Number(await sql(`SELECT count() FROM telemetry_events WHERE user_id = '${AUTHOR}' AND event_type = 'api_request'`)) > 0 ? true : undefined);
    // The CLI has exited (it flushes before exit); the counts are settled once two reads agree.
    let prev = '';
    history = await eventuallyLong('settled counts', async () => {
      const c = await tableCounts();
      const now = JSON.stringify(c);
      const same = now === prev;
      prev = now;
      if (!same) await new Promise((r) => setTimeout(r, 1500));
      return same ? c : undefined;
    });
    assert.ok(history.otel_logs! > 0 && history.otel_metrics_sum! > 0, JSON.stringify(history));
    await vs.screenshot('01-embedded-on');
  });

  let switchMessage = '';
  test('Switch Mode embedded → docker carrying the history: progress, count check, counts match on the docker side', async () => {
    const page = vs.page;
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Switch Mode');
    await pick(page, /^docker$/, 20_000);
    // Both stores are up (the docker one on temporary ports) before the question, which shows the count.
    const total = Object.values(history).reduce((a, b) => a + b, 0);
    const carry = page.locator('.quick-input-widget .monaco-list-row', { hasText: `Carry the history across (${total} records)` }).first();
    await carry.waitFor({ state: 'visible', timeout: 180_000 });
    await vs.screenshot('02-carry-question');
    await carry.click();
    switchMessage = await waitForNotification(page, /now in docker mode/, 240_000);
    assert.match(switchMessage, /counts match/);
    assert.match(switchMessage, new RegExp(`${total} records copied`));
    for (const [table, rows] of Object.entries(history)) {
      if (rows > 0) assert.match(switchMessage, new RegExp(`${table} ${rows}/${rows}`));
    }
    await waitForStatusBarText(page, STATUS, onText, 60_000);
    await vs.screenshot('03-switched-to-docker');
    assert.match(await tooltip(page), /Mode: docker/);
    // The docker stack serves the normal (test) ports now, with the same rows; the embedded server is gone.
    assert.deepEqual(await tableCounts(), history);
    assert.deepEqual(serverProcesses(), []);
    const settings = JSON.parse(readFileSync(join(vs.userDataDir, 'User', 'settings.json'), 'utf8'));
    assert.equal(settings['chapterTelemetry.mode'], 'docker');
  });

  test('the docker stack: both containers up, ClickHouse healthy, Compose labels, loopback-only ports, logs in the output channel', async () => {
    const containers = await projectContainers();
    assert.equal(containers.length, 2);
    const ch = await docker.getContainer(`${project}-clickhouse-1`).inspect();
    assert.equal(ch.State.Health?.Status, 'healthy');
    assert.equal(ch.Config.Image, STANDIN_CLICKHOUSE);
    for (const service of ['clickhouse', 'otel-collector']) {
      const l = (await docker.getContainer(`${project}-${service}-1`).inspect()).Config.Labels;
      assert.equal(l['com.docker.compose.project'], project);
      assert.equal(l['com.docker.compose.service'], service);
      assert.equal(l['com.docker.compose.oneoff'], 'False');
      assert.match(l['com.docker.compose.config-hash'] ?? '', /^[0-9a-f]{64}$/);
      // The compose file the extension ships (here: the development checkout it runs from).
      assert.equal(l['com.docker.compose.project.config_files'], composeFile);
    }
    const published = containers.flatMap((c) => c.Ports.filter((p) => p.PublicPort));
    assert.deepEqual(published.map((p) => p.IP), ['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
    assert.deepEqual(published.map((p) => p.PublicPort).sort((a, b) => a - b), [ports.grpc, ports.otlpHttp, ports.http, ports.metrics].sort((a, b) => a - b));
    const left = await leftovers(project);
    assert.deepEqual(left.volumes.sort(), [`${project}_clickhouse-data`, `${project}_collector-queue`]);
    const log = await eventuallyLong('container logs in the output channel', async () => {
      const t = outputChannelText();
      return /\[clickhouse\] /.test(t) ? t : undefined;
    });
    assert.match(log, /Collection on \(docker\)/);
  });

  test("Debian's docker-compose lists the project", () => {
    const env = { ...process.env, CLICKHOUSE_IMAGE: STANDIN_CLICKHOUSE, OTELCOL_IMAGE: STANDIN_COLLECTOR, CLICKHOUSE_NOFILE: nofileHere(), OTELCOL_NOFILE: nofileHere(),
      OTLP_GRPC_PORT: String(ports.grpc), OTLP_HTTP_PORT: String(ports.otlpHttp), CLICKHOUSE_HTTP_PORT: String(ports.http),
      // The compose file names the writer's secrets folder (telemetry-server/README.md); `ps` reads no mount, any path does.
      CHAPTER_TELEMETRY_SECRETS: '/nonexistent-secrets-folder' };
    const out = execFileSync('docker-compose', ['-f', composeFile, '-p', project, 'ps'], { encoding: 'utf8', env });
    assert.match(out, new RegExp(`${project}-clickhouse-1 .*Up \\(healthy\\)`));
    assert.match(out, new RegExp(`${project}-otel-collector-1 .*Up`));
  });

  test('claude in the same terminal (same ports) exports into the docker stack; Verify Collection counts it', async () => {
    const page = vs.page;
    const before = Number(await sql(`SELECT count() FROM telemetry_events WHERE user_id = '${AUTHOR}' AND event_type = 'api_request'`));
    await claudeInTerminal(page);
    await eventuallyLong('the new api_request in the docker store', async () =>
      Number(await sql(`SELECT count() FROM telemetry_events WHERE user_id = '${AUTHOR}' AND event_type = 'api_request'`)) > before ? true : undefined);
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Verify Collection');
    const verified = await waitForNotification(page, /Collection works/);
    await vs.screenshot('04-docker-verify');
    const events = Number(/(\d+) event\(s\)/.exec(verified)?.[1]);
    const stored = Number(await sql(`SELECT count() FROM otel_logs WHERE TimestampTime >= now() - INTERVAL 15 MINUTE AND ServiceName != 'chapter-telemetry'`));
    assert.ok(stored > history.otel_logs!, 'new events on top of the copied ones');
    assert.equal(events, stored, `Verify said: ${verified}`);
  });

  test('Stop keeps containers and volumes; Start from the status bar brings docker back with the data', async () => {
    const page = vs.page;
    const before = await tableCounts();
    await dismissNotifications(page);
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, /Telemetry Off/, 60_000);
    assert.deepEqual(await projectContainers(false), [], 'no container running');
    const left = await leftovers(project);
    assert.equal(left.containers.length, 2);
    assert.equal(left.volumes.length, 2);
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, onText, 120_000);
    await vs.screenshot('05-docker-restarted');
    assert.match(await tooltip(page), /Mode: docker/);
    assert.equal((await docker.getContainer(`${project}-clickhouse-1`).inspect()).State.Health?.Status, 'healthy');
    assert.deepEqual(await tableCounts(), before);
  });

  test('a port held by another program: the message names it; Restart recovers once it is free', async () => {
    const page = vs.page;
    await dismissNotifications(page);
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, /Telemetry Off/, 60_000);
    holder = createServer();
    await new Promise<void>((r) => holder!.listen(ports.grpc, '127.0.0.1', r));
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, /Telemetry Error/, 60_000);
    const msg = await waitForNotification(page, /Chapter Telemetry:/);
    await vs.screenshot('06-docker-port-held');
    assert.match(msg, new RegExp(`Port ${ports.grpc} \\(OTLP`));
    assert.deepEqual(await projectContainers(false), [], 'nothing half-started');
    await new Promise<void>((r) => holder!.close(() => r()));
    holder = undefined;
    await clickNotificationButton(page, /Chapter Telemetry:/, 'Restart');
    await waitForStatusBarText(page, STATUS, onText, 120_000);
  });

  test('Switch Mode docker → embedded without the history (the embedded store already has it): both stores stay as they were', async () => {
    const page = vs.page;
    const dockerCounts = await tableCounts();
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Switch Mode');
    await pick(page, /^embedded$/, 20_000);
    // The embedded store holds the original history: not copying again is offered first.
    const first = page.locator('.quick-input-widget .monaco-list-row').first();
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Switch without the history' }).waitFor({ state: 'visible', timeout: 180_000 });
    assert.match((await first.textContent()) ?? '', /Switch without the history/);
    assert.match(await page.locator('.quick-input-widget').textContent() ?? '', /already holds \d+ records/);
    await vs.screenshot('07-switch-back-question');
    await first.click();
    const msg = await waitForNotification(page, /now in embedded mode/, 180_000);
    await vs.screenshot('08-switched-to-embedded');
    assert.doesNotMatch(msg, /copied/);
    await waitForStatusBarText(page, STATUS, onText, 60_000);
    assert.match(await tooltip(page), /Mode: embedded/);
    assert.deepEqual(await tableCounts(), history, 'the embedded store is as it was before the first switch');
    assert.deepEqual(await projectContainers(false), [], 'the docker stack is stopped');
    assert.equal((await leftovers(project)).volumes.length, 2, 'its data is kept');
    assert.ok(dockerCounts.otel_logs! > history.otel_logs!);
  });

  test('a switch that fails (a stray container holds the name Docker needs) leaves the old mode collecting, its data intact, the setting unchanged', async () => {
    const page = vs.page;
    const before = await tableCounts();
    // As if someone removed the project's containers and ran their own under the same name (no Compose labels).
    for (const c of await projectContainers(true)) await docker.getContainer(c.Id).remove({ force: true });
    const dockerBefore = await leftovers(project);
    await docker.createContainer({ name: squatter, Image: STANDIN_CLICKHOUSE, Cmd: ['true'] });
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Switch Mode');
    await pick(page, /^docker$/, 20_000);
    const msg = await waitForNotification(page, /switching to docker failed/, 180_000);
    await vs.screenshot('09-switch-failed');
    assert.match(msg, /Docker could not start the stack/);
    assert.match(msg, new RegExp(squatter));
    assert.match(msg, /Still in embedded mode, collecting as before; nothing was deleted/);
    await waitForStatusBarText(page, STATUS, onText, 30_000);
    assert.match(await tooltip(page), /Mode: embedded/);
    assert.deepEqual(await tableCounts(), before, 'the embedded store answers on the normal ports, untouched');
    assert.equal(JSON.parse(readFileSync(join(vs.userDataDir, 'User', 'settings.json'), 'utf8'))['chapterTelemetry.mode'], 'embedded');
    // What the failed start created is gone; what was there before (network, data volumes) is kept.
    assert.deepEqual(await leftovers(project), dockerBefore);
    assert.equal(dockerBefore.volumes.length, 2);
    assert.equal((await docker.getContainer(squatter).inspect()).Name, `/${squatter}`, 'a container that is not ours is left alone');
    // Leave nothing running: Stop from the status bar.
    await dismissNotifications(page);
    await statusBarItem(page, STATUS).click();
    await waitForStatusBarText(page, STATUS, /Telemetry Off/, 60_000);
    await eventuallyLong('no embedded server left', async () => (serverProcesses().length === 0 ? true : undefined));
  });
});
