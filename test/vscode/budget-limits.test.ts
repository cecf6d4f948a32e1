// The weekly and per-chapter budget limits in a real VS Code (code-server): the mocha suite
// test/vscode/suite/budget-limits.suite.ts runs inside the extension host against the embedded server the extension
// starts; this file launches it and moves the test clock when the suite asks (user settings typed into the settings
// JSON editor, as an author would: the setting is user-only and not contributed).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchVSCode, repoRoot } from '../support/codeserver';
import { freeStackPorts, localStackSettings } from '../support/local-stack-vscode';
import { answerSettingsRequests } from '../support/user-settings';

const suiteEntry = join(repoRoot, 'dist', 'test', 'suite', 'index.js');
const root = mkdtempSync(join(tmpdir(), 'ct-budget-limits-'));
const io = join(root, 'io');

after(() => rmSync(root, { recursive: true, force: true }));

test('weekly and per-chapter limits: 80 % / 100 %, one notification per period, a new week resets the weekly state', async () => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
  mkdirSync(join(root, 'ws'), { recursive: true });
  mkdirSync(io, { recursive: true });
  const vs = await launchVSCode({
    workspace: join(root, 'ws'), extensionDevelopmentPath: repoRoot, extensionTestsPath: suiteEntry, name: 'budget-limits',
    settings: {
      ...localStackSettings(await freeStackPorts(), join(root, 'data')),
      'chapterTelemetry.userId': 'limits-author',
    },
    env: { CT_SUITE_GREP: 'budget limits', CT_BUDGET_LIMITS_DIR: io },
  });
  const clock = answerSettingsRequests(vs, io);
  try {
    const r = await vs.runTests(600_000);
    mkdirSync(join(repoRoot, '.test-artifacts', 'vscode'), { recursive: true });
    writeFileSync(join(repoRoot, '.test-artifacts', 'vscode', 'budget-limits-mocha.log'), r.log);
    assert.deepEqual(clock.errors.map((e) => e.message), []);
    assert.equal(r.exitCode, 0, r.log);
    assert.match(r.log, /4 passing/);
  } finally {
    clock.close();
    await vs.close();
  }
});
