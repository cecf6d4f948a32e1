/**
 * Inserts whose rows chDB cannot take as a raw payload (binary formats such as RowBinary, Native and
 * Parquet, `Values`, column lists like `(* EXCEPT (c))`): the body is written to an owner-only file
 * under `<data dir>/user_files/` and the server runs the client's own statement with
 * `FROM INFILE '<that file>'` added, so the engine reads the rows in the named format, with the
 * statement's column list and SETTINGS, exactly as ClickHouse would from the request body. The
 * statement comes from the engine's normalised parse (already checked by the query guard, which
 * refuses `FROM INFILE` in client SQL); only the server adds the clause, for a file it just wrote.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from './types';
import { quoteString } from './sql-quote';

/** Replaces string literals by same-length filler, so keywords are found outside them only. */
function maskLiterals(sql: string): string {
  return sql.replace(/'(?:[^'\\]|\\[\s\S])*'/g, (m) => `'${'_'.repeat(m.length - 2)}'`);
}

/**
 * `INSERT INTO t (cols) [SETTINGS …] FORMAT F` (the engine's normalised form) with
 * `FROM INFILE '<path>'` placed where ClickHouse's grammar wants it: after the column list, before
 * SETTINGS and FORMAT.
 */
export function withInfile(normalized: string, path: string): string {
  const masked = maskLiterals(normalized);
  let depth = 0;
  let at = -1;
  for (let i = 0; i < masked.length; i++) {
    const ch = masked[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && ch === ' ' && /^ (SETTINGS|FORMAT) /.test(masked.slice(i, i + 10))) {
      at = i;
      break;
    }
  }
  if (!/^INSERT INTO /i.test(masked) || at < 0) {
    throw new StoreError(`Code: 62. DB::Exception: data was sent with a statement that is not INSERT … FORMAT <format>: ${normalized.slice(0, 120)}. (SYNTAX_ERROR)`, 62, false);
  }
  return `${normalized.slice(0, at)} FROM INFILE ${quoteString(path)}${normalized.slice(at)}`;
}

/** Writes `data` to a fresh owner-only file under `<dataDir>/user_files/`, runs `fn(path)`, removes the file. */
export async function withSpooledFile<T>(dataDir: string, data: Buffer, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = join(dataDir, 'user_files');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `http-insert-${randomUUID()}`);
  await writeFile(path, data, { mode: 0o600, flag: 'wx' });
  try {
    return await fn(path);
  } finally {
    await rm(path, { force: true });
  }
}
