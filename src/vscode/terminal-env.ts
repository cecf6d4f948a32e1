/**
 * Terminal environment through `context.environmentVariableCollection`: persistent, described,
 * per folder in multi-root workspaces, and written only when a value really changes (every
 * write makes VS Code flag open terminals as stale).
 */
import * as vscode from 'vscode';
import { MANAGED_ENV_KEYS } from '../core/otel-env';

export type EnvForFolder = (folder: vscode.WorkspaceFolder | undefined) => Record<string, string> | undefined;

export class TerminalEnv {
  /** Individual replace/delete calls made; the no-spurious-rewrite tests read it. */
  writes = 0;

  constructor(private readonly collection: vscode.GlobalEnvironmentVariableCollection) {
    collection.persistent = true;
  }

  /** Applies `envFor(folder)` (undefined = collection off) to the right collections. */
  apply(envFor: EnvForFolder, description: string): void {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length > 1) {
      // Multi-root: each folder's terminals carry their own workspace tag; the global collection stays empty.
      this.sync(this.collection, undefined, undefined);
      for (const f of folders) this.sync(this.collection.getScoped({ workspaceFolder: f }), envFor(f), description);
    } else {
      this.sync(this.collection, envFor(folders[0]), description);
    }
  }

  /** Everything we set, per scope ('' = global), as terminals would receive it. */
  snapshot(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = { '': read(this.collection) };
    for (const f of vscode.workspace.workspaceFolders ?? []) out[f.name] = read(this.collection.getScoped({ workspaceFolder: f }));
    return out;
  }

  private sync(col: vscode.EnvironmentVariableCollection, env: Record<string, string> | undefined, description: string | undefined): void {
    for (const key of MANAGED_ENV_KEYS) {
      const want = env?.[key];
      const have = col.get(key);
      if (want === undefined) {
        if (have) {
          col.delete(key);
          this.writes++;
        }
      } else if (!have || have.value !== want || have.type !== vscode.EnvironmentVariableMutatorType.Replace) {
        col.replace(key, want);
        this.writes++;
      }
    }
    const desc = env ? description : undefined;
    if (col.description !== desc) col.description = desc;
  }
}

function read(col: vscode.EnvironmentVariableCollection): Record<string, string> {
  const out: Record<string, string> = {};
  col.forEach((k, m) => (out[k] = m.value));
  return out;
}
