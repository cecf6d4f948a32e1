/**
 * Whose numbers a view shows (the scope chooser of every view). Pure: the host says what is
 * possible (the configured author id, the team connection if any), this file turns it into choices,
 * validates what a webview asks for, and words what a filter hides.
 *
 * - `all`  — the local store, every author in it. The default: a store shows what it holds, even when
 *   Claude Code ran with another `user_id` than the setting (the bug that made Show Cost say "$0.00").
 * - `me`   — the local store, only the configured author id.
 * - `mine` — central mode: the member's own rows, read from the team server with the member's credential.
 * - `team` — central mode, coordinator or admin: the whole team, from the team server's aggregate tables only.
 */
import type { HiddenRowsRow, Scope } from '../queries';
import type { TeamRole } from '../team-bundle';

export type ViewScope = 'all' | 'me' | 'mine' | 'team';
export const VIEW_SCOPES: readonly ViewScope[] = ['all', 'me', 'mine', 'team'];
export const DEFAULT_SCOPE: ViewScope = 'all';

/** The team this window is connected to (no secret), when there is one. */
export interface TeamIdentity {
  team: string;
  member: string;
  role: TeamRole;
}

export interface ScopeContext {
  /** The configured author id (`chapterTelemetry.userId`, else the OS user). */
  userId: string;
  team?: TeamIdentity;
}

export interface ScopeOption {
  scope: ViewScope;
  label: string;
}

/** Roles that may read the team's aggregates. */
export const TEAM_VIEW_ROLES: readonly TeamRole[] = ['coordinator', 'admin'];

export function scopeOptions(ctx: ScopeContext): ScopeOption[] {
  const t = ctx.team;
  const out: ScopeOption[] = [
    { scope: 'all', label: t ? 'Local: all authors in this store' : 'All authors in this store' },
    { scope: 'me', label: t ? `Local: only ${ctx.userId}` : `Only ${ctx.userId}` },
  ];
  if (t) {
    out.push({ scope: 'mine', label: `Mine: ${t.member} on ${t.team}` });
    if (TEAM_VIEW_ROLES.includes(t.role)) out.push({ scope: 'team', label: `Team: all of ${t.team} (aggregates)` });
  }
  return out;
}

/** What a webview asked for, if this window offers it; else the default. Never trusts the webview. */
export function chooseScope(requested: unknown, ctx: ScopeContext): ViewScope {
  const offered = scopeOptions(ctx).map((o) => o.scope);
  return offered.includes(requested as ViewScope) ? (requested as ViewScope) : DEFAULT_SCOPE;
}

/** The author filter a row-level query gets: one author for `me` and `mine`, everyone for `all`. */
export function filterScope(s: ViewScope): Scope {
  return s === 'me' || s === 'mine' ? 'me' : 'all';
}

/** The words of the hidden-rows note, or undefined when the filter hides nothing. */
export function hiddenRowsText(h: HiddenRowsRow | undefined): string | undefined {
  if (!h || (h.requests === 0 && h.errors === 0)) return undefined;
  const n = (v: number, one: string, many: string) => `${v.toLocaleString('en-US')} ${v === 1 ? one : many}`;
  const what = [h.requests > 0 ? n(h.requests, 'request', 'requests') : '', h.errors > 0 ? n(h.errors, 'error', 'errors') : '']
    .filter(Boolean).join(' and ');
  return `${what} by ${h.authors === 1 ? 'another author' : `${h.authors.toLocaleString('en-US')} other authors`} hidden`;
}
