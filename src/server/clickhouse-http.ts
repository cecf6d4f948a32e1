/**
 * A ClickHouse-compatible HTTP interface (:8123) over the Store, so curl, the ClickHouse docs'
 * examples, @clickhouse/client and the extension's analytics all work against the embedded
 * engine exactly as against a real clickhouse-server: query in the URL or body, param_x for
 * {x:Type}, settings as URL parameters, data in the body for INSERT … FORMAT, ClickHouse-style
 * errors (status, X-ClickHouse-Exception-Code, "Code: N. DB::Exception: …").
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { HttpError, readBody } from './http-body';
import { StoreError, type Store } from './store/types';
import { formatClause, splitInsertStatement } from './store/sql-text';

/** URL parameters that are part of the HTTP protocol rather than query settings. */
const PROTOCOL_PARAMS = new Set([
  'query', 'database', 'default_format', 'query_id', 'session_id', 'session_timeout', 'session_check', 'user', 'password',
  'quota_key', 'compress', 'decompress', 'buffer_size', 'wait_end_of_query', 'role', 'enable_http_compression',
  'http_zlib_compression_level', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'add_http_cors_header',
  'client_protocol_version',
]);

const READ_ONLY_START = /^(\(|SELECT\b|WITH\b|SHOW\b|DESC\b|DESCRIBE\b|EXISTS\b|EXPLAIN\b)/i;

/** The statement's first keyword, past leading blanks and comments (`-- …`, `# …`, block comments). */
function leadingStatement(sql: string): string {
  return sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/, '');
}

export function contentTypeFor(format: string): string {
  const f = format.toLowerCase();
  if (f === 'json' || f.startsWith('jsoncompact') && !f.includes('eachrow') || f === 'jsonstrings') return 'application/json; charset=UTF-8';
  if (f.includes('eachrow') || f === 'jsonlines' || f === 'ndjson') return 'application/x-ndjson; charset=UTF-8';
  if (f.startsWith('csv')) return 'text/csv; charset=UTF-8; header=present';
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
    let code: number;
    let status: number;
    let text: string;
    if (err instanceof StoreError) {
      code = err.clickhouseCode ?? 1002;
      status = err.unavailable ? 503 : statusForCode(err.clickhouseCode);
      text = /^Code: \d+\./.test(err.message) ? err.message : `Code: ${code}. DB::Exception: ${err.message}`;
    } else if (err instanceof HttpError) {
      code = err.status === 413 ? 307 : 1002;
      status = err.status;
      text = `Code: ${code}. DB::Exception: ${err.message}`;
    } else {
      code = 1002;
      status = 500;
      text = `Code: 1002. DB::Exception: ${(err as Error)?.message ?? String(err)}`;
    }
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Exception-Code': String(code),
      ...(queryId ? { 'X-ClickHouse-Query-Id': queryId } : {}),
      'X-ClickHouse-Server-Display-Name': 'chapter-telemetry',
    });
    res.end(`${text.trimEnd()} (version ${opts.serverVersion})\n`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
      sql = body.toString('utf8');
    }
    if (sql.trim() === '') return sendError(res, new StoreError('Code: 62. DB::Exception: Empty query', 62, false), queryId);
    if (req.method === 'GET' && !READ_ONLY_START.test(leadingStatement(sql))) {
      return sendError(res, new StoreError('Code: 164. DB::Exception: Cannot execute query in readonly mode: GET requests are read-only, use POST', 164, false), queryId);
    }

    const params: Record<string, string> = {};
    const settings: Record<string, string> = {};
    for (const [k, v] of url.searchParams) {
      if (k.startsWith('param_')) params[k.slice(6)] = unescapeParam(v);
      else if (!PROTOCOL_PARAMS.has(k)) settings[k] = v;
    }
    const defaultFormat = url.searchParams.get('default_format') ?? 'TabSeparated';
    const format = formatClause(sql) ?? defaultFormat;

    let out: Buffer;
    try {
      out = await store.query(sql, {
        params,
        settings,
        format: defaultFormat,
        database: url.searchParams.get('database') ?? undefined,
        data,
      });
    } catch (err) {
      return sendError(res, err, queryId);
    }
    const headers: Record<string, string | number> = {
      'Content-Type': contentTypeFor(format),
      'X-ClickHouse-Format': format,
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Timezone': 'UTC',
      'X-ClickHouse-Server-Display-Name': 'chapter-telemetry',
      'X-ClickHouse-Summary': JSON.stringify({ read_rows: '0', read_bytes: '0', written_rows: '0', written_bytes: '0', total_rows_to_read: '0', result_rows: '0', result_bytes: String(out.length) }),
    };
    const wantsGzip = url.searchParams.get('enable_http_compression') === '1' && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (wantsGzip) {
      out = gzipSync(out);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = out.length;
    res.writeHead(200, headers);
    res.end(out);
  }
}
