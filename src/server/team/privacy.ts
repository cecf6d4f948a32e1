/**
 * The team's privacy level and the member's identity, applied to the receiver's rows
 * (src/server/otlp/rows.ts: table → JSONEachRow lines) after decoding and before storage, so what
 * a client sends can neither claim another author nor store what the team excluded.
 *
 * - identity: `ResourceAttributes.user_id` := member name on every row of every table (the
 *   schema's author rule reads it first); a record-level `user_id` (LogAttributes, Attributes,
 *   SpanAttributes) is overwritten too when present, so no column says otherwise.
 * - `no-content`: content attributes (src/core/team-privacy.ts) removed from every attribute map,
 *   span status messages, event/link attributes; a log Body that is not a plain event name is cleared.
 * - `aggregates-only`: log records keep only the attributes the aggregates read, records that are
 *   not events are dropped, traces are dropped, metrics keep only non-content attributes.
 */
import { AGGREGATE_EVENT_ATTRIBUTES, AGGREGATE_RESOURCE_ATTRIBUTES, isContentAttribute, type PrivacyLevel } from '../../core/team-privacy';
import type { TableRows } from '../otlp/rows';

type Row = Record<string, unknown>;
type AttrMap = Record<string, string>;

const KEEP_EVENT = new Set(AGGREGATE_EVENT_ATTRIBUTES);
const KEEP_RESOURCE = new Set(AGGREGATE_RESOURCE_ATTRIBUTES);
/** Bodies Claude Code and the extension send: an event name, never content. */
const EVENT_NAME_BODY_RE = /^[A-Za-z0-9_.-]{0,200}$/;

function isMap(v: unknown): v is AttrMap {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function dropContent(m: AttrMap): AttrMap {
  const out: AttrMap = {};
  for (const k in m) if (!isContentAttribute(k)) out[k] = m[k]!;
  return out;
}

function keepOnly(m: AttrMap, keep: Set<string>): AttrMap {
  const out: AttrMap = {};
  for (const k in m) if (keep.has(k)) out[k] = m[k]!;
  return out;
}

/** Record-level attribute columns of each raw table. */
const RECORD_ATTR_COLUMNS = ['LogAttributes', 'Attributes', 'SpanAttributes'] as const;

function stampIdentity(row: Row, member: string): void {
  const res = isMap(row.ResourceAttributes) ? row.ResourceAttributes : {};
  res.user_id = member;
  row.ResourceAttributes = res;
  for (const c of RECORD_ATTR_COLUMNS) {
    const m = row[c];
    if (isMap(m) && m.user_id !== undefined) m.user_id = member;
  }
}

function noContent(table: string, row: Row): Row {
  for (const c of ['ResourceAttributes', 'ScopeAttributes', ...RECORD_ATTR_COLUMNS] as const) {
    const m = row[c];
    if (isMap(m)) row[c] = dropContent(m);
  }
  if (table === 'otel_logs' && typeof row.Body === 'string' && !EVENT_NAME_BODY_RE.test(row.Body)) row.Body = '';
  if (table === 'otel_traces') {
    if (row.StatusMessage !== undefined) row.StatusMessage = '';
    for (const c of ['Events.Attributes', 'Links.Attributes']) {
      const list = row[c];
      if (Array.isArray(list)) row[c] = list.map((m) => (isMap(m) ? dropContent(m) : m));
    }
  }
  const ex = row['Exemplars.FilteredAttributes'];
  if (Array.isArray(ex)) row['Exemplars.FilteredAttributes'] = ex.map((m) => (isMap(m) ? dropContent(m) : m));
  return row;
}

/** Returns the row to store, or undefined to store nothing for it. */
function aggregatesOnly(table: string, row: Row): Row | undefined {
  if (table === 'otel_traces') return undefined;
  if (isMap(row.ResourceAttributes)) row.ResourceAttributes = keepOnly(row.ResourceAttributes, KEEP_RESOURCE);
  if (isMap(row.ScopeAttributes)) row.ScopeAttributes = {};
  if (table === 'otel_logs') {
    const attrs = isMap(row.LogAttributes) ? row.LogAttributes : {};
    if (!attrs['event.name']) return undefined;
    row.LogAttributes = keepOnly(attrs, KEEP_EVENT);
    if (typeof row.Body === 'string' && !EVENT_NAME_BODY_RE.test(row.Body)) row.Body = '';
    delete row.TraceId;
    delete row.SpanId;
    return row;
  }
  // Metrics are aggregates already; their attributes still pass the content filter.
  return noContent(table, row);
}

export interface TeamPolicy {
  member: string;
  privacy: PrivacyLevel;
  /** Told how many records an accepted export had and how many the privacy level dropped (metrics). */
  onStored?(items: number, dropped: number): void;
}

/** Applies identity and privacy to every row; returns the rows to store (tables left empty are removed). */
export function applyTeamPolicy(rows: TableRows, policy: TeamPolicy): { rows: TableRows; dropped: number } {
  const out: TableRows = new Map();
  let dropped = 0;
  for (const [table, lines] of rows) {
    const kept: string[] = [];
    for (const line of lines) {
      let row = JSON.parse(line) as Row;
      if (policy.privacy === 'no-content') row = noContent(table, row);
      else if (policy.privacy === 'aggregates-only') {
        const r = aggregatesOnly(table, row);
        if (!r) {
          dropped++;
          continue;
        }
        row = r;
      }
      // After the filters: identity is the server's, whatever they kept.
      stampIdentity(row, policy.member);
      kept.push(JSON.stringify(row));
    }
    if (kept.length > 0) out.set(table, kept);
  }
  return { rows: out, dropped };
}

/**
 * The author's own privacy level, applied by the forwarding agent before anything leaves the
 * machine (src/server/forward/): the same filters as the team's, without an identity stamp (the
 * team server stamps). Lines of one raw table in, the lines to send out (dropped rows left out).
 */
export function applyAuthorPrivacy(table: string, lines: string[], privacy: PrivacyLevel): string[] {
  if (privacy === 'all') return lines;
  const out: string[] = [];
  for (const line of lines) {
    const row = JSON.parse(line) as Row;
    const kept = privacy === 'no-content' ? noContent(table, row) : aggregatesOnly(table, row);
    if (kept) out.push(JSON.stringify(kept));
  }
  return out;
}
