/**
 * The analytics' way to ClickHouse: `@clickhouse/client` over plain HTTP, the same for the embedded
 * server and the docker stack; over HTTPS with a member's credential and the team CA as the only
 * trusted CA for the team server (the Mine and Team scopes). No `vscode` import here, so tests and
 * benchmarks use it unchanged.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { BoundQuery, QueryRunner } from '../../core/queries';
import { targetTls, type DataTarget } from '../../stack/export-data';

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

/** `target` is a URL (the local store, anonymous) or a DataTarget (credential and CA: the team server). */
export function httpRunner(target: string | DataTarget, opts: RunnerOptions = {}): HttpRunner {
  const t: DataTarget = typeof target === 'string' ? { url: target } : target;
  const url = t.url;
  // The client loads on the first query, not when the extension activates.
  let client: Promise<ClickHouseClient> | undefined;
  const connect = async (): Promise<ClickHouseClient> => {
    const { ClickHouseLogLevel, createClient } = await import('@clickhouse/client');
    return createClient({
      url,
      ...(t.auth ? { username: t.auth.user, password: t.auth.password } : {}),
      ...targetTls(t),
      request_timeout: opts.timeoutMs ?? 15_000,
      // Keep-alive sockets would outlive a restarted server and fail the first query.
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
