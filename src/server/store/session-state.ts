/**
 * Keeping a client's session (`session_id`, named-sessions.ts) as the client left it: a request's URL
 * settings and `database` apply to that request only, and a failed statement must leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import type { QueryOptions } from './types';
import type { PooledSession } from './session-pool';
import { quoteIdent, quoteString } from './sql-quote';

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function text(u: Uint8Array, encoding: BufferEncoding = 'utf8'): string {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString(encoding);
}

/** The statements that put the session's database and the settings this request touches back afterwards. */
export async function saveState(s: PooledSession, options: QueryOptions): Promise<string[]> {
  const restore: string[] = [];
  if (options.database) {
    const db = text((await s.queryAsync('SELECT currentDatabase()', { format: 'RawBLOB' })).bytes());
    restore.push(`USE ${quoteIdent(db)}`);
  }
  const names = Object.keys(options.settings ?? {}).filter((k) => SETTING_NAME.test(k));
  if (names.length > 0) {
    const res = await s.queryAsync(`SELECT name, value FROM system.settings WHERE name IN (${names.map(quoteString).join(', ')})`, { format: 'JSONCompactEachRow' });
    const rows = text(res.bytes()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as [string, string]);
    if (rows.length > 0) restore.push(`SET ${rows.map(([k, v]) => `${k} = ${quoteString(v)}`).join(', ')}`);
  }
  return restore;
}

/**
 * After a failed or cancelled statement on a client's session (which must survive it, with its
 * temporary tables): the engine can hand a failed statement's leftover rows to the next answer on the
 * same session (measured on chDB 26.7 for a failed non-streamed query), so a marker query takes them,
 * and the session is kept only once a marker comes back alone. False: it cannot be trusted; end it.
 */
export async function settle(s: PooledSession): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const marker = randomBytes(8).toString('hex');
    try {
      if (text((await s.queryAsync(`SELECT '${marker}'`, { format: 'RawBLOB' })).bytes(), 'latin1') === marker) return true;
    } catch {
      return false;
    }
  }
  return false;
}
