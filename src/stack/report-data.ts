/**
 * Loads a weekly report over ClickHouse HTTP (@clickhouse/client, a read: anonymous locally; a team
 * server URL with a member credential plugs in through the same DataTarget) and writes it as
 * `<dir>/<week>.md` or `.html` (temp file + rename, so a reader never sees half a report).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BoundQuery, QueryRunner } from '../core/queries/types';
import type { IsoWeek } from '../core/report/iso-week';
import { loadWeeklyReport, type WeeklyReport } from '../core/report/load';
import type { ReportScope } from '../core/report/queries';
import { renderHtml } from '../core/report/render-html';
import { renderMarkdown } from '../core/report/render-markdown';
import { targetTls, type DataTarget } from './export-data';

export type ReportFormat = 'md' | 'html';

/**
 * `extra` runs on the same connection after the report's own queries (the `--workspace` section's budget).
 */
export async function fetchWeeklyReport(target: DataTarget, week: IsoWeek, scope: ReportScope, extra?: (run: QueryRunner, report: WeeklyReport) => Promise<void>): Promise<WeeklyReport> {
  const { createClient, ClickHouseLogLevel } = await import('@clickhouse/client');
  const client = createClient({
    url: target.url, username: target.auth?.user ?? 'default', password: target.auth?.password ?? '', ...targetTls(target),
    request_timeout: 120_000, keep_alive: { enabled: false }, application: 'chapter-telemetry-report',
    log: { level: ClickHouseLogLevel.OFF },
  });
  const runner: QueryRunner = {
    async rows<Row>(q: BoundQuery<Row>): Promise<Row[]> {
      const rs = await client.query({ query: q.sql, query_params: q.params, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
      return await rs.json<Row>();
    },
  };
  try {
    const report = await loadWeeklyReport(runner, week, scope);
    await extra?.(runner, report);
    return report;
  } finally {
    await client.close();
  }
}

export async function writeReport(report: WeeklyReport, dir: string, format: ReportFormat): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${report.week.id}.${format}`);
  const tmp = `${file}.partial`;
  await writeFile(tmp, format === 'md' ? renderMarkdown(report) : renderHtml(report));
  await rename(tmp, file);
  return file;
}
