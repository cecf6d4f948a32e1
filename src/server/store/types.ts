/**
 * Where the embedded server keeps its data. Two implementations share this contract:
 * the in-process chDB engine (default) and a remote ClickHouse reached over HTTP
 * (`--clickhouse-url`). The OTLP receiver and the ClickHouse-compatible HTTP endpoint only
 * ever talk to a Store, so both work unchanged over either.
 */
export interface QueryOptions {
  /**
   * Values for `{name:Type}` placeholders, as ClickHouse's `param_name` text: the engine parses it in
   * its escaped (TabSeparated) form, so `\N` is NULL and `('a\'b',1)` a tuple.
   */
  params?: Record<string, string>;
  /** Output format used when the SQL has no FORMAT clause (ClickHouse `default_format`). */
  format?: string;
  /** Database for unqualified names (ClickHouse `database`). */
  database?: string;
  /** Per-query settings (ClickHouse URL settings such as `max_result_rows`). */
  settings?: Record<string, string>;
  /** Raw data for an `INSERT … FORMAT X` whose rows travel outside the SQL text. */
  data?: Buffer;
  /**
   * Who asks (docs/SECURITY.md). `reader`: the engine's own `readonly = 1`, which nothing in the
   * statement can lift. `writer` (the default, also for the server's own migrations): may write.
   */
  identity?: Identity;
  /** Cancels the statement (a client that went away). */
  signal?: AbortSignal;
  /** A client session (ClickHouse `session_id`): the statement runs where its temporary tables and SETs live. */
  session?: SessionRef;
  /** Called once the statement finished, with what the engine counted (ClickHouse `X-ClickHouse-Summary`). */
  onSummary?(summary: QuerySummary): void;
  /**
   * A team member's read (team/read-scope.ts): the statement runs in a reader session of this scope's
   * own, opened with the scope's row filters and then `readonly = 1`, never shared with another scope.
   * Only the embedded engine offers it; the remote store refuses rather than read unfiltered.
   */
  scope?: ReadScope;
}

/** Row filters fixed on a member's reader sessions (ClickHouse `additional_table_filters`). */
export interface ReadScope {
  /** Sessions are kept per key (member and role); two scopes never share one. */
  key: string;
  /** `db.table` → a boolean expression every row read from that table must satisfy. */
  tableFilters: Readonly<Record<string, string>>;
}

export interface SessionRef {
  id: string;
  /** Seconds of idleness after which the session ends (ClickHouse `session_timeout`). */
  timeoutSeconds: number;
  /** Fail with SESSION_NOT_FOUND rather than open it (ClickHouse `session_check=1`). */
  check: boolean;
}

/** The engine's own counts for one statement; a field the engine does not report is left out. */
export interface QuerySummary {
  result_rows?: number;
  result_bytes?: number;
  written_rows?: number;
  written_bytes?: number;
  elapsed_ns?: number;
}

export type Identity = 'reader' | 'writer';

export interface InsertOptions {
  /** ClickHouse `insert_deduplication_token`: the same token and rows are stored once. */
  dedupToken?: string;
}

export interface Store {
  /** A short name for messages: "chDB at /path" or "ClickHouse at http://…". */
  readonly description: string;
  /** Runs one statement and returns the engine's bytes verbatim (binary formats included). */
  query(sql: string, options?: QueryOptions): Promise<Buffer>;
  /**
   * Inserts newline-delimited JSON rows (JSONEachRow) into a table in one statement.
   * Resolves only once the rows are committed: the receiver acknowledges exports on it.
   * With `dedupToken` the engine stores a block it already holds under that token only once, in
   * the table and in every table its materialized views fill (0006_insert_deduplication.sql).
   */
  insertJsonEachRow(table: string, ndjson: Buffer, options?: InsertOptions): Promise<void>;
  /**
   * Runs one statement and yields its result as the engine produces it, so a large or endless result
   * never sits whole in memory; stopping the iteration (or `signal`) cancels the statement.
   */
  stream(sql: string, options?: QueryOptions): AsyncIterable<Uint8Array>;
  /**
   * The engine's own parse of one statement, as one normalised line (string literals single-quoted,
   * data of an INSERT left out). Rejects with code 62 on a syntax error or more than one statement.
   */
  normalize(sql: string): Promise<string>;
  close(): Promise<void>;
}

/** An error raised by the engine, carrying ClickHouse's numeric code when known. */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly clickhouseCode: number | undefined,
    /** True when the engine itself is unavailable (retry later), false for a bad statement. */
    readonly unavailable: boolean,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
