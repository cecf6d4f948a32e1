/**
 * Keeps the budget in view: while collection is on and a limit is set, reads the author's spend every
 * CHECK_MS (and at once when the budget settings change), puts the result into the status bar
 * (warning colour from 80 %, error colour from 100 %, figures in the tooltip), and shows one
 * notification the first time a limit is reached in its period. Notified crossings are remembered in
 * globalState keyed by limit and period (`daily:2026-11-30`), so neither a later check nor a reload
 * repeats one; a new day or week has new keys.
 *
 * Where the numbers come from is a list of sources given by the caller, tried in order: while this machine
 * is central (a team connection with `central: true` and its secret), the team server first, read with the
 * member's credential (own rows: that includes what the author's other machines sent), then the local store.
 * When the team server does not answer, the local figures are shown with a tooltip note saying so. The
 * evaluation in src/core/budget.ts does not care where the numbers come from.
 */
import * as vscode from 'vscode';
import { loadBudget } from '../core/analytics/budget';
import { crossingMessage, hasLimits, keepCrossingKeys, newCrossings, type BudgetEvaluation, type BudgetLimits } from '../core/budget';
import type { QueryRunner } from '../core/queries';
import { boundedRegexExec } from './bounded-regex';

const NOTIFIED_KEY = 'chapterTelemetry.budget.notified';
const CHECK_MS = 15_000;

/** One place the spend can be read from, and whose rows count there. */
export interface BudgetSource {
  from: 'team' | 'local';
  run: QueryRunner;
  /** The author's own id in that store (the member name on the team server, the userId setting locally). */
  userId: string;
  /** Where, for the log and the fallback note (e.g. the team server's URL). */
  where: string;
}

/** Tooltip notes saying where the figures come from (the status bar shows them after the figures). */
export const TEAM_NOTE = 'spend from the team server (all your machines)';
export const FALLBACK_NOTE = 'team server not answering: spend on this machine only';

export interface BudgetMonitorDeps {
  /** Where to read, best first (team server while central, then the local store); empty while there is none. */
  sources(): Promise<BudgetSource[]>;
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
  /** Where the last evaluation's figures came from ('local-fallback': the team server did not answer). */
  source: 'team' | 'local' | 'local-fallback' | undefined;
  /** The notifications this window showed, in order (for the extension-host tests via internal.budget). */
  readonly shown: { key: string; message: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<BudgetEvaluation | undefined> | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly deps: BudgetMonitorDeps, onDidChangeSource?: vscode.Event<unknown>) {
    if (onDidChangeSource) this.subs.push(onDidChangeSource(() => void this.check()));
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
    const sources = hasLimits(limits) ? await this.deps.sources() : [];
    if (sources.length === 0) {
      this.evaluation = undefined;
      this.source = undefined;
      this.deps.show(undefined);
      return undefined;
    }
    let teamFailed = false;
    for (const src of sources) {
      let ev: BudgetEvaluation;
      try {
        ev = await loadBudget(src.run, src.userId, limits, this.now(), boundedRegexExec);
      } catch (e) {
        this.deps.log(`budget: could not read spend from ${src.where} (${(e as Error).message})`);
        if (src.from === 'team') teamFailed = true;
        continue;
      }
      this.evaluation = ev;
      this.source = src.from === 'team' ? 'team' : teamFailed ? 'local-fallback' : 'local';
      const note = this.source === 'team' ? [TEAM_NOTE] : this.source === 'local-fallback' ? [FALLBACK_NOTE] : [];
      this.deps.show({ state: ev.state, lines: [...ev.statuses.map((s) => s.text), ...note] });
      await this.notify(ev);
      return ev;
    }
    // Every store is down or busy: keep the last figures; the status bar already says when collection fails.
    return this.evaluation;
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
