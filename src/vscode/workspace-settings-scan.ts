/**
 * Which user-only settings the open workspace's own settings files try to set. VS Code already
 * drops application-scoped values found there (so `inspect()` often never shows them), but the
 * author should hear that a repository tried: the files are read (never through links) and only
 * their keys looked at.
 */
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { parseJsonc } from '../core/jsonc';
import { userOnlyKeysIn, type UserOnlySetting } from '../core/user-only-settings';
import { readConfined } from './confined-file';

async function keysOf(root: string, rel: string, pick: (v: unknown) => unknown = (v) => v): Promise<UserOnlySetting[]> {
  try {
    const text = await readConfined(root, rel);
    return text === undefined ? [] : userOnlyKeysIn(pick(parseJsonc(text)));
  } catch {
    // Unreadable or not JSON: VS Code will not apply it either.
    return [];
  }
}

export async function userOnlyKeysInWorkspaceFiles(): Promise<UserOnlySetting[]> {
  const found = new Set<UserOnlySetting>();
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    if (f.uri.scheme !== 'file') continue;
    for (const k of await keysOf(f.uri.fsPath, '.vscode/settings.json')) found.add(k);
  }
  const ws = vscode.workspace.workspaceFile;
  if (ws?.scheme === 'file') {
    const file = ws.fsPath;
    const name = file.slice(dirname(file).length + 1);
    for (const k of await keysOf(dirname(file), name, (v) => (v as { settings?: unknown } | null)?.settings)) found.add(k);
  }
  return [...found];
}
