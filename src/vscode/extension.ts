/**
 * Entry point. activate() stays cheap: no server code, no dockerode, no chDB — those load when
 * collection starts. Its own duration is recorded for the activation bench.
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { Controller } from './controller';
import { StatusBar } from './status-bar';
import { registerAnalyticsFor } from './webviews/index';

let activationTimeMs = -1;
let controller: Controller | undefined;

export function activate(ctx: vscode.ExtensionContext): { activationTimeMs: number } {
  const t0 = performance.now();
  const output = vscode.window.createOutputChannel('Chapter Telemetry', { log: true });
  const bar = new StatusBar();
  controller = new Controller(ctx, output, bar);
  ctx.subscriptions.push(output, bar, controller);
  registerCommands(ctx, controller, () => activationTimeMs);
  // Terminal ages for Verify's "relaunch the terminal" diagnosis.
  void import('./verify').then((v) => ctx.subscriptions.push(v.trackTerminals()));
  const c = controller;
  // Synchronously: VS Code revives analytics panels after a reload only if the serializer is registered during activation.
  registerAnalyticsFor(ctx, c);
  setTimeout(() => void c.restore(), 0);
  activationTimeMs = performance.now() - t0;
  output.info(`Activated in ${activationTimeMs.toFixed(1)} ms`);
  return { activationTimeMs };
}

export function deactivate(): void {
  // The server is detached on purpose: it keeps collecting across window reloads and for other windows.
  controller = undefined;
}
