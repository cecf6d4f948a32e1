/**
 * Where the extension keeps its team connection (issue 10, "Centralize Telemetry"), in one place so
 * every part reads it the same way (the wizard, the status bar, the analytics scope chooser):
 *
 * - the member's secret: SecretStorage only, key `chapterTelemetry.team.secret` (never settings,
 *   logs, terminal environments or globalState);
 * - everything else about the connection (team, member, role, endpoints, the CA and its pin, the
 *   privacy level chosen): globalState, key `chapterTelemetry.team.connection`.
 *
 * `central` tells whether this machine forwards to the team now. Revert to Local keeps the record
 * with `central: false` (so team reads such as *Mine* still work while the secret is kept) unless the
 * author forgets the secret, which removes both. No other module should touch these two keys.
 */
import * as vscode from 'vscode';
import { TEAM_ROLES, type TeamEndpoints, type TeamRole } from '../core/team-bundle';
import { PRIVACY_LEVELS, type PrivacyLevel } from '../core/team-privacy';

export const TEAM_CONNECTION_KEY = 'chapterTelemetry.team.connection';
export const TEAM_SECRET_KEY = 'chapterTelemetry.team.secret';

/** The non-secret part of a team connection. */
export interface TeamConnection extends TeamEndpoints {
  /** SHA-256 of the CA (DER), lower-case hex; checked against ca_pem when the bundle was pasted. */
  ca_sha256: string;
  /** What leaves this machine (src/core/team-privacy.ts). */
  privacy: PrivacyLevel;
  /** True while the local stack forwards to the team; false after Revert to Local (secret kept). */
  central: boolean;
  /** When the connection was made (ISO). */
  connected_at: string;
  /** The history choice of the last Centralize ('all' | 'none' | 'YYYY-MM-DD'), and whether its move finished. */
  history?: string;
  history_done?: boolean;
}

/** What the accessors need: an ExtensionContext fits; tests may pass their own. */
export interface TeamStore {
  globalState: vscode.Memento;
  secrets: vscode.SecretStorage;
}

const changed = new vscode.EventEmitter<TeamConnection | undefined>();
/** Fires after setTeamConnection / updateTeamConnection / clearTeamConnection in this window. */
export const onDidChangeTeamConnection: vscode.Event<TeamConnection | undefined> = changed.event;

const str = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** The stored connection, or undefined when there is none (or what is stored is not one: never trusted blindly). */
export function getTeamConnection(s: Pick<TeamStore, 'globalState'>): TeamConnection | undefined {
  const v = s.globalState.get<unknown>(TEAM_CONNECTION_KEY);
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (!str(o.team) || !str(o.member) || !str(o.otlp_http) || !str(o.query_url) || !str(o.ca_pem) || !str(o.ca_sha256)) return undefined;
  if (!TEAM_ROLES.includes(o.role as TeamRole) || !PRIVACY_LEVELS.includes(o.privacy as PrivacyLevel)) return undefined;
  return {
    team: o.team, member: o.member, role: o.role as TeamRole, otlp_http: o.otlp_http, query_url: o.query_url, ca_pem: o.ca_pem,
    ca_sha256: o.ca_sha256, privacy: o.privacy as PrivacyLevel, central: o.central === true,
    connected_at: str(o.connected_at) ? o.connected_at : '',
    ...(str(o.history) ? { history: o.history } : {}),
    ...(typeof o.history_done === 'boolean' ? { history_done: o.history_done } : {}),
  };
}

/** The member's secret from SecretStorage. */
export async function getTeamSecret(s: Pick<TeamStore, 'secrets'>): Promise<string | undefined> {
  const v = await s.secrets.get(TEAM_SECRET_KEY);
  return v === undefined || v === '' ? undefined : v;
}

/** Stores a connection and its secret (the secret first: a connection without its secret is useless). */
export async function setTeamConnection(s: TeamStore, conn: TeamConnection, secret: string): Promise<void> {
  if ((conn as unknown as Record<string, unknown>).secret !== undefined) throw new Error('A team connection record must not carry the secret.');
  await s.secrets.store(TEAM_SECRET_KEY, secret);
  await s.globalState.update(TEAM_CONNECTION_KEY, { ...conn });
  changed.fire(getTeamConnection(s));
}

/** Changes fields of the stored connection (central, history progress, privacy); no-op without one. */
export async function updateTeamConnection(s: Pick<TeamStore, 'globalState'>, patch: Partial<Omit<TeamConnection, 'team' | 'member'>>): Promise<TeamConnection | undefined> {
  const cur = getTeamConnection(s);
  if (!cur) return undefined;
  const next = { ...cur, ...patch };
  await s.globalState.update(TEAM_CONNECTION_KEY, next);
  changed.fire(next);
  return next;
}

/** Forgets the connection and the secret. */
export async function clearTeamConnection(s: TeamStore): Promise<void> {
  await s.secrets.delete(TEAM_SECRET_KEY);
  await s.globalState.update(TEAM_CONNECTION_KEY, undefined);
  changed.fire(undefined);
}
