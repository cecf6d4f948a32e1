// The start checks after activation in a real VS Code (code-server): the mocha suite
// test/vscode/suite/later-start.suite.ts runs inside the extension host with collection off at first,
// `report.weeklyOnFirstStart` on and the test clock in 2026-W49. A later Start Collection writes last week's report;
// the window crossing into 2026-W50 (the test clock) writes 2026-W49's and offers the archive of the rows about to
// expire; "Archive Expiring Records…" archives them on demand. This file reads the archive back through the engine.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeStackPorts, localStackSettings } from '../support/local-stack-vscode';
import { buildCheckout } from '../support/codeserver';
import { runSuiteAnsweringSettings, tempSuiteFolders } from '../support/vscode-suite';

const f = tempSuiteFolders('ct-later-start-');

after(() => f.remove());

test('the start checks run on a later Start and in a new week; the archive on demand holds exactly the expiring rows', async () => {
  buildCheckout();
  await runSuiteAnsweringSettings({
    name: 'later-start', grep: 'later start checks', workspace: f.workspace, io: f.io, passing: 5,
    settings: {
      ...localStackSettings(await freeStackPorts(), f.localData),
      'chapterTelemetry.userId': 'later-author',
      'chapterTelemetry.report.weeklyOnFirstStart': true, 'chapterTelemetry.budget.testOnlyNow': '2026-12-02T10:00:00.000Z',
    },
    env: { CT_LATER_START_OUT: f.io },
  });
  for (const w of ['2026-W48', '2026-W49']) assert.match(readFileSync(join(f.workspace, 'reports', `${w}.md`), 'utf8'), new RegExp(w));
  const results = JSON.parse(readFileSync(join(f.io, 'results.json'), 'utf8')) as { archive: { files: { id: string; out: string }[] } };
  const events = results.archive.files.find((x) => x.id === 'events')!.out;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const chdb = require('chdb') as typeof import('chdb');
  assert.equal(chdb.query(`SELECT count(), arraySort(groupArray(session_id)) FROM file('${events}', Parquet)`, 'TSV').trim(), "2\t['old-a','old-b']");
});
