import { DAY, EVENTS_WITH_CHAPTERS, WINDOW_AND_USER, filterParams } from './filter';
import { bind, type BoundQuery, type Filter } from './types';
import type { TokenSums } from './sidebar';

/** The seed's cost-by-day question, split by model for a stacked chart. */
export interface DayModelCostRow {
  day: string;
  model: string;
  cost: number;
  requests: number;
}
export function dailyCostByModel(f: Filter): BoundQuery<DayModelCostRow> {
  return bind('cost.dailyByModel', `SELECT ${DAY} AS day, model, toFloat64(sum(cost_usd)) AS cost, toFloat64(count()) AS requests
FROM telemetry_events
WHERE event_type = 'api_request' AND ${WINDOW_AND_USER}
GROUP BY day, model
ORDER BY day, model`, filterParams(f));
}

export interface ChapterCostTokensRow extends TokenSums {
  chapter: string;
  cost: number;
  requests: number;
  tokens: number;
}
export function costByChapter(f: Filter): BoundQuery<ChapterCostTokensRow> {
  return bind('cost.byChapter', `SELECT chapter, toFloat64(sum(cost_usd)) AS cost, toFloat64(count()) AS requests,
  toFloat64(sum(input_tokens)) AS input_tokens, toFloat64(sum(output_tokens)) AS output_tokens,
  toFloat64(sum(cache_read_tokens)) AS cache_read_tokens, toFloat64(sum(cache_creation_tokens)) AS cache_creation_tokens,
  toFloat64(sum(token_count)) AS tokens
FROM ${EVENTS_WITH_CHAPTERS}
PREWHERE event_type = 'api_request'
WHERE ${WINDOW_AND_USER}
GROUP BY chapter
ORDER BY cost DESC, chapter ASC`, filterParams(f));
}

export interface DayTokensRow extends TokenSums {
  day: string;
}
export function dailyTokensByType(f: Filter): BoundQuery<DayTokensRow> {
  return bind('cost.dailyTokens', `SELECT ${DAY} AS day,
  toFloat64(sum(input_tokens)) AS input_tokens, toFloat64(sum(output_tokens)) AS output_tokens,
  toFloat64(sum(cache_read_tokens)) AS cache_read_tokens, toFloat64(sum(cache_creation_tokens)) AS cache_creation_tokens
FROM telemetry_events
WHERE event_type = 'api_request' AND ${WINDOW_AND_USER}
GROUP BY day
ORDER BY day`, filterParams(f));
}
