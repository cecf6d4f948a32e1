/**
 * Changing user settings in a real VS Code from outside the extension host, the way an author does: typed into the
 * user settings JSON editor and saved. Needed for the test-only clock (`chapterTelemetry.budget.testOnlyNow` is not
 * contributed, so the configuration API inside the extension host refuses to write it). A mocha suite asks for a
 * change by writing `clock-<n>.json` (a settings patch; test/support/settings-request.ts) into a folder this side watches.
 */
import { existsSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import type { VSCode } from './codeserver';
import { poll, runCommand } from './vscode-ui';

/**
 * Merges `patch` into the user settings in the settings JSON editor (VS Code does not notice a file written behind
 * its back in time), saves with Ctrl+S, and resolves when the file on disk has the new values.
 */
export async function setUserSettings(vs: VSCode, patch: Record<string, unknown>): Promise<void> {
  const page = vs.page;
  const file = join(vs.userDataDir, 'User', 'settings.json');
  const next = { ...(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>), ...patch };
  await runCommand(page, 'Preferences: Open User Settings (JSON)');
  const editor = page.locator('.editor-group-container.active .monaco-editor textarea').first();
  await editor.waitFor({ state: 'attached', timeout: 20_000 });
  await editor.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(JSON.stringify(next));
  await page.keyboard.press('Control+S');
  await poll('the saved settings file', 20_000, async () => (JSON.stringify(JSON.parse(readFileSync(file, 'utf8'))) === JSON.stringify(next) ? true : undefined));
  await runCommand(page, 'View: Close Editor');
}

/** Answers `clock-<n>.json` requests in `dir` in order (a watcher on the folder, no polling); errors are collected. */
export function answerSettingsRequests(vs: VSCode, dir: string): { close(): void; errors: Error[] } {
  let handled = 0;
  let busy: Promise<void> = Promise.resolve();
  const errors: Error[] = [];
  const next = () => {
    busy = busy.then(async () => {
      const f = join(dir, `clock-${handled + 1}.json`);
      if (!existsSync(f)) return;
      handled++;
      await setUserSettings(vs, JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>);
      next();
    }).catch((e: Error) => void errors.push(e));
  };
  const w = watch(dir, next);
  next();
  return { close: () => w.close(), errors };
}
