/** The Team scope's loaders: the team server's aggregates for a range picked like the other panels'. */
import {
  teamChapterByMember, teamChapterComplexity, teamChapterSessions, teamCostByMember, teamDailyCostByMember, teamErrorRateByMember,
  teamDailyErrors, teamErrorPatterns, teamErrorsByMember, type DayRange, type QueryRunner,
} from '../queries';
import { isUnknownTable } from './errors';
import { resolveRange } from './load';
import type { RangeSpec, ResolvedRange, TeamChaptersData, TeamCostData, TeamErrorsData } from './models';

function dayRange(r: ResolvedRange): DayRange {
  return { fromDay: r.days[0] ?? '1970-01-01', toDay: r.days[r.days.length - 1] ?? '1970-01-01' };
}

export async function loadTeamCost(run: QueryRunner, spec: RangeSpec, now?: Date): Promise<TeamCostData> {
  const range = resolveRange(spec, now);
  const d = dayRange(range);
  const [members, daily] = await Promise.all([run.rows(teamCostByMember(d)), run.rows(teamDailyCostByMember(d))]);
  return { range, members, daily };
}

export async function loadTeamErrors(run: QueryRunner, spec: RangeSpec, now?: Date): Promise<TeamErrorsData> {
  const range = resolveRange(spec, now);
  const d = dayRange(range);
  // daily_errors came after the other rollups: a team server without it still shows the error rates.
  const optional = <R>(p: Promise<R[]>) => p.catch((e: unknown) => {
    if (isUnknownTable(e)) return undefined;
    throw e;
  });
  const [rateByMember, patterns, daily, byMember] = await Promise.all([
    run.rows(teamErrorRateByMember(d)), optional(run.rows(teamErrorPatterns(d))), optional(run.rows(teamDailyErrors(d))), optional(run.rows(teamErrorsByMember(d))),
  ]);
  return { range, rateByMember, ...(patterns && daily && byMember ? { patterns, daily, byMember } : {}) };
}

export async function loadTeamChapters(run: QueryRunner, spec: RangeSpec, now?: Date): Promise<TeamChaptersData> {
  const range = resolveRange(spec, now);
  const d = dayRange(range);
  const [chapters, byMember, sessions] = await Promise.all([
    run.rows(teamChapterComplexity(d)), run.rows(teamChapterByMember(d)), run.rows(teamChapterSessions(d)),
  ]);
  const s = new Map(sessions.map((r) => [r.chapter, r.sessions]));
  return { range, chapters: chapters.map((r) => ({ ...r, sessions: s.get(r.chapter) ?? 0 })), byMember };
}
