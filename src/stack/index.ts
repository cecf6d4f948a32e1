/**
 * createBackend(mode, options): the one entry to a stack. The docker backend is loaded only
 * when asked for (dockerode must never load at activation), from its own bundle
 * `dist/stack-docker.js` when running bundled, or from source under tsx.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { EmbeddedBackend, type EmbeddedOptions } from './embedded';
import { StackError, type StackBackend, type StackEndpoints, type StackMode } from './types';

export interface BackendOptions {
  endpoints: StackEndpoints;
  /** Per-user state (server.json, logs, engine): the extension's global storage. */
  stateDir: string;
  /** Embedded: chDB data directory (default `<stateDir>/data`). */
  dataDir?: string;
  /** Embedded: the built server script. */
  serverScript: string;
  nodePath?: string;
  engineNodeModules?: string;
  extraArgs?: string[];
}

/** What `src/stack/docker/index.ts` must export (lazy-loaded). */
export interface DockerModule {
  createDockerBackend(options: BackendOptions): StackBackend;
  findDockerStacks(): Promise<FoundDockerStack[] | undefined>;
}

/** A docker stack found by its labels (see src/stack/docker/find.ts). */
export interface FoundDockerStack {
  project: string;
  running: boolean;
  endpoints: Partial<StackEndpoints>;
}

/**
 * Chapter Telemetry's docker stacks on this Docker Engine, whatever their project name; undefined
 * when Docker does not answer or this build has no docker mode.
 */
export async function findDockerStacks(): Promise<FoundDockerStack[] | undefined> {
  let mod: DockerModule;
  try {
    mod = loadDockerModule();
  } catch {
    return undefined;
  }
  return await mod.findDockerStacks();
}

export async function createBackend(mode: StackMode, options: BackendOptions): Promise<StackBackend> {
  if (mode === 'embedded') {
    const o: EmbeddedOptions = { ...options, dataDir: options.dataDir ?? join(options.stateDir, 'data') };
    return new EmbeddedBackend(o);
  }
  const mod = loadDockerModule();
  return mod.createDockerBackend(options);
}

function loadDockerModule(): DockerModule {
  const req = createRequire(__filename);
  const bundled = join(__dirname, 'stack-docker.js');
  const candidates = existsSync(bundled) ? [bundled] : ['./docker/index'];
  for (const c of candidates) {
    let mod: Partial<DockerModule>;
    try {
      mod = req(c) as Partial<DockerModule>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') continue;
      throw e;
    }
    if (typeof mod.createDockerBackend === 'function') return mod as DockerModule;
  }
  // Neither the bundle nor the source is there: a build made without the docker backend.
  throw new StackError('engine-missing', 'The docker mode is not available in this build.', 'Set chapterTelemetry.mode to "embedded", or install a build that includes the docker backend.');
}
