// .claude/settings.local.json is written only as a real file inside the workspace folder: on a real file system,
// links (the folder or the file) pointing outside are refused and their targets stay byte-for-byte the same.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfinedPathError, readConfined, removeConfined, writeConfined } from '../../src/vscode/confined-file';

const REL = '.claude/settings.local.json';
let root: string;
let ws: string;
let outside: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ct-confined-'));
  ws = join(root, 'book');
  outside = join(root, 'home', '.claude');
  mkdirSync(ws, { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'settings.json'), '{"env": {"MINE": "1"}}\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('confined file', () => {
  test('creates .claude and the file, reads it back, replaces it, removes it', async () => {
    assert.equal(await readConfined(ws, REL), undefined);
    await writeConfined(ws, REL, '{"a":1}\n');
    assert.equal(await readConfined(ws, REL), '{"a":1}\n');
    await writeConfined(ws, REL, '{"a":2}\n');
    assert.equal(readFileSync(join(ws, REL), 'utf8'), '{"a":2}\n');
    assert.deepEqual(readdirSync(join(ws, '.claude')), ['settings.local.json'], 'no temp file is left behind');
    await removeConfined(ws, REL);
    assert.equal(await readConfined(ws, REL), undefined);
  });
  test('an existing file keeps its permissions', async () => {
    mkdirSync(join(ws, '.claude'));
    writeFileSync(join(ws, REL), '{}', { mode: 0o600 });
    await writeConfined(ws, REL, '{"b":1}');
    assert.equal(statSync(join(ws, REL)).mode & 0o777, 0o600);
  });
  test('a .claude link to a folder outside the workspace is refused; the target is untouched', async () => {
    symlinkSync(outside, join(ws, '.claude'));
    writeFileSync(join(outside, 'settings.local.json'), '{"env": {"MINE": "2"}}\n');
    const before = readFileSync(join(outside, 'settings.local.json'), 'utf8');
    await assert.rejects(readConfined(ws, REL), ConfinedPathError);
    await assert.rejects(writeConfined(ws, REL, '{"env": {"OTEL": "x"}}'), /symbolic link/);
    await assert.rejects(removeConfined(ws, REL), ConfinedPathError);
    assert.equal(readFileSync(join(outside, 'settings.local.json'), 'utf8'), before);
    assert.deepEqual(readdirSync(outside).sort(), ['settings.json', 'settings.local.json']);
  });
  test('settings.local.json as a link to ~/.claude/settings.json is refused; the target and the link stay', async () => {
    mkdirSync(join(ws, '.claude'));
    symlinkSync(join(outside, 'settings.json'), join(ws, REL));
    await assert.rejects(writeConfined(ws, REL, '{"env": {"OTEL": "x"}}'), /symbolic link/);
    await assert.rejects(removeConfined(ws, REL), /symbolic link/);
    assert.equal(readFileSync(join(outside, 'settings.json'), 'utf8'), '{"env": {"MINE": "1"}}\n');
    assert.ok(lstatSync(join(ws, REL)).isSymbolicLink());
  });
  test('a link to a file inside the workspace is refused too (links are never followed)', async () => {
    mkdirSync(join(ws, '.claude'));
    writeFileSync(join(ws, 'other.json'), '{}');
    symlinkSync(join(ws, 'other.json'), join(ws, REL));
    await assert.rejects(writeConfined(ws, REL, '{"x":1}'), ConfinedPathError);
    assert.equal(readFileSync(join(ws, 'other.json'), 'utf8'), '{}');
  });
  test('a folder where the file should be, or a path with .., is refused', async () => {
    mkdirSync(join(ws, REL), { recursive: true });
    await assert.rejects(writeConfined(ws, REL, '{}'), /not a regular file/);
    await assert.rejects(writeConfined(ws, '../home/.claude/settings.json', '{}'), /plain relative path/);
  });
});
