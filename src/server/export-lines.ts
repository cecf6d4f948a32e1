import { userInfo } from 'node:os';
import { buildOtelEnv } from '../core/otel-env';
import type { ServerConfig } from './config';

function shellQuote(v: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

function currentUser(): string {
  try {
    return process.env.USER || userInfo().username;
  } catch {
    return 'author';
  }
}

/** The `export` lines an author pastes so Claude Code sends to this server (same env the extension injects). */
export function exportLines(cfg: Pick<ServerConfig, 'host' | 'grpcPort' | 'otlpHttpPort'>, userId = currentUser()): string[] {
  const env = buildOtelEnv({ protocol: 'grpc', host: cfg.host, grpcPort: cfg.grpcPort, otlpHttpPort: cfg.otlpHttpPort, userId, logUserPrompts: false });
  return [
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    `# tag a chapter by hand: export OTEL_RESOURCE_ATTRIBUTES=${shellQuote(`${env.OTEL_RESOURCE_ATTRIBUTES ?? ''},chapter=ch01`)}`,
  ];
}
