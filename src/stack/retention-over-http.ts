/**
 * Applies retention (src/server/retention.ts: the same TTL rules the embedded server applies at start)
 * to a running store over ClickHouse HTTP as the writer, so a changed setting reaches the store without
 * a restart, in either mode. Reads `system.tables` and runs `ALTER TABLE … MODIFY TTL` only where the
 * days differ.
 */
import { applyRetention, type RetentionOptions } from '../server/retention';
import type { DataTarget } from './export-data';

export async function applyRetentionOverHttp(target: DataTarget, options: RetentionOptions): Promise<string[]> {
  if (!target.auth) throw new Error('changing retention needs the writer credential');
  const { createClient, ClickHouseLogLevel } = await import('@clickhouse/client');
  const client = createClient({
    url: target.url, username: target.auth.user, password: target.auth.password, request_timeout: 120_000,
    keep_alive: { enabled: false }, application: 'chapter-telemetry-retention', log: { level: ClickHouseLogLevel.OFF },
  });
  try {
    return await applyRetention({
      async query(sql: string): Promise<Buffer> {
        // The statement carries its own FORMAT where it returns rows; ALTERs return nothing.
        const r = await client.exec({ query: sql });
        const chunks: Buffer[] = [];
        for await (const c of r.stream) chunks.push(Buffer.from(c));
        return Buffer.concat(chunks);
      },
    }, options);
  } finally {
    await client.close();
  }
}
