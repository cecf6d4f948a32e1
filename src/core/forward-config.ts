/**
 * The forwarding agent's contract (issue 10, "the local stack becomes the team's agent"): what the
 * extension writes to `<dataDir>/forward.json` and what the local server answers on
 * `GET /forward/status`. Pure: parsing and types, no I/O.
 *
 * forward.json (0600, written atomically: temp file + rename; a running server picks it up within
 * one tick, no restart):
 * - absent, or `enabled: false` → nothing is sent; the watermarks stay where they are, so what was
 *   collected meanwhile is "the queue" and goes out when forwarding is enabled again (queue kept);
 * - `enabled: false, drop_queue: true` → nothing is sent AND the watermarks follow the local store,
 *   so nothing collected up to now or while this stays in force is ever sent (queue dropped);
 * - `enabled: true` → every raw row (otel_logs, otel_metrics_*, otel_traces) beyond the watermark is
 *   filtered by the author's `privacy` and POSTed to `<otlp_http>/v1/forward/<table>` with the
 *   member's secret, trusting `ca_pem` only.
 * - `history` picks the starting point when the (team, member, otlp_http, history) target is new:
 *   'none' → what the store holds now stays local; 'all' → everything; 'YYYY-MM-DD' → everything
 *   whose timestamp is on or after that day (UTC), also afterwards. Changing `history` (or the
 *   target) restarts from that point; rows the team server already holds are stored once there.
 */
import { PRIVACY_LEVELS, type PrivacyLevel } from './team-privacy';
import { MEMBER_NAME_RE, TEAM_ROLES, type TeamEndpoints, type TeamRole } from './team-bundle';

export const FORWARD_CONFIG_FILE = 'forward.json';

export type ForwardHistory = 'all' | 'none' | `${number}-${number}-${number}`;

/** From the bundle: otlp_http is where records go, query_url serves count checks and pull-back, ca_pem is the only CA trusted for both. */
export interface ForwardConfig extends TeamEndpoints {
  version: 1;
  enabled: boolean;
  /** With enabled:false: the queue is dropped (see the header). Ignored while enabled. */
  drop_queue?: boolean;
  /** The member's secret. This file is 0600; the secret goes nowhere else on disk. */
  secret: string;
  /** The author's privacy level, applied before anything leaves the machine. */
  privacy: PrivacyLevel;
  history: ForwardHistory;
}

export type ForwardState = 'off' | 'delivering' | 'idle' | 'failing' | 'paused';

export interface ForwardHistoryProgress {
  /** Rows of the history (blocks up to the local store's end when the target was set, after the date filter). */
  total_rows: number;
  delivered_rows: number;
  /** JSONEachRow bytes sent for the history so far (this server process). */
  bytes: number;
  /** Over the last minute of deliveries; 0 when nothing moved. */
  rows_per_s: number;
  /** Seconds left at rows_per_s; absent when unknown (rate 0). */
  eta_s?: number;
}

export interface ForwardStatus {
  /**
   * off: no forward.json (or unreadable: see last_error); paused: enabled:false; idle: enabled, queue
   * empty; delivering: enabled, queue not empty, last attempt fine; failing: the last attempt failed.
   */
  state: ForwardState;
  team?: string;
  member?: string;
  /** ISO time the current target was first enabled. */
  enabled_at?: string;
  /** Raw rows in the local store (the tables that are forwarded). */
  local_rows: number;
  /** Local rows at or below the watermarks (sent, or dropped by the date filter / drop_queue / history 'none'). */
  delivered_rows: number;
  /** Local rows beyond the watermarks that would be sent. */
  queue_rows: number;
  last_delivery_at?: string;
  last_error?: string;
  /** ISO time of the first failure of the current failing streak. */
  failing_since?: string;
  history?: ForwardHistoryProgress;
}

export class ForwardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardConfigError';
  }
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A valid calendar day as YYYY-MM-DD (2025-02-30 is refused). */
export function isHistoryDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function httpsUrl(field: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new ForwardConfigError(`forward.json: "${field}" must be a non-empty string.`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ForwardConfigError(`forward.json: "${field}" is not a URL (${JSON.stringify(v)}).`);
  }
  if (u.protocol !== 'https:') throw new ForwardConfigError(`forward.json: "${field}" must be https (${v}): a team server is only reached over TLS.`);
  return v.replace(/\/+$/, '');
}

function str(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (typeof v !== 'string' || v === '') throw new ForwardConfigError(`forward.json: "${field}" must be a non-empty string.`);
  return v;
}

/** Parses and validates forward.json's text. Throws ForwardConfigError saying which field is wrong. */
export function parseForwardConfig(text: string): ForwardConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ForwardConfigError(`forward.json is not JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ForwardConfigError('forward.json must hold one JSON object.');
  const o = raw as Record<string, unknown>;
  if (o.version !== 1) throw new ForwardConfigError(`forward.json: "version" must be 1 (got ${JSON.stringify(o.version)}); this server reads version 1 only.`);
  if (typeof o.enabled !== 'boolean') throw new ForwardConfigError('forward.json: "enabled" must be true or false.');
  if (o.drop_queue !== undefined && typeof o.drop_queue !== 'boolean') throw new ForwardConfigError('forward.json: "drop_queue" must be true or false when present.');
  const member = str(o, 'member');
  if (!MEMBER_NAME_RE.test(member)) throw new ForwardConfigError(`forward.json: "member" (${JSON.stringify(member)}) is not a valid member name.`);
  const role = str(o, 'role') as TeamRole;
  if (!TEAM_ROLES.includes(role)) throw new ForwardConfigError(`forward.json: "role" must be one of ${TEAM_ROLES.join(', ')}.`);
  const privacy = str(o, 'privacy') as PrivacyLevel;
  if (!PRIVACY_LEVELS.includes(privacy)) throw new ForwardConfigError(`forward.json: "privacy" must be one of ${PRIVACY_LEVELS.join(', ')}.`);
  const history = str(o, 'history');
  if (history !== 'all' && history !== 'none' && !isHistoryDate(history)) {
    throw new ForwardConfigError(`forward.json: "history" must be "all", "none" or a day as YYYY-MM-DD (got ${JSON.stringify(history)}).`);
  }
  const ca = str(o, 'ca_pem');
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new ForwardConfigError('forward.json: "ca_pem" must be a PEM certificate.');
  const cfg: ForwardConfig = {
    version: 1,
    enabled: o.enabled,
    team: str(o, 'team'),
    member,
    role,
    otlp_http: httpsUrl('otlp_http', o.otlp_http),
    query_url: httpsUrl('query_url', o.query_url),
    ca_pem: ca,
    secret: str(o, 'secret'),
    privacy,
    history: history as ForwardHistory,
  };
  if (o.drop_queue !== undefined) cfg.drop_queue = o.drop_queue as boolean;
  return cfg;
}

/** The destination watermarks belong to: a new one (or another history choice) restarts from its starting point. */
export function forwardTargetKey(c: Pick<ForwardConfig, 'team' | 'member' | 'otlp_http' | 'history'>): string {
  return JSON.stringify([c.team, c.member, c.otlp_http, c.history]);
}

/**
 * What `POST /forward/pull-back` (local server, writer only) answers: the member's own raw rows at the
 * team server, per raw table, and how many records were added to the local store now or were
 * already held (`pulled + already = team_records`; a record = a distinct identity,
 * src/core/data/record-identity.ts). A second pull adds 0.
 */
export interface PullBackTable {
  table: string;
  /** The member's rows at the team server, and their distinct identities. */
  team_rows: number;
  team_records: number;
  /** Records added to the local store now, and records it already held. */
  pulled: number;
  already: number;
}

export interface PullBackResult {
  team: string;
  member: string;
  /** Sums over the tables. */
  team_rows: number;
  team_records: number;
  pulled: number;
  already: number;
  tables: PullBackTable[];
}
