// Runs the extension's mocha suites (test/vscode/suite/, bundled to dist/test/suite/index.js) inside the real
// extension host of code-server, with the extension loaded from this checkout, and checks that mocha ran and passed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCheckout, launchVSCode, repoRoot } from '../support/codeserver';

const suiteEntry = join(repoRoot, 'dist', 'test', 'suite', 'index.js');
const workspace = mkdtempSync(join(tmpdir(), 'ct-ext-api-ws-'));

before(() => {
  buildCheckout();
  writeFileSync(join(workspace, 'README.md'), '# a book\n');
});
after(() => rmSync(workspace, { recursive: true, force: true }));

/** Mocha's spec reporter summary: "N passing", "N failing", "N pending". */
function counts(log: string): { passing: number; failing: number; pending: number } {
  const n = (word: string) => Number(new RegExp(`(\\d+) ${word}\\b`).exec(log)?.[1] ?? 0);
  return { passing: n('passing'), failing: n('failing'), pending: n('pending') };
}

test('the extension-host mocha suites pass in a real VS Code (code-server)', async () => {
  assert.ok(existsSync(suiteEntry), `npm run build did not produce ${suiteEntry}`);
  const vs = await launchVSCode({
    workspace,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: suiteEntry,
    name: 'extension-api',
  });
  try {
    const r = await vs.runTests(600_000);
    writeFileSync(join(repoRoot, '.test-artifacts', 'vscode', 'extension-api-mocha.log'), r.log);
    const c = counts(r.log);
    assert.equal(r.exitCode, 0, `mocha in the extension host failed (${c.failing} failing):\n${r.log}`);
    assert.ok(c.passing > 0, `mocha ran no tests:\n${r.log}`);
    assert.equal(c.failing, 0, r.log);
    assert.equal(c.pending, 0, `suites must not skip tests:\n${r.log}`);
  } finally {
    await vs.close();
  }
});

// The desktop path (`npx vscode-test`, .vscode-test.mjs) runs @vscode/test-cli's runner with our bridge file; run that
// same pair here in code-server's extension host, so a broken bridge or config shape shows up on this machine too.
test('@vscode/test-cli runner + test/vscode/test-cli-entry.cjs run the suites', async () => {
  const options = {
    mochaOpts: { ui: 'tdd', timeout: 600_000 }, colorDefault: false, preload: [],
    files: [join(repoRoot, 'test', 'vscode', 'test-cli-entry.cjs')],
  };
  const vs = await launchVSCode({
    workspace,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(repoRoot, 'node_modules', '@vscode', 'test-cli', 'out', 'runner.cjs'),
    // One quick suite is enough to prove the path; the full run is the test above.
    env: { VSCODE_TEST_OPTIONS: JSON.stringify(options), CT_SUITE_GREP: 'registered' },
    name: 'extension-api-test-cli',
  });
  try {
    const r = await vs.runTests(600_000);
    assert.equal(r.exitCode, 0, r.log);
    assert.match(r.log, /✔ all pass/);
    assert.match(r.log, /✔ .*registered/, 'the inner suites ran (CT_SUITE_GREP=registered)');
  } finally {
    await vs.close();
  }
});
