/**
 * A Store over a remote ClickHouse server's HTTP interface (`--clickhouse-url`): the embedded
 * server's receiver then works as a light collector in front of a real ClickHouse. Credentials
 * come from CLICKHOUSE_USER / CLICKHOUSE_PASSWORD (or user:password@ in the URL), never from argv,
 * so they do not show in `ps`.
 */
import { StoreError, type InsertOptions, type QueryOptions, type Store } from './types';
import { dedupSettings } from './dedup-settings';
import { quoteIdent as quoteName } from './sql-quote';

export interface RemoteStoreOptions {
  user?: string;
  password?: string;
  /** Per-request limit; an insert that takes longer is reported as unavailable (the sender retries). */
  timeoutMs?: number;
}

function codeFromText(text: string): number | undefined {
  const m = /Code: (\d+)\./.exec(text);
  return m ? Number(m[1]) : undefined;
}

function quoteIdent(name: string): string {
  return name.split('.').map(quoteName).join('.');
}

export class RemoteStore implements Store {
  readonly description: string;
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private closed = false;

  constructor(url: string, private readonly options: RemoteStoreOptions = {}) {
    const u = new URL(url);
    const user = options.user ?? (decodeURIComponent(u.username) || process.env.CLICKHOUSE_USER || 'default');
    const password = options.password ?? (decodeURIComponent(u.password) || process.env.CLICKHOUSE_PASSWORD || '');
    u.username = '';
    u.password = '';
    this.base = u;
    this.description = `ClickHouse at ${u.origin}${u.pathname === '/' ? '' : u.pathname}`;
    this.headers = { 'X-ClickHouse-User': user };
    if (password) this.headers['X-ClickHouse-Key'] = password;
  }

  private urlFor(sql: string, options: QueryOptions): { url: URL; body: Buffer | string } {
    // Row filters of ours would be settings the remote user could override; a real ClickHouse server
    // scopes members with its own users and row policies instead (telemetry-server/central/). A scope
    // without filters (the team admin) reads as the reader.
    if (options.scope && Object.keys(options.scope.tableFilters).length > 0) throw new StoreError('Code: 497. DB::Exception: scoped team reads need the embedded engine; on a ClickHouse server members read as their own ClickHouse users. (ACCESS_DENIED)', 497, false);
    const url = new URL(this.base);
    for (const [k, v] of Object.entries(options.params ?? {})) url.searchParams.set(`param_${k}`, v);
    for (const [k, v] of Object.entries(options.settings ?? {})) url.searchParams.set(k, v);
    if (options.format) url.searchParams.set('default_format', options.format);
    if (options.database) url.searchParams.set('database', options.database);
    // With rows to send, the statement travels in the URL and the rows in the body.
    let body: Buffer | string = sql;
    if (options.data) {
      url.searchParams.set('query', sql);
      body = options.data;
    }
    // A client session lives on the remote server, one per identity (this store uses one ClickHouse user).
    if (options.session) {
      url.searchParams.set('session_id', `${options.identity ?? 'writer'}-${options.session.id}`);
      url.searchParams.set('session_timeout', String(options.session.timeoutSeconds));
      if (options.session.check) url.searchParams.set('session_check', '1');
    }
    // The server's own readonly mode, applied before it parses anything: the reader cannot lift it.
    if (options.identity === 'reader') url.searchParams.set('readonly', '1');
    return { url, body };
  }

  async query(sql: string, options: QueryOptions = {}): Promise<Buffer> {
    const { url, body } = this.urlFor(sql, options);
    const res = await this.send(url, body, options.signal);
    const out = Buffer.from(await res.arrayBuffer());
    const summary = res.headers.get('x-clickhouse-summary');
    if (summary && options.onSummary) {
      try {
        const s = JSON.parse(summary) as Record<string, string>;
        options.onSummary(Object.fromEntries(['result_rows', 'result_bytes', 'written_rows', 'written_bytes', 'elapsed_ns'].filter((k) => s[k] !== undefined).map((k) => [k, Number(s[k])])));
      } catch {
        // A summary that does not parse is left out, as an unknown one is.
      }
    }
    return out;
  }

  async *stream(sql: string, options: QueryOptions = {}): AsyncGenerator<Uint8Array> {
    const { url, body } = this.urlFor(sql, options);
    const res = await this.send(url, body, options.signal, false);
    if (!res.body) return;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) yield chunk;
  }

  async normalize(sql: string): Promise<string> {
    // param_ values are escaped text (TabSeparated rules), so the statement's own backslashes are doubled.
    const escaped = sql.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
    const out = await this.query('SELECT formatQuerySingleLine({q:String}) FORMAT RawBLOB', { params: { q: escaped }, identity: 'reader' });
    return out.toString('utf8').trim();
  }

  /** Resolves after ClickHouse answered 200 to a synchronous insert: the rows are committed. */
  async insertJsonEachRow(table: string, ndjson: Buffer, options: InsertOptions = {}): Promise<void> {
    const url = new URL(this.base);
    url.searchParams.set('query', `INSERT INTO ${quoteIdent(table)} FORMAT JSONEachRow`);
    url.searchParams.set('input_format_skip_unknown_fields', '1');
    if (options.dedupToken) for (const [k, v] of Object.entries(dedupSettings(options.dedupToken))) url.searchParams.set(k, String(v));
    url.searchParams.set('async_insert', '0');
    // Errors that happen after the first bytes would otherwise hide behind a 200.
    url.searchParams.set('wait_end_of_query', '1');
    await (await this.send(url, ndjson)).arrayBuffer();
  }

  private async send(url: URL, body: Buffer | string, signal?: AbortSignal, timeout = true): Promise<Response> {
    if (this.closed) throw new StoreError('the store is closed', undefined, true);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: this.headers,
        body: typeof body === 'string' ? body : new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength),
        signal: AbortSignal.any([...(timeout ? [AbortSignal.timeout(this.options.timeoutMs ?? 60_000)] : []), ...(signal ? [signal] : [])]),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new StoreError(`${this.description} cannot be reached: ${cause?.code ?? cause?.message ?? (err as Error).message}`, undefined, true);
    }
    if (res.status === 200) return res;
    const text = (await res.text()).trim();
    const unavailable = res.status === 503 || res.status === 502 || res.status === 504;
    if (res.status === 401 || res.status === 403 || codeFromText(text) === 516) {
      throw new StoreError(`${this.description} refused the credentials (set CLICKHOUSE_USER and CLICKHOUSE_PASSWORD): ${text}`, codeFromText(text) ?? 516, false);
    }
    throw new StoreError(text || `HTTP ${res.status} from ${this.description}`, res.headers.get('x-clickhouse-exception-code') ? Number(res.headers.get('x-clickhouse-exception-code')) : codeFromText(text), unavailable);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Opens a Store over ClickHouse HTTP at `url` and checks once that it answers (SELECT 1). */
export async function openRemoteStore(url: string, options: RemoteStoreOptions = {}): Promise<Store> {
  let store: RemoteStore;
  try {
    store = new RemoteStore(url, options);
  } catch {
    throw new StoreError(`--clickhouse-url "${url}" is not a URL (expected e.g. http://clickhouse:8123)`, undefined, false);
  }
  const out = await store.query('SELECT 1', { format: 'TabSeparated' });
  if (out.toString('utf8').trim() !== '1') {
    throw new StoreError(`${store.description} answered "SELECT 1" with "${out.toString('utf8').slice(0, 80)}": it does not look like ClickHouse`, undefined, false);
  }
  return store;
}
