/**
 * The extension's state machine: off → starting → on | error; on → restarting → on | error when the
 * embedded server dies on its own (restarted with backoff, see src/core/restart-policy.ts). Owns the
 * backend (loaded lazily), the terminal env, the status bar, the chapter timeline and the user-facing
 * messages.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { buildOtelEnv, otlpEndpoint } from '../core/otel-env';
import { focusLogsUrl } from '../core/otlp-log';
import { ClaudeSettingsFile } from './claude-settings-file';
import { readConfig, type Config } from './config';
import { USER_ONLY_SETTINGS, ignoredSettingsMessage } from '../core/user-only-settings';
import { userOnlyKeysInWorkspaceFiles } from './workspace-settings-scan';
import { ChapterTracker } from './chapter-tracker';
import { sendFocus } from './focus-sender';
import { StatusBar, type UiState } from './status-bar';
import { TerminalEnv } from './terminal-env';
import { StackError, type StackBackend, type StackEndpoints, type StackMode } from '../stack/types';
import { withDocker, withStackProgress } from './docker-mode';
import { BackendSubscriptions } from './backend-subscriptions';
import { RestartPolicy, type RestartDecision } from '../core/restart-policy';

const ENABLED_KEY = 'chapterTelemetry.enabled';

export class Controller implements vscode.Disposable {
  state: UiState = 'off';
  endpoints: StackEndpoints | undefined;
  attached = false;
  lastError: StackError | undefined;
  eventsToday: number | undefined;
  focusSent = 0;
  private readonly started = new vscode.EventEmitter<void>();
  /** Fires when a Start (the author's, or the restore at activation) has turned collection on; not after a crash restart. */
  readonly onDidStart: vscode.Event<void> = this.started.event;
  /** Set by the budget monitor (src/vscode/budget-monitor.ts); shown in the status bar. */
  budget: { state: 'ok' | 'warning' | 'over'; lines: string[] } | undefined;
  private backend: StackBackend | undefined;
  private backendKey = '';
  /** The current backend's log and exit subscriptions; replaced (old ones disposed) with the backend. */
  private readonly subs = new BackendSubscriptions();
  /** Unexpected server exits: restarted with backoff, until too many come within a minute. */
  private readonly restarts = new RestartPolicy();
  private restartTimer: NodeJS.Timeout | undefined;
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
    this.reportIgnoredSettings();
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
        this.reportIgnoredSettings();
        if (JSON.stringify(before.chapterPatterns) !== JSON.stringify(this.cfg.chapterPatterns)) this.tracker.setPatterns(this.cfg.chapterPatterns);
        if (before.mode !== this.cfg.mode || JSON.stringify(before.docker) !== JSON.stringify(this.cfg.docker)) {
          // A running stack is left alone: the change applies at the next Start (Switch Mode moves the history too).
          const d = this.cfg.docker;
          this.output.info(`Settings changed: mode ${this.cfg.mode}; docker images ${d.clickhouseImage || 'default'}, ${d.collectorImage || 'default'}; project ${d.projectName || 'default'}. ${this.state === 'on' ? 'The running stack keeps running until the next Start.' : ''}`.trim());
        }
        // Retention applies to the running store at once (and, embedded, as server flags at the next start).
        if (JSON.stringify(before.retention) !== JSON.stringify(this.cfg.retention) && this.state === 'on') void this.applyRetention();
        this.applyEnv();
        void this.refreshClaudeSettings();
        this.render();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.applyEnv()),
    );
    this.render();
  }

  private readonly reportedIgnored = new Set<string>();

  /**
   * Once per window and set of settings: which workspace values were ignored, and why. Both what
   * `inspect()` reports and what the workspace's settings files say (VS Code drops application-scoped
   * values there before the extension sees them).
   */
  private reportIgnoredSettings(): void {
    const fromConfig = this.cfg.ignoredWorkspaceSettings;
    void userOnlyKeysInWorkspaceFiles().catch((): string[] => []).then((fromFiles: readonly string[]) => {
      const keys = USER_ONLY_SETTINGS.filter((k) => fromConfig.includes(k) || fromFiles.includes(k));
      const msg = ignoredSettingsMessage(keys);
      if (!msg || this.reportedIgnored.has(keys.join())) return;
      this.reportedIgnored.add(keys.join());
      this.output.warn(msg);
      void vscode.window.showWarningMessage(msg);
    });
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

  /** Runs `fn` with no Start/Stop in between (the mode switch); inside, use startNow/stopBackendOnly. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.serialize(fn);
  }

  /** The retention settings on the running store, as the writer (src/stack/retention-over-http.ts); failures are logged. */
  async applyRetention(): Promise<string[]> {
    try {
      const e = this.endpoints ?? this.cfg.endpoints;
      const creds = await (await this.getBackend(false)).writerCredentials?.();
      if (!creds) throw new Error('no writer credential for this store');
      const { applyRetentionOverHttp } = await import('../stack/retention-over-http');
      const { localHttpUrl } = await import('../core/otel-env');
      const altered = await applyRetentionOverHttp({ url: localHttpUrl(e.host, e.httpPort), auth: creds }, this.cfg.retention);
      const r = this.cfg.retention;
      if (altered.length > 0) this.output.info(`Retention set (raw/events ${r.rawDays || 'forever'} days, sessions ${r.sessionDays || 'forever'} days): ${altered.join(', ')}`);
      return altered;
    } catch (err) {
      this.output.warn(`Could not apply the retention settings: ${(err as Error).message}`);
      return [];
    }
  }

  /** Settings as they are now (the switch saves the mode and goes on before the change event). */
  reloadConfig(): Config {
    this.cfg = readConfig();
    return this.cfg;
  }

  /**
   * A backend for any mode and ports (the switch runs the new stack on temporary ports).
   * Embedded needs the engine, looked up (or fetched) only when `forStart`.
   */
  async makeBackend(mode: StackMode, endpoints: StackEndpoints, o: { stateDir?: string; forStart?: boolean } = {}): Promise<StackBackend> {
    const storage = this.ctx.globalStorageUri.fsPath;
    let engineNodeModules: string | undefined;
    if (mode === 'embedded' && (o.forStart ?? true)) {
      const { ensureEngine } = await import('./engine-ui');
      engineNodeModules = await ensureEngine(this.ctx, this.cfg.enginePath, (l) => this.output.info(l));
    }
    const { createBackend } = await import('../stack/index');
    const stateDir = o.stateDir ?? storage;
    return await createBackend(mode, withDocker({
      endpoints,
      stateDir,
      // The data stays in one place whichever state dir runs it (the switch reads and writes the real store).
      dataDir: this.cfg.dataDir || join(storage, 'data'),
      serverScript: this.ctx.asAbsolutePath('dist/server.js'),
      nodePath: this.cfg.serverNodePath || undefined,
      engineNodeModules,
      // The server applies these at every start; without them a restart would put the defaults back.
      extraArgs: mode === 'embedded' ? ['--retention-days', String(this.cfg.retention.rawDays), '--session-retention-days', String(this.cfg.retention.sessionDays)] : undefined,
    }, this.ctx.extensionPath, this.cfg));
  }

  /** The mode's backend as configured, created when the settings changed. */
  currentBackend(forStart = true): Promise<StackBackend> {
    return this.getBackend(forStart);
  }

  /** `forStart: false` (stopping): no engine lookup, so Stop never triggers an engine download. */
  private async getBackend(forStart = true): Promise<StackBackend> {
    const key = JSON.stringify([this.cfg.mode, this.cfg.endpoints, this.cfg.serverNodePath, this.cfg.enginePath, this.cfg.dataDir, this.cfg.docker, this.cfg.retention]);
    if (this.backend && key === this.backendKey) return this.backend;
    const b = await this.makeBackend(this.cfg.mode, this.cfg.endpoints, { forStart });
    this.backendKey = key;
    this.backend = this.subs.attach(b, (l) => this.output.appendLine(l), (e) => this.serverExited(e));
    return b;
  }

  start(opts: { quiet?: boolean } = {}): Promise<boolean> {
    return this.serialize(() => this.startNow(opts));
  }

  /** Start's body; only inside exclusive() or start(). */
  async startNow(opts: { quiet?: boolean; restarting?: boolean } = {}): Promise<boolean> {
    this.cancelRestart();
    // A Start the author asked for begins a fresh count of crashes.
    if (!opts.restarting) this.restarts.reset();
    this.state = opts.restarting ? 'restarting' : 'starting';
    this.lastError = undefined;
    this.render();
    try {
      const backend = await this.getBackend();
      const title = this.cfg.mode === 'docker' ? 'Chapter Telemetry: starting the docker stack' : 'Chapter Telemetry';
      const s = await withStackProgress(this.cfg.mode, title, (onProgress, signal) => backend.start({ onProgress, signal }));
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
      void this.applyRetention();
      if (!opts.restarting) this.started.fire();
      return true;
    } catch (e) {
      const err = toStackError(e);
      if (err.code === 'cancelled') {
        // The author asked for it: back to Off (the backend removed what it had created), no error.
        await this.ctx.globalState.update(ENABLED_KEY, false);
        this.state = 'off';
        this.endpoints = undefined;
        this.applyEnv();
        this.render();
        this.output.info(`${err.message} ${err.hint}`);
        if (!opts.quiet) void vscode.window.showInformationMessage(`Chapter Telemetry: ${err.message} ${err.hint}`);
        return false;
      }
      // A restart that fails counts as another crash: try again later, or give up with Error.
      if (opts.restarting) this.serverExited(err);
      else this.fail(err, opts.quiet);
      return false;
    }
  }

  /**
   * The server this window started died on its own (a crash, kill -9, exit code 5 after an unexpected
   * error). Collection was on, so the author expects it to stay on: start it again after a pause that
   * grows with each crash, and give up with Error (the last log lines, a Restart action) when it keeps
   * crashing. Terminals keep their env meanwhile: the restarted server takes the same ports.
   */
  private serverExited(e: StackError): void {
    if (this.state !== 'on' && this.state !== 'restarting') return;
    this.stopHealthChecks();
    this.output.error(`${e.message}${e.detail ? `\n${e.detail}` : ''}`);
    const d = this.restarts.onCrash(Date.now());
    if (d.action === 'give-up') {
      this.fail(crashLoopError(e, d));
      return;
    }
    this.state = 'restarting';
    this.render();
    this.output.warn(`Restarting the telemetry server in ${d.delayMs / 1000} s (unexpected exit ${d.attempt} within a minute).`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.serialize(async () => {
        // Stop (or a Start, or the mode switch) came first: nothing to restart.
        if (this.state === 'restarting') await this.startNow({ quiet: true, restarting: true });
      });
    }, d.delayMs);
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  /**
   * Stops the running stack for the mode switch without turning collection off: the state shows
   * Starting… until the new stack is up (or the old one is back).
   */
  async stopBackendOnly(): Promise<void> {
    this.stopHealthChecks();
    this.cancelRestart();
    if (this.state === 'on') {
      this.state = 'starting';
      this.render();
    }
    const b = await this.getBackend(false);
    await b.stop();
    // The next Start builds a fresh backend for whatever mode is configured then.
    this.subs.detach();
    this.backend = undefined;
  }

  /** Where the team connection lives (src/vscode/team-connection.ts): globalState and SecretStorage. */
  get teamStore(): { globalState: vscode.Memento; secrets: vscode.SecretStorage } {
    return this.ctx;
  }

  /** The extension's global storage (server.json, data, engine). */
  get storageDir(): string {
    return this.ctx.globalStorageUri.fsPath;
  }

  stop(): Promise<void> {
    this.cancelRestart();
    return this.serialize(async () => {
      this.stopHealthChecks();
      this.cancelRestart();
      this.restarts.reset();
      await this.ctx.globalState.update(ENABLED_KEY, false);
      try {
        await this.backend?.stop();
        if (!this.backend) {
          // Stop from a window that never started: still stop the shared server if one runs.
          const b = await this.getBackend(false);
          await b.stop();
          this.subs.detach();
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
    if (this.state === 'on' || this.state === 'starting' || this.state === 'restarting') await this.stop();
    else await this.start();
  }

  /** Error state + a message with Show Logs / Restart (the env stays, so Restart fixes it without new terminals). */
  fail(e: StackError, quiet = false): void {
    this.stopHealthChecks();
    this.cancelRestart();
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
      const { fetchCounts } = await import('./store-counts');
      this.eventsToday = (await fetchCounts(this.endpoints.host, this.endpoints.httpPort, this.cfg.userId)).eventsToday;
    } catch {
      this.eventsToday = undefined;
    }
  }

  private contexts: Record<string, boolean> = {};

  /** Context keys the walkthrough's steps complete on (package.json contributes.walkthroughs). */
  private setContexts(): void {
    const next = { 'chapterTelemetry.collecting': this.state === 'on', 'chapterTelemetry.hasEvents': (this.eventsToday ?? 0) > 0, 'chapterTelemetry.chapterDetected': !!this.tracker.state.current };
    for (const [k, v] of Object.entries(next)) {
      if (this.contexts[k] === v) continue;
      this.contexts[k] = v;
      void vscode.commands.executeCommand('setContext', k, v);
    }
  }

  render(): void {
    this.setContexts();
    this.bar.update({
      state: this.state,
      chapter: this.tracker.state.current,
      manualChapter: this.tracker.state.isManual,
      mode: this.cfg.mode,
      endpoint: this.state === 'off' ? undefined : this.endpointText(),
      eventsToday: this.eventsToday,
      attached: this.attached,
      error: this.lastError ? `${this.lastError.message} ${this.lastError.hint}` : undefined,
      budget: this.budget,
    });
  }

  dispose(): void {
    this.stopHealthChecks();
    this.cancelRestart();
    this.subs.detach();
    for (const d of this.disposables) d.dispose();
    this.started.dispose();
  }
}

/** Error after too many unexpected exits: what happened, the server's last words, and what to do. */
function crashLoopError(last: StackError, d: Extract<RestartDecision, { action: 'give-up' }>): StackError {
  const lines = (last.detail ?? '').split('\n').map((l) => l.trim()).filter(Boolean).slice(-3);
  return new StackError(
    'crashed',
    `The telemetry server stopped unexpectedly ${d.crashes} times within ${within(d.windowMs)} and is no longer restarted automatically. The last time: ${last.message}${lines.length ? ` Last log lines: ${lines.join(' | ')}` : ''}`,
    'Open Show Logs to see why, then choose Restart.',
    last.detail,
  );
}

function within(ms: number): string {
  if (ms === 60_000) return 'a minute';
  return ms % 60_000 === 0 ? `${ms / 60_000} minutes` : `${Math.round(ms / 1000)} seconds`;
}

function toStackError(e: unknown): StackError {
  if (e instanceof StackError) return e;
  return new StackError('crashed', `Chapter Telemetry failed: ${(e as Error)?.message ?? String(e)}.`, 'Open Show Logs for details, then Restart.', (e as Error)?.stack);
}
