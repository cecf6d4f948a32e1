/**
 * Carries out a compose plan through the Docker Engine API, the way `docker compose up -d / stop /
 * down` would, so a terminal's `docker compose` sees the same project. Every failure becomes a
 * StackError, and a failed `up` removes what it created.
 */
import Docker from 'dockerode';
import { StackError, type ProgressReport } from '../types';
import { connectionError, describeError, portFromEngineError, portInUseError } from './errors';
import { containerLabels, containerName, isOurs, L, networkLabels, networkName, OWNER_LABEL, projectFilter, volumeLabels, volumeName } from './labels';
import { lastLogLines } from './logs';
import type { ComposePlan, ServicePlan } from './plan';
import { portFree, portRole } from './ports';
import { imagePresent, pullImage } from './pull';

export const READY_URL_LABEL = 'dev.chapter-telemetry.ready-url';

export interface EngineOptions {
  /** Unix socket or named pipe; default: DOCKER_HOST or the platform default. */
  socketPath?: string;
  /** How long a service may take to become healthy. */
  healthTimeoutMs?: number;
  /** Poll interval while waiting for health (the wait is event-free in the Engine API). */
  pollMs?: number;
}

export interface UpOptions {
  onProgress?: (p: ProgressReport) => void;
  signal?: AbortSignal;
}

export interface ServiceState {
  service: string;
  containerId: string;
  running: boolean;
  health?: string;
  configHash?: string;
  /** Created by Chapter Telemetry (labels.ts OWNER_LABEL); anything else in the project is left alone. */
  ours: boolean;
  name: string;
}

export function createDocker(opts: EngineOptions = {}): { docker: Docker; endpoint: string } {
  if (opts.socketPath) return { docker: new Docker({ socketPath: opts.socketPath }), endpoint: opts.socketPath };
  const host = process.env.DOCKER_HOST;
  const fallback = process.platform === 'win32' ? '//./pipe/docker_engine' : '/var/run/docker.sock';
  return { docker: new Docker(), endpoint: host || fallback };
}

export class ComposeProject {
  readonly docker: Docker;
  private readonly endpoint: string;

  constructor(
    readonly plan: ComposePlan,
    private readonly opts: EngineOptions = {},
  ) {
    const c = createDocker(opts);
    this.docker = c.docker;
    this.endpoint = c.endpoint;
  }

  /** Fails with docker-not-installed / -not-running / -permission-denied when the engine is out of reach. */
  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw connectionError(err, { endpoint: this.endpoint });
    }
  }

  async services(): Promise<ServiceState[]> {
    const list = await this.docker.listContainers({ all: true, filters: projectFilter(this.plan.project) });
    const out: ServiceState[] = [];
    for (const c of list) {
      const info = await this.docker.getContainer(c.Id).inspect();
      out.push({
        service: c.Labels[L.service] ?? '?',
        containerId: c.Id,
        running: info.State.Running,
        health: info.State.Health?.Status,
        configHash: c.Labels[L.configHash],
        ours: isOurs(c.Labels),
        name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      });
    }
    return out;
  }

  /**
   * A workspace may name any Compose project: one that holds containers we did not create is not
   * ours to start over, stop or remove. Fails with a StackError naming them; never touches them.
   */
  async refuseForeign(states?: ServiceState[]): Promise<void> {
    const foreign = (states ?? (await this.services())).filter((s) => !s.ours);
    if (foreign.length === 0) return;
    throw new StackError(
      'engine-failed',
      `The Docker Compose project "${this.plan.project}" holds containers Chapter Telemetry did not create (${foreign.map((f) => f.name).join(', ')}); they were left alone.`,
      `Use another project name (chapterTelemetry.docker.projectName, --project or CHAPTER_TELEMETRY_DOCKER_PROJECT), or remove that project yourself if it is yours (docker compose -p ${this.plan.project} down).`,
      `containers without the label ${OWNER_LABEL}: ${foreign.map((f) => `${f.name} (${f.containerId.slice(0, 12)})`).join(', ')}`,
    );
  }

  /** Every service runs its current config and is ready. */
  async isUp(): Promise<boolean> {
    const states = await this.services();
    return this.plan.services.every((s) => {
      const st = states.find((x) => x.service === s.name);
      return !!st && st.ours && st.running && st.configHash === s.configHash && (!s.healthcheck || st.health === 'healthy');
    });
  }

  async up(options: UpOptions = {}): Promise<void> {
    const report = options.onProgress ?? (() => undefined);
    const signal = options.signal;
    await this.ping();
    const created = { network: false, volumes: [] as string[], containers: [] as string[], started: [] as string[] };
    // Checked before anything is created, so the rollback below can never touch a foreign container.
    await this.refuseForeign();
    try {
      const existing = await this.services();
      await this.checkPorts(existing);
      await this.pullMissing(report, signal);
      checkAbort(signal);
      await this.ensureNetwork(created);
      await this.ensureVolumes(created);
      for (const s of this.plan.services) {
        checkAbort(signal);
        for (const dep of s.dependsOn) {
          if (dep.condition === 'service_healthy') {
            report({ message: `Waiting for ${dep.service} to be healthy…` });
            await this.waitReady(this.plan.services.find((x) => x.name === dep.service)!, signal);
          }
        }
        await this.upService(s, existing, created, report);
      }
      for (const s of this.plan.services) {
        report({ message: `Waiting for ${s.name} to be ready…` });
        await this.waitReady(s, signal);
      }
      report({ message: 'The docker stack is running.', percent: 100 });
    } catch (err) {
      await this.rollback(created);
      if (err instanceof StackError) throw err;
      throw new StackError('engine-failed', `Docker could not start the stack: ${describeError(err)}`, 'See the log for details; fix the cause and start again.', describeError(err));
    }
  }

  private async checkPorts(existing: ServiceState[]): Promise<void> {
    for (const s of this.plan.services) {
      if (existing.some((e) => e.service === s.name && e.running)) continue;
      for (const p of s.ports) {
        const host = p.hostIp === '0.0.0.0' ? '0.0.0.0' : p.hostIp;
        if (!(await portFree(host, p.hostPort))) throw portInUseError(p.hostPort, portRole(p.containerPort));
      }
    }
  }

  private async pullMissing(report: (p: ProgressReport) => void, signal?: AbortSignal): Promise<void> {
    const images = [...new Set(this.plan.services.map((s) => s.image))];
    for (const image of images) {
      if (await imagePresent(this.docker, image)) continue;
      await pullImage(this.docker, image, report, signal);
    }
  }

  private async ensureNetwork(created: { network: boolean }): Promise<void> {
    const name = networkName(this.plan);
    const found = await this.docker.listNetworks({ filters: { name: [name] } });
    if (found.some((n) => n.Name === name)) return;
    await this.docker.createNetwork({ Name: name, Driver: 'bridge', Labels: networkLabels(this.plan), CheckDuplicate: true });
    created.network = true;
  }

  private async ensureVolumes(created: { volumes: string[] }): Promise<void> {
    for (const key of this.plan.volumes) {
      const name = volumeName(this.plan, key);
      try {
        await this.docker.getVolume(name).inspect();
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        await this.docker.createVolume({ Name: name, Labels: volumeLabels(this.plan, key) });
        created.volumes.push(name);
      }
    }
  }

  private async upService(
    s: ServicePlan,
    existing: ServiceState[],
    created: { containers: string[]; started: string[] },
    report: (p: ProgressReport) => void,
  ): Promise<void> {
    let current = existing.find((e) => e.service === s.name);
    if (current && current.configHash !== s.configHash) {
      report({ message: `Recreating ${s.name} (its configuration changed)…` });
      await this.docker.getContainer(current.containerId).remove({ force: true });
      current = undefined;
    }
    if (current?.running) return;
    let id = current?.containerId;
    if (!id) {
      report({ message: `Creating ${s.name}…` });
      const c = await this.docker.createContainer(this.containerSpec(s));
      id = c.id;
      created.containers.push(id);
    }
    report({ message: `Starting ${s.name}…` });
    try {
      await this.docker.getContainer(id).start();
      if (current) created.started.push(id);
    } catch (err) {
      const msg = describeError(err);
      const port = portFromEngineError(msg);
      if (port !== undefined) {
        const binding = s.ports.find((p) => p.hostPort === port);
        throw portInUseError(port, binding ? portRole(binding.containerPort) : 'published port', msg);
      }
      if (/setting rlimit/i.test(msg)) {
        const nofile = s.ulimits.find((u) => u.name === 'nofile');
        throw new StackError(
          'engine-failed',
          `Docker may not raise the open-files limit of ${s.name} to ${nofile?.hard ?? 'the requested value'} on this machine.`,
          `Raise the Docker daemon's limit (LimitNOFILE in its service), or set ${s.name === 'clickhouse' ? 'CLICKHOUSE_NOFILE' : 'OTELCOL_NOFILE'} to a lower value (ulimit -Hn shows yours), then start again.`,
          msg,
        );
      }
      throw new StackError('engine-failed', `Docker could not start ${s.name}.`, 'See the log for the engine\'s message; fix the cause and start again.', msg);
    }
  }

  containerSpec(s: ServicePlan): Docker.ContainerCreateOptions {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of s.ports) {
      const key = `${p.containerPort}/${p.protocol}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
    }
    const net = networkName(this.plan);
    return {
      name: containerName(this.plan, s),
      Image: s.image,
      Cmd: s.command,
      Entrypoint: s.entrypoint,
      User: s.user,
      Env: Object.entries(s.environment).map(([k, v]) => `${k}=${v}`),
      Labels: containerLabels(this.plan, s),
      ExposedPorts: exposed,
      Healthcheck: s.healthcheck && {
        Test: s.healthcheck.test,
        Interval: s.healthcheck.intervalNs,
        Timeout: s.healthcheck.timeoutNs,
        Retries: s.healthcheck.retries,
        StartPeriod: s.healthcheck.startPeriodNs,
      },
      HostConfig: {
        // A PID 1 that ignores SIGTERM would make every stop wait the full timeout.
        Init: true,
        PortBindings: bindings,
        Mounts: s.mounts.map((m) => ({
          Type: m.type,
          Source: m.type === 'volume' ? volumeName(this.plan, m.source) : m.source,
          Target: m.target,
          ReadOnly: m.readOnly,
        })),
        Ulimits: s.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
        RestartPolicy: s.restart ? { Name: s.restart === 'no' ? '' : s.restart } : undefined,
        NetworkMode: net,
      },
      NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: [s.name] } } },
    };
  }

  /** Healthy (Docker healthcheck), answering (ready-url label), or at least running. */
  async waitReady(s: ServicePlan, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + (this.opts.healthTimeoutMs ?? 180_000);
    const poll = this.opts.pollMs ?? 250;
    const readyUrl = s.labels[READY_URL_LABEL];
    for (;;) {
      checkAbort(signal);
      const st = (await this.services()).find((x) => x.service === s.name);
      if (!st) throw new StackError('crashed', `The ${s.name} container disappeared while starting.`, 'Someone removed it (docker rm?); start the stack again.');
      if (!st.running) {
        const info = await this.docker.getContainer(st.containerId).inspect();
        const lines = await lastLogLines(this.docker, st.containerId);
        throw new StackError(
          'crashed',
          `The ${s.name} container stopped while starting (exit code ${info.State.ExitCode}).`,
          `Its last log lines are in the output channel; fix the cause (docker logs ${containerName(this.plan, s)}) and start again.`,
          lines,
        );
      }
      if (st.health === 'unhealthy') throw await this.unhealthy(s, st.containerId, 'reports unhealthy');
      const healthy = s.healthcheck ? st.health === 'healthy' : true;
      if (healthy && (!readyUrl || (await answers(readyUrl)))) return;
      if (Date.now() > deadline) throw await this.unhealthy(s, st.containerId, 'did not become healthy in time');
      await sleep(poll);
    }
  }

  private async unhealthy(s: ServicePlan, id: string, what: string): Promise<StackError> {
    const lines = await lastLogLines(this.docker, id);
    const last = lines.split('\n').slice(-3).join(' | ');
    return new StackError(
      'unhealthy',
      `The ${s.name} container ${what}.${last ? ` Last log lines: ${last}` : ''}`,
      `Check its log (docker logs ${containerName(this.plan, s)}) for the cause, then start again.`,
      lines,
    );
  }

  /** Removes what a failed `up` created, and stops what it started. Never throws. */
  private async rollback(created: { network: boolean; volumes: string[]; containers: string[]; started: string[] }): Promise<void> {
    for (const id of created.containers) await this.docker.getContainer(id).remove({ force: true, v: false }).catch(() => undefined);
    for (const id of created.started) await this.docker.getContainer(id).stop({ t: 10 }).catch(() => undefined);
    // The network goes only if no container of the project is left on it.
    if (created.network) {
      const left = await this.services().catch(() => [] as ServiceState[]);
      if (left.length === 0) await this.docker.getNetwork(networkName(this.plan)).remove().catch(() => undefined);
    }
    for (const v of created.volumes) await this.docker.getVolume(v).remove().catch(() => undefined);
  }

  /** `docker compose stop`: containers stay, so the next start is quick. Idempotent. */
  async stop(timeoutSeconds = 10): Promise<void> {
    await this.ping();
    // Dependents first, so the collector flushes into a ClickHouse that is still up.
    const states = await this.services();
    await this.refuseForeign(states);
    for (const s of [...this.plan.services].reverse()) {
      for (const st of states.filter((x) => x.service === s.name && x.running)) {
        await this.docker.getContainer(st.containerId).stop({ t: timeoutSeconds }).catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 304 && err.statusCode !== 404) throw err;
        });
      }
    }
  }

  /**
   * `docker compose down [-v]`: removes containers and the network; volumes only when asked. Only
   * "not found" is ignored (someone removed it first); any other failure (a volume in use, a network
   * with other containers on it) is reported, so nobody is told data was deleted when it was not.
   */
  async down(options: { volumes?: boolean } = {}): Promise<void> {
    await this.stop();
    const problems: string[] = [];
    const unlessGone = (what: string) => (err: unknown) => {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      problems.push(`${what}: ${describeError(err)}`);
    };
    for (const st of await this.services()) await this.docker.getContainer(st.containerId).remove({ force: true }).catch(unlessGone(`container ${st.name}`));
    const net = networkName(this.plan);
    const nets = await this.docker.listNetworks({ filters: projectFilter(this.plan.project) });
    for (const n of nets.filter((x) => x.Name === net)) await this.docker.getNetwork(n.Id).remove().catch(unlessGone(`network ${n.Name}`));
    if (options.volumes) {
      // Only the volumes our compose file declares, by their Compose names.
      const ours = new Set(this.plan.volumes.map((k) => volumeName(this.plan, k)));
      const vols = await this.docker.listVolumes({ filters: projectFilter(this.plan.project) });
      for (const v of (vols.Volumes ?? []).filter((x) => ours.has(x.Name))) await this.docker.getVolume(v.Name).remove().catch(unlessGone(`volume ${v.Name}`));
    }
    if (problems.length > 0) {
      throw new StackError(
        'engine-failed',
        `Docker could not remove everything of the project "${this.plan.project}": ${problems.join('; ')}.`,
        `The rest was removed; see what holds these (docker ps -a --filter volume=NAME, docker network inspect NAME), remove that, then run down again.`,
        problems.join('\n'),
      );
    }
  }
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new StackError('cancelled', 'Starting the docker stack was cancelled.', 'Start it again when you are ready; nothing was left behind.');
}

async function answers(url: string): Promise<boolean> {
  // A referenced timer: AbortSignal.timeout's is unref'd, and a headless caller would then exit
  // mid-wait while the request sits in Docker's port proxy.
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 2000);
  try {
    const res = await fetch(url, { signal: ac.signal });
    await res.arrayBuffer().catch(() => undefined);
    return res.status < 500;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
