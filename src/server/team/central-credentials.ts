/**
 * Central mode: the ClickHouse password of each member, derived, never stored.
 *
 * The team server must read AS the member (so ClickHouse's row policies scope the read), but it
 * keeps only a slow hash of the member's own secret, not the secret. So each member's ClickHouse
 * password is HMAC-SHA256(team key, member name + key id): the team key is 32 random bytes in
 * `<team dir>/central.key` (0600, made by `central-setup`), the key id is the member's current one
 * (members.json), which `rotate` replaces: the derived password changes with it. ClickHouse
 * stores only the SHA-256 of the password (IDENTIFIED WITH sha256_hash), the team directory
 * stores only the key. Why not the member's own secret as the ClickHouse password: members would
 * then be able to go to ClickHouse directly, past the team server's limits and audit, and
 * ClickHouse would hold an unsalted fast hash of the secret that also sends data.
 * Whoever holds central.key can read as any member: it is as sensitive as the admin credential,
 * and lives beside the TLS key with the same protection.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TeamFileError } from './members';

export const CENTRAL_KEY_FILE = 'central.key';
const CONTEXT = 'chapter-telemetry central clickhouse password v1';

/** Makes the team key unless it exists; returns whether it was made. */
export function ensureCentralKey(dir: string): boolean {
  const path = join(dir, CENTRAL_KEY_FILE);
  try {
    writeFileSync(path, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  chmodSync(path, 0o600);
  return true;
}

export function readCentralKey(dir: string): Buffer {
  const path = join(dir, CENTRAL_KEY_FILE);
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) throw new TeamFileError(`${path} is readable by others: chmod 600 it (it lets its holder read as any member).`);
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (err instanceof TeamFileError) throw err;
    throw new TeamFileError(`${path} is missing: run \`npm run team -- central-setup --dir ${dir}\` first.`);
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new TeamFileError(`${path} is not a team key (64 hex digits).`);
  return Buffer.from(text, 'hex');
}

/** The member's ClickHouse password (base64url, 43 characters). */
export function memberClickhousePassword(key: Buffer, member: string, keyId: string): string {
  return createHmac('sha256', key).update(`${CONTEXT}\0${member}\0${keyId}`).digest('base64url');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
