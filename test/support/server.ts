import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './ports';
import { SERVER_NODE_FLAGS } from '../../src/core/server-node-flags';

export const repoRoot = resolve(__dirname, '..', '..');
export const serverScript = join(repoRoot, 'dist', 'server.js');

export interface RunningServer {
  proc: ChildProcess;
  dataDir: string;
  host: string;
  grpcPort: number;
  otlpHttpPort: number;
  httpPort: number;
  /** http://127.0.0.1:<httpPort> — the ClickHouse-compatible endpoint. */
  httpUrl: string;
  /** http://127.0.0.1:<otlpHttpPort> */
  otlpHttpUrl: string;
  /** Everything the process printed so far (stdout + stderr). */
  output(): string;
  /** The writer credential the server created (`<data dir>/credentials.json`). */
  credentials: Credentials;
  /** SQL over the ClickHouse HTTP endpoint as the writer; returns the body text, throws on non-200. */
  sql(query: string, params?: Record<string, string>): Promise<string>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  dataDir?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Ports to use instead of fresh free ones. */
  ports?: Partial<Pick<RunningServer, 'grpcPort' | 'otlpHttpPort' | 'httpPort'>>;
  timeoutMs?: number;
}

export interface Credentials {
  user: string;
  password: string;
}

/** The header a ClickHouse client sends for a user and password (HTTP basic auth). */
export function basicAuth(c: Credentials): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}` };
}

/** The writer credential of a data directory, as the server wrote it. */
export function readCredentials(dataDir: string): Credentials {
  return JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as Credentials;
}

/**
 * SQL over a ClickHouse HTTP endpoint (query in the body, `param_x` for `{x:Type}`); the body text,
 * throws on non-200. Without `auth` the request is anonymous, i.e. read-only.
 */
export async function sqlOver(httpUrl: string, query: string, params: Record<string, string> = {}, auth?: Credentials): Promise<string> {
  const url = new URL(httpUrl);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(`param_${k}`, v);
  const res = await fetch(url, { method: 'POST', body: query, headers: auth ? basicAuth(auth) : {} });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text}`);
  return text;
}

/** Runs a built Node script (a headless CLI) to its exit; its exit code and output. */
export function runNodeScript(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [script, ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Spawns the built embedded server (`dist/server.js`) on free ports and waits for its `ready` line. */
export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'ct-data-'));
  const grpcPort = opts.ports?.grpcPort ?? (await freePort());
  const otlpHttpPort = opts.ports?.otlpHttpPort ?? (await freePort());
  const httpPort = opts.ports?.httpPort ?? (await freePort());
  const host = '127.0.0.1';
  const args = [
    ...SERVER_NODE_FLAGS,
    serverScript,
    '--data-dir', dataDir,
    '--host', host,
    '--grpc-port', String(grpcPort),
    '--otlp-http-port', String(otlpHttpPort),
    '--http-port', String(httpPort),
    ...(opts.extraArgs ?? []),
  ];
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));

  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server not ready in time:\n${out}`)), opts.timeoutMs ?? 30_000);
    const check = () => {
      if (/\bready\b/.test(out)) {
        clearTimeout(timer);
        res();
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code} before ready:\n${out}`));
    });
  });

  const httpUrl = `http://${host}:${httpPort}`;
  const credentials = readCredentials(dataDir);
  return {
    proc, dataDir, host, grpcPort, otlpHttpPort, httpPort, httpUrl, credentials,
    otlpHttpUrl: `http://${host}:${otlpHttpPort}`,
    output: () => out,
    sql: (query, params = {}) => sqlOver(httpUrl, query, params, credentials),
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return await exited;
    },
  };
}

/**
 * Stops `srv` and removes its data directory: for a server on a scratch store (the benches'; a bench at the issue's
 * sizes leaves gigabytes). Tests that restart on a data directory, or read it after the stop, keep calling `stop`.
 */
export async function stopAndRemove(srv: RunningServer): Promise<void> {
  await srv.stop();
  rmSync(srv.dataDir, { recursive: true, force: true });
}
