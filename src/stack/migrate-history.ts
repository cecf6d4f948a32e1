/**
 * Carries telemetry history from one stack to the other (embedded ↔ docker) over the ClickHouse
 * HTTP interface both expose. Only source tables are copied (raw OTLP tables and any table no
 * materialized view writes); the destination's own views rebuild the derived tables from them,
 * so nothing is counted twice. Rows the destination already holds (same whole-row fingerprint:
 * an earlier copy, a round trip) are skipped, so copying again is harmless. Each table ends with
 * a count check.
 */
import { StackError, type ProgressReport } from './types';

export interface MigrateHistoryOptions {
  /** ClickHouse HTTP base URLs, e.g. http://127.0.0.1:8123 (credentials as user:password@ if needed). */
  from: string;
  to: string;
  onProgress?: (p: ProgressReport) => void;
  signal?: AbortSignal;
  /** Rows per insert into the destination. */
  batchRows?: number;
}

export interface TableCopy {
  table: string;
  sourceRows: number;
  copiedRows: number;
  /** Source rows the destination already held (skipped). */
  alreadyPresent: number;
}

export interface MigrateHistoryResult {
  tables: TableCopy[];
  totalRows: number;
}

const SKIP = new Set(['schema_migrations']);

async function sql(base: string, query: string, body?: string, signal?: AbortSignal): Promise<string> {
  const url = new URL(base);
  const headers: Record<string, string> = {};
  if (url.username) headers['X-ClickHouse-User'] = decodeURIComponent(url.username);
  if (url.password) headers['X-ClickHouse-Key'] = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  if (body !== undefined) url.searchParams.set('query', query);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: body ?? query, signal });
  } catch (err) {
    if (signal?.aborted) throw cancelled();
    throw new StackError('engine-failed', `The telemetry store at ${url.origin} cannot be reached.`, 'Make sure both stacks are running, then try the switch again.', String((err as Error).message));
  }
  const text = await res.text();
  if (res.status !== 200) throw new StackError('engine-failed', `The telemetry store at ${url.origin} refused a statement: ${text.trim().slice(0, 200)}`, 'Check that both stores have the current schema (start each stack once), then try again.', query);
  return text;
}

function cancelled(): StackError {
  return new StackError('cancelled', 'Copying the history was cancelled.', 'Rows copied so far stay in the new store; run the switch again to copy the rest (rows already there are recognised and skipped).');
}

/** Tables holding original data: MergeTree tables in `default` that no materialized view fills. */
export async function sourceTables(base: string, signal?: AbortSignal): Promise<string[]> {
  const rows = (await sql(base, "SELECT name, engine, create_table_query FROM system.tables WHERE database = 'default' FORMAT JSONEachRow", undefined, signal))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { name: string; engine: string; create_table_query: string });
  const filled = new Set<string>();
  for (const r of rows) {
    if (r.engine !== 'MaterializedView') continue;
    const m = /\bTO\s+(?:`?default`?\.)?`?(\w+)`?/i.exec(r.create_table_query);
    if (m) filled.add(m[1]!);
  }
  return rows.filter((r) => r.engine.endsWith('MergeTree') && !filled.has(r.name) && !SKIP.has(r.name)).map((r) => r.name).sort();
}

/** A fingerprint of every column of a row; both stores share the schema, so equal rows hash equally. */
const FINGERPRINT = 'toString(cityHash64(*))';

/** The fingerprints of the rows a table holds (empty when it holds none). */
async function fingerprints(base: string, table: string, rows: number, signal?: AbortSignal): Promise<Set<string>> {
  if (rows === 0) return new Set();
  const text = await sql(base, `SELECT ${FINGERPRINT} FROM default.\`${table}\` FORMAT TabSeparated`, undefined, signal);
  return new Set(text.split('\n').filter(Boolean));
}

/** Splits a `{"__h":"<fingerprint>",…}` line into the fingerprint and the row without it. */
function splitFingerprint(line: string): { hash: string; row: string } {
  const end = line.indexOf('"', 8);
  return { hash: line.slice(8, end), row: `{${line.slice(end + 2)}` };
}

async function count(base: string, table: string, signal?: AbortSignal): Promise<number> {
  return Number((await sql(base, `SELECT count() FROM default.\`${table}\` FORMAT TabSeparated`, undefined, signal)).trim());
}

export async function migrateHistory(o: MigrateHistoryOptions): Promise<MigrateHistoryResult> {
  const report = o.onProgress ?? (() => undefined);
  const batchRows = o.batchRows ?? 20_000;
  report({ message: 'Looking at the history to copy…', percent: 0 });
  const tables = await sourceTables(o.from, o.signal);
  const destTables = new Set(await sourceTables(o.to, o.signal));
  const missing = tables.filter((t) => !destTables.has(t));
  if (missing.length > 0) {
    throw new StackError('engine-failed', `The new store has no table ${missing.join(', ')}.`, 'Start the new stack once so it applies the current schema, then try again.');
  }
  const plan = await Promise.all(tables.map(async (t) => ({ table: t, rows: await count(o.from, t, o.signal) })));
  const total = plan.reduce((n, p) => n + p.rows, 0);
  let done = 0;
  const result: TableCopy[] = [];
  for (const { table, rows } of plan) {
    const before = await count(o.to, table, o.signal);
    const present = await fingerprints(o.to, table, before, o.signal);
    let skipped = 0;
    if (rows > 0) {
      const url = new URL(o.from);
      const headers: Record<string, string> = {};
      if (url.username) headers['X-ClickHouse-User'] = decodeURIComponent(url.username);
      if (url.password) headers['X-ClickHouse-Key'] = decodeURIComponent(url.password);
      url.username = '';
      url.password = '';
      const res = await fetch(url, { method: 'POST', headers, body: `SELECT ${FINGERPRINT} AS __h, * FROM default.\`${table}\` FORMAT JSONEachRow`, signal: o.signal }).catch((err: Error) => {
        if (o.signal?.aborted) throw cancelled();
        throw new StackError('engine-failed', `The old store at ${url.origin} cannot be reached.`, 'Make sure it is running, then try again.', err.message);
      });
      if (res.status !== 200 || !res.body) throw new StackError('engine-failed', `The old store could not export ${table}: ${(await res.text()).slice(0, 200)}`, 'Try again; if it keeps failing, see the log.');
      // Streamed: lines are cut into batches so memory stays flat whatever the history size.
      const decoder = new TextDecoder();
      let pending = '';
      let batch: string[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        await sql(o.to, `INSERT INTO default.\`${table}\` FORMAT JSONEachRow`, batch.join('\n') + '\n', o.signal);
        done += batch.length;
        batch = [];
        report({ message: `Copying ${table}…`, percent: Math.min(99, Math.floor((done / Math.max(total, 1)) * 100)) });
      };
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          pending += decoder.decode(chunk, { stream: true });
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const l of lines) {
            if (!l) continue;
            const { hash, row } = splitFingerprint(l);
            if (present.has(hash)) {
              skipped++;
              done++;
              continue;
            }
            batch.push(row);
            if (batch.length >= batchRows) await flush();
          }
        }
      } catch (err) {
        if (o.signal?.aborted) throw cancelled();
        throw err;
      }
      if (pending.trim()) {
        const { hash, row } = splitFingerprint(pending.trim());
        if (present.has(hash)) skipped++;
        else batch.push(row);
      }
      await flush();
    }
    const after = await count(o.to, table, o.signal);
    const copied = after - before;
    if (copied !== rows - skipped) {
      throw new StackError('engine-failed', `Copying ${table} is incomplete: ${rows - skipped} rows to copy from the old store, ${copied} arrived in the new one.`, 'Nothing was deleted from the old store; run the switch again or keep the old mode.', `before=${before} after=${after} skipped=${skipped}`);
    }
    result.push({ table, sourceRows: rows, copiedRows: copied, alreadyPresent: skipped });
  }
  const copiedTotal = result.reduce((n, t) => n + t.copiedRows, 0);
  report({ message: `Copied ${copiedTotal} rows (${total - copiedTotal} already there); counts match.`, percent: 100 });
  return { tables: result, totalRows: total };
}
