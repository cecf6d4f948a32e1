/** The "Chapter Telemetry" activity-bar view: a webview that shows the personal numbers. */
import * as vscode from 'vscode';
import { shellHtml, webviewOptions } from './html';
import type { AnalyticsService } from './service';

export const SIDEBAR_VIEW_ID = 'chapterTelemetry.sidebar';

export class SidebarProvider implements vscode.WebviewViewProvider {
  constructor(private readonly extensionUri: vscode.Uri, private readonly service: AnalyticsService) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = shellHtml(view.webview, this.extensionUri, 'sidebar', 'sidebar', 'Chapter Telemetry');
    const attached = this.service.attach(view.webview);
    let visible = view.visible;
    if (visible) this.service.watcher.setVisible(1);
    const vis = view.onDidChangeVisibility(() => {
      if (view.visible === visible) return;
      visible = view.visible;
      this.service.watcher.setVisible(visible ? 1 : -1);
      // Hidden views missed updates: reload on return.
      if (visible) void view.webview.postMessage({ type: 'changed' });
    });
    view.onDidDispose(() => {
      if (visible) this.service.watcher.setVisible(-1);
      vis.dispose();
      attached.dispose();
    });
  }
}
