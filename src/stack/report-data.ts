/**
 * Loads a weekly report over ClickHouse HTTP (@clickhouse/client, a read: anonymous locally; a team
 * server URL with a member credential plugs in through the same DataTarget) and writes it as
 * `<dir>/<week>.md` or `.html` (temp file + rename, so a reader never sees half a report).
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { QueryRunner } from '../core/queries/types';
import { parseBundle, type TeamRole } from '../core/team-bundle';
import { loadTeamSection } from '../core/report/team-section';
import { certificatePin } from '../server/team/pin';
import type { IsoWeek } from '../core/report/iso-week';
import { loadWeeklyReport, type WeeklyReport } from '../core/report/load';
import type { ReportScope } from '../core/report/queries';
import { renderHtml } from '../core/report/render-html';
import { renderMarkdown } from '../core/report/render-markdown';
import type { DataTarget } from './export-data';
import { withRunner } from './http-runner';

export type ReportFormat = 'md' | 'html';

/**
 * `extra` runs on the same connection after the report's own queries (the `--workspace` section's budget).
 */
export async function fetchWeeklyReport(target: DataTarget, week: IsoWeek, scope: ReportScope, extra?: (run: QueryRunner, report: WeeklyReport) => Promise<void>): Promise<WeeklyReport> {
  return await withRunner(target, 'chapter-telemetry-report', async (runner) => {
    const report = await loadWeeklyReport(runner, week, scope);
    await extra?.(runner, report);
    return report;
  });
}

/** A member's way to the team server: who, with which role, and the URL + member credential + team CA. */
export interface TeamReportAccess {
  team: string;
  member: string;
  role: TeamRole;
  target: DataTarget;
}

/**
 * The weekly report in central mode, read from the team server with the member's credential: the body is the
 * member's own rows (what every role may read raw); a coordinator or admin also gets the team section, read
 * from the aggregate tables only.
 */
export async function fetchTeamWeeklyReport(access: TeamReportAccess, week: IsoWeek): Promise<WeeklyReport> {
  return await withRunner(access.target, 'chapter-telemetry-report', async (runner) => {
    const report = await loadWeeklyReport(runner, week, { user: access.member, all: false });
    report.source = `team server of ${access.team}`;
    if (access.role !== 'contributor') report.team = await loadTeamSection(runner, access.team, week);
    return report;
  });
}

/**
 * The team access in a bundle file (`npm run report -- --team-bundle-file F`): the line `npm run team -- add-member`
 * printed, in a file only its owner may read (mode 0600 or stricter: the secret never goes on the command line,
 * and a file others can read is refused, not used).
 */
export async function teamAccessFromBundleFile(file: string): Promise<TeamReportAccess> {
  const st = await stat(file);
  if (!st.isFile()) throw new Error(`${file} is not a file`);
  if ((st.mode & 0o077) !== 0) throw new Error(`${file} can be read by others (mode ${(st.mode & 0o777).toString(8)}): it holds a secret; chmod 600 it first`);
  const b = parseBundle(await readFile(file, 'utf8'), { certificatePin });
  return { team: b.team, member: b.member, role: b.role, target: { url: b.query_url, auth: { user: b.member, password: b.secret }, ca: b.ca_pem } };
}

export async function writeReport(report: WeeklyReport, dir: string, format: ReportFormat): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${report.week.id}.${format}`);
  const tmp = `${file}.partial`;
  await writeFile(tmp, format === 'md' ? renderMarkdown(report) : renderHtml(report));
  await rename(tmp, file);
  return file;
}
