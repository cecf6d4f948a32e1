/**
 * Pages of a table for the history copy (migrate-history.ts): conditions that together select every row
 * of the table exactly once, each page about `pageRows` rows, so each can travel as one
 * `SELECT … FORMAT Native` straight into one insert. Native is the engine's own block format (exact for
 * every type, ~3× cheaper to parse than TSV: BENCHMARKS.md "History copy"), but its blocks cannot be cut
 * at arbitrary bytes, so the table is cut by its data instead:
 * - by partition (`_partition_id`: stable while merges run, unlike parts); small partitions share a page;
 * - a large partition by ranges of its first non-null date-time column, cut at exact quantiles, so ranges
 *   hold about the same number of rows (`[b_i, b_i+1)`: half-open, no row in two, none in none);
 * - a range still too large (many rows at one instant) by a hash of the whole row.
 * The row counts come from the source before the copy: they size the pages and drive the progress; the
 * copy's own count check does not depend on them.
 */
import { quoteString } from '../server/store/sql-quote';

export interface Page {
  /** The condition (with the table's own, e.g. the focus-first part) selecting the page's rows. */
  where: string;
  /** Rows the source held in the page when planned. */
  rows: number;
}

export interface PartitionRows {
  id: string;
  rows: number;
}

/** Groups partitions (in order) into pages of at most `pageRows` rows; a larger partition stands alone. */
export function packPartitions(parts: readonly PartitionRows[], pageRows: number): PartitionRows[][] {
  const groups: PartitionRows[][] = [];
  let open: PartitionRows[] = [];
  let rows = 0;
  for (const p of parts) {
    if (open.length > 0 && rows + p.rows > pageRows) {
      groups.push(open);
      open = [];
      rows = 0;
    }
    open.push(p);
    rows += p.rows;
  }
  if (open.length > 0) groups.push(open);
  return groups;
}

/** `_partition_id` in the group's partitions. */
export function partitionCondition(group: readonly PartitionRows[]): string {
  return group.length === 1 ? `_partition_id = ${quoteString(group[0]!.id)}` : `_partition_id IN (${group.map((p) => quoteString(p.id)).join(', ')})`;
}

const INTEGER = /^-?\d+$/;

/**
 * Half-open ranges of `expr` cut at `bounds` (ascending integers as the engine printed them): below the
 * first, between each two, from the last on. With no bounds, one range (`1`).
 */
export function rangeConditions(expr: string, bounds: readonly string[]): string[] {
  for (const b of bounds) if (!INTEGER.test(b)) throw new Error(`not an integer bound: ${b.slice(0, 40)}`);
  if (bounds.length === 0) return ['1'];
  const out = [`${expr} < ${bounds[0]}`];
  for (let i = 1; i < bounds.length; i++) out.push(`${expr} >= ${bounds[i - 1]} AND ${expr} < ${bounds[i]}`);
  out.push(`${expr} >= ${bounds[bounds.length - 1]}`);
  return out;
}

/**
 * `n` conditions on a hash of the whole row: each row in exactly one (equal rows together). Of a tuple:
 * `cityHash64(*)` is NULL when any Nullable column is, and such a row would be in none.
 */
export function hashConditions(n: number): string[] {
  return n <= 1 ? ['1'] : Array.from({ length: n }, (_, i) => `cityHash64(tuple(*)) % ${n} = ${i}`);
}

/**
 * The integer expression a large partition is cut by: the table's first date-time column (not Nullable,
 * so every row has a value), in its own precision; undefined when the table has none.
 */
export function timeSplitExpression(columns: ReadonlyArray<{ name: string; type: string }>): string | undefined {
  for (const c of columns) {
    const name = '`' + c.name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
    if (/^DateTime64\(/.test(c.type)) return `toUnixTimestamp64Nano(${name})`;
    if (/^DateTime(\(|$)/.test(c.type)) return `toUnixTimestamp(${name})`;
  }
  return undefined;
}

/** Quantile levels cutting `rows` into `ceil(rows / pageRows)` ranges (empty when one page holds all). */
export function quantileLevels(rows: number, pageRows: number): number[] {
  const k = Math.ceil(rows / Math.max(1, pageRows));
  return Array.from({ length: Math.max(0, k - 1) }, (_, i) => (i + 1) / k);
}

/** Runs one statement on the source and returns its TabSeparated text. */
export type ReadSql = (query: string) => Promise<string>;

const tsvRows = (text: string) => text.split('\n').filter(Boolean).map((l) => l.split('\t'));

/**
 * Plans the pages of `default.<table>` rows matching `cond` (`1` for all): one query for the partitions'
 * counts, and for each partition larger than a page one for its quantiles and one for the ranges' counts.
 */
export async function planPages(read: ReadSql, table: string, cond: string, pageRows: number): Promise<Page[]> {
  const from = `default.\`${table}\``;
  const parts = tsvRows(await read(`SELECT _partition_id, count() FROM ${from} WHERE ${cond} GROUP BY _partition_id ORDER BY _partition_id FORMAT TabSeparated`))
    .map(([id, n]) => ({ id: id!, rows: Number(n) }));
  const pages: Page[] = [];
  let expr: string | undefined | null = null;
  for (const group of packPartitions(parts, pageRows)) {
    const where = `${partitionCondition(group)} AND (${cond})`;
    const rows = group.reduce((n, p) => n + p.rows, 0);
    if (rows <= pageRows) {
      pages.push({ where, rows });
      continue;
    }
    if (expr === null) {
      const cols = tsvRows(await read(`SELECT name, type FROM system.columns WHERE database = 'default' AND table = ${quoteString(table)} ORDER BY position FORMAT TabSeparated`));
      expr = timeSplitExpression(cols.map(([name, type]) => ({ name: name!, type: type! })));
    }
    let ranges: Page[];
    if (expr) {
      const levels = quantileLevels(rows, pageRows);
      const bounds = [...new Set((await read(`SELECT arrayJoin(quantilesExact(${levels.join(', ')})(${expr})) FROM ${from} WHERE ${where} FORMAT TabSeparated`)).split('\n').filter(Boolean))];
      // Counted per range in one pass: the number of bounds at or below a row's value is its range.
      const counts = new Map(tsvRows(await read(`SELECT arrayCount(b -> b <= ${expr}, [${bounds.join(', ')}]::Array(Int64)) AS r, count() FROM ${from} WHERE ${where} GROUP BY r FORMAT TabSeparated`))
        .map(([r, n]) => [Number(r), Number(n)]));
      ranges = rangeConditions(expr, bounds).map((c, i) => ({ where: `${where} AND ${c}`, rows: counts.get(i) ?? 0 }));
    } else {
      ranges = [{ where, rows }];
    }
    for (const r of ranges) {
      if (r.rows === 0) continue;
      // Many rows at one instant (or no time column): cut by the rows' hash, sizes then only expected.
      if (r.rows > 2 * pageRows) {
        const n = Math.ceil(r.rows / pageRows);
        for (const h of hashConditions(n)) pages.push({ where: `${r.where} AND ${h}`, rows: Math.round(r.rows / n) });
      } else pages.push(r);
    }
  }
  return pages;
}

/**
 * Pages for each of `parts` in turn (conditions that together cover every row once, each starting with
 * ` AND`, like FOCUS_FIRST_PARTS'; none: the whole table). The table is planned once without them; a
 * part before the last (the focus records: few) is counted and, if it fits a page, is one statement
 * over the whole table; the last part is the planned pages with its condition added (their row counts
 * then include the earlier parts' rows: they only size pages and drive the progress). So the heavy
 * part conditions (a Map column) are read once per part, not again for planning.
 */
export async function planParts(read: ReadSql, table: string, parts: readonly string[], pageRows: number): Promise<Page[][]> {
  const all = await planPages(read, table, '1', pageRows);
  if (parts.length === 0) return [all];
  const out: Page[][] = [];
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1) {
      out.push(all.map((p) => ({ where: `${p.where}${part}`, rows: p.rows })));
      break;
    }
    const rows = Number((await read(`SELECT count() FROM default.\`${table}\` WHERE 1${part} FORMAT TabSeparated`)).trim());
    if (rows === 0) out.push([]);
    else if (rows <= pageRows) out.push([{ where: `1${part}`, rows }]);
    else out.push(await planPages(read, table, `1${part}`, pageRows));
  }
  return out;
}
