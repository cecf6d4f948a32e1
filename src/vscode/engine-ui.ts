/** Finds the chDB engine or fetches it with a progress notification (embedded mode only, on Start). */
import * as vscode from 'vscode';
import { progressIncrements } from '../core/progress';
import { chdbVersionOf, fetchEngine, locateEngine } from '../stack/engine';

/** The node_modules folder to give the server as NODE_PATH. Throws StackError (unsupported platform, corrupt download…). */
export async function ensureEngine(ctx: vscode.ExtensionContext, settingPath: string, log: (l: string) => void): Promise<string> {
  const storageDir = ctx.globalStorageUri.fsPath;
  const chdbVersion = chdbVersionOf(ctx.extensionPath);
  const found = locateEngine({ settingPath: settingPath || undefined, extensionRoot: ctx.extensionPath, storageDir, chdbVersion });
  if (found) {
    log(`ClickHouse engine: ${found.nodeModules} (${found.source})`);
    return found.nodeModules;
  }
  log(`ClickHouse engine not found; downloading chdb@${chdbVersion} from the npm registry into ${storageDir}`);
  const loc = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Chapter Telemetry: getting the ClickHouse engine (one time, ~180 MB)', cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      const increment = progressIncrements();
      return await fetchEngine({
        storageDir,
        chdbVersion,
        signal: ac.signal,
        onProgress: (p) => progress.report({ message: p.message, increment: increment(p.percent) }),
        onNotice: (line) => {
          log(line);
          void vscode.window.showWarningMessage(`Chapter Telemetry: ${line}`);
        },
      });
    },
  );
  log(`ClickHouse engine installed: ${loc.nodeModules}`);
  return loc.nodeModules;
}
