/**
 * The weekly report's queries (constant SQL, values as parameters): one week [from, to) in UTC days,
 * one author (`all = 0`, `user`) or everyone (`all = 1`). Definitions as in the analytics
 * (docs/ARCHITECTURE.md): requests = api_request events, errors = api_error events, cost and tokens
 * from requests, sessions = distinct session ids over all events, chapters from events_attributed.
 */
import type { BoundQuery } from '../queries/types';

export interface ReportScope {
  /** Empty with `all`. */
  user: string;
  all: boolean;
}

const WHERE = `toDate(timestamp, 'UTC') >= {from:Date} AND toDate(timestamp, 'UTC') < {to:Date}
  AND ({all:UInt8} = 1 OR user_id = {user:String})`;

export interface TotalsRow {
  cost: number; requests: number; errors: number; retries_exhausted: number; sessions: number;
  input_tokens: number; output_tokens: number; cache_read_tokens: number; cache_creation_tokens: number;
}
export interface ErrorTypeRow { error_type: string; errors: number }
export interface DayRow { day: string; cost: number; requests: number }
export interface ChapterRow { chapter: string; cost: number; tokens: number; requests: number }
export interface ModelRow { model: string; cost: number; requests: number; tokens: number }

function params(scope: ReportScope, from: string, to: string) {
  return { from, to, all: scope.all ? 1 : 0, user: scope.all ? '' : scope.user };
}

export function reportQueries(scope: ReportScope, from: string, to: string) {
  const p = params(scope, from, to);
  return {
    totals: {
      name: 'report-totals', params: p,
      sql: `SELECT sumIf(cost_usd, event_type = 'api_request') AS cost, countIf(event_type = 'api_request') AS requests,
          countIf(event_type = 'api_error') AS errors, countIf(event_type = 'api_retries_exhausted') AS retries_exhausted,
          uniqExactIf(session_id, session_id != '') AS sessions,
          sumIf(input_tokens, event_type = 'api_request') AS input_tokens, sumIf(output_tokens, event_type = 'api_request') AS output_tokens,
          sumIf(cache_read_tokens, event_type = 'api_request') AS cache_read_tokens,
          sumIf(cache_creation_tokens, event_type = 'api_request') AS cache_creation_tokens
        FROM default.telemetry_events WHERE ${WHERE}`,
    } as BoundQuery<TotalsRow>,
    errorTypes: {
      name: 'report-error-types', params: p,
      sql: `SELECT toString(error_type) AS error_type, count() AS errors FROM default.telemetry_events
        WHERE ${WHERE} AND event_type = 'api_error' GROUP BY error_type ORDER BY errors DESC, error_type LIMIT 5`,
    } as BoundQuery<ErrorTypeRow>,
    byDay: {
      name: 'report-by-day', params: p,
      sql: `SELECT toString(toDate(timestamp, 'UTC')) AS day, sumIf(cost_usd, event_type = 'api_request') AS cost,
          countIf(event_type = 'api_request') AS requests
        FROM default.telemetry_events WHERE ${WHERE} GROUP BY day ORDER BY day`,
    } as BoundQuery<DayRow>,
    chapters: {
      name: 'report-chapters', params: p,
      sql: `SELECT if(chapter = '', '(none)', chapter) AS chapter, sum(cost_usd) AS cost, sum(token_count) AS tokens, count() AS requests
        FROM default.events_attributed WHERE ${WHERE} AND event_type = 'api_request'
        GROUP BY chapter ORDER BY cost DESC, chapter LIMIT 10`,
    } as BoundQuery<ChapterRow>,
    models: {
      name: 'report-models', params: p,
      sql: `SELECT toString(model) AS model, sum(cost_usd) AS cost, count() AS requests, sum(token_count) AS tokens
        FROM default.telemetry_events WHERE ${WHERE} AND event_type = 'api_request'
        GROUP BY model ORDER BY cost DESC, model`,
    } as BoundQuery<ModelRow>,
  };
}
