import { EVENTS_WITH_CHAPTERS, ROLLUP_DAY, ROLLUP_WINDOW_AND_USER, WINDOW_AND_USER, filterParams } from './filter';
import { bind, type BoundQuery, type Filter } from './types';

/** The sidebar's three periods, each a start in epoch ms; all end at the filter's `toMs`. */
export interface PeriodStarts {
  todayMs: number;
  d7Ms: number;
  d30Ms: number;
}
export const PERIOD_KEYS = ['today', 'd7', 'd30'] as const;
export type PeriodKey = (typeof PERIOD_KEYS)[number];

/** The four kinds of tokens an API request reports, summed. */
export interface TokenSums {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_creation_tokens: number;
}

/** Totals of one period, straight from the engine. */
export interface TotalsRow extends TokenSums {
  cost: number;
  requests: number;
  errors: number;
  sessions: number;
}
export const TOTALS_COLUMNS = [
  'cost', 'requests', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_creation_tokens', 'errors', 'sessions',
] as const satisfies readonly (keyof TotalsRow)[];

/**
 * One aggregate per column over the quarter-hour rollup (`events_15m`); `{since}` is replaced (in
 * this constant text only) by the period's bound start. Periods start at local midnights, which
 * are always whole quarter hours, so sums of buckets equal sums of events.
 */
const TOTALS_EXPR: Record<keyof TotalsRow, string> = {
  cost: `sumIf(cost_usd, {since})`,
  requests: `sumIf(requests, {since})`,
  input_tokens: `sumIf(input_tokens, {since})`,
  output_tokens: `sumIf(output_tokens, {since})`,
  cache_read_tokens: `sumIf(cache_read_tokens, {since})`,
  cache_creation_tokens: `sumIf(cache_creation_tokens, {since})`,
  errors: `sumIf(errors, {since})`,
  sessions: `uniqExactMergeIf(sessions, {since})`,
};

/** Row of the totals query: `<column>_<period>` for every column and period. */
export type PeriodTotalsRow = Record<`${keyof TotalsRow}_${PeriodKey}`, number>;

/** Builds the one-pass SQL from constant fragments (period names and column names, never values). */
function periodTotalsSql(): string {
  const cols: string[] = [];
  for (const p of PERIOD_KEYS) {
    const since = `bucket >= fromUnixTimestamp64Milli({${p}_ms:Int64})`;
    for (const c of TOTALS_COLUMNS) cols.push(`toFloat64(${TOTALS_EXPR[c].replace('{since}', since)}) AS ${c}_${p}`);
  }
  return `SELECT\n  ${cols.join(',\n  ')}\nFROM events_15m\nWHERE ${ROLLUP_WINDOW_AND_USER}`;
}
const PERIOD_TOTALS_SQL = periodTotalsSql();

/** Today / 7 days / 30 days in one scan: the filter's window must start at `d30Ms`. */
export function periodTotals(f: Filter, p: PeriodStarts): BoundQuery<PeriodTotalsRow> {
  return bind('sidebar.totals', PERIOD_TOTALS_SQL, {
    ...filterParams({ ...f, fromMs: p.d30Ms }),
    today_ms: Math.floor(p.todayMs),
    d7_ms: Math.floor(p.d7Ms),
    d30_ms: Math.floor(p.d30Ms),
  });
}

export interface ModelCostRow {
  model: string;
  cost: number;
  requests: number;
}
export function costByModel(f: Filter): BoundQuery<ModelCostRow> {
  return bind('sidebar.costByModel', `SELECT model, toFloat64(sum(cost_usd)) AS cost, toFloat64(sum(requests)) AS requests
FROM events_15m
WHERE ${ROLLUP_WINDOW_AND_USER}
GROUP BY model
HAVING requests > 0
ORDER BY cost DESC, model ASC`, filterParams(f));
}

export interface DayCostRow {
  day: string;
  cost: number;
  requests: number;
}
/** Cost and requests per calendar day (days without requests are absent: fill them with `fillDays`). */
export function dailyCost(f: Filter): BoundQuery<DayCostRow> {
  return bind('sidebar.dailyCost', `SELECT ${ROLLUP_DAY} AS day, toFloat64(sum(cost_usd)) AS cost, toFloat64(sum(requests)) AS requests
FROM events_15m
WHERE ${ROLLUP_WINDOW_AND_USER}
GROUP BY day
HAVING requests > 0
ORDER BY day`, filterParams(f));
}

export interface ChapterTotalsRow {
  cost: number;
  cost_today: number;
  requests: number;
  tokens: number;
  errors: number;
  sessions: number;
}
export interface ChapterCostRow {
  chapter: string;
  cost: number;
  requests: number;
  tokens: number;
}
/** Per attributed chapter: the list period's figures and the 30-day totals (sessions only for `chapter`). */
export interface ChapterBoardRow extends ChapterTotalsRow {
  chapter: string;
  list_cost: number;
  list_requests: number;
  list_tokens: number;
}
/**
 * The sidebar's chapter figures in one pass over the events with their chapters (attributed when
 * stored, no ASOF join at read): the top-chapters list for the list period and the current
 * chapter's totals for the whole window. The window must start at the 30-day start.
 */
export function chapterBoard(f: Filter, listFromMs: number, todayMs: number, chapter: string): BoundQuery<ChapterBoardRow> {
  return bind('sidebar.chapterBoard', `SELECT chapter,
  toFloat64(sumIf(cost_usd, event_type = 'api_request' AND timestamp >= fromUnixTimestamp64Milli({list_ms:Int64}))) AS list_cost,
  toFloat64(countIf(event_type = 'api_request' AND timestamp >= fromUnixTimestamp64Milli({list_ms:Int64}))) AS list_requests,
  toFloat64(sumIf(token_count, event_type = 'api_request' AND timestamp >= fromUnixTimestamp64Milli({list_ms:Int64}))) AS list_tokens,
  toFloat64(sumIf(cost_usd, event_type = 'api_request')) AS cost,
  toFloat64(sumIf(cost_usd, event_type = 'api_request' AND timestamp >= fromUnixTimestamp64Milli({today_ms:Int64}))) AS cost_today,
  toFloat64(countIf(event_type = 'api_request')) AS requests,
  toFloat64(sumIf(token_count, event_type = 'api_request')) AS tokens,
  toFloat64(countIf(event_type = 'api_error')) AS errors,
  toFloat64(uniqExactIf(session_hash, session_hash != 0 AND chapter = {chapter:String})) AS sessions
FROM ${EVENTS_WITH_CHAPTERS}
WHERE ${WINDOW_AND_USER}
GROUP BY chapter`, { ...filterParams(f), list_ms: Math.floor(listFromMs), today_ms: Math.floor(todayMs), chapter });
}

/** Chapters by cost in the list period (ties by name), at most `limit`. */
export function topChaptersOf(board: readonly ChapterBoardRow[], limit: number): ChapterCostRow[] {
  return board
    .filter((r) => r.list_requests > 0)
    .sort((a, b) => b.list_cost - a.list_cost || (a.chapter < b.chapter ? -1 : a.chapter > b.chapter ? 1 : 0))
    .slice(0, Math.max(1, Math.floor(limit)))
    .map((r) => ({ chapter: r.chapter, cost: r.list_cost, requests: r.list_requests, tokens: r.list_tokens }));
}

/** One chapter's totals from the board (zeros when it has no events in the window). */
export function chapterTotalsOf(board: readonly ChapterBoardRow[], chapter: string): ChapterTotalsRow {
  const r = board.find((x) => x.chapter === chapter);
  return r
    ? { cost: r.cost, cost_today: r.cost_today, requests: r.requests, tokens: r.tokens, errors: r.errors, sessions: r.sessions }
    : { cost: 0, cost_today: 0, requests: 0, tokens: 0, errors: 0, sessions: 0 };
}

export interface WatermarkRow {
  events: number;
  last: string;
  focus: number;
}
/**
 * A cheap "did anything change" probe: row counts come from table metadata and the newest timestamp
 * from the sort key, so it can run every second while a view is visible.
 */
export function watermark(): BoundQuery<WatermarkRow> {
  return bind('watermark', `SELECT toFloat64(count()) AS events, toString(max(timestamp)) AS last,
  toFloat64((SELECT count() FROM chapter_focus)) AS focus
FROM telemetry_events`, {});
}

/** 1 when the store holds at least one Claude Code event (else the sidebar shows the first steps). */
export function hasEvents(): BoundQuery<{ n: number }> {
  return bind('sidebar.hasEvents', 'SELECT toFloat64(count()) AS n FROM (SELECT 1 FROM telemetry_events LIMIT 1)', {});
}
