/**
 * Shared by the docker tier: a DockerBackend on the stand-in images, with a unique compose project
 * and free host ports (never 4317/4318/8123), and checks that a project left nothing behind.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { DockerBackend, type DockerBackendOptions } from '../../src/stack/docker/backend';
import { freePort } from '../support/ports';

export const repoRoot = resolve(__dirname, '..', '..');
export const composeFile = join(repoRoot, 'telemetry-server', 'docker-compose.yml');
/** CT_STANDIN_TAG: the tag `npm run docker:standins` built (default `test`). */
const STANDIN_TAG = process.env.CT_STANDIN_TAG || 'test';
export const STANDIN_CLICKHOUSE = `chapter-telemetry/standin-clickhouse:${STANDIN_TAG}`;
export const STANDIN_COLLECTOR = `chapter-telemetry/standin-collector:${STANDIN_TAG}`;
export const docker = new Docker();

/**
 * The open-files limit Docker may give a container here: it cannot raise one above its own hard
 * limit, which on some machines (containers, CI sandboxes) is below the compose file's default.
 */
export function nofileHere(): string {
  const m = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  const hard = !m || m[1] === 'unlimited' ? 262144 : Number(m[1]);
  return String(Math.min(hard, 262144));
}

/** Compose variables that point the plan at the stand-ins; everything else is the production file. */
export function standinEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { CLICKHOUSE_IMAGE: STANDIN_CLICKHOUSE, OTELCOL_IMAGE: STANDIN_COLLECTOR, CLICKHOUSE_NOFILE: nofileHere(), OTELCOL_NOFILE: nofileHere(), ...extra };
}

export function uniqueProject(tag: string): string {
  return `ct-test-${tag}-${randomBytes(3).toString('hex')}`;
}

export interface TestStack {
  backend: DockerBackend;
  project: string;
  ports: { grpcPort: number; otlpHttpPort: number; httpPort: number };
  /** Host port of the collector's own metrics (OTELCOL_METRICS_PORT). */
  collectorMetricsPort: number;
  logs: string[];
  /** Anonymous (read-only) SQL over the published ClickHouse HTTP port. */
  sql(query: string): Promise<string>;
  /** The same as the generated writer (HTTP basic auth, as @clickhouse/client sends it). */
  writerSql(query: string): Promise<string>;
}

export async function testStack(tag: string, options: Partial<DockerBackendOptions> = {}): Promise<TestStack> {
  const project = options.projectName ?? uniqueProject(tag);
  const ports = { grpcPort: await freePort(), otlpHttpPort: await freePort(), httpPort: await freePort(), ...options.endpoints };
  const collectorMetricsPort = options.collectorMetricsPort ?? (await freePort());
  const backend = new DockerBackend({
    composeFile,
    ...options,
    projectName: project,
    endpoints: ports,
    // Never the developer's own per-user folder.
    secretsDir: options.secretsDir ?? mkdtempSync(join(tmpdir(), 'ct-docker-secrets-')),
    // Each stack its own collector metrics port too (tests run beside each other).
    collectorMetricsPort,
    env: standinEnv(options.env),
    engine: { healthTimeoutMs: 120_000, ...options.engine },
  });
  const logs: string[] = [];
  backend.onLog((l) => logs.push(l));
  const post = async (query: string, headers: Record<string, string>) => {
    const res = await fetch(`http://127.0.0.1:${ports.httpPort}/`, { method: 'POST', body: query, headers });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text}`);
    return text;
  };
  return {
    backend,
    project,
    ports,
    collectorMetricsPort,
    logs,
    sql: (query: string) => post(query, {}),
    async writerSql(query: string) {
      const creds = await backend.writerCredentials();
      if (!creds) throw new Error('no writer credential generated yet');
      return post(query, { authorization: `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}` });
    },
  };
}

/** Everything Docker holds for a compose project: containers, networks, volumes (each sorted: Docker lists in no fixed order). */
export async function leftovers(project: string): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const filters = { label: [`com.docker.compose.project=${project}`] };
  const containers = (await docker.listContainers({ all: true, filters })).map((c) => c.Names.join(',')).sort();
  const networks = (await docker.listNetworks({ filters })).map((n) => n.Name).sort();
  const volumes = ((await docker.listVolumes({ filters })).Volumes ?? []).map((v) => v.Name).sort();
  return { containers, networks, volumes };
}

/** Removes a project by label, whatever state a failed test left it in. */
export async function purge(project: string): Promise<void> {
  const filters = { label: [`com.docker.compose.project=${project}`] };
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
}

/** Polls until `fn` returns a truthy value (no time assertion: the test's own timeout bounds it). */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, what: string, tries = 240, everyMs = 500): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what} never happened${last ? `: ${String(last)}` : ''}`);
}

/** Runs the built `npm run stack` (dist/stack-cli.js) with the stand-in images; its exit code and output. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(repoRoot, 'dist', 'stack-cli.js'), ...args], { env: { ...process.env, ...standinEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A container that only sleeps, on a stand-in image (the only images this machine has). */
export function sleeperSpec(extra: Partial<Docker.ContainerCreateOptions> = {}): Docker.ContainerCreateOptions {
  return { Image: STANDIN_CLICKHOUSE, Entrypoint: ['/usr/local/bin/node', '-e', 'setInterval(() => {}, 1e6)'], ...extra, HostConfig: { Init: true, ...extra.HostConfig } };
}
