/**
 * The docker backend's entry, loaded lazily by createBackend (src/stack/index.ts) so dockerode
 * never loads unless docker mode is used. Bundled on its own as dist/stack-docker.js.
 */
import type { BackendOptions } from '../index';
import type { StackBackend } from '../types';
import { DockerBackend, type DockerBackendOptions } from './backend';

export { DockerBackend, DEFAULT_PROJECT, defaultComposeFile } from './backend';
export type { DockerBackendOptions } from './backend';

export function createDockerBackend(options: BackendOptions & { docker?: DockerBackendOptions }): StackBackend {
  const { grpcPort, otlpHttpPort, httpPort } = options.endpoints;
  return new DockerBackend({
    ...options.docker,
    projectName: options.docker?.projectName ?? (process.env.CHAPTER_TELEMETRY_DOCKER_PROJECT || undefined),
    endpoints: { grpcPort, otlpHttpPort, httpPort, ...options.docker?.endpoints },
  });
}
