/**
 * Which Chapter Telemetry docker stacks this Docker Engine holds, whatever project name or ports
 * they were started with: what `npm run stack -- status|stop|down` without `--mode` acts on.
 */
import type { StackEndpoints } from '../types';
import { isOurs, L, OS_USER_LABEL, osUser } from './labels';
import { createDocker, type EngineOptions } from './project';

export interface FoundStack {
  project: string;
  /** At least one of its containers runs. */
  running: boolean;
  /** Host ports as published (undefined for a port no running container publishes). */
  endpoints: Partial<StackEndpoints>;
}

const ROLE: Record<number, keyof Omit<StackEndpoints, 'host'>> = { 4317: 'grpcPort', 4318: 'otlpHttpPort', 8123: 'httpPort' };

/**
 * This user's stacks (containers with our label, made by this OS user — or by hand, without a user
 * label), by Compose project; undefined when Docker does not answer.
 */
export async function findDockerStacks(engine: EngineOptions = {}): Promise<FoundStack[] | undefined> {
  const { docker } = createDocker(engine);
  try {
    await docker.ping();
  } catch {
    return undefined;
  }
  const containers = await docker.listContainers({ all: true, filters: { label: [L.project] } });
  const byProject = new Map<string, FoundStack>();
  const me = osUser();
  for (const c of containers) {
    if (!isOurs(c.Labels)) continue;
    const by = c.Labels[OS_USER_LABEL];
    if (by !== undefined && by !== me) continue;
    const project = c.Labels[L.project]!;
    const found = byProject.get(project) ?? { project, running: false, endpoints: {} };
    if (c.State === 'running') found.running = true;
    for (const p of c.Ports ?? []) {
      const role = ROLE[p.PrivatePort];
      if (role && p.PublicPort) {
        found.endpoints[role] = p.PublicPort;
        found.endpoints.host = p.IP && p.IP !== '0.0.0.0' && p.IP !== '::' ? p.IP : '127.0.0.1';
      }
    }
    byProject.set(project, found);
  }
  return [...byProject.values()].sort((a, b) => a.project.localeCompare(b.project));
}
