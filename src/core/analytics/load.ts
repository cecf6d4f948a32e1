/** Runs each view's query set (in parallel) and shapes the rows into what the view shows. */
import {
  PERIOD_KEYS, affectedSessions, chapterBoard, chapterPanel, chapterSessions, chapterTotalsOf, costByChapter, costByModel,
  dailyCost, dailyCostByModel, hasEvents, dailyErrorRate, dailyTokensByType, errorsByTypeAndStatus, latestOccurrences,
  periodTotals, splitChapterPanel, topChaptersOf, topErrorMessages, TOTALS_COLUMNS, hiddenByAuthor,
  type ChapterSessionRow, type ErrorOccurrenceRow, type Filter, type HiddenRowsRow, type PeriodKey, type QueryRunner, type TotalsRow,
} from '../queries';
import type { ChaptersData, CostData, ErrorsData, PeriodTotals, RangeSpec, ResolvedRange, SidebarData } from './models';
import { DEFAULT_SCOPE, filterScope, type ViewScope } from './scope';
import { cacheHitRate, errorRate } from './rates';
import { dayKey, daysBetween, fillDays, localTimeZone, midnightMs } from './time';

export interface Who {
  /** The author a `me` / `mine` scope keeps (the configured id locally, the member name on the team server). */
  userId: string;
  now?: Date;
  timeZone?: string;
}

function baseFilter(who: Who, scope: ViewScope, fromMs: number, toMs: number): Filter {
  return { userId: who.userId, scope: filterScope(scope), fromMs, toMs, timeZone: who.timeZone ?? localTimeZone() };
}

/**
 * Only the local `me` scope hides rows that the same store holds (on the team server, `mine` reads
 * what the member may read: other members' rows are not there to count).
 */
async function hiddenRows(run: QueryRunner, scope: ViewScope, f: Filter): Promise<HiddenRowsRow | undefined> {
  if (scope !== 'me') return undefined;
  const [h] = await run.rows(hiddenByAuthor(f));
  return h && (h.requests > 0 || h.errors > 0) ? h : undefined;
}

const withHidden = (hidden: HiddenRowsRow | undefined) => (hidden ? { hidden } : {});

const LIST_START_DAYS: Record<PeriodKey, number> = { today: 0, d7: 6, d30: 29 };

export async function loadSidebar(run: QueryRunner, who: Who, opts: { chapter?: string; listPeriod?: PeriodKey; scope?: ViewScope } = {}): Promise<SidebarData> {
  const scope = opts.scope ?? DEFAULT_SCOPE;
  const now = who.now ?? new Date();
  const toMs = midnightMs(now, -1);
  const starts = { todayMs: midnightMs(now, 0), d7Ms: midnightMs(now, 6), d30Ms: midnightMs(now, 29) };
  const listPeriod = opts.listPeriod ?? 'd7';
  const f30 = baseFilter(who, scope, starts.d30Ms, toMs);
  const fList = { ...f30, fromMs: midnightMs(now, LIST_START_DAYS[listPeriod]) };
  const f14 = { ...f30, fromMs: midnightMs(now, 13) };
  const [totals, board, models, daily, any, hidden] = await Promise.all([
    run.rows(periodTotals(f30, starts)),
    run.rows(chapterBoard(f30, fList.fromMs, starts.todayMs, opts.chapter ?? '')),
    run.rows(costByModel(fList)),
    run.rows(dailyCost(f14)),
    run.rows(hasEvents()),
    hiddenRows(run, scope, f30),
  ]);
  const chapters = topChaptersOf(board, 5);
  const t = totals[0];
  const periods = Object.fromEntries(PERIOD_KEYS.map((p) => {
    const row = Object.fromEntries(TOTALS_COLUMNS.map((c) => [c, t ? Number(t[`${c}_${p}`]) : 0])) as unknown as TotalsRow;
    return [p, { ...row, cache_hit_rate: cacheHitRate(row), error_rate: errorRate(row) } satisfies PeriodTotals];
  })) as Record<PeriodKey, PeriodTotals>;
  return {
    scope,
    ...withHidden(hidden),
    empty: (any[0]?.n ?? 0) === 0,
    userId: f30.scope === 'me' ? who.userId : '',
    periods,
    listPeriod,
    topChapters: chapters,
    models,
    sparkline: fillDays(daysBetween(f14.fromMs, toMs), daily, (day) => ({ day, cost: 0, requests: 0 })),
    current: opts.chapter !== undefined ? { chapter: opts.chapter, totals: chapterTotalsOf(board, opts.chapter) } : undefined,
    asOf: now.getTime(),
  };
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Turns a range picker choice into a window of whole local days ending at the end of `toDay` (or today). */
export function resolveRange(spec: RangeSpec, now: Date = new Date()): ResolvedRange {
  let fromMs: number;
  let toMs: number;
  if (spec.preset === 'custom' && spec.fromDay && spec.toDay && DAY_RE.test(spec.fromDay) && DAY_RE.test(spec.toDay)) {
    const [a, b] = [spec.fromDay, spec.toDay].sort();
    const [fy, fm, fd] = a!.split('-').map(Number) as [number, number, number];
    const [ty, tm, td] = b!.split('-').map(Number) as [number, number, number];
    fromMs = new Date(fy, fm - 1, fd).getTime();
    toMs = new Date(ty, tm - 1, td + 1).getTime();
  } else {
    const n = spec.preset === 'custom' ? 30 : spec.preset;
    fromMs = midnightMs(now, n - 1);
    toMs = midnightMs(now, -1);
  }
  const days = daysBetween(fromMs, toMs);
  const label = `${days[0] ?? dayKey(new Date(fromMs))} – ${days[days.length - 1] ?? dayKey(new Date(toMs))}`;
  return { fromMs, toMs, days, label };
}

export async function loadCost(run: QueryRunner, who: Who, spec: RangeSpec): Promise<CostData> {
  const range = resolveRange(spec, who.now);
  const f = baseFilter(who, spec.scope, range.fromMs, range.toMs);
  const [daily, chapters, tokens, hidden] = await Promise.all([
    run.rows(dailyCostByModel(f)), run.rows(costByChapter(f)), run.rows(dailyTokensByType(f)), hiddenRows(run, spec.scope, f),
  ]);
  const models = [...new Set(daily.map((r) => r.model))].sort();
  return {
    scope: spec.scope, ...withHidden(hidden),
    range, daily, models, chapters,
    tokens: fillDays(range.days, tokens, (day) => ({ day, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_creation_tokens: 0 })),
  };
}

export async function loadErrors(run: QueryRunner, who: Who, spec: RangeSpec): Promise<ErrorsData> {
  const range = resolveRange(spec, who.now);
  const f = baseFilter(who, spec.scope, range.fromMs, range.toMs);
  const [byTypeStatus, rate, messages, sessions, hidden] = await Promise.all([
    run.rows(errorsByTypeAndStatus(f)), run.rows(dailyErrorRate(f)), run.rows(topErrorMessages(f, 20)), run.rows(affectedSessions(f, 50)),
    hiddenRows(run, spec.scope, f),
  ]);
  const filled = fillDays(range.days, rate, (day) => ({ day, requests: 0, errors: 0, retries_exhausted: 0 }));
  return {
    scope: spec.scope, ...withHidden(hidden),
    range, byTypeStatus, messages, sessions,
    rate: filled.map((r) => ({ ...r, error_rate: errorRate(r) })),
    retriesExhausted: rate.reduce((s, r) => s + r.retries_exhausted, 0),
  };
}

export async function loadOccurrences(run: QueryRunner, who: Who, spec: RangeSpec, errorType: string): Promise<ErrorOccurrenceRow[]> {
  const range = resolveRange(spec, who.now);
  return await run.rows(latestOccurrences(baseFilter(who, spec.scope, range.fromMs, range.toMs), errorType, 20));
}

export async function loadChapters(run: QueryRunner, who: Who, spec: RangeSpec): Promise<ChaptersData> {
  const range = resolveRange(spec, who.now);
  const f = baseFilter(who, spec.scope, range.fromMs, range.toMs);
  const [panel, hidden] = await Promise.all([run.rows(chapterPanel(f)), hiddenRows(run, spec.scope, f)]);
  return { scope: spec.scope, ...withHidden(hidden), range, ...splitChapterPanel(panel) };
}

export async function loadChapterSessions(run: QueryRunner, who: Who, spec: RangeSpec, chapter: string): Promise<ChapterSessionRow[]> {
  const range = resolveRange(spec, who.now);
  return await run.rows(chapterSessions(baseFilter(who, spec.scope, range.fromMs, range.toMs), chapter, 50));
}
