/**
 * Keeps the budget in view: while collection is on and a limit is set, reads the author's spend every
 * CHECK_MS (and at once when the budget settings change), puts the result into the status bar
 * (warning colour from 80 %, error colour from 100 %, figures in the tooltip), and shows one
 * notification the first time a limit is reached in its period. Notified crossings are remembered in
 * globalState keyed by limit and period (`daily:2026-11-30`), so neither a later check nor a reload
 * repeats one; a new day or week has new keys.
 *
 * Where the numbers come from is a QueryRunner given by the caller (the local store now; a team store
 * with the author's own rows later): the evaluation in src/core/budget.ts does not care.
 */
import * as vscode from 'vscode';
import { loadBudget } from '../core/analytics/budget';
import { crossingMessage, hasLimits, keepCrossingKeys, newCrossings, type BudgetEvaluation, type BudgetLimits } from '../core/budget';
import type { QueryRunner } from '../core/queries';
import { boundedRegexExec } from './bounded-regex';

const NOTIFIED_KEY = 'chapterTelemetry.budget.notified';
const CHECK_MS = 15_000;

export interface BudgetMonitorDeps {
  /** The store to read, or undefined while collection is off. */
  runner(): QueryRunner | undefined;
  /** Whose spend counts (the author's own rows). */
  userId(): string;
  limits(): BudgetLimits;
  /**
   * TEST-ONLY clock: an ISO instant that stands for "now" (the user setting `chapterTelemetry.budget.testOnlyNow`,
   * not contributed, read from user settings only), so the code-server test can step into a new day without
   * waiting for one. Undefined = the real clock.
   */
  testNow(): string | undefined;
  /** Shared across windows, survives reloads. */
  memento: vscode.Memento;
  /** Called with the new status-bar view of the budget (undefined = nothing to show). */
  show(view: { state: BudgetEvaluation['state']; lines: string[] } | undefined): void;
  log(line: string): void;
}

export class BudgetMonitor implements vscode.Disposable {
  evaluation: BudgetEvaluation | undefined;
  /** The notifications this window showed, in order (for the extension-host tests via internal.budget). */
  readonly shown: { key: string; message: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<BudgetEvaluation | undefined> | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly deps: BudgetMonitorDeps) {
    this.subs.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('chapterTelemetry.budget') || e.affectsConfiguration('chapterTelemetry.userId')) void this.check();
    }));
    this.timer = setInterval(() => void this.check(), CHECK_MS);
  }

  now(): Date {
    const iso = this.deps.testNow();
    const t = iso === undefined ? NaN : Date.parse(iso);
    return new Date(Number.isFinite(t) ? t : Date.now());
  }

  /** Reads spend and updates the status bar and notifications; one check at a time (callers share a running one). */
  check(): Promise<BudgetEvaluation | undefined> {
    this.checking ??= this.checkNow().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkNow(): Promise<BudgetEvaluation | undefined> {
    const limits = this.deps.limits();
    const run = this.deps.runner();
    if (!hasLimits(limits) || !run) {
      this.evaluation = undefined;
      this.deps.show(undefined);
      return undefined;
    }
    let ev: BudgetEvaluation;
    try {
      ev = await loadBudget(run, this.deps.userId(), limits, this.now(), boundedRegexExec);
    } catch (e) {
      // The store is down or busy: keep the last figures; the status bar already says when collection fails.
      this.deps.log(`budget: could not read spend (${(e as Error).message})`);
      return this.evaluation;
    }
    this.evaluation = ev;
    this.deps.show({ state: ev.state, lines: ev.statuses.map((s) => s.text) });
    await this.notify(ev);
    return ev;
  }

  private async notify(ev: BudgetEvaluation): Promise<void> {
    const remembered = keepCrossingKeys(this.deps.memento.get<string[]>(NOTIFIED_KEY, []), ev.periods);
    const fresh = newCrossings(ev, remembered);
    if (fresh.length === 0) return;
    // Remembered before showing, so a check running meanwhile (or a reload) cannot show it twice.
    await this.deps.memento.update(NOTIFIED_KEY, [...remembered, ...fresh.map((c) => c.key)]);
    for (const c of fresh) {
      const message = crossingMessage(c);
      this.shown.push({ key: c.key, message });
      this.deps.log(`budget: ${message}`);
      void vscode.window.showWarningMessage(`Chapter Telemetry: ${message}`, 'Open Cost panel', 'Change limit').then((pick) => {
        if (pick === 'Open Cost panel') void vscode.commands.executeCommand('chapterTelemetry.showCost');
        if (pick === 'Change limit') void vscode.commands.executeCommand('workbench.action.openSettings', 'chapterTelemetry.budget');
      });
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.subs) s.dispose();
  }
}
