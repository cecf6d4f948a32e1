import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError, type Identity, type InsertOptions, type QueryOptions, type QuerySummary, type ReadScope, type Store } from './types';
import { formatClause, splitInsertStatement } from './sql-text';
import { chunkJoin, dropHeaderLines, intoOutfile, pipedText, type ChunkJoin } from './stream-formats';
import { FifoPool, readWhileWriting } from './fifo-result';
import { SessionPool } from './session-pool';
import { NamedSessions } from './named-sessions';
import { ScopedPools } from './scoped-sessions';
import { withInfile, withSpooledFile } from './spooled-insert';
import { saveState, settle } from './session-state';
import { quoteIdent, quoteString } from './sql-quote';
import { engineConfigXml, engineLimits, serverArgs, type EngineLimits } from './engine-limits';
import { dedupSettings } from './dedup-settings';
import { IdlePurge, collectGarbage } from './idle-purge';

type ChdbModule = typeof import('chdb');
type Session = InstanceType<ChdbModule['Session']>;

/** chDB error classes carry `clickhouseCode`; connection errors mean the engine itself is gone. */
function toStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { message?: string; clickhouseCode?: number; name?: string; code?: string };
  const unavailable = e?.name === 'ChdbConnectionError' || e?.code === 'CHDB_CONNECTION' || /closed|not open/i.test(e?.message ?? '');
  return new StoreError(String(e?.message ?? err), e?.clickhouseCode ?? codeFromText(e?.message), unavailable);
}

function codeFromText(text: string | undefined): number | undefined {
  const m = /Code: (\d+)\./.exec(text ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Raw-insert formats chDB accepts as a byte payload (everything else goes through the SQL text). */
const RAW_INSERT_FORMATS = new Set(['JSONEachRow', 'JSONCompactEachRow', 'CSV', 'CSVWithNames', 'TSV', 'TabSeparated', 'TSVWithNames', 'TabSeparatedWithNames']);

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLAIN_COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A borrowed session and how to give it back once the statement is over. */
interface Borrowed {
  s: Session;
  /** `clean`: the statement completed (no error, no cancel). */
  done(clean: boolean): Promise<void>;
}

function summaryOf(res: { rowsRead: number; bytesRead: number; elapsed: number }): QuerySummary {
  // chDB's rowsRead/bytesRead count the result (measured: sum() over 100000 rows reports 1 row, 8 bytes).
  return { result_rows: res.rowsRead, result_bytes: res.bytesRead, elapsed_ns: Math.round(res.elapsed * 1e9) };
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * The real ClickHouse engine, in this process, as several sessions over one data directory:
 * - one session for the receiver's inserts, never shared with a query, so collection does not wait
 *   behind a long analytics query;
 * - a pool of reader sessions that ran `SET readonly = 1` once (the engine refuses to lift it again:
 *   not by `SETTINGS`, `SET` or a second statement), for anonymous ClickHouse HTTP requests;
 * - per team member, reader sessions that first fixed that member's row filters
 *   (`additional_table_filters`, which readonly then also keeps from being changed: scoped-sessions.ts);
 * - a pool of writer sessions for the local writer identity, and one for the server's own statements
 *   (migrations, retention);
 * - a parser session that normalises statements for the query guard (`formatQuerySingleLine`).
 * Every pooled session carries the per-query memory and time limits (`engine-limits.ts`); the
 * process-wide memory bound is given when the engine starts.
 */
export class ChdbStore implements Store {
  readonly description: string;
  private closed = false;
  private readonly readers: SessionPool<Session>;
  private readonly writers: SessionPool<Session>;
  private readonly internal: SessionPool<Session>;
  private readonly parser: SessionPool<Session>;
  private readonly named: NamedSessions<Session>;
  private readonly scoped: ScopedPools<Session>;
  /** Returns the engine's freed pages to the kernel once it is quiet (idle-purge.ts). */
  private readonly idle: IdlePurge;
  /** Named pipes the engine writes file-format and bulk text results into (fifo-result.ts). */
  private readonly fifos: FifoPool;
  /** Statements writing into a pipe now, and the signal that makes their readers drain them (close). */
  private readonly piping = new Set<Promise<unknown>>();
  private readonly closing = new AbortController();

  private constructor(private readonly chdb: ChdbModule, private readonly ingest: Session, readonly dataDir: string, readonly limits: EngineLimits) {
    this.description = `chDB at ${dataDir}`;
    this.fifos = new FifoPool(join(dataDir, 'tmp-results'));
    const open = (settings: string[]) => async () => {
      const s = new chdb.Session(dataDir);
      try {
        for (const stmt of settings) await s.queryAsync(stmt);
      } catch (err) {
        s.close();
        throw toStoreError(err);
      }
      return s;
    };
    // Set here: readers cannot SET. How Parquet is written (streamViaFile), measured at 10M rows (BENCHMARKS.md,
    // "Query endpoint"; the engine's defaults: +440 MiB RSS, a 36 MiB file):
    // - row groups of 64k rows / 16 MiB: the engine holds a whole group in memory before writing it (default up
    //   to 1M rows / 512 MiB);
    // - one encoding thread: parallel encoding keeps a group per thread in flight (+50 MiB);
    // - dictionaries of at most 64 KiB per column chunk: in a 64k-row group a nearly unique column (ids,
    //   timestamps) still fits the default 1 MiB dictionary, and its dictionary indices compress far worse than
    //   its plain values; above 64 KiB the engine writes plain values, as it does in its own large groups, while
    //   models, chapters, sessions and token counts keep their dictionaries;
    // - no bloom filters: they were 37–60% of the file (1M archived events: 2.96 MiB with, 1.89 without) and a
    //   third of the encoding CPU, and help only a reader that looks rows up by exact value. Every reader
    //   reads the file the same without them.
    // Together: +51 MiB, a 14 MiB file, half the engine's CPU (the archive at 1M events: 2.64 MiB, engine 2.96).
    // do_not_merge_across_partitions_select_final: FINAL (events_chapters, the chapter figures) merges each
    // partition on its own, so the partitions are read in parallel (the Chapters panel at 10M events: ~18 % less
    // wall time, same CPU). Exact for every table here: each one's partition is a function of its sort key, so
    // the rows FINAL must merge always share a partition (0010: one event's versions share its timestamp).
    const common = `SET max_execution_time = ${limits.maxExecutionSeconds}, max_memory_usage = ${limits.maxQueryMemoryBytes}, implicit_select = 0, `
      + 'do_not_merge_across_partitions_select_final = 1, '
      + 'output_format_parquet_row_group_size = 65536, output_format_parquet_row_group_size_bytes = 16777216, '
      + 'output_format_parquet_parallel_encoding = 0, output_format_parquet_max_dictionary_size = 65536, output_format_parquet_write_bloom_filter = 0';
    // Order matters: readonly last, since once it is 1 no setting can change any more.
    const openReader = open([common, 'SET readonly = 1']);
    // Writers over HTTP: VALUES may carry literals only, so a value cannot smuggle a function call past the guard.
    const openWriter = open([`${common}, input_format_values_interpret_expressions = 0, input_format_values_deduce_templates_of_expressions = 0`]);
    this.readers = new SessionPool('reader', openReader, limits.readerSessions);
    this.writers = new SessionPool('writer', openWriter, limits.writerSessions);
    this.named = new NamedSessions((identity) => (identity === 'reader' ? openReader() : openWriter()));
    // The filters before readonly: once readonly is 1, `additional_table_filters` can no longer change.
    // As many statements at once per member as the anonymous readers have (a sidebar sends five together).
    this.scoped = new ScopedPools((scope) => open([common, ...filterStatements(scope), 'SET readonly = 1'])(), limits.readerSessions);
    this.internal = new SessionPool('internal', open([]), 1);
    this.parser = new SessionPool('parser', open(['SET implicit_select = 0, readonly = 1']), 1);
    // The JavaScript heap first: the engine's result buffers it frees go back to the engine's allocator.
    this.idle = new IdlePurge(() => this.internal.use(async (s) => {
      collectGarbage();
      await s.queryAsync('SYSTEM JEMALLOC PURGE');
    }));
  }

  // The engine (~180 MB, native) loads only when a store opens, never when this module is imported.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  static async open(dataDir: string, limits: EngineLimits = engineLimits(), chdb: ChdbModule = require('chdb')): Promise<ChdbStore> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Results a previous run was writing when it died (streamViaFile).
    rmSync(join(dataDir, 'tmp-results'), { recursive: true, force: true });
    try {
      // Server-wide settings take effect with the first connection to the engine.
      const ingest = new chdb.Session(dataDir, { connectionArgs: serverArgs(limits, writeEngineConfig(dataDir, limits)) });
      return new ChdbStore(chdb, ingest, dataDir, limits);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  private poolFor(identity: Identity | undefined): SessionPool<Session> {
    if (identity === 'reader') return this.readers;
    if (identity === 'writer') return this.writers;
    return this.internal;
  }

  /**
   * A session for one statement: a pooled one, or the client's own (`session_id`). `database`, URL
   * settings and `param_` values become session state (`USE`, `SET`, `SET param_x`: the engine then
   * parses a value exactly as ClickHouse parses `param_x`); a pooled session that took any is then
   * discarded, never reused. On a client's session they apply to this statement only, as in ClickHouse:
   * the previous database and setting values are put back afterwards.
   */
  private async borrow(options: QueryOptions): Promise<Borrowed> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    const ref = options.session;
    if (options.scope && (ref || options.identity !== 'reader')) {
      throw new StoreError('Code: 497. DB::Exception: a scoped read runs as a reader in its own sessions only (no session_id). (ACCESS_DENIED)', 497, false);
    }
    if (!ref) {
      const pool = options.scope ? this.scoped.pool(options.scope) : this.poolFor(options.identity);
      const s = await pool.acquire();
      let changed = true;
      try {
        changed = await this.prepare(s, options);
      } catch (err) {
        pool.release(s, true);
        throw toStoreError(err);
      }
      return { s, done: async (clean) => pool.release(s, !clean || changed) };
    }
    const identity = options.identity ?? 'writer';
    const s = await this.named.acquire(identity, ref);
    let restore: string[] = [];
    try {
      restore = await saveState(s, options);
      await this.prepare(s, options);
    } catch (err) {
      this.named.release(identity, ref, !(await settle(s)));
      throw toStoreError(err);
    }
    return {
      s,
      done: async (clean) => {
        let ok = clean || (await settle(s));
        try {
          for (const stmt of restore) await s.queryAsync(stmt);
        } catch {
          ok = false;
        }
        this.named.release(identity, ref, !ok);
      },
    };
  }

  private async prepare(s: Session, options: QueryOptions): Promise<boolean> {
    let changed = false;
    if (options.database && options.database !== 'default') {
      await s.queryAsync(`USE ${quoteIdent(options.database)}`);
      changed = true;
    }
    const entries = [
      ...Object.entries(options.settings ?? {}),
      ...Object.entries(options.params ?? {}).map(([k, v]) => [`param_${k}`, v] as [string, string]),
    ];
    if (entries.length > 0) {
      for (const [k] of entries) {
        if (!SETTING_NAME.test(k)) throw new StoreError(`Code: 115. DB::Exception: Unknown setting '${k}'. (UNKNOWN_SETTING)`, 115, false);
      }
      // A quoted value is parsed by the engine as the setting's type, as URL settings are.
      await s.queryAsync(`SET ${entries.map(([k, v]) => `${k} = ${quoteString(v)}`).join(', ')}`);
      changed = true;
    }
    return changed;
  }

  /**
   * Tags a statement so it can be found in `system.processes` and cancelled when its client goes away.
   * chDB's own abort only acts between result chunks: a query that has produced none yet (an aggregate
   * over a huge range) would run on, holding a session, until its time limit. `KILL QUERY` from another
   * session stops it at once (measured: ~0.6 s).
   */
  private cancellable(sql: string, signal: AbortSignal | undefined): { sql: string; done(): void } {
    if (!signal) return { sql, done: () => undefined };
    const marker = `ct-query ${randomUUID()}`;
    const kill = () => {
      void this.internal.use((k) => k.queryBindAsync('KILL QUERY WHERE position(query, {m:String}) > 0 ASYNC', { m: marker }, { format: 'TabSeparated' })).catch(() => undefined);
    };
    if (signal.aborted) kill();
    else signal.addEventListener('abort', kill, { once: true });
    // In front: an INSERT's inline VALUES run to the end of the text, where a tag would read as data.
    return { sql: `/* ${marker} */\n${sql}`, done: () => signal.removeEventListener('abort', kill) };
  }

  async query(sql: string, options: QueryOptions = {}): Promise<Buffer> {
    return await this.idle.around(() => this.runQuery(sql, options));
  }

  private async runQuery(sql: string, options: QueryOptions): Promise<Buffer> {
    const b = await this.borrow(options);
    let clean = false;
    const tagged = options.data ? { sql, done: () => undefined } : this.cancellable(sql, options.signal);
    sql = tagged.sql;
    try {
      let out: Buffer;
      let summary: QuerySummary;
      if (options.data) ({ out, summary } = await this.insertData(b.s, sql, options.data));
      else {
        const res = await b.s.queryAsync(sql, { format: options.format ?? 'TabSeparated' });
        out = Buffer.from(toBuffer(res.bytes()));
        summary = summaryOf(res);
      }
      clean = true;
      options.onSummary?.(summary);
      return out;
    } catch (err) {
      throw toStoreError(err);
    } finally {
      tagged.done();
      await b.done(clean);
    }
  }

  async *stream(sql: string, options: QueryOptions = {}): AsyncGenerator<Uint8Array> {
    this.idle.begin();
    try {
      yield* this.runStream(sql, options);
    } finally {
      this.idle.end();
    }
  }

  private async *runStream(sql: string, options: QueryOptions): AsyncGenerator<Uint8Array> {
    const format = formatClause(sql) ?? options.format ?? 'TabSeparated';
    const rule = chunkJoin(format);
    if (rule.kind === 'file') {
      // chDB would make each chunk a Parquet file of its own; the engine writes one file instead.
      yield* this.streamViaFile(sql, options);
      return;
    }
    if (rule.kind === 'whole') {
      // One document (JSON, Pretty…): chDB would make each chunk a document of its own.
      yield await this.query(sql, options);
      return;
    }
    if (pipedText(format) && (yield* this.throughPipe(sql, options))) return;
    yield* this.streamChunks(sql, options, rule);
  }

  /** chDB's own streamed chunks, joined by `rule` (stream-formats.ts). */
  private async *streamChunks(sql: string, options: QueryOptions, rule: ChunkJoin): AsyncGenerator<Uint8Array> {
    const b = await this.borrow(options);
    let clean = false;
    const tagged = this.cancellable(sql, options.signal);
    sql = tagged.sql;
    try {
      const st = b.s.queryStream(sql, { format: options.format ?? 'TabSeparated', signal: options.signal });
      try {
        let first = true;
        for await (const chunk of st) {
          // Not copied again: chDB already hands each chunk over as a Buffer of its own (napi_create_buffer_copy),
          // which stays valid after the next fetch; a second copy cost ~0.7 GB of memcpy per 10M-row CSV.
          const raw = chunk.raw();
          const bytes = rule.kind === 'strip-header' && !first ? dropHeaderLines(raw, rule.lines) : raw;
          first = false;
          yield bytes;
        }
      } finally {
        if (!st.closed) st.cancel();
      }
      clean = !options.signal?.aborted;
    } catch (err) {
      throw toStoreError(err);
    } finally {
      tagged.done();
      await b.done(clean);
    }
  }

  /**
   * The statement written by the engine with `INTO OUTFILE` into one of our named pipes, read while it is
   * written (fifo-result.ts). False, before any byte, when the statement names no format of its own or no
   * pipe can be made.
   */
  private async *throughPipe(sql: string, options: QueryOptions): AsyncGenerator<Uint8Array, boolean> {
    if (!intoOutfile(sql, "''")) return false;
    const pipe = await this.fifos.take();
    if (!pipe) return false;
    // TRUNCATE: the pipe exists before the engine opens it (a plain INTO OUTFILE refuses an existing file).
    const target = intoOutfile(sql, `${quoteString(pipe)} TRUNCATE`)!;
    try {
      const write = () => {
        const running = this.query(target, options);
        this.piping.add(running);
        void running.catch(() => undefined).finally(() => this.piping.delete(running));
        return running;
      };
      yield* readWhileWriting(pipe, write, this.closing.signal);
    } finally {
      // Used again only while it is still our pipe (readWhileWriting returns once every descriptor is closed).
      let fifo = false;
      try {
        fifo = lstatSync(pipe).isFIFO();
      } catch {
        fifo = false;
      }
      if (fifo) this.fifos.give(pipe);
      else rmSync(pipe, { force: true });
    }
    return true;
  }

  /**
   * A binary file format: the engine writes it through a named pipe (throughPipe: the first row group goes out
   * while the next is encoded, nothing lands on disk). Where no pipe can be made, into an owner-only temp file
   * under the data directory, read out in 1 MiB pieces once complete and removed, also when the client goes
   * away. A statement without its own FORMAT clause (format from `default_format`) is answered whole.
   */
  private async *streamViaFile(sql: string, options: QueryOptions): AsyncGenerator<Uint8Array> {
    if (yield* this.throughPipe(sql, options)) return;
    const dir = join(this.dataDir, 'tmp-results');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${randomUUID()}.out`);
    const target = intoOutfile(sql, quoteString(file));
    if (!target) {
      yield await this.query(sql, options);
      return;
    }
    try {
      await this.query(target, options);
      for await (const piece of createReadStream(file, { highWaterMark: 1 << 20 })) yield piece as Buffer;
    } finally {
      rmSync(file, { force: true });
    }
  }

  async normalize(sql: string): Promise<string> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    try {
      return await this.parser.use(async (s) => {
        const res = await s.queryBindAsync('SELECT formatQuerySingleLine({q:String})', { q: sql }, { format: 'RawBLOB' });
        return toBuffer(res.bytes()).toString('utf8').trim();
      });
    } catch (err) {
      // The engine names the wrapper it parsed in; the client should see its own statement only.
      const e = toStoreError(err);
      throw new StoreError(e.message.replace(/:? In scope SELECT formatQuerySingleLine\([\s\S]*\)\. \(/, '. ('), e.clickhouseCode, e.unavailable);
    }
  }

  /**
   * `INSERT INTO t [(cols)] FORMAT X` with its rows in a separate payload (ClickHouse HTTP style). Text
   * formats chDB takes as a raw payload go straight in; everything else (binary formats, Values, column
   * lists such as `(* EXCEPT (c))`) through a spooled file (spooled-insert.ts). No rows: nothing to do,
   * as in ClickHouse.
   */
  private async insertData(s: Session, sql: string, data: Buffer): Promise<{ out: Buffer; summary: QuerySummary }> {
    const empty = Buffer.alloc(0);
    if (data.length === 0) return { out: empty, summary: { written_rows: 0, written_bytes: 0 } };
    const ins = splitInsertStatement(sql);
    // The engine parses a SETTINGS clause itself (values may hold commas and quotes): spooled path.
    if (ins && RAW_INSERT_FORMATS.has(ins.format) && !ins.settings && (ins.columns ?? []).every((c) => PLAIN_COLUMN.test(c))) {
      const res = await s.insert({
        table: ins.table,
        format: ins.format as 'JSONEachRow',
        values: data,
        ...(ins.columns ? { columns: ins.columns } : {}),
      });
      return { out: empty, summary: { written_rows: res.rowsWritten, written_bytes: res.bytesWritten, elapsed_ns: Math.round(res.elapsed * 1e9) } };
    }
    const normalized = await this.normalize(sql);
    const res = await withSpooledFile(this.dataDir, data, (path) => s.queryAsync(withInfile(normalized, path)));
    // For INSERT … FROM INFILE the engine's row count is the rows it read from the file and inserted.
    return { out: empty, summary: { written_rows: res.rowsRead, written_bytes: res.bytesRead, elapsed_ns: Math.round(res.elapsed * 1e9) } };
  }

  async insertJsonEachRow(table: string, ndjson: Buffer, options: InsertOptions = {}): Promise<void> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    try {
      // Skip fields a table version does not have, so one receiver serves several schema versions.
      // The views of one insert on several threads: the engine's fixed cost per insert is mostly the views' own work,
      // and with one insert per table at a time the second core otherwise idles (BENCHMARKS.md, "The second core for inserts").
      // Attribution does not depend on the order the views run in (0010's header): it was already arbitrary.
      const settings: Record<string, string | number> = { input_format_skip_unknown_fields: 1, parallel_view_processing: 1 };
      if (options.dedupToken) Object.assign(settings, dedupSettings(options.dedupToken));
      await this.idle.around(() => this.ingest.insert({ table, format: 'JSONEachRow', values: ndjson, settings }));
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.piping.size > 0) {
      // The engine's close waits for its statements while holding this thread; one writing into a pipe that only
      // this thread reads would never end. So: drain every pipe, stop those statements, and wait for them first.
      this.closing.abort();
      const dir = join(this.dataDir, 'tmp-results');
      await this.internal.use((k) => k.queryBindAsync('KILL QUERY WHERE position(query, {d:String}) > 0 ASYNC', { d: dir }, { format: 'TabSeparated' })).catch(() => undefined);
      await Promise.allSettled([...this.piping]);
    }
    this.idle.close();
    this.fifos.close();
    for (const p of [this.readers, this.writers, this.internal, this.parser]) p.close();
    this.named.close();
    this.scoped.close();
    this.ingest.close();
    void this.chdb;
  }
}

export { quoteIdent };

/** `SET additional_table_filters = {'db.t': 'expr', …}`: every read of `db.t` in the session adds `expr`. */
export function filterStatements(scope: ReadScope): string[] {
  const entries = Object.entries(scope.tableFilters);
  if (entries.length === 0) return [];
  return [`SET additional_table_filters = {${entries.map(([t, e]) => `${quoteString(t)}: ${quoteString(e)}`).join(', ')}}`];
}

/**
 * `<data dir>/engine-config.xml` with engineConfigXml's text, owner-only, rewritten when a limit changed (the
 * engine reads it once, at its start). Whole or not at all (a temp file renamed): a full disk must not leave a
 * cut file the engine would refuse; then the engine runs without it (its default buffers), which only costs memory.
 */
function writeEngineConfig(dataDir: string, limits: EngineLimits): string | undefined {
  const file = join(dataDir, 'engine-config.xml');
  const text = engineConfigXml(limits);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    if (existsSync(file) && readFileSync(file, 'utf8') === text) return file;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
    return file;
  } catch {
    rmSync(tmp, { force: true });
    return existsSync(file) && readFileSync(file, 'utf8') === text ? file : undefined;
  }
}

export async function openChdbStore(dataDir: string): Promise<ChdbStore> {
  return await ChdbStore.open(dataDir);
}
