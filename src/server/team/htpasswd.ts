/**
 * Members' lines in an htpasswd file, for the central overlay's collector (its `basicauth`
 * extension checks OTLP requests against it; telemetry-server/central/README.md). The password is
 * the member's secret, so one bundle works with the team server and with the overlay alike.
 *
 * The line is bcrypt, what basicauth's htpasswd reader expects, made by Apache's `htpasswd` (Debian:
 * apache2-utils) with the secret on its standard input (`-i`), never on its command line where any
 * process listing would show it. The file is rewritten whole (0600, temporary file + rename), with
 * the member's old line replaced, so `rotate` leaves one line per member.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { MEMBER_NAME_RE } from '../../core/team-bundle';
import { TeamFileError, writeFileAtomic } from './members';

/** bcrypt cost: 2^10 rounds, tens of ms per check on the collector (it caches nothing). */
const BCRYPT_COST = 10;

export function bcryptLine(member: string, secret: string, htpasswdBin = 'htpasswd'): Promise<string> {
  if (!MEMBER_NAME_RE.test(member)) return Promise.reject(new TeamFileError(`"${member}" is not a member name`));
  return new Promise((resolve, reject) => {
    const p = spawn(htpasswdBin, ['-n', '-i', '-B', '-C', String(BCRYPT_COST), member], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    p.on('error', (e: NodeJS.ErrnoException) => reject(new TeamFileError(e.code === 'ENOENT'
      ? `--htpasswd needs Apache's htpasswd program for bcrypt lines (Debian/Ubuntu: apt-get install apache2-utils).`
      : `htpasswd could not run: ${e.message}`)));
    p.on('close', (code) => {
      const line = out.split('\n')[0]!.trim();
      if (code !== 0 || !line.startsWith(`${member}:$2`)) return reject(new TeamFileError(`htpasswd failed (exit ${code}): ${err.trim()}`));
      resolve(line);
    });
    p.stdin.end(secret);
  });
}

function readLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
}

/** Puts the member's line into the file (replacing theirs, if any). */
export async function writeHtpasswdMember(file: string, member: string, secret: string): Promise<void> {
  const line = await bcryptLine(member, secret);
  const kept = readLines(file).filter((l) => !l.startsWith(`${member}:`));
  writeFileAtomic(file, [...kept, line].join('\n') + '\n');
}

/** Removes the member's line; returns whether there was one. */
export function removeHtpasswdMember(file: string, member: string): boolean {
  const lines = readLines(file);
  const kept = lines.filter((l) => !l.startsWith(`${member}:`));
  if (kept.length === lines.length) return false;
  writeFileAtomic(file, kept.length ? kept.join('\n') + '\n' : '');
  return true;
}
