/**
 * Spend budgets, evaluated purely: given what was spent (today, this week, per chapter), the limits
 * the author set and a clock, say how close each limit is, what the status bar shows, and which
 * limits have been crossed in which period. No I/O here: the numbers come from whatever runs the
 * spend queries (the local store now; a team store's "own rows" later), the clock from the caller.
 *
 * Periods are the viewer's local calendar: a day runs from local midnight to the next, a week is the
 * ISO week (Monday 00:00 local to the next Monday), keyed `YYYY-MM-DD` and `YYYY-Www` (ISO week-year).
 * A chapter limit covers the chapter's whole recorded spend (a chapter is written once; its budget
 * does not renew), so its period is `all`.
 */
import { plainExec, type RegexExec } from './chapter';

/** Warning from 80 % of a limit, over from 100 %. */
export const WARNING_RATIO = 0.8;

export type BudgetState = 'ok' | 'warning' | 'over';

export interface BudgetLimits {
  /** USD per local day; 0 = no daily limit. */
  dailyUsd: number;
  /** USD per ISO week; 0 = no weekly limit. */
  weeklyUsd: number;
  /** Regular expression (matched against the chapter name, first match in key order wins) → USD for that chapter. */
  chapterUsd: Readonly<Record<string, number>>;
}

export interface Spend {
  todayUsd: number;
  weekUsd: number;
  /** Whole recorded spend per chapter ('' = no chapter; never given a chapter limit). */
  byChapter: readonly { chapter: string; cost: number }[];
}

export interface PeriodWindow {
  /** `YYYY-MM-DD` for a day, `YYYY-Www` for a week. */
  key: string;
  fromMs: number;
  toMs: number;
}

export interface Periods {
  day: PeriodWindow;
  week: PeriodWindow;
}

export type LimitKind = 'daily' | 'weekly' | 'chapter';

export interface LimitStatus {
  kind: LimitKind;
  /** Chapter name for a chapter limit. */
  chapter?: string;
  /** The pattern that gave a chapter its limit. */
  pattern?: string;
  spentUsd: number;
  limitUsd: number;
  /** spent / limit. */
  ratio: number;
  state: BudgetState;
  /** The period this figure belongs to: the day or week key, or `all` for a chapter. */
  periodKey: string;
  /** What the tooltip says, e.g. "$4.10 of $5.00 today". */
  text: string;
}

/** A limit at or past 100 % in its period: worth one notification, once. */
export interface Crossing {
  /** Stable identity of the limit and period, e.g. `daily:2026-11-30`, `weekly:2026-W49`, `chapter:05-agents:all`. */
  key: string;
  status: LimitStatus;
}

export interface BudgetEvaluation {
  /** The worst state of any limit ('ok' when no limit is set). */
  state: BudgetState;
  periods: Periods;
  /** Every limit that is set, worst first (over, warning, ok), then daily, weekly, chapters by name. */
  statuses: LimitStatus[];
  /** Limits at or past 100 % in the current periods. */
  crossings: Crossing[];
}

const pad = (n: number) => String(n).padStart(2, '0');

function localDayKey(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The ISO week (Monday start; week 1 holds the year's first Thursday) of a local date, as `YYYY-Www`. */
export function isoWeekKey(d: Date): string {
  // Work on a UTC date with the local calendar fields, so daylight-saving shifts cannot move a day.
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow); // the Thursday of this week decides its year
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${pad(week)}`;
}

/** The local day and ISO week that `now` falls in. */
export function periodsAt(now: Date): Periods {
  const y = now.getFullYear();
  const m = now.getMonth();
  const d = now.getDate();
  const dayFrom = new Date(y, m, d).getTime();
  const dayTo = new Date(y, m, d + 1).getTime();
  const back = (now.getDay() + 6) % 7; // days since Monday
  const weekFrom = new Date(y, m, d - back).getTime();
  const weekTo = new Date(y, m, d - back + 7).getTime();
  return {
    day: { key: localDayKey(now), fromMs: dayFrom, toMs: dayTo },
    week: { key: isoWeekKey(now), fromMs: weekFrom, toMs: weekTo },
  };
}

export function usd(v: number): string {
  return `$${(Math.round(v * 100) / 100).toFixed(2)}`;
}

export function stateOf(spent: number, limit: number): BudgetState {
  // Compared in whole cents, so a figure shown as "$5.00 of $5.00" is over, never "99.99 %".
  const s = Math.round(spent * 100);
  const l = Math.round(limit * 100);
  if (s >= l) return 'over';
  if (s >= Math.round(l * WARNING_RATIO)) return 'warning';
  return 'ok';
}

/** A limit value from settings: a positive finite number, else off (0). */
export function limitValue(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

/** Limits from raw setting values (anything else than positive numbers is ignored). */
export function parseLimits(daily: unknown, weekly: unknown, chapters: unknown): BudgetLimits {
  const chapterUsd: Record<string, number> = {};
  if (chapters && typeof chapters === 'object' && !Array.isArray(chapters)) {
    for (const [pattern, v] of Object.entries(chapters as Record<string, unknown>)) {
      if (limitValue(v) > 0 && pattern !== '') chapterUsd[pattern] = limitValue(v);
    }
  }
  return { dailyUsd: limitValue(daily), weeklyUsd: limitValue(weekly), chapterUsd };
}

export function hasLimits(l: BudgetLimits): boolean {
  return l.dailyUsd > 0 || l.weeklyUsd > 0 || Object.keys(l.chapterUsd).length > 0;
}

/**
 * The limit a chapter gets: the first pattern (in the order the author wrote them) that matches the
 * chapter's name. Invalid patterns never match. `exec` bounds each match (patterns may come from a
 * workspace's settings, like the chapter patterns).
 */
export function chapterLimit(chapter: string, limits: BudgetLimits, exec: RegexExec = plainExec): { pattern: string; limitUsd: number } | undefined {
  if (chapter === '') return undefined;
  for (const [pattern, limitUsd] of Object.entries(limits.chapterUsd)) {
    let re: RegExp;
    try {
      re = new RegExp(pattern, 'i');
    } catch {
      continue;
    }
    const m = exec(re, chapter.slice(0, 1024));
    if (m && m !== 'timeout') return { pattern, limitUsd };
  }
  return undefined;
}

const ORDER: Record<BudgetState, number> = { over: 0, warning: 1, ok: 2 };
const KIND_ORDER: Record<LimitKind, number> = { daily: 0, weekly: 1, chapter: 2 };

function status(kind: LimitKind, spentUsd: number, limitUsd: number, periodKey: string, text: string, extra: Partial<LimitStatus> = {}): LimitStatus {
  return { kind, spentUsd, limitUsd, ratio: spentUsd / limitUsd, state: stateOf(spentUsd, limitUsd), periodKey, text, ...extra };
}

export function crossingKey(s: LimitStatus): string {
  return s.kind === 'chapter' ? `chapter:${s.chapter ?? ''}:${s.periodKey}` : `${s.kind}:${s.periodKey}`;
}

export function evaluateBudget(spend: Spend, limits: BudgetLimits, now: Date, exec: RegexExec = plainExec): BudgetEvaluation {
  const periods = periodsAt(now);
  const statuses: LimitStatus[] = [];
  if (limits.dailyUsd > 0) {
    statuses.push(status('daily', spend.todayUsd, limits.dailyUsd, periods.day.key, `${usd(spend.todayUsd)} of ${usd(limits.dailyUsd)} today`));
  }
  if (limits.weeklyUsd > 0) {
    statuses.push(status('weekly', spend.weekUsd, limits.weeklyUsd, periods.week.key, `${usd(spend.weekUsd)} of ${usd(limits.weeklyUsd)} this week`));
  }
  for (const { chapter, cost } of spend.byChapter) {
    const l = chapterLimit(chapter, limits, exec);
    if (!l) continue;
    statuses.push(status('chapter', cost, l.limitUsd, 'all', `${usd(cost)} of ${usd(l.limitUsd)} for chapter ${chapter}`, { chapter, pattern: l.pattern }));
  }
  statuses.sort((a, b) => ORDER[a.state] - ORDER[b.state] || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.chapter ?? '').localeCompare(b.chapter ?? ''));
  const state = statuses[0]?.state ?? 'ok';
  const crossings = statuses.filter((s) => s.state === 'over').map((s) => ({ key: crossingKey(s), status: s }));
  return { state, periods, statuses, crossings };
}

/** The crossings not yet notified (by key), in evaluation order: each limit notifies once per period. */
export function newCrossings(ev: BudgetEvaluation, alreadyNotified: ReadonlySet<string> | readonly string[]): Crossing[] {
  const seen = alreadyNotified instanceof Set ? alreadyNotified : new Set(alreadyNotified as readonly string[]);
  return ev.crossings.filter((c) => !seen.has(c.key));
}

/**
 * What remains worth remembering of notified crossings: keys of the current day and week, and every
 * chapter key (chapters have no period). Keeps the stored list from growing one key a day forever.
 */
export function keepCrossingKeys(keys: readonly string[], periods: Periods): string[] {
  return keys.filter((k) => k.startsWith('chapter:') || k === `daily:${periods.day.key}` || k === `weekly:${periods.week.key}`);
}

/** The notification text for a limit crossed, e.g. "Daily budget reached: $5.20 of $5.00 today." */
export function crossingMessage(c: Crossing): string {
  const what = c.status.kind === 'daily' ? 'Daily budget' : c.status.kind === 'weekly' ? 'Weekly budget' : `Budget for chapter ${c.status.chapter ?? ''}`;
  return `${what} reached: ${c.status.text}.`;
}

/**
 * Week-to-date spend for each day of a chart (days `YYYY-MM-DD`, oldest first, with that day's cost):
 * the running sum restarts on every Monday, so each bar can be read against the weekly limit.
 */
export function weekToDate(days: readonly { day: string; cost: number }[]): { day: string; cost: number }[] {
  let sum = 0;
  let week = '';
  return days.map(({ day, cost }) => {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    const w = isoWeekKey(new Date(y, m - 1, d));
    if (w !== week) {
      week = w;
      sum = 0;
    }
    sum += cost;
    return { day, cost: sum };
  });
}

/** The limits the Cost panel draws: daily, weekly, and each listed chapter's own (from its pattern). */
export interface CostLimits {
  dailyUsd: number;
  weeklyUsd: number;
  chapters: Record<string, number>;
}

export function costLimits(limits: BudgetLimits, chapters: readonly string[], exec: RegexExec = plainExec): CostLimits {
  const out: Record<string, number> = {};
  for (const c of chapters) {
    const l = chapterLimit(c, limits, exec);
    if (l) out[c] = l.limitUsd;
  }
  return { dailyUsd: limits.dailyUsd, weeklyUsd: limits.weeklyUsd, chapters: out };
}
