/**
 * Runs a deletion plan (src/core/data/delete-plan.ts) against a ClickHouse HTTP endpoint: counts per
 * table (a read, anonymous is enough), then the deletions as the writer, each waiting for its
 * mutation to finish (`mutations_sync = 2`) so the counts afterwards are final.
 *
 * The target is a URL plus a credential: locally the store's writer credential; a team server URL
 * with the member's credential plugs in the same way (central mode, later).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { CountRow, DeletionPlan } from '../core/data/delete-plan';
import { targetTls, type DataTarget } from './export-data';

export interface TableCounts {
  id: string;
  table: string;
  label: string;
  count: CountRow;
}

async function client(target: DataTarget): Promise<ClickHouseClient> {
  const { createClient, ClickHouseLogLevel } = await import('@clickhouse/client');
  return createClient({
    url: target.url,
    username: target.auth?.user ?? 'default',
    password: target.auth?.password ?? '',
    ...targetTls(target),
    request_timeout: 600_000,
    keep_alive: { enabled: false },
    application: 'chapter-telemetry-delete',
    log: { level: ClickHouseLogLevel.OFF },
  });
}

export async function countAuthorRows(target: DataTarget, plan: DeletionPlan): Promise<TableCounts[]> {
  const c = await client(target);
  try {
    const out: TableCounts[] = [];
    for (const t of plan.counts) {
      const rs = await c.query({ query: t.countSql, query_params: plan.params, format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
      const [row] = await rs.json<CountRow>();
      out.push({ id: t.id, table: t.table, label: t.label, count: { rows: Number(row?.rows ?? 0), first: row?.first ?? '', last: row?.last ?? '' } });
    }
    return out;
  } finally {
    await c.close();
  }
}

export async function deleteAuthorRows(target: DataTarget, plan: DeletionPlan, onTable?: (table: string) => void): Promise<void> {
  if (!target.auth) throw new Error('deleting needs the writer credential');
  const c = await client(target);
  try {
    for (const d of plan.deletes) {
      onTable?.(d.table);
      await c.command({ query: d.sql, query_params: plan.params, clickhouse_settings: { mutations_sync: '2' } });
    }
  } finally {
    await c.close();
  }
}
