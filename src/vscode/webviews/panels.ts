/** The Cost, Errors and Chapters panels: one per kind, revealed if open, restored after a reload. */
import * as vscode from 'vscode';
import { isPanelKind, type PanelKind, type PanelState } from '../../webview/protocol';
import { shellHtml, webviewOptions } from './html';
import type { AnalyticsService } from './service';

export const PANEL_VIEW_TYPE = 'chapterTelemetry.analyticsPanel';
const TITLES: Record<PanelKind, string> = { cost: 'Telemetry: Cost', errors: 'Telemetry: Errors', chapters: 'Telemetry: Chapters' };

export class Panels implements vscode.WebviewPanelSerializer<PanelState> {
  private readonly open = new Map<PanelKind, vscode.WebviewPanel>();

  constructor(private readonly extensionUri: vscode.Uri, private readonly service: AnalyticsService) {}

  show(kind: PanelKind): void {
    const existing = this.open.get(kind);
    if (existing) {
      existing.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, TITLES[kind], vscode.ViewColumn.Active, {
      ...webviewOptions(this.extensionUri),
      retainContextWhenHidden: false,
    });
    this.setup(panel, kind);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: PanelState | undefined): Promise<void> {
    const kind = isPanelKind(state?.kind) ? state.kind : 'cost';
    // The webview reads its range back from its own saved state; only the kind goes into the HTML.
    panel.webview.options = webviewOptions(this.extensionUri);
    this.setup(panel, kind);
  }

  private setup(panel: vscode.WebviewPanel, kind: PanelKind): void {
    this.open.get(kind)?.dispose();
    this.open.set(kind, panel);
    panel.title = TITLES[kind];
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'chart.svg');
    panel.webview.html = shellHtml(panel.webview, this.extensionUri, 'panel', kind, TITLES[kind]);
    const attached = this.service.attach(panel.webview);
    let visible = panel.visible;
    if (visible) this.service.watcher.setVisible(1);
    const vis = panel.onDidChangeViewState(() => {
      if (panel.visible === visible) return;
      visible = panel.visible;
      this.service.watcher.setVisible(visible ? 1 : -1);
    });
    panel.onDidDispose(() => {
      if (visible) this.service.watcher.setVisible(-1);
      if (this.open.get(kind) === panel) this.open.delete(kind);
      vis.dispose();
      attached.dispose();
    });
  }
}
