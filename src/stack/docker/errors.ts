/** Turns what dockerode and the Docker Engine report into StackErrors a writer can act on. */
import { execFileSync } from 'node:child_process';
import { StackError } from '../types';

export interface EngineErrorContext {
  /** Where we tried to reach the engine: a socket path or a URL. */
  endpoint: string;
}

/** Starting the daemon differs by platform; the message says how on this one. */
export function startDaemonHint(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return 'Start Docker Desktop (or colima start), wait until it says it is running, then try again.';
  if (platform === 'win32') return 'Start Docker Desktop from the Start menu, wait until it says it is running, then try again.';
  return 'Start the Docker daemon (sudo systemctl start docker, or sudo dockerd &), then try again.';
}

function dockerCliPresent(): boolean {
  try {
    execFileSync(process.platform === 'win32' ? 'where' : 'which', ['docker'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The engine could not be reached at all (ping failed). */
export function connectionError(err: unknown, ctx: EngineErrorContext): StackError {
  const e = err as NodeJS.ErrnoException & { statusCode?: number };
  const detail = `${e.code ?? ''} ${e.message ?? String(err)}`.trim();
  if (e.code === 'EACCES' || e.code === 'EPERM') {
    return new StackError(
      'docker-permission-denied',
      `Permission denied on the Docker socket ${ctx.endpoint}.`,
      process.platform === 'linux'
        ? 'Add yourself to the docker group (sudo usermod -aG docker $USER), log out and back in, then try again.'
        : 'Give your user access to the Docker socket (or run Docker Desktop), then try again.',
      detail,
    );
  }
  if ((e.code === 'ENOENT' || e.code === 'ECONNREFUSED') && !dockerCliPresent()) {
    return new StackError(
      'docker-not-installed',
      'Docker is not installed on this machine.',
      'Install Docker (https://docs.docker.com/get-docker/) or switch Chapter Telemetry to embedded mode, which needs no Docker.',
      detail,
    );
  }
  return new StackError(
    'docker-not-running',
    `The Docker daemon is not running (nothing answers at ${ctx.endpoint}).`,
    startDaemonHint(),
    detail,
  );
}

/** Reads "port is already allocated" / "address already in use" out of an engine error. */
export function portFromEngineError(message: string): number | undefined {
  const m = /(?:Bind for [^\s]*:(\d+) failed|listen tcp[46]? [^\s]*:(\d+): bind: address already in use)/.exec(message);
  const p = m?.[1] ?? m?.[2];
  return p ? Number(p) : undefined;
}

export function portInUseError(port: number, role: string, detail?: string): StackError {
  return new StackError(
    'port-in-use',
    `Port ${port} (${role}) is already in use on 127.0.0.1.`,
    `Stop whatever listens on ${port} (lsof -i :${port} shows it; maybe the embedded server is running), or choose other ports in the settings.`,
    detail,
  );
}

export function pullError(image: string, err: unknown): StackError {
  const msg = err instanceof Error ? err.message : String(err);
  const offline = /dial tcp|no such host|connection refused|i\/o timeout|TLS handshake|server misbehaving|network is unreachable|Client\.Timeout/i.test(msg);
  const unknown = /not found|manifest unknown|repository does not exist|pull access denied|unauthorized/i.test(msg);
  const registry = image.includes('/') && /[.:]|^localhost/.test(image.split('/')[0] ?? '') ? image.split('/')[0] : 'Docker Hub';
  return new StackError(
    'image-pull-failed',
    unknown
      ? `The image ${image} was not found on ${registry}.`
      : offline
        ? `Could not download the image ${image}: ${registry} cannot be reached.`
        : `Could not download the image ${image}.`,
    unknown
      ? 'Check the image name and tag in the settings (or CLICKHOUSE_IMAGE / OTELCOL_IMAGE), then try again.'
      : `Check your internet connection or proxy (or run: docker pull ${image}), then try again; embedded mode works offline.`,
    msg,
  );
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
