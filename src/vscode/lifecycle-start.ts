/**
 * What the data lifecycle does when a window starts (after collection is restored), when collection is
 * started later (Start Collection), when a long-open window crosses into a new ISO week, and on request:
 *
 * - Weekly report on the first start of an ISO week (setting `chapterTelemetry.report.weeklyOnFirstStart`,
 *   off by default): last week's report into `reports/` of the workspace, shown in a panel. The week of the
 *   last run is kept in globalState (shared by windows), claimed before writing so a second window does not
 *   write it again; a store that is not reachable leaves the claim for the next start.
 * - Archive before cleanup: when rows pass their retention within the next 7 days, at most one offer a week
 *   (globalState) with "Archive", "Not now", "Don't ask again". Archive exports exactly those rows as Parquet
 *   (src/stack/archive-data.ts) into a folder the author picks (default: `archives/` in global storage).
 *
 * Runs never overlap (each waits for the one before), so a Start during the activation's checks cannot
 * write the week's report twice. The new-week timer is armed for the next week's start on the same
 * clock (re-armed at least every 6 hours, and at once when the test-only clock setting changes, so a test
 * moves a window into a new week by changing the setting, never by waiting).
 *
 * Decisions are pure (src/core/report/first-start.ts, src/core/data/archive-plan.ts). Their clock is the
 * test-only clock (src/vscode/test-clock.ts); the archive's boundary uses the real clock, because the
 * engine's TTL compares with its own real now().
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { archiveUntilSec, offerMessage, shouldOfferArchive, type OfferMemory } from '../core/data/archive-plan';
import { formatBytes } from '../core/data/format-bytes';
import { weeklyReportOnStart } from '../core/report/first-start';
import { isoWeekOf } from '../core/report/iso-week';
import { ping } from '../stack/server-state';
import type { Controller } from './controller';
import { dataTarget, weeklyReportCommand } from './data-commands';
import { clockNow } from './test-clock';

const REPORT_WEEK_KEY = 'chapterTelemetry.report.firstStartWeek';
const OFFERED_KEY = 'chapterTelemetry.archive.lastOfferedMs';
const NEVER_KEY = 'chapterTelemetry.archive.neverAsk';
export const ARCHIVE_CHOICES = ['Archive', 'Not now', "Don't ask again"] as const;
export type ArchiveChoice = (typeof ARCHIVE_CHOICES)[number];

export interface FirstStartOutcome { week?: string; files?: string[]; skipped?: string; error?: string }
export interface ArchiveOutcome {
  offered: boolean;
  reason?: string;
  message?: string;
  choice?: ArchiveChoice;
  counts?: { id: string; rows: number }[];
  untilSec?: number;
  files?: { id: string; rows: number; bytes: number; out: string }[];
  error?: string;
}
export interface StartOutcome { report: FirstStartOutcome; archive: ArchiveOutcome }
/** What made the checks run. */
export type StartTrigger = 'activation' | 'start' | 'new week';
/**
 * Arguments the tests (and scripts) pass instead of clicking: the answer to the offer and the folder.
 * `announce`: say "archived …" (or why nothing was) even though the answer came as an argument (the palette command).
 */
export interface ArchiveArgs { choose?: ArchiveChoice; dir?: string; force?: boolean; announce?: boolean }

/** Longest wait between two looks at the clock (a suspended machine's timers drift). */
const WEEK_CHECK_MAX_MS = 6 * 3600_000;
const DAY_MS = 86_400_000;

export class LifecycleStart {
  /** Offers this window showed, in order (for the extension-host tests through an internal command). */
  readonly offers: ArchiveOutcome[] = [];
  /** The activation's run(), for the extension-host tests. */
  lastRun: Promise<StartOutcome> | undefined;
  /** Every run's trigger, week and (once done) outcome, in the order they began (for the extension-host tests). */
  readonly runs: { trigger: StartTrigger; week: string; outcome?: StartOutcome }[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  /** The ISO week (test-only clock) of the last run: a look at the clock in another week runs the checks. */
  private lastWeek: string | undefined;
  private weekTimer: NodeJS.Timeout | undefined;

  constructor(private readonly c: Controller, private readonly ctx: vscode.ExtensionContext) {}

  /** Both checks, one after the other, after any run still going. */
  run(trigger: StartTrigger = 'activation'): Promise<StartOutcome> {
    const week = isoWeekOf(clockNow().getTime()).id;
    this.lastWeek = week;
    const entry: (typeof this.runs)[number] = { trigger, week };
    this.runs.push(entry);
    const p = this.queue.then(async () => (entry.outcome = { report: await this.weeklyReport(), archive: await this.archiveOffer() }));
    this.queue = p.catch(() => undefined);
    if (trigger === 'activation') this.lastRun = p;
    return p;
  }

  /** Runs the checks again on a later Start and when the clock crosses into a new week; dispose to stop. */
  watch(): vscode.Disposable {
    const subs = [
      this.c.onDidStart(() => void this.run('start').catch((e: Error) => this.c.output.warn(`Start checks failed: ${e.message}`))),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('chapterTelemetry.budget.testOnlyNow')) this.lookAtClock();
      }),
    ];
    this.armWeekTimer();
    return { dispose: () => {
      clearTimeout(this.weekTimer);
      for (const s of subs) s.dispose();
    } };
  }

  private armWeekTimer(): void {
    clearTimeout(this.weekTimer);
    const now = clockNow().getTime();
    const next = Date.parse(`${isoWeekOf(now).start}T00:00:00Z`) + 7 * DAY_MS;
    this.weekTimer = setTimeout(() => this.lookAtClock(), Math.min(Math.max(next - now, 1_000), WEEK_CHECK_MAX_MS));
  }

  /** In another week than the last run: run the checks (the weekly report of the week just ended, the archive offer). */
  private lookAtClock(): void {
    if (isoWeekOf(clockNow().getTime()).id !== this.lastWeek) {
      void this.run('new week').catch((e: Error) => this.c.output.warn(`Start checks failed: ${e.message}`));
    }
    this.armWeekTimer();
  }

  private async storeUp(): Promise<boolean> {
    const e = this.c.endpoints ?? this.c.config.endpoints;
    return await ping(e.host, e.httpPort);
  }

  async weeklyReport(): Promise<FirstStartOutcome> {
    if (vscode.workspace.getConfiguration('chapterTelemetry').get<boolean>('report.weeklyOnFirstStart') !== true) return { skipped: 'setting off' };
    const memento = this.ctx.globalState;
    const last = memento.get<string>(REPORT_WEEK_KEY);
    const d = weeklyReportOnStart(last, clockNow().getTime());
    if (!d.due) return { skipped: `already made in ${d.current.id}` };
    if (!vscode.workspace.workspaceFolders?.length) return { skipped: 'no folder open' };
    if (!(await this.storeUp())) return { skipped: 'store not reachable' };
    await memento.update(REPORT_WEEK_KEY, d.current.id);
    const r = await weeklyReportCommand(this.c, { week: d.due.id, show: true }, this.ctx);
    if (r.error) {
      await memento.update(REPORT_WEEK_KEY, last);
      return { error: r.error };
    }
    this.c.output.info(`Weekly report on the first start of ${d.current.id}: ${d.due.id}`);
    return { week: r.week, files: r.files };
  }

  async archiveOffer(args: ArchiveArgs = {}): Promise<ArchiveOutcome> {
    const memento = this.ctx.globalState;
    const memory: OfferMemory = { lastOfferedMs: memento.get<number>(OFFERED_KEY), never: memento.get<boolean>(NEVER_KEY) };
    const now = clockNow().getTime();
    // Without asking the store first: one row stands for "some", so a week's silence costs no query.
    if (!args.force && !shouldOfferArchive(memory, 1, now)) return { offered: false, reason: memory.never ? "don't ask again" : 'offered within the last week' };
    if (!(await this.storeUp())) return { offered: false, reason: 'store not reachable' };
    const untilSec = archiveUntilSec(Date.now());
    const target = await dataTarget(this.c, false);
    const { countExpiring, archiveExpiring } = await import('../stack/archive-data');
    let counts;
    try {
      counts = await countExpiring(target, untilSec);
    } catch (e) {
      this.c.output.warn(`Archive check: could not count the rows about to expire (${(e as Error).message})`);
      return { offered: false, error: (e as Error).message };
    }
    const total = counts.reduce((sum, x) => sum + x.rows, 0);
    const brief = counts.map((x) => ({ id: x.id, rows: x.rows }));
    if (total === 0) return { offered: false, reason: 'nothing expires within 7 days', counts: brief, untilSec };
    const message = offerMessage(brief, untilSec);
    await memento.update(OFFERED_KEY, now);
    this.c.output.info(`Archive offer: ${message}`);
    const outcome: ArchiveOutcome = { offered: true, message, counts: brief, untilSec };
    this.offers.push(outcome);
    const answer = async (choice: ArchiveChoice | undefined): Promise<ArchiveOutcome> => {
      outcome.choice = choice;
      if (choice === "Don't ask again") await memento.update(NEVER_KEY, true);
      if (choice !== 'Archive') return outcome;
      const dir = args.dir ?? (await this.pickFolder());
      if (!dir) return outcome;
      try {
        await mkdir(dir, { recursive: true });
        outcome.files = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Archiving records about to expire', cancellable: true }, async (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          return await archiveExpiring(target, counts, untilSec, dir, (table, p) => progress.report({ message: `${table}: ${formatBytes(p.bytes)}` }), abort.signal);
        });
        const rows = outcome.files.reduce((sum, f) => sum + f.rows, 0);
        this.c.output.info(`Archived ${rows} rows into ${dir}: ${outcome.files.map((f) => `${f.id} ${f.rows}`).join(', ')}`);
        if (!args.choose || args.announce) {
          void vscode.window.showInformationMessage(`Chapter Telemetry: archived ${rows.toLocaleString()} records as Parquet into ${dir}.`, 'Reveal').then((a) => {
            if (a) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(outcome.files![0]!.out));
          });
        }
      } catch (e) {
        outcome.error = (e as Error).message;
        void vscode.window.showErrorMessage(`Chapter Telemetry: archive failed: ${outcome.error}`);
      }
      return outcome;
    };
    // An answer given as an argument (tests, scripts) is handled before returning; the author's click may come
    // much later, so a start-up check does not wait for it.
    if (args.choose) return await answer(args.choose);
    void vscode.window.showInformationMessage(`Chapter Telemetry: ${message}`, ...ARCHIVE_CHOICES).then(answer);
    return outcome;
  }

  private async pickFolder(): Promise<string | undefined> {
    const def = join(this.ctx.globalStorageUri.fsPath, 'archives');
    await mkdir(def, { recursive: true });
    const picked = await vscode.window.showOpenDialog({
      title: 'Archive: where to put the Parquet files', defaultUri: vscode.Uri.file(def),
      canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Archive here',
    });
    return picked?.[0]?.fsPath;
  }
}
