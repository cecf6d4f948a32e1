/**
 * The analytics' central scopes against a real team server (TLS, in its own network namespace), read
 * the way the extension reads them: `httpRunner` with the member's credential and the team CA as the
 * only trusted CA, and the same loaders the views call.
 * - Team (carol, coordinator): cost by member, the team's error patterns and chapter complexity
 *   across contributors equal ground truth that the admin computes from the RAW events — while the
 *   Team queries themselves read only aggregate tables.
 * - Mine (alice, contributor; carol): the member's own rows, equal to the admin's SQL over her rows,
 *   and nothing of anybody else (no other member's error text reaches a coordinator's Mine view).
 * - A wrong CA or a wrong secret: refused, and worded as what happened.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initTeam, type IssuedMember } from '../../src/server/team/admin';
import { classifyTeamFailure, loadCost, loadErrors, loadSidebar, loadTeamChapters, loadTeamCost, loadTeamErrors, type RangeSpec } from '../../src/core/analytics';
import { teamCostByMember } from '../../src/core/queries';
import { httpRunner, type HttpRunner } from '../../src/vscode/webviews/connection';
import type { NetnsHost } from '../support/netns';
import { encodeLogs, logsRequest } from '../support/otlp';
import { send, startTeam, teamSql, type Team } from '../support/team-server';

const PORTS = { grpc: 26317, otlpHttp: 26318, http: 29223 };
const RANGE: RangeSpec = { preset: 30, scope: 'team' };

describe('team server: the Mine and Team scopes of the analytics', () => {
  let team: Team | undefined;
  let host: NetnsHost;
  let ca: string;
  let sqlUrl: string;
  const members: Record<string, IssuedMember> = {};
  const runners: HttpRunner[] = [];

  const runnerFor = (who: string, opts: { secret?: string; ca?: string } = {}): HttpRunner => {
    const r = httpRunner({ url: sqlUrl, auth: { user: who, password: opts.secret ?? members[who]!.secret }, ca: opts.ca ?? ca }, { timeoutMs: 30_000 });
    runners.push(r);
    return r;
  };
  /** Ground truth: the admin's SQL over the raw events (never the aggregates the Team queries read). */
  const truth = async <R>(query: string): Promise<R[]> => (await teamSql(sqlUrl, ca, 'admin', members.admin!.secret, `${query} FORMAT JSONEachRow SETTINGS output_format_json_quote_64bit_integers = 0`)) as R[];

  const sendLogs = async (who: string, events: Parameters<typeof logsRequest>[0]) => {
    const r = await send(`https://${host.nsAddress}:${PORTS.otlpHttp}/v1/logs`, {
      body: encodeLogs(logsRequest(events, { 'service.name': 'claude-code' })), ca,
      headers: { 'content-type': 'application/x-protobuf', Authorization: `Bearer ${members[who]!.secret}` },
    });
    assert.equal(r.status, 200, r.body);
  };
  const req = (session: string, chapter: string, cost: number, input: number, model = 'claude-sonnet-4-5') =>
    ({ name: 'api_request', attributes: { 'session.id': session, chapter, model, cost_usd: cost, input_tokens: input, output_tokens: 7, cache_read_tokens: 3 } });
  const apiError = (session: string, chapter: string, status: number, text: string) =>
    ({ name: 'api_error', attributes: { 'session.id': session, chapter, model: 'claude-sonnet-4-5', status_code: status, error: text } });

  before(async () => {
    team = await startTeam({ name: 'Press', ports: PORTS, tmpPrefix: 'ct-team-analytics-', members: [['alice', 'contributor'], ['bob', 'contributor'], ['carol', 'coordinator']] });
    ({ host, ca, sqlUrl } = team);
    Object.assign(members, team.members);
    await sendLogs('alice', [req('a1', 'ch01', 0.5, 100), req('a1', 'ch02', 0.25, 40), apiError('a1', 'ch02', 429, 'ALICE-ERROR-TEXT'),
      { name: 'tool_result', attributes: { 'session.id': 'a1', chapter: 'ch02', tool_name: 'Bash', success: 'false', error_type: 'ShellError', error: 'ALICE-TOOL-TEXT' } }]);
    await sendLogs('alice', [req('a2', 'ch01', 0.125, 10, 'claude-opus-4-1')]);
    await sendLogs('bob', [req('b1', 'ch01', 1, 300), req('b1', 'ch03', 2, 500), apiError('b1', 'ch03', 529, 'BOB-ERROR-TEXT'), apiError('b1', 'ch03', 529, 'BOB-ERROR-TEXT')]);
    await sendLogs('carol', [req('c1', 'ch03', 0.0625, 5)]);
  });
  after(async () => {
    for (const r of runners) await r.close();
    await team?.close();
  });

  test('Team, cost by member: equal to the raw events summed per member', async () => {
    const d = await loadTeamCost(runnerFor('carol'), RANGE);
    const expected = await truth<{ member: string; cost: number; requests: number; errors: number; tokens: number; chapters: number }>(`SELECT user_id AS member,
      toFloat64(sumIf(cost_usd, event_type = 'api_request')) AS cost, toFloat64(countIf(event_type = 'api_request')) AS requests,
      toFloat64(countIf(event_type = 'api_error')) AS errors, toFloat64(sumIf(token_count, event_type = 'api_request')) AS tokens,
      toFloat64(uniqExactIf(chapter_context, event_type = 'api_request' AND chapter_context != '')) AS chapters
      FROM telemetry_events WHERE event_type IN ('api_request', 'api_error') GROUP BY member ORDER BY cost DESC, member`);
    assert.deepEqual(expected.map((r) => r.member), ['bob', 'alice', 'carol']);
    assert.deepEqual(d.members, expected);
    const daily = await truth<{ day: string; member: string; cost: number; requests: number }>(`SELECT toString(toDate(timestamp)) AS day, user_id AS member,
      toFloat64(sum(cost_usd)) AS cost, toFloat64(count()) AS requests FROM telemetry_events WHERE event_type = 'api_request' GROUP BY day, member ORDER BY day, member`);
    assert.deepEqual(d.daily, daily);
  });

  test('Team, error patterns: kinds, members and chapters equal the raw events; no message text anywhere', async () => {
    const d = await loadTeamErrors(runnerFor('carol'), RANGE);
    const patterns = await truth<Record<string, unknown>>(`SELECT event_type, error_type, toString(status_code) AS status_code, tool_name, toFloat64(count()) AS errors,
      toFloat64(uniqExact(user_id)) AS members, toFloat64(uniqExactIf(chapter_context, chapter_context != '')) AS chapters, toString(max(toDate(timestamp))) AS last_seen
      FROM telemetry_events WHERE event_type IN ('api_error', 'api_retries_exhausted') OR (event_type = 'tool_result' AND success = 0)
      GROUP BY event_type, error_type, status_code, tool_name ORDER BY errors DESC, event_type, error_type, status_code, tool_name`);
    assert.equal(patterns.length, 3, JSON.stringify(patterns));
    assert.deepEqual(d.patterns, patterns);
    assert.deepEqual(d.byMember?.map((r) => [r.member, r.event_type, r.status_code, r.tool_name, r.errors]),
      [['alice', 'api_error', '429', '', 1], ['alice', 'tool_result', '0', 'Bash', 1], ['bob', 'api_error', '529', '', 2]]);
    const rate = await truth<{ member: string; requests: number; errors: number }>(`SELECT user_id AS member, toFloat64(countIf(event_type = 'api_request')) AS requests,
      toFloat64(countIf(event_type = 'api_error')) AS errors FROM telemetry_events GROUP BY member HAVING errors > 0 ORDER BY errors DESC, member`);
    assert.deepEqual(d.rateByMember, rate);
    assert.doesNotMatch(JSON.stringify(d), /ERROR-TEXT|TOOL-TEXT/);
  });

  test('Team, chapter complexity across contributors: equal to the raw events per chapter', async () => {
    const d = await loadTeamChapters(runnerFor('carol'), RANGE);
    const expected = await truth<Record<string, unknown>>(`SELECT chapter_context AS chapter, toFloat64(sumIf(token_count, event_type = 'api_request')) AS tokens,
      toFloat64(countIf(event_type = 'api_request')) AS requests,
      toFloat64(sumIf(token_count, event_type = 'api_request') / countIf(event_type = 'api_request')) AS avg_tokens_per_request,
      toFloat64(uniqExactIf(user_id, event_type = 'api_request')) AS contributors, toFloat64(sumIf(cost_usd, event_type = 'api_request')) AS cost,
      toFloat64(countIf(event_type = 'api_error')) AS errors, toFloat64(uniqExact(session_id)) AS sessions
      FROM telemetry_events WHERE event_type IN ('api_request', 'api_error') GROUP BY chapter ORDER BY tokens DESC, chapter`);
    assert.deepEqual(expected.map((r) => [r.chapter, r.contributors]), [['ch03', 2], ['ch01', 2], ['ch02', 1]]);
    assert.deepEqual(d.chapters, expected);
    const byMember = await truth<Record<string, unknown>>(`SELECT chapter_context AS chapter, user_id AS member, toFloat64(sum(token_count)) AS tokens,
      toFloat64(count()) AS requests, toFloat64(sum(cost_usd)) AS cost FROM telemetry_events WHERE event_type = 'api_request'
      GROUP BY chapter, member ORDER BY chapter ASC, tokens DESC, member ASC`);
    assert.deepEqual(d.byMember, byMember);
  });

  test('Mine (alice, contributor): her own rows from the team server, equal to the admin\'s SQL over them', async () => {
    const run = runnerFor('alice');
    const d = await loadCost(run, { userId: 'alice' }, { preset: 30, scope: 'mine' });
    const [t] = await truth<{ cost: number; requests: number }>(`SELECT toFloat64(sum(cost_usd)) AS cost, toFloat64(count()) AS requests
      FROM telemetry_events WHERE event_type = 'api_request' AND user_id = 'alice'`);
    assert.ok(Math.abs(d.daily.reduce((s, r) => s + r.cost, 0) - t!.cost) < 1e-12);
    assert.equal(d.daily.reduce((s, r) => s + r.requests, 0), t!.requests);
    assert.equal(d.hidden, undefined, 'no hidden-rows note on the team server: other members\' rows are not readable');
    const side = await loadSidebar(run, { userId: 'alice' }, { scope: 'mine' });
    assert.equal(side.periods.today.requests, 3);
    assert.ok(Math.abs(side.periods.today.cost - t!.cost) < 1e-12);
    assert.equal(side.userId, 'alice');
    // The server scopes too: even the aggregates show a contributor only herself.
    assert.deepEqual((await run.rows(teamCostByMember({ fromDay: '1970-01-01', toDay: '2999-12-31' }))).map((r) => r.member), ['alice']);
  });

  test('Mine (carol, coordinator): her own raw rows only; no other member\'s error text', async () => {
    const run = runnerFor('carol');
    const cost = await loadCost(run, { userId: 'carol' }, { preset: 30, scope: 'mine' });
    assert.deepEqual(cost.daily.map((r) => [r.model, r.requests, r.cost]), [['claude-sonnet-4-5', 1, 0.0625]]);
    const errors = await loadErrors(run, { userId: 'carol' }, { preset: 30, scope: 'mine' });
    assert.deepEqual([errors.messages, errors.sessions, errors.byTypeStatus], [[], [], []]);
    // Asked for everyone's raw rows anyway (scope "all" on the team runner): still only hers.
    const all = await loadErrors(run, { userId: 'carol' }, { preset: 30, scope: 'all' });
    assert.doesNotMatch(JSON.stringify(all), /ERROR-TEXT|TOOL-TEXT/);
    assert.deepEqual(all.messages, []);
  });

  test('a wrong CA or a wrong secret is refused and worded as what happened', async () => {
    const otherCa = readFileSync(join(await (async () => {
      const other = join(team!.root, 'other-team');
      await initTeam({ dir: other, name: 'Other', hostnames: [host.nsAddress], ports: PORTS });
      return other;
    })(), 'tls/ca.crt'), 'utf8');
    const wrongCa = await runnerFor('carol', { ca: otherCa }).rows(teamCostByMember({ fromDay: '1970-01-01', toDay: '2999-12-31' })).then(() => undefined, (e: unknown) => e);
    assert.ok(wrongCa, 'a server certificate from another CA was accepted');
    const f1 = classifyTeamFailure(wrongCa, sqlUrl);
    assert.equal(f1.kind, 'unreachable');
    assert.match(f1.message, /certificate from the team's CA/);
    const wrongSecret = await runnerFor('carol', { secret: `${members.carol!.secret.slice(0, -4)}AAAA` }).rows(teamCostByMember({ fromDay: '1970-01-01', toDay: '2999-12-31' })).then(() => undefined, (e: unknown) => e);
    assert.ok(wrongSecret, 'a wrong secret was accepted');
    assert.match(classifyTeamFailure(wrongSecret, sqlUrl).message, /refused this member's credential/);
  });
});
