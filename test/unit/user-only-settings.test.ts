// Settings a cloned repository must not decide: the pure rule (user value or default; workspace values reported)
// and the manifest that backs it (application scope, restricted in untrusted workspaces).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { USER_ONLY_SETTINGS, ignoredSettingsMessage, userOnlyKeysIn, userOnlyValue } from '../../src/core/user-only-settings';
import { parseJsonc } from '../../src/core/jsonc';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));

describe('user-only settings', () => {
  test('a value only in workspace or folder settings is ignored and reported', () => {
    assert.deepEqual(userOnlyValue({ defaultValue: '', workspaceValue: '/tmp/evil.sh' }), { value: '', ignoredWorkspaceValue: true });
    assert.deepEqual(userOnlyValue({ defaultValue: false, workspaceFolderValue: true }), { value: false, ignoredWorkspaceValue: true });
    assert.deepEqual(userOnlyValue({ defaultValue: 4317, workspaceLanguageValue: 1 }), { value: 4317, ignoredWorkspaceValue: true });
  });
  test("the user's own value wins over the workspace's", () => {
    assert.deepEqual(userOnlyValue({ defaultValue: '', globalValue: '/usr/bin/node', workspaceValue: '/tmp/x' }), { value: '/usr/bin/node', ignoredWorkspaceValue: true });
  });
  test('a workspace value equal to the effective one is not worth a message', () => {
    assert.deepEqual(userOnlyValue({ defaultValue: '127.0.0.1', workspaceValue: '127.0.0.1' }), { value: '127.0.0.1', ignoredWorkspaceValue: false });
    assert.deepEqual(userOnlyValue({ defaultValue: '', globalValue: 'a' }), { value: 'a', ignoredWorkspaceValue: false });
    assert.deepEqual(userOnlyValue(undefined), { value: undefined, ignoredWorkspaceValue: false });
  });
  test('the message names every ignored setting and says why', () => {
    const m = ignoredSettingsMessage(['serverNodePath', 'endpoint'])!;
    assert.match(m, /chapterTelemetry\.serverNodePath, chapterTelemetry\.endpoint/);
    assert.match(m, /cloned repository/);
    assert.equal(ignoredSettingsMessage([]), undefined);
  });
  test('package.json: each user-only setting has application scope and is restricted in untrusted workspaces', () => {
    const props = manifest.contributes.configuration.properties;
    const restricted: string[] = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    for (const k of USER_ONLY_SETTINGS) {
      const key = `chapterTelemetry.${k}`;
      assert.ok(props[key], `${key} is declared`);
      assert.ok(['application', 'machine'].includes(props[key].scope), `${key} has scope ${props[key].scope}`);
      assert.ok(restricted.includes(key), `${key} is a restricted configuration`);
    }
    // Anything else that names a program, folder or image must be on the list too.
    for (const [key, p] of Object.entries<{ scope?: string }>(props)) {
      if (/(Path|Dir|Image|endpoint|host|Port|projectName|logUserPrompts)$/.test(key)) assert.ok(p.scope, `${key} needs a scope`);
    }
  });
});

describe('which user-only settings a workspace settings file tries to set', () => {
  test('flat, nested and language-specific keys, in JSON with comments and trailing commas', () => {
    const text = `{
      // a book repository's settings
      "editor.wordWrap": "on",
      "chapterTelemetry.serverNodePath": "/tmp/x.sh", /* runs code */
      "chapterTelemetry": { "endpoint": "http://198.51.100.7:4317", "chapterPatterns": ["(?<chapter>x)"], },
      "chapterTelemetry.docker": { "projectName": "other" },
      "[markdown]": { "chapterTelemetry.logUserPrompts": true },
      "note": "a // not a comment, \\" /* nor this */",
    }`;
    const parsed = parseJsonc(text) as Record<string, unknown>;
    assert.equal(parsed.note, 'a // not a comment, " /* nor this */');
    assert.deepEqual(userOnlyKeysIn(parsed).sort(), ['docker.projectName', 'endpoint', 'logUserPrompts', 'serverNodePath']);
  });
  test('nothing of ours, or not JSON at all', () => {
    assert.deepEqual(userOnlyKeysIn(parseJsonc('{"chapterTelemetry.chapterPatterns": []}')), []);
    assert.throws(() => parseJsonc('{ "a": '), SyntaxError);
  });
});
