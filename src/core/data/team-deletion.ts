/**
 * Delete My Data on a team server (issue 11, central part): the contract between the team server's
 * endpoints (src/server/team/member-data.ts), the extension side (src/stack/team-data.ts) and
 * `npm run team -- delete-member-data`. Pure types and paths.
 *
 * On the team server's OTLP/HTTP TLS port:
 * - `GET  /v1/members/me/data`     → MemberDataCounts of the caller's own rows;
 * - `POST /v1/members/me/delete`   → MemberDeletion: every row of the caller in every table, at once;
 * - `…/members/<name>/…`           → the same for another member: team admins (role `admin`) and the
 *   server's own control token (`<team dir>/control.token`, what the CLI on the server machine uses).
 */

/** Rows of one table that belong to the member, with the first and last time ('' when none). */
export interface MemberTableCount {
  /** Catalog id (src/core/data/tables.ts), `otel_traces_trace_id_ts`, or `forward_received`. */
  id: string;
  table: string;
  label: string;
  rows: number;
  first: string;
  last: string;
}

export interface MemberDataCounts {
  member: string;
  tables: MemberTableCount[];
  total: number;
}

export interface MemberDeletion {
  member: string;
  /** ISO time of the deletion; who asked (`<name> (<role>)` or `team server admin (control token)`). */
  at: string;
  by: string;
  /** What was deleted (the counts just before), per table; all zero afterwards (`after`). */
  deleted: MemberTableCount[];
  total: number;
  after: MemberDataCounts;
}

/** One line of the team server's deletion log (`<team dir>/deletions.jsonl`, 0600): never any data. */
export interface DeletionLogEntry {
  at: string;
  member: string;
  by: string;
  rows: Record<string, number>;
  total: number;
}

export const SELF = 'me';

export function memberDataPath(member: string, what: 'data' | 'delete'): string {
  return `/v1/members/${encodeURIComponent(member)}/${what}`;
}
