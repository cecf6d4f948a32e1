// @vscode/test-cli configuration (`npm run build && npx vscode-test`): runs the extension's mocha suites in a
// desktop VS Code that test-cli downloads (needs internet). On this project's CI machine the same suites run in
// code-server through test/vscode/extension-api.test.ts instead (no VS Code download is reachable there).
// VSCODE_TEST_PATH=/path/to/code uses an installed VS Code instead of downloading one.
import { defineConfig } from '@vscode/test-cli';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const workspace = mkdtempSync(join(tmpdir(), 'ct-vscode-test-'));
writeFileSync(join(workspace, 'README.md'), '# a book\n');

export default defineConfig({
  label: 'extension-host',
  files: 'test/vscode/test-cli-entry.cjs',
  version: '1.100.3',
  workspaceFolder: workspace,
  mocha: { ui: 'tdd', timeout: 600_000 },
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  ...(process.env.VSCODE_TEST_PATH ? { useInstallation: { fromPath: process.env.VSCODE_TEST_PATH } } : {}),
});
