/**
 * Runs the collection counts (src/core/collection-counts.ts) over `@clickhouse/client`, as every ClickHouse
 * query of the extension does (it escapes `param_` values the way the ClickHouse HTTP interface reads them).
 * Anonymous: a read, which the local endpoint allows without credentials. No `vscode` import (tests use it).
 */
import { countsFromRow, countsQuery, type Counts } from '../core/collection-counts';
import { localHttpUrl } from '../core/otel-env';
import { httpRunner } from './webviews/connection';

/** Counts from the ClickHouse HTTP endpoint of a stack listening on `host:port`; throws with ClickHouse's message. */
export async function fetchCounts(host: string, httpPort: number, userId: string, minutes = 15, timeoutMs = 5000): Promise<Counts> {
  const runner = httpRunner(localHttpUrl(host, httpPort), { timeoutMs, application: 'chapter-telemetry-verify' });
  try {
    const [row] = await runner.rows(countsQuery(userId, minutes));
    return countsFromRow(row);
  } finally {
    await runner.close();
  }
}
