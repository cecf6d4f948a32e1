/**
 * Pull-back (issue 10, "Revert to Local"): the member's own raw rows that the team server holds and
 * the local store lacks are copied into the local store, once.
 *
 * Per raw table:
 * 1. On the team server (its ClickHouse HTTPS port, the member's credential from forward.json, only
 *    the team CA trusted): one statement counts the member's rows, their distinct identities
 *    (src/core/data/record-identity.ts) and the newest insert block; then every row up to that block
 *    is streamed as JSONEachRow. Every role filters on its own name (an admin's reads are unfiltered).
 * 2. The rows go into a staging table `_ct_pull_<table>` of the local store (no views read it), in
 *    batches of a few MiB, so memory does not grow with the history.
 * 3. The local engine inserts the staged rows whose identity the local store does not hold (one per
 *    identity), then checks that every staged identity is now held: pulled + already = the team's.
 * 4. The new local insert blocks are recorded in `forward_pulled` (0009): the forwarder skips them,
 *    so a pulled row never travels back up (the team server would store it as a new group).
 * A second run finds every identity held and adds nothing. The caller (Forwarder.pullBack) runs this
 * while no forwarding round runs, so step 4 is done before the forwarder can see those blocks.
 */
import { request } from 'node:https';
import { createInterface } from 'node:readline';
import type { IncomingMessage } from 'node:http';
import type { ForwardConfig, PullBackResult, PullBackTable } from '../../core/forward-config';

export type { PullBackResult } from '../../core/forward-config';
import { recordIdentity } from '../../core/data/record-identity';
import { FOCUS_FIRST_PARTS } from '../../core/data/tables';
import type { Store } from '../store/types';
import { quoteIdent, quoteString } from '../store/sql-quote';
import { FORWARD_TABLES } from '../team/forward-receiver';

export class PullBackError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'PullBackError';
  }
}

const STAGING_PREFIX = '_ct_pull_';
const BATCH_BYTES = 4 * 1024 * 1024;

/** The member's own rows: the author rule the team server stamps (read-scope.ts MEMBER_COLUMNS). */
const OWN = "ResourceAttributes['user_id'] = {member:String}";

function teamRequest(cfg: ForwardConfig, sql: string, params: Record<string, string>): Promise<IncomingMessage> {
  const url = new URL(cfg.query_url);
  url.pathname = '/';
  url.searchParams.set('default_format', 'JSONEachRow');
  url.searchParams.set('output_format_json_quote_64bit_integers', '0');
  for (const [k, v] of Object.entries(params)) url.searchParams.set(`param_${k}`, v);
  const auth = Buffer.from(`${cfg.member}:${cfg.secret}`).toString('base64');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca: cfg.ca_pem, agent: false, timeout: 120_000, headers: { Authorization: `Basic ${auth}`, 'Content-Type': 'text/plain; charset=utf-8' } }, (res) => {
      if (res.statusCode === 200) return resolve(res);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text.length < 2000 ? (text += d) : undefined));
      res.on('end', () => reject(new PullBackError(`the team server answered ${res.statusCode}: ${text.trim().slice(0, 300)}`, 502)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 120 s')));
    req.on('error', (err) => reject(err instanceof PullBackError ? err : new PullBackError(`cannot reach the team server at ${cfg.query_url}: ${err.message}`, 502)));
    req.end(sql);
  });
}

async function teamOne(cfg: ForwardConfig, sql: string): Promise<Record<string, unknown>> {
  const res = await teamRequest(cfg, sql, { member: cfg.member });
  let text = '';
  for await (const d of res) text += d;
  if (/__exception__|DB::Exception/.test(text)) throw new PullBackError(`the team server failed the count: ${text.trim().slice(0, 300)}`, 502);
  return JSON.parse(text.trim().split('\n')[0] ?? '{}') as Record<string, unknown>;
}

const num = (v: unknown) => Number(v ?? 0);

async function localOne(store: Store, sql: string): Promise<Record<string, unknown>> {
  const out = (await store.query(sql, { format: 'JSONEachRow', settings: { output_format_json_quote_64bit_integers: '0' } })).toString('utf8').trim();
  return out === '' ? {} : (JSON.parse(out.split('\n')[0]!) as Record<string, unknown>);
}

async function pullTable(store: Store, cfg: ForwardConfig, table: string): Promise<PullBackTable> {
  const id = recordIdentity(table);
  const t = `default.${quoteIdent(table)}`;
  const staging = `default.${quoteIdent(`${STAGING_PREFIX}${table}`)}`;
  // One statement, one snapshot: the rows up to block `b` are what is read next and checked after.
  const head = await teamOne(cfg, `SELECT count() AS n, uniqExact(${id}) AS ids, max(_block_number) AS b FROM ${t} WHERE ${OWN}`);
  const result: PullBackTable = { table, team_rows: num(head.n), team_records: num(head.ids), pulled: 0, already: 0 };
  if (result.team_rows === 0) return result;
  await store.query(`DROP TABLE IF EXISTS ${staging}`);
  await store.query(`CREATE TABLE ${staging} AS ${t} ENGINE = MergeTree PRIMARY KEY tuple() ORDER BY tuple()`);
  try {
    const res = await teamRequest(cfg, `SELECT * FROM ${t} WHERE ${OWN} AND _block_number <= ${Math.trunc(num(head.b))}`, { member: cfg.member });
    let batch: string[] = [];
    let bytes = 0;
    let streamed = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await store.query(`INSERT INTO ${staging} FORMAT JSONEachRow`, { data: Buffer.from(batch.join('\n') + '\n') });
      batch = [];
      bytes = 0;
    };
    for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
      if (line === '') continue;
      // A failure after the first bytes arrives as ClickHouse's exception block, never as a row.
      if (line.startsWith('__exception__') || (/DB::Exception/.test(line) && !line.startsWith('{'))) throw new PullBackError(`the team server failed while sending ${table}: ${line.slice(0, 300)}`, 502);
      batch.push(line);
      bytes += line.length + 1;
      streamed++;
      if (bytes >= BATCH_BYTES) await flush();
    }
    await flush();
    const staged = await localOne(store, `SELECT count() AS n, uniqExact(${id}) AS ids FROM ${staging}`);
    if (streamed !== result.team_rows || num(staged.n) !== result.team_rows || num(staged.ids) !== result.team_records) {
      throw new PullBackError(`${table}: the team server counted ${result.team_rows} rows (${result.team_records} records) but ${streamed} arrived (${num(staged.ids)} records); nothing was added: run pull-back again`, 502);
    }
    const before = await localOne(store, `SELECT max(_block_number) AS b, uniqExactIf(${id}, ${id} IN (SELECT ${id} FROM ${staging})) AS held FROM ${t}`);
    result.already = num(before.held);
    result.pulled = result.team_records - result.already;
    if (result.pulled > 0) {
      // Focus records in a statement of their own, before the events: an insert of several blocks attributes an
      // event only to focus records already stored or in its own block (0010_events_chapters.sql), as the
      // history copy does (src/stack/migrate-history.ts).
      for (const part of FOCUS_FIRST_PARTS[table] ?? ['']) {
        await store.query(`INSERT INTO ${t} SELECT * FROM ${staging} WHERE ${id} NOT IN (SELECT ${id} FROM ${t})${part} LIMIT 1 BY ${id}`);
      }
      // The blocks made by that insert: newer than before, and holding only pulled records.
      await store.query(
        `INSERT INTO default.forward_pulled (tbl, block, rows) SELECT ${quoteString(table)}, _block_number, count() FROM ${t} ` +
          `WHERE _block_number > ${Math.trunc(num(before.b))} GROUP BY _block_number HAVING countIf(${id} NOT IN (SELECT ${id} FROM ${staging})) = 0`,
      );
    }
    const after = await localOne(store, `SELECT uniqExactIf(${id}, ${id} IN (SELECT ${id} FROM ${staging})) AS held FROM ${t}`);
    if (num(after.held) !== result.team_records) {
      throw new PullBackError(`${table}: count check failed: the local store holds ${num(after.held)} of the team server's ${result.team_records} records after pulling ${result.pulled}`, 500);
    }
    return result;
  } finally {
    await store.query(`DROP TABLE IF EXISTS ${staging}`).catch(() => undefined);
  }
}

/** Pulls the member's rows of every raw table back into the local store (see the header). */
export async function pullBack(store: Store, cfg: ForwardConfig, log: (line: string) => void): Promise<PullBackResult> {
  const out: PullBackResult = { team: cfg.team, member: cfg.member, team_rows: 0, team_records: 0, pulled: 0, already: 0, tables: [] };
  for (const table of FORWARD_TABLES) {
    const r = await pullTable(store, cfg, table);
    out.tables.push(r);
    out.team_rows += r.team_rows;
    out.team_records += r.team_records;
    out.pulled += r.pulled;
    out.already += r.already;
  }
  log(`forward: pull-back from team "${cfg.team}" as ${cfg.member}: ${out.pulled} records added, ${out.already} already here (${out.team_rows} rows at the team server)`);
  return out;
}
