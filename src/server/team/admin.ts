/**
 * Team administration: what `npm run team -- …` does, as functions (the CLI in cli.ts only parses
 * arguments and prints). Every change to members.json is a whole-file atomic replace.
 */
import { copyFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBundle, type TeamBundle, type TeamRole } from '../../core/team-bundle';
import { certificatePin } from './pin';
import type { PrivacyLevel } from '../../core/team-privacy';
import { memberNameRule, readMembers, validMemberName, writeMembers, TeamFileError, type MemberRecord, type MembersDoc } from './members';
import { hashSecret, newKeyId, newSecret } from './secrets';
import { DEFAULT_LIMITS, DEFAULT_TEAM_PORTS, endpointUrl, readTeamConfig, teamPath, writeTeamConfig, type TeamConfig } from './team-config';
import { checkSuppliedTls, makeTeamTls } from './tls';

export interface InitOptions {
  dir: string;
  name?: string;
  hostnames?: string[];
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  privacy?: PrivacyLevel;
  ports?: Partial<TeamConfig['ports']>;
  admin?: string;
  validDays?: number;
}

/** What `add-member` and `rotate` hand out: the bundle's fields and the one-line bundle itself. */
export type IssuedMember = TeamBundle & { bundle: string };

const DAY_MS = 86_400_000;

function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
}

function checkName(name: string): void {
  if (!validMemberName(name)) throw new TeamFileError(`"${name}" is not a valid member name: ${memberNameRule()}.`);
}

export async function initTeam(o: InitOptions): Promise<{ config: TeamConfig; admin: IssuedMember }> {
  if (existsSync(o.dir) && readdirSync(o.dir).length > 0) {
    throw new TeamFileError(`${o.dir} exists and is not empty; choose a new directory (a team directory is made once).`);
  }
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new TeamFileError('--tls-cert and --tls-key go together.');
  const admin = o.admin ?? 'admin';
  checkName(admin);
  const hostnames = o.hostnames && o.hostnames.length > 0 ? o.hostnames : ['localhost'];
  ensurePrivateDir(o.dir);
  const tlsDir = join(o.dir, 'tls');
  ensurePrivateDir(tlsDir);
  const name = o.name ?? 'team';

  if (o.tlsCert && o.tlsKey) {
    const { caPem } = checkSuppliedTls(o.tlsCert, o.tlsKey, o.tlsCa);
    // Copied in, so the team directory is the whole server state (and backups hold it).
    copyFileSync(o.tlsCert, join(tlsDir, 'server.crt'));
    copyFileSync(o.tlsKey, join(tlsDir, 'server.key'));
    writeFileSync(join(tlsDir, 'ca.crt'), caPem, { mode: 0o600 });
    for (const f of ['server.crt', 'server.key', 'ca.crt']) chmodSync(join(tlsDir, f), 0o600);
  } else {
    await makeTeamTls(tlsDir, name, hostnames);
  }
  const tls: TeamConfig['tls'] = { cert: 'tls/server.crt', key: 'tls/server.key', ca: 'tls/ca.crt' };
  const config: TeamConfig = {
    version: 1, name, hostnames,
    ports: { ...DEFAULT_TEAM_PORTS, ...(o.ports ?? {}) },
    privacy: o.privacy ?? 'all',
    tls, limits: { ...DEFAULT_LIMITS },
    created_at: new Date().toISOString(),
  };
  writeTeamConfig(o.dir, config);
  writeMembers(o.dir, { version: 1, members: [] });
  const issued = await addMember(o.dir, admin, 'admin', { validDays: o.validDays, owner: true });
  return { config, admin: issued };
}

function issue(dir: string, config: TeamConfig, m: MemberRecord, secret: string, validDays: number | undefined): IssuedMember {
  const caPem = readFileSync(teamPath(dir, config.tls.ca), 'utf8');
  const host = config.hostnames[0]!;
  const now = new Date();
  const b: TeamBundle = {
    team: config.name, member: m.name, role: m.role,
    otlp_grpc: endpointUrl(host, config.ports.grpc),
    otlp_http: endpointUrl(host, config.ports.otlpHttp),
    query_url: endpointUrl(host, config.ports.http),
    ca_pem: caPem, ca_sha256: certificatePin(caPem),
    secret, issued_at: now.toISOString(),
  };
  const days = validDays ?? 30;
  if (days > 0) b.expires_at = new Date(now.getTime() + days * DAY_MS).toISOString();
  return { ...b, bundle: encodeBundle(b) };
}

/** Runs after the member's new record is made and before members.json is written (central mode: its ClickHouse user). */
export type BeforeCommit = (rec: MemberRecord) => Promise<void>;

export async function addMember(dir: string, name: string, role: TeamRole, opts: { validDays?: number; owner?: boolean; beforeCommit?: BeforeCommit } = {}): Promise<IssuedMember> {
  checkName(name);
  const config = readTeamConfig(dir);
  const doc = readMembers(dir);
  if (doc.members.some((m) => m.name === name)) throw new TeamFileError(`${name} is already a member; \`rotate ${name}\` gives a new secret.`);
  const keyId = newKeyId();
  const secret = newSecret(keyId);
  const rec: MemberRecord = { name, role, key_id: keyId, secret: await hashSecret(secret), created_at: new Date().toISOString() };
  if (opts.owner) rec.owner = true;
  await opts.beforeCommit?.(rec);
  writeMembers(dir, { ...doc, members: [...doc.members, rec] });
  return issue(dir, config, rec, secret, opts.validDays);
}

export async function rotateMember(dir: string, name: string, opts: { validDays?: number; beforeCommit?: BeforeCommit } = {}): Promise<IssuedMember> {
  const config = readTeamConfig(dir);
  const doc = readMembers(dir);
  const old = doc.members.find((m) => m.name === name);
  if (!old) throw new TeamFileError(`${name} is not a member.`);
  const keyId = newKeyId();
  const secret = newSecret(keyId);
  const rec: MemberRecord = { ...old, key_id: keyId, secret: await hashSecret(secret), rotated_at: new Date().toISOString() };
  await opts.beforeCommit?.(rec);
  writeMembers(dir, { ...doc, members: doc.members.map((m) => (m.name === name ? rec : m)) });
  return issue(dir, config, rec, secret, opts.validDays);
}

export function removeMember(dir: string, name: string): void {
  readTeamConfig(dir);
  const doc: MembersDoc = readMembers(dir);
  const m = doc.members.find((x) => x.name === name);
  if (!m) throw new TeamFileError(`${name} is not a member.`);
  if (m.owner && doc.members.filter((x) => x.role === 'admin').length === 1) {
    throw new TeamFileError(`${name} is the team's only admin; add another admin first.`);
  }
  writeMembers(dir, { ...doc, members: doc.members.filter((x) => x.name !== name) });
}

export interface ListedMember {
  name: string;
  role: TeamRole;
  created_at: string;
  rotated_at?: string;
  owner: boolean;
}

export function listMembers(dir: string): { team: string; privacy: PrivacyLevel; members: ListedMember[] } {
  const config = readTeamConfig(dir);
  const members = readMembers(dir).members.map((m) => {
    const l: ListedMember = { name: m.name, role: m.role, created_at: m.created_at, owner: Boolean(m.owner) };
    if (m.rotated_at) l.rotated_at = m.rotated_at;
    return l;
  });
  return { team: config.name, privacy: config.privacy, members };
}

export function setPrivacy(dir: string, privacy: PrivacyLevel): TeamConfig {
  const config = { ...readTeamConfig(dir), privacy };
  writeTeamConfig(dir, config);
  return config;
}
