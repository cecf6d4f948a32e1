/**
 * Loads a weekly report over ClickHouse HTTP (@clickhouse/client, a read: anonymous locally; a team
 * server URL with a member credential plugs in through the same DataTarget) and writes it as
 * `<dir>/<week>.md` or `.html` (temp file + rename, so a reader never sees half a report).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { QueryRunner } from '../core/queries/types';
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

export async function writeReport(report: WeeklyReport, dir: string, format: ReportFormat): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${report.week.id}.${format}`);
  const tmp = `${file}.partial`;
  await writeFile(tmp, format === 'md' ? renderMarkdown(report) : renderHtml(report));
  await rename(tmp, file);
  return file;
}
