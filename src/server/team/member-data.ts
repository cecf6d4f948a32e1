/**
 * Delete My Data on the team server (issue 11, central part; contract: src/core/data/team-deletion.ts).
 * Members cannot write through SQL (their reads are read-only, team/read-scope.ts), so deletion is
 * this dedicated endpoint on the OTLP/HTTP TLS port:
 * - the caller's own rows (`me` or their own name), any role;
 * - another member's rows: a team admin, or the server's control token (control-token.ts: the CLI on
 *   the server machine). Coordinators read every member's aggregates but delete only their own rows.
 * Every table with members' rows goes, in the local deletion's order (src/core/data/delete-plan.ts:
 * raw, events, focus, sessions, daily aggregates, rollups incl. daily_errors, the trace-id index
 * first), each `ALTER … DELETE` waiting for its mutation (`mutations_sync = 2`), then the member's
 * `forward_received` keys (so a history forwarded again after a deletion is stored again). Every
 * rollup is keyed by member, so the other members' figures are exactly what their rows give.
 * The deletion log (`<team dir>/deletions.jsonl`, 0600) gets one line per deletion: who, when, rows
 * per table; never any data. One deletion at a time per member.
 */
import { appendFileSync, chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { planDeletion } from '../../core/data/delete-plan';
import { MEMBER_NAME_RE } from '../../core/team-bundle';
import { SELF, type DeletionLogEntry, type MemberDataCounts, type MemberDeletion, type MemberTableCount } from '../../core/data/team-deletion';
import type { Store } from '../store/types';
import type { TeamServing } from './serving';
import { isControlToken, looksLikeControlToken } from './control-token';

export const DELETION_LOG_FILE = 'deletions.jsonl';

const LEDGER: { id: string; table: string; label: string; count: string; del: string } = {
  id: 'forward_received', table: 'forward_received', label: 'Forwarded groups received (keys only)',
  count: "SELECT count() AS rows, if(rows = 0, '', toString(min(received_at))) AS first, if(rows = 0, '', toString(max(received_at))) AS last FROM default.forward_received WHERE member = {user:String}",
  del: 'ALTER TABLE default.forward_received DELETE WHERE member = {user:String}',
};

export class TeamMemberData {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly store: () => Store | undefined, private readonly dir: string, private readonly log: (line: string) => void) {}

  private open(): Store {
    const s = this.store();
    if (!s) throw Object.assign(new Error('the team store is starting or stopping; retry shortly'), { status: 503 });
    return s;
  }

  async counts(member: string): Promise<MemberDataCounts> {
    const store = this.open();
    const plan = planDeletion(member);
    const tables: MemberTableCount[] = [];
    const one = async (sql: string) => {
      const out = (await store.query(sql, { params: plan.params, format: 'JSONEachRow', settings: { output_format_json_quote_64bit_integers: '0' } })).toString('utf8').trim();
      const r = (out ? JSON.parse(out.split('\n')[0]!) : {}) as { rows?: number; first?: string; last?: string };
      return { rows: Number(r.rows ?? 0), first: r.first ?? '', last: r.last ?? '' };
    };
    for (const c of plan.counts) tables.push({ id: c.id, table: c.table, label: c.label, ...(await one(c.countSql)) });
    tables.push({ id: LEDGER.id, table: LEDGER.table, label: LEDGER.label, ...(await one(LEDGER.count)) });
    return { member, tables, total: tables.reduce((s, t) => s + t.rows, 0) };
  }

  /** Deletes every row of `member`; `by` names who asked (for the log). */
  async delete(member: string, by: string): Promise<MemberDeletion> {
    const prev = this.chains.get(member) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.delete1(member, by));
    this.chains.set(member, run);
    try {
      return await run;
    } finally {
      if (this.chains.get(member) === run) this.chains.delete(member);
    }
  }

  private async delete1(member: string, by: string): Promise<MemberDeletion> {
    const store = this.open();
    const before = await this.counts(member);
    const plan = planDeletion(member);
    for (const d of [...plan.deletes, { table: LEDGER.table, sql: LEDGER.del }]) {
      await store.query(d.sql, { params: plan.params, settings: { mutations_sync: '2' } });
    }
    const after = await this.counts(member);
    const at = new Date().toISOString();
    const entry: DeletionLogEntry = { at, member, by, rows: Object.fromEntries(before.tables.map((t) => [t.id, t.rows])), total: before.total };
    this.appendLog(entry);
    this.log(`team: deleted ${before.total} rows of ${member} (asked by ${by})${after.total > 0 ? `; ${after.total} rows arrived meanwhile` : ''}`);
    return { member, at, by, deleted: before.tables, total: before.total, after };
  }

  private appendLog(entry: DeletionLogEntry): void {
    const file = join(this.dir, DELETION_LOG_FILE);
    // Created owner-only; an existing file is kept owner-only too.
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    appendFileSync(file, `${JSON.stringify(entry)}\n`);
  }
}

function json(res: ServerResponse, status: number, value: object, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/**
 * `/v1/members/<name|me>/(data|delete)` on the team's OTLP/HTTP listener. `controlToken()` is the
 * token this server wrote at start (undefined: none).
 */
export async function handleMemberData(req: IncomingMessage, res: ServerResponse, path: string, team: TeamServing, data: TeamMemberData, controlToken: () => string | undefined, isReady: () => boolean): Promise<void> {
  req.resume();
  const m = /^\/v1\/members\/([^/]+)\/(data|delete)$/.exec(path);
  if (!m) return json(res, 404, { error: 'use GET /v1/members/me/data or POST /v1/members/me/delete' });
  const what = m[2] as 'data' | 'delete';
  const want = what === 'data' ? 'GET' : 'POST';
  if (req.method !== want) return json(res, 405, { error: `use ${want} for ${path}` }, { Allow: want });
  let named: string;
  try {
    named = decodeURIComponent(m[1]!);
  } catch {
    return json(res, 400, { error: 'bad member name' });
  }
  if (named !== SELF && !MEMBER_NAME_RE.test(named)) return json(res, 400, { error: `"${named.slice(0, 40)}" is not a member name` });
  const authorization = req.headers.authorization;
  let by: string;
  let member: string;
  if (looksLikeControlToken(authorization)) {
    if (!isControlToken(authorization, controlToken())) return json(res, 401, { error: 'that control token is not this server\'s (it is made anew at every start)' }, { 'WWW-Authenticate': 'Bearer realm="chapter-telemetry team"' });
    if (named === SELF) return json(res, 400, { error: 'the control token is no member: name the member' });
    by = 'team server admin (control token)';
    member = named;
  } else {
    const throttled = team.authThrottled(req.socket.remoteAddress);
    const who = await team.authenticate(authorization, req.socket.remoteAddress);
    if (!who) {
      team.metrics.rejected('unknown', 'unauthenticated');
      if (throttled > 0) return json(res, 429, { error: `too many failed authentications from this address; retry after ${throttled} s` }, { 'Retry-After': String(throttled) });
      return json(res, 401, { error: 'missing, wrong or revoked team credential' }, { 'WWW-Authenticate': 'Bearer realm="chapter-telemetry team"' });
    }
    member = named === SELF ? who.name : named;
    if (member !== who.name && who.role !== 'admin') return json(res, 403, { error: `${who.name} (${who.role}) may read and delete only their own data; a team admin, or npm run team -- delete-member-data on the server, can do it for ${member}` });
    by = `${who.name} (${who.role})`;
  }
  if (!isReady()) return json(res, 503, { error: 'the team store is starting or stopping; retry shortly' }, { 'Retry-After': '1' });
  try {
    json(res, 200, what === 'data' ? await data.counts(member) : await data.delete(member, by));
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    json(res, typeof status === 'number' ? status : 503, { error: `could not ${what === 'data' ? 'count' : 'delete'} the rows, retry: ${(err as Error).message}` }, { 'Retry-After': '2' });
  }
}
