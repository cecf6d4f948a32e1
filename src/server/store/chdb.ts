import { mkdirSync } from 'node:fs';
import { StoreError, type QueryOptions, type Store } from './types';
import { splitInsertStatement, withSettings } from './sql-text';

type ChdbModule = typeof import('chdb');
type Session = InstanceType<ChdbModule['Session']>;

/** chDB error classes carry `clickhouseCode`; connection errors mean the engine itself is gone. */
function toStoreError(err: unknown): StoreError {
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

/**
 * The real ClickHouse engine, in this process. chDB runs one statement at a time per session,
 * so queries and inserts simply queue behind each other; `database` switches are serialised
 * by a small lock because `USE` is session state.
 */
export class ChdbStore implements Store {
  readonly description: string;
  private closed = false;
  private lock: Promise<unknown> = Promise.resolve();

  private constructor(private readonly session: Session, readonly dataDir: string) {
    this.description = `chDB at ${dataDir}`;
  }

  static async open(dataDir: string, chdb: ChdbModule = require('chdb')): Promise<ChdbStore> {
    mkdirSync(dataDir, { recursive: true });
    try {
      return new ChdbStore(new chdb.Session(dataDir), dataDir);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async query(sql: string, options: QueryOptions = {}): Promise<Buffer> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    const run = async (): Promise<Buffer> => {
      const text = withSettings(sql, options.settings);
      if (options.data && options.data.length > 0) return await this.insertData(text, options.data);
      const opts = { format: options.format ?? 'TabSeparated' };
      const res = options.params && Object.keys(options.params).length > 0
        ? await this.session.queryBindAsync(text, options.params, opts)
        : await this.session.queryAsync(text, opts);
      return Buffer.from(res.bytes().buffer, res.bytes().byteOffset, res.bytes().byteLength);
    };
    try {
      if (options.database && options.database !== 'default') return await this.inDatabase(options.database, run);
      return await run();
    } catch (err) {
      throw err instanceof StoreError ? err : toStoreError(err);
    }
  }

  /** `INSERT INTO t [(cols)] FORMAT X` with its rows in a separate payload (ClickHouse HTTP style). */
  private async insertData(sql: string, data: Buffer): Promise<Buffer> {
    const ins = splitInsertStatement(sql);
    if (!ins) throw new StoreError(`Code: 62. DB::Exception: data was sent with a statement that is not INSERT … FORMAT <format>: ${sql.slice(0, 120)}`, 62, false);
    if (RAW_INSERT_FORMATS.has(ins.format)) {
      await this.session.insert({
        table: ins.table,
        format: ins.format as 'JSONEachRow',
        values: data,
        ...(ins.columns ? { columns: ins.columns } : {}),
        ...(ins.settings ? { settings: ins.settings } : {}),
      });
    } else if (!data.includes(0)) {
      // Text formats chDB does not take as a raw payload (Values, JSONCompact…): inline them.
      await this.session.queryAsync(`${sql}\n${data.toString('utf8')}`);
    } else {
      throw new StoreError(`Code: 73. DB::Exception: binary insert format ${ins.format} is not supported by the embedded server; send JSONEachRow, CSV or TabSeparated`, 73, false);
    }
    return Buffer.alloc(0);
  }

  private async inDatabase<T>(db: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => (release = r));
    await prev;
    try {
      await this.session.queryAsync(`USE ${quoteIdent(db)}`);
      return await fn();
    } finally {
      await this.session.queryAsync('USE default').catch(() => undefined);
      release();
    }
  }

  async insertJsonEachRow(table: string, ndjson: Buffer): Promise<void> {
    if (this.closed) throw new StoreError('the engine is closed', undefined, true);
    try {
      // Skip fields a table version does not have, so one receiver serves several schema versions.
      await this.session.insert({ table, format: 'JSONEachRow', values: ndjson, settings: { input_format_skip_unknown_fields: 1 } });
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
  }
}

export function quoteIdent(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

export async function openChdbStore(dataDir: string): Promise<ChdbStore> {
  return await ChdbStore.open(dataDir);
}
