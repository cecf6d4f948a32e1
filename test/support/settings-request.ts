/**
 * The extension-host suite's side of test/support/user-settings.ts: asks the outer test for a user settings patch by
 * writing `clock-<n>.json` into the shared folder (written aside and renamed, so the watcher never reads half a file).
 * Only `node:fs` here: this file is bundled into the suite that runs inside the extension host.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let requests = 0;
export function requestUserSettings(dir: string, patch: Record<string, unknown>): void {
  const file = join(dir, `clock-${++requests}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(patch));
  renameSync(`${file}.tmp`, file);
}
