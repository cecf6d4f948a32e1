/**
 * Carries telemetry history from one stack to the other (embedded ↔ docker) over the ClickHouse
 * HTTP interface both expose. Only source tables are copied (raw OTLP tables and any table no
 * materialized view writes); the destination's own views rebuild the derived tables from them,
 * so nothing is counted twice. Rows the destination already holds (same whole-row fingerprint:
 * an earlier copy, a round trip) are skipped, so copying again is harmless. Each table ends with
 * a count check.
 *
 * The rows travel in the engine's Native format (exact for every type, the cheapest for both engines
 * to write and parse: BENCHMARKS.md "History copy"), page by page (history-pages.ts: by partition, a
 * large one by ranges of its time column), each page one `SELECT … FORMAT Native` on the source whose
 * response body is streamed as the body of one `INSERT … FORMAT Native` on the destination, never held
 * here; the next page is read and sent while one is inserted (one insert at a time).
 * - Into an empty table (a first switch) nothing needs skipping: the pages go straight into the table,
 *   the extension's focus records first (FOCUS_FIRST_PARTS: each later statement's events then see them),
 *   and the count after the copy checks the result. A copy interrupted here leaves a table that is no
 *   longer empty: the next run takes the path below and skips what arrived.
 * - Into a table holding rows, the pages go into a staging table (`_ct_copy_<table>`, no views read it),
 *   its count is checked, and the destination's engine does the anti-join (`INSERT … SELECT … WHERE
 *   fingerprint NOT IN (…)`), so this process's memory does not grow with the history.
 * A source that fails in the middle of a page (ClickHouse writes the error into the body it is sending)
 * is caught before the end of that body reaches the destination, so the insert fails instead of
 * storing a page cut short, and the error names the old store. Writes carry the destination's writer
 * credential as HTTP basic auth (anonymous requests are read-only); it is never put in a URL or a message.
 */
import { StackError, type ProgressReport, type WriterCredentials } from './types';
import { FOCUS_FIRST_PARTS } from '../core/data/tables';
import { quoteString } from '../server/store/sql-quote';
import { planPages, planParts, type Page } from './history-pages';

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
  /** Rows per page (one insert into the destination) at most. */
  batchRows?: number;
  /**
   * Bytes per page, about (default 64 MiB): pages are sized from the source's uncompressed bytes per row
   * (Native is smaller), below the destination's body limit (512 MiB on a local server's :8123, 8 MiB on a
   * team server).
   */
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

async function sql(base: string, query: string, o: { body?: string | Buffer | ReadableStream<Uint8Array>; signal?: AbortSignal; auth?: WriterCredentials } = {}): Promise<string> {
  const { url, headers } = endpoint(base, o.auth);
  if (o.body !== undefined) url.searchParams.set('query', query);
  let res: Response;
  try {
    // A streamed body (a page on its way from the source) needs half-duplex: the answer comes after it.
    const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers, body: (o.body ?? query) as BodyInit, signal: o.signal };
    if (o.body instanceof ReadableStream) init.duplex = 'half';
    res = await fetch(url, init);
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

/**
 * A fingerprint of every column of a row; both stores share the schema, so equal rows hash equally. Of
 * a tuple: `cityHash64(*)` is NULL for a row with a NULL in any Nullable column, and `NULL NOT IN (…)`
 * would skip that row (found by test/server/history-copy-pages.test.ts).
 */
const FINGERPRINT = 'cityHash64(tuple(*))';

async function count(base: string, table: string, signal?: AbortSignal, auth?: WriterCredentials): Promise<number> {
  return Number((await sql(base, `SELECT count() FROM default.\`${table}\` FORMAT TabSeparated`, { signal, auth })).trim());
}

/** Uncompressed bytes per row of a table (its active parts), to size pages; 1 KiB when it has no parts yet. */
async function bytesPerRow(base: string, table: string, signal?: AbortSignal, auth?: WriterCredentials): Promise<number> {
  const [bytes, rows] = (await sql(base, `SELECT sum(data_uncompressed_bytes), sum(rows) FROM system.parts WHERE active AND database = 'default' AND table = ${quoteString(table)} FORMAT TabSeparated`, { signal, auth }))
    .trim().split('\t').map(Number);
  return rows! > 0 && bytes! > 0 ? bytes! / rows! : 1024;
}

export async function migrateHistory(o: MigrateHistoryOptions): Promise<MigrateHistoryResult> {
  const report = o.onProgress ?? (() => undefined);
  const batchRows = o.batchRows ?? 1_000_000;
  // Each insert into otel_logs costs the destination ~0.1 s of CPU whatever its size (its views), so pages are
  // large; 64 MiB (~110k records, ~45 MB of Native): measured on 1M records, destination RSS peak ~1.0 GiB and
  // ~12 s CPU, against ~0.8 GiB and ~13.5 s at 32 MiB, ~1.6 GiB and ~10 s at 128 MiB (the engine's own
  // INSERT … SELECT of the same rows: ~2.4 GiB, ~8 s). BENCHMARKS.md "History copy".
  const batchBytes = o.batchBytes ?? 64 * 1024 * 1024;
  const src = (q: string) => sql(o.from, q, { signal: o.signal, auth: o.fromAuth });
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
  const copyPages = async (table: string, pages: Page[], insert: string) => {
    await eachPage(pages, async (page, turn) => {
      await transfer(o, table, page.where, insert, turn);
      done += page.rows;
      report({ message: `Copying ${table}…`, percent: Math.min(99, Math.floor((done / Math.max(total, 1)) * 100)) });
    });
  };
  const result: TableCopy[] = [];
  for (const { table, rows } of plan) {
    const before = await count(o.to, table, o.signal, o.toAuth);
    let toCopy = 0;
    if (rows > 0) {
      const pageRows = Math.max(1, Math.min(batchRows, Math.floor(batchBytes / (await bytesPerRow(o.from, table, o.signal, o.fromAuth)))));
      try {
        if (before === 0) {
          // An empty table holds nothing to skip: straight in, one statement per page. Focus records first
          // (0010): a statement's events are attributed to the focus records stored before it.
          for (const pages of await planParts(src, table, FOCUS_FIRST_PARTS[table] ?? [], pageRows)) {
            await copyPages(table, pages, `INSERT INTO default.\`${table}\` FORMAT Native`);
          }
          toCopy = rows;
        } else {
          toCopy = await copyViaStaging(o, table, rows, async (staging) => {
            await copyPages(table, await planPages(src, table, '1', pageRows), `INSERT INTO default.\`${staging}\` FORMAT Native`);
          });
        }
      } catch (err) {
        if (o.signal?.aborted) throw cancelled();
        throw err;
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
 * Into a table that already holds rows: the source's rows are staged (`fill`), counted, and only those
 * whose fingerprint the table lacks go in, by the destination's engine; returns how many. The staging
 * table is dropped in the end, also after a failure.
 */
async function copyViaStaging(o: MigrateHistoryOptions, table: string, rows: number, fill: (staging: string) => Promise<void>): Promise<number> {
  const dst = (q: string) => sql(o.to, q, { signal: o.signal, auth: o.toAuth });
  const staging = `${STAGING_PREFIX}${table}`;
  // Same columns as the table, a plain engine without TTL or views: the rows wait here for the anti-join.
  await dst(`DROP TABLE IF EXISTS default.\`${staging}\``);
  await dst(`CREATE TABLE default.\`${staging}\` AS default.\`${table}\` ENGINE = MergeTree PRIMARY KEY tuple() ORDER BY tuple()`);
  try {
    await fill(staging);
    const staged = await count(o.to, staging, o.signal, o.toAuth);
    if (staged !== rows) {
      throw new StackError('engine-failed', `Copying ${table} is incomplete: the old store holds ${rows} rows, ${staged} arrived.`, 'Nothing was deleted from the old store; run the switch again or keep the old mode.');
    }
    const fresh = `FROM default.\`${staging}\` WHERE ${FINGERPRINT} NOT IN (SELECT ${FINGERPRINT} FROM default.\`${table}\`)`;
    const toCopy = Number((await dst(`SELECT count() ${fresh} FORMAT TabSeparated`)).trim());
    // One statement per part (most tables: one). A statement's later blocks do not see what its
    // earlier blocks' views stored until it ends, so otel_logs copies the extension's focus records
    // first: the events after them are then attributed to their chapters as they arrive (0010).
    // Blocks of 64k rows: by default the engine gathers ~1M rows into one block before its views run
    // (measured: a 1M-record copy took the destination to ~2.5 GiB RSS).
    if (toCopy > 0) for (const part of FOCUS_FIRST_PARTS[table] ?? ['']) await dst(`INSERT INTO default.\`${table}\` SELECT * ${fresh}${part} ${INSERT_BLOCKS}`);
    return toCopy;
  } finally {
    // Best effort (the store may be gone); a leftover is recognised by its prefix and replaced next time.
    await sql(o.to, `DROP TABLE IF EXISTS default.\`${staging}\``, { auth: o.toAuth }).catch(() => undefined);
  }
}

/**
 * Runs `fn` on every page in order, two at a time: the next page is read from the source and sent while
 * the one before is being inserted, but its insert starts only once that one ended (`turn`: resolves
 * when the page before was stored, rejects when it failed), so the destination's engine holds one
 * page's insert at a time. After a failure no new page starts; the first failure is raised once the
 * other page has settled too.
 */
async function eachPage(pages: readonly Page[], fn: (p: Page, turn: Promise<void>) => Promise<void>): Promise<void> {
  let previous: Promise<void> = Promise.resolve();
  const inflight: Promise<void>[] = [];
  try {
    for (const page of pages) {
      const mine = fn(page, previous);
      mine.catch(() => undefined);
      previous = mine;
      inflight.push(mine);
      if (inflight.length >= 2) await inflight.shift();
    }
    await Promise.all(inflight);
  } catch (err) {
    await Promise.allSettled(inflight);
    throw err;
  }
}

/**
 * One page: the source's `SELECT … FORMAT Native` answer streamed, as it arrives, into the destination's
 * `insert`, its last bytes only once `turn` resolved. The source's error inside its body is caught
 * (sourceWatch) and raised as the source's.
 */
async function transfer(o: MigrateHistoryOptions, table: string, where: string, insert: string, turn: Promise<void>): Promise<void> {
  const { url, headers } = endpoint(o.from, o.fromAuth);
  const res = await fetch(url, { method: 'POST', headers, body: `SELECT * FROM default.\`${table}\` WHERE ${where} FORMAT Native`, signal: o.signal }).catch((err: Error) => {
    if (o.signal?.aborted) throw cancelled();
    throw new StackError('engine-failed', `The old store at ${url.origin} cannot be reached.`, 'Make sure it is running, then try again.', err.message);
  });
  if (res.status !== 200 || !res.body) throw new StackError('engine-failed', `The old store could not export ${table}: ${(await res.text()).trim().slice(0, 200)}`, 'Try again; if it keeps failing, see the log.');
  const watch = sourceWatch(res.body, res.headers.get('x-clickhouse-exception-tag'), table, url.origin, turn);
  try {
    await sql(o.to, insert, { body: watch.body, signal: o.signal, auth: o.toAuth });
  } catch (err) {
    if (o.signal?.aborted) throw cancelled();
    throw watch.failure() ?? err;
  }
}

/**
 * How long a page's last bytes wait for the page before to be stored: a server waiting for the rest of
 * a body gives up after a while (ClickHouse's http_receive_timeout: 30 s), and two inserts at once are
 * only more memory, never wrong.
 */
const TURN_WAIT_MS = 10_000;

async function waitTurn(turn: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([turn, new Promise<void>((resolve) => (timer = setTimeout(resolve, TURN_WAIT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Bytes of a source answer held back until its end: ClickHouse's in-body error ends within them. */
const HOLD = 16 * 1024;

/**
 * The source's body as it arrives, except its last `HOLD` bytes, which are passed on only once the body
 * ended without an error (and it is the page's turn): a ClickHouse server that fails after the status line writes the error at the
 * end of the body, between markers named by `X-ClickHouse-Exception-Tag`. A failed or cut-off source
 * errors the stream, so the destination's request is aborted before the page's end reaches it.
 */
function sourceWatch(source: ReadableStream<Uint8Array>, tag: string | null, table: string, origin: string, turn: Promise<void>): { body: ReadableStream<Uint8Array>; failure(): StackError | undefined } {
  const reader = source.getReader();
  let tail: Buffer = Buffer.alloc(0);
  let failure: StackError | undefined;
  const fail = (detail: string) => (failure = new StackError('engine-failed', `The old store at ${origin} failed while sending ${table}: ${detail.trim().slice(0, 300)}`, 'Nothing was deleted from the old store; rows that arrived are recognised next time. Try the switch again; if it keeps failing, see the old stack\'s log.'));
  const body = new ReadableStream<Uint8Array>({
    // Reads until something can be passed on: a pull that enqueues nothing is not called again.
    async pull(c) {
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (err) {
          c.error(fail(`the connection broke (${(err as Error).message})`));
          return;
        }
        if (r.done) {
          const message = tag ? inBodyError(tail, tag) : undefined;
          if (message !== undefined) {
            c.error(fail(message));
            return;
          }
          try {
            await waitTurn(turn);
          } catch {
            // The page before failed: this one stops too (that failure is the one reported).
            c.error(new StackError('engine-failed', `Copying ${table} stopped.`, 'Try the switch again.'));
            return;
          }
          if (tail.length > 0) c.enqueue(tail);
          c.close();
          return;
        }
        const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        if (chunk.length >= HOLD) {
          if (tail.length > 0) c.enqueue(tail);
          c.enqueue(chunk.subarray(0, chunk.length - HOLD));
          tail = chunk.subarray(chunk.length - HOLD);
          return;
        }
        const all = Buffer.concat([tail, chunk]);
        const cut = Math.max(0, all.length - HOLD);
        tail = all.subarray(cut);
        if (cut > 0) {
          c.enqueue(all.subarray(0, cut));
          return;
        }
      }
    },
    cancel(reason) {
      void reader.cancel(reason).catch(() => undefined);
    },
  });
  return { body, failure: () => failure };
}

/** The error message a body ends with (`…__exception__\r\n<tag>\r\n<message><length> <tag>\r\n__exception__\r\n`), if it does. */
export function inBodyError(tail: Buffer, tag: string): string | undefined {
  const end = Buffer.from(` ${tag}\r\n__exception__\r\n`);
  if (tail.length < end.length || !tail.subarray(tail.length - end.length).equals(end)) return undefined;
  const text = tail.subarray(0, tail.length - end.length).toString('utf8');
  const start = text.lastIndexOf(`__exception__\r\n${tag}\r\n`);
  const message = start >= 0 ? text.slice(start + `__exception__\r\n${tag}\r\n`.length) : text.slice(-300);
  // The message is followed by its own length in bytes (digits the message may end with as well).
  const digits = /\d+$/.exec(message)?.[0] ?? '';
  for (let n = 1; n <= digits.length; n++) {
    const text = message.slice(0, message.length - n);
    if (Buffer.byteLength(text) === Number(message.slice(message.length - n))) return text;
  }
  return message;
}
