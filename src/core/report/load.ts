/** Runs the weekly report's queries for a week and the one before, and shapes the result. */
import type { QueryRunner } from '../queries/types';
import { previousWeek, weekDays, type IsoWeek } from './iso-week';
import { reportQueries, type ChapterRow, type DayRow, type ErrorTypeRow, type ModelRow, type ReportScope, type TotalsRow } from './queries';

export interface WeeklyReport {
  week: IsoWeek;
  previous: IsoWeek;
  scope: ReportScope;
  totals: TotalsRow;
  previousTotals: TotalsRow;
  /** errors / (requests + errors); 0 without either. */
  errorRate: number;
  previousErrorRate: number;
  errorTypes: ErrorTypeRow[];
  /** All seven days, zero where nothing happened. */
  days: DayRow[];
  chapters: ChapterRow[];
  models: ModelRow[];
  /** With `--workspace DIR`: the budget now and words / cost per 1,000 words per chapter. */
  workspace?: import('./workspace-section').WorkspaceSection;
  /** Coordinator or admin in central mode: the team's aggregates for the week (src/core/report/team-section.ts). */
  team?: import('./team-section').TeamSection;
  /** Where the rows came from when not the local store, e.g. "team server Press Team" (shown under the title). */
  source?: string;
}

export function errorRateOf(t: TotalsRow): number {
  const n = t.requests + t.errors;
  return n === 0 ? 0 : t.errors / n;
}

function numeric<T extends object>(row: T | undefined, keys: (keyof T)[]): T {
  const out = { ...(row ?? {}) } as T;
  for (const k of keys) (out as Record<keyof T, unknown>)[k] = Number((row as Record<keyof T, unknown> | undefined)?.[k] ?? 0);
  return out;
}

const TOTAL_KEYS: (keyof TotalsRow)[] = ['cost', 'requests', 'errors', 'retries_exhausted', 'sessions', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_creation_tokens'];

export async function loadWeeklyReport(run: QueryRunner, week: IsoWeek, scope: ReportScope): Promise<WeeklyReport> {
  const previous = previousWeek(week);
  const q = reportQueries(scope, week.start, week.end);
  const qp = reportQueries(scope, previous.start, previous.end);
  const [totals, prevTotals, errorTypes, byDay, chapters, models] = await Promise.all([
    run.rows(q.totals), run.rows(qp.totals), run.rows(q.errorTypes), run.rows(q.byDay), run.rows(q.chapters), run.rows(q.models),
  ]);
  const t = numeric(totals[0], TOTAL_KEYS);
  const pt = numeric(prevTotals[0], TOTAL_KEYS);
  const dayMap = new Map(byDay.map((d) => [d.day, d]));
  return {
    week, previous, scope, totals: t, previousTotals: pt,
    errorRate: errorRateOf(t), previousErrorRate: errorRateOf(pt),
    errorTypes: errorTypes.map((e) => ({ error_type: e.error_type, errors: Number(e.errors) })),
    days: weekDays(week).map((day) => ({ day, cost: Number(dayMap.get(day)?.cost ?? 0), requests: Number(dayMap.get(day)?.requests ?? 0) })),
    chapters: chapters.map((c) => ({ chapter: c.chapter, cost: Number(c.cost), tokens: Number(c.tokens), requests: Number(c.requests) })),
    models: models.map((m) => ({ model: m.model, cost: Number(m.cost), requests: Number(m.requests), tokens: Number(m.tokens) })),
  };
}
