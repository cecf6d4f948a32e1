/**
 * A request's parameters as ClickHouse reads them: from the URL, and from `multipart/form-data` fields
 * (what @clickhouse/client sends when query parameters are long: the query and `param_x` move into the
 * body). `param_x` values are kept as sent, in ClickHouse's escaped text form; the engine parses them
 * (store/chdb.ts, `SET param_x`). The rest are query settings, except the protocol's own names.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http-body';

/** URL parameters that are part of the HTTP protocol rather than query settings. */
const PROTOCOL_PARAMS = new Set([
  'query', 'database', 'default_format', 'query_id', 'session_id', 'session_timeout', 'session_check', 'user', 'password',
  'quota_key', 'compress', 'decompress', 'buffer_size', 'wait_end_of_query', 'role', 'enable_http_compression',
  'http_zlib_compression_level', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'add_http_cors_header',
  'client_protocol_version',
]);

export interface RequestParams {
  /** Every parameter, URL first, then form fields (a form field wins). */
  all: Map<string, string>;
  /** `param_x` values by name (`x`), as sent. */
  params: Record<string, string>;
  /** Query settings. */
  settings: Record<string, string>;
}

export function splitParams(all: Map<string, string>): RequestParams {
  const params: Record<string, string> = {};
  const settings: Record<string, string> = {};
  for (const [k, v] of all) {
    if (k.startsWith('param_')) params[k.slice(6)] = v;
    else if (!PROTOCOL_PARAMS.has(k)) settings[k] = v;
  }
  return { all, params, settings };
}

/** The boundary of a `multipart/form-data` request, or undefined for any other body. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return undefined;
  const m = /\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) throw new HttpError(400, 'multipart/form-data without a boundary');
  return m[1] ?? m[2];
}

/**
 * The fields of a `multipart/form-data` body. A part with a file name would be an external table in
 * ClickHouse; that is not offered here and is refused rather than ignored.
 */
export function parseMultipart(body: Buffer, boundary: string): Map<string, string> {
  const fields = new Map<string, string>();
  const text = body.toString('utf8');
  const delimiter = `--${boundary}`;
  const pieces = text.split(delimiter);
  if (pieces.length < 2) throw new HttpError(400, 'multipart/form-data body without its boundary');
  for (const piece of pieces.slice(1)) {
    if (piece.startsWith('--')) break;
    const part = piece.replace(/^\r?\n/, '');
    const headEnd = part.search(/\r?\n\r?\n/);
    if (headEnd < 0) throw new HttpError(400, 'malformed multipart/form-data part');
    const head = part.slice(0, headEnd);
    const value = part.slice(headEnd).replace(/^\r?\n\r?\n/, '').replace(/\r?\n$/, '');
    const disposition = /content-disposition:[^\r\n]*/i.exec(head)?.[0] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (!name) throw new HttpError(400, 'multipart/form-data part without a name');
    if (/\bfilename=/i.test(disposition)) throw new HttpError(400, `multipart/form-data file part "${name}": external tables are not supported by this server`);
    fields.set(name, value);
  }
  return fields;
}

/** A request header's value, when given once and not empty. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}
