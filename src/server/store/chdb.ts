import { randomUUID } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError, type Identity, type QueryOptions, type Store } from './types';
import { formatClause, splitInsertStatement } from './sql-text';
import { chunkJoin, dropHeaderLines, intoOutfile } from './stream-formats';
import { SessionPool } from './session-pool';
import { quoteIdent, quoteString } from './sql-quote';
import { engineLimits, type EngineLimits } from './engine-limits';

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

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * The real ClickHouse engine, in this process, as several sessions over one data directory:
 * - one session for the receiver's inserts, never shared with a query, so collection does not wait
 *   behind a long analytics query;
 * - a pool of reader sessions that ran `SET readonly = 1` once (the engine refuses to lift it again:
 *   not by `SETTINGS`, `SET` or a second statement), for anonymous ClickHouse HTTP requests;
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

  private constructor(private readonly chdb: ChdbModule, private readonly ingest: Session, readonly dataDir: string, readonly limits: EngineLimits) {
    this.description = `chDB at ${dataDir}`;
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
    const common = `SET max_execution_time = ${limits.maxExecutionSeconds}, max_memory_usage = ${limits.maxQueryMemoryBytes}, implicit_select = 0`;
    // Order matters: readonly last, since once it is 1 no setting can change any more.
    this.readers = new SessionPool('reader', open([common, 'SET readonly = 1']), limits.readerSessions);
    // Writers over HTTP: VALUES may carry literals only, so a value cannot smuggle a function call past the guard.
    this.writers = new SessionPool('writer', open([`${common}, input_format_values_interpret_expressions = 0, input_format_values_deduce_templates_of_expressions = 0`]), limits.writerSessions);
    this.internal = new SessionPool('internal', open([]), 1);
    this.parser = new SessionPool('parser', open(['SET implicit_select = 0, readonly = 1']), 1);
  }

  // The engine (~180 MB, native) loads only when a store opens, never when this module is imported.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  static async open(dataDir: string, limits: EngineLimits = engineLimits(), chdb: ChdbModule = require('chdb')): Promise<ChdbStore> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Results a previous run was writing when it died (streamViaFile).
    rmSync(join(dataDir, 'tmp-results'), { recursive: true, force: true });
    try {
      // Server-wide settings take effect with the first connection to the engine.
      const ingest = new chdb.Session(dataDir, { connectionArgs: [`--max_server_memory_usage=${limits.maxServerMemoryBytes}`] });
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
   * `database` and URL settings become session state (`USE`, `SET`) on the borrowed session, as
   * ClickHouse applies them to the query's context; such a session is then discarded, never reused.
   */
  private async prepare(s: Session, options: QueryOptions): Promise<boolean> {
    let changed = false;
    if (options.database && options.database !== 'default') {
      await s.queryAsync(`USE ${quoteIdent(options.database)}`);
      changed = true;
    }
    const entries = Object.entries(options.settings ?? {});
    if (entries.length > 0) {
      for (const [k] of entries) {
        if (!SETTING_NAME.test(k)) throw new StoreError(`Code: 115. DB::Exception: Unknown setting '${k}'`, 115, false);
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
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    const pool = this.poolFor(options.identity);
    const s = await pool.acquire();
    let discard = true;
    const tagged = options.data ? { sql, done: () => undefined } : this.cancellable(sql, options.signal);
    sql = tagged.sql;
    try {
      const changed = await this.prepare(s, options);
      let out: Buffer;
      if (options.data && options.data.length > 0) out = await this.insertData(s, sql, options.data);
      else {
        const opts = { format: options.format ?? 'TabSeparated' };
        const res = options.params && Object.keys(options.params).length > 0
          ? await s.queryBindAsync(sql, options.params, opts)
          : await s.queryAsync(sql, opts);
        out = Buffer.from(toBuffer(res.bytes()));
      }
      discard = changed;
      return out;
    } catch (err) {
      throw toStoreError(err);
    } finally {
      tagged.done();
      pool.release(s, discard);
    }
  }

  async *stream(sql: string, options: QueryOptions = {}): AsyncGenerator<Uint8Array> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    const rule = chunkJoin(formatClause(sql) ?? options.format ?? 'TabSeparated');
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
    const pool = this.poolFor(options.identity);
    const s = await pool.acquire();
    let discard = true;
    const tagged = this.cancellable(sql, options.signal);
    sql = tagged.sql;
    try {
      const changed = await this.prepare(s, options);
      const opts = { format: options.format ?? 'TabSeparated', signal: options.signal };
      const st = options.params && Object.keys(options.params).length > 0 ? s.queryStreamBind(sql, options.params, opts) : s.queryStream(sql, opts);
      try {
        let first = true;
        for await (const chunk of st) {
          // Copied: the chunk's memory belongs to the engine once the next one is pulled.
          const raw = rule.kind === 'strip-header' && !first ? dropHeaderLines(chunk.raw(), rule.lines) : chunk.raw();
          first = false;
          yield Buffer.from(raw);
        }
      } finally {
        if (!st.closed) st.cancel();
      }
      discard = changed;
    } catch (err) {
      throw toStoreError(err);
    } finally {
      tagged.done();
      pool.release(s, discard);
    }
  }

  /**
   * A binary file format: the engine writes the result with `INTO OUTFILE` into an owner-only temp
   * file under the data directory (row group by row group, so memory stays flat), which is then read
   * out in 1 MiB pieces and removed, also when the client goes away. A statement without its own
   * FORMAT clause (format from `default_format`) is answered whole.
   */
  private async *streamViaFile(sql: string, options: QueryOptions): AsyncGenerator<Uint8Array> {
    const dir = join(this.dataDir, 'tmp-results');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${randomUUID()}.out`);
    const target = intoOutfile(sql, quoteString(file));
    if (!target) {
      yield await this.query(sql, options);
      return;
    }
    // The engine holds a whole row group in memory before writing it (default up to 1M rows / 512 MiB):
    // smaller groups keep the server's memory flat; a client's own values win.
    const settings = { output_format_parquet_row_group_size: '65536', output_format_parquet_row_group_size_bytes: String(16 << 20), ...options.settings };
    try {
      await this.query(target, { ...options, settings });
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

  /** `INSERT INTO t [(cols)] FORMAT X` with its rows in a separate payload (ClickHouse HTTP style). */
  private async insertData(s: Session, sql: string, data: Buffer): Promise<Buffer> {
    const ins = splitInsertStatement(sql);
    if (!ins) throw new StoreError(`Code: 62. DB::Exception: data was sent with a statement that is not INSERT … FORMAT <format>: ${sql.slice(0, 120)}`, 62, false);
    if (RAW_INSERT_FORMATS.has(ins.format)) {
      await s.insert({
        table: ins.table,
        format: ins.format as 'JSONEachRow',
        values: data,
        ...(ins.columns ? { columns: ins.columns } : {}),
        ...(ins.settings ? { settings: ins.settings } : {}),
      });
    } else if (!data.includes(0)) {
      // Text formats chDB does not take as a raw payload (Values, JSONCompact…): inline them.
      await s.queryAsync(`${sql}\n${data.toString('utf8')}`);
    } else {
      throw new StoreError(`Code: 73. DB::Exception: binary insert format ${ins.format} is not supported by the embedded server; send JSONEachRow, CSV or TabSeparated`, 73, false);
    }
    return Buffer.alloc(0);
  }

  async insertJsonEachRow(table: string, ndjson: Buffer): Promise<void> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    try {
      // Skip fields a table version does not have, so one receiver serves several schema versions.
      await this.ingest.insert({ table, format: 'JSONEachRow', values: ndjson, settings: { input_format_skip_unknown_fields: 1 } });
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of [this.readers, this.writers, this.internal, this.parser]) p.close();
    this.ingest.close();
    void this.chdb;
  }
}

export { quoteIdent };

export async function openChdbStore(dataDir: string): Promise<ChdbStore> {
  return await ChdbStore.open(dataDir);
}
