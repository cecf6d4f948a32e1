/**
 * The embedded backend: the server (`dist/server.js`: OTLP receiver + ClickHouse HTTP + chDB)
 * runs as its own detached process, so the engine stays out of the extension host and the
 * server outlives a window reload. Every window finds it through the state file and attaches.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import type { ForwardConfig, ForwardStatus, PullBackResult } from '../core/forward-config';
import { readForwardStatus, removeForwardConfig, requestPullBack, writeForwardConfig } from './forward-file';
import { join } from 'node:path';
import { LogTail, readTail } from './log-tail';
import { isServerProcess, pidAlive, readServerState, readWriterCredentials, removeServerState, serverHealthy, type ServerState } from './server-state';
import { SERVER_NODE_FLAGS } from '../core/server-node-flags';
import { StackError, type StackBackend, type StackEndpoints, type StackStatus, type StartOptions, type WriterCredentials } from './types';

export interface EmbeddedOptions {
  /** Where server.json (state) and server.log live: the extension's global storage. */
  stateDir: string;
  /** chDB data directory. */
  dataDir: string;
  endpoints: StackEndpoints;
  /** Path of the built server (`dist/server.js`). */
  serverScript: string;
  /** Node binary for the server; default: the current one (node in code-server, Electron-as-node on desktop). */
  nodePath?: string;
  /** A node_modules folder holding chdb (the fetched engine), passed as NODE_PATH. */
  engineNodeModules?: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
}

/**
 * The server's exit codes (ARCHITECTURE.md) turned into what the user reads. `wasRunning`: it had been
 * ready and serving, so the codes about starting (port, lock, engine) do not apply: code 5 then means
 * an unexpected error, named by its last line.
 */
export function errorForExit(code: number | null, signal: string | null, lastLines: string[], o: Pick<EmbeddedOptions, 'dataDir' | 'endpoints'>, wasRunning = false): StackError {
  const said = lastLines.at(-1) ?? '';
  const detail = lastLines.join('\n');
  if (wasRunning) {
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    return new StackError('crashed', `The telemetry server stopped unexpectedly (${how})${said.trim() && code !== null ? `: ${said.trim()}` : ''}.`, 'Open Show Logs to see why, then Restart.', detail);
  }
  switch (code) {
    case 3:
      return new StackError('data-dir-locked', `The telemetry data folder ${o.dataDir} is held by another process.`, 'Stop the other Chapter Telemetry server (another window, or `npm start` in a terminal), then choose Restart.', detail);
    case 4: {
      const port = /\b(\d{2,5})\b/.exec(said)?.[1];
      return new StackError('port-in-use', port ? `Port ${port} is already used by another program (${said.trim()}).` : `A port the telemetry server needs is already in use (${said.trim()}).`, 'Stop the program using that port, or choose other ports in the chapterTelemetry settings, then Restart.', detail);
    }
    case 5:
      return new StackError('engine-failed', `The ClickHouse engine (chDB) did not start: ${said.trim() || 'no message'}.`, 'Open Show Logs for the engine\'s error; if the engine download is damaged, delete the engine folder in the extension storage and Restart.', detail);
    case 2:
      return new StackError('crashed', `The telemetry server rejected its arguments: ${said.trim()}.`, 'Check the chapterTelemetry port and path settings, then Restart.', detail);
    default:
      return new StackError('crashed', `The telemetry server stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}).`, 'Open Show Logs to see why, then Restart.', detail);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class EmbeddedBackend implements StackBackend {
  readonly mode = 'embedded' as const;
  readonly stateFile: string;
  readonly logFile: string;
  private readonly tail: LogTail;
  private exitListeners = new Set<(e: StackError) => void>();

  constructor(private readonly o: EmbeddedOptions) {
    this.stateFile = join(o.stateDir, 'server.json');
    this.logFile = join(o.stateDir, 'server.log');
    this.tail = new LogTail(this.logFile);
  }

  onLog(listener: (line: string) => void): { dispose(): void } {
    return this.tail.onLine(listener);
  }

  /** Fires when a server this backend started dies on its own (the status bar turns to Error). */
  onUnexpectedExit(listener: (e: StackError) => void): { dispose(): void } {
    this.exitListeners.add(listener);
    return { dispose: () => this.exitListeners.delete(listener) };
  }

  /** A live server described by the state file, or undefined (a stale file is removed). */
  private async live(): Promise<{ state: ServerState; healthy: boolean } | undefined> {
    const state = readServerState(this.stateFile);
    if (!state) return undefined;
    if (!(await isServerProcess(state, this.stateFile))) {
      removeServerState(this.stateFile);
      return undefined;
    }
    return { state, healthy: await serverHealthy(state) };
  }

  async status(): Promise<StackStatus> {
    const l = await this.live();
    if (!l) return { state: 'stopped' };
    if (!l.healthy) {
      return { state: 'error', error: new StackError('unhealthy', `The telemetry server (pid ${l.state.pid}) is running but does not answer on its ports.`, 'Choose Restart; if that does not help, open Show Logs.') };
    }
    return { state: 'running', endpoints: pick(l.state), pid: l.state.pid, attached: !this.startedPid || this.startedPid !== l.state.pid };
  }

  private startedPid: number | undefined;
  /** The child this backend spawned has not exited yet (its pid cannot have been reused). */
  private childRunning = false;

  async start(options: StartOptions = {}): Promise<StackStatus> {
    const existing = await this.live();
    if (existing?.healthy) return { state: 'running', endpoints: pick(existing.state), pid: existing.state.pid, attached: existing.state.pid !== this.startedPid };
    if (existing) {
      // Alive but deaf (hung, or still shutting down): give it a moment, then replace it.
      if (await this.waitHealthy(existing.state, 3000)) return { state: 'running', endpoints: pick(existing.state), pid: existing.state.pid, attached: true };
      await this.stop();
    }
    if (!existsSync(this.o.serverScript)) {
      throw new StackError('engine-missing', `The telemetry server program is missing (${this.o.serverScript}).`, 'Reinstall the extension (or run `npm run build` in a development checkout).');
    }
    options.onProgress?.({ message: 'Starting the telemetry server…' });
    mkdirSync(this.o.stateDir, { recursive: true });
    mkdirSync(this.o.dataDir, { recursive: true });
    this.rotateLog();
    const logStart = size(this.logFile);
    const e = this.o.endpoints;
    const args = [
      ...SERVER_NODE_FLAGS,
      this.o.serverScript,
      '--state-file', this.stateFile,
      '--data-dir', this.o.dataDir,
      '--host', e.host,
      '--grpc-port', String(e.grpcPort),
      '--otlp-http-port', String(e.otlpHttpPort),
      '--http-port', String(e.httpPort),
      ...(this.o.extraArgs ?? []),
    ];
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
    if (this.o.engineNodeModules) env.NODE_PATH = [this.o.engineNodeModules, process.env.NODE_PATH].filter(Boolean).join(process.platform === 'win32' ? ';' : ':');
    const fd = openSync(this.logFile, 'a');
    let child;
    try {
      child = spawn(this.o.nodePath || process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env, windowsHide: true });
    } finally {
      closeSync(fd);
    }
    let exit: { code: number | null; signal: string | null } | undefined;
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    if (child.pid !== undefined) this.childRunning = true;
    child.once('exit', (code, signal) => {
      this.childRunning = false;
      exit = { code, signal };
      if (this.startedPid === child.pid && this.startedPid !== undefined && code !== 0 && signal !== 'SIGTERM') {
        this.startedPid = undefined;
        this.tail.poll();
        const err = errorForExit(code, signal, readTail(this.logFile, logStart), this.o, true);
        for (const l of this.exitListeners) l(err);
      }
    });
    child.unref();

    const deadline = Date.now() + (this.o.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (spawnError) throw new StackError('engine-failed', `Could not run ${this.o.nodePath || process.execPath}: ${spawnError.message}.`, 'Set chapterTelemetry.serverNodePath to a Node.js 20+ binary, then Restart.');
      if (exit) {
        this.tail.poll();
        // A racing window may have won: attach to its server instead of failing.
        const other = await this.live();
        if (other?.healthy) return { state: 'running', endpoints: pick(other.state), pid: other.state.pid, attached: true };
        throw errorForExit(exit.code, exit.signal, readTail(this.logFile, logStart), this.o);
      }
      if (options.signal?.aborted) {
        child.kill('SIGTERM');
        throw new StackError('cancelled', 'Starting the telemetry server was cancelled.', 'Choose Start Collection when you are ready.');
      }
      const state = readServerState(this.stateFile);
      if (state && state.pid === child.pid && (await serverHealthy(state))) {
        this.startedPid = child.pid;
        return { state: 'running', endpoints: pick(state), pid: state.pid, attached: false };
      }
      if (Date.now() > deadline) {
        child.kill('SIGTERM');
        throw new StackError('timeout', 'The telemetry server did not become ready in time.', 'Open Show Logs to see where it stopped, then Restart.', readTail(this.logFile, logStart).join('\n'));
      }
      await sleep(150);
    }
  }

  private async waitHealthy(s: ServerState, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await serverHealthy(s)) return true;
      await sleep(250);
    }
    return false;
  }

  async stop(): Promise<void> {
    const state = readServerState(this.stateFile);
    const startedPid = this.startedPid;
    this.startedPid = undefined;
    // Only a pid the server vouches for (or our own child, still running, before it wrote the file) is signalled.
    let pid: number | undefined;
    if (state) pid = (await isServerProcess(state, this.stateFile)) ? state.pid : undefined;
    else if (startedPid !== undefined && this.childRunning) pid = startedPid;
    if (pid === undefined) {
      removeServerState(this.stateFile);
      return;
    }
    process.kill(pid, 'SIGTERM');
    const end = Date.now() + (this.o.stopTimeoutMs ?? 20_000);
    while (pidAlive(pid) && Date.now() < end) await sleep(100);
    if (pidAlive(pid)) {
      // It ignored SIGTERM for too long; the data is safe at the last completed insert.
      process.kill(pid, 'SIGKILL');
      while (pidAlive(pid)) await sleep(50);
    }
    removeServerState(this.stateFile);
  }

  /**
   * The writer identity for writes over ClickHouse HTTP (history copy): the file the running server
   * names in its state file, else `<data dir>/credentials.json`; undefined before the first start.
   */
  async writerCredentials(): Promise<WriterCredentials | undefined> {
    const named = readServerState(this.stateFile)?.credentialsFile;
    return readWriterCredentials(typeof named === 'string' && named ? named : join(this.o.dataDir, 'credentials.json'));
  }

  /** Writes (or, with undefined, removes) `<data dir>/forward.json`; the running server follows it within a tick. */
  async configureForwarding(cfg: ForwardConfig | undefined): Promise<void> {
    // The data directory of the server that runs (an attached one may have been started with another).
    const dir = readServerState(this.stateFile)?.dataDir || this.o.dataDir;
    if (cfg) writeForwardConfig(dir, cfg);
    else removeForwardConfig(dir);
  }

  /** `GET /forward/status` from the running server's loopback ClickHouse HTTP port (it holds no secret). */
  async forwardStatus(): Promise<ForwardStatus> {
    const l = await this.live();
    if (!l?.healthy) throw new StackError('unhealthy', 'The telemetry server is not running, so forwarding has no status.', 'Start Collection, then look again.');
    return await readForwardStatus(l.state.host, l.state.httpPort);
  }

  /** `POST /forward/pull-back` on the running server as the writer (see StackBackend.pullBack). */
  async pullBack(signal?: AbortSignal): Promise<PullBackResult> {
    const l = await this.live();
    if (!l?.healthy) throw new StackError('unhealthy', 'The telemetry server is not running, so nothing can be pulled back.', 'Start Collection, then try again.');
    const writer = await this.writerCredentials();
    if (!writer) throw new StackError('unhealthy', 'The local writer credential (credentials.json) is missing.', 'Restart collection so the server makes it, then try again.');
    return await requestPullBack(l.state.host, l.state.httpPort, writer, signal);
  }

  /** Keeps one previous log; only when no server is writing to it. */
  private rotateLog(): void {
    if (size(this.logFile) > 0) {
      try {
        renameSync(this.logFile, `${this.logFile}.1`);
      } catch {
        /* keep appending */
      }
    }
  }
}

function pick(s: ServerState): StackEndpoints {
  return { host: s.host, grpcPort: s.grpcPort, otlpHttpPort: s.otlpHttpPort, httpPort: s.httpPort };
}

function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
