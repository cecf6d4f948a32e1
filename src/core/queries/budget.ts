import { EVENTS_WITH_CHAPTERS } from './filter';
import { bind, type BoundQuery } from './types';

/**
 * Budget spend: what one author (or everyone, user '') spent on API requests in the current local
 * day and ISO week. The windows are epoch-ms bounds the caller computed in the viewer's zone
 * (src/core/budget.ts `periodsAt`), so no zone is needed here. One scan from the earlier start.
 */
export interface BudgetSpendRow {
  today: number;
  week: number;
}
export function budgetSpend(userId: string, day: { fromMs: number; toMs: number }, week: { fromMs: number; toMs: number }): BoundQuery<BudgetSpendRow> {
  return bind('budget.spend', `SELECT
  toFloat64(sumIf(cost_usd, timestamp >= fromUnixTimestamp64Milli({day_from:Int64}) AND timestamp < fromUnixTimestamp64Milli({day_to:Int64}))) AS today,
  toFloat64(sumIf(cost_usd, timestamp >= fromUnixTimestamp64Milli({week_from:Int64}) AND timestamp < fromUnixTimestamp64Milli({week_to:Int64}))) AS week
FROM telemetry_events
WHERE event_type = 'api_request'
  AND timestamp >= fromUnixTimestamp64Milli(least({day_from:Int64}, {week_from:Int64}))
  AND timestamp < fromUnixTimestamp64Milli(greatest({day_to:Int64}, {week_to:Int64}))
  AND ({user:String} = '' OR user_id = {user:String})`, {
    day_from: Math.floor(day.fromMs), day_to: Math.floor(day.toMs),
    week_from: Math.floor(week.fromMs), week_to: Math.floor(week.toMs),
    user: userId,
  });
}

/** A chapter's whole recorded spend (what a per-chapter limit is measured against), up to `toMs`. */
export interface ChapterSpendRow {
  chapter: string;
  cost: number;
}
export function chapterSpend(userId: string, toMs: number): BoundQuery<ChapterSpendRow> {
  return bind('budget.chapters', `SELECT chapter, toFloat64(sum(cost_usd)) AS cost
FROM ${EVENTS_WITH_CHAPTERS}
PREWHERE event_type = 'api_request'
WHERE chapter != ''
  AND timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
  AND ({user:String} = '' OR user_id = {user:String})
GROUP BY chapter
ORDER BY chapter`, { to_ms: Math.floor(toMs), user: userId });
}
