/**
 * Streams one export from a ClickHouse HTTP endpoint into a file: the response body goes through a
 * byte/row counter into `<out>.partial`, renamed to `<out>` only once the last byte is on disk, so a
 * cancelled or failed export leaves nothing under the chosen name. Memory stays flat: Node's stream
 * pipeline pulls the next chunk only when the file took the previous one, and the endpoint streams too.
 *
 * `target` is any ClickHouse HTTP URL plus an optional credential: the local stack reads anonymously;
 * a team server URL with a member's credential plugs in the same way (central mode, later).
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { planExport, type ExportPlan, type ExportRequest } from '../core/data/export-plan';

export interface DataTarget {
  url: string;
  /** Sent as HTTP basic auth (never in the URL). Absent = anonymous, which is read-only locally. */
  auth?: { user: string; password: string };
  /**
   * PEM of the only CA trusted for an https `url` (a team server: its own CA from the connection
   * bundle). Given, it replaces the system's CAs for this connection; absent = the system's CAs.
   */
  ca?: string;
}

/** The @clickhouse/client TLS option for a target: its CA as the only trusted one, if it names one. */
export function targetTls(target: DataTarget): { tls?: { ca_cert: Buffer } } {
  return target.ca ? { tls: { ca_cert: Buffer.from(target.ca) } } : {};
}

export interface ExportProgress {
  rows: number;
  bytes: number;
  /** Rows the export will hold (counted first), for a percentage. */
  totalRows: number;
  /** Parquet has no row boundary in its bytes: its `rows` jump to the total at the end. */
  rowsCounted: boolean;
}

export interface ExportOptions extends ExportRequest {
  target: DataTarget;
  out: string;
  onProgress?: (p: ExportProgress) => void;
  signal?: AbortSignal;
}

export interface ExportResult extends ExportProgress {
  out: string;
  plan: ExportPlan;
}

export async function exportData(opts: ExportOptions): Promise<ExportResult> {
  const plan = planExport(opts);
  const { createClient, ClickHouseLogLevel } = await import('@clickhouse/client');
  const client = createClient({
    url: opts.target.url,
    username: opts.target.auth?.user ?? 'default',
    password: opts.target.auth?.password ?? '',
    ...targetTls(opts.target),
    request_timeout: 24 * 3600_000,
    keep_alive: { enabled: false },
    application: 'chapter-telemetry-export',
    log: { level: ClickHouseLogLevel.OFF },
  });
  const partial = `${opts.out}.partial`;
  try {
    const counted = await client.exec({ query: plan.countSql, query_params: plan.params, abort_signal: opts.signal });
    const totalRows = Number((await readAll(counted.stream)).trim());
    const progress: ExportProgress = { rows: 0, bytes: 0, totalRows, rowsCounted: plan.format !== 'parquet' };
    opts.onProgress?.({ ...progress });
    const res = await client.exec({ query: plan.sql, query_params: plan.params, abort_signal: opts.signal });
    const counter = countingStream(plan.format, progress, opts.onProgress);
    await pipeline(res.stream, counter, createWriteStream(partial, { mode: 0o600 }), { signal: opts.signal });
    if (!progress.rowsCounted) progress.rows = totalRows;
    await rename(partial, opts.out);
    opts.onProgress?.({ ...progress });
    return { ...progress, out: opts.out, plan };
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  } finally {
    await client.close();
  }
}

async function readAll(s: Readable): Promise<string> {
  let text = '';
  for await (const c of s) text += c.toString();
  return text;
}

/**
 * Passes bytes through and counts rows: a JSON Lines row ends at each newline (strings escape
 * theirs); a CSV row ends at a newline outside double quotes (ClickHouse quotes fields holding
 * newlines and doubles inner quotes, so toggling on every quote stays right). The header line of
 * CSVWithNames is not a row.
 */
function countingStream(format: string, p: ExportProgress, onProgress?: (p: ExportProgress) => void): Transform {
  let inQuote = false;
  let headerPending = format === 'csv';
  let lastReport = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      p.bytes += chunk.length;
      if (format === 'jsonl') {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) p.rows++;
      } else if (format === 'csv') {
        for (const b of chunk) {
          if (b === 34) inQuote = !inQuote;
          else if (b === 10 && !inQuote) {
            if (headerPending) headerPending = false;
            else p.rows++;
          }
        }
      }
      // At most one report per 1 MiB keeps a progress notification from flooding the UI.
      if (p.bytes - lastReport >= 1 << 20) {
        lastReport = p.bytes;
        onProgress?.({ ...p });
      }
      done(null, chunk);
    },
  });
}
