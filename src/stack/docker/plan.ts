/**
 * A compose file turned into a plan: what the docker backend creates, in which order. Only the
 * subset of the Compose specification our telemetry-server/docker-compose.yml uses is supported;
 * anything else is refused by name rather than silently ignored.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { interpolateTree } from './interpolate';

export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface MountSpec {
  /** Named volume (project-scoped key from `volumes:`) or an absolute host path. */
  type: 'volume' | 'bind';
  source: string;
  target: string;
  readOnly: boolean;
}

export interface HealthcheckSpec {
  test: string[];
  intervalNs?: number;
  timeoutNs?: number;
  retries?: number;
  startPeriodNs?: number;
}

export interface ServicePlan {
  name: string;
  image: string;
  command?: string[];
  entrypoint?: string[];
  user?: string;
  environment: Record<string, string>;
  ports: PortBinding[];
  mounts: MountSpec[];
  ulimits: { name: string; soft: number; hard: number }[];
  healthcheck?: HealthcheckSpec;
  labels: Record<string, string>;
  restart?: string;
  /** Services this one waits for, and whether it waits for them to be healthy or just started. */
  dependsOn: { service: string; condition: 'service_started' | 'service_healthy' }[];
  /** Hash of everything above: a running container with another hash is recreated. */
  configHash: string;
}

export interface ComposePlan {
  project: string;
  /** Absolute path of the compose file and its folder (Compose's project working dir). */
  configFile: string;
  workingDir: string;
  /** Services in start order (dependencies first). */
  services: ServicePlan[];
  /** Volume keys as written in the file; Docker names are `<project>_<key>`. */
  volumes: string[];
}

const SUPPORTED_SERVICE_KEYS = new Set([
  'image', 'command', 'entrypoint', 'user', 'environment', 'ports', 'volumes', 'ulimits', 'healthcheck',
  'labels', 'restart', 'depends_on',
]);

export class PlanError extends Error {}

export function loadComposePlan(configFile: string, project: string, env: Record<string, string | undefined>): ComposePlan {
  const text = readFileSync(configFile, 'utf8');
  return buildComposePlan(text, resolve(configFile), project, env);
}

export function buildComposePlan(
  text: string,
  configFile: string,
  project: string,
  env: Record<string, string | undefined>,
): ComposePlan {
  const raw = interpolateTree(parse(text) ?? {}, env) as Record<string, unknown>;
  const workingDir = dirname(configFile);
  const servicesRaw = asRecord(raw.services, 'services');
  const volumes = Object.keys(asRecord(raw.volumes ?? {}, 'volumes'));
  const services = Object.entries(servicesRaw).map(([name, def]) => buildService(name, asRecord(def, `services.${name}`), workingDir, volumes));
  return { project, configFile, workingDir, services: orderByDependencies(services), volumes };
}

function buildService(name: string, def: Record<string, unknown>, workingDir: string, volumes: string[]): ServicePlan {
  for (const key of Object.keys(def)) {
    if (!SUPPORTED_SERVICE_KEYS.has(key)) throw new PlanError(`services.${name}.${key} is not supported by the extension's docker backend`);
  }
  if (typeof def.image !== 'string' || !def.image) throw new PlanError(`services.${name}.image is required`);
  const spec: Omit<ServicePlan, 'configHash'> = {
    name,
    image: def.image,
    command: optionalArgs(def.command, `services.${name}.command`),
    entrypoint: optionalArgs(def.entrypoint, `services.${name}.entrypoint`),
    user: def.user === undefined ? undefined : String(def.user),
    environment: keyValues(def.environment, `services.${name}.environment`),
    ports: ((def.ports as unknown[] | undefined) ?? []).map((p) => parsePort(p, name)),
    mounts: ((def.volumes as unknown[] | undefined) ?? []).map((v) => parseMount(v, name, workingDir, volumes)),
    ulimits: Object.entries(asRecord(def.ulimits ?? {}, `services.${name}.ulimits`)).map(([k, v]) =>
      typeof v === 'number' ? { name: k, soft: v, hard: v } : { name: k, soft: Number(asRecord(v, k).soft), hard: Number(asRecord(v, k).hard) },
    ),
    healthcheck: def.healthcheck ? parseHealthcheck(asRecord(def.healthcheck, `services.${name}.healthcheck`)) : undefined,
    labels: keyValues(def.labels, `services.${name}.labels`),
    restart: def.restart === undefined ? undefined : String(def.restart),
    dependsOn: parseDependsOn(def.depends_on),
  };
  const configHash = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
  return { ...spec, configHash };
}

function asRecord(v: unknown, where: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new PlanError(`${where} must be a mapping`);
  return v as Record<string, unknown>;
}

function optionalArgs(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  throw new PlanError(`${where} must be a list or a string`);
}

function keyValues(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const eq = s.indexOf('=');
      if (eq < 0) throw new PlanError(`${where}: "${s}" needs KEY=VALUE`);
      out[s.slice(0, eq)] = s.slice(eq + 1);
    }
    return out;
  }
  for (const [k, val] of Object.entries(asRecord(v, where))) out[k] = val === null || val === undefined ? '' : String(val);
  return out;
}

function parsePort(p: unknown, service: string): PortBinding {
  const s = String(p);
  const m = /^(?:(\[[^\]]+\]|[\d.]+):)?(?:(\d+):)?(\d+)(?:\/(tcp|udp))?$/.exec(s);
  if (!m) throw new PlanError(`services.${service}.ports: cannot read "${s}" (use "127.0.0.1:HOST:CONTAINER")`);
  const containerPort = Number(m[3]);
  return {
    hostIp: (m[1] ?? '0.0.0.0').replace(/^\[|\]$/g, ''),
    hostPort: m[2] ? Number(m[2]) : containerPort,
    containerPort,
    protocol: (m[4] as 'tcp' | 'udp' | undefined) ?? 'tcp',
  };
}

function parseMount(v: unknown, service: string, workingDir: string, volumes: string[]): MountSpec {
  const s = String(v);
  const parts = s.split(':');
  if (parts.length < 2 || parts.length > 3) throw new PlanError(`services.${service}.volumes: cannot read "${s}"`);
  const [source, target, mode] = parts as [string, string, string | undefined];
  const readOnly = mode === 'ro';
  if (/^[./~]/.test(source)) {
    const path = source.startsWith('~') ? resolve(process.env.HOME ?? '/', source.slice(2)) : isAbsolute(source) ? source : resolve(workingDir, source);
    return { type: 'bind', source: path, target, readOnly };
  }
  if (!volumes.includes(source)) throw new PlanError(`services.${service}.volumes: "${source}" is not declared under top-level volumes`);
  return { type: 'volume', source, target, readOnly };
}

const DURATION = /(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g;
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export function durationNs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v);
  let total = 0;
  let matched = '';
  for (const m of s.matchAll(DURATION)) {
    total += Number(m[1]) * UNIT_NS[m[2] as string]!;
    matched += m[0];
  }
  if (matched !== s) throw new PlanError(`cannot read duration "${s}" (use e.g. 2s, 500ms, 1m30s)`);
  return Math.round(total);
}

function parseHealthcheck(h: Record<string, unknown>): HealthcheckSpec {
  const t = h.test;
  const test = Array.isArray(t) ? t.map(String) : ['CMD-SHELL', String(t)];
  return {
    test,
    intervalNs: durationNs(h.interval),
    timeoutNs: durationNs(h.timeout),
    retries: h.retries === undefined ? undefined : Number(h.retries),
    startPeriodNs: durationNs(h.start_period),
  };
}

function parseDependsOn(v: unknown): ServicePlan['dependsOn'] {
  if (!v) return [];
  if (Array.isArray(v)) return v.map((s) => ({ service: String(s), condition: 'service_started' as const }));
  return Object.entries(v as Record<string, unknown>).map(([service, d]) => {
    const c = (d as { condition?: string } | null)?.condition ?? 'service_started';
    if (c !== 'service_started' && c !== 'service_healthy') throw new PlanError(`depends_on condition "${c}" is not supported`);
    return { service, condition: c };
  });
}

function orderByDependencies(services: ServicePlan[]): ServicePlan[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const done = new Set<string>();
  const out: ServicePlan[] = [];
  const visit = (s: ServicePlan, path: string[]) => {
    if (done.has(s.name)) return;
    if (path.includes(s.name)) throw new PlanError(`depends_on cycle: ${[...path, s.name].join(' → ')}`);
    for (const d of s.dependsOn) {
      const dep = byName.get(d.service);
      if (!dep) throw new PlanError(`services.${s.name}.depends_on names unknown service "${d.service}"`);
      visit(dep, [...path, s.name]);
    }
    done.add(s.name);
    out.push(s);
  };
  for (const s of services) visit(s, []);
  return out;
}
