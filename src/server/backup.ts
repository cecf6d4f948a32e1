/**
 * Backup and restore of a server's data directory with the engine's own BACKUP / RESTORE
 * (`npm run team -- backup|restore`): one `.tar` file holding every table of `default` — raw
 * tables, the tables materialized views write to, `schema_migrations` — and the views' definitions.
 *
 * Against a stopped server, by design: chDB opens a data directory in one process only, so the
 * command must hold it (the server's pid file says who does; while this runs, it holds that file, so
 * a server started meanwhile refuses). A stopped server also gives a consistent copy of all tables at
 * one moment without a network endpoint that writes files on the server's disk. Members' exporters
 * retry while it is down (OTLP exporters keep data for minutes); a backup of a small team's data takes
 * seconds.
 *
 * The engine writes `File(...)` backups only under `backups.allowed_path`, given here as a startup
 * argument of the engine for this one process (the server itself allows no backup path). chDB 3.4 has
 * no zip support: `.tar` is the single-file form it writes and reads.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { pidAlive } from './pid';

type ChdbModule = typeof import('chdb');
type Session = InstanceType<ChdbModule['Session']>;

export class BackupError extends Error {}

/** Rows per table (views have none), the figure a backup and its restore must agree on. */
export type TableCounts = Record<string, number>;

const PID_FILE = 'server.pid';

/** Holds the data directory like a server does (its pid file), after checking no server holds it. */
function claim(dataDir: string, what: string): () => void {
  const pidFile = resolve(dataDir, PID_FILE);
  if (existsSync(pidFile)) {
    const other = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(other) && other > 0 && other !== process.pid && pidAlive(other)) {
      throw new BackupError(`a server (pid ${other}) is running on ${dataDir}: stop it first (kill ${other}), then ${what}; start it again afterwards.`);
    }
  }
  writeFileSync(pidFile, String(process.pid));
  return () => rmSync(pidFile, { force: true });
}

function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function open(dataDir: string, allowedPath: string): Session {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const chdb: ChdbModule = require('chdb');
  try {
    return new chdb.Session(dataDir, { connectionArgs: [`--backups.allowed_path=${allowedPath}`] });
  } catch (err) {
    throw new BackupError(`the engine could not open ${dataDir}: ${(err as Error).message}`);
  }
}

async function counts(s: Session): Promise<TableCounts> {
  const out = await s.queryAsync("SELECT name, total_rows FROM system.tables WHERE database = 'default' AND total_rows IS NOT NULL ORDER BY name FORMAT JSONEachRow");
  const result: TableCounts = {};
  for (const line of out.text().split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { name: string; total_rows: string | number };
    result[r.name] = Number(r.total_rows);
  }
  return result;
}

function checkArchiveName(file: string): string {
  const abs = resolve(file);
  if (!abs.endsWith('.tar')) throw new BackupError(`the backup file must end in .tar (the engine's single-file format here), not "${basename(abs)}".`);
  return abs;
}

/** Writes `out` (a new `.tar`) from the data directory of a stopped server; returns the rows per table. */
export async function backupDataDir(dataDir: string, out: string): Promise<TableCounts> {
  const file = checkArchiveName(out);
  if (!existsSync(resolve(dataDir))) throw new BackupError(`${dataDir} does not exist: give the server's --data-dir.`);
  if (existsSync(file)) throw new BackupError(`${file} already exists: choose a new file (a backup never overwrites one).`);
  mkdirSync(dirname(file), { recursive: true });
  const release = claim(dataDir, 'back it up');
  let s: Session | undefined;
  try {
    s = open(dataDir, dirname(file));
    const before = await counts(s);
    if (!('schema_migrations' in before)) throw new BackupError(`${dataDir} holds no Chapter Telemetry data (no schema_migrations table).`);
    await s.queryAsync(`BACKUP DATABASE default TO File(${sqlString(file)})`);
    // It holds every member's records (prompts too, under the `all` policy): the owner's only, like the data dir.
    chmodSync(file, 0o600);
    return before;
  } catch (err) {
    rmSync(file, { force: true });
    throw err instanceof BackupError ? err : new BackupError(`backup failed: ${(err as Error).message}`);
  } finally {
    s?.close();
    rmSync(`${file}.lock`, { force: true });
    release();
  }
}

/**
 * Restores `file` into the data directory of a stopped server (made when missing). A directory with
 * rows in any table is refused unless `replace` (then every table and view of `default` is dropped
 * first); tables without rows (a server that started once) are dropped and restored from the backup.
 * The server's next start applies migrations newer than the backup.
 */
export async function restoreDataDir(dataDir: string, backupFile: string, opts: { replace?: boolean } = {}): Promise<TableCounts> {
  const file = checkArchiveName(backupFile);
  if (!existsSync(file)) throw new BackupError(`${file} does not exist.`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const release = claim(dataDir, 'restore');
  let s: Session | undefined;
  try {
    s = open(dataDir, dirname(file));
    const present = await counts(s);
    const withRows = Object.entries(present).filter(([, n]) => n > 0);
    if (withRows.length > 0 && !opts.replace) {
      throw new BackupError(`${dataDir} is not empty (${withRows.map(([t, n]) => `${t}: ${n} rows`).join(', ')}): restore into a new directory, or add --replace to drop what it holds first.`);
    }
    // Views first: a materialized view must not outlive the table it writes to.
    const tables = (await s.queryAsync("SELECT name FROM system.tables WHERE database = 'default' ORDER BY engine = 'MaterializedView' DESC, name FORMAT TabSeparated")).text().split('\n').filter(Boolean);
    for (const t of tables) await s.queryAsync(`DROP TABLE default.\`${t.replace(/`/g, '``')}\` SYNC`);
    await s.queryAsync(`RESTORE DATABASE default FROM File(${sqlString(file)})`);
    return await counts(s);
  } catch (err) {
    throw err instanceof BackupError ? err : new BackupError(`restore failed: ${(err as Error).message}`);
  } finally {
    s?.close();
    rmSync(`${file}.lock`, { force: true });
    release();
  }
}
