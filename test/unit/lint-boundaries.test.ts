// The import boundaries of docs/ARCHITECTURE.md are rules in eslint.config.mjs; this checks the rules
// still say what the architecture says, by linting small sources placed in each folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const source = [
  "import * as vscode from 'vscode';",
  "import { readFileSync } from 'node:fs';",
  "import { join } from 'path';",
  "import Docker from 'dockerode';",
  "import { createClient } from '@clickhouse/client';",
  'export const used = [vscode, readFileSync, join, Docker, createClient];',
].join('\n');

async function refused(folder: string): Promise<string[]> {
  const [r] = await new ESLint().lintText(source, { filePath: `${folder}/boundary-probe.ts` });
  return r!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => /'([^']+)' import/.exec(m.message)?.[1] ?? m.message).sort();
}

test('each folder may import only what the architecture allows', async () => {
  assert.deepEqual(await refused('src/core'), ['dockerode', 'node:fs', 'path', 'vscode']);
  assert.deepEqual(await refused('src/webview'), ['dockerode', 'node:fs', 'path', 'vscode']);
  assert.deepEqual(await refused('src/server'), ['dockerode', 'vscode']);
  assert.deepEqual(await refused('src/stack'), ['dockerode', 'vscode']);
  assert.deepEqual(await refused('src/stack/docker'), ['vscode']);
  assert.deepEqual(await refused('src/vscode'), ['dockerode']);
});
