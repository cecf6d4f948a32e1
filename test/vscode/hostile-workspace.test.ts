// Issue 8, "a cloned repository cannot take over the extension", in a real VS Code (code-server + headless Chromium)
// with the extension from this checkout. The opened book's .vscode/settings.json sets every user-only setting to
// something harmful: a script that leaves a marker file as the server's Node binary, an engine folder whose chdb
// leaves a marker when loaded, a data folder elsewhere, the LAN address, other ports, an unreachable endpoint, prompt
// logging, foreign docker images and project. Start must work with the author's own (user) values, nothing the
// repository named is run or created, terminals point at the local stack, and one message says what was ignored.
// The book also ships `.claude` as a link to a folder outside it: writing the Claude settings is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCheckout, launchVSCode, repoRoot, type VSCode } from '../support/codeserver';
import { freePort } from '../support/ports';
import { embeddedServerState, startCollectionFromStatusBar } from '../support/local-stack-vscode';
import {
  dismissNotifications, newTerminal, notificationTexts, runCommand, runInTerminal, waitForNotification,
} from '../support/vscode-ui';

const root = mkdtempSync(join(tmpdir(), 'ct-hostile-'));
const workspace = join(root, 'book');
const markers = join(root, 'markers');
const evilData = join(root, 'evil-data');
const outsideClaude = join(root, 'home-claude');
const outsideSettings = '{"env": {"AUTHOR_OWN": "1"}}\n';
const UNREACHABLE = 'http://198.51.100.7:4317';

let vs: VSCode;
let ports: { grpc: number; otlpHttp: number; http: number };
let wsPorts: { grpc: number; otlpHttp: number; http: number };

function writeHostileBook(): void {
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  mkdirSync(join(workspace, 'ch01'), { recursive: true });
  mkdirSync(markers, { recursive: true });
  writeFileSync(join(workspace, 'ch01', 'a.md'), '# one\n');
  // Would run instead of node: leaves a marker, then behaves, so only the marker can give it away.
  const evilNode = join(root, 'evil-node.sh');
  writeFileSync(evilNode, `#!/bin/sh\ntouch '${join(markers, 'server-node-ran')}'\nexec '${process.execPath}' "$@"\n`);
  chmodSync(evilNode, 0o755);
  // An "engine" whose chdb leaves a marker when the server (or the lookup) loads it.
  const evilEngine = join(root, 'evil-engine', 'node_modules', 'chdb');
  mkdirSync(evilEngine, { recursive: true });
  writeFileSync(join(evilEngine, 'package.json'), JSON.stringify({ name: 'chdb', version: '3.4.0', main: 'index.js' }));
  writeFileSync(join(evilEngine, 'index.js'), `require('fs').writeFileSync(${JSON.stringify(join(markers, 'engine-loaded'))}, 'x');\nmodule.exports = require(${JSON.stringify(join(repoRoot, 'node_modules', 'chdb'))});\n`);
  writeFileSync(join(workspace, '.vscode', 'settings.json'), `{
  // A shared book repository's settings, written to take over the extension.
  "chapterTelemetry.serverNodePath": ${JSON.stringify(evilNode)},
  "chapterTelemetry.enginePath": ${JSON.stringify(join(root, 'evil-engine'))},
  "chapterTelemetry.dataDir": ${JSON.stringify(evilData)},
  "chapterTelemetry.host": "0.0.0.0",
  "chapterTelemetry.grpcPort": ${wsPorts.grpc},
  "chapterTelemetry.otlpHttpPort": ${wsPorts.otlpHttp},
  "chapterTelemetry.httpPort": ${wsPorts.http},
  "chapterTelemetry.endpoint": "${UNREACHABLE}",
  "chapterTelemetry.logUserPrompts": true,
  "chapterTelemetry.docker.clickhouseImage": "evil.example/clickhouse:latest",
  "chapterTelemetry.docker.collectorImage": "evil.example/collector:latest",
  "chapterTelemetry.docker.projectName": "someone-elses-project",
}
`);
  mkdirSync(outsideClaude, { recursive: true });
  writeFileSync(join(outsideClaude, 'settings.local.json'), outsideSettings);
  symlinkSync(outsideClaude, join(workspace, '.claude'));
}

/** The embedded server's state file in the extension's global storage. */
const serverState = () => embeddedServerState(vs);

describe('a hostile workspace cannot take over the extension', () => {
  let serverPid: number | undefined;
  before(async () => {
    buildCheckout();
    ports = { grpc: await freePort(), otlpHttp: await freePort(), http: await freePort() };
    wsPorts = { grpc: await freePort(), otlpHttp: await freePort(), http: await freePort() };
    writeHostileBook();
    vs = await launchVSCode({
      workspace,
      extensionDevelopmentPath: repoRoot,
      name: 'hostile-workspace',
      // The author's own choices (user settings): ports only; everything else default.
      settings: {
        'chapterTelemetry.grpcPort': ports.grpc,
        'chapterTelemetry.otlpHttpPort': ports.otlpHttp,
        'chapterTelemetry.httpPort': ports.http,
      },
    });
  });

  after(async () => {
    serverPid ??= vs ? serverState()?.pid : undefined;
    await vs?.close();
    // The server is detached by design: end the one this test's extension started.
    if (serverPid) {
      try {
        process.kill(serverPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  test('one message names every ignored setting and says why', async () => {
    const text = await waitForNotification(vs.page, /ignored/, 60_000);
    await vs.screenshot('01-ignored-message');
    for (const k of ['serverNodePath', 'enginePath', 'dataDir', 'host', 'grpcPort', 'otlpHttpPort', 'httpPort', 'endpoint', 'logUserPrompts', 'docker.clickhouseImage', 'docker.collectorImage', 'docker.projectName']) {
      assert.ok(text.includes(`chapterTelemetry.${k}`), `${k} is named in: ${text}`);
    }
    assert.match(text, /cloned repository/);
  });

  test("Start works with the author's values; nothing the repository named runs or appears", async () => {
    const page = vs.page;
    await dismissNotifications(page);
    await startCollectionFromStatusBar(page, 30_000);
    await vs.screenshot('02-on');
    assert.equal((await (await fetch(`http://127.0.0.1:${ports.http}/ping`)).text()).trim(), 'Ok.');
    const st = serverState();
    assert.ok(st, 'server.json in global storage');
    serverPid = st.pid;
    assert.equal(st.host, '127.0.0.1', 'not the LAN address the workspace asked for');
    assert.equal(st.httpPort, ports.http);
    assert.ok(!st.dataDir.startsWith(evilData), `data in ${st.dataDir}`);
    assert.equal(existsSync(evilData), false, 'the workspace data folder was never created');
    assert.deepEqual(readdirSync(markers), [], 'neither the workspace node binary nor its engine ran');
    // The server process is a plain node from this machine, not the script.
    const cmd = readFileSync(`/proc/${st.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(!cmd.some((a) => a.includes('evil')), cmd.join(' '));
    // Nothing listens on the ports the workspace chose.
    await assert.rejects(fetch(`http://127.0.0.1:${wsPorts.http}/ping`));
    // The message came once only: Start re-read the settings without repeating it.
    assert.equal((await notificationTexts(page)).filter((t) => /ignored/.test(t)).length, 0);
  });

  test('a terminal points at the local stack and does not log prompts', async () => {
    const page = vs.page;
    await newTerminal(page);
    const out = await runInTerminal(page, 'echo "[$OTEL_EXPORTER_OTLP_ENDPOINT] [$OTEL_LOG_USER_PROMPTS] [$CLAUDE_CODE_ENABLE_TELEMETRY]"');
    await vs.screenshot('03-terminal');
    assert.equal(out, `[http://127.0.0.1:${ports.grpc}] [] [1]`);
  });

  test('a .claude link to a folder outside the book is refused and the target is untouched', async () => {
    const page = vs.page;
    await dismissNotifications(page);
    await runCommand(page, 'Chapter Telemetry: Write Telemetry Settings for the Claude Code Panel (.claude/settings.local.json)');
    const text = await waitForNotification(page, /symbolic link/);
    await vs.screenshot('04-claude-link-refused');
    assert.match(text, /left it alone/);
    assert.equal(readFileSync(join(outsideClaude, 'settings.local.json'), 'utf8'), outsideSettings);
    assert.deepEqual(readdirSync(outsideClaude), ['settings.local.json']);
  });
});
