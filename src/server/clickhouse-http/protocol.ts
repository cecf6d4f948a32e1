/**
 * What ClickHouse's HTTP interface says besides the result: content types per format, HTTP status per
 * exception code, the error text, and the summary/progress headers.
 */
import { HttpError } from '../http-body';
import { StoreError, type QuerySummary } from '../store/types';

/** How much of a result `wait_end_of_query=1` holds back before the status line. */
export const WAIT_BUFFER_BYTES = 64 * 1024 * 1024;

/** Statements that answer no result: ClickHouse sends them as plain text, with no X-ClickHouse-Format. */
export const NO_RESULT_KINDS = new Set(['INSERT', 'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'RENAME', 'OPTIMIZE', 'DELETE', 'UPDATE', 'EXCHANGE', 'DETACH', 'ATTACH', 'SET', 'USE']);

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

/** ClickHouse's answer for a failed query, as text and HTTP status. */
export function describeError(err: unknown): { code: number; status: number; text: string } {
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

/**
 * The error text as ClickHouse ends it: `(version X)` names the engine's version. chDB's own messages
 * for errors raised inside a nested step already carry one; it is not repeated.
 */
export function errorText(text: string, version: string): string {
  const t = text.trimEnd();
  return /\(version [\d.]+\)$/.test(t) ? `${t}\n` : `${t} (version ${version})\n`;
}

/**
 * `X-ClickHouse-Summary` / `X-ClickHouse-Progress` JSON: ClickHouse sends every counter as a string.
 * Only what the engine reported is included: a missing counter is unknown, never a made-up zero.
 */
export function summaryHeader(s: QuerySummary): string {
  return JSON.stringify(Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])));
}

/**
 * An error after the status line, as ClickHouse 25.11+ writes it inside the body; the response's
 * `X-ClickHouse-Exception-Tag` names `tag`, so a client can tell it from data.
 */
export function exceptionBlock(tag: string, message: string): string {
  return `\r\n__exception__\r\n${tag}\r\n${message}${Buffer.byteLength(message)} ${tag}\r\n__exception__\r\n`;
}
