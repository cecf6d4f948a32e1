import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Fresh temp folders for one test file, every one removed after its tests: `const tmp = tempDirsPerFile();`
 *  at the top level, then `tmp('ct-something-')` wherever a test needs a folder of its own. */
export function tempDirsPerFile(): (prefix: string) => string {
  const roots: string[] = [];
  after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
  return (prefix) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    roots.push(d);
    return d;
  };
}
