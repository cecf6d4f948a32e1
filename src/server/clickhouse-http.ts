/**
 * A ClickHouse-compatible HTTP interface (:8123) over the Store, so curl, the ClickHouse docs'
 * examples, @clickhouse/client and the extension's analytics all work against the embedded
 * engine exactly as against a real clickhouse-server: query in the URL or body, param_x for
 * {x:Type}, settings as URL parameters, data in the body for INSERT … FORMAT, ClickHouse-style
 * errors (status, X-ClickHouse-Exception-Code, "Code: N. DB::Exception: …").
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { HttpError, readBody } from './http-body';
import { StoreError, type Identity, type Store } from './store/types';
import { formatClause, splitInsertStatement, splitInlineInsert } from './store/sql-text';
import { checkStatement } from './query-guard';
import { identify, refusal, type HostPolicy, type LocalCredentials } from './local-access';

/** URL parameters that are part of the HTTP protocol rather than query settings. */
const PROTOCOL_PARAMS = new Set([
  'query', 'database', 'default_format', 'query_id', 'session_id', 'session_timeout', 'session_check', 'user', 'password',
  'quota_key', 'compress', 'decompress', 'buffer_size', 'wait_end_of_query', 'role', 'enable_http_compression',
  'http_zlib_compression_level', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'add_http_cors_header',
  'client_protocol_version',
]);

export function contentTypeFor(format: string): string {
  const f = format.toLowerCase();
  if (f === 'json' || f.startsWith('jsoncompact') && !f.includes('eachrow') || f === 'jsonstrings') return 'application/json; charset=UTF-8';
  if (f.includes('eachrow') || f === 'jsonlines' || f === 'ndjson') return 'application/x-ndjson; charset=UTF-8';
  if (f.startsWith('csv')) return `text/csv; charset=UTF-8; header=${f.includes('withnames') ? 'present' : 'absent'}`;
  if (f.startsWith('tabseparated') || f.startsWith('tsv')) return 'text/tab-separated-values; charset=UTF-8';
  if (['parquet', 'arrow', 'arrowstream', 'native', 'rowbinary', 'orc', 'avro', 'msgpack'].some((b) => f.startsWith(b))) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

/** ClickHouse answers some exception codes with specific HTTP statuses; the rest are 500. */
export function statusForCode(code: number | undefined): number {
  switch (code) {
    case 62: case 27: case 26: case 6: case 32: case 33: case 38: case 41: case 47: case 53: case 115: case 117: case 130: case 457: case 36: case 43: case 46: case 72: case 73:
      return 400;
    case 60: case 81: case 83:
      return 404;
    case 164: case 497:
      return 403;
    case 516:
      return 401;
    default:
      return 500;
  }
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0', a: '\x07', v: '\v' };

/**
 * ClickHouse reads `param_x` values in its escaped (TabSeparated) text form, and clients such as
 * @clickhouse/client send them that way (`'` as `\'`, tab as `\t`); chDB binds raw text, so undo it here.
 */
export function unescapeParam(v: string): string {
  if (!v.includes('\\')) return v;
  return v.replace(/\\(x[0-9a-fA-F]{2}|[\s\S])/g, (_, c: string) => (c.length === 3 ? String.fromCharCode(parseInt(c.slice(1), 16)) : ESCAPES[c] ?? c));
}

export interface ClickHouseHttpOptions {
  maxBodyBytes: number;
  isReady(): boolean;
  serverVersion: string;
  /** Which Host and Origin headers are served (local-access.ts). */
  hostPolicy: HostPolicy;
  /** The writer's credential; without it every request is a reader. */
  credentials?: Pick<LocalCredentials, 'user' | 'password'>;
}

/** ClickHouse's answer for a failed query, as text and HTTP status. */
function describeError(err: unknown): { code: number; status: number; text: string } {
  if (err instanceof StoreError) {
    const code = err.clickhouseCode ?? 1002;
    return { code, status: err.unavailable ? 503 : statusForCode(err.clickhouseCode), text: /^Code: \d+\./.test(err.message) ? err.message : `Code: ${code}. DB::Exception: ${err.message}` };
  }
  if (err instanceof HttpError) {
    const [code, name] = err.status === 413 ? [307, 'TOO_LARGE_STRING_SIZE'] : err.status === 403 ? [497, 'ACCESS_DENIED'] : [1002, 'UNKNOWN_EXCEPTION'];
    return { code, status: err.status, text: `Code: ${code}. DB::Exception: ${err.message}. (${name})` };
  }
  return { code: 1002, status: 500, text: `Code: 1002. DB::Exception: ${(err as Error)?.message ?? String(err)}` };
}

export function createClickHouseHttpServer(getStore: () => Store | undefined, opts: ClickHouseHttpOptions): Server {
  return createServer((req, res) => {
    void handle(req, res).catch((err) => sendError(res, err, ''));
  });

  function sendError(res: ServerResponse, err: unknown, queryId: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { code, status, text } = describeError(err);
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Exception-Code': String(code),
      ...(queryId ? { 'X-ClickHouse-Query-Id': queryId } : {}),
      'X-ClickHouse-Server-Display-Name': 'chapter-telemetry',
    });
    res.end(`${text.trimEnd()} (version ${opts.serverVersion})\n`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refusal(req, opts.hostPolicy);
    if (refused) {
      req.resume();
      return sendError(res, new HttpError(403, refused), '');
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/ping' || (url.pathname === '/' && req.method === 'GET' && !url.searchParams.has('query'))) {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' });
      res.end('Ok.\n');
      return;
    }
    if (url.pathname !== '/') {
      req.resume();
      return sendError(res, new StoreError(`Code: 1002. DB::Exception: there is no handler ${url.pathname}: send queries to / (or GET /ping)`, 1002, false), '');
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      req.resume();
      res.writeHead(405, { Allow: 'GET, POST' });
      res.end();
      return;
    }
    const queryId = url.searchParams.get('query_id') || randomUUID();
    const presented = opts.credentials ? identify(req, url, opts.credentials) : 'reader';
    if (!presented) {
      req.resume();
      return sendError(res, new StoreError('Code: 516. DB::Exception: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)', 516, false), queryId);
    }
    // As in ClickHouse, a GET request is read-only whoever sends it.
    const identity: Identity = req.method === 'GET' ? 'reader' : presented;
    const store = getStore();
    if (!store || !opts.isReady()) {
      req.resume();
      return sendError(res, new StoreError('the telemetry store is starting or stopping; retry shortly', 1002, true), queryId);
    }
    if (url.searchParams.get('decompress') === '1') {
      req.resume();
      return sendError(res, new HttpError(400, 'decompress=1 (ClickHouse native compression) is not supported here; send gzip with Content-Encoding instead'), queryId);
    }

    const body = req.method === 'POST' ? await readBody(req, opts.maxBodyBytes) : Buffer.alloc(0);
    const urlQuery = url.searchParams.get('query');
    let sql: string;
    let data: Buffer | undefined;
    if (urlQuery !== null) {
      sql = urlQuery;
      if (body.length > 0) {
        // As in ClickHouse: with the query in the URL, the body is the INSERT's data, or the query's continuation.
        if (splitInsertStatement(urlQuery)) data = body;
        else sql = `${urlQuery}\n${body.toString('utf8')}`;
      }
    } else {
      const inline = splitInlineInsert(body);
      if (inline) ({ sql, data } = inline);
      else sql = body.toString('utf8');
    }
    if (sql.trim() === '') return sendError(res, new StoreError('Code: 62. DB::Exception: Empty query', 62, false), queryId);

    const params: Record<string, string> = {};
    const settings: Record<string, string> = {};
    for (const [k, v] of url.searchParams) {
      if (k.startsWith('param_')) params[k.slice(6)] = unescapeParam(v);
      else if (!PROTOCOL_PARAMS.has(k)) settings[k] = v;
    }
    const defaultFormat = url.searchParams.get('default_format') ?? 'TabSeparated';
    const format = formatClause(sql) ?? defaultFormat;
    const database = url.searchParams.get('database') ?? undefined;

    let verdict;
    try {
      // The engine's own parse decides what the statement is: one statement only, comments and quoting
      // normalised, so no spelling of a statement reaches past the guard.
      verdict = checkStatement(await store.normalize(sql), identity);
    } catch (err) {
      return sendError(res, err, queryId);
    }
    const headers: Record<string, string | number> = {
      'Content-Type': contentTypeFor(format),
      'X-ClickHouse-Format': format,
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Timezone': 'UTC',
      'X-ClickHouse-Server-Display-Name': 'chapter-telemetry',
    };
    const wantsGzip = url.searchParams.get('enable_http_compression') === '1' && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (wantsGzip) headers['Content-Encoding'] = 'gzip';

    if (!verdict.streams || data) {
      let out: Buffer;
      const gone = new AbortController();
      const onClose = () => gone.abort();
      res.on('close', onClose);
      try {
        out = await store.query(sql, { params, settings, format: defaultFormat, database, data, identity, signal: gone.signal });
      } catch (err) {
        return sendError(res, err, queryId);
      } finally {
        res.off('close', onClose);
      }
      res.writeHead(200, headers);
      return finish(res, wantsGzip, out);
    }
    await streamResult(store, res, req, { sql, params, settings, format: defaultFormat, database, identity, headers, wantsGzip, queryId });
  }

  /**
   * Sends a result as the engine produces it. The first chunk is awaited before the status line, so
   * an early error (most of them) is an ordinary error response. An error after that is written the
   * way ClickHouse (25.11+) marks one inside a body — `X-ClickHouse-Exception-Tag` names the marker — so
   * `@clickhouse/client` raises it. A client that goes away cancels the query; a slow client slows the
   * engine (the next chunk is pulled only once the socket took the last one), so memory stays flat.
   */
  async function streamResult(
    store: Store,
    res: ServerResponse,
    req: IncomingMessage,
    q: { sql: string; params: Record<string, string>; settings: Record<string, string>; format: string; database?: string; identity: Identity; headers: Record<string, string | number>; wantsGzip: boolean; queryId: string },
  ): Promise<void> {
    const abort = new AbortController();
    const gone = () => abort.abort();
    res.on('close', gone);
    const chunks = store.stream(q.sql, { params: q.params, settings: q.settings, format: q.format, database: q.database, identity: q.identity, signal: abort.signal })[Symbol.asyncIterator]();
    let first: IteratorResult<Uint8Array>;
    try {
      first = await chunks.next();
    } catch (err) {
      res.off('close', gone);
      return sendError(res, err, q.queryId);
    }
    const tag = randomBytes(8).toString('hex');
    res.writeHead(200, { ...q.headers, 'X-ClickHouse-Exception-Tag': tag });
    const out: Writable = q.wantsGzip ? createGzip() : res;
    if (q.wantsGzip) (out as ReturnType<typeof createGzip>).pipe(res);
    try {
      let next = first;
      while (!next.done && !abort.signal.aborted) {
        if (!out.write(next.value)) await new Promise<void>((r) => { out.once('drain', r); res.once('close', r); });
        if (abort.signal.aborted) break;
        next = await chunks.next();
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        const { text } = describeError(err);
        const message = `${text.trimEnd()} (version ${opts.serverVersion})\n`;
        out.write(`\r\n__exception__\r\n${tag}\r\n${message}${Buffer.byteLength(message)} ${tag}\r\n__exception__\r\n`);
      }
    } finally {
      res.off('close', gone);
      if (abort.signal.aborted) await chunks.return?.(undefined).catch(() => undefined);
    }
    out.end();
    void req;
  }

  function finish(res: ServerResponse, gzip: boolean, out: Buffer): void {
    if (!gzip) {
      res.end(out);
      return;
    }
    const z = createGzip();
    z.pipe(res);
    z.end(out);
  }
}
