/**
 * Delete My Data, planned as statements: which rows of every table belong to one author, how to
 * count them before and after, and the deletions in a safe order. Pure (no I/O); the author id goes
 * as the parameter `{user:String}`, never into the SQL text.
 *
 * Why every table and not just the raw ones: materialized views fire on inserts only, so deleting raw
 * logs leaves the derived events, sessions, daily figures and rollups in place. Every rollup is keyed
 * by author, so deleting an author's rollup rows leaves exactly the other authors' figures: the
 * aggregates are then what they would be had the author's rows never arrived.
 */
import { DATA_TABLES } from './tables';

export interface TableCount {
  /** Catalog id (`events`, `otel_logs`, …) or `otel_traces_trace_id_ts`. */
  id: string;
  table: string;
  label: string;
  countSql: string;
}

export interface DeletionPlan {
  params: { user: string };
  /** One SELECT per table: `rows`, `first`, `last` (ISO text, '' when none) of the author's rows. */
  counts: TableCount[];
  /** ALTER … DELETE statements, in the order to run them (the trace index before the traces). */
  deletes: { table: string; sql: string }[];
}

const TRACE_INDEX = 'otel_traces_trace_id_ts';

export function planDeletion(userId: string): DeletionPlan {
  const user = userId.trim();
  if (user === '') throw new Error('no author id: set chapterTelemetry.userId (or let it default to the OS user)');
  const traces = DATA_TABLES.find((t) => t.id === 'otel_traces')!;
  // The trace-id index has no author column: its rows are those of the author's traces.
  const traceIndexWhere = `TraceId IN (SELECT TraceId FROM default.otel_traces WHERE ${traces.user} = {user:String})`;
  const counts: TableCount[] = DATA_TABLES.map((t) => ({
    id: t.id, table: t.table, label: t.label,
    countSql: `SELECT count() AS rows, if(rows = 0, '', toString(min(${t.time}))) AS first, if(rows = 0, '', toString(max(${t.time}))) AS last
      FROM default.${t.table} WHERE ${t.user} = {user:String}`,
  }));
  counts.push({
    id: TRACE_INDEX, table: TRACE_INDEX, label: 'Trace index',
    countSql: `SELECT count() AS rows, if(rows = 0, '', toString(min(Start))) AS first, if(rows = 0, '', toString(max(Start))) AS last
      FROM default.${TRACE_INDEX} WHERE ${traceIndexWhere}`,
  });
  const deletes = [
    { table: TRACE_INDEX, sql: `ALTER TABLE default.${TRACE_INDEX} DELETE WHERE ${traceIndexWhere}` },
    ...DATA_TABLES.map((t) => ({ table: t.table, sql: `ALTER TABLE default.${t.table} DELETE WHERE ${t.user} = {user:String}` })),
  ];
  return { params: { user }, counts, deletes };
}

export interface CountRow {
  rows: number;
  first: string;
  last: string;
}

/** Total rows and the overall time range of a set of per-table counts. */
export function summarizeCounts(rows: { count: CountRow }[]): { rows: number; first: string; last: string } {
  let total = 0;
  let first = '';
  let last = '';
  for (const { count } of rows) {
    total += count.rows;
    if (count.first && (first === '' || count.first < first)) first = count.first;
    if (count.last && count.last > last) last = count.last;
  }
  return { rows: total, first, last };
}
