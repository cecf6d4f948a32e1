/**
 * The team server's own admin credential for commands run on the server machine
 * (`npm run team -- delete-member-data NAME --dir DIR`): a random token the running server writes to
 * `<team dir>/control.token` (0600, in the 0700 team directory, made anew at every start, removed on
 * a clean stop). Whoever can read it can already edit members.json and read the TLS key, so it
 * grants nothing beyond what the team directory's owner has; it never travels beyond the server's
 * own TLS port and is not a member secret (it reads or writes no telemetry itself).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const CONTROL_TOKEN_FILE = 'control.token';
const PREFIX = 'ctctl_';

export function controlTokenPath(dir: string): string {
  return join(dir, CONTROL_TOKEN_FILE);
}

/** Makes a new token and writes it owner-only and atomically; returns it. */
export function writeControlToken(dir: string): string {
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const final = controlTokenPath(dir);
  const tmp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
  return token;
}

export function readControlToken(dir: string): string {
  return readFileSync(controlTokenPath(dir), 'utf8').trim();
}

/** Removes the file only when it still holds `token` (a newer server's file stays). */
export function removeControlToken(dir: string, token: string): void {
  try {
    if (readControlToken(dir) === token) rmSync(controlTokenPath(dir), { force: true });
  } catch {
    /* already gone */
  }
}

/** True when `authorization` is `Bearer <token>` for exactly this token (constant time). */
export function isControlToken(authorization: string | undefined, token: string | undefined): boolean {
  if (!token || !authorization) return false;
  const m = /^Bearer\s+(ctctl_\S+)$/.exec(authorization.trim());
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function looksLikeControlToken(authorization: string | undefined): boolean {
  return /^Bearer\s+ctctl_/.test(authorization?.trim() ?? '');
}
