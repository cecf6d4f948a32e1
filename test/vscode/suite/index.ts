// Entry the extension host runs (extensionTestsPath = dist/test/suite/index.js): mocha over the
// suites bundled into this file. Suites register through functions so mocha's globals exist first.
import Mocha from 'mocha';
import { registerCommandsSuite } from './commands.suite';
import { registerChapterSuite } from './chapter.suite';
import { registerClaudeSettingsSuite } from './claude-settings.suite';
import { registerLifecycleSuite } from './lifecycle.suite';
import { registerDataLifecycleSuite } from './data-lifecycle.suite';
import { registerCentralizeArgsSuite } from './centralize-args.suite';
import { registerTeamDeleteSuite } from './team-delete.suite';
import { registerCentralizeDockerSuite } from './centralize-docker.suite';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: 'spec' });
  const grep = process.env.CT_SUITE_GREP;
  if (grep) mocha.grep(grep);
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
  registerCommandsSuite();
  registerChapterSuite();
  registerClaudeSettingsSuite();
  registerLifecycleSuite();
  registerDataLifecycleSuite();
  registerCentralizeArgsSuite();
  registerTeamDeleteSuite();
  registerCentralizeDockerSuite();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
