/**
 * A ClickHouse-compatible HTTP interface (:8123) over the Store, so curl, the ClickHouse docs'
 * examples, @clickhouse/client and the extension's analytics all work against the embedded
 * engine exactly as against a real clickhouse-server: query in the URL or body, param_x for
 * {x:Type}, settings as URL parameters, data in the body for INSERT … FORMAT, ClickHouse-style
 * errors (status, X-ClickHouse-Exception-Code, "Code: N. DB::Exception: …").
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { createGzip, gzipSync } from 'node:zlib';
import type { Writable } from 'node:stream';
import { HttpError, readBody } from './http-body';
import { StoreError, type Identity, type QuerySummary, type ReadScope, type SessionRef, type Store } from './store/types';
import { formatClause, insertAwaitsData, splitInlineInsert } from './store/sql-text';
import { checkSettings, checkStatement } from './query-guard';
import { identify, refusal, type HostPolicy, type LocalCredentials } from './local-access';
import { contentTypeFor, describeError, errorText, exceptionBlock, NO_RESULT_KINDS, summaryHeader, WAIT_BUFFER_BYTES } from './clickhouse-http/protocol';
import { header, multipartBoundary, parseMultipart, splitParams } from './clickhouse-http/params';
import { parseSessionTimeout } from './store/named-sessions';
import { requestScope } from './clickhouse-http/request-scope';

export { contentTypeFor, statusForCode } from './clickhouse-http/protocol';

export interface ClickHouseHttpOptions {
  maxBodyBytes: number;
  isReady(): boolean;
  /** The version error texts name: the engine's (`SELECT version()`), as ClickHouse names its own. */
  serverVersion(): string;
  /** Which Host and Origin headers are served (local-access.ts). */
  hostPolicy: HostPolicy;
  /** The writer's credential; without it every request is a reader. */
  credentials?: Pick<LocalCredentials, 'user' | 'password'>;
  /** Local server: the forwarding agent's state for `GET /forward/status` (holds no secret, so anonymous). */
  forwardStatus?(): Promise<object>;
  /**
   * Local server: `POST /forward/pull-back` (writer only): the member's own rows at the team server
   * that the local store lacks are copied in (forward/pull-back.ts). Errors carry an HTTP `status`.
   */
  pullBack?(): Promise<object>;
}

export function createClickHouseHttpServer(getStore: () => Store | undefined, opts: ClickHouseHttpOptions): Server {
  return createServer((req, res) => {
    void handle(req, res).catch((err) => sendError(res, err, '', false));
  });

  /** An error answer; gzip-compressed like any other answer when the client asked for compression. */
  function sendError(res: ServerResponse, err: unknown, queryId: string, gzip: boolean): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { code, status, text } = describeError(err);
    const body = Buffer.from(errorText(text, opts.serverVersion()));
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Exception-Code': String(code),
      ...(queryId ? { 'X-ClickHouse-Query-Id': queryId } : {}),
      'X-ClickHouse-Server-Display-Name': 'chapter-telemetry',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
    res.end(gzip ? gzipSync(body) : body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refusal(req, opts.hostPolicy);
    if (refused) {
      req.resume();
      return sendError(res, new HttpError(403, refused), '', false);
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/ping' || (url.pathname === '/' && req.method === 'GET' && !url.searchParams.has('query'))) {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' });
      res.end('Ok.\n');
      return;
    }
    if (url.pathname === '/forward/status' && opts.forwardStatus) {
      req.resume();
      if (req.method !== 'GET') {
        res.writeHead(405, { Allow: 'GET' });
        res.end();
        return;
      }
      if (!opts.isReady()) return sendError(res, new StoreError('the telemetry store is starting or stopping; retry shortly', 1002, true), '', false);
      const body = JSON.stringify(await opts.forwardStatus());
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(body);
      return;
    }
    if (url.pathname === '/forward/pull-back' && opts.pullBack) {
      req.resume();
      if (req.method !== 'POST') {
        res.writeHead(405, { Allow: 'POST' });
        res.end();
        return;
      }
      // It writes into the store and uses the team credential: the writer's alone, as any write.
      const who = opts.credentials ? identify(req, url, opts.credentials) : undefined;
      if (who !== 'writer') return sendError(res, new StoreError('Code: 516. DB::Exception: pull-back needs the writer credential (credentials.json). (AUTHENTICATION_FAILED)', 516, false), '', false);
      if (!opts.isReady()) return sendError(res, new StoreError('the telemetry store is starting or stopping; retry shortly', 1002, true), '', false);
      try {
        const body = JSON.stringify(await opts.pullBack());
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(body);
      } catch (err) {
        const status = (err as { status?: unknown }).status;
        const body = JSON.stringify({ error: (err as Error).message });
        if (res.headersSent) return void res.destroy();
        res.writeHead(typeof status === 'number' ? status : 500, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(body);
      }
      return;
    }
    const gzip = url.searchParams.get('enable_http_compression') === '1' && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const fail = (err: unknown, queryId = '') => {
      req.resume();
      sendError(res, err, queryId, gzip);
    };
    if (url.pathname !== '/') return fail(new StoreError(`Code: 1002. DB::Exception: there is no handler ${url.pathname}: send queries to / (or GET /ping)`, 1002, false));
    if (req.method !== 'GET' && req.method !== 'POST') {
      req.resume();
      res.writeHead(405, { Allow: 'GET, POST' });
      res.end();
      return;
    }
    const queryId = url.searchParams.get('query_id') || randomUUID();
    // A team member's request (team/query-gate.ts): always a reader, in the member's own sessions.
    const scope = requestScope(req);
    const presented = opts.credentials && !scope ? identify(req, url, opts.credentials) : 'reader';
    if (!presented) return fail(new StoreError('Code: 516. DB::Exception: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)', 516, false), queryId);
    // As in ClickHouse, a GET request is read-only whoever sends it.
    const identity: Identity = req.method === 'GET' ? 'reader' : presented;
    const store = getStore();
    if (!store || !opts.isReady()) return fail(new StoreError('the telemetry store is starting or stopping; retry shortly', 1002, true), queryId);
    if (url.searchParams.get('decompress') === '1') return fail(new HttpError(400, 'decompress=1 (ClickHouse native compression) is not supported here; send gzip with Content-Encoding instead'), queryId);

    let body = req.method === 'POST' ? await readBody(req, opts.maxBodyBytes) : Buffer.alloc(0);
    const all = new Map(url.searchParams);
    try {
      // Long query parameters travel as form fields (@clickhouse/client); the form is then the whole body.
      const boundary = multipartBoundary(req.headers['content-type']);
      if (boundary) {
        for (const [k, v] of parseMultipart(body, boundary)) all.set(k, v);
        body = Buffer.alloc(0);
      }
    } catch (err) {
      return fail(err, queryId);
    }
    const { params, settings } = splitParams(all);
    const urlQuery = all.get('query') ?? null;
    let sql: string;
    let data: Buffer | undefined;
    if (urlQuery !== null) {
      sql = urlQuery;
      // As in ClickHouse: with the query in the URL, the body is the INSERT's data, or the query's continuation.
      if (insertAwaitsData(urlQuery)) data = body;
      else if (body.length > 0) sql = `${urlQuery}\n${body.toString('utf8')}`;
    } else {
      const inline = splitInlineInsert(body);
      if (inline) ({ sql, data } = inline);
      else sql = body.toString('utf8');
    }
    if (sql.trim() === '') return fail(new StoreError('Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)', 62, false), queryId);
    // An INSERT … FORMAT X with no rows at all inserts nothing, as in ClickHouse (not "no data to insert").
    if (!data && insertAwaitsData(sql)) data = Buffer.alloc(0);

    // As in ClickHouse, the X-ClickHouse-Format / X-ClickHouse-Database request headers win over the URL.
    const defaultFormat = header(req, 'x-clickhouse-format') ?? all.get('default_format') ?? 'TabSeparated';
    const format = formatClause(sql) ?? defaultFormat;
    const database = header(req, 'x-clickhouse-database') ?? all.get('database') ?? undefined;
    let session: SessionRef | undefined;
    let verdict;
    try {
      const id = all.get('session_id');
      if (id) session = { id, timeoutSeconds: parseSessionTimeout(all.get('session_timeout') ?? null), check: all.get('session_check') === '1' };
      checkSettings(Object.keys(settings));
      if (scope && session) throw new StoreError('Code: 497. DB::Exception: client sessions (session_id) are not offered to team members: each request stands alone. (ACCESS_DENIED)', 497, false);
      if (scope && !scope.anyDatabase && database !== undefined && database !== 'default') {
        throw new StoreError(`Code: 497. DB::Exception: team members read the database default only, not ${database}. (ACCESS_DENIED)`, 497, false);
      }
      // The engine's own parse decides what the statement is: one statement only, comments and quoting
      // normalised, so no spelling of a statement reaches past the guard.
      const normalized = await store.normalize(sql);
      scope?.checkKind(normalized);
      verdict = checkStatement(normalized, identity, session !== undefined);
      // What the member may read, checked by the engine in the member's own session (team/read-check.ts).
      await scope?.admit(normalized, database ?? 'default', async (stmt) =>
        (await store.query(stmt, { params, settings, database, format: 'TSVRaw', identity: 'reader', scope: scope.store })).toString('utf8'));
    } catch (err) {
      return fail(err, queryId);
    }
    const answersResult = !NO_RESULT_KINDS.has(verdict.kind);
    const headers: Record<string, string | number> = {
      'Content-Type': answersResult ? contentTypeFor(format) : 'text/plain; charset=UTF-8',
      ...(answersResult ? { 'X-ClickHouse-Format': format } : {}),
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Timezone': 'UTC',
      'X-ClickHouse-Server-Display-Name': 'chapter-telemetry',
    };
    if (gzip) headers['Content-Encoding'] = 'gzip';
    // As in ClickHouse, the writer's GET runs in `readonly = 2`: read-only, yet its URL settings apply. (A
    // client session keeps the reader's: `readonly` could not be put back on a session that took it.)
    const runAs: Identity = req.method === 'GET' && presented === 'writer' && !session ? 'writer' : identity;
    if (runAs !== identity) {
      delete settings.readonly;
      settings.readonly = '2';
    }
    const q = { params, settings, format: defaultFormat, database, identity: runAs, session, scope: scope?.store };

    if (!verdict.streams || data) {
      let out: Buffer;
      let summary: QuerySummary | undefined;
      const gone = new AbortController();
      const onClose = () => gone.abort();
      res.on('close', onClose);
      try {
        out = await store.query(sql, { ...q, data, signal: gone.signal, onSummary: (s) => (summary = s) });
      } catch (err) {
        return fail(err, queryId);
      } finally {
        res.off('close', onClose);
      }
      // The engine's counts, once the statement is over (ClickHouse sends them with the status line).
      if (summary) {
        headers['X-ClickHouse-Summary'] = summaryHeader(summary);
        if (all.get('send_progress_in_http_headers') === '1') headers['X-ClickHouse-Progress'] = summaryHeader(summary);
      }
      res.writeHead(200, headers);
      return finish(res, gzip, out);
    }
    // wait_end_of_query=1: hold the result (up to WAIT_BUFFER_BYTES) so a late error still gets an error status.
    await streamResult(store, res, sql, q, headers, gzip, queryId, all.get('wait_end_of_query') === '1' ? WAIT_BUFFER_BYTES : 0);
  }

  /**
   * Sends a result as the engine produces it. The first chunk (or, with `hold`, up to that many bytes:
   * ClickHouse's `wait_end_of_query`, whose own buffer spills to disk beyond `buffer_size`; here the rest
   * streams) is awaited before the status line, so an early error (most of them) is an ordinary error
   * response. An error after that is written the
   * way ClickHouse (25.11+) marks one inside a body — `X-ClickHouse-Exception-Tag` names the marker — so
   * `@clickhouse/client` raises it. A client that goes away cancels the query; a slow client slows the
   * engine (the next chunk is pulled only once the socket took the last one), so memory stays flat.
   */
  async function streamResult(
    store: Store,
    res: ServerResponse,
    sql: string,
    q: { params: Record<string, string>; settings: Record<string, string>; format: string; database?: string; identity: Identity; session?: SessionRef; scope?: ReadScope },
    headers: Record<string, string | number>,
    gzip: boolean,
    queryId: string,
    hold: number,
  ): Promise<void> {
    const abort = new AbortController();
    const gone = () => abort.abort();
    res.on('close', gone);
    const chunks = store.stream(sql, { ...q, signal: abort.signal })[Symbol.asyncIterator]();
    let first: IteratorResult<Uint8Array>;
    const held: Uint8Array[] = [];
    try {
      let size = 0;
      for (first = await chunks.next(); !first.done && size + first.value.length <= hold; first = await chunks.next()) {
        held.push(first.value);
        size += first.value.length;
      }
    } catch (err) {
      res.off('close', gone);
      return sendError(res, err, queryId, gzip);
    }
    const tag = randomBytes(8).toString('hex');
    res.writeHead(200, { ...headers, 'X-ClickHouse-Exception-Tag': tag });
    const out: Writable = gzip ? createGzip() : res;
    if (gzip) (out as ReturnType<typeof createGzip>).pipe(res);
    for (const chunk of held) out.write(chunk);
    // One chunk ahead: the engine makes the next chunk while the socket takes this one. Pulling only after
    // 'drain' left the engine idle for each chunk's whole send (CSV at 0.70× the engine's own rate). Memory
    // stays bounded: at most this chunk, the one being made, and the socket's buffer.
    let ahead: Promise<IteratorResult<Uint8Array>> | undefined;
    try {
      let next = first;
      while (!next.done && !abort.signal.aborted) {
        const flushed = out.write(next.value);
        ahead = chunks.next();
        // Settled later (or left behind by a hang-up, whose cancel then shows up here as a rejection).
        ahead.catch(() => undefined);
        if (!flushed) await drained(out, res);
        if (abort.signal.aborted) break;
        next = await ahead;
        ahead = undefined;
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        const message = errorText(describeError(err).text, opts.serverVersion());
        out.write(exceptionBlock(tag, message));
      }
    } finally {
      res.off('close', gone);
      if (abort.signal.aborted) await chunks.return?.(undefined).catch(() => undefined);
    }
    out.end();
  }

  /** Until `out` takes more, or the client is gone; the listeners go with it (a long result waits thousands of times). */
  function drained(out: Writable, res: ServerResponse): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        res.off('close', done);
        resolve();
      };
      out.on('drain', done);
      res.on('close', done);
    });
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
