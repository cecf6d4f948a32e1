// The start checks after activation in a real VS Code (code-server): the mocha suite
// test/vscode/suite/later-start.suite.ts runs inside the extension host with collection off at first,
// `report.weeklyOnFirstStart` on and the test clock in 2026-W49. A later Start Collection writes last week's report;
// the window crossing into 2026-W50 (the test clock) writes 2026-W49's and offers the archive of the rows about to
// expire; "Archive Expiring Records…" archives them on demand. This file reads the archive back through the engine.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchVSCode, repoRoot } from '../support/codeserver';
import { freeStackPorts, localStackSettings } from '../support/local-stack-vscode';
import { answerSettingsRequests } from '../support/user-settings';

const suiteEntry = join(repoRoot, 'dist', 'test', 'suite', 'index.js');
const root = mkdtempSync(join(tmpdir(), 'ct-later-start-'));
const out = join(root, 'out');

after(() => rmSync(root, { recursive: true, force: true }));

test('the start checks run on a later Start and in a new week; the archive on demand holds exactly the expiring rows', async () => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
  mkdirSync(join(root, 'ws'), { recursive: true });
  mkdirSync(out, { recursive: true });
  const vs = await launchVSCode({
    workspace: join(root, 'ws'), extensionDevelopmentPath: repoRoot, extensionTestsPath: suiteEntry, name: 'later-start',
    settings: {
      ...localStackSettings(await freeStackPorts(), join(root, 'data')),
      'chapterTelemetry.userId': 'later-author',
      'chapterTelemetry.report.weeklyOnFirstStart': true, 'chapterTelemetry.budget.testOnlyNow': '2026-12-02T10:00:00.000Z',
    },
    env: { CT_SUITE_GREP: 'later start checks', CT_LATER_START_OUT: out },
  });
  const clock = answerSettingsRequests(vs, out);
  try {
    const r = await vs.runTests(600_000);
    assert.deepEqual(clock.errors.map((e) => e.message), []);
    mkdirSync(join(repoRoot, '.test-artifacts', 'vscode'), { recursive: true });
    writeFileSync(join(repoRoot, '.test-artifacts', 'vscode', 'later-start-mocha.log'), r.log);
    assert.equal(r.exitCode, 0, r.log);
    assert.match(r.log, /5 passing/);
  } finally {
    clock.close();
    await vs.close();
  }
  for (const w of ['2026-W48', '2026-W49']) assert.match(readFileSync(join(root, 'ws', 'reports', `${w}.md`), 'utf8'), new RegExp(w));
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { archive: { files: { id: string; out: string }[] } };
  const events = results.archive.files.find((f) => f.id === 'events')!.out;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const chdb = require('chdb') as typeof import('chdb');
  assert.equal(chdb.query(`SELECT count(), arraySort(groupArray(session_id)) FROM file('${events}', Parquet)`, 'TSV').trim(), "2\t['old-a','old-b']");
});
