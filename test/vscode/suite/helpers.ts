import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { createServer } from 'node:net';
import type { Stats } from '../../../src/vscode/commands';
import { requestUserSettings } from '../../support/settings-request';

export const stats = async (): Promise<Stats> => (await vscode.commands.executeCommand('chapterTelemetry.internal.stats')) as Stats;

export function workspaceRoot(): vscode.Uri {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f) throw new Error('the test window must open a folder');
  return f.uri;
}

export async function writeFile(rel: string, text: string): Promise<vscode.Uri> {
  const uri = vscode.Uri.joinPath(workspaceRoot(), ...rel.split('/'));
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  return uri;
}

export async function open(rel: string): Promise<void> {
  const uri = await writeFile(rel, `# ${rel}\n`);
  await vscode.window.showTextDocument(uri);
}

/** Polls a condition (UI events arrive asynchronously); fails with the last value seen. */
export async function until<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
    v = await fn();
  }
  return v;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Moves the test clock (`chapterTelemetry.budget.testOnlyNow`) through the outer test, which answers requests written
 * into `dir` (test/support/user-settings.ts): the setting is user-only and not contributed, so the configuration API
 * here refuses to write it. Resolves on the settings change, once the new value is the user setting.
 */
export async function setTestClock(dir: string, iso: string): Promise<void> {
  const changed = new Promise<void>((resolve) => {
    const sub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('chapterTelemetry.budget.testOnlyNow')) {
        sub.dispose();
        resolve();
      }
    });
  });
  requestUserSettings(dir, { 'chapterTelemetry.budget.testOnlyNow': iso });
  await changed;
  assert.equal(vscode.workspace.getConfiguration('chapterTelemetry').inspect('budget.testOnlyNow')?.globalValue, iso);
}

/** What `chapterTelemetry.internal.central` answers: the team connection (none when local) and the last status read. */
export interface CentralState {
  connection?: { central: boolean; privacy: string; member: string; history?: string; history_done?: boolean };
  status?: { state: string; queue_rows: number; local_rows: number; delivered_rows: number; member?: string };
}
export const central = async (): Promise<CentralState> => (await vscode.commands.executeCommand('chapterTelemetry.internal.central')) as CentralState;

/** Centralize Telemetry / Revert to Local by argument (as scripts and keybindings call them): their answer. */
export type TeamCommandResult = Record<string, unknown> & { connected?: boolean; error?: string; reverted?: boolean };
export const teamCommand = async (id: 'centralize' | 'revertToLocal', arg: unknown): Promise<TeamCommandResult> =>
  (await vscode.commands.executeCommand(`chapterTelemetry.${id}`, arg)) as TeamCommandResult;
