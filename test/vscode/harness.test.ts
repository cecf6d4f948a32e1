// Proves the harness itself, independent of the product extension: a tiny extension written here loads into the real
// code-server, its command and status bar item are reachable from the UI, the environment given to code-server
// reaches terminals, a notification VS Code keeps out of the toasts is still found, and a mocha run's pass and fail both
// come back through codeAutomationExit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchVSCode, repoRoot, type VSCode } from '../support/codeserver';
import { dismissNotifications, hasCommand, newTerminal, notificationTexts, runCommand, runInTerminal, statusBarText, waitForNotification, waitForStatusBarText } from '../support/vscode-ui';

const root = mkdtempSync(join(tmpdir(), 'ct-harness-'));
const ext = join(root, 'ext');
const workspace = join(root, 'ws');

function writeFixture(): void {
  mkdirSync(join(ext, 'test'), { recursive: true });
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'notes.md'), '# notes\n');
  writeFileSync(join(ext, 'package.json'), JSON.stringify({
    name: 'harness-fixture', publisher: 'ct-test', version: '0.0.1', engines: { vscode: '^1.100.0' },
    main: './extension.js', activationEvents: ['onStartupFinished'],
    contributes: { commands: [
      { command: 'harnessFixture.bump', title: 'Bump Counter', category: 'Harness Fixture' },
      { command: 'harnessFixture.burst', title: 'Notification Burst', category: 'Harness Fixture' },
    ] },
  }));
  writeFileSync(join(ext, 'extension.js'), `
const vscode = require('vscode');
exports.activate = (context) => {
  let n = 0;
  const item = vscode.window.createStatusBarItem('harnessFixture.counter', vscode.StatusBarAlignment.Left, 100);
  item.text = 'Fixture ' + n + ' ' + (process.env.CT_HARNESS_MARK || 'no-env');
  item.show();
  context.subscriptions.push(item, vscode.commands.registerCommand('harnessFixture.bump', () => {
    n += 1;
    item.text = 'Fixture ' + n + ' ' + (process.env.CT_HARNESS_MARK || 'no-env');
  }), vscode.commands.registerCommand('harnessFixture.burst', () => {
    for (let i = 1; i <= 5; i++) void vscode.window.showInformationMessage('Burst message ' + i);
  }));
};
`);
  // A mocha entry in the shape @vscode/test-electron expects: run() resolves on success, rejects on failures.
  writeFileSync(join(ext, 'test', 'index.js'), `
const Mocha = require(${JSON.stringify(join(repoRoot, 'node_modules', 'mocha'))});
exports.run = () => new Promise((resolve, reject) => {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 20000 });
  mocha.addFile(__dirname + '/fixture.test.js');
  mocha.run((failures) => failures ? reject(new Error(failures + ' tests failed')) : resolve());
});
`);
  writeFileSync(join(ext, 'test', 'fixture.test.js'), `
const assert = require('assert');
const vscode = require('vscode');
suite('fixture', () => {
  test('command is registered', async () => {
    await vscode.extensions.getExtension('ct-test.harness-fixture').activate();
    assert.ok((await vscode.commands.getCommands(true)).includes('harnessFixture.bump'));
  });
  test('failure on request', () => {
    assert.notStrictEqual(process.env.CT_HARNESS_FAIL, '1', 'asked to fail');
  });
});
`);
}

describe('code-server harness', () => {
  before(writeFixture);
  after(() => rmSync(root, { recursive: true, force: true }));

  describe('UI', () => {
    let vs: VSCode;
    before(async () => {
      vs = await launchVSCode({ workspace, extensionDevelopmentPath: ext, env: { CT_HARNESS_MARK: 'env-ok' }, name: 'harness-ui' });
    });
    after(async () => vs?.close());

    test('the extension under development activates and shows its status bar item', async () => {
      const text = await waitForStatusBarText(vs.page, 'harnessFixture.counter', /Fixture 0/);
      assert.match(text, /^Fixture 0 env-ok$/, 'env given to code-server reaches the extension host');
    });

    test('its command is in the palette and runs', async () => {
      assert.equal(await hasCommand(vs.page, 'Harness Fixture: Bump Counter'), true);
      assert.equal(await hasCommand(vs.page, 'Harness Fixture: No Such Command', 1500), false);
      await runCommand(vs.page, 'Harness Fixture: Bump Counter');
      await waitForStatusBarText(vs.page, 'harnessFixture.counter', /Fixture 1/);
      assert.equal(await statusBarText(vs.page, 'harnessFixture.counter'), 'Fixture 1 env-ok');
    });

    test('a burst of notifications: VS Code toasts only some, waitForNotification finds the rest in the notification center', async () => {
      await dismissNotifications(vs.page);
      await runCommand(vs.page, 'Harness Fixture: Notification Burst');
      await waitForNotification(vs.page, /^Burst message 1$/);
      // VS Code starts at most 3 toasts per 800 ms: the burst's fifth is not among them.
      assert.equal((await notificationTexts(vs.page)).some((t) => /Burst message 5/.test(t)), false);
      assert.equal(await waitForNotification(vs.page, /^Burst message 5$/, 20_000), 'Burst message 5');
      await dismissNotifications(vs.page);
    });

    test('a terminal sees the env and the pinned claude on PATH', async () => {
      await newTerminal(vs.page);
      const out = await runInTerminal(vs.page, 'echo "$CT_HARNESS_MARK"; command -v claude');
      await vs.screenshot('terminal');
      assert.deepEqual(out.split('\n').map((l) => l.trim()), ['env-ok', join(repoRoot, 'node_modules', '.bin', 'claude')]);
    });
  });

  test('a passing mocha run reports exit code 0 and its tests', async () => {
    const vs = await launchVSCode({ workspace, extensionDevelopmentPath: ext, extensionTestsPath: join(ext, 'test', 'index.js'), name: 'harness-pass' });
    try {
      const r = await vs.runTests();
      assert.equal(r.exitCode, 0, r.log);
      assert.match(r.log, /2 passing/);
    } finally {
      await vs.close();
    }
  });

  test('a failing mocha run reports a non-zero exit code', async () => {
    const vs = await launchVSCode({
      workspace, extensionDevelopmentPath: ext, extensionTestsPath: join(ext, 'test', 'index.js'),
      env: { CT_HARNESS_FAIL: '1' }, name: 'harness-fail',
    });
    try {
      const r = await vs.runTests();
      assert.notEqual(r.exitCode, 0, r.log);
      assert.match(r.log, /1 failing/);
      assert.match(r.log, /asked to fail/);
    } finally {
      await vs.close();
    }
  });
});
