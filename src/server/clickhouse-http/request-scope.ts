/**
 * A request the team gate (team/query-gate.ts) admitted for a member, handed to the ClickHouse HTTP
 * handler with the request itself: the handler then runs it as a reader in the member's own scoped
 * sessions and lets the scope refuse what the member's role may not run. Kept beside the request,
 * not in a header, so nothing a client sends can set or change it.
 */
import type { IncomingMessage } from 'node:http';
import type { ReadScope } from '../store/types';

export interface RequestScope {
  /** The store's sessions for this member (row filters, readonly). */
  store: ReadScope;
  /** May the request pick a database other than `default` (`database`, X-ClickHouse-Database)? */
  anyDatabase: boolean;
  /** Refuses a statement kind the role may not send (a StoreError); runs before the query guard. */
  checkKind(normalized: string): void;
  /**
   * Refuses what the role may not read (a StoreError), after the query guard. `run` runs one of the
   * server's own statements (EXPLAIN …) in the member's session with the request's parameters and
   * database, and returns its text.
   */
  admit(normalized: string, database: string, run: (sql: string) => Promise<string>): Promise<void>;
}

const scopes = new WeakMap<IncomingMessage, RequestScope>();

export function setRequestScope(req: IncomingMessage, scope: RequestScope): void {
  scopes.set(req, scope);
}

export function requestScope(req: IncomingMessage): RequestScope | undefined {
  return scopes.get(req);
}
