// What the suite-driven VS Code tests share: one build of this checkout, a code-server window whose extension host
// runs the mocha suites of test/vscode/suite selected by a grep, and the check of their result, with mocha's log kept
// as an artifact. Each test file keeps only what its suite is about: settings, the folder it shares, what it checks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { artifactsDir, launchVSCode, repoRoot, type VSCode } from './codeserver';

const suiteEntry = join(repoRoot, 'dist', 'test', 'suite', 'index.js');

/** Builds the extension, the server and the suite bundle (dist/) from this checkout, as the window will load them. */
export function buildForSuite(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
}

export interface SuiteLaunch {
  /** Names the artifacts (`.test-artifacts/vscode/<name>-…`). */
  name: string;
  /** CT_SUITE_GREP: the suites whose title matches run, the others stay out. */
  grep: string;
  workspace: string;
  settings: Record<string, unknown>;
  /** More environment for the extension host (the suite's folder variable, ports…). */
  env?: Record<string, string>;
}

/** Opens `workspace` in a fresh code-server with this checkout's extension under development and the suite entry. */
export function launchSuite(o: SuiteLaunch): Promise<VSCode> {
  return launchVSCode({
    workspace: o.workspace, extensionDevelopmentPath: repoRoot, extensionTestsPath: suiteEntry, name: o.name,
    settings: o.settings, env: { CT_SUITE_GREP: o.grep, ...o.env },
  });
}

/**
 * Waits (10 minutes at most) for the suite's result, keeps mocha's log as `.test-artifacts/vscode/<name>-mocha.log`,
 * and asserts it ran clean with exactly `passing` tests passed (a suite that registered fewer tests fails too).
 * `sideErrors` are errors this side collected while the suite ran (answerSettingsRequests'): asserted empty first,
 * since they are what explains a suite that failed waiting for them.
 */
export async function expectSuitePasses(vs: VSCode, name: string, passing: number, sideErrors: Error[] = []): Promise<void> {
  const r = await vs.runTests(600_000);
  mkdirSync(artifactsDir, { recursive: true });
  writeFileSync(join(artifactsDir, `${name}-mocha.log`), r.log);
  assert.deepEqual(sideErrors.map((e) => e.message), []);
  assert.equal(r.exitCode, 0, r.log);
  assert.match(r.log, new RegExp(`\\b${passing} passing`));
}
