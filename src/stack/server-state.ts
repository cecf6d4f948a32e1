/**
 * The embedded server's state file (`--state-file`, written once ready, removed on clean exit)
 * and the checks that tell a live server from a stale file. One server per user: every window
 * reads the same file in global storage and attaches to what it describes.
 */
import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { clientHost } from '../core/otel-env';
import type { StackEndpoints } from './types';
import { pidAlive } from '../server/pid';

export interface ServerState extends StackEndpoints {
  pid: number;
  dataDir: string;
  startedAt: string;
  version?: string;
}

export function readServerState(file: string): ServerState | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const s = raw as Partial<ServerState>;
  if (typeof s.pid !== 'number' || typeof s.httpPort !== 'number' || typeof s.grpcPort !== 'number' || typeof s.otlpHttpPort !== 'number') {
    return undefined;
  }
  return { host: '127.0.0.1', dataDir: '', startedAt: '', ...s } as ServerState;
}

export function removeServerState(file: string): void {
  rmSync(file, { force: true });
}

export { pidAlive };

/** GET /ping on the ClickHouse HTTP port answers `Ok.`. */
export async function ping(host: string, httpPort: number, timeoutMs = 1500): Promise<boolean> {
  try {
    const h = clientHost(host);
    const res = await fetch(`http://${h.includes(':') ? `[${h}]` : h}:${httpPort}/ping`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok && (await res.text()).startsWith('Ok');
  } catch {
    return false;
  }
}

/** A TCP connect succeeds (the OTLP ports speak gRPC/HTTP; a connect is enough to know they listen). */
export async function tcpOpen(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return await new Promise((resolve) => {
    const sock = connect({ host: clientHost(host), port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** The state file describes a server that is alive and answers on every port. */
export async function serverHealthy(s: StackEndpoints): Promise<boolean> {
  const [p, g, o] = await Promise.all([ping(s.host, s.httpPort), tcpOpen(s.host, s.grpcPort), tcpOpen(s.host, s.otlpHttpPort)]);
  return p && g && o;
}

/**
 * The pid still belongs to a chapter-telemetry server started with this state file (guards against
 * pid reuse before we signal it). Where /proc is missing (macOS) a live pid is taken at its word.
 */
export function isServerProcess(pid: number, stateFile: string): boolean {
  if (!pidAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return process.platform !== 'linux';
  }
  return cmdline.split('\0').includes(stateFile);
}
