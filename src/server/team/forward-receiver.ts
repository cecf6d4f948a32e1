/**
 * `POST /v1/forward/<table>` on the team server's OTLP/HTTP TLS listener: what a member's local
 * agent forwards from its store (src/server/forward/). The body is JSONEachRow lines of one raw
 * table, cut into groups by the `X-Forward-Groups` header (row counts, in order; a group is one
 * chunk of one local insert block, the same rows every time the agent reads that chunk).
 *
 * Stored once, whatever the batching: each group is keyed by a hash of the member, the table and
 * its lines as received; keys already in `forward_received` are skipped, the rest go in as ONE
 * insert, after identity and team privacy (applyTeamPolicy), with an insert_deduplication_token
 * the SERVER computes from (member, table, the rows it stores) — never a client's token, so no
 * member can make another member's rows look like duplicates. The keys are recorded after the
 * insert; a crash between the two leaves the keys out, and the agent's retry recomputes the same
 * rows and token, which the engine's block deduplication (0006, 1000 blocks) then skips. A member's
 * forward requests run one at a time, so two requests cannot both find a key missing.
 */
import { createHash } from 'node:crypto';
import { applyTeamPolicy, type TeamPolicy } from './privacy';
import { passing } from '../ingest';
import { StoreError, type Store } from '../store/types';
import { quoteString } from '../store/sql-quote';

/** Raw tables a forward may write; everything else (views' tables, aggregates, system) is refused. */
export const FORWARD_TABLES: readonly string[] = [
  'otel_logs', 'otel_metrics_sum', 'otel_metrics_gauge', 'otel_metrics_histogram',
  'otel_metrics_exponential_histogram', 'otel_metrics_summary', 'otel_traces',
];

/** At most this many groups per request (the header stays far below Node's 16 KiB header limit). */
export const MAX_FORWARD_GROUPS = 1000;
export const FORWARD_GROUPS_HEADER = 'x-forward-groups';

export class ForwardInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardInputError';
  }
}

export interface ForwardResult {
  groups: number;
  /** Groups the server already held (sent before). */
  duplicate_groups: number;
  /** Rows received in the new groups, and rows stored after the team's privacy level. */
  received_rows: number;
  stored_rows: number;
}

/** Splits a body into its groups; throws ForwardInputError when the header and the lines disagree. */
export function splitGroups(body: Buffer, header: string | undefined): string[][] {
  const lines = body.toString('utf8').split('\n').filter((l) => l.trim() !== '');
  if (header === undefined || header.trim() === '') throw new ForwardInputError('missing X-Forward-Groups header (row counts of each group, comma-separated)');
  const parts = header.split(',');
  if (parts.length > MAX_FORWARD_GROUPS) throw new ForwardInputError(`at most ${MAX_FORWARD_GROUPS} groups per request, got ${parts.length}`);
  const counts = parts.map((p) => (/^\d{1,7}$/.test(p.trim()) ? Number(p.trim()) : NaN));
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new ForwardInputError(`X-Forward-Groups must be positive row counts, got "${header.slice(0, 200)}"`);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== lines.length) throw new ForwardInputError(`X-Forward-Groups adds up to ${total} rows but the body has ${lines.length} lines`);
  const groups: string[][] = [];
  let at = 0;
  for (const n of counts) {
    groups.push(lines.slice(at, at + n));
    at += n;
  }
  for (const g of groups) {
    for (const l of g) {
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        throw new ForwardInputError(`a line is not JSON: ${l.slice(0, 120)}`);
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ForwardInputError(`a line is not a JSON object: ${l.slice(0, 120)}`);
    }
  }
  return groups;
}

function groupKey(member: string, table: string, lines: string[]): string {
  const h = createHash('sha256').update(member).update('\n').update(table).update('\n');
  for (const l of lines) h.update(l).update('\n');
  return h.digest('base64url');
}

export class TeamForwardReceiver {
  /** One forward at a time per member (see the header). */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly store: () => Store | undefined) {}

  async receive(table: string, body: Buffer, groupsHeader: string | undefined, policy: TeamPolicy): Promise<ForwardResult> {
    if (!FORWARD_TABLES.includes(table)) throw new ForwardInputError(`${table} cannot be forwarded: only ${FORWARD_TABLES.join(', ')}`);
    const groups = splitGroups(body, groupsHeader);
    const prev = this.chains.get(policy.member) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.store1(table, groups, policy));
    this.chains.set(policy.member, run);
    try {
      return await run;
    } finally {
      if (this.chains.get(policy.member) === run) this.chains.delete(policy.member);
    }
  }

  private async store1(table: string, groups: string[][], policy: TeamPolicy): Promise<ForwardResult> {
    const store = this.store();
    if (!store) throw new StoreError('the team store is not open yet', undefined, true);
    const keys = groups.map((g) => groupKey(policy.member, table, g));
    const held = new Set<string>();
    if (keys.length > 0) {
      // Literals, not {params}: a pooled session that took parameters is discarded after the statement.
      const out = await store.query(
        `SELECT DISTINCT group_key FROM default.forward_received WHERE member = ${quoteString(policy.member)} AND tbl = ${quoteString(table)} AND group_key IN (${keys.map(quoteString).join(',')})`,
        { format: 'TabSeparated' },
      );
      for (const k of out.toString('utf8').split('\n')) if (k) held.add(k);
    }
    const fresh: number[] = [];
    keys.forEach((k, i) => {
      if (!held.has(k) && !fresh.some((j) => keys[j] === k)) fresh.push(i);
    });
    const result: ForwardResult = { groups: groups.length, duplicate_groups: groups.length - fresh.length, received_rows: 0, stored_rows: 0 };
    if (fresh.length === 0) return result;
    const lines = fresh.flatMap((i) => groups[i]!);
    result.received_rows = lines.length;
    const applied = applyTeamPolicy(new Map([[table, lines]]), { member: policy.member, privacy: policy.privacy });
    const rows = applied.rows.get(table) ?? [];
    result.stored_rows = rows.length;
    if (rows.length > 0) {
      // The server's token: who, where, exactly what is stored.
      const token = `fwd-${groupKey(policy.member, table, rows)}`;
      await store.insertJsonEachRow(table, Buffer.from(rows.join('\n') + '\n'), { dedupToken: token });
    }
    const ledger = fresh.map((i) => JSON.stringify({ member: policy.member, tbl: table, group_key: keys[i] })).join('\n') + '\n';
    await store.insertJsonEachRow('forward_received', Buffer.from(ledger));
    policy.onStored?.(lines.length, applied.dropped);
    return result;
  }
}

/** A store failure is the sender's fault only when the engine refused the rows themselves. */
export function forwardFailureStatus(err: unknown): 400 | 503 {
  if (err instanceof ForwardInputError) return 400;
  if (err instanceof StoreError && !passing(err) && !err.unavailable && err.clickhouseCode !== undefined) return 400;
  return 503;
}
