/** The `chapterTelemetry.*` commands. Heavy parts (stack, verify) load on first use. */
import * as vscode from 'vscode';
import type { BudgetMonitor } from './budget-monitor';
import type { Controller } from './controller';
import type { ArchiveArgs, LifecycleStart } from './lifecycle-start';

export interface Stats {
  activationTimeMs: number;
  state: string;
  mode: string;
  chapter: string | undefined;
  manualChapter: boolean;
  endpoints: unknown;
  attached: boolean;
  envWrites: number;
  env: Record<string, Record<string, string>>;
  focusSent: number;
  error?: { code: string; message: string; hint: string };
}

export function registerCommands(ctx: vscode.ExtensionContext, c: Controller, activationTimeMs: () => number, budget?: BudgetMonitor,
  lifecycle?: () => Promise<LifecycleStart>): void {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));

  reg('chapterTelemetry.start', () => c.start());
  reg('chapterTelemetry.stop', () => c.stop());
  reg('chapterTelemetry.toggle', () => c.toggle());
  reg('chapterTelemetry.showLogs', () => c.output.show(true));
  reg('chapterTelemetry.switchMode', async (arg?: unknown) => {
    // An argument ({to, carryHistory}) skips the questions (tests, keybindings).
    const { switchMode } = await import('./switch-mode');
    return await switchMode(c, typeof arg === 'object' && arg !== null ? (arg as import('./switch-mode').SwitchArgs) : {});
  });
  reg('chapterTelemetry.verify', async (opts?: unknown) => {
    const { verifyCollection } = await import('./verify');
    const quiet = typeof opts === 'object' && opts !== null && (opts as { quiet?: boolean }).quiet === true;
    return await verifyCollection(c, !quiet);
  });
  reg('chapterTelemetry.setChapter', async (arg?: unknown) => {
    // An argument (tests, keybindings) skips the input box; '' clears the override.
    let value = typeof arg === 'string' ? arg : undefined;
    if (value === undefined) {
      value = await vscode.window.showInputBox({
        title: 'Set Chapter Manually',
        prompt: 'Chapter to tag telemetry with until cleared (leave empty to go back to detecting it from the open file).',
        value: c.tracker.state.isManual ? c.tracker.state.current : '',
        placeHolder: c.tracker.state.current ?? 'e.g. ch07',
      });
      if (value === undefined) return;
    }
    c.tracker.setManual(value);
    c.output.info(value.trim() ? `Chapter set manually: ${value.trim()}` : 'Manual chapter cleared; detecting from the open file.');
  });
  reg('chapterTelemetry.writeClaudeSettings', async (arg?: unknown) => {
    const folder = await pickFolder(arg);
    if (!folder) return;
    try {
      await c.claudeSettings.write(folder, c.envFor(folder) ?? c.envForSettings(folder));
      void vscode.window.showInformationMessage(`Chapter Telemetry: telemetry settings written to ${folder.name}/.claude/settings.local.json — new Claude Code panel sessions will report to ${c.endpointText()}.`);
    } catch (e) {
      void vscode.window.showErrorMessage(`Chapter Telemetry: ${(e as Error).message}`);
    }
  });
  reg('chapterTelemetry.removeClaudeSettings', async (arg?: unknown) => {
    const folder = await pickFolder(arg);
    if (!folder) return;
    try {
      const changed = await c.claudeSettings.remove(folder);
      void vscode.window.showInformationMessage(changed ? `Chapter Telemetry: removed its variables from ${folder.name}/.claude/settings.local.json.` : 'Chapter Telemetry: nothing of ours was left in .claude/settings.local.json.');
    } catch (e) {
      void vscode.window.showErrorMessage(`Chapter Telemetry: ${(e as Error).message}`);
    }
  });
  // Not in the palette: checks the budget now and returns what it found and which notifications this window showed.
  reg('chapterTelemetry.internal.budget', async () => {
    const evaluation = await budget?.check();
    return { evaluation, shown: budget?.shown ?? [], now: budget?.now().toISOString() };
  });
  // Data lifecycle (src/vscode/data-commands.ts); an argument object skips the questions.
  reg('chapterTelemetry.exportData', async (arg?: unknown) => (await import('./data-commands')).exportDataCommand(c, arg));
  reg('chapterTelemetry.deleteMyData', async (arg?: unknown) => (await import('./data-commands')).deleteMyDataCommand(c, arg, ctx));
  reg('chapterTelemetry.weeklyReport', async (arg?: unknown) => (await import('./data-commands')).weeklyReportCommand(c, arg));
  // Not in the palette (tests): what the start checks did at activation, and the weekly-report check run again now.
  reg('chapterTelemetry.internal.lifecycleStart', async () => {
    const l = await lifecycle?.();
    return { activation: await l?.lastRun, again: await l?.weeklyReport() };
  });
  // Not in the palette (tests): the archive offer now; `{choose, dir}` answers it instead of the notification.
  reg('chapterTelemetry.internal.archiveOffer', async (arg?: unknown) =>
    (await lifecycle?.())?.archiveOffer(typeof arg === 'object' && arg !== null ? (arg as ArchiveArgs) : {}));
  // Not in the palette: the retention settings onto the store now (tests; a settings change does it while on).
  reg('chapterTelemetry.internal.applyRetention', () => c.applyRetention());
  reg('chapterTelemetry.internal.stats', (): Stats => ({
    activationTimeMs: activationTimeMs(),
    state: c.state,
    mode: c.config.mode,
    chapter: c.tracker.state.current,
    manualChapter: c.tracker.state.isManual,
    endpoints: c.endpoints,
    attached: c.attached,
    envWrites: c.env.writes,
    env: c.env.snapshot(),
    focusSent: c.focusSent,
    error: c.lastError ? { code: c.lastError.code, message: c.lastError.message, hint: c.lastError.hint } : undefined,
  }));
}

async function pickFolder(arg: unknown): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (arg instanceof vscode.Uri) return vscode.workspace.getWorkspaceFolder(arg);
  if (folders.length === 0) {
    void vscode.window.showWarningMessage('Chapter Telemetry: open a folder first; the settings go into its .claude/settings.local.json.');
    return undefined;
  }
  if (folders.length === 1) return folders[0];
  return await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder\'s .claude/settings.local.json?' });
}
