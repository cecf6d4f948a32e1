/**
 * `<team dir>/members.json`: who may send and read, with their role and secret hash.
 *
 *   {"version":1,"members":[{"name":"alice","role":"contributor","key_id":"…","secret":{SecretHash},
 *                            "created_at":"…","rotated_at":"…"}]}
 *
 * Written whole to a temporary file (0600) and renamed over the old one, so a reader never sees
 * half a file and every write gives the file a new inode. `MembersSource.current()` stats the file
 * on every call and re-reads it when inode, size or mtime changed: a member removed or rotated by
 * `npm run team` is refused on the server's next request, without a restart. (A stat costs
 * microseconds; a watcher would miss renames on some file systems.)
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MEMBER_NAME_RE, TEAM_ROLES, type TeamRole } from '../../core/team-bundle';
import type { SecretHash } from './secrets';

export const MEMBERS_FILE = 'members.json';

export interface MemberRecord {
  name: string;
  role: TeamRole;
  key_id: string;
  secret: SecretHash;
  created_at: string;
  rotated_at?: string;
  /** The credential `team init` made: the server's own admin (may also write). */
  owner?: boolean;
}

export interface MembersDoc {
  version: 1;
  members: MemberRecord[];
}

/** What the server knows about an authenticated caller. */
export interface Member {
  name: string;
  role: TeamRole;
  owner: boolean;
}

export class TeamFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TeamFileError';
  }
}

export function validMemberName(name: string): boolean {
  return MEMBER_NAME_RE.test(name);
}

export function memberNameRule(): string {
  return 'a lower-case letter, then up to 31 of a-z 0-9 _ - (it becomes a ClickHouse user name and the user_id of every record)';
}

export function parseMembers(text: string, where: string): MembersDoc {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new TeamFileError(`${where} is not JSON.`);
  }
  const d = doc as Partial<MembersDoc>;
  if (!d || d.version !== 1 || !Array.isArray(d.members)) throw new TeamFileError(`${where} is not a members file (version 1).`);
  for (const m of d.members) {
    if (!m || !validMemberName(m.name) || !TEAM_ROLES.includes(m.role) || typeof m.key_id !== 'string' || !m.secret || m.secret.alg !== 'scrypt') {
      throw new TeamFileError(`${where} has an invalid member entry (${JSON.stringify(m?.name)}).`);
    }
  }
  return d as MembersDoc;
}

export function readMembers(dir: string): MembersDoc {
  const path = join(dir, MEMBERS_FILE);
  return parseMembers(readFileSync(path, 'utf8'), path);
}

/** Atomic replace, owner-only. */
export function writeMembers(dir: string, doc: MembersDoc): void {
  writeFileAtomic(join(dir, MEMBERS_FILE), JSON.stringify(doc, null, 2) + '\n');
}

export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
}

export interface MembersSnapshot {
  /** Increases whenever the file was re-read with a change; caches key on it. */
  generation: number;
  byName: ReadonlyMap<string, MemberRecord>;
  byKeyId: ReadonlyMap<string, MemberRecord>;
}

export interface MembersSource {
  current(): MembersSnapshot;
}

/** The live view of members.json. A file that became unreadable or invalid keeps nobody in (fail closed). */
export class MembersFile implements MembersSource {
  private signature = '';
  private snapshot: MembersSnapshot = { generation: 0, byName: new Map(), byKeyId: new Map() };
  private readonly path: string;

  constructor(dir: string, private readonly onError: (message: string) => void = () => {}) {
    this.path = join(dir, MEMBERS_FILE);
    this.current();
  }

  current(): MembersSnapshot {
    let sig: string;
    try {
      const st = statSync(this.path, { bigint: true });
      sig = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      sig = 'missing';
    }
    if (sig === this.signature) return this.snapshot;
    this.signature = sig;
    let members: MemberRecord[] = [];
    if (sig !== 'missing') {
      try {
        members = parseMembers(readFileSync(this.path, 'utf8'), this.path).members;
      } catch (err) {
        this.onError(`members file unreadable, refusing everyone until it is fixed: ${(err as Error).message}`);
        // A fix (new content, chmod) changes size/mtime/ctime, so the file is read again then.
      }
    } else {
      this.onError(`members file ${this.path} is missing: refusing everyone`);
    }
    this.snapshot = {
      generation: this.snapshot.generation + 1,
      byName: new Map(members.map((m) => [m.name, m])),
      byKeyId: new Map(members.map((m) => [m.key_id, m])),
    };
    return this.snapshot;
  }
}
