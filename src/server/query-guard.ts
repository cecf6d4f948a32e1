/**
 * What the ClickHouse HTTP endpoint lets each identity run, decided on the engine's own parse of the
 * statement (`Store.normalize`: one statement, one line, string literals quoted, comments gone), never
 * on the raw text a client sent. The reader identity also runs in the engine's `readonly = 1`; this
 * guard adds what readonly mode does not refuse in an embedded engine (measured on chDB 26.7: the
 * scalar `file()` reads any file, `INTO OUTFILE` writes one, `KILL QUERY` is allowed) and keeps the
 * writer away from the file system and the network: chDB runs as the author, so a file outside the
 * data directory, a URL or another server must never be reachable through SQL (docs/SECURITY.md).
 */
import { StoreError, type Identity } from './store/types';

/** Statements a reader may run; the engine's readonly mode checks the rest of the statement. */
const READ_KINDS = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXISTS', 'EXPLAIN', '(']);

/** Statements the writer may run besides reads. Not here: SET/USE (shared sessions; use URL settings and
 * `database`), SYSTEM, KILL, BACKUP/RESTORE, GRANT and friends. */
const WRITE_KINDS = new Set(['INSERT', 'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'RENAME', 'OPTIMIZE', 'DELETE', 'UPDATE', 'EXCHANGE', 'DETACH', 'ATTACH', 'CHECK']);

/**
 * Table functions, table engines, dictionary sources and scalar functions that reach files, URLs,
 * other servers or programs. Matched as a call (`name(`) outside string literals, case-insensitive:
 * `File(CSV)` as an engine and `SOURCE(FILE(path …))` are the same reach as `file('…')`.
 */
const OUTSIDE_REACH = [
  'file', 'filecluster', 'url', 'urlcluster', 's3', 's3cluster', 'gcs', 'oss', 'cosn', 'azureblobstorage', 'azureblobstoragecluster',
  'hdfs', 'hdfscluster', 'remote', 'remotesecure', 'cluster', 'clusterallreplicas', 'mysql', 'postgresql', 'mongodb', 'redis', 'sqlite',
  'odbc', 'jdbc', 'executable', 'executablepool', 'executable_pool', 'iceberg', 'icebergs3', 'icebergazure', 'iceberghdfs', 'icebergcluster',
  'icebergs3cluster', 'icebergazurecluster', 'iceberghdfscluster', 'icebergLocal', 'deltalake', 'deltalakecluster', 'deltalakelocal', 'deltalakes3', 'deltalakeazure', 'hudi', 'hudicluster', 'paimon',
  'arrowflight', 'ytsaurus', 'http', 'clickhouse', 'cassandra', 'disk', 'kafka', 'rabbitmq', 'nats',
];
const OUTSIDE_REACH_RE = new RegExp(`(?<![\\w.$])(${OUTSIDE_REACH.join('|')})\\s*\\(`, 'i');

/** Single-quoted string literals of the normalised text, backslash escapes included. */
const STRING_LITERAL = /'(?:[^'\\]|\\[\s\S])*'/g;
/** Backquoted and double-quoted identifiers: a table named `file` is not a call. */
const QUOTED_IDENT = /`(?:[^`\\]|\\[\s\S])*`|"(?:[^"\\]|\\[\s\S])*"/g;

/**
 * Settings the guard relies on: with them the writer's `VALUES` rows could carry function calls
 * (`file(…)`) the guard never sees, since it checks the statement and not the data. Refused from the
 * URL, in `SET` and in a `SETTINGS` clause.
 */
const GUARDED_SETTINGS = ['input_format_values_interpret_expressions', 'input_format_values_deduce_templates_of_expressions'];
const GUARDED_SETTINGS_RE = new RegExp(`\\b(${GUARDED_SETTINGS.join('|')})\\b`, 'i');

/** Refuses URL settings the guard depends on (see GUARDED_SETTINGS); throws a StoreError (code 497). */
export function checkSettings(names: Iterable<string>): void {
  for (const name of names) {
    if (GUARDED_SETTINGS.includes(name.toLowerCase())) refuse(497, `the setting ${name} is fixed on this server: VALUES rows hold literals only`);
  }
}

export interface GuardVerdict {
  /** The statement's first keyword, upper case (`SELECT`, `INSERT`, …). */
  kind: string;
  /** True for SELECT-like statements, whose result is streamed as the engine produces it (chDB streams no other kind). */
  streams: boolean;
}

/** ClickHouse's names for the codes the guard answers with: clients parse `(NAME)` to type the error. */
const CODE_NAMES: Record<number, string> = { 164: 'READONLY', 497: 'ACCESS_DENIED' };

function refuse(code: number, message: string): never {
  throw new StoreError(`Code: ${code}. DB::Exception: ${message}. (${CODE_NAMES[code]})`, code, false);
}

/**
 * Checks one normalised statement for an identity; throws a StoreError (code 164/497) when refused.
 * `inSession`: the request names a session (`session_id`), whose own state `SET` and `USE` change, as in
 * ClickHouse; pooled sessions are shared, so there they stay refused.
 */
export function checkStatement(normalized: string, identity: Identity, inSession = false): GuardVerdict {
  const bare = normalized.replace(STRING_LITERAL, "''");
  const kind = (/^\s*(\(|[A-Za-z]+)/.exec(bare)?.[1] ?? '').toUpperCase();
  const reads = READ_KINDS.has(kind);
  const sessionState = inSession && identity === 'writer' && (kind === 'SET' || kind === 'USE');
  if (!reads && !sessionState && !(identity === 'writer' && WRITE_KINDS.has(kind))) {
    if (identity === 'reader') refuse(164, `Cannot execute query in readonly mode: ${kind || 'this statement'} needs the writer identity (docs/SECURITY.md), anonymous requests are read-only`);
    refuse(497, `${kind || 'this statement'} is not offered over the local HTTP endpoint (SET/USE: send settings as URL parameters and the database as ?database=; SYSTEM, KILL, BACKUP, RESTORE, GRANT: not available)`);
  }
  if (/\bINTO\s+OUTFILE\b/i.test(bare)) refuse(497, 'INTO OUTFILE is not allowed: read the result from the HTTP response instead');
  if (/\bFROM\s+INFILE\b/i.test(bare)) refuse(497, 'FROM INFILE is not allowed: send the rows in the request body instead');
  const guarded = GUARDED_SETTINGS_RE.exec(bare);
  if (guarded) refuse(497, `the setting ${guarded[1]} is fixed on this server: VALUES rows hold literals only`);
  const reach = OUTSIDE_REACH_RE.exec(bare.replace(QUOTED_IDENT, '``'));
  if (reach) refuse(497, `${reach[1]}(…) is not allowed here: queries may not reach files, URLs, other servers or programs from the telemetry server`);
  if (kind === 'ATTACH' && /\bFROM\s*''/i.test(bare)) refuse(497, 'ATTACH … FROM a path is not allowed here');
  return { kind, streams: kind === 'SELECT' || kind === 'WITH' || kind === '(' };
}
