/**
 * What each team role reads over the team server's ClickHouse port (issue "Team server", the seed's
 * access table), as data: which tables carry members' rows and how each names a row's member, which
 * of them are aggregates, and, per role, the row filters a member's sessions run with and the
 * tables and views the member may name at all (read-check.ts enforces the list).
 *
 * - contributor: own rows in every table and view;
 * - coordinator: every member's rows in the aggregate tables, own rows in everything raw;
 * - admin: everything, no filters (still read-only and kept from other members' queries).
 *
 * A new table is refused to contributors and coordinators until it is listed here: the lists are
 * what may be read, never what may not. test/server/team-read-scope.test.ts checks them against the
 * migrated schema (every table with a member column is listed; every listed view reads only
 * tables filtered for the role).
 */
import type { TeamRole } from '../../core/team-bundle';
import { quoteString } from '../store/sql-quote';
import type { ReadScope } from '../store/types';

/** Every table holding members' rows → the expression naming a row's member (migrations 0001–0010). */
export const MEMBER_COLUMNS: Readonly<Record<string, string>> = {
  // Raw OTLP records: the server overwrites the `user_id` resource attribute with the sender's name.
  'default.otel_logs': "ResourceAttributes['user_id']",
  'default.otel_metrics_sum': "ResourceAttributes['user_id']",
  'default.otel_metrics_gauge': "ResourceAttributes['user_id']",
  'default.otel_metrics_histogram': "ResourceAttributes['user_id']",
  'default.otel_metrics_exponential_histogram': "ResourceAttributes['user_id']",
  'default.otel_metrics_summary': "ResourceAttributes['user_id']",
  'default.otel_traces': "ResourceAttributes['user_id']",
  // Tables materialized views fill (`TO`): a filter on a view's source does not reach its target.
  'default.telemetry_events': 'user_id',
  'default.chapter_focus': 'user_id',
  'default.session_summaries': 'user_id',
  'default.daily_metrics': 'user_id',
  'default.events_15m': 'user_id',
  'default.daily_errors': 'user_id',
  // Per event (0010): each event with its chapter, so a coordinator reads only their own, as in telemetry_events.
  'default.events_chapters': 'user_id',
};

/** Aggregates a coordinator reads for the whole team: counts and sums, no prompt or error text. */
export const AGGREGATE_TABLES: readonly string[] = ['default.daily_metrics', 'default.session_summaries', 'default.events_15m', 'default.daily_errors'];

/** Plain views members may read: each reads only tables in MEMBER_COLUMNS, filtered inside the view too. */
export const MEMBER_VIEWS: readonly string[] = ['default.events_attributed'];

/** Reads no table: a query without FROM reads `system.one`. */
const NO_TABLE = 'system.one';

/** The row filters of a role's sessions: `db.table` → expression. */
export function tableFilters(member: string, role: TeamRole): Record<string, string> {
  if (role === 'admin') return {};
  const own = (column: string) => `${column} = ${quoteString(member)}`;
  const filters: Record<string, string> = {};
  for (const [table, column] of Object.entries(MEMBER_COLUMNS)) {
    if (role === 'coordinator' && AGGREGATE_TABLES.includes(table)) continue;
    filters[table] = own(column);
  }
  return filters;
}

/**
 * The tables and views a role may name (`db.table`, as the engine resolves them), or undefined for
 * the admin, who may read every table but the ones that show other members' queries (read-check.ts).
 */
export function readableTables(role: TeamRole): ReadonlySet<string> | undefined {
  if (role === 'admin') return undefined;
  return new Set([...Object.keys(MEMBER_COLUMNS), ...MEMBER_VIEWS, NO_TABLE]);
}

/** A member's read scope for the store: sessions keyed by member and role, with the role's filters. */
export function readScope(member: string, role: TeamRole): ReadScope {
  return { key: `${member}\u0000${role}`, tableFilters: tableFilters(member, role) };
}
