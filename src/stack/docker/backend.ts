/**
 * The docker-mode StackBackend: the compose stack in telemetry-server/, run through the Docker
 * Engine API. Host ports and the project name are options so tests never touch the defaults.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { defaultDataDir } from '../../server/config';
import { DEFAULT_ENDPOINTS, StackError, type StackBackend, type StackEndpoints, type StackStatus, type StartOptions, type WriterCredentials } from '../types';
import { InterpolationError } from './interpolate';
import { followLogs } from './logs';
import { loadComposePlan, PlanError, type ComposePlan } from './plan';
import { ComposeProject, type EngineOptions } from './project';
import { ensureWriterSecret, readWriterSecret } from './writer-secret';
import { ensureTeamDir, forwardingVariables, readForwardState, restoreForwarding, snapshotForwarding, writeForwarding } from './forwarding';
import type { ForwardConfig, ForwardStatus, PullBackResult } from '../../core/forward-config';
import { COLLECTOR_METRICS_PORT } from '../../core/collector-agent';
import { dockerForwardStatus, exporterCounters, type StatusMemory } from '../../core/collector-metrics';

/** The raw tables forwarding covers (the same the embedded forwarder sends). */
const RAW_TABLES = ['otel_logs', 'otel_traces', 'otel_metrics_gauge', 'otel_metrics_sum', 'otel_metrics_histogram', 'otel_metrics_exponential_histogram', 'otel_metrics_summary'];

export const DEFAULT_PROJECT = 'chapter-telemetry';

export interface DockerBackendOptions {
  /** Default: telemetry-server/docker-compose.yml next to the extension (or this checkout). */
  composeFile?: string;
  projectName?: string;
  /** Host ports; each becomes the compose variable OTLP_GRPC_PORT / OTLP_HTTP_PORT / CLICKHOUSE_HTTP_PORT. */
  endpoints?: Partial<Omit<StackEndpoints, 'host'>>;
  /** Compose variables on top of process.env (e.g. CLICKHOUSE_IMAGE, OTELCOL_IMAGE). */
  env?: Record<string, string>;
  engine?: EngineOptions;
  /**
   * Owner-only folder for the writer's generated password (compose variable CHAPTER_TELEMETRY_SECRETS).
   * Default: `<stateDir>/docker-secrets/<project>` via createDockerBackend, else under the per-user
   * data folder `npm start` uses.
   */
  secretsDir?: string;
  /** Host port of the collector's own metrics (compose variable OTELCOL_METRICS_PORT; default 18888). */
  collectorMetricsPort?: number;
}

/** Where the writer password of a project lives when the caller names no folder. */
export function defaultSecretsDir(project: string, stateDir = join(defaultDataDir(), 'stack-state')): string {
  return join(stateDir, 'docker-secrets', project);
}

/** Finds telemetry-server/docker-compose.yml above this file (dist/ when bundled, src/stack/docker/ under tsx). */
export function defaultComposeFile(from = __dirname): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'telemetry-server', 'docker-compose.yml');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return resolve(from, '..', 'telemetry-server', 'docker-compose.yml');
}

export class DockerBackend implements StackBackend {
  readonly mode = 'docker' as const;
  private readonly listeners = new Set<(line: string) => void>();
  private stopLogs: (() => void)[] = [];
  private startedHere = false;
  private project?: ComposeProject;
  private readonly statusMemory: StatusMemory = {};

  constructor(private readonly options: DockerBackendOptions = {}) {}

  get projectName(): string {
    return this.options.projectName ?? DEFAULT_PROJECT;
  }

  get secretsDir(): string {
    return this.options.secretsDir ?? defaultSecretsDir(this.projectName);
  }

  /** Compose variables: the caller's, then ours for the ports and the secrets folder, over the environment. */
  variables(): Record<string, string | undefined> {
    const e = this.options.endpoints ?? {};
    const vars: Record<string, string | undefined> = { ...process.env, ...this.options.env };
    // Ours, not the environment's: the password the containers get must be the one writerCredentials() reads.
    vars.CHAPTER_TELEMETRY_SECRETS = this.secretsDir;
    if (e.grpcPort !== undefined) vars.OTLP_GRPC_PORT = String(e.grpcPort);
    if (e.otlpHttpPort !== undefined) vars.OTLP_HTTP_PORT = String(e.otlpHttpPort);
    if (e.httpPort !== undefined) vars.CLICKHOUSE_HTTP_PORT = String(e.httpPort);
    if (this.options.collectorMetricsPort !== undefined) vars.OTELCOL_METRICS_PORT = String(this.options.collectorMetricsPort);
    // Forwarding (configureForwarding): ours too, never the environment's.
    delete vars.OTELCOL_CONFIG;
    delete vars.OTELCOL_CONFIG_DIGEST;
    Object.assign(vars, forwardingVariables(this.secretsDir));
    return vars;
  }

  plan(): ComposePlan {
    const file = this.options.composeFile ?? defaultComposeFile();
    if (!existsSync(file)) {
      throw new StackError('engine-missing', `The compose file ${file} is missing.`, 'Reinstall the extension (or restore telemetry-server/ in your checkout).');
    }
    try {
      return loadComposePlan(file, this.projectName, this.variables());
    } catch (err) {
      if (err instanceof PlanError || err instanceof InterpolationError) {
        throw new StackError('engine-failed', `The compose file ${file} cannot be used: ${err.message}.`, 'Fix the file (docker compose config shows the problem too), then start again.');
      }
      throw err;
    }
  }

  private compose(): ComposeProject {
    this.project ??= new ComposeProject(this.plan(), this.options.engine);
    return this.project;
  }

  endpoints(plan: ComposePlan = this.compose().plan): StackEndpoints {
    const port = (containerPort: number, fallback: number) =>
      plan.services.flatMap((s) => s.ports).find((p) => p.containerPort === containerPort)?.hostPort ?? fallback;
    return {
      host: DEFAULT_ENDPOINTS.host,
      grpcPort: port(4317, DEFAULT_ENDPOINTS.grpcPort),
      otlpHttpPort: port(4318, DEFAULT_ENDPOINTS.otlpHttpPort),
      httpPort: port(8123, DEFAULT_ENDPOINTS.httpPort),
    };
  }

  async status(): Promise<StackStatus> {
    try {
      const project = this.compose();
      await project.ping();
      const states = await project.services();
      await project.refuseForeign(states);
      if (states.length === 0 || !states.some((s) => s.running)) return { state: 'stopped' };
      if (await project.isUp()) return { state: 'running', endpoints: this.endpoints(), attached: !this.startedHere };
      return { state: 'starting' };
    } catch (err) {
      if (err instanceof StackError) return { state: 'error', error: err };
      throw err;
    }
  }

  async start(options: StartOptions = {}): Promise<StackStatus> {
    const project = this.compose();
    await project.ping();
    // Before any container starts: ClickHouse reads the writer's users.d file at start-up.
    const { created } = ensureWriterSecret(this.secretsDir);
    ensureTeamDir(this.secretsDir);
    if (created) {
      // A new password (first start, or its file was deleted): containers that already exist carry
      // another one (same mount path, so the same config hash), and would keep refusing our writes.
      const existing = await project.services();
      if (existing.length > 0) {
        await project.refuseForeign(existing);
        options.onProgress?.({ message: 'Recreating the containers for the new writer password…' });
        await project.down();
      }
    }
    const wasUp = await project.isUp();
    if (!wasUp) {
      await project.up({ onProgress: options.onProgress, signal: options.signal });
      this.startedHere = true;
    }
    await this.attachLogs(project);
    return { state: 'running', endpoints: this.endpoints(), attached: wasUp && !this.startedHere };
  }

  async stop(): Promise<void> {
    this.detachLogs();
    await this.compose().stop();
    this.startedHere = false;
  }

  /** Removes containers and network; the data volumes too only with `volumes: true`. */
  async down(options: { volumes?: boolean } = {}): Promise<void> {
    this.detachLogs();
    await this.compose().down(options);
    this.startedHere = false;
  }

  /** The generated writer (docs/SECURITY.md); undefined until the first docker start made one. */
  async writerCredentials(): Promise<WriterCredentials | undefined> {
    return readWriterSecret(this.secretsDir);
  }

  /**
   * Docker mode's forwarding (src/stack/docker/forwarding.ts): the team CA and secret as 0600 files,
   * the agent collector config, then the collector is recreated so it reads them (when the stack
   * runs; otherwise at the next start). Only what arrives from now on is forwarded: a history other
   * than 'none' is refused. `undefined` removes it all (the team queue's folder on the volume stays).
   */
  async configureForwarding(cfg: ForwardConfig | undefined): Promise<void> {
    const before = snapshotForwarding(this.secretsDir);
    writeForwarding(this.secretsDir, this.options.composeFile ?? defaultComposeFile(), cfg);
    this.statusMemory.last = undefined;
    this.statusMemory.failingSince = undefined;
    try {
      await this.applyCollectorConfig();
    } catch (err) {
      // A collector that cannot start with the new files would leave no collection at all: put the
      // previous files back and start the collector as it was, then report what went wrong.
      restoreForwarding(before);
      await this.applyCollectorConfig().catch(() => undefined);
      throw err;
    }
  }

  /** Recreates the collector when the stack runs and its config (OTELCOL_CONFIG, digest) changed; else nothing until the next start. */
  private async applyCollectorConfig(): Promise<void> {
    // The plan depends on the forwarding files (OTELCOL_CONFIG and its digest).
    this.project = undefined;
    const project = this.compose();
    await project.ping();
    const states = await project.services();
    await project.refuseForeign(states);
    if (!states.some((s) => s.running)) return;
    this.detachLogs();
    await project.up({});
    await this.attachLogs(project);
  }

  /** From the collector's own metrics (:8888, published on loopback) and the local store's row count. */
  async forwardStatus(): Promise<ForwardStatus> {
    const info = readForwardState(this.secretsDir);
    const plan = this.compose().plan;
    const local = await this.localRows(plan).catch(() => 0);
    if (!info) return { state: 'off', local_rows: local, delivered_rows: 0, queue_rows: 0 };
    if (!info.enabled) return dockerForwardStatus(info, { sent: 0, failed: 0, queue: 0 }, local, {});
    const metricsPort = plan.services.flatMap((s) => s.ports).find((p) => p.containerPort === COLLECTOR_METRICS_PORT)?.hostPort;
    if (metricsPort === undefined) throw new StackError('engine-failed', 'The compose file publishes no collector metrics port (8888).', 'Restore telemetry-server/docker-compose.yml.');
    let text: string;
    try {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
      text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      throw new StackError('unhealthy', `The collector's metrics did not answer on 127.0.0.1:${metricsPort} (${(err as Error).message}).`, 'Start collection (docker mode), then look again.');
    }
    return dockerForwardStatus(info, exporterCounters(text), local, this.statusMemory);
  }

  /** Rows in the raw tables, read as the read-only `default` user. */
  private async localRows(plan: ComposePlan): Promise<number> {
    const port = this.endpoints(plan).httpPort;
    const sql = `SELECT ${RAW_TABLES.map((t) => `(SELECT count() FROM ${t})`).join(' + ')} FORMAT TabSeparated`;
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: sql, signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    if (!res.ok) throw new Error(text);
    return Number(text.trim()) || 0;
  }

  /** Pull-back needs the embedded server's store access; the collector cannot write back what the team holds. */
  async pullBack(): Promise<PullBackResult> {
    throw new StackError('not-supported', 'Pulling your rows back from the team server is not available in docker mode.', 'Switch Mode to embedded and run Revert to Local there, or revert without pulling back (your local store already holds what was collected here).');
  }

  onLog(listener: (line: string) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private async attachLogs(project: ComposeProject): Promise<void> {
    if (this.stopLogs.length > 0 || this.listeners.size === 0) return;
    const since = Math.floor(Date.now() / 1000) - 60;
    for (const st of await project.services()) {
      const stop = await followLogs(project.docker, st.containerId, st.service, (l) => this.emit(l), since).catch(() => undefined);
      if (stop) this.stopLogs.push(stop);
    }
  }

  private detachLogs(): void {
    for (const s of this.stopLogs) s();
    this.stopLogs = [];
  }

  private emit(line: string): void {
    for (const l of this.listeners) l(line);
  }
}
