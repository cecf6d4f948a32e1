/** Why a query failed, in words an author can act on. */
export type QueryFailureKind = 'unreachable' | 'schema' | 'query';

export interface QueryFailure {
  kind: QueryFailureKind;
  /** What happened, in one sentence. */
  message: string;
  /** What to do about it, in one sentence. */
  hint: string;
  /** The original error text, for the logs. */
  detail: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET']);

/** Classifies an error from the ClickHouse client (or a missing endpoint) without knowing the client's classes. */
export function classifyQueryFailure(err: unknown, endpoint: string | undefined): QueryFailure {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } } | undefined;
  const detail = e && typeof e.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : '';
  if (endpoint === undefined) {
    return { kind: 'unreachable', message: 'Telemetry collection is not running, so there is no store to read.', hint: 'Press Start to start collection, or Show Logs if it failed before.', detail };
  }
  if (NETWORK_CODES.has(code) || /socket hang up|timeout|fetch failed|ECONNREFUSED/i.test(detail)) {
    return { kind: 'unreachable', message: `The telemetry store at ${endpoint} does not answer.`, hint: 'Press Start to (re)start collection, or Show Logs to see why it stopped.', detail };
  }
  if (/UNKNOWN_TABLE|Code: 60\b|Unknown table|doesn't exist/i.test(detail) || e?.code === '60') {
    return { kind: 'schema', message: 'The telemetry store is missing the analytics tables.', hint: 'Restart collection so the server applies its migrations; Show Logs tells if that failed.', detail };
  }
  return { kind: 'query', message: 'An analytics query failed.', hint: 'Show Logs has the engine\'s message; please report it if it persists.', detail };
}
