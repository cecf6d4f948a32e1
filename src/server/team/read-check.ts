/**
 * What a team member's statement may name, checked before it runs (docs/SECURITY.md "Team reads").
 * The member's session already filters rows (read-scope.ts), but measured on chDB 26.7 the filters
 * do not apply through a materialized view's own name (it reads its `TO` table whole) nor through
 * `merge()`; and a role may not read some tables at all. So every statement passes two checks, both
 * run by the engine in the member's own session (names resolve exactly as the statement will):
 *
 * 1. `EXPLAIN AST` (syntax only, evaluates nothing; query parameters already substituted): no table
 *    function but the row generators, no function that reads a table or dictionary by name, no
 *    nested EXPLAIN, no identifier naming a table the role may not read. This runs first because
 *    the next check analyses the statement, and analysis evaluates scalar subqueries (measured:
 *    `EXPLAIN QUERY TREE SELECT (SELECT throwIf(1))` throws), which would let a refused table
 *    answer through an error or a delay.
 * 2. `EXPLAIN QUERY TREE` (the analyser's resolved tree): every `table_name` in the role's list (the
 *    admin: not one of the tables that show other members' queries), every table function a
 *    generator, no by-name function.
 *
 * Refusals are ClickHouse-style errors with code 497 (ACCESS_DENIED) saying what is not allowed.
 */
import type { TeamRole } from '../../core/team-bundle';
import { StoreError } from '../store/types';

/** Table functions that only make rows from their arguments: they read no table. */
const GENERATORS = new Set(['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generate_series', 'generateseries', 'values', 'null']);

/** Functions that read a table, dictionary or model by its name given as a string. */
const BY_NAME_FUNCTION = /^(joinget\w*|dict\w+|catboostevaluate|hascolumnintable\w*|getsubcolumn|initializeaggregation)$/i;

/** Tables that show other members' statements (query texts, errors, running queries): refused to everyone. */
const OTHER_QUERIES = /^system\.(\w*_log|processes|user_processes|errors|query_cache|asynchronous_inserts|zookeeper)$/i;

/** Statements each role may send. The admin also reads the schema; DESCRIBE only of a named table. */
const MEMBER_KINDS = new Set(['SELECT', 'WITH', '(']);
const ADMIN_KINDS = new Set([...MEMBER_KINDS, 'SHOW', 'DESCRIBE', 'DESC', 'EXISTS']);

/** What the check needs to know about the engine's catalogue (loaded in the member's session). */
export interface Catalogue {
  /** Every table and view, `db.table`, lower case. */
  tables: ReadonlySet<string>;
  /** Database names, lower case. */
  databases: ReadonlySet<string>;
}

export interface ReadRule {
  role: TeamRole;
  /** `db.table` the role may name; undefined: any but OTHER_QUERIES (the admin). */
  readable: ReadonlySet<string> | undefined;
}

export function refuse(message: string): never {
  throw new StoreError(`Code: 497. DB::Exception: ${message}. (ACCESS_DENIED)`, 497, false);
}

/** The statement's kind, refused unless the role may send it; normalised text, string literals as sent. */
export function checkKind(normalized: string, rule: ReadRule): string {
  const bare = normalized.replace(/'(?:[^'\\]|\\[\s\S])*'/g, "''");
  const kind = (/^\s*(\(|[A-Za-z]+)/.exec(bare)?.[1] ?? '').toUpperCase();
  const kinds = rule.role === 'admin' ? ADMIN_KINDS : MEMBER_KINDS;
  if (!kinds.has(kind)) {
    refuse(rule.role === 'admin'
      ? `${kind || 'this statement'} is not offered to team members: reads only (SELECT, WITH, SHOW, DESCRIBE, EXISTS)`
      : `${kind || 'this statement'} is not allowed for the ${rule.role} role: team members read with SELECT or WITH only`);
  }
  if (kind === 'SHOW' && /^\s*SHOW\s+(FULL\s+)?PROCESSLIST\b/i.test(bare)) refuse('SHOW PROCESSLIST is not offered: it shows other members\' queries');
  // DESCRIBE of a subquery or table function analyses it (scalar subqueries run): a named table only.
  if ((kind === 'DESCRIBE' || kind === 'DESC') && !/^\s*DESC(RIBE)?\s+(TABLE\s+)?[\w.`"]+\s*(FORMAT\s+\w+\s*)?$/i.test(bare)) {
    refuse('DESCRIBE is offered for a table by name only');
  }
  return kind;
}

/** One line of an EXPLAIN dump: its depth and text. */
interface DumpLine { depth: number; text: string }

function lines(dump: string): DumpLine[] {
  return dump.split('\n').filter((l) => l.trim() !== '').map((l) => ({ depth: l.length - l.trimStart().length, text: l.trim() }));
}

/** The name an AST identifier line carries, without its `(alias …)` / `(children …)` tail. */
function identifierName(rest: string): string {
  return rest.replace(/\s+\((alias|children)\b.*$/, '').trim();
}

/**
 * Whether a name as written (`t`, `db.t`, `db.t.column`, an alias `a.column`) names a table the
 * role may not read. `database`: the one unqualified names resolve in.
 */
function namesRefusedTable(name: string, rule: ReadRule, catalogue: Catalogue, database: string): string | undefined {
  const parts = name.toLowerCase().split('.');
  const refused = (table: string, known: boolean) => OTHER_QUERIES.test(table) || (rule.readable !== undefined && known && !rule.readable.has(table));
  if (parts.length >= 2 && catalogue.databases.has(parts[0]!)) {
    const table = `${parts[0]}.${parts[1]}`;
    // Outside `default` a member reads nothing but system.one, whether or not the table exists.
    if (refused(table, parts[0] !== 'default' || catalogue.tables.has(table))) return table;
  }
  // Unqualified, or qualified by a table alias (`e.user_id`): the first part as a table of the current database.
  const table = `${database}.${parts[0]}`;
  return refused(table, catalogue.tables.has(table)) ? table : undefined;
}

/** Check 1, on `EXPLAIN AST <statement>`: evaluates nothing. */
export function checkAst(dump: string, rule: ReadRule, catalogue: Catalogue, database = 'default'): void {
  const ls = lines(dump);
  for (let i = 0; i < ls.length; i++) {
    const { depth, text } = ls[i]!;
    const m = /^(TableIdentifier|Identifier|Function|Explain\w*)\b\s*(.*)$/.exec(text);
    if (!m) continue;
    const [, type, rest] = m;
    if (type!.startsWith('Explain')) refuse('EXPLAIN inside a query is not allowed for team members');
    if (type === 'Function') {
      const name = identifierName(rest!);
      if (BY_NAME_FUNCTION.test(name)) refuse(`${name}() is not allowed for team members: it reads a table or dictionary by name, past the row filters`);
      let parent: DumpLine | undefined;
      for (let j = i - 1; j >= 0; j--) if (ls[j]!.depth < depth) { parent = ls[j]; break; }
      if (parent?.text.startsWith('TableExpression') && !GENERATORS.has(name.toLowerCase())) {
        refuse(`the table function ${name}() is not allowed for team members (only ${[...GENERATORS].filter((g) => !g.includes('_') && g !== 'generateseries').join(', ')}): name a table instead`);
      }
      continue;
    }
    const refused = namesRefusedTable(identifierName(rest!), rule, catalogue, database);
    if (refused) refuse(readRefusal(refused, rule));
  }
}

/** Check 2, on `EXPLAIN QUERY TREE <statement>`: every table the analyser resolved. */
export function checkTree(dump: string, rule: ReadRule): void {
  for (const { text } of lines(dump)) {
    const table = /^TABLE id: .*?\btable_name: (.+?)(?:, \w+: |$)/.exec(text)?.[1];
    if (table !== undefined) {
      const t = table.toLowerCase();
      if (OTHER_QUERIES.test(t) || (rule.readable && !rule.readable.has(t))) refuse(readRefusal(t, rule));
    }
    const fn = /^TABLE_FUNCTION id: .*?\btable_function_name: (\w+)/.exec(text)?.[1];
    if (fn !== undefined && !GENERATORS.has(fn.toLowerCase())) refuse(`the table function ${fn}() is not allowed for team members`);
    const called = /^FUNCTION id: .*?\bfunction_name: (\w+)/.exec(text)?.[1];
    if (called !== undefined && BY_NAME_FUNCTION.test(called)) refuse(`${called}() is not allowed for team members: it reads a table or dictionary by name, past the row filters`);
  }
}

function readRefusal(table: string, rule: ReadRule): string {
  if (OTHER_QUERIES.test(table)) return `${table} is not readable over the team server: it shows other members' queries`;
  return `the ${rule.role} role may not read ${table}: members read the telemetry tables and views (own rows${rule.role === 'coordinator' ? '; every member\'s in the aggregates' : ''}), not materialized views, system tables or other databases`;
}
