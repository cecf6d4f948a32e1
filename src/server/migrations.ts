/**
 * Applies the numbered SQL migrations of `telemetry-server/clickhouse/migrations/` to a Store.
 * The same files initialise the official ClickHouse image (docker-entrypoint-initdb.d), so each
 * file is plain multi-statement SQL and safe to re-run; this runner additionally records applied
 * files in `schema_migrations` so a start-up skips them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Store } from './store/types';

const FILE_PATTERN = /^\d{4}_[A-Za-z0-9_-]+\.sql$/;

/** Where the migrations live, from `src/server/` (tsx) and from the bundled `dist/server.js`. */
export function migrationsDir(): string {
  const candidates = [
    path.join(__dirname, '..', 'telemetry-server', 'clickhouse', 'migrations'),
    path.join(__dirname, '..', '..', 'telemetry-server', 'clickhouse', 'migrations'),
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

/**
 * Splits SQL text into statements at `;` outside string literals, quoted identifiers and
 * comments. Returns the statements without the trailing `;`, skipping ones that hold only
 * comments or whitespace.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(sql, i, c);
    } else if (c === ';') {
      out.push(sql.slice(start, i));
      start = i + 1;
      i++;
    } else {
      i++;
    }
  }
  out.push(sql.slice(start));
  return out.map((s) => s.trim()).filter((s) => hasCode(s));
}

/** Index just past the quoted token starting at `open` (backslash escapes and doubled quotes). */
function skipQuoted(sql: string, open: number, quote: string): number {
  let i = open + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** True when the text has something besides comments and whitespace. */
function hasCode(stmt: string): boolean {
  const stripped = stmt.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  return stripped.trim().length > 0;
}

/** Migration file names in `dir`, in order. */
export function listMigrations(dir: string): string[] {
  if (!existsSync(dir)) {
    throw new Error(`Schema migrations folder not found: ${dir}. Reinstall or rebuild Chapter Telemetry (npm run build).`);
  }
  return readdirSync(dir).filter((f) => FILE_PATTERN.test(f)).sort();
}

/**
 * Runs every migration file not yet recorded in `schema_migrations`, records it, and returns
 * the names newly applied. On failure throws an Error naming the file and the statement; the
 * failed file stays unrecorded so the next start retries it (every statement is idempotent).
 */
export async function applyMigrations(store: Pick<Store, 'query'>, dir: string): Promise<string[]> {
  const files = listMigrations(dir);
  await store.query(
    'CREATE TABLE IF NOT EXISTS default.schema_migrations (version String, applied_at DateTime) ENGINE = MergeTree ORDER BY version',
  );
  const recorded = (await store.query('SELECT version FROM default.schema_migrations FORMAT TabSeparated'))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const done = new Set(recorded);
  const applied: string[] = [];
  for (const file of files) {
    if (done.has(file)) continue;
    const statements = splitStatements(readFileSync(path.join(dir, file), 'utf8'));
    for (const [index, stmt] of statements.entries()) {
      try {
        await store.query(stmt);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        const head = stmt.replace(/\s+/g, ' ').slice(0, 160);
        throw new Error(
          `Schema migration ${file} failed at statement ${index + 1} of ${statements.length} (${head}): ${reason}`,
        );
      }
    }
    // The name matched FILE_PATTERN, so it is safe inside a quoted literal.
    await store.query(`INSERT INTO default.schema_migrations (version, applied_at) VALUES ('${file}', now())`);
    applied.push(file);
  }
  return applied;
}
