/**
 * The extension's state machine: off → starting → on | error. Owns the backend (loaded lazily),
 * the terminal env, the status bar, the chapter timeline and the user-facing messages.
 */
import * as vscode from 'vscode';
import { buildOtelEnv, otlpEndpoint } from '../core/otel-env';
import { focusLogsUrl } from '../core/otlp-log';
import { ClaudeSettingsFile } from './claude-settings-file';
import { readConfig, type Config } from './config';
import { ChapterTracker } from './chapter-tracker';
import { sendFocus } from './focus-sender';
import { StatusBar, type UiState } from './status-bar';
import { TerminalEnv } from './terminal-env';
import { StackError, type StackBackend, type StackEndpoints } from '../stack/types';

const ENABLED_KEY = 'chapterTelemetry.enabled';

export class Controller implements vscode.Disposable {
  state: UiState = 'off';
  endpoints: StackEndpoints | undefined;
  attached = false;
  lastError: StackError | undefined;
  eventsToday: number | undefined;
  focusSent = 0;
  private backend: StackBackend | undefined;
  private backendKey = '';
  private logSub: { dispose(): void } | undefined;
  private health: NodeJS.Timeout | undefined;
  private envAppliedAt = 0;
  private busy: Promise<unknown> = Promise.resolve();
  readonly env: TerminalEnv;
  readonly tracker: ChapterTracker;
  readonly claudeSettings: ClaudeSettingsFile;
  private cfg: Config;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    private readonly bar: StatusBar,
  ) {
    this.cfg = readConfig();
    this.env = new TerminalEnv(ctx.environmentVariableCollection);
    this.tracker = new ChapterTracker(this.cfg.chapterPatterns, (m) => this.output.warn(m));
    this.claudeSettings = new ClaudeSettingsFile(ctx.workspaceState);
    this.disposables.push(
      this.tracker,
      this.tracker.onDidChange((c) => {
        this.render();
        this.applyEnv();
        void this.refreshClaudeSettings();
        if (this.state === 'on' && c.chapter) void this.sendFocus(c.file, c.folder);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('chapterTelemetry')) return;
        const before = this.cfg;
        this.cfg = readConfig();
        if (JSON.stringify(before.chapterPatterns) !== JSON.stringify(this.cfg.chapterPatterns)) this.tracker.setPatterns(this.cfg.chapterPatterns);
        this.applyEnv();
        void this.refreshClaudeSettings();
        this.render();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.applyEnv()),
    );
    this.render();
  }

  get config(): Config {
    return this.cfg;
  }

  /** At activation: clear stale env, then re-attach (or restart) if collection was on. Not awaited by activate(). */
  async restore(): Promise<void> {
    this.applyEnv();
    if (this.ctx.globalState.get<boolean>(ENABLED_KEY)) await this.start({ quiet: true });
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** `forStart: false` (stopping): no engine lookup, so Stop never triggers an engine download. */
  private async getBackend(forStart = true): Promise<StackBackend> {
    const key = JSON.stringify([this.cfg.mode, this.cfg.endpoints, this.cfg.serverNodePath, this.cfg.enginePath, this.cfg.dataDir]);
    if (this.backend && key === this.backendKey) return this.backend;
    this.logSub?.dispose();
    const storage = this.ctx.globalStorageUri.fsPath;
    let engineNodeModules: string | undefined;
    if (this.cfg.mode === 'embedded' && forStart) {
      const { ensureEngine } = await import('./engine-ui');
      engineNodeModules = await ensureEngine(this.ctx, this.cfg.enginePath, (l) => this.output.info(l));
    }
    const { createBackend } = await import('../stack/index');
    this.backend = await createBackend(this.cfg.mode, {
      endpoints: this.cfg.endpoints,
      stateDir: storage,
      dataDir: this.cfg.dataDir || undefined,
      serverScript: this.ctx.asAbsolutePath('dist/server.js'),
      nodePath: this.cfg.serverNodePath || undefined,
      engineNodeModules,
    });
    this.backendKey = key;
    this.logSub = this.backend.onLog((l) => this.output.appendLine(l));
    const b = this.backend as StackBackend & { onUnexpectedExit?: (l: (e: StackError) => void) => { dispose(): void } };
    const sub = b.onUnexpectedExit?.((e) => this.fail(e));
    if (sub) this.disposables.push(sub);
    return this.backend;
  }

  start(opts: { quiet?: boolean } = {}): Promise<boolean> {
    return this.serialize(async () => {
      this.state = 'starting';
      this.lastError = undefined;
      this.render();
      try {
        const backend = await this.getBackend();
        const s = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: 'Chapter Telemetry' },
          (progress) => backend.start({ onProgress: (p) => progress.report({ message: p.message }) }),
        );
        if (s.state !== 'running') throw new Error(`the stack reports ${s.state}`);
        this.endpoints = s.endpoints;
        this.attached = s.attached;
        this.state = 'on';
        await this.ctx.globalState.update(ENABLED_KEY, true);
        this.output.info(`Collection on (${this.cfg.mode}${s.attached ? ', attached to a running server' : ''}): OTLP ${this.endpointText()}`);
        this.applyEnv();
        await this.refreshClaudeSettings();
        this.render();
        this.startHealthChecks();
        if (this.tracker.state.current) void this.sendFocus(this.tracker.lastFile, this.tracker.lastFolder);
        return true;
      } catch (e) {
        this.fail(toStackError(e), opts.quiet);
        return false;
      }
    });
  }

  stop(): Promise<void> {
    return this.serialize(async () => {
      this.stopHealthChecks();
      await this.ctx.globalState.update(ENABLED_KEY, false);
      try {
        await this.backend?.stop();
        if (!this.backend) {
          // Stop from a window that never started: still stop the shared server if one runs.
          const b = await this.getBackend(false);
          await b.stop();
          this.backend = undefined;
        }
      } catch (e) {
        this.output.error(`Stopping: ${(e as Error).message}`);
      }
      this.state = 'off';
      this.endpoints = undefined;
      this.lastError = undefined;
      this.applyEnv();
      await this.refreshClaudeSettings();
      this.render();
      this.output.info('Collection off.');
    });
  }

  async toggle(): Promise<void> {
    if (this.state === 'on' || this.state === 'starting') await this.stop();
    else await this.start();
  }

  /** Error state + a message with Show Logs / Restart (the env stays, so Restart fixes it without new terminals). */
  fail(e: StackError, quiet = false): void {
    this.stopHealthChecks();
    this.state = 'error';
    this.lastError = e;
    this.output.error(`${e.message} ${e.hint}${e.detail ? `\n${e.detail}` : ''}`);
    this.render();
    if (quiet && e.code === 'cancelled') return;
    void vscode.window.showErrorMessage(`Chapter Telemetry: ${e.message} ${e.hint}`, 'Show Logs', 'Restart').then((pick) => {
      if (pick === 'Show Logs') this.output.show(true);
      if (pick === 'Restart') void this.start();
    });
  }

  endpointText(): string {
    const e = this.endpoints ?? this.cfg.endpoints;
    return otlpEndpoint({ protocol: this.cfg.otlpProtocol, endpoint: this.cfg.endpoint, ...e });
  }

  /** The env terminals should get for a folder, or undefined when collection or injection is off. */
  envFor(folder: vscode.WorkspaceFolder | undefined): Record<string, string> | undefined {
    if (this.state === 'off' || !this.cfg.injectIntoTerminals) return undefined;
    const e = this.endpoints ?? this.cfg.endpoints;
    return buildOtelEnv({
      protocol: this.cfg.otlpProtocol,
      endpoint: this.cfg.endpoint,
      ...e,
      userId: this.cfg.userId,
      chapter: this.tracker.state.current,
      workspace: folder?.name ?? vscode.workspace.name,
      logUserPrompts: this.cfg.logUserPrompts,
    });
  }

  applyEnv(): void {
    const before = this.env.writes;
    this.env.apply((f) => this.envFor(f), `Chapter Telemetry: Claude Code sends telemetry to ${this.endpointText()} (chapter ${this.tracker.state.current ?? 'none'}).`);
    if (this.env.writes !== before) this.envAppliedAt = Date.now();
  }

  get envAppliedTime(): number {
    return this.envAppliedAt;
  }

  /** Keeps the opt-in settings.local.json in step with the env (only in folders where the author turned it on). */
  async refreshClaudeSettings(): Promise<void> {
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      if (!this.claudeSettings.isEnabled(f)) continue;
      const env = this.state === 'off' ? undefined : this.envFor(f) ?? this.envForSettings(f);
      try {
        if (env) await this.claudeSettings.write(f, env);
      } catch (e) {
        this.output.warn((e as Error).message);
      }
    }
  }

  /** The same variables for settings.local.json, even when terminal injection is off. */
  envForSettings(folder: vscode.WorkspaceFolder): Record<string, string> {
    const e = this.endpoints ?? this.cfg.endpoints;
    return buildOtelEnv({ protocol: this.cfg.otlpProtocol, endpoint: this.cfg.endpoint, ...e, userId: this.cfg.userId, chapter: this.tracker.state.current, workspace: folder.name, logUserPrompts: this.cfg.logUserPrompts });
  }

  async sendFocus(file: string | undefined, folder: vscode.WorkspaceFolder | undefined): Promise<void> {
    const chapter = this.tracker.state.current;
    if (!chapter) return;
    const e = this.endpoints ?? this.cfg.endpoints;
    const url = focusLogsUrl({ protocol: this.cfg.otlpProtocol, endpoint: this.cfg.endpoint, host: e.host, otlpHttpPort: e.otlpHttpPort });
    const ok = await sendFocus(url, {
      chapter,
      userId: this.cfg.userId,
      workspace: folder?.name ?? vscode.workspace.name,
      file: this.cfg.sendFilePaths && !this.tracker.state.isManual ? file : undefined,
      version: this.ctx.extension.packageJSON.version as string,
    }, (l) => this.output.debug(l));
    if (ok) this.focusSent++;
  }

  private startHealthChecks(): void {
    this.stopHealthChecks();
    const tick = async () => {
      if (this.state !== 'on' || !this.backend) return;
      const s = await this.backend.status().catch((e: unknown) => ({ state: 'error' as const, error: toStackError(e) }));
      if (this.state !== 'on') return;
      if (s.state === 'error') this.fail(s.error);
      else if (s.state === 'stopped') {
        this.fail(new StackError('crashed', 'The telemetry server is no longer running.', 'Choose Restart; Show Logs tells why it stopped.'));
      } else {
        await this.refreshEventsToday();
        this.render();
      }
    };
    void this.refreshEventsToday().then(() => this.render());
    this.health = setInterval(() => void tick(), 30_000);
  }

  private stopHealthChecks(): void {
    if (this.health) clearInterval(this.health);
    this.health = undefined;
  }

  private async refreshEventsToday(): Promise<void> {
    if (!this.endpoints) return;
    try {
      const { fetchCounts } = await import('../core/collection-counts');
      this.eventsToday = (await fetchCounts(`http://127.0.0.1:${this.endpoints.httpPort}/`, this.cfg.userId)).eventsToday;
    } catch {
      this.eventsToday = undefined;
    }
  }

  render(): void {
    this.bar.update({
      state: this.state,
      chapter: this.tracker.state.current,
      manualChapter: this.tracker.state.isManual,
      mode: this.cfg.mode,
      endpoint: this.state === 'off' ? undefined : this.endpointText(),
      eventsToday: this.eventsToday,
      attached: this.attached,
      error: this.lastError ? `${this.lastError.message} ${this.lastError.hint}` : undefined,
    });
  }

  dispose(): void {
    this.stopHealthChecks();
    this.logSub?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function toStackError(e: unknown): StackError {
  if (e instanceof StackError) return e;
  return new StackError('crashed', `Chapter Telemetry failed: ${(e as Error)?.message ?? String(e)}.`, 'Open Show Logs for details, then Restart.', (e as Error)?.stack);
}
