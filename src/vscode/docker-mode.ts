/**
 * What docker mode adds to a Start: the compose file shipped in the extension, the image
 * settings as compose variables, and a cancellable progress notification (pulls can take
 * minutes; layers are aggregated by the backend into one percentage). dockerode itself is only
 * loaded by createBackend('docker', …), never here.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { progressIncrements } from '../core/progress';
import type { DockerBackendOptions } from '../stack/docker/backend';
import type { BackendOptions } from '../stack/index';
import type { ProgressReport, StackMode } from '../stack/types';
import type { Config } from './config';

/**
 * Options for createDockerBackend. Images come from the settings when set; otherwise the
 * environment (CLICKHOUSE_IMAGE, OTELCOL_IMAGE, and any other compose variable such as
 * CLICKHOUSE_NOFILE) passes through, then the compose file's pinned defaults apply.
 */
export function dockerOptions(extensionPath: string, cfg: Config): DockerBackendOptions {
  const env: Record<string, string> = {};
  if (cfg.docker.clickhouseImage) env.CLICKHOUSE_IMAGE = cfg.docker.clickhouseImage;
  if (cfg.docker.collectorImage) env.OTELCOL_IMAGE = cfg.docker.collectorImage;
  return {
    composeFile: join(extensionPath, 'telemetry-server', 'docker-compose.yml'),
    // Empty: CHAPTER_TELEMETRY_DOCKER_PROJECT, then "chapter-telemetry" (createDockerBackend decides).
    projectName: cfg.docker.projectName || undefined,
    env,
  };
}

/** BackendOptions plus the docker part, which createDockerBackend reads and the embedded backend ignores. */
export function withDocker(options: BackendOptions, extensionPath: string, cfg: Config): BackendOptions {
  const o: BackendOptions & { docker: DockerBackendOptions } = { ...options, docker: dockerOptions(extensionPath, cfg) };
  return o;
}

/**
 * Runs a stack operation under progress: a cancellable notification in docker mode (pulls,
 * container creation), the quiet window indicator for the embedded server (a second or two).
 * Cancelling aborts the signal; the backend then removes what it created and throws 'cancelled'.
 */
export async function withStackProgress<T>(
  mode: StackMode,
  title: string,
  task: (onProgress: (p: ProgressReport) => void, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  if (mode !== 'docker') {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, (progress) =>
      task((p) => progress.report({ message: p.message }), ac.signal),
    );
  }
  return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    token.onCancellationRequested(() => ac.abort());
    const increment = progressIncrements();
    const onProgress = (p: ProgressReport) => progress.report({ message: p.message, increment: increment(p.percent) });
    // A cancel that comes after the work finished changes nothing: the stack is up.
    return await task(onProgress, ac.signal);
  });
}
