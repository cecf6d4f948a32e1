/**
 * The weekly report on the first start of each week: decided from the week of the last run (kept in
 * globalState by the caller) and a clock. Weeks are the report's ISO weeks, cut in UTC
 * (src/core/report/iso-week.ts), so "a new week" and "last week's report" agree.
 */
import { isoWeekOf, lastFullWeek, type IsoWeek } from './iso-week';

export interface FirstStartDecision {
  /** The week this start belongs to; remembered once the report was written. */
  current: IsoWeek;
  /** The week to report on (the last full one), or undefined when this week's report was already made. */
  due: IsoWeek | undefined;
}

export function weeklyReportOnStart(lastRunWeek: string | undefined, nowMs: number): FirstStartDecision {
  const current = isoWeekOf(nowMs);
  // Ids compare in time order (YYYY-Www); a clock set back to an earlier week does not report again.
  const done = lastRunWeek !== undefined && lastRunWeek >= current.id;
  return { current, due: done ? undefined : lastFullWeek(nowMs) };
}
