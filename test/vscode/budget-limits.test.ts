// The weekly and per-chapter budget limits in a real VS Code (code-server): the mocha suite
// test/vscode/suite/budget-limits.suite.ts runs inside the extension host against the embedded server the extension
// starts; this file launches it and moves the test clock when the suite asks (user settings typed into the settings
// JSON editor, as an author would: the setting is user-only and not contributed).
import { after, test } from 'node:test';
import { freeStackPorts, localStackSettings } from '../support/local-stack-vscode';
import { buildCheckout } from '../support/codeserver';
import { runSuiteAnsweringSettings, tempSuiteFolders } from '../support/vscode-suite';

const f = tempSuiteFolders('ct-budget-limits-');

after(() => f.remove());

test('weekly and per-chapter limits: 80 % / 100 %, one notification per period, a new week resets the weekly state', async () => {
  buildCheckout();
  await runSuiteAnsweringSettings({
    name: 'budget-limits', grep: 'budget limits', workspace: f.workspace, io: f.io, passing: 4,
    settings: {
      ...localStackSettings(await freeStackPorts(), f.localData),
      'chapterTelemetry.userId': 'limits-author',
    },
    env: { CT_BUDGET_LIMITS_DIR: f.io },
  });
});
