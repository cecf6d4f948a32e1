/**
 * The labels Docker Compose v2 puts on what it creates. With them, `docker compose ps / logs / down`
 * (and Debian's docker-compose 1.29) treat our containers, network and volumes as their own project.
 */
import { userInfo } from 'node:os';
import type { ComposePlan, ServicePlan } from './plan';

/** The Compose version we claim to be; Compose only displays it. */
export const COMPOSE_VERSION = '2.29.0';
export const L = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  configHash: 'com.docker.compose.config-hash',
  oneoff: 'com.docker.compose.oneoff',
  number: 'com.docker.compose.container-number',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  version: 'com.docker.compose.version',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
} as const;

/**
 * Marks what Chapter Telemetry created (also set in telemetry-server/docker-compose.yml, so a stack
 * started by hand with `docker compose` is ours too). A container of the same Compose project without
 * it belongs to someone else: we never adopt, replace, stop or remove it.
 */
export const OWNER_LABEL = 'dev.chapter-telemetry.stack';
export const OWNER_VALUE = 'docker';
/**
 * The OS user whose extension or `npm run stack` created the container: a Docker daemon is shared by
 * every user of a machine, and `npm run stack -- stop` without --mode acts on this user's stacks only.
 */
export const OS_USER_LABEL = 'dev.chapter-telemetry.os-user';

export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? '';
  }
}

/** Ours: our label, or (stacks made before the label existed) created from a telemetry-server/docker-compose.yml. */
export function isOurs(labels: Record<string, string> | undefined): boolean {
  if (!labels) return false;
  if (labels[OWNER_LABEL] === OWNER_VALUE) return true;
  return /(^|[\\/])telemetry-server[\\/]docker-compose\.yml$/.test(labels[L.configFiles] ?? '');
}

export function networkName(plan: ComposePlan): string {
  return `${plan.project}_default`;
}
export function volumeName(plan: ComposePlan, key: string): string {
  return `${plan.project}_${key}`;
}
export function containerName(plan: ComposePlan, service: ServicePlan): string {
  return `${plan.project}-${service.name}-1`;
}

export function containerLabels(plan: ComposePlan, s: ServicePlan): Record<string, string> {
  return {
    ...s.labels,
    [OWNER_LABEL]: OWNER_VALUE,
    [OS_USER_LABEL]: osUser(),
    [L.project]: plan.project,
    [L.service]: s.name,
    [L.configHash]: s.configHash,
    [L.oneoff]: 'False',
    [L.number]: '1',
    [L.workingDir]: plan.workingDir,
    [L.configFiles]: plan.configFile,
    [L.version]: COMPOSE_VERSION,
    [L.dependsOn]: s.dependsOn.map((d) => `${d.service}:${d.condition}:false`).join(','),
  };
}

export function networkLabels(plan: ComposePlan): Record<string, string> {
  return { [L.project]: plan.project, [L.network]: 'default', [L.version]: COMPOSE_VERSION };
}

export function volumeLabels(plan: ComposePlan, key: string): Record<string, string> {
  return { [L.project]: plan.project, [L.volume]: key, [L.version]: COMPOSE_VERSION };
}

/** Filter for the Engine API's list calls: everything of one project. */
export function projectFilter(project: string): { label: string[] } {
  return { label: [`${L.project}=${project}`] };
}
