/**
 * The central-mode SQL (telemetry-server/central/*.sql) as statements to send to a ClickHouse
 * server: access.sql as written, the member templates with their placeholders filled with quoted
 * values (src/server/store/sql-quote.ts). Pure text work; central-admin.ts sends them.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { MEMBER_NAME_RE, type TeamRole } from '../../core/team-bundle';
import { splitStatements } from '../migrations';
import { quoteIdent, quoteString } from '../store/sql-quote';

/** The ClickHouse role each team role reads with (access.sql creates them). */
export const CLICKHOUSE_ROLE: Readonly<Record<TeamRole, string>> = {
  contributor: 'ct_contributor',
  coordinator: 'ct_coordinator',
  admin: 'ct_admin',
};
/** The role of the user that stores records (the team server's CLICKHOUSE_USER, the overlay's ct_ingest). */
export const WRITER_ROLE = 'ct_writer';

export type CentralFile = 'access.sql' | 'member-add.sql' | 'member-rotate.sql' | 'member-remove.sql';

export function centralDir(): string {
  const candidates = [
    path.join(__dirname, '..', 'telemetry-server', 'central'),
    path.join(__dirname, '..', '..', '..', 'telemetry-server', 'central'),
  ];
  return candidates.find((c) => existsSync(path.join(c, 'access.sql'))) ?? candidates[0]!;
}

export function centralStatements(file: CentralFile, dir = centralDir()): string[] {
  // Without their comment lines: the files are for reviewers, the server and error messages get the statement.
  return splitStatements(readFileSync(path.join(dir, file), 'utf8')).map(stripComments);
}

export interface MemberSqlValues {
  user: string;
  role?: TeamRole;
  /** Hex SHA-256 of the member's ClickHouse password. */
  passwordSha256?: string;
}

const PLACEHOLDER_RE = /\{\{(\w+)\}\}/g;

/**
 * A member template with every placeholder filled. Names are checked as member names and quoted as
 * identifiers anyway; the hash must be 64 hex digits; a placeholder the caller did not supply throws.
 */
export function memberStatements(file: Exclude<CentralFile, 'access.sql'>, v: MemberSqlValues, dir = centralDir()): string[] {
  if (!MEMBER_NAME_RE.test(v.user)) throw new Error(`"${v.user}" is not a member name`);
  if (v.passwordSha256 !== undefined && !/^[0-9a-f]{64}$/.test(v.passwordSha256)) throw new Error('the password hash must be 64 lower-case hex digits');
  const values: Record<string, string | undefined> = {
    user: quoteIdent(v.user),
    role: v.role === undefined ? undefined : CLICKHOUSE_ROLE[v.role],
    password_sha256: v.passwordSha256 === undefined ? undefined : quoteString(v.passwordSha256),
  };
  return centralStatements(file, dir).map((stmt) => stmt.replace(PLACEHOLDER_RE, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${file}: no value for {{${name}}}`);
    return value;
  }));
}

/** A statement without its comment lines (a file's header rides on its first statement). */
function stripComments(stmt: string): string {
  return stmt.split('\n').filter((l) => !/^\s*--/.test(l)).join('\n').trim();
}
