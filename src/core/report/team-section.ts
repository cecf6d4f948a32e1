/**
 * The weekly report's team section, for a coordinator or admin reading the team server (issue 11: "the team
 * report"): cost by member, the team's error patterns and chapter complexity across contributors, for the
 * report's week. Read ONLY through the Team scope's aggregate queries (src/core/queries/team.ts): a
 * coordinator may see every member's aggregates but no other member's raw events. Days are the team
 * server's (its `toDate`), the week's seven days from Monday; the team server runs in UTC like the report's weeks.
 */
import { teamChapterComplexity, teamCostByMember, teamErrorPatterns, type ErrorPatternRow, type MemberCostRow, type TeamChapterRow } from '../queries/team';
import type { QueryRunner } from '../queries/types';
import { weekDays, type IsoWeek } from './iso-week';

export interface TeamSection {
  team: string;
  members: MemberCostRow[];
  errorPatterns: ErrorPatternRow[];
  chapters: TeamChapterRow[];
}

export async function loadTeamSection(run: QueryRunner, team: string, week: IsoWeek): Promise<TeamSection> {
  const days = weekDays(week);
  const range = { fromDay: days[0]!, toDay: days[days.length - 1]! };
  const [members, errorPatterns, chapters] = await Promise.all([
    run.rows(teamCostByMember(range)), run.rows(teamErrorPatterns(range)), run.rows(teamChapterComplexity(range)),
  ]);
  return { team, members, errorPatterns, chapters };
}

/** What an error pattern is called in a table: the API error type and status, or the tool and its error. */
export function patternLabel(p: ErrorPatternRow): string {
  if (p.event_type === 'api_error') return `API ${p.error_type || 'error'}${p.status_code && p.status_code !== '0' ? ` (${p.status_code})` : ''}`;
  return `tool ${p.tool_name || '?'}${p.error_type ? `: ${p.error_type}` : ''}`;
}
