/** The embedded server's command line (`--flag value` or `--flag=value`) with the defaults of the seed stack. */
import { homedir, platform } from 'node:os';
import { parseArgs as parseNodeArgs } from 'node:util';
import { join } from 'node:path';

export interface ServerConfig {
  dataDir: string;
  host: string;
  grpcPort: number;
  otlpHttpPort: number;
  httpPort: number;
  clickhouseUrl?: string;
  stateFile?: string;
  rawRetentionDays?: number;
  sessionRetentionDays?: number;
  maxBodyBytes: number;
  /** Extra `Host` names served besides loopback (`--allow-host`, repeatable). */
  allowHosts: string[];
  /** Browser origins served (`--allow-origin`, repeatable); none by default. */
  allowOrigins: string[];
  /** `--team DIR`: serve as a team server (TLS, member credentials) from a `npm run team -- init` directory. */
  team?: string;
  /** Which of the three ports were given as flags (a team directory's ports apply to the others). */
  portFlags: { grpc: boolean; otlpHttp: boolean; http: boolean };
  /** Free space kept on the data dir's file system before exports are refused (`--min-free-mb`; 0 = no guard); default in disk-guard.ts. */
  minFreeBytes?: number;
  /** `--group-wait-ms`: how long a local server's next insert gathers exports after one (ingest.ts; default there, 0 = no grouping wait, also none for announced exports). */
  groupWaitMs?: number;
  /**
   * `--in-container`: the server runs inside a container whose ports are published on the host's loopback
   * only (the docker stand-ins), so it may listen on the container's own interfaces without TLS.
   */
  inContainer: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: npm start -- [--data-dir DIR] [--host 127.0.0.1] [--grpc-port 4317] [--otlp-http-port 4318]
                  [--http-port 8123] [--clickhouse-url URL] [--state-file FILE]
                  [--retention-days 90] [--session-retention-days 365]
                  [--allow-host NAME …] [--allow-origin ORIGIN …] [--team DIR] [--min-free-mb N] [--group-wait-ms 10] [--in-container]`;

/** Where a user's data lives by default: XDG on Linux, the platform's app-data folder elsewhere. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, os: string = platform(), home: string = homedir()): string {
  if (os === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'chapter-telemetry');
  if (os === 'darwin') return join(home, 'Library', 'Application Support', 'chapter-telemetry');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'chapter-telemetry');
}

function port(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${name} must be a port number from 1 to 65535, got "${value}"`);
  return n;
}

function days(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number of days (1 or more), got "${value}"`);
  return n;
}

function megabytes(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || value.trim() === '') throw new UsageError(`${name} must be a number of MiB (0 or more), got "${value}"`);
  return Math.round(n * 1024 * 1024);
}

function millis(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 1000 || value.trim() === '') throw new UsageError(`${name} must be a whole number of milliseconds from 0 to 1000, got "${value}"`);
  return n;
}

const OPTIONS = {
  'data-dir': { type: 'string' }, host: { type: 'string' }, 'grpc-port': { type: 'string' }, 'otlp-http-port': { type: 'string' },
  'http-port': { type: 'string' }, 'clickhouse-url': { type: 'string' }, 'state-file': { type: 'string' },
  'retention-days': { type: 'string' }, 'session-retention-days': { type: 'string' },
  'min-free-mb': { type: 'string' }, 'group-wait-ms': { type: 'string' }, 'allow-host': { type: 'string', multiple: true }, 'allow-origin': { type: 'string', multiple: true }, team: { type: 'string' }, 'in-container': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  let values: ReturnType<typeof parseNodeArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: false }>>['values'];
  try {
    ({ values } = parseNodeArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    const m = /'(--[\w-]+)/.exec((err as Error).message);
    const what = (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? `${m?.[1] ?? 'an option'} needs a value` : `unknown option ${m?.[1] ?? (err as Error).message}`;
    throw new UsageError(`${what}\n${USAGE}`);
  }
  if (values.help) throw new UsageError(USAGE);
  const cfg: ServerConfig = {
    dataDir: values['data-dir'] ?? (env.CHAPTER_TELEMETRY_DATA_DIR || defaultDataDir(env)),
    host: values.host ?? '127.0.0.1',
    grpcPort: values['grpc-port'] !== undefined ? port('--grpc-port', values['grpc-port']) : 4317,
    otlpHttpPort: values['otlp-http-port'] !== undefined ? port('--otlp-http-port', values['otlp-http-port']) : 4318,
    httpPort: values['http-port'] !== undefined ? port('--http-port', values['http-port']) : 8123,
    clickhouseUrl: values['clickhouse-url'],
    stateFile: values['state-file'],
    rawRetentionDays: values['retention-days'] !== undefined ? days('--retention-days', values['retention-days']) : undefined,
    sessionRetentionDays: values['session-retention-days'] !== undefined ? days('--session-retention-days', values['session-retention-days']) : undefined,
    maxBodyBytes: 32 * 1024 * 1024,
    allowHosts: values['allow-host'] ?? [],
    allowOrigins: values['allow-origin'] ?? [],
    team: values.team,
    portFlags: { grpc: values['grpc-port'] !== undefined, otlpHttp: values['otlp-http-port'] !== undefined, http: values['http-port'] !== undefined },
    minFreeBytes: values['min-free-mb'] !== undefined ? megabytes('--min-free-mb', values['min-free-mb']) : undefined,
    groupWaitMs: values['group-wait-ms'] !== undefined ? millis('--group-wait-ms', values['group-wait-ms']) : undefined,
    inContainer: values['in-container'] ?? false,
  };
  for (const o of cfg.allowOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o) && o !== 'null') throw new UsageError(`--allow-origin takes an origin such as http://localhost:3000, got "${o}"`);
  }
  const ports = [cfg.grpcPort, cfg.otlpHttpPort, cfg.httpPort];
  if (new Set(ports).size !== ports.length) throw new UsageError(`the three ports must differ, got ${ports.join(', ')}`);
  return cfg;
}

/** Host names served besides loopback: `--allow-host` names and a `--host` that is an address of its own. */
export function servedHosts(cfg: Pick<ServerConfig, 'host' | 'allowHosts'>): string[] {
  const wildcard = cfg.host === '0.0.0.0' || cfg.host === '::' || cfg.host === '';
  return wildcard ? cfg.allowHosts : [cfg.host, ...cfg.allowHosts];
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');
}
