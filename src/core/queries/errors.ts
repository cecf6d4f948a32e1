import { DAY, WINDOW_AND_USER, filterParams, localTime } from './filter';
import { bind, type BoundQuery, type Filter } from './types';

/** The seed's error-pattern question: API errors per day by Anthropic error type and HTTP status. */
export interface DayErrorRow {
  day: string;
  error_type: string;
  status_code: string;
  errors: number;
}
export function errorsByTypeAndStatus(f: Filter): BoundQuery<DayErrorRow> {
  return bind('errors.byTypeStatus', `SELECT ${DAY} AS day, error_type, toString(status_code) AS status_code, toFloat64(count()) AS errors
FROM telemetry_events
WHERE event_type = 'api_error' AND ${WINDOW_AND_USER}
GROUP BY day, error_type, status_code
ORDER BY day, errors DESC, error_type, status_code`, filterParams(f));
}

/** Requests, errors and exhausted retries per day (the error rate is errors / (requests + errors)). */
export interface DayErrorRateRow {
  day: string;
  requests: number;
  errors: number;
  retries_exhausted: number;
}
export function dailyErrorRate(f: Filter): BoundQuery<DayErrorRateRow> {
  return bind('errors.dailyRate', `SELECT ${DAY} AS day,
  toFloat64(countIf(event_type = 'api_request')) AS requests,
  toFloat64(countIf(event_type = 'api_error')) AS errors,
  toFloat64(countIf(event_type = 'api_retries_exhausted')) AS retries_exhausted
FROM telemetry_events
WHERE event_type IN ('api_request', 'api_error', 'api_retries_exhausted') AND ${WINDOW_AND_USER}
GROUP BY day
ORDER BY day`, filterParams(f));
}

export interface ErrorMessageRow {
  error_type: string;
  error_message: string;
  errors: number;
  last_seen: string;
}
export function topErrorMessages(f: Filter, limit: number): BoundQuery<ErrorMessageRow> {
  return bind('errors.topMessages', `SELECT error_type, error_message, toFloat64(count()) AS errors, ${localTime('max(timestamp)')} AS last_seen
FROM telemetry_events
WHERE event_type IN ('api_error', 'api_retries_exhausted') AND ${WINDOW_AND_USER}
GROUP BY error_type, error_message
ORDER BY errors DESC, last_seen DESC
LIMIT {limit:UInt32}`, { ...filterParams(f), limit: Math.max(1, Math.floor(limit)) });
}

export interface AffectedSessionRow {
  session_id: string;
  author: string;
  /** The chapter of the session's latest error. */
  last_chapter: string;
  errors: number;
  retries_exhausted: number;
  first_seen: string;
  last_seen: string;
}
export function affectedSessions(f: Filter, limit: number): BoundQuery<AffectedSessionRow> {
  return bind('errors.sessions', `SELECT session_id, any(user_id) AS author, argMax(chapter, timestamp) AS last_chapter,
  toFloat64(countIf(event_type = 'api_error')) AS errors,
  toFloat64(countIf(event_type = 'api_retries_exhausted')) AS retries_exhausted,
  ${localTime('min(timestamp)')} AS first_seen, ${localTime('max(timestamp)')} AS last_seen
FROM events_attributed
WHERE event_type IN ('api_error', 'api_retries_exhausted') AND ${WINDOW_AND_USER}
GROUP BY session_id
ORDER BY last_seen DESC
LIMIT {limit:UInt32}`, { ...filterParams(f), limit: Math.max(1, Math.floor(limit)) });
}

export interface ErrorOccurrenceRow {
  at: string;
  event_type: string;
  error_type: string;
  status_code: string;
  error_message: string;
  model: string;
  attempt: number;
  session_id: string;
  chapter: string;
}
/** The latest occurrences of one error type (the drill-down when a type is clicked). */
export function latestOccurrences(f: Filter, errorType: string, limit: number): BoundQuery<ErrorOccurrenceRow> {
  return bind('errors.occurrences', `SELECT ${localTime('timestamp')} AS at, event_type, error_type, toString(status_code) AS status_code,
  error_message, model, toFloat64(attempt) AS attempt, session_id, chapter
FROM events_attributed
WHERE event_type IN ('api_error', 'api_retries_exhausted') AND error_type = {error_type:String} AND ${WINDOW_AND_USER}
ORDER BY timestamp DESC
LIMIT {limit:UInt32}`, { ...filterParams(f), error_type: errorType, limit: Math.max(1, Math.floor(limit)) });
}
