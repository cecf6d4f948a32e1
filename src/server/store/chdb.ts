import { mkdirSync } from 'node:fs';
import { StoreError, type Identity, type InsertOptions, type QueryOptions, type Store } from './types';
import { splitInsertStatement } from './sql-text';
import { SessionPool } from './session-pool';
import { quoteIdent, quoteString } from './sql-quote';
import { engineLimits, type EngineLimits } from './engine-limits';
import { dedupSettings } from './dedup-settings';

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

  static async open(dataDir: string, limits: EngineLimits = engineLimits(), chdb: ChdbModule = require('chdb')): Promise<ChdbStore> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
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

  async query(sql: string, options: QueryOptions = {}): Promise<Buffer> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    const pool = this.poolFor(options.identity);
    const s = await pool.acquire();
    let discard = true;
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
      pool.release(s, discard);
    }
  }

  async *stream(sql: string, options: QueryOptions = {}): AsyncGenerator<Uint8Array> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    const pool = this.poolFor(options.identity);
    const s = await pool.acquire();
    let discard = true;
    try {
      const changed = await this.prepare(s, options);
      const opts = { format: options.format ?? 'TabSeparated', signal: options.signal };
      const st = options.params && Object.keys(options.params).length > 0 ? s.queryStreamBind(sql, options.params, opts) : s.queryStream(sql, opts);
      try {
        for await (const chunk of st) {
          // Copied: the chunk's memory belongs to the engine once the next one is pulled.
          yield Buffer.from(chunk.raw());
        }
      } finally {
        if (!st.closed) st.cancel();
      }
      discard = changed;
    } catch (err) {
      throw toStoreError(err);
    } finally {
      pool.release(s, discard);
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

  async insertJsonEachRow(table: string, ndjson: Buffer, options: InsertOptions = {}): Promise<void> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    try {
      // Skip fields a table version does not have, so one receiver serves several schema versions.
      const settings: Record<string, string | number> = { input_format_skip_unknown_fields: 1 };
      if (options.dedupToken) Object.assign(settings, dedupSettings(options.dedupToken));
      await this.ingest.insert({ table, format: 'JSONEachRow', values: ndjson, settings });
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
