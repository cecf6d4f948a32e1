/**
 * The analytics' way to ClickHouse: `@clickhouse/client` over plain HTTP, the same for the embedded
 * server and the docker stack. No `vscode` import here, so tests and benchmarks use it unchanged.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { BoundQuery, QueryRunner } from '../../core/queries';

export interface HttpRunner extends QueryRunner {
  readonly url: string;
  close(): Promise<void>;
}

export interface RunnerOptions {
  /** Default 15 s. */
  timeoutMs?: number;
  /** Identifies the caller in the server's query log. */
  application?: string;
}

export function httpRunner(url: string, opts: RunnerOptions = {}): HttpRunner {
  // The client loads on the first query, not when the extension activates.
  let client: Promise<ClickHouseClient> | undefined;
  const connect = async (): Promise<ClickHouseClient> => {
    const { ClickHouseLogLevel, createClient } = await import('@clickhouse/client');
    return createClient({
      url,
      request_timeout: opts.timeoutMs ?? 15_000,
      // The store is local; keep-alive sockets would outlive a restarted server and fail the first query.
      keep_alive: { enabled: false },
      application: opts.application ?? 'chapter-telemetry-analytics',
      // Failures reach the caller (and the views) as errors; the client's own console logging is noise.
      log: { level: ClickHouseLogLevel.OFF },
    });
  };
  return {
    url,
    async rows<Row>(q: BoundQuery<Row>): Promise<Row[]> {
      const rs = await (await (client ??= connect())).query({
        query: q.sql,
        query_params: q.params,
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      return await rs.json<Row>();
    },
    async close() {
      if (client) await (await client).close();
    },
  };
}
