// What the suite-driven VS Code tests share: one build of this checkout, a code-server window whose extension host
// runs the mocha suites of test/vscode/suite selected by a grep, and the check of their result, with mocha's log kept
// as an artifact. Each test file keeps only what its suite is about: settings, the folder it shares, what it checks.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactsDir, launchVSCode, repoRoot, type VSCode } from './codeserver';
import { answerSettingsRequests } from './user-settings';

const suiteEntry = join(repoRoot, 'dist', 'test', 'suite', 'index.js');

/** The folders of one suite run, all below `root`. */
export interface SuiteFolders {
  root: string;
  /** The folder the VS Code window opens. */
  workspace: string;
  /** 0700, shared with the suite through its environment variable: files in (bundles, settings requests), results out. */
  io: string;
  /** Where the extension's own embedded store keeps its data. */
  localData: string;
}

/** Makes the workspace and io folders in `root` (which exists); `localData` is left for the extension to make. */
export function makeSuiteFolders(root: string): SuiteFolders {
  const f = { root, workspace: join(root, 'ws'), io: join(root, 'io'), localData: join(root, 'local-data') };
  mkdirSync(f.workspace);
  mkdirSync(f.io, { mode: 0o700 });
  return f;
}

/** Suite folders in a fresh temporary root; `remove()` deletes it all (an `after`). */
export function tempSuiteFolders(prefix: string): SuiteFolders & { remove(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { ...makeSuiteFolders(root), remove: () => rmSync(root, { recursive: true, force: true }) };
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

/**
 * A whole run of a suite that asks this side for user settings changes (the test clock, user-only: typed into the
 * settings JSON editor) by writing requests into `io`: launch, answer them while it runs, check, close.
 */
export async function runSuiteAnsweringSettings(o: SuiteLaunch & { io: string; passing: number }): Promise<void> {
  const vs = await launchSuite(o);
  const clock = answerSettingsRequests(vs, o.io);
  try {
    await expectSuitePasses(vs, o.name, o.passing, clock.errors);
  } finally {
    clock.close();
    await vs.close();
  }
}
