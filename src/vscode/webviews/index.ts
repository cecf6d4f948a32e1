/** The analytics entry point the extension's `activate()` calls (lazily imported). */
import * as vscode from 'vscode';
import { Panels, PANEL_VIEW_TYPE } from './panels';
import { AnalyticsService, type AnalyticsDeps } from './service';
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
