/**
 * The opt-in `.claude/settings.local.json` env block, for the Claude Code panel (it does not see
 * terminal env). What we wrote is remembered in workspace state so removal takes out exactly that.
 */
import * as vscode from 'vscode';
import { mergeClaudeSettings, unmergeClaudeSettings, type WrittenRecord } from '../core/claude-settings';

const KEY = 'chapterTelemetry.claudeSettingsWritten';

type Stored = Record<string, WrittenRecord & { createdFile: boolean }>;

function fileOf(folder: vscode.WorkspaceFolder): vscode.Uri {
  return vscode.Uri.joinPath(folder.uri, '.claude', 'settings.local.json');
}

async function readText(uri: vscode.Uri): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch (e) {
    if (e instanceof vscode.FileSystemError && e.code === 'FileNotFound') return undefined;
    throw e;
  }
}

export class ClaudeSettingsFile {
  constructor(private readonly state: vscode.Memento) {}

  private stored(): Stored {
    return this.state.get<Stored>(KEY) ?? {};
  }

  isEnabled(folder: vscode.WorkspaceFolder): boolean {
    return this.stored()[folder.uri.toString()] !== undefined;
  }

  /** Writes (or refreshes) our variables; returns whether the file changed. */
  async write(folder: vscode.WorkspaceFolder, vars: Record<string, string>): Promise<boolean> {
    const uri = fileOf(folder);
    const text = await readText(uri);
    const all = this.stored();
    const earlier = all[folder.uri.toString()];
    const m = mergeClaudeSettings(text ?? '', vars, earlier);
    if (m.changed) {
      await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(folder.uri, '.claude'));
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(m.text));
    }
    all[folder.uri.toString()] = { ...m.written, createdFile: earlier?.createdFile ?? text === undefined };
    await this.state.update(KEY, all);
    return m.changed;
  }

  /** Removes exactly what we wrote; deletes the file if we created it and it is now empty. */
  async remove(folder: vscode.WorkspaceFolder): Promise<boolean> {
    const all = this.stored();
    const mine = all[folder.uri.toString()];
    if (!mine) return false;
    const uri = fileOf(folder);
    const text = await readText(uri);
    let changed = false;
    if (text !== undefined) {
      const u = unmergeClaudeSettings(text, mine);
      if (u.empty && mine.createdFile) {
        await vscode.workspace.fs.delete(uri);
        changed = true;
      } else if (u.changed) {
        await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(u.text));
        changed = true;
      }
    }
    delete all[folder.uri.toString()];
    await this.state.update(KEY, all);
    return changed;
  }
}
