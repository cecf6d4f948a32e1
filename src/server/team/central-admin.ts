/**
 * Central mode administration (`npm run team -- central-setup | add-member | rotate | remove-member`
 * on a team whose team.json names `clickhouse_url`): the access SQL and each member's ClickHouse
 * user, run against the ClickHouse server over its HTTP interface (RemoteStore). The ClickHouse
 * administrator credential comes from CLICKHOUSE_USER / CLICKHOUSE_PASSWORD (environment only,
 * never argv); it needs ACCESS MANAGEMENT and stores records afterwards (it gets ct_writer).
 */
import { RemoteStore } from '../store/remote';
import { StoreError } from '../store/types';
import { centralStatements, memberStatements, WRITER_ROLE } from './central-sql';
import { ensureCentralKey, memberClickhousePassword, readCentralKey, sha256Hex } from './central-credentials';
import { readMembers, TeamFileError, type MemberRecord } from './members';
import { readTeamConfig, writeTeamConfig, type TeamConfig } from './team-config';

export interface CentralOptions {
  /** For tests: the ClickHouse administrator instead of CLICKHOUSE_USER / CLICKHOUSE_PASSWORD. */
  user?: string;
  password?: string;
  /** Where the SQL files are (default: telemetry-server/central). */
  sqlDir?: string;
}

function adminStore(url: string, o: CentralOptions): RemoteStore {
  const opts: { user?: string; password?: string } = {};
  if (o.user !== undefined) opts.user = o.user;
  if (o.password !== undefined) opts.password = o.password;
  return new RemoteStore(url, opts);
}

async function run(store: RemoteStore, statements: string[], what: string): Promise<void> {
  for (const [i, stmt] of statements.entries()) {
    try {
      await store.query(stmt);
    } catch (err) {
      throw new TeamFileError(`${what}: statement ${i + 1} of ${statements.length} (${stmt.replace(/\s+/g, ' ').slice(0, 100)}) failed on ${store.description}: ${(err as Error).message}`);
    }
  }
}

/** The member's ClickHouse password, from the team key and the member's current key id. */
export function memberPassword(dir: string, rec: Pick<MemberRecord, 'name' | 'key_id'>): string {
  return memberClickhousePassword(readCentralKey(dir), rec.name, rec.key_id);
}

export function centralUrl(config: TeamConfig): string | undefined {
  return config.clickhouse_url;
}

/** CREATE USER … for one member (the record as it will be committed). */
export async function centralAddMember(dir: string, rec: MemberRecord, o: CentralOptions = {}, url = readTeamConfig(dir).clickhouse_url!): Promise<void> {
  const hash = sha256Hex(memberPassword(dir, rec));
  await run(adminStore(url, o), memberStatements('member-add.sql', { user: rec.name, role: rec.role, passwordSha256: hash }, o.sqlDir), `creating the ClickHouse user of ${rec.name}`);
}

export async function centralRotateMember(dir: string, rec: MemberRecord, o: CentralOptions = {}): Promise<void> {
  const url = readTeamConfig(dir).clickhouse_url!;
  const hash = sha256Hex(memberPassword(dir, rec));
  await run(adminStore(url, o), memberStatements('member-rotate.sql', { user: rec.name, passwordSha256: hash }, o.sqlDir), `changing the ClickHouse password of ${rec.name}`);
}

export async function centralRemoveMember(dir: string, name: string, o: CentralOptions = {}, url = readTeamConfig(dir).clickhouse_url!): Promise<void> {
  await run(adminStore(url, o), memberStatements('member-remove.sql', { user: name }, o.sqlDir), `dropping the ClickHouse user ${name}`);
}

export interface SetupResult {
  url: string;
  keyMade: boolean;
  members: string[];
}

/**
 * Central mode for a team directory: records the URL in team.json, makes the team key, runs
 * access.sql, gives the administrator the writer role, (re)creates every member's user, then
 * checks as the owner that reads are read-only and system tables need a grant.
 */
export async function centralSetup(dir: string, url: string | undefined, o: CentralOptions = {}): Promise<SetupResult> {
  const config = readTeamConfig(dir);
  const target = url ?? config.clickhouse_url;
  if (!target) throw new TeamFileError('central-setup needs --clickhouse-url URL (the ClickHouse server\'s HTTP(S) address) the first time.');
  try {
    new URL(target);
  } catch {
    throw new TeamFileError(`--clickhouse-url "${target}" is not a URL (e.g. https://clickhouse.example.org:8443).`);
  }
  if (/^[a-z]+:\/\/[^/]*@/i.test(target)) throw new TeamFileError('put the ClickHouse credentials in CLICKHOUSE_USER / CLICKHOUSE_PASSWORD, not in the URL (team.json would keep them).');
  const keyMade = ensureCentralKey(dir);
  const store = adminStore(target, o);
  await run(store, centralStatements('access.sql', o.sqlDir), 'access.sql');
  await run(store, [`GRANT ${WRITER_ROLE} TO CURRENT_USER`], 'giving the administrator the writer role');
  const members = readMembers(dir).members;
  for (const m of members) {
    await centralRemoveMember(dir, m.name, o, target);
    await centralAddMember(dir, m, o, target);
  }
  const owner = members.find((m) => m.owner) ?? members.find((m) => m.role === 'admin');
  if (owner) await checkAsMember(target, owner.name, memberPassword(dir, owner));
  // Only now: until setup has succeeded, add-member and the server go on without ClickHouse users.
  if (config.clickhouse_url !== target) writeTeamConfig(dir, { ...readTeamConfig(dir), clickhouse_url: target });
  return { url: target, keyMade, members: members.map((m) => m.name) };
}

/** Refused as it must be: a write (readonly) and a system table holding others' queries (no grant). */
async function checkAsMember(url: string, user: string, password: string): Promise<void> {
  const member = new RemoteStore(url, { user, password });
  await member.query('SELECT 1');
  const refusal = async (sql: string): Promise<number | undefined> => {
    try {
      await member.query(sql);
      return undefined;
    } catch (err) {
      // Unreachable is not a refusal: the check could not be made.
      if (!(err instanceof StoreError) || err.unavailable) throw err;
      return err.clickhouseCode ?? -1;
    }
  };
  if ((await refusal('SELECT count() FROM system.processes')) === undefined) {
    throw new TeamFileError(`as ${user}, ClickHouse let a member read system.processes: the server runs with access_control_improvements.select_from_system_db_requires_grant = false, so members would see each other's queries. Set it to true (the default) and run central-setup again.`);
  }
  if ((await refusal('CREATE TEMPORARY TABLE ct_readonly_probe (x UInt8)')) === undefined) {
    throw new TeamFileError(`as ${user}, ClickHouse accepted a write: the ct_member_readonly profile is not in force. Check the server's settings profiles and run central-setup again.`);
  }
}
