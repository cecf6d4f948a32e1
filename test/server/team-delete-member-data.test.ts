/**
 * Delete My Data on the team server (issue 11, central part), real parts: the team server
 * (`--team DIR`, TLS with the team CA) in its own network namespace, members exporting real OTLP
 * over HTTPS with their secrets, forwarding a group, and then deleting: the member's own rows go
 * from every table (raw, events, focus, sessions, daily aggregates, rollups incl. daily_errors,
 * the trace index, forward_received), immediately; the other members' rows and aggregates are
 * exactly as before; only the member or an admin (or the server's control token, which the CLI
 * `npm run team -- delete-member-data` uses) may ask; the deletion log says who, when, how many,
 * never what.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { IssuedMember } from '../../src/server/team/admin';
import { planDeletion } from '../../src/core/data/delete-plan';
import type { DeletionLogEntry, MemberDataCounts, MemberDeletion } from '../../src/core/data/team-deletion';
import { countMyTeamData, deleteMyTeamData, memberDataRequest } from '../../src/stack/team-data';
import { encodeLogs, encodeMetrics, encodeTraces, logsRequest, nowNanos } from '../support/otlp';
import { repoRoot, runNodeScript } from '../support/server';
import { send, startTeam, teamSql, type Team, type TeamServerProcess } from '../support/team-server';

const PORTS = { grpc: 27317, otlpHttp: 27318, http: 29323 };
const teamCli = join(repoRoot, 'dist', 'team-cli.js');

describe('Delete My Data on the team server', () => {
  let setup: Team | undefined;
  let teamDir: string;
  let team: TeamServerProcess | undefined;
  let admin: IssuedMember;
  let ca: string;
  let sqlBase: string;
  let otlp: string;
  const m: Record<string, IssuedMember> = {};

  const adminSql = (q: string) => teamSql(sqlBase, ca, 'admin', admin.secret, q);
  const conn = () => ({ otlp_http: otlp, ca_pem: ca });

  /** Every table's rows of `member` as the admin reads them with SQL (the deletion plan's own counts + the ledger). */
  async function rowsOf(member: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const c of planDeletion(member).counts) {
      out[c.id] = Number((await adminSql(c.countSql.replace(/\{user:String\}/g, `'${member}'`)))[0]!.rows);
    }
    out.forward_received = Number((await adminSql(`SELECT count() AS n FROM forward_received WHERE member = '${member}'`))[0]!.n);
    return out;
  }

  /** The figures the team's aggregates give for `member` (daily cost and requests, sessions, errors, quarter-hours). */
  async function aggregatesOf(member: string): Promise<unknown> {
    return await adminSql(`SELECT
      (SELECT round(sum(cost_usd), 6) FROM daily_metrics WHERE user_id = '${member}') AS cost,
      (SELECT sum(requests) FROM daily_metrics WHERE user_id = '${member}') AS requests,
      (SELECT count(DISTINCT session_id) FROM session_summaries WHERE user_id = '${member}') AS sessions,
      (SELECT sum(errors) FROM daily_errors WHERE user_id = '${member}') AS errors,
      (SELECT count() FROM events_15m WHERE user_id = '${member}') AS buckets`);
  }

  async function post(path: string, who: IssuedMember, body: Buffer, type = 'application/x-protobuf', headers: Record<string, string> = {}) {
    const r = await send(`${otlp}${path}`, { body, ca, headers: { 'content-type': type, Authorization: `Bearer ${who.secret}`, ...headers } });
    assert.equal(r.status, 200, `${path}: ${r.body}`);
  }

  /** A member's day of work: prompts, requests with cost, a 429, a focus record, a cost metric, a span, a forwarded group. */
  async function work(who: IssuedMember, session: string): Promise<void> {
    const ev = (name: string, seq: number, extra: Record<string, string | number> = {}) => ({ name, attributes: { 'session.id': session, 'event.sequence': seq, 'prompt.id': `${session}-p`, chapter: 'ch03', ...extra } });
    await post('/v1/logs', who, encodeLogs(logsRequest([
      ev('user_prompt', 1, { prompt: `the secret prompt of ${who.member}`, prompt_length: 25 }),
      ev('api_request', 2, { model: 'claude-sonnet-4-5', cost_usd: 0.5, input_tokens: 100, output_tokens: 20, duration_ms: 900 }),
      ev('api_request', 3, { model: 'claude-sonnet-4-5', cost_usd: 0.25, input_tokens: 50, output_tokens: 10, duration_ms: 700 }),
      ev('api_error', 4, { model: 'claude-sonnet-4-5', status_code: '429', error: 'rate limited', duration_ms: 10, attempt: 1 }),
      ev('chapter_focus', 5, { file: 'docs/03-x/index.md' }),
    ], { 'service.name': 'claude-code' })));
    const point = { timeUnixNano: nowNanos(), startTimeUnixNano: nowNanos(-1000), attributes: [{ key: 'session.id', value: { stringValue: session } }], asDouble: 0.75 };
    await post('/v1/metrics', who, encodeMetrics({ resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] }, scopeMetrics: [{ metrics: [{ name: 'claude_code.cost.usage', unit: 'USD', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [point] } }] }] }] }));
    const traceId = Buffer.from(`${session}-trace-id-0000000`).subarray(0, 16).toString('base64');
    await post('/v1/traces', who, encodeTraces({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] }, scopeSpans: [{ spans: [{ traceId, spanId: Buffer.alloc(8, 5).toString('base64'), name: `span-${session}`, startTimeUnixNano: nowNanos(), endTimeUnixNano: nowNanos() }] }] }] }));
    const row = JSON.stringify({ Timestamp: '2026-11-30 08:00:00.000000000', ServiceName: 'claude-code', Body: 'claude_code.user_prompt', LogAttributes: { 'event.name': 'user_prompt', 'session.id': `${session}-fwd`, 'event.sequence': '1' } });
    await post('/v1/forward/otel_logs', who, Buffer.from(`${row}\n`), 'application/x-ndjson', { 'x-forward-groups': '1' });
  }

  before(async () => {
    setup = await startTeam({ name: 'Delete Team', ports: PORTS, tmpPrefix: 'ct-teamdelete-', members: [['ann', 'contributor'], ['ben', 'contributor'], ['cora', 'coordinator']] });
    ({ dir: teamDir, ca, sqlUrl: sqlBase, otlpUrl: otlp, server: team } = setup);
    const { admin: a, ...rest } = setup.members;
    admin = a!;
    Object.assign(m, rest);
    for (const name of ['ann', 'ben', 'cora']) await work(m[name]!, `del-${name}`);
  });

  after(async () => {
    await setup?.close();
  });

  test('a member deletes their own rows from every table at once; the others\' rows and aggregates are untouched; the log holds no data', async () => {
    const annBefore = await rowsOf('ann');
    for (const id of ['otel_logs', 'otel_metrics_sum', 'otel_traces', 'otel_traces_trace_id_ts', 'events', 'focus', 'sessions', 'daily', 'events_15m', 'daily_errors', 'forward_received']) {
      assert.ok(annBefore[id]! > 0, `ann has rows in ${id} before: ${JSON.stringify(annBefore)}`);
    }
    const othersBefore = { ben: await rowsOf('ben'), cora: await rowsOf('cora'), benAgg: await aggregatesOf('ben'), coraAgg: await aggregatesOf('cora') };
    // What Delete My Data shows first: the counts on the team server, equal to SQL.
    const shown = await countMyTeamData(conn(), m.ann!.secret);
    assert.equal(shown.member, 'ann');
    assert.deepEqual(Object.fromEntries(shown.tables.map((t) => [t.id, t.rows])), annBefore);
    assert.equal(shown.total, Object.values(annBefore).reduce((a, b) => a + b, 0));
    const d = await deleteMyTeamData(conn(), m.ann!.secret);
    assert.equal(d.member, 'ann');
    assert.equal(d.by, 'ann (contributor)');
    assert.equal(d.total, shown.total);
    assert.equal(d.after.total, 0, JSON.stringify(d.after));
    assert.ok(Object.values(await rowsOf('ann')).every((n) => n === 0), JSON.stringify(await rowsOf('ann')));
    assert.deepEqual(await aggregatesOf('ann'), [{ cost: 0, requests: 0, sessions: 0, errors: 0, buckets: 0 }]);
    assert.deepEqual({ ben: await rowsOf('ben'), cora: await rowsOf('cora'), benAgg: await aggregatesOf('ben'), coraAgg: await aggregatesOf('cora') }, othersBefore);
    // The log: who, when, how many; 0600; never a prompt, a session or any other value of the rows.
    const logFile = join(teamDir, 'deletions.jsonl');
    assert.equal(statSync(logFile).mode & 0o777, 0o600);
    const text = readFileSync(logFile, 'utf8');
    const entries = text.trim().split('\n').map((l) => JSON.parse(l) as DeletionLogEntry);
    assert.equal(entries.length, 1);
    assert.deepEqual({ member: entries[0]!.member, by: entries[0]!.by, total: entries[0]!.total, rows: entries[0]!.rows }, { member: 'ann', by: 'ann (contributor)', total: d.total, rows: annBefore });
    assert.doesNotMatch(text, /secret prompt|del-ann|ch03|claude-sonnet/);
    // Nothing is left to delete a second time.
    const second = await deleteMyTeamData(conn(), m.ann!.secret);
    assert.equal(second.total, 0);
    assert.equal(second.after.total, 0);
  });

  test('who may ask: no credential, a wrong one, another contributor or a coordinator cannot; an admin can; methods and names are checked', async () => {
    const benBefore = await rowsOf('ben');
    const req = (path: string, headers: Record<string, string>, method = 'POST') => send(`${otlp}${path}`, { method, ca, headers });
    const bearer = (s: string) => ({ Authorization: `Bearer ${s}` });
    assert.equal((await req('/v1/members/me/delete', {})).status, 401);
    assert.equal((await req('/v1/members/me/delete', bearer(`${m.ben!.secret}x`))).status, 401);
    assert.equal((await req('/v1/members/ben/delete', bearer(m.cora!.secret))).status, 403, 'a coordinator deletes only their own rows');
    assert.equal((await req('/v1/members/ben/data', bearer(m.ann!.secret), 'GET')).status, 403, 'nor may a contributor count another member\'s');
    assert.equal((await req('/v1/members/me/delete', bearer(m.ben!.secret), 'GET')).status, 405);
    assert.equal((await req('/v1/members/me/data', bearer(m.ben!.secret), 'POST')).status, 405);
    for (const bad of ['Ben', 'a%2Fb', '%2e%2e%2Fx', 'a%27b', 'x'.repeat(40)]) assert.equal((await req(`/v1/members/${bad}/delete`, bearer(admin.secret))).status, 400, bad);
    assert.equal((await req('/v1/members/ben/delete', bearer('ctctl_not-the-token'))).status, 401);
    assert.deepEqual(await rowsOf('ben'), benBefore, 'nothing of ben\'s went');
    // An admin member deletes cora's rows (cora stays a member).
    const d = await memberDataRequest<MemberDeletion>(conn(), admin.secret, 'cora', 'delete');
    assert.equal(d.by, 'admin (admin)');
    assert.ok(d.total > 0);
    assert.ok(Object.values(await rowsOf('cora')).every((n) => n === 0));
    assert.deepEqual(await rowsOf('ben'), benBefore);
  });

  test('npm run team -- delete-member-data NAME on the server machine: dry run counts, then deletes, logged as the server admin', async () => {
    const benBefore = await rowsOf('ben');
    const total = Object.values(benBefore).reduce((a, b) => a + b, 0);
    assert.equal(statSync(join(teamDir, 'control.token')).mode & 0o777, 0o600);
    const dry = await runNodeScript(teamCli, ['delete-member-data', 'ben', '--dir', teamDir, '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const counts = JSON.parse(dry.stdout) as MemberDataCounts;
    assert.equal(counts.total, total);
    assert.deepEqual(await rowsOf('ben'), benBefore, 'a dry run deletes nothing');
    const run = await runNodeScript(teamCli, ['delete-member-data', 'ben', '--dir', teamDir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`Deleted ${total} rows of ben from team "Delete Team"`));
    assert.match(run.stdout, /Afterwards: 0 rows/);
    assert.ok(Object.values(await rowsOf('ben')).every((n) => n === 0));
    const last = JSON.parse(readFileSync(join(teamDir, 'deletions.jsonl'), 'utf8').trim().split('\n').pop()!) as DeletionLogEntry;
    assert.deepEqual({ member: last.member, by: last.by, total: last.total }, { member: 'ben', by: 'team server admin (control token)', total });
    const usage = await runNodeScript(teamCli, ['delete-member-data', 'Not A Name', '--dir', teamDir]);
    assert.equal(usage.code, 2);
    // Stopped: the token is gone, and the command says the server must run.
    await team!.stop();
    team = undefined;
    assert.equal(existsSync(join(teamDir, 'control.token')), false);
    const down = await runNodeScript(teamCli, ['delete-member-data', 'ben', '--dir', teamDir]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /no running team server/);
  });
});
