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
import type { ForwardConfig, ForwardStatus, PullBackResult } from '../../core/forward-config';

function forwardingNotInDocker(): StackError {
  return new StackError('not-supported', 'Forwarding to a team server is not yet in docker mode.', 'Switch Mode to embedded to centralize telemetry, or send from your own collector.');
}

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

  /** Forwarding is built into the embedded server only (issue 10); docker mode would need a collector exporter. */
  async configureForwarding(_cfg: ForwardConfig | undefined): Promise<void> {
    throw forwardingNotInDocker();
  }

  async forwardStatus(): Promise<ForwardStatus> {
    throw forwardingNotInDocker();
  }

  async pullBack(): Promise<PullBackResult> {
    throw forwardingNotInDocker();
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
