/**
 * The forwarder's reads of the local raw tables, on the store's reader sessions (never the ingest
 * session: forwarding must not delay an export's acknowledgement).
 *
 * A GROUP is one chunk of one insert block: the rows of block `b` whose `_block_offset` falls in
 * chunk `c` (`intDiv(_block_offset, CHUNK_ROWS)`). Groups are fixed once the block is committed
 * (0008_forwarding.sql), so the same group read again is the same lines in the same order: the team
 * server recognises it (forward_received). Positions (b, c) order everything a table holds.
 *
 * Why "everything after the watermark" cannot skip a row: the receiver's inserts run one per table
 * at a time on the ingest session (src/server/ingest.ts: a table's next insert starts after the
 * previous one committed), so block numbers become visible in increasing order. Writes over the
 * ClickHouse HTTP port as the local writer (history copy, tests) run on other sessions: run them
 * one at a time per table too (ARCHITECTURE.md, Forwarding).
 */
import type { Store } from '../store/types';
import { quoteIdent, quoteString } from '../store/sql-quote';
import { FORWARD_TABLES } from '../team/forward-receiver';

export { FORWARD_TABLES };

/** Rows per group: bounds a group's size on the wire whatever one insert block held. */
export const CHUNK_ROWS = 1000;
/** Beyond any chunk number (a watermark "at the end of block b"). */
export const END_CHUNK = 2 ** 52;

export interface Pos {
  block: number;
  chunk: number;
}

export interface GroupInfo extends Pos {
  rows: number;
}

export interface Group extends Pos {
  lines: string[];
}

const TIME_COLUMN: Record<string, string> = {
  otel_logs: 'Timestamp', otel_traces: 'Timestamp',
  otel_metrics_sum: 'TimeUnix', otel_metrics_gauge: 'TimeUnix', otel_metrics_histogram: 'TimeUnix',
  otel_metrics_exponential_histogram: 'TimeUnix', otel_metrics_summary: 'TimeUnix',
};

const POS = `(_block_number, intDiv(_block_offset, ${CHUNK_ROWS}))`;

/**
 * Rows pulled back from the team server (pull-back.ts, 0009) are never forwarded: their blocks are
 * left out of every read and of the queue. They count as delivered (the team server holds them).
 */
export function notPulled(table: string): string {
  return `_block_number NOT IN (SELECT block FROM default.forward_pulled WHERE tbl = ${quoteString(table)})`;
}
const lit = (p: Pos) => `(${Math.trunc(p.block)}, ${Math.trunc(p.chunk)})`;

/** The history date as a filter (rows on or after 00:00 UTC of that day), or '1' for none. */
export function dateFilter(table: string, sinceDay: string | undefined): string {
  if (!sinceDay) return '1';
  const ns = BigInt(Date.parse(`${sinceDay}T00:00:00Z`)) * 1_000_000n;
  return `toUnixTimestamp64Nano(${quoteIdent(TIME_COLUMN[table]!)}) >= ${ns}`;
}

function num(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`the engine answered "${text}" where a number was expected`);
  return n;
}

export class LocalRows {
  constructor(private readonly store: Store) {}

  private async tsv(sql: string): Promise<string[][]> {
    const out = (await this.store.query(sql, { identity: 'reader', format: 'TabSeparated' })).toString('utf8');
    return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  }

  /** The newest block of `table` (0 when empty). */
  async maxBlock(table: string): Promise<number> {
    const r = await this.tsv(`SELECT max(_block_number) FROM default.${quoteIdent(table)}`);
    return num(r[0]?.[0] ?? '0');
  }

  /** The next groups after `after`, in order, at most `limit`. */
  async nextGroups(table: string, after: Pos, sinceDay: string | undefined, limit: number, upTo?: Pos): Promise<GroupInfo[]> {
    const r = await this.tsv(
      `SELECT _block_number AS b, intDiv(_block_offset, ${CHUNK_ROWS}) AS c, count() FROM default.${quoteIdent(table)} ` +
        `WHERE _block_number >= ${Math.trunc(after.block)} AND ${POS} > ${lit(after)}${upTo ? ` AND ${POS} <= ${lit(upTo)}` : ''} AND ${dateFilter(table, sinceDay)} AND ${notPulled(table)} ` +
        `GROUP BY b, c ORDER BY b, c LIMIT ${Math.trunc(limit)}`,
    );
    return r.map(([b, c, n]) => ({ block: num(b!), chunk: num(c!), rows: num(n!) }));
  }

  /** The rows of every group in (after, upTo], as JSONEachRow lines, grouped, in order. */
  async readGroups(table: string, after: Pos, upTo: Pos, sinceDay: string | undefined): Promise<Group[]> {
    const out = (await this.store.query(
      `SELECT _block_number AS __fb, intDiv(_block_offset, ${CHUNK_ROWS}) AS __fc, * FROM default.${quoteIdent(table)} ` +
        `WHERE _block_number >= ${Math.trunc(after.block)} AND _block_number <= ${Math.trunc(upTo.block)} AND ${POS} > ${lit(after)} AND ${POS} <= ${lit(upTo)} AND ${dateFilter(table, sinceDay)} AND ${notPulled(table)} ` +
        'ORDER BY _block_number, _block_offset FORMAT JSONEachRow',
      { identity: 'reader' },
    )).toString('utf8');
    const groups: Group[] = [];
    let cur: Group | undefined;
    for (const line of out.split('\n')) {
      if (line === '') continue;
      const m = /^\{"__fb":"?(\d+)"?,"__fc":"?(\d+)"?,/.exec(line);
      if (!m) throw new Error(`unexpected row shape from the engine: ${line.slice(0, 80)}`);
      const block = Number(m[1]);
      const chunk = Number(m[2]);
      const row = `{${line.slice(m[0].length)}`;
      if (!cur || cur.block !== block || cur.chunk !== chunk) groups.push((cur = { block, chunk, lines: [] }));
      cur.lines.push(row);
    }
    return groups;
  }

  /** Counts for the status: all rows, rows beyond the watermark (date-filtered), and the history's rows. */
  async counts(table: string, wm: Pos, sinceDay: string | undefined, historyBlock: number): Promise<{ local: number; queue: number; historyTotal: number; historyDone: number }> {
    const f = `${dateFilter(table, sinceDay)} AND ${notPulled(table)}`;
    const r = await this.tsv(
      `SELECT count(), countIf(${POS} > ${lit(wm)} AND ${f}), countIf(_block_number <= ${Math.trunc(historyBlock)} AND ${f}), ` +
        `countIf(_block_number <= ${Math.trunc(historyBlock)} AND ${POS} <= ${lit(wm)} AND ${f}) FROM default.${quoteIdent(table)}`,
    );
    const [a, b, c, d] = r[0] ?? ['0', '0', '0', '0'];
    return { local: num(a!), queue: num(b!), historyTotal: num(c!), historyDone: num(d!) };
  }
}
