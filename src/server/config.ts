/** The embedded server's command line: `--flag value` pairs with the defaults of the seed stack. */
import { homedir, platform } from 'node:os';
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
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: npm start -- [--data-dir DIR] [--host 127.0.0.1] [--grpc-port 4317] [--otlp-http-port 4318]
                  [--http-port 8123] [--clickhouse-url URL] [--state-file FILE]
                  [--retention-days 90] [--session-retention-days 365]`;

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

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const cfg: ServerConfig = {
    dataDir: env.CHAPTER_TELEMETRY_DATA_DIR || defaultDataDir(env),
    host: '127.0.0.1',
    grpcPort: 4317,
    otlpHttpPort: 4318,
    httpPort: 8123,
    maxBodyBytes: 32 * 1024 * 1024,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') throw new UsageError(USAGE);
    const [name, inline] = flag.includes('=') ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)] : [flag, undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value\n${USAGE}`);
    switch (name) {
      case '--data-dir': cfg.dataDir = value; break;
      case '--host': cfg.host = value; break;
      case '--grpc-port': cfg.grpcPort = port(name, value); break;
      case '--otlp-http-port': cfg.otlpHttpPort = port(name, value); break;
      case '--http-port': cfg.httpPort = port(name, value); break;
      case '--clickhouse-url': cfg.clickhouseUrl = value; break;
      case '--state-file': cfg.stateFile = value; break;
      case '--retention-days': cfg.rawRetentionDays = days(name, value); break;
      case '--session-retention-days': cfg.sessionRetentionDays = days(name, value); break;
      default: throw new UsageError(`unknown option ${name}\n${USAGE}`);
    }
  }
  const ports = [cfg.grpcPort, cfg.otlpHttpPort, cfg.httpPort];
  if (new Set(ports).size !== ports.length) throw new UsageError(`the three ports must differ, got ${ports.join(', ')}`);
  return cfg;
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');
}
