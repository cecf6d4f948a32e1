// Reading the server's tables over its ClickHouse HTTP endpoint, and waiting for exported rows to land.
import type { RunningServer } from '../../support/server';

export type Row = Record<string, unknown>;

/** Runs SELECT SQL (without a FORMAT clause) and returns its rows as objects. */
export async function rows(server: RunningServer, sql: string, params: Record<string, string> = {}): Promise<Row[]> {
  const text = await server.sql(`${sql}\nFORMAT JSONEachRow`, params);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row);
}

/**
 * Re-runs the query until `done(rows)` holds. The CLI acknowledges exports before it exits, but
 * materialized views and any server-side batching may lag a moment: this is a deadline, not a timing
 * assertion, and on expiry it fails with what it last saw so the failure explains itself.
 */
export async function pollRows(
  server: RunningServer,
  what: string,
  sql: string,
  params: Record<string, string>,
  done: (r: Row[]) => boolean,
  deadlineMs = 30_000,
): Promise<Row[]> {
  const end = Date.now() + deadlineMs;
  let last: Row[] = [];
  let lastErr: unknown;
  for (;;) {
    try {
      last = await rows(server, sql, params);
      lastErr = undefined;
      if (done(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end) {
      throw new Error(
        `waited ${deadlineMs} ms for ${what}; last result:\n${JSON.stringify(last, null, 1)}\n` +
          (lastErr ? `last error: ${String(lastErr)}\n` : '') +
          `server output (tail):\n${server.output().slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** ClickHouse JSON output quotes 64-bit integers and may render Bool as true/false or UInt8 as 0/1. */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

export function bool(v: unknown): boolean | undefined {
  if (v === true || v === 1 || v === '1' || v === 'true') return true;
  if (v === false || v === 0 || v === '0' || v === 'false') return false;
  return undefined;
}
