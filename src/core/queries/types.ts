/**
 * The contract between the analytics queries and whatever runs them. The queries are pure data
 * (SQL text with `{name:Type}` placeholders plus the values to bind); a runner sends them to
 * ClickHouse. No value is ever spliced into SQL text: every value travels as a bound parameter.
 */
export type ParamValue = string | number;
export type Params = Record<string, ParamValue>;

/** One statement ready to run: fixed SQL text and the values for its placeholders. */
export interface BoundQuery<Row> {
  /** A short name for logs and benchmarks. */
  readonly name: string;
  readonly sql: string;
  readonly params: Params;
  /** Phantom field: the row type this query returns (never set at run time). */
  readonly _row?: Row;
}

/** Runs one bound query and returns its rows (JSONEachRow, 64-bit integers as numbers). */
export interface QueryRunner {
  rows<Row>(query: BoundQuery<Row>): Promise<Row[]>;
}

/** Whose events a query counts: the current author only, or everyone in the store. */
export type Scope = 'me' | 'all';

/** A half-open time window [fromMs, toMs) in epoch milliseconds, plus the zone that days are cut in. */
export interface Window {
  fromMs: number;
  toMs: number;
  /** IANA zone name (e.g. "Europe/Berlin") used to group events into calendar days. */
  timeZone: string;
}

/** Filters every query accepts. `userId` empty (or scope "all") means every author. */
export interface Filter extends Window {
  userId: string;
  scope: Scope;
}

/** Pairs SQL with its values, keeping only the values the SQL has a placeholder for (shared filters bind more). */
export function bind<Row>(name: string, sql: string, params: Params): BoundQuery<Row> {
  const used = new Set([...sql.matchAll(/\{(\w+):/g)].map((m) => m[1]));
  return { name, sql, params: Object.fromEntries(Object.entries(params).filter(([k]) => used.has(k))) };
}
