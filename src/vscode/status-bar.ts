/** The status-bar item: Off / Starting… / On / Restarting… / Error, with the chapter in focus and the budget's colour; click toggles. */
import * as vscode from 'vscode';
import type { CentralView } from '../core/centralize';
import { escapeMarkdown, tooltipMarkdown, type TooltipView } from '../core/markdown-text';

/** `restarting`: the embedded server died on its own and is being started again (terminals keep their env). */
export type UiState = 'off' | 'starting' | 'on' | 'restarting' | 'error';

/** What the status bar shows: the tooltip's fields (src/core/markdown-text.ts) with the state narrowed. */
export interface StatusView extends TooltipView {
  state: UiState;
}

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private last: StatusView | undefined;
  /** While this machine forwards to a team (src/vscode/central-monitor.ts): `Central · <team>`, queue and delivery. */
  private central: CentralView | undefined;

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

  /** Shown while collection is on; undefined goes back to the local texts. */
  setCentral(c: CentralView | undefined): void {
    if (JSON.stringify(c) === JSON.stringify(this.central)) return;
    this.central = c;
    if (this.last) this.update(this.last);
  }

  update(v: StatusView): void {
    this.last = v;
    const central = v.state === 'on' ? this.central : undefined;
    const ch = v.chapter ? ` · ${v.chapter.replace(/\$\(/g, '\\$(')}` : '';
    this.item.text = central ? `${central.text}${ch}` : StatusBar.text(v);
    // The chapter (a folder name) and other values are escaped in tooltipMarkdown; theme icons stay off (the tooltip
    // uses none), so `$(name)` in a folder name is never drawn as an icon.
    const md = new vscode.MarkdownString(tooltipMarkdown(v) + (central ? `\n\n${central.tooltip.map(escapeMarkdown).join('  \n')}` : ''), false);
    this.item.tooltip = md;
    const bg = StatusBar.background(v) ?? (central?.warning ? 'statusBarItem.warningBackground' : undefined);
    this.item.backgroundColor = bg ? new vscode.ThemeColor(bg) : undefined;
    const budget = v.budget && v.budget.state !== 'ok' ? `, budget ${v.budget.state === 'over' ? 'reached' : 'nearly reached'}` : '';
    const team = central ? `, central${central.warning ? ', delivery failing' : ''}` : '';
    this.item.accessibilityInformation = { label: `Chapter Telemetry ${v.state}${team}${v.chapter ? `, chapter ${v.chapter}` : ''}${budget}` };
  }

  /** What the item shows now (for the extension-host tests through chapterTelemetry.internal.budget). */
  snapshot(): { text: string; tooltip: string; background: string | undefined } {
    const t = this.item.tooltip;
    return { text: this.item.text, tooltip: typeof t === 'string' ? t : t?.value ?? '', background: (this.item.backgroundColor as vscode.ThemeColor | undefined)?.id };
  }

  dispose(): void {
    this.item.dispose();
  }
}
