// Bridge for @vscode/test-cli (`npx vscode-test`, desktop VS Code): its runner loads mocha test files, while the
// extension's suites are bundled into dist/test/suite/index.js behind a run() entry (the one code-server's harness
// and @vscode/test-electron call). One test here runs that entry; its own spec reporter prints each suite's tests.
const { join } = require('node:path');

suite('extension host suites (dist/test/suite/index.js)', () => {
  test('all pass', async function () {
    this.timeout(600_000);
    await require(join(__dirname, '..', '..', 'dist', 'test', 'suite', 'index.js')).run();
  });
});
