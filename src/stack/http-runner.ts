/**
 * A QueryRunner (src/core/queries/types.ts) on one ClickHouse HTTP target (a URL plus an optional
 * credential) for the duration of one call: the weekly report, the retention view and the archive read
 * through it, the local store anonymously, a team server with a member's credential.
 */
import type { BoundQuery, QueryRunner } from '../core/queries/types';
import { targetTls, type DataTarget } from './export-data';

/** A QueryRunner on one ClickHouse HTTP target for the duration of `fn`. */
export async function withRunner<T>(target: DataTarget, application: string, fn: (run: QueryRunner) => Promise<T>): Promise<T> {
  const { createClient, ClickHouseLogLevel } = await import('@clickhouse/client');
  const client = createClient({
    url: target.url, username: target.auth?.user ?? 'default', password: target.auth?.password ?? '', ...targetTls(target),
    request_timeout: 120_000, keep_alive: { enabled: false }, application, log: { level: ClickHouseLogLevel.OFF },
  });
  try {
    return await fn({
      async rows<Row>(q: BoundQuery<Row>): Promise<Row[]> {
        const rs = await client.query({ query: q.sql, query_params: q.params, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
        return await rs.json<Row>();
      },
    });
  } finally {
    await client.close();
  }
}
