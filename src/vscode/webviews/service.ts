/**
 * The host side of the analytics: one connection per endpoint, the request handler every webview
 * uses, and the watcher that tells visible views to reload.
 */
import * as vscode from 'vscode';
import {
  chooseScope, classifyQueryFailure, classifyTeamFailure, loadChapterSessions, loadChapters, loadCost, loadErrors, loadOccurrences, loadSidebar,
  loadTeamChapters, loadTeamCost, loadTeamErrors, scopeOptions,
  type QueryFailure, type RangeSpec, type ScopeContext, type TeamIdentity, type ViewScope, type Who,
} from '../../core/analytics';
import { costLimits, hasLimits, type BudgetLimits } from '../../core/budget';
import { manuscriptProgress } from '../../core/manuscript';
import type { ManuscriptSnapshot } from '../manuscript';
import { PERIOD_KEYS, type BoundQuery, type PeriodKey, type QueryRunner } from '../../core/queries';
import type { DataTarget } from '../../stack/export-data';
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
  /** The team connection, when this window has one: who the member is and how to read the team server. */
  team?(): Promise<TeamAccess | undefined>;
  /** Fires when the team connection changes (the views re-ask for their scope choices). */
  onDidChangeTeam?: vscode.Event<unknown>;
}

/** A team connection as the analytics need it: the identity, and the URL + member credential + team CA. */
export interface TeamAccess {
  identity: TeamIdentity;
  target: DataTarget & { auth: { user: string; password: string }; ca: string };
}

/** A read from the team server failed: classified with the team's causes and remedies. */
class TeamReadError extends Error {
  constructor(readonly original: unknown, readonly url: string) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/** Where one request reads: a runner and whose rows a `me`/`mine` filter keeps. */
interface Source {
  run: QueryRunner;
  who: Who;
  scope: ViewScope;
}

type Handler = { [M in keyof Methods]: (p: Methods[M]['params']) => Promise<Methods[M]['result']> };

function validSpec(p: unknown): RangeSpec {
  const s = (p ?? {}) as Partial<RangeSpec>;
  const preset = s.preset === 7 || s.preset === 30 || s.preset === 90 || s.preset === 'custom' ? s.preset : 30;
  return {
    preset,
    // Checked against what this window offers in `source()`; anything else becomes the default there.
    scope: s.scope as ViewScope,
    ...(typeof s.fromDay === 'string' ? { fromDay: s.fromDay } : {}),
    ...(typeof s.toDay === 'string' ? { toDay: s.toDay } : {}),
  };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export class AnalyticsService implements vscode.Disposable {
  private runner: HttpRunner | undefined;
  private teamRunner: { key: string; runner: HttpRunner } | undefined;
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
    if (deps.onDidChangeTeam) this.subs.push(deps.onDidChangeTeam(() => this.watcher.poke()));
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
    const f = err instanceof TeamReadError ? classifyTeamFailure(err.original, err.url) : classifyQueryFailure(err, this.deps.getEndpoint()?.httpUrl);
    this.log(`analytics: ${f.message} (${f.detail})`);
    return f;
  }

  private need(): HttpRunner {
    const r = this.currentRunner();
    if (!r) throw new Error('no endpoint');
    return r;
  }

  private async scopeContext(): Promise<{ ctx: ScopeContext; team: TeamAccess | undefined }> {
    const team = await this.deps.team?.();
    return { ctx: { userId: readConfig().userId, ...(team ? { team: team.identity } : {}) }, team };
  }

  /** A runner for the team server, kept while the URL, member, secret and CA stay the same. */
  private teamRun(t: TeamAccess): QueryRunner {
    const key = JSON.stringify([t.target.url, t.target.auth.user, t.target.auth.password, t.target.ca]);
    if (this.teamRunner?.key !== key) {
      void this.teamRunner?.runner.close();
      this.teamRunner = { key, runner: httpRunner(t.target, { application: 'chapter-telemetry-team-analytics' }) };
    }
    const runner = this.teamRunner.runner;
    return {
      async rows<Row>(q: BoundQuery<Row>): Promise<Row[]> {
        try {
          return await runner.rows(q);
        } catch (e) {
          throw new TeamReadError(e, t.target.url);
        }
      },
    };
  }

  /**
   * Resolves a webview's scope against what this window offers (never trusting the webview): the
   * local store for `all`/`me`, the team server with the member's credential for `mine`/`team`.
   */
  private async source(requested: unknown): Promise<Source> {
    const { ctx, team } = await this.scopeContext();
    const scope = chooseScope(requested, ctx);
    if ((scope === 'mine' || scope === 'team') && team) return { run: this.teamRun(team), who: { userId: team.identity.member }, scope };
    return { run: this.need(), who: { userId: ctx.userId }, scope };
  }

  /** Row-level views: the Team scope has its own (aggregate-only) methods. */
  private async rowSource(p: RangeSpec): Promise<{ src: Source; spec: RangeSpec }> {
    const src = await this.source(p.scope);
    if (src.scope === 'team') throw new Error('the Team scope reads aggregates only: ask teamCost / teamErrors / teamChapters');
    return { src, spec: { ...validSpec(p), scope: src.scope } };
  }

  private async teamSource(p: RangeSpec): Promise<{ run: QueryRunner; spec: RangeSpec }> {
    const src = await this.source(p.scope);
    if (src.scope !== 'team') throw new Error('the Team scope needs a team connection with the coordinator or admin role');
    return { run: src.run, spec: { ...validSpec(p), scope: 'team' } };
  }

  private readonly handlers: Handler = {
    scopes: async () => ({ options: scopeOptions((await this.scopeContext()).ctx) }),
    sidebar: async (p) => {
      const listPeriod: PeriodKey = (PERIOD_KEYS as readonly string[]).includes(p.listPeriod) ? p.listPeriod : 'd7';
      const { src } = await this.rowSource({ preset: 30, scope: p.scope });
      return await loadSidebar(src.run, src.who, { chapter: this.deps.currentChapter(), listPeriod, scope: src.scope });
    },
    cost: async (p) => {
      const { src, spec } = await this.rowSource(p);
      const d = await loadCost(src.run, src.who, spec);
      const limits = this.deps.budgetLimits?.();
      return limits && hasLimits(limits) ? { ...d, limits: costLimits(limits, d.chapters.map((r) => r.chapter), boundedRegexExec) } : d;
    },
    errors: async (p) => {
      const { src, spec } = await this.rowSource(p);
      return await loadErrors(src.run, src.who, spec);
    },
    occurrences: async (p) => {
      const { src, spec } = await this.rowSource(p);
      return await loadOccurrences(src.run, src.who, spec, str(p.errorType));
    },
    chapters: async (p) => {
      const { src, spec } = await this.rowSource(p);
      const d = await loadChapters(src.run, src.who, spec);
      if (!this.deps.manuscript) return d;
      try {
        const m = await this.deps.manuscript();
        return { ...d, progress: manuscriptProgress(d.chapters, m.words, m.changes, d.range) };
      } catch (e) {
        this.log(`manuscript: ${(e as Error).message}`);
        return d;
      }
    },
    chapterSessions: async (p) => {
      const { src, spec } = await this.rowSource(p);
      return await loadChapterSessions(src.run, src.who, spec, str(p.chapter));
    },
    teamCost: async (p) => {
      const { run, spec } = await this.teamSource(p);
      return await loadTeamCost(run, spec);
    },
    teamErrors: async (p) => {
      const { run, spec } = await this.teamSource(p);
      return await loadTeamErrors(run, spec);
    },
    teamChapters: async (p) => {
      const { run, spec } = await this.teamSource(p);
      return await loadTeamChapters(run, spec);
    },
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
    void this.teamRunner?.runner.close();
  }
}
