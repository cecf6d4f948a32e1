/** The status-bar item: Off / Starting… / On / Restarting… / Error, with the chapter in focus and the budget's colour; click toggles. */
import * as vscode from 'vscode';
import { tooltipMarkdown, type TooltipView } from '../core/markdown-text';

/** `restarting`: the embedded server died on its own and is being started again (terminals keep their env). */
export type UiState = 'off' | 'starting' | 'on' | 'restarting' | 'error';

/** What the status bar shows: the tooltip's fields (src/core/markdown-text.ts) with the state narrowed. */
export interface StatusView extends TooltipView {
  state: UiState;
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
    // `$(name)` in a folder name would render as an icon in the status bar text.
    const ch = v.chapter ? ` · ${v.chapter.replace(/\$\(/g, '\\$(')}` : '';
    switch (v.state) {
      case 'off':
        return `$(circle-slash) Telemetry Off${ch}`;
      case 'starting':
        return `$(sync~spin) Telemetry Starting…${ch}`;
      case 'on':
        return `$(pulse) Telemetry${ch}`;
      case 'restarting':
        return `$(sync~spin) Telemetry Restarting…${ch}`;
      case 'error':
        return `$(warning) Telemetry Error${ch}`;
    }
  }

  /** A reached budget is an error colour; a nearly reached one, or a stack error, a warning colour. */
  static background(v: StatusView): string | undefined {
    if (v.budget?.state === 'over') return 'statusBarItem.errorBackground';
    if (v.budget?.state === 'warning' || v.state === 'error') return 'statusBarItem.warningBackground';
    return undefined;
  }

  update(v: StatusView): void {
    this.item.text = StatusBar.text(v);
    // The chapter (a folder name) and other values are escaped in tooltipMarkdown; theme icons stay off (the tooltip
    // uses none), so `$(name)` in a folder name is never drawn as an icon.
    const md = new vscode.MarkdownString(tooltipMarkdown(v), false);
    this.item.tooltip = md;
    this.item.backgroundColor = StatusBar.background(v) ? new vscode.ThemeColor(StatusBar.background(v)!) : undefined;
    const budget = v.budget && v.budget.state !== 'ok' ? `, budget ${v.budget.state === 'over' ? 'reached' : 'nearly reached'}` : '';
    this.item.accessibilityInformation = { label: `Chapter Telemetry ${v.state}${v.chapter ? `, chapter ${v.chapter}` : ''}${budget}` };
  }

  dispose(): void {
    this.item.dispose();
  }
}
