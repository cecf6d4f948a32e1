/**
 * Entry point. activate() stays cheap: no server code, no dockerode, no chDB — those load when
 * collection starts. Its own duration is recorded for the activation bench.
 */
import * as vscode from 'vscode';
import { localHttpUrl } from '../core/otel-env';
import { BudgetMonitor, type BudgetSource } from './budget-monitor';
import type { LifecycleStart } from './lifecycle-start';
import { registerCommands } from './commands';
import { readConfig } from './config';
import { Controller } from './controller';
import { StatusBar } from './status-bar';
import { getTeamConnection, getTeamSecret, onDidChangeTeamConnection } from './team-connection';
import { afterRestore, openWalkthroughOnce, registerTeamCommands } from './team-commands';
import { testOnlyNowIso } from './test-clock';
import { httpRunner, type HttpRunner } from './webviews/connection';
import { registerAnalyticsFor } from './webviews/index';

let activationTimeMs = -1;
let controller: Controller | undefined;

export function activate(ctx: vscode.ExtensionContext): { activationTimeMs: number } {
  const t0 = performance.now();
  const output = vscode.window.createOutputChannel('Chapter Telemetry', { log: true });
  const bar = new StatusBar();
  controller = new Controller(ctx, output, bar);
  ctx.subscriptions.push(output, bar, controller);
  const budget = budgetMonitor(ctx, controller);
  const c = controller;
  // Loaded after activation: the first-start-of-week report and the archive offer (src/vscode/lifecycle-start.ts).
  let lifecycle: Promise<LifecycleStart> | undefined;
  const getLifecycle = () => (lifecycle ??= import('./lifecycle-start').then((m) => new m.LifecycleStart(c, ctx)));
  registerCommands(ctx, controller, () => activationTimeMs, budget, getLifecycle, bar);
  registerTeamCommands(ctx, controller, bar);
  // Terminal ages for Verify's "relaunch the terminal" diagnosis.
  void import('./verify').then((v) => ctx.subscriptions.push(v.trackTerminals()));
  // Synchronously: VS Code revives analytics panels after a reload only if the serializer is registered during activation.
  registerAnalyticsFor(ctx, c);
  // The checks run once collection is restored, then again on a later Start and when the window crosses into a new week.
  const startChecks = () => void getLifecycle().then((l) => {
    ctx.subscriptions.push(l.watch());
    return l.run('activation');
  }).catch((e: Error) => c.output.warn(`Start checks failed: ${e.message}`));
  setTimeout(() => void c.restore().then(() => afterRestore(ctx, c)).catch((e: unknown) => c.output.warn(`Restore: ${(e as Error).message}`)).finally(startChecks), 0);
  setTimeout(() => void openWalkthroughOnce(ctx).catch(() => undefined), 0);
  activationTimeMs = performance.now() - t0;
  output.info(`Activated in ${activationTimeMs.toFixed(1)} ms`);
  return { activationTimeMs };
}

/**
 * The budget reads the author's own rows: from the team server while this machine is central (the member's
 * credential and the team CA; that includes spend sent from the author's other machines), else, or when the
 * team server does not answer, from the local store the controller runs.
 */
function budgetMonitor(ctx: vscode.ExtensionContext, c: Controller): BudgetMonitor {
  let runner: HttpRunner | undefined;
  let team: { key: string; runner: HttpRunner } | undefined;
  const local = (): BudgetSource | undefined => {
    if (c.state !== 'on' || !c.endpoints) return undefined;
    const url = localHttpUrl(c.endpoints.host, c.endpoints.httpPort);
    if (runner?.url !== url) {
      void runner?.close();
      runner = httpRunner(url, { application: 'chapter-telemetry-budget' });
    }
    // Read afresh: this check may run before the controller has seen a settings change.
    return { from: 'local', run: runner, userId: readConfig().userId, where: url };
  };
  const central = async (): Promise<BudgetSource | undefined> => {
    const conn = getTeamConnection(ctx);
    const secret = conn?.central ? await getTeamSecret(ctx) : undefined;
    if (!conn?.central || !secret) return undefined;
    const key = JSON.stringify([conn.query_url, conn.member, secret, conn.ca_pem]);
    if (team?.key !== key) {
      void team?.runner.close();
      // A short timeout: an unreachable team server should fall back to the local figures quickly.
      team = { key, runner: httpRunner({ url: conn.query_url, auth: { user: conn.member, password: secret }, ca: conn.ca_pem }, { application: 'chapter-telemetry-budget', timeoutMs: 5_000 }) };
    }
    return { from: 'team', run: team.runner, userId: conn.member, where: conn.query_url };
  };
  const monitor = new BudgetMonitor({
    sources: async () => [await central(), local()].filter((s): s is BudgetSource => s !== undefined),
    limits: () => readConfig().budget,
    // Test-only (docs/ARCHITECTURE.md, src/vscode/test-clock.ts): the user's value only, so a workspace can never move the clock.
    testNow: testOnlyNowIso,
    memento: ctx.globalState,
    show: (view) => {
      if (JSON.stringify(view) === JSON.stringify(c.budget)) return;
      c.budget = view;
      c.render();
    },
    log: (l) => c.output.info(l),
  }, onDidChangeTeamConnection);
  ctx.subscriptions.push(monitor, { dispose: () => void runner?.close() }, { dispose: () => void team?.runner.close() });
  return monitor;
}

export function deactivate(): void {
  // The server is detached on purpose: it keeps collecting across window reloads and for other windows.
  controller = undefined;
}
