/** The analytics entry point the extension's `activate()` calls (lazily imported). */
import * as vscode from 'vscode';
import { localHttpUrl } from '../../core/otel-env';
import { ManuscriptCounter } from '../manuscript';
import { getTeamConnection, getTeamSecret, onDidChangeTeamConnection } from '../team-connection';
import { Panels, PANEL_VIEW_TYPE } from './panels';
import { AnalyticsService, type AnalyticsDeps, type TeamAccess } from './service';
import { SIDEBAR_VIEW_ID, SidebarProvider } from './sidebar-provider';

export type { AnalyticsDeps };

export function registerAnalytics(context: vscode.ExtensionContext, deps: AnalyticsDeps & { log?(line: string): void }): void {
  const service = new AnalyticsService(deps, deps.log ?? (() => undefined));
  const panels = new Panels(context.extensionUri, service);
  context.subscriptions.push(
    service,
    vscode.window.registerWebviewViewProvider(SIDEBAR_VIEW_ID, new SidebarProvider(context.extensionUri, service)),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, panels),
    vscode.commands.registerCommand('chapterTelemetry.showCost', () => panels.show('cost')),
    vscode.commands.registerCommand('chapterTelemetry.showErrors', () => panels.show('errors')),
    vscode.commands.registerCommand('chapterTelemetry.showChapters', () => panels.show('chapters')),
  );
}

/** The parts of the extension's controller the analytics read (structural, so this file imports none of it). */
export interface ControllerLike {
  state: string;
  endpoints?: { host: string; httpPort: number };
  tracker: { state: { current?: string } };
  start(): Promise<unknown>;
  output: { show(preserveFocus?: boolean): void; info(line: string): void };
  config: { budget: import('../../core/budget').BudgetLimits; chapterPatterns: string[] };
}

/** For `activate()`: one line there, `registerAnalyticsFor(ctx, controller)`. */
export function registerAnalyticsFor(context: vscode.ExtensionContext, c: ControllerLike): void {
  // Created now (cheap), started by the first Chapters panel request: the worker and the file scan wait till then.
  const counter = new ManuscriptCounter(context.asAbsolutePath('dist/manuscript-worker.js'), () => c.config.chapterPatterns, (l) => c.output.info(l));
  context.subscriptions.push(counter);
  // Not in the palette (the extension-host bench, bench/extension-host-manuscript.bench.ts): counts the workspace now,
  // the way a Chapters panel's request does, and returns the words per chapter.
  context.subscriptions.push(vscode.commands.registerCommand('chapterTelemetry.internal.manuscript', async () => (await counter.snapshot()).words));
  registerAnalytics(context, {
    manuscript: () => counter.snapshot(),
    getEndpoint: () => (c.state === 'on' && c.endpoints ? { httpUrl: localHttpUrl(c.endpoints.host, c.endpoints.httpPort) } : undefined),
    startStack: async () => { await c.start(); },
    showLogs: () => c.output.show(true),
    currentChapter: () => c.tracker.state.current,
    budgetLimits: () => c.config.budget,
    // A stored connection with its secret offers Mine (and Team for coordinators), also after Revert to
    // Local while the secret is kept: reads need only the credential, not forwarding.
    team: async (): Promise<TeamAccess | undefined> => {
      const conn = getTeamConnection(context);
      const secret = conn ? await getTeamSecret(context) : undefined;
      if (!conn || !secret) return undefined;
      return {
        identity: { team: conn.team, member: conn.member, role: conn.role },
        target: { url: conn.query_url, auth: { user: conn.member, password: secret }, ca: conn.ca_pem },
      };
    },
    onDidChangeTeam: onDidChangeTeamConnection,
    log: (l) => c.output.info(l),
  });
}
