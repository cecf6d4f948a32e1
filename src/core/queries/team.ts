/**
 * The Team scope's questions (a coordinator's view of the whole team), read ONLY from the team
 * server's aggregate tables — `daily_metrics`, `session_summaries` and `daily_errors` — because a
 * coordinator may see every member's aggregates but no other member's raw events (the server
 * enforces that; these queries simply never ask for more).
 *
 * Days: the aggregates are cut into days by the team server (its own time zone, `toDate(timestamp)`),
 * so the window is a range of those days, bound as `{from_day:Date}` … `{to_day:Date}` inclusive.
 * Chapters: the chapter a request's terminal was tagged with (`chapter_context`), as aggregated.
 */
import { bind, type BoundQuery } from './types';

/** Inclusive range of team-server days, 'YYYY-MM-DD'. */
export interface DayRange {
  fromDay: string;
  toDay: string;
}

// Columns are read through the table alias `t`: a result alias such as `requests` or `day` must never
// shadow the column of the same name inside another expression (ClickHouse resolves aliases first).
const DAYS = `t.day >= {from_day:Date} AND t.day <= {to_day:Date}`;
const TOKENS = `t.input_tokens + t.output_tokens + t.cache_read_tokens + t.cache_creation_tokens`;
const dayParams = (r: DayRange) => ({ from_day: r.fromDay, to_day: r.toDay });

/** Cost by member: one row per member with requests or errors in the range, most expensive first. */
export interface MemberCostRow {
  member: string;
  cost: number;
  requests: number;
  errors: number;
  tokens: number;
  chapters: number;
}
export function teamCostByMember(r: DayRange): BoundQuery<MemberCostRow> {
  return bind('team.costByMember', `SELECT t.user_id AS member, toFloat64(sum(t.cost_usd)) AS cost, toFloat64(sum(t.requests)) AS requests,
  toFloat64(sum(t.errors)) AS errors, toFloat64(sum(${TOKENS})) AS tokens,
  toFloat64(uniqExactIf(t.chapter, t.chapter != '' AND t.requests > 0)) AS chapters
FROM daily_metrics AS t
WHERE ${DAYS}
GROUP BY member
HAVING requests > 0 OR errors > 0
ORDER BY cost DESC, member ASC`, dayParams(r));
}

/** Cost and requests per day and member (the stacked chart). */
export interface DayMemberCostRow {
  day: string;
  member: string;
  cost: number;
  requests: number;
}
export function teamDailyCostByMember(r: DayRange): BoundQuery<DayMemberCostRow> {
  return bind('team.dailyCostByMember', `SELECT toString(t.day) AS day, t.user_id AS member, toFloat64(sum(t.cost_usd)) AS cost, toFloat64(sum(t.requests)) AS requests
FROM daily_metrics AS t
WHERE ${DAYS}
GROUP BY day, member
HAVING requests > 0
ORDER BY day, member`, dayParams(r));
}

/** The team's API error rate per member, from the daily rollup (requests and API errors counted side by side). */
export interface MemberErrorRateRow {
  member: string;
  requests: number;
  errors: number;
}
export function teamErrorRateByMember(r: DayRange): BoundQuery<MemberErrorRateRow> {
  return bind('team.errorRateByMember', `SELECT t.user_id AS member, toFloat64(sum(t.requests)) AS requests, toFloat64(sum(t.errors)) AS errors
FROM daily_metrics AS t
WHERE ${DAYS}
GROUP BY member
HAVING errors > 0
ORDER BY errors DESC, member ASC`, dayParams(r));
}

/**
 * The team's error patterns, from `daily_errors` (counts and kinds, no message text: that is
 * content): failed API calls by error type and HTTP status, failed tool runs by tool and error type.
 */
const KIND = `t.event_type AS event_type, t.error_type AS error_type, toString(t.status_code) AS status_code, t.tool_name AS tool_name`;
export interface ErrorKind {
  event_type: string;
  error_type: string;
  status_code: string;
  tool_name: string;
}
export interface ErrorPatternRow extends ErrorKind {
  errors: number;
  members: number;
  chapters: number;
  last_seen: string;
}
export function teamErrorPatterns(r: DayRange): BoundQuery<ErrorPatternRow> {
  return bind('team.errorPatterns', `SELECT ${KIND}, toFloat64(sum(t.errors)) AS errors,
  toFloat64(uniqExact(t.user_id)) AS members, toFloat64(uniqExactIf(t.chapter, t.chapter != '')) AS chapters, toString(max(t.day)) AS last_seen
FROM daily_errors AS t
WHERE ${DAYS}
GROUP BY event_type, error_type, status_code, tool_name
HAVING errors > 0
ORDER BY errors DESC, event_type, error_type, status_code, tool_name`, dayParams(r));
}

/** The same kinds per day (the stacked chart). */
export interface DayErrorKindRow extends ErrorKind {
  day: string;
  errors: number;
}
export function teamDailyErrors(r: DayRange): BoundQuery<DayErrorKindRow> {
  return bind('team.dailyErrors', `SELECT toString(t.day) AS day, ${KIND}, toFloat64(sum(t.errors)) AS errors
FROM daily_errors AS t
WHERE ${DAYS}
GROUP BY day, event_type, error_type, status_code, tool_name
HAVING errors > 0
ORDER BY day, errors DESC, event_type, error_type, status_code, tool_name`, dayParams(r));
}

/** Which kinds hit whom. */
export interface MemberErrorKindRow extends ErrorKind {
  member: string;
  errors: number;
}
export function teamErrorsByMember(r: DayRange): BoundQuery<MemberErrorKindRow> {
  return bind('team.errorsByMember', `SELECT t.user_id AS member, ${KIND}, toFloat64(sum(t.errors)) AS errors
FROM daily_errors AS t
WHERE ${DAYS}
GROUP BY member, event_type, error_type, status_code, tool_name
HAVING errors > 0
ORDER BY member, errors DESC, event_type, error_type, status_code, tool_name`, dayParams(r));
}

/** Chapter complexity across contributors: tokens, requests, tokens per request, contributors, cost. */
export interface TeamChapterRow {
  chapter: string;
  tokens: number;
  requests: number;
  avg_tokens_per_request: number;
  contributors: number;
  cost: number;
  errors: number;
}
export function teamChapterComplexity(r: DayRange): BoundQuery<TeamChapterRow> {
  return bind('team.chapterComplexity', `SELECT t.chapter AS chapter, toFloat64(sum(${TOKENS})) AS tokens, toFloat64(sum(t.requests)) AS requests,
  toFloat64(if(sum(t.requests) = 0, 0, sum(${TOKENS}) / sum(t.requests))) AS avg_tokens_per_request,
  toFloat64(uniqExactIf(t.user_id, t.requests > 0)) AS contributors,
  toFloat64(sum(t.cost_usd)) AS cost, toFloat64(sum(t.errors)) AS errors
FROM daily_metrics AS t
WHERE ${DAYS}
GROUP BY chapter
HAVING requests > 0 OR errors > 0
ORDER BY tokens DESC, chapter ASC`, dayParams(r));
}

/** Who worked on which chapter: tokens and cost per chapter and member. */
export interface ChapterMemberRow {
  chapter: string;
  member: string;
  tokens: number;
  requests: number;
  cost: number;
}
export function teamChapterByMember(r: DayRange): BoundQuery<ChapterMemberRow> {
  return bind('team.chapterByMember', `SELECT t.chapter AS chapter, t.user_id AS member, toFloat64(sum(${TOKENS})) AS tokens, toFloat64(sum(t.requests)) AS requests,
  toFloat64(sum(t.cost_usd)) AS cost
FROM daily_metrics AS t
WHERE ${DAYS}
GROUP BY chapter, member
HAVING requests > 0
ORDER BY chapter ASC, tokens DESC, member ASC`, dayParams(r));
}

/** Sessions per chapter, from the session rollup: sessions whose last event falls in the range. */
export interface ChapterSessionsCountRow {
  chapter: string;
  sessions: number;
}
export function teamChapterSessions(r: DayRange): BoundQuery<ChapterSessionsCountRow> {
  // session_summaries is an AggregatingMergeTree: merge each (user_id, session_id) first, then count.
  return bind('team.chapterSessions', `SELECT chapter, toFloat64(count()) AS sessions
FROM (
  SELECT user_id, session_id, groupUniqArrayArray(chapters) AS chs, max(last_seen) AS last
  FROM session_summaries
  GROUP BY user_id, session_id
)
ARRAY JOIN chs AS chapter
WHERE toDate(last) >= {from_day:Date} AND toDate(last) <= {to_day:Date}
GROUP BY chapter
ORDER BY chapter`, dayParams(r));
}
