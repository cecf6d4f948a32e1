/**
 * "Centralize Telemetry" and "Revert to Local" (issue 10): the decision tree's texts and checks, the
 * argument forms, the connection-test record, and how forwarding progress and state read to an
 * author. Pure: no I/O, no `vscode` (src/vscode/centralize.ts drives the UI).
 */
import { PRIVACY_LEVELS, AGGREGATE_EVENT_ATTRIBUTES, CONTENT_ATTRIBUTES, type PrivacyLevel } from './team-privacy';
import { unixNanoString } from './otlp-log';
import type { ForwardHistoryProgress, ForwardStatus } from './forward-config';

/** The decision tree's "No" answers end here, each with its reason. */
export const STAY_LOCAL_ADVICE = {
  noCrossTeam:
    'Stay local. Centralizing only pays when someone needs numbers across authors (a coordinator comparing cost per member, the team\'s error patterns). Your own numbers are complete in the local store, work offline and leave nothing on a server. Run Centralize Telemetry again when the team needs them.',
  notReliable:
    'Wait before centralizing. Let local collection run for a few writing days first, so you can see in the sidebar that every Claude Code session arrives; moving unreliable collection to a server only moves the gaps. Verify Collection tells what is missing.',
  noAgreement:
    'Stay local until the team has agreed. Every member should know what leaves their machine (the privacy level) and who reads it (coordinators see aggregated numbers; admins everything). Ask your team admin for the agreed level and the connection line, then run Centralize Telemetry again.',
} as const;

// ---- step 2: is local collection reliable? ----

/** Facts read from the local store (src/vscode/centralize-facts.ts). */
export interface LocalFacts {
  /** First and last Claude Code record (not the extension's own focus records). */
  firstEventAt?: Date;
  lastEventAt?: Date;
  events: number;
  /** Distinct days with Claude Code records. */
  activeDays: number;
  /** OTLP exports the local receiver refused since it started (bad requests, full disk). */
  rejectedExports: number;
  /** Claude Code's own api_error events (the API refused or failed), for context. */
  apiErrors: number;
  diskBytes: number;
}

/** Below these, centralizing is premature: too little to show that collection is steady. */
export const RELIABLE_MIN_ACTIVE_DAYS = 3;
export const RELIABLE_MIN_EVENTS = 50;
/** A store whose last record is older than this is not collecting now. */
export const RELIABLE_MAX_SILENCE_DAYS = 7;

export interface Reliability {
  enough: boolean;
  /** One fact per line, for the QuickPick's detail. */
  facts: string[];
  /** Why it is not enough yet (empty when enough). */
  reasons: string[];
}

const DAY_MS = 86_400_000;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function ago(ms: number): string {
  if (ms < 90_000) return 'just now';
  if (ms < 90 * 60_000) return `${Math.round(ms / 60_000)} minutes ago`;
  if (ms < 36 * 3_600_000) return `${Math.round(ms / 3_600_000)} hours ago`;
  return `${Math.round(ms / DAY_MS)} days ago`;
}

export function assessReliability(f: LocalFacts, now: Date): Reliability {
  const facts: string[] = [];
  const reasons: string[] = [];
  const spanDays = f.firstEventAt ? Math.max(0, (now.getTime() - f.firstEventAt.getTime()) / DAY_MS) : 0;
  facts.push(f.firstEventAt ? `Collecting since ${f.firstEventAt.toISOString().slice(0, 10)} (${Math.floor(spanDays)} days), records on ${f.activeDays} day${f.activeDays === 1 ? '' : 's'}` : 'No Claude Code records in the local store yet');
  facts.push(`${formatCount(f.events)} Claude Code records`);
  facts.push(f.lastEventAt ? `Last record ${ago(now.getTime() - f.lastEventAt.getTime())} (${f.lastEventAt.toISOString().replace('T', ' ').slice(0, 16)} UTC)` : 'Last record: never');
  facts.push(`${formatCount(f.rejectedExports)} refused exports since the server started; ${formatCount(f.apiErrors)} API errors reported by Claude Code`);
  facts.push(`${formatBytes(f.diskBytes)} on disk`);
  if (f.activeDays < RELIABLE_MIN_ACTIVE_DAYS) reasons.push(`records on ${f.activeDays} day${f.activeDays === 1 ? '' : 's'} (at least ${RELIABLE_MIN_ACTIVE_DAYS} show a steady pattern)`);
  if (f.events < RELIABLE_MIN_EVENTS) reasons.push(`${formatCount(f.events)} records (at least ${RELIABLE_MIN_EVENTS})`);
  if (!f.lastEventAt || now.getTime() - f.lastEventAt.getTime() > RELIABLE_MAX_SILENCE_DAYS * DAY_MS) reasons.push(`nothing arrived in the last ${RELIABLE_MAX_SILENCE_DAYS} days`);
  if (f.rejectedExports > 0) reasons.push(`${formatCount(f.rejectedExports)} exports were refused (Show Logs tells why)`);
  return { enough: reasons.length === 0, facts, reasons };
}

// ---- step 3: has the team agreed? (what each level shares) ----

export const PRIVACY_LABELS: Record<PrivacyLevel, string> = {
  all: 'Everything',
  'no-content': 'No prompts or error text',
  'aggregates-only': 'Daily aggregates only',
};

export interface PrivacyChoice {
  level: PrivacyLevel;
  label: string;
  /** One line: what is shared. */
  description: string;
  /** The field lists: what is dropped or the only fields kept. */
  detail: string;
}

export function privacyChoices(): PrivacyChoice[] {
  return PRIVACY_LEVELS.map((level) => {
    switch (level) {
      case 'all':
        return { level, label: PRIVACY_LABELS[level], description: 'every record as recorded locally', detail: 'All attributes of every log record, metric and trace. Prompt text only if you turned on chapterTelemetry.logUserPrompts.' };
      case 'no-content':
        return { level, label: PRIVACY_LABELS[level], description: 'records without content', detail: `Dropped: ${CONTENT_ATTRIBUTES.join(', ')} (and any attribute ending in prompt, response, input, output, command, message, error or path). Kept: counts, tokens, cost, models, timings, status codes.` };
      case 'aggregates-only':
        return { level, label: PRIVACY_LABELS[level], description: 'only what daily and session totals need', detail: `Kept on events: ${AGGREGATE_EVENT_ATTRIBUTES.join(', ')}. Metrics keep non-content attributes; no traces.` };
    }
  });
}

// ---- argument forms ----

export type HistoryChoice = 'all' | 'none' | `${number}-${number}-${number}`;

/** 'all', 'none' or a real calendar date YYYY-MM-DD (not in the future). */
export function parseHistoryChoice(v: unknown, now: Date = new Date()): HistoryChoice | undefined {
  if (v === 'all' || v === 'none') return v;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return undefined;
  const d = new Date(`${v}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v || d.getTime() > now.getTime()) return undefined;
  return v as HistoryChoice;
}

export interface CentralizeArgs {
  bundle?: string;
  privacy?: PrivacyLevel;
  history?: HistoryChoice;
}

/** The command's argument: unknown keys and wrong types are an error, never silently ignored. */
export function parseCentralizeArgs(arg: unknown, now: Date = new Date()): { args: CentralizeArgs } | { error: string } {
  if (arg === undefined || arg === null) return { args: {} };
  if (typeof arg !== 'object' || Array.isArray(arg)) return { error: 'The argument must be an object {bundle, privacy, history}.' };
  const o = arg as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !['bundle', 'privacy', 'history'].includes(k));
  if (unknown.length > 0) return { error: `Unknown argument field(s): ${unknown.join(', ')} (expected bundle, privacy, history).` };
  const args: CentralizeArgs = {};
  if (o.bundle !== undefined) {
    if (typeof o.bundle !== 'string') return { error: 'bundle must be the connection line (a string).' };
    args.bundle = o.bundle;
  }
  if (o.privacy !== undefined) {
    if (!PRIVACY_LEVELS.includes(o.privacy as PrivacyLevel)) return { error: `privacy must be one of ${PRIVACY_LEVELS.join(', ')}.` };
    args.privacy = o.privacy as PrivacyLevel;
  }
  if (o.history !== undefined) {
    const h = parseHistoryChoice(o.history, now);
    if (!h) return { error: 'history must be "all", "none" or a past date YYYY-MM-DD.' };
    args.history = h;
  }
  return { args };
}

export interface RevertArgs {
  pullBack: boolean;
  forgetSecret: boolean;
  dropQueue: boolean;
}

export function parseRevertArgs(arg: unknown): { args: Partial<RevertArgs> } | { error: string } {
  if (arg === undefined || arg === null) return { args: {} };
  if (typeof arg !== 'object' || Array.isArray(arg)) return { error: 'The argument must be an object {pullBack, forgetSecret, dropQueue}.' };
  const o = arg as Record<string, unknown>;
  const keys = ['pullBack', 'forgetSecret', 'dropQueue'] as const;
  const unknown = Object.keys(o).filter((k) => !(keys as readonly string[]).includes(k));
  if (unknown.length > 0) return { error: `Unknown argument field(s): ${unknown.join(', ')} (expected ${keys.join(', ')}).` };
  const args: Partial<RevertArgs> = {};
  for (const k of keys) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'boolean') return { error: `${k} must be true or false.` };
    args[k] = o[k];
  }
  return { args };
}

// ---- the connection test ----

export const CONNECTION_TEST_SERVICE = 'chapter-telemetry';
export const CONNECTION_TEST_EVENT = 'connection_test';

/**
 * One OTLP/HTTP JSON log record that says "connection test". Its marker rides in `session.id`, an
 * attribute every privacy level keeps (team-privacy.ts), so it can be read back whatever the team's
 * level; the server stamps the member's name on it, which is how the read-back shows who the server
 * thinks we are.
 */
export function connectionTestRequest(marker: string, now: Date, version = ''): object {
  const nanos = unixNanoString(now);
  const kv = (key: string, v: string) => ({ key, value: { stringValue: v } });
  return {
    resourceLogs: [{
      resource: { attributes: [kv('service.name', CONNECTION_TEST_SERVICE)] },
      scopeLogs: [{
        scope: { name: 'chapter-telemetry.centralize', version },
        logRecords: [{
          timeUnixNano: nanos, observedTimeUnixNano: nanos, severityNumber: 9, severityText: 'INFO',
          body: { stringValue: `${CONNECTION_TEST_SERVICE}.${CONNECTION_TEST_EVENT}` },
          attributes: [kv('event.name', CONNECTION_TEST_EVENT), kv('event.timestamp', now.toISOString()), kv('session.id', marker)],
        }],
      }],
    }],
  };
}

/** The read-back: who the team server stored the test record under. `{marker:String}` is bound by the caller. */
export const CONNECTION_TEST_READ_SQL =
  "SELECT ResourceAttributes['user_id'] AS member, count() AS n FROM default.otel_logs WHERE LogAttributes['session.id'] = {marker:String} GROUP BY member";

// ---- forwarding progress and state (ForwardStatus of src/core/forward-config.ts) ----

export type HistoryProgress = ForwardHistoryProgress;

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return 'unknown';
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** "12,000 of 100,000 records (12%) · 3.1 MiB · 5,000 records/s · about 18 s left". */
export function historyProgressText(h: HistoryProgress): string {
  const pct = h.total_rows > 0 ? Math.min(100, Math.floor((h.delivered_rows / h.total_rows) * 100)) : 100;
  const parts = [`${formatCount(h.delivered_rows)} of ${formatCount(h.total_rows)} records (${pct}%)`, formatBytes(h.bytes)];
  if (h.rows_per_s > 0) parts.push(`${formatCount(h.rows_per_s)} records/s`);
  if (h.delivered_rows < h.total_rows && h.rows_per_s > 0 && h.eta_s !== undefined) parts.push(`about ${formatDuration(h.eta_s)} left`);
  return parts.join(' · ');
}

export function historyPercent(h: HistoryProgress): number {
  return h.total_rows > 0 ? Math.min(100, (h.delivered_rows / h.total_rows) * 100) : 100;
}

/** What the status bar and Verify read of the forwarder's status. */
export type ForwardStateView = Pick<ForwardStatus, 'state' | 'local_rows' | 'delivered_rows' | 'queue_rows' | 'last_delivery_at' | 'last_error' | 'failing_since'>;

/** Delivery failing for longer than this turns the status bar to a warning. */
export const FAILING_WARN_MS = 60_000;

export interface CentralView {
  text: string;
  tooltip: string[];
  warning: boolean;
  /** What happened and what to do, when warning. */
  problem?: string;
}

export function centralView(team: string, s: ForwardStateView | undefined, now: Date): CentralView {
  const safeTeam = team.replace(/\$\(/g, '\\$(');
  if (!s) return { text: `$(cloud) Central · ${safeTeam}`, tooltip: [`Central: team ${team}`, 'Forwarding status unknown (the local server does not answer).'], warning: false };
  const tooltip = [`Central: team ${team}`, `Forwarding: ${s.state}`, `Queue: ${formatCount(s.queue_rows)} records waiting`, `Delivered: ${formatCount(s.delivered_rows)} of ${formatCount(s.local_rows)} local records`];
  tooltip.push(`Last delivery: ${s.last_delivery_at ? `${ago(now.getTime() - Date.parse(s.last_delivery_at))} (${s.last_delivery_at})` : 'none yet'}`);
  const failingMs = s.state === 'failing' && s.failing_since ? now.getTime() - Date.parse(s.failing_since) : 0;
  const warning = failingMs > FAILING_WARN_MS;
  let problem: string | undefined;
  if (warning) {
    problem = `Delivery to team ${team} has failed for ${formatDuration(failingMs / 1000)}${s.last_error ? ` (${s.last_error})` : ''}. Collection goes on locally and ${formatCount(s.queue_rows)} records wait in the queue; they are sent when the team server answers again. Check your network or ask your team admin whether the server runs; Revert to Local stops forwarding.`;
    tooltip.push(problem);
  } else if (s.last_error && s.state === 'failing') tooltip.push(`Last error: ${s.last_error}`);
  const icon = warning ? '$(warning)' : s.state === 'paused' ? '$(debug-pause)' : '$(cloud)';
  return { text: `${icon} Central · ${safeTeam}`, tooltip, warning, problem };
}

/** Verify Collection's extra line while central: local count, delivered, queue, lag. */
export function verifyCentralLine(team: string, s: ForwardStateView, now: Date): string {
  const lag = s.queue_rows === 0 ? 'none' : s.last_delivery_at ? formatDuration((now.getTime() - Date.parse(s.last_delivery_at)) / 1000) : 'nothing delivered yet';
  return `Central (team ${team}, ${s.state}): ${formatCount(s.local_rows)} local records, ${formatCount(s.delivered_rows)} delivered, ${formatCount(s.queue_rows)} in the queue, lag ${lag}.`;
}

// ---- the local facts' query (step 2) ----

/** Claude Code's records in the local store (not the extension's own), the API errors it reported, and the store's size. */
export const LOCAL_FACTS_SQL = `
SELECT
  (SELECT toUnixTimestamp64Milli(min(Timestamp)) FROM default.otel_logs WHERE ServiceName != 'chapter-telemetry') AS first_ms,
  (SELECT toUnixTimestamp64Milli(max(Timestamp)) FROM default.otel_logs WHERE ServiceName != 'chapter-telemetry') AS last_ms,
  (SELECT count() FROM default.otel_logs WHERE ServiceName != 'chapter-telemetry') AS events,
  (SELECT uniqExact(toDate(Timestamp)) FROM default.otel_logs WHERE ServiceName != 'chapter-telemetry') AS active_days,
  (SELECT count() FROM default.otel_logs WHERE ServiceName != 'chapter-telemetry' AND LogAttributes['event.name'] = 'api_error') AS api_errors,
  (SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'default') AS disk_bytes`;

export function localFactsFromRow(row: Record<string, unknown> | undefined, rejectedExports: number): LocalFacts {
  const n = (k: string) => Number(row?.[k] ?? 0) || 0;
  const date = (k: string) => (n(k) > 0 ? new Date(n(k)) : undefined);
  const f: LocalFacts = { events: n('events'), activeDays: n('active_days'), rejectedExports, apiErrors: n('api_errors'), diskBytes: n('disk_bytes') };
  const first = date('first_ms');
  const last = date('last_ms');
  if (first) f.firstEventAt = first;
  if (last) f.lastEventAt = last;
  return f;
}

// ---- the count check after a history move ----

/** Own log records at the team server, connection tests left out. `{member:String}` bound by the caller. */
export const TEAM_OWN_LOGS_SQL =
  "SELECT count() AS n FROM default.otel_logs WHERE ResourceAttributes['user_id'] = {member:String} AND LogAttributes['event.name'] != 'connection_test'";

/** Local log records the history choice covers (a date: on or after that UTC day). */
export function localLogsSql(history: string): { sql: string; params: Record<string, string> } {
  if (history === 'all' || history === 'none') return { sql: 'SELECT count() AS n FROM default.otel_logs', params: {} };
  return { sql: 'SELECT count() AS n FROM default.otel_logs WHERE Timestamp >= toDateTime64({since:String}, 9)', params: { since: `${history} 00:00:00` } };
}

export function countCheckText(team: string, teamRows: number | undefined, localRows: number, privacy: PrivacyLevel): string {
  if (teamRows === undefined) return `Count check: the team server does not let this role count its rows yet; ${formatCount(localRows)} local log records were in the move.`;
  const same = teamRows >= localRows;
  return same
    ? `Count check passed: team ${team} holds ${formatCount(teamRows)} of your log records; the local store has ${formatCount(localRows)} in the moved range.`
    : `Count check: team ${team} holds ${formatCount(teamRows)} of your log records, the local store ${formatCount(localRows)} in the moved range${privacy === 'all' ? '' : ' (the privacy level may drop records)'}; forwarding goes on and sends what is missing.`;
}
