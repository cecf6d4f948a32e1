/**
 * `<team dir>/team.json`: the team server's configuration, written by `npm run team -- init`
 * and read by `npm start -- --team DIR`. No secret in it (secrets: members.json, hashed).
 *
 * Team directory layout (0700, every file 0600):
 *   team.json        this config
 *   members.json     members, roles, scrypt hashes (members.ts)
 *   tls/ca.crt       the team CA certificate (handed to members inside their bundle)
 *   tls/ca.key       the CA's private key (only when init made the CA; needed to re-issue server.crt)
 *   tls/server.crt   the server certificate (+ chain) the three listeners present
 *   tls/server.key   its private key
 *   central.key      central mode only: the key member ClickHouse passwords are derived from (central-credentials.ts)
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { PRIVACY_LEVELS, type PrivacyLevel } from '../../core/team-privacy';
import { TeamFileError, writeFileAtomic } from './members';

export const TEAM_CONFIG_FILE = 'team.json';

export interface TeamLimits {
  /** Sustained requests per second per member, and the burst allowed above it. */
  requestsPerSecond: number;
  requestBurst: number;
  /** Sustained request body bytes per second per member, and the burst. */
  bytesPerSecond: number;
  byteBurst: number;
  /** Largest accepted request body (after decompression), bytes: OTLP/HTTP (413), gRPC (RESOURCE_EXHAUSTED), SQL (413). */
  maxBodyBytes: number;
  /**
   * Failed authentications per source address (each costs a scrypt): sustained per minute, and the burst.
   * Over it: 429 / RESOURCE_EXHAUSTED on the OTLP ports, 401 on the SQL port, with no scrypt run.
   */
  authFailuresPerMinute: number;
  authFailureBurst: number;
}

export interface TeamConfig {
  version: 1;
  name: string;
  /** Host names / addresses members reach the server by; the first one goes into bundles. */
  hostnames: string[];
  ports: { grpc: number; otlpHttp: number; http: number };
  privacy: PrivacyLevel;
  /** Paths relative to the team dir (or absolute when the admin brought their own certificate). */
  tls: { cert: string; key: string; ca: string };
  limits: TeamLimits;
  created_at: string;
  /**
   * Central mode (`npm run team -- central-setup`): the ClickHouse server the team's records are
   * stored in and read from (HTTP(S) address, no credentials: those come from the environment).
   */
  clickhouse_url?: string;
}

export const DEFAULT_LIMITS: TeamLimits = {
  requestsPerSecond: 20,
  requestBurst: 100,
  bytesPerSecond: 2 * 1024 * 1024,
  byteBurst: 16 * 1024 * 1024,
  maxBodyBytes: 8 * 1024 * 1024,
  authFailuresPerMinute: 30,
  authFailureBurst: 20,
};

export const DEFAULT_TEAM_PORTS = { grpc: 4317, otlpHttp: 4318, http: 8123 } as const;

export function readTeamConfig(dir: string): TeamConfig {
  const path = join(dir, TEAM_CONFIG_FILE);
  if (!existsSync(path)) throw new TeamFileError(`${dir} is not a team directory (no ${TEAM_CONFIG_FILE}); run \`npm run team -- init --dir ${dir}\` first.`);
  let c: Partial<TeamConfig>;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as Partial<TeamConfig>;
  } catch {
    throw new TeamFileError(`${path} is not JSON.`);
  }
  if (c.version !== 1 || typeof c.name !== 'string' || !Array.isArray(c.hostnames) || c.hostnames.length === 0 || !c.ports || !c.tls) {
    throw new TeamFileError(`${path} is not a version 1 team config.`);
  }
  if (!PRIVACY_LEVELS.includes(c.privacy as PrivacyLevel)) throw new TeamFileError(`${path}: privacy must be one of ${PRIVACY_LEVELS.join(', ')}.`);
  return { ...c, limits: { ...DEFAULT_LIMITS, ...(c.limits ?? {}) } } as TeamConfig;
}

export function writeTeamConfig(dir: string, config: TeamConfig): void {
  writeFileAtomic(join(dir, TEAM_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

export function teamPath(dir: string, p: string): string {
  return isAbsolute(p) ? p : join(dir, p);
}

/** `https://host:port` with IPv6 literals bracketed. */
export function endpointUrl(host: string, port: number): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
