/**
 * The statement an export runs: one catalog table, an optional inclusive day range (UTC), one output
 * format. Values go as `{name:Type}` parameters; the table's SQL comes from the catalog only.
 */
import { retainedTable } from './retention-rules';
import { EXPORT_TABLES, findDataTable, parseDay, type DataTable } from './tables';

export type ExportFormat = 'csv' | 'parquet' | 'jsonl';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'parquet', 'jsonl'];

/** ClickHouse output format per export format (CSV carries a header line). */
export const CLICKHOUSE_FORMAT: Record<ExportFormat, string> = { csv: 'CSVWithNames', parquet: 'Parquet', jsonl: 'JSONEachRow' };
export const FILE_EXTENSION: Record<ExportFormat, string> = { csv: 'csv', parquet: 'parquet', jsonl: 'jsonl' };

export interface ExportRequest {
  table: string;
  /** Inclusive first day, `YYYY-MM-DD` (UTC). */
  from?: string;
  /** Inclusive last day. */
  to?: string;
  format: string;
  /**
   * Only the rows the store's TTL removes by `untilSec` (epoch seconds) with a TTL of `days`: the TTL's own
   * expression (src/core/data/retention-rules.ts) plus the days, compared with the instant. The archive
   * before cleanup (src/core/data/archive-plan.ts) exports exactly these.
   */
  expiring?: { days: number; untilSec: number };
}

export interface ExportPlan {
  table: DataTable;
  format: ExportFormat;
  /** The result with FORMAT clause, and a count of the same rows. */
  sql: string;
  /** The rows without a FORMAT clause (for callers that count or read through a query runner). */
  selectSql: string;
  countSql: string;
  params: Record<string, string>;
}

export class ExportRequestError extends Error {}

export function isExportFormat(s: string): s is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(s);
}

export function planExport(req: ExportRequest): ExportPlan {
  const table = findDataTable(req.table);
  if (!table || !table.exportable) {
    throw new ExportRequestError(`unknown table "${req.table}"; one of: ${EXPORT_TABLES.map((t) => t.id).join(', ')}`);
  }
  if (!isExportFormat(req.format)) throw new ExportRequestError(`unknown format "${req.format}"; one of: csv, parquet, jsonl`);
  const params: Record<string, string> = {};
  const where: string[] = [];
  for (const [key, op] of [['from', '>='], ['to', '<=']] as const) {
    const v = req[key];
    if (v === undefined) continue;
    if (!parseDay(v)) throw new ExportRequestError(`--${key} must be a day YYYY-MM-DD, got "${v}"`);
    params[key] = v;
    where.push(`toDate(${table.time}, 'UTC') ${op} {${key}:Date}`);
  }
  if (params.from && params.to && params.from > params.to) throw new ExportRequestError('--from is after --to');
  if (req.expiring) {
    const rule = retainedTable(table.table);
    const { days, untilSec } = req.expiring;
    if (!rule) throw new ExportRequestError(`${table.id} is kept forever; it has no rows that expire`);
    if (!Number.isInteger(days) || days <= 0 || !Number.isInteger(untilSec) || untilSec < 0) throw new ExportRequestError('expiring needs whole positive days and an instant in epoch seconds');
    params.ttl_days = String(days);
    params.until = String(untilSec);
    // ClickHouse's TTL removes a row once this expression is at or before the merge's now().
    where.push(`${rule.ttlTime} + toIntervalDay({ttl_days:UInt32}) <= toDateTime({until:UInt32})`);
  }
  const inner = `SELECT * FROM (${table.exportSelect})${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  return {
    table,
    format: req.format,
    selectSql: inner,
    sql: `${inner} FORMAT ${CLICKHOUSE_FORMAT[req.format]}`,
    countSql: `SELECT count() FROM (${inner}) FORMAT TabSeparated`,
    params,
  };
}
