/**
 * The opt-in `.claude/settings.local.json` env block, for the Claude Code panel (it does not see
 * terminal env). What we wrote is remembered in workspace state so removal takes out exactly that.
 * The file is read and written only as a real file inside the folder (confined-file.ts: links are
 * refused, writes are temp file + rename), and one refresh runs at a time, so two quick chapter
 * changes cannot interleave their read-merge-write.
 */
import * as vscode from 'vscode';
import { mergeClaudeSettings, unmergeClaudeSettings, type WrittenRecord } from '../core/claude-settings';
import { readConfined, removeConfined, writeConfined } from './confined-file';

const KEY = 'chapterTelemetry.claudeSettingsWritten';

type Stored = Record<string, WrittenRecord & { createdFile: boolean }>;

const REL = '.claude/settings.local.json';

/** The folder on disk; the file is only ever touched through node:fs, where links can be checked. */
function rootOf(folder: vscode.WorkspaceFolder): string {
  if (folder.uri.scheme !== 'file') throw new Error(`Chapter Telemetry writes .claude/settings.local.json only in local folders (${folder.uri.toString()} is not).`);
  return folder.uri.fsPath;
}

export class ClaudeSettingsFile {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly state: vscode.Memento) {}

  /** One read-merge-write at a time (refreshes come from chapter changes, settings and commands at once). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private stored(): Stored {
    return this.state.get<Stored>(KEY) ?? {};
  }

  isEnabled(folder: vscode.WorkspaceFolder): boolean {
    return this.stored()[folder.uri.toString()] !== undefined;
  }

  /** Writes (or refreshes) our variables; returns whether the file changed. */
  write(folder: vscode.WorkspaceFolder, vars: Record<string, string>): Promise<boolean> {
    return this.serial(async () => {
      const root = rootOf(folder);
      const text = await readConfined(root, REL);
      const all = this.stored();
      const earlier = all[folder.uri.toString()];
      const m = mergeClaudeSettings(text ?? '', vars, earlier);
      if (m.changed) await writeConfined(root, REL, m.text);
      all[folder.uri.toString()] = { ...m.written, createdFile: earlier?.createdFile ?? text === undefined };
      await this.state.update(KEY, all);
      return m.changed;
    });
  }

  /** Removes exactly what we wrote; deletes the file if we created it and it is now empty. */
  remove(folder: vscode.WorkspaceFolder): Promise<boolean> {
    return this.serial(async () => {
      const all = this.stored();
      const mine = all[folder.uri.toString()];
      if (!mine) return false;
      const root = rootOf(folder);
      const text = await readConfined(root, REL);
      let changed = false;
      if (text !== undefined) {
        const u = unmergeClaudeSettings(text, mine);
        if (u.empty && mine.createdFile) {
          await removeConfined(root, REL);
          changed = true;
        } else if (u.changed) {
          await writeConfined(root, REL, u.text);
          changed = true;
        }
      }
      delete all[folder.uri.toString()];
      await this.state.update(KEY, all);
      return changed;
    });
  }
}
