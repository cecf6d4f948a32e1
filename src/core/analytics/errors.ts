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
  /** Where the read went: the team server's failures have no local Start to offer. Absent = the local store. */
  source?: 'team';
}

const UNKNOWN_TABLE = /UNKNOWN_TABLE|Code: 60\b|Unknown table|doesn't exist/i;

/** True when the engine said a table is missing (code 60), whatever client raised it. */
export function isUnknownTable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return e?.code === '60' || UNKNOWN_TABLE.test(e && typeof e.message === 'string' ? e.message : String(err));
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
  if (isUnknownTable(err)) {
    return { kind: 'schema', message: 'The telemetry store is missing the analytics tables.', hint: 'Restart collection so the server applies its migrations; Show Logs tells if that failed.', detail };
  }
  return { kind: 'query', message: 'An analytics query failed.', hint: 'Show Logs has the engine\'s message; please report it if it persists.', detail };
}

/** The same for a read from the team server (the Mine and Team scopes): other causes, other remedies. */
export function classifyTeamFailure(err: unknown, url: string): QueryFailure {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } } | undefined;
  const detail = e && typeof e.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : '';
  if (code === '516' || /Code: 516\b|Authentication failed/i.test(detail)) {
    return { source: 'team', kind: 'query', message: `The team server at ${url} refused this member's credential (wrong, rotated or removed).`, hint: 'Ask the team admin for a new bundle and run Centralize Telemetry again, or choose a Local scope.', detail };
  }
  if (code === '497' || /Code: 497\b|Not enough privileges|ACCESS_DENIED/i.test(detail)) {
    return { source: 'team', kind: 'query', message: 'The team server does not let this member read that.', hint: 'Choose Mine or a Local scope; the Team scope is for coordinators.', detail };
  }
  if (/certificate|self[- ]signed|UNABLE_TO_VERIFY|ERR_TLS|CERT_/i.test(code + ' ' + detail)) {
    return { source: 'team', kind: 'unreachable', message: `The team server at ${url} did not present a certificate from the team's CA.`, hint: 'Check the team server address; if the team CA changed, connect again with a new bundle.', detail };
  }
  if (NETWORK_CODES.has(code) || /socket hang up|timeout|fetch failed|ECONNREFUSED/i.test(detail)) {
    return { source: 'team', kind: 'unreachable', message: `The team server at ${url} does not answer.`, hint: 'Check the network or ask the team admin whether the server runs; Local scopes work offline.', detail };
  }
  if (isUnknownTable(err)) {
    return { source: 'team', kind: 'schema', message: 'The team server is missing an analytics table.', hint: 'Ask the team admin to update and restart the team server.', detail };
  }
  return { source: 'team', kind: 'query', message: 'A query to the team server failed.', hint: 'Show Logs has the server\'s message.', detail };
}
