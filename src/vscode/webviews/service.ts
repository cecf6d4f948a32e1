/**
 * The host side of the analytics: one connection per endpoint, the request handler every webview
 * uses, and the watcher that tells visible views to reload.
 */
import * as vscode from 'vscode';
import {
  classifyQueryFailure, loadChapterSessions, loadChapters, loadCost, loadErrors, loadOccurrences, loadSidebar,
  type QueryFailure, type RangeSpec,
} from '../../core/analytics';
import { costLimits, hasLimits, type BudgetLimits } from '../../core/budget';
import { manuscriptProgress } from '../../core/manuscript';
import type { ManuscriptSnapshot } from '../manuscript';
import { PERIOD_KEYS, type PeriodKey } from '../../core/queries';
import { boundedRegexExec } from '../bounded-regex';
import { ALLOWED_COMMANDS, isRequest, type HostToWebview, type Methods, type RequestMsg } from '../../webview/protocol';
import { readConfig } from '../config';
import { httpRunner, type HttpRunner } from './connection';
import { Watcher } from './watcher';

export interface AnalyticsDeps {
  getEndpoint(): { httpUrl: string } | undefined;
  /** Fires when collection starts/stops (optional: without it a view notices within a few seconds). */
  onDidChangeState?: vscode.Event<unknown>;
  startStack(): Promise<void>;
  showLogs(): void;
  currentChapter(): string | undefined;
  /** Words per chapter and git history of the workspace (the Chapters panel's progress columns). */
  manuscript?(): Promise<ManuscriptSnapshot>;
  /** The budget limits (the Cost panel draws them as lines). */
  budgetLimits?(): BudgetLimits;
}

type Handler = { [M in keyof Methods]: (p: Methods[M]['params']) => Promise<Methods[M]['result']> };

function validSpec(p: unknown): RangeSpec {
  const s = (p ?? {}) as Partial<RangeSpec>;
  const preset = s.preset === 7 || s.preset === 30 || s.preset === 90 || s.preset === 'custom' ? s.preset : 30;
  return {
    preset,
    scope: s.scope === 'all' ? 'all' : 'me',
    ...(typeof s.fromDay === 'string' ? { fromDay: s.fromDay } : {}),
    ...(typeof s.toDay === 'string' ? { toDay: s.toDay } : {}),
  };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export class AnalyticsService implements vscode.Disposable {
  private runner: HttpRunner | undefined;
  private readonly webviews = new Set<vscode.Webview>();
  readonly watcher: Watcher;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly deps: AnalyticsDeps, private readonly log: (line: string) => void) {
    this.watcher = new Watcher({
      runner: () => this.currentRunner(),
      currentChapter: () => deps.currentChapter(),
      classify: (e) => this.classify(e),
      notify: (m) => this.broadcast(m),
    });
    if (deps.onDidChangeState) this.subs.push(deps.onDidChangeState(() => this.watcher.poke()));
    this.subs.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('chapterTelemetry.userId') || e.affectsConfiguration('chapterTelemetry.budget')) this.watcher.poke();
    }));
  }

  /** The runner for the current endpoint, replaced when the endpoint changes; undefined when collection is off. */
  private currentRunner(): HttpRunner | undefined {
    const ep = this.deps.getEndpoint();
    if (!ep) return undefined;
    if (this.runner?.url !== ep.httpUrl) {
      void this.runner?.close();
      this.runner = httpRunner(ep.httpUrl);
    }
    return this.runner;
  }

  private classify(err: unknown): QueryFailure {
    const f = classifyQueryFailure(err, this.deps.getEndpoint()?.httpUrl);
    this.log(`analytics: ${f.message} (${f.detail})`);
    return f;
  }

  private who() {
    return { userId: readConfig().userId };
  }

  private need(): HttpRunner {
    const r = this.currentRunner();
    if (!r) throw new Error('no endpoint');
    return r;
  }

  private readonly handlers: Handler = {
    sidebar: async (p) => {
      const listPeriod: PeriodKey = (PERIOD_KEYS as readonly string[]).includes(p.listPeriod) ? p.listPeriod : 'd7';
      return await loadSidebar(this.need(), this.who(), { chapter: this.deps.currentChapter(), listPeriod });
    },
    cost: async (p) => {
      const d = await loadCost(this.need(), this.who(), validSpec(p));
      const limits = this.deps.budgetLimits?.();
      return limits && hasLimits(limits) ? { ...d, limits: costLimits(limits, d.chapters.map((r) => r.chapter), boundedRegexExec) } : d;
    },
    errors: async (p) => await loadErrors(this.need(), this.who(), validSpec(p)),
    occurrences: async (p) => await loadOccurrences(this.need(), this.who(), validSpec(p), str(p.errorType)),
    chapters: async (p) => {
      const d = await loadChapters(this.need(), this.who(), validSpec(p));
      if (!this.deps.manuscript) return d;
      try {
        const m = await this.deps.manuscript();
        return { ...d, progress: manuscriptProgress(d.chapters, m.words, m.changes, d.range) };
      } catch (e) {
        this.log(`manuscript: ${(e as Error).message}`);
        return d;
      }
    },
    chapterSessions: async (p) => await loadChapterSessions(this.need(), this.who(), validSpec(p), str(p.chapter)),
    copy: async (p) => {
      await vscode.env.clipboard.writeText(str(p.text));
      void vscode.window.setStatusBarMessage('Chapter Telemetry: table copied as CSV', 3000);
      return true;
    },
    command: async (p) => {
      if (p.command === 'chapterTelemetry.start') await this.deps.startStack();
      else if (p.command === 'chapterTelemetry.showLogs') this.deps.showLogs();
      else if ((ALLOWED_COMMANDS as readonly string[]).includes(p.command)) await vscode.commands.executeCommand(p.command);
      return true;
    },
  };

  /** Wires a webview to the handler; returns the listener to dispose with it. */
  attach(webview: vscode.Webview): vscode.Disposable {
    this.webviews.add(webview);
    const sub = webview.onDidReceiveMessage(async (m: unknown) => {
      if (!isRequest(m)) return;
      const reply = await this.handle(m);
      void webview.postMessage(reply);
    });
    return new vscode.Disposable(() => {
      sub.dispose();
      this.webviews.delete(webview);
    });
  }

  private async handle(m: RequestMsg): Promise<HostToWebview> {
    const fn = this.handlers[m.method] as ((p: unknown) => Promise<unknown>) | undefined;
    if (!fn) return { type: 'reply', id: m.id, ok: false, failure: { kind: 'query', message: `Unknown request ${String(m.method)}.`, hint: 'Reload the window.', detail: '' } };
    try {
      return { type: 'reply', id: m.id, ok: true, result: await fn(m.params) };
    } catch (err) {
      return { type: 'reply', id: m.id, ok: false, failure: this.classify(err) };
    }
  }

  broadcast(m: HostToWebview): void {
    for (const w of this.webviews) void w.postMessage(m);
  }

  dispose(): void {
    this.watcher.dispose();
    for (const s of this.subs) s.dispose();
    void this.runner?.close();
  }
}
