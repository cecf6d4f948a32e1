/**
 * The docker backend's entry, loaded lazily by createBackend (src/stack/index.ts) so dockerode
 * never loads unless docker mode is used. Bundled on its own as dist/stack-docker.js.
 */
import type { BackendOptions } from '../index';
import type { StackBackend } from '../types';
import { DEFAULT_PROJECT, DockerBackend, defaultSecretsDir, type DockerBackendOptions } from './backend';

export { DockerBackend, DEFAULT_PROJECT, defaultComposeFile, defaultSecretsDir } from './backend';
export type { DockerBackendOptions } from './backend';
export { findDockerStacks } from './find';
export type { FoundStack } from './find';

export function createDockerBackend(options: BackendOptions & { docker?: DockerBackendOptions }): StackBackend {
  const { grpcPort, otlpHttpPort, httpPort } = options.endpoints;
  const projectName = options.docker?.projectName ?? (process.env.CHAPTER_TELEMETRY_DOCKER_PROJECT || undefined);
  return new DockerBackend({
    ...options.docker,
    projectName,
    // The caller's owner-only state folder (the extension's global storage, the CLI's state dir).
    secretsDir: options.docker?.secretsDir ?? defaultSecretsDir(projectName ?? DEFAULT_PROJECT, options.stateDir),
    endpoints: { grpcPort, otlpHttpPort, httpPort, ...options.docker?.endpoints },
  });
}
