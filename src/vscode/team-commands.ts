/**
 * The team commands (issue 10): Centralize Telemetry, Revert to Local, the status monitor, the
 * history move's resumption after a reload, and the walkthrough opened once. The wizard's code
 * loads on first use, not at activation.
 */
import * as vscode from 'vscode';
import { CentralMonitor } from './central-monitor';
import type { Controller } from './controller';
import type { StatusBar } from './status-bar';
import { getTeamConnection } from './team-connection';

const WALKTHROUGH_SHOWN_KEY = 'chapterTelemetry.walkthroughShown';
export const WALKTHROUGH_ID = 'getStarted';

export function registerTeamCommands(ctx: vscode.ExtensionContext, c: Controller, bar: StatusBar): CentralMonitor {
  const monitor = new CentralMonitor(ctx, c, bar);
  ctx.subscriptions.push(monitor);
  const reg = (id: string, fn: (...args: unknown[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));
  reg('chapterTelemetry.centralize', async (arg?: unknown) => {
    const r = await (await import('./centralize')).centralizeCommand(ctx, c, arg);
    void monitor.tick();
    return r;
  });
  reg('chapterTelemetry.revertToLocal', async (arg?: unknown) => {
    const r = await (await import('./centralize')).revertCommand(ctx, c, arg);
    void monitor.tick();
    return r;
  });
  // Not in the palette: what the status bar shows while central, read now (tests).
  reg('chapterTelemetry.internal.central', async () => {
    await monitor.tick();
    const conn = getTeamConnection(ctx);
    return { connection: conn, status: monitor.lastStatus, view: monitor.lastView };
  });
  return monitor;
}

/** After restore(): a history move a reload interrupted shows its progress again. */
export async function afterRestore(ctx: vscode.ExtensionContext, c: Controller): Promise<void> {
  const conn = getTeamConnection(ctx);
  if (conn?.central && !conn.history_done) await (await import('./centralize')).resumeAfterReload(ctx, c);
}

/**
 * The "Get started" walkthrough, once per installation on first activation; not when the author
 * asked for no start-up pages: `workbench.startupEditor: none`, or walkthroughs not opening on
 * install (`workbench.welcomePage.walkthroughs.openOnInstall`, machine-scoped: a remote extension
 * host such as code-server's does not see the local value, hence the first check too).
 */
export async function openWalkthroughOnce(ctx: vscode.ExtensionContext): Promise<void> {
  if (ctx.globalState.get<boolean>(WALKTHROUGH_SHOWN_KEY)) return;
  await ctx.globalState.update(WALKTHROUGH_SHOWN_KEY, true);
  const wb = vscode.workspace.getConfiguration('workbench');
  if (wb.get<string>('startupEditor') === 'none' || wb.get<boolean>('welcomePage.walkthroughs.openOnInstall', true) === false) return;
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${ctx.extension.id}#${WALKTHROUGH_ID}`, false);
}
