/** The status-bar item: Off / Starting… / On / Error, with the chapter in focus; click toggles. */
import * as vscode from 'vscode';

export type UiState = 'off' | 'starting' | 'on' | 'error';

export interface StatusView {
  state: UiState;
  chapter?: string;
  manualChapter: boolean;
  mode: string;
  endpoint?: string;
  eventsToday?: number;
  attached?: boolean;
  error?: string;
}

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('chapterTelemetry.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Chapter Telemetry';
    this.item.command = 'chapterTelemetry.toggle';
    this.item.show();
  }

  /** The text shown, exported for tests. */
  static text(v: StatusView): string {
    const ch = v.chapter ? ` · ${v.chapter}` : '';
    switch (v.state) {
      case 'off':
        return `$(circle-slash) Telemetry Off${ch}`;
      case 'starting':
        return `$(sync~spin) Telemetry Starting…${ch}`;
      case 'on':
        return `$(pulse) Telemetry${ch}`;
      case 'error':
        return `$(warning) Telemetry Error${ch}`;
    }
  }

  update(v: StatusView): void {
    this.item.text = StatusBar.text(v);
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**Chapter Telemetry** — ${v.state === 'on' ? 'collecting' : v.state}\n\n`);
    md.appendMarkdown(`Mode: ${v.mode}${v.attached ? ' (attached to a running server)' : ''}\n\n`);
    if (v.endpoint) md.appendMarkdown(`Endpoint: \`${v.endpoint}\`\n\n`);
    md.appendMarkdown(`Chapter: ${v.chapter ?? '—'}${v.manualChapter ? ' (set manually)' : ''}\n\n`);
    if (v.eventsToday !== undefined) md.appendMarkdown(`Events today: ${v.eventsToday}\n\n`);
    if (v.error) md.appendText(`${v.error}\n\n`);
    md.appendMarkdown(`Click to turn collection ${v.state === 'on' ? 'off' : 'on'}.`);
    this.item.tooltip = md;
    this.item.backgroundColor =
      v.state === 'error' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: `Chapter Telemetry ${v.state}${v.chapter ? `, chapter ${v.chapter}` : ''}` };
  }

  dispose(): void {
    this.item.dispose();
  }
}
