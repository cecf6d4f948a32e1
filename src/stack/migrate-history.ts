/**
 * Carries telemetry history from one stack to the other (embedded ↔ docker) over the ClickHouse
 * HTTP interface both expose. Only source tables are copied (raw OTLP tables and any table no
 * materialized view writes); the destination's own views rebuild the derived tables from them,
 * so nothing is counted twice. Rows the destination already holds (same whole-row fingerprint:
 * an earlier copy, a round trip) are skipped, so copying again is harmless. Each table ends with
 * a count check.
 *
 * The rows are streamed into a staging table on the destination (`_ct_copy_<table>`, no views
 * read it), and the destination's engine does the anti-join (`INSERT … SELECT … WHERE fingerprint
 * NOT IN (…)`), so this process's memory does not grow with the history. When the destination's table
 * is empty (a first switch) there is nothing to skip and the staged rows go in without the anti-join.
 *
 * Speed (issue 12, BENCHMARKS.md "History copy"): the rows travel as TabSeparatedWithNames, which both
 * engines write and parse several times faster than JSONEachRow (measured on 40k records: export
 * 0.19 s vs 0.93 s, staging insert 0.80 s vs 1.85 s), is exact for any bytes (escapes, not UTF-8
 * text), and names its columns so the staging insert maps them by name. The stream is cut at row ends
 * into pieces of `batchRows` rows (at most `batchBytes`), each sent with the header line, without
 * splitting it into strings; the next piece is read while the previous one is inserted. Writes carry the
 * destination's writer credential as HTTP basic auth (anonymous requests are read-only); it is
 * never put in a URL or a message.
 */
import { StackError, type ProgressReport, type WriterCredentials } from './types';
import { FOCUS_FIRST_PARTS } from '../core/data/tables';

export interface MigrateHistoryOptions {
  /** ClickHouse HTTP base URLs, e.g. http://127.0.0.1:8123 (user:password@ in the URL still works, sent as a header). */
  from: string;
  to: string;
  /** The source's credential (reading needs none on a local stack; sent when given). */
  fromAuth?: WriterCredentials;
  /** The destination's writer credential: the staging table, the inserts and the anti-join need it. */
  toAuth?: WriterCredentials;
  onProgress?: (p: ProgressReport) => void;
  signal?: AbortSignal;
  /** Rows per insert into the destination. */
  batchRows?: number;
  /** Bytes per insert at most (below the destination's body limit, 32 MiB on a local server). */
  batchBytes?: number;
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

// The forwarder's progress belongs to one store's block numbers, and a team's ledger to that team server:
// neither is history (0008_forwarding.sql).
const SKIP = new Set(['schema_migrations', 'forward_state', 'forward_received']);
/** Staging tables of a copy in progress (or one interrupted by a crash): never history themselves. */
const STAGING_PREFIX = '_ct_copy_';

/** The base URL without credentials, and the headers that carry them (basic auth; never the URL). */
function endpoint(base: string, auth?: WriterCredentials): { url: URL; headers: Record<string, string> } {
  const url = new URL(base);
  const user = auth?.user ?? decodeURIComponent(url.username);
  const password = auth?.password ?? decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const headers: Record<string, string> = {};
  if (user) headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return { url, headers };
}

async function sql(base: string, query: string, o: { body?: string | Buffer; signal?: AbortSignal; auth?: WriterCredentials } = {}): Promise<string> {
  const { url, headers } = endpoint(base, o.auth);
  if (o.body !== undefined) url.searchParams.set('query', query);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: (o.body ?? query) as BodyInit, signal: o.signal });
  } catch (err) {
    if (o.signal?.aborted) throw cancelled();
    throw new StackError('engine-failed', `The telemetry store at ${url.origin} cannot be reached.`, 'Make sure both stacks are running, then try the switch again.', String((err as Error).message));
  }
  const text = await res.text();
  if (res.status === 401 || (res.status === 403 && /\b(516|164)\b/.test(text))) {
    throw new StackError('engine-failed', `The telemetry store at ${url.origin} refused the history copy's credentials (${text.trim().slice(0, 120)}).`, 'Start that stack once with this version so it has its writer credential, then try the switch again.', query);
  }
  if (res.status !== 200) throw new StackError('engine-failed', `The telemetry store at ${url.origin} refused a statement: ${text.trim().slice(0, 200)}`, 'Check that both stores have the current schema (start each stack once), then try again.', query);
  return text;
}

function cancelled(): StackError {
  return new StackError('cancelled', 'Copying the history was cancelled.', 'Rows copied so far stay in the new store; run the switch again to copy the rest (rows already there are recognised and skipped).');
}

/** Tables holding original data: MergeTree tables in `default` that no materialized view fills. */
export async function sourceTables(base: string, signal?: AbortSignal, auth?: WriterCredentials): Promise<string[]> {
  const rows = (await sql(base, "SELECT name, engine, create_table_query FROM system.tables WHERE database = 'default' FORMAT JSONEachRow", { signal, auth }))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { name: string; engine: string; create_table_query: string });
  const filled = new Set<string>();
  for (const r of rows) {
    if (r.engine !== 'MaterializedView') continue;
    const m = /\bTO\s+(?:`?default`?\.)?`?(\w+)`?/i.exec(r.create_table_query);
    if (m) filled.add(m[1]!);
  }
  return rows
    .filter((r) => r.engine.endsWith('MergeTree') && !filled.has(r.name) && !SKIP.has(r.name) && !r.name.startsWith(STAGING_PREFIX))
    .map((r) => r.name)
    .sort();
}

const INSERT_BLOCKS = 'SETTINGS max_block_size = 65536, min_insert_block_size_rows = 65536, min_insert_block_size_bytes = 16777216';

/** A fingerprint of every column of a row; both stores share the schema, so equal rows hash equally. */
const FINGERPRINT = 'cityHash64(*)';

async function count(base: string, table: string, signal?: AbortSignal, auth?: WriterCredentials): Promise<number> {
  return Number((await sql(base, `SELECT count() FROM default.\`${table}\` FORMAT TabSeparated`, { signal, auth })).trim());
}

export async function migrateHistory(o: MigrateHistoryOptions): Promise<MigrateHistoryResult> {
  const report = o.onProgress ?? (() => undefined);
  const batchRows = o.batchRows ?? 100_000;
  const batchBytes = o.batchBytes ?? 16 * 1024 * 1024;
  const dst = (q: string, x: { body?: string | Buffer } = {}) => sql(o.to, q, { ...x, signal: o.signal, auth: o.toAuth });
  report({ message: 'Looking at the history to copy…', percent: 0 });
  const tables = await sourceTables(o.from, o.signal, o.fromAuth);
  const destTables = new Set(await sourceTables(o.to, o.signal, o.toAuth));
  const missing = tables.filter((t) => !destTables.has(t));
  if (missing.length > 0) {
    throw new StackError('engine-failed', `The new store has no table ${missing.join(', ')}.`, 'Start the new stack once so it applies the current schema, then try again.');
  }
  const plan = await Promise.all(tables.map(async (t) => ({ table: t, rows: await count(o.from, t, o.signal, o.fromAuth) })));
  const total = plan.reduce((n, p) => n + p.rows, 0);
  let done = 0;
  const result: TableCopy[] = [];
  for (const { table, rows } of plan) {
    const before = await count(o.to, table, o.signal, o.toAuth);
    let toCopy = 0;
    if (rows > 0) {
      const staging = `${STAGING_PREFIX}${table}`;
      // Same columns as the table, a plain engine without TTL or views: the rows wait here for the anti-join.
      await dst(`DROP TABLE IF EXISTS default.\`${staging}\``);
      await dst(`CREATE TABLE default.\`${staging}\` AS default.\`${table}\` ENGINE = MergeTree PRIMARY KEY tuple() ORDER BY tuple()`);
      try {
        await stream(o, table, batchRows, batchBytes, async (body, n) => {
          await dst(`INSERT INTO default.\`${staging}\` FORMAT TabSeparatedWithNames`, { body });
          done += n;
          report({ message: `Copying ${table}…`, percent: Math.min(99, Math.floor((done / Math.max(total, 1)) * 100)) });
        });
        const staged = await count(o.to, staging, o.signal, o.toAuth);
        if (staged !== rows) {
          throw new StackError('engine-failed', `Copying ${table} is incomplete: the old store holds ${rows} rows, ${staged} arrived.`, 'Nothing was deleted from the old store; run the switch again or keep the old mode.');
        }
        // An empty table holds nothing to skip (and the count after the insert still checks the result).
        const fresh = before === 0
          ? `FROM default.\`${staging}\` WHERE 1`
          : `FROM default.\`${staging}\` WHERE ${FINGERPRINT} NOT IN (SELECT ${FINGERPRINT} FROM default.\`${table}\`)`;
        toCopy = before === 0 ? staged : Number((await dst(`SELECT count() ${fresh} FORMAT TabSeparated`)).trim());
        // One statement per part (most tables: one). A statement's later blocks do not see what its
        // earlier blocks' views stored until it ends, so otel_logs copies the extension's focus records
        // first: the events after them are then attributed to their chapters as they arrive (0010).
        // Blocks of 64k rows: by default the engine gathers ~1M rows into one block before its views run
        // (measured: a 1M-record copy took the destination to ~2.5 GiB RSS).
        if (toCopy > 0) for (const part of FOCUS_FIRST_PARTS[table] ?? ['']) await dst(`INSERT INTO default.\`${table}\` SELECT * ${fresh}${part} ${INSERT_BLOCKS}`);
      } catch (err) {
        if (o.signal?.aborted) throw cancelled();
        throw err;
      } finally {
        // Best effort (the store may be gone); a leftover is recognised by its prefix and replaced next time.
        await sql(o.to, `DROP TABLE IF EXISTS default.\`${staging}\``, { auth: o.toAuth }).catch(() => undefined);
      }
    }
    const after = await count(o.to, table, o.signal, o.toAuth);
    const copied = after - before;
    if (copied !== toCopy) {
      throw new StackError('engine-failed', `Copying ${table} is incomplete: ${toCopy} rows to copy from the old store, ${copied} arrived in the new one.`, 'Nothing was deleted from the old store; run the switch again or keep the old mode.', `before=${before} after=${after} skipped=${rows - toCopy}`);
    }
    result.push({ table, sourceRows: rows, copiedRows: copied, alreadyPresent: rows - toCopy });
  }
  const copiedTotal = result.reduce((n, t) => n + t.copiedRows, 0);
  report({ message: `Copied ${copiedTotal} rows (${total - copiedTotal} already there); counts match.`, percent: 100 });
  return { tables: result, totalRows: total };
}

/**
 * Streams a source table as TabSeparatedWithNames and hands it on in pieces of whole rows (`batchRows`
 * rows, at most `batchBytes` bytes), each starting with the header line. One piece is inserted while
 * the next is read. Rows are counted by their line ends: TSV escapes a newline inside a value.
 */
async function stream(o: MigrateHistoryOptions, table: string, batchRows: number, batchBytes: number, flush: (body: Buffer, rows: number) => Promise<void>): Promise<void> {
  const { url, headers } = endpoint(o.from, o.fromAuth);
  const res = await fetch(url, { method: 'POST', headers, body: `SELECT * FROM default.\`${table}\` FORMAT TabSeparatedWithNames`, signal: o.signal }).catch((err: Error) => {
    if (o.signal?.aborted) throw cancelled();
    throw new StackError('engine-failed', `The old store at ${url.origin} cannot be reached.`, 'Make sure it is running, then try again.', err.message);
  });
  if (res.status !== 200 || !res.body) throw new StackError('engine-failed', `The old store could not export ${table}: ${(await res.text()).slice(0, 200)}`, 'Try again; if it keeps failing, see the log.');
  let header: Buffer | undefined;
  let parts: Buffer[] = [];
  let bytes = 0;
  let rows = 0;
  // The insert in flight; its failure is raised at the next hand-over (or at the end).
  let inflight: Promise<void> = Promise.resolve();
  const handOver = async (upTo: Buffer) => {
    parts.push(upTo);
    const body = Buffer.concat([header!, ...parts]);
    const n = rows;
    parts = [];
    bytes = 0;
    rows = 0;
    await inflight;
    inflight = flush(body, n);
    // Kept from becoming an unhandled rejection while the next piece is read; awaited below.
    inflight.catch(() => undefined);
  };
  for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
    let chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (!header) {
      parts.push(chunk);
      const all = Buffer.concat(parts);
      const end = all.indexOf(10);
      if (end < 0) continue;
      header = all.subarray(0, end + 1);
      parts = [];
      chunk = all.subarray(end + 1);
    }
    let start = 0;
    let at = chunk.indexOf(10, start);
    while (at >= 0) {
      rows++;
      if (rows >= batchRows || bytes + (at + 1 - start) >= batchBytes) {
        await handOver(chunk.subarray(start, at + 1));
        start = at + 1;
        // The piece itself stays as it came; only its unsent rest is carried on.
      }
      at = chunk.indexOf(10, at + 1);
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      parts.push(rest);
      bytes += rest.length;
    }
  }
  if (parts.length > 0) {
    const tail = Buffer.concat(parts);
    parts = [];
    // A last row without its line end (the engine always ends one; kept as a row all the same).
    if (tail.length > 0 && tail[tail.length - 1] !== 10) rows++;
    if (tail.length > 0) await handOver(tail[tail.length - 1] === 10 ? tail : Buffer.concat([tail, Buffer.from('\n')]));
  }
  await inflight;
}
