/**
 * The embedded server's state file (`--state-file`, written once ready, removed on clean exit)
 * and the checks that tell a live server from a stale file. One server per user: every window
 * reads the same file in global storage and attaches to what it describes.
 */
import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { clientHost } from '../core/otel-env';
import { StackError, type StackEndpoints, type WriterCredentials } from './types';
import { pidAlive } from '../server/pid';

export interface ServerState extends StackEndpoints {
  pid: number;
  dataDir: string;
  startedAt: string;
  version?: string;
  /** The owner-only writer credential file the server created (`<data dir>/credentials.json`). */
  credentialsFile?: string;
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

/**
 * The writer credential `{"user", "password"}` from an owner-only file; undefined when the file is
 * absent (the server never started). A file of another shape is an error, not silently ignored.
 */
export function readWriterCredentials(file: string): WriterCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const c = v as Partial<WriterCredentials> | undefined;
  if (!c || typeof c !== 'object' || typeof c.user !== 'string' || !c.user || typeof c.password !== 'string' || !c.password) {
    throw new StackError('crashed', `The writer credential file ${file} is damaged (it must hold {"user": "…", "password": "…"}).`, 'Stop the stack, delete that file and start again: the server creates a new one.');
  }
  return { user: c.user, password: c.password };
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

/** What `/health` on the OTLP HTTP port says about the server behind it (undefined: no JSON answer). */
export async function healthIdentity(host: string, otlpHttpPort: number, timeoutMs = 1500): Promise<{ pid?: unknown; startedAt?: unknown } | undefined> {
  try {
    const h = clientHost(host);
    const res = await fetch(`http://${h.includes(':') ? `[${h}]` : h}:${otlpHttpPort}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as unknown;
    return typeof body === 'object' && body !== null ? (body as { pid?: unknown; startedAt?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the pid in a state file is really the chapter-telemetry server that file describes, checked
 * before attaching to it or signalling it (a stale file may name a pid the OS has since given to any
 * other program). On every platform the server itself vouches: `GET /health` on its OTLP HTTP port
 * reports `pid` and `startedAt`, which must equal the file's. A server too busy to answer (or one
 * from before /health reported them) is recognised on Linux by its command line naming this state
 * file; where /proc is missing (macOS, Windows) an unconfirmed pid is never taken for ours.
 */
export async function isServerProcess(state: Pick<ServerState, 'pid' | 'startedAt' | 'host' | 'otlpHttpPort'>, stateFile: string, procRoot = '/proc'): Promise<boolean> {
  if (!pidAlive(state.pid)) return false;
  const health = await healthIdentity(state.host, state.otlpHttpPort);
  if (health && health.pid !== undefined) return health.pid === state.pid && health.startedAt === state.startedAt;
  return commandLineNames(state.pid, stateFile, procRoot);
}

/** Linux: the process's command line names `stateFile` (false where /proc is missing). */
export function commandLineNames(pid: number, stateFile: string, procRoot = '/proc'): boolean {
  try {
    return readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split('\0').includes(stateFile);
  } catch {
    return false;
  }
}
