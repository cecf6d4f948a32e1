/**
 * Reads scoped by role on the team server (issue "Team server", docs/SECURITY.md "Team reads"): the
 * built server runs as a team server in its own network namespace, alice and bob (contributors)
 * send telemetry over OTLP/HTTPS, and every member reads with @clickhouse/client over HTTPS
 * trusting only the team CA. alice and bob read exactly their own rows in every table and view;
 * carol (coordinator) both of them in the aggregates and nobody's raw rows; dana (admin) all. Then
 * every bypass we could think of, each refused or still scoped, with counts.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { IssuedMember } from '../../src/server/team/admin';
import type { NetnsHost } from '../support/netns';
import { attrs, encodeLogs, encodeMetrics, encodeTraces, logsRequest, nowNanos } from '../support/otlp';
import { send, startTeam, type Team } from '../support/team-server';

const PORTS = { grpc: 25317, otlpHttp: 25318, http: 29123 };

/** What each table is counted by: rows for raw tables and views, the summed counters for rollups (parts merge). */
const MEASURES: Record<string, string> = {
  otel_logs: 'count()',
  otel_metrics_sum: 'count()',
  otel_traces: 'count()',
  telemetry_events: 'count()',
  chapter_focus: 'count()',
  events_attributed: 'count()',
  daily_metrics: 'sum(requests) + sum(errors)',
  session_summaries: 'sum(requests) + sum(errors)',
  events_15m: 'sum(requests) + sum(errors)',
  daily_errors: 'sum(errors)',
};
const AGGREGATES = ['daily_metrics', 'session_summaries', 'events_15m', 'daily_errors'];
/** The member column of each table, for the admin's ground truth. */
const MEMBER_OF: Record<string, string> = {
  otel_logs: "ResourceAttributes['user_id']", otel_metrics_sum: "ResourceAttributes['user_id']", otel_traces: "ResourceAttributes['user_id']",
};

/**
 * What alice and bob send (below), per table. alice: 3 requests, 1 API error, 1 failed tool, 1 prompt, a
 * chapter focus (7 log records, one of them claiming to be bob's), a metric point and a span. bob: 2
 * requests, 2 API errors, a chapter focus, a metric point and a span.
 */
const EXPECTED: Record<'alice' | 'bob', Record<string, number>> = {
  alice: { otel_logs: 7, otel_metrics_sum: 1, otel_traces: 1, telemetry_events: 6, chapter_focus: 1, events_attributed: 6, daily_metrics: 4, session_summaries: 4, events_15m: 4, daily_errors: 2 },
  bob: { otel_logs: 5, otel_metrics_sum: 1, otel_traces: 1, telemetry_events: 4, chapter_focus: 1, events_attributed: 4, daily_metrics: 4, session_summaries: 4, events_15m: 4, daily_errors: 2 },
};

describe('team server: reads scoped by role', () => {
  let team: Team | undefined;
  let host: NetnsHost;
  let ca: string;
  let sqlUrl: string;
  const members: Record<string, IssuedMember> = {};
  const clients: Record<string, ClickHouseClient> = {};

  /** One number from a member's query (the first column of the first row). */
  const number = async (who: string, query: string): Promise<number> => {
    const rows = await (await clients[who]!.query({ query, format: 'JSONCompactEachRow' })).json<[number | string][]>();
    return Number(rows[0]![0]);
  };
  /** The raw HTTP answer to `query` as `who` (status, ClickHouse error code, body). */
  const raw = async (who: string, query: string, urlParams = '', headers: Record<string, string> = {}) => {
    const r = await send(`${sqlUrl}/?default_format=TSV${urlParams}`, { body: query, ca, headers: { Authorization: `Basic ${Buffer.from(`${who}:${members[who]!.secret}`).toString('base64')}`, ...headers } });
    return { status: r.status, code: Number(r.headers['x-clickhouse-exception-code'] ?? 0), body: r.body };
  };
  /** Refused with ClickHouse code `code` (497 ACCESS_DENIED unless said), message matching `why`. */
  const refused = async (who: string, query: string, why: RegExp, code = 497, urlParams = '') => {
    const r = await raw(who, query, urlParams);
    assert.notEqual(r.status, 200, `${who}: ${query} was answered: ${r.body}`);
    assert.equal(r.code, code, `${who}: ${query}: ${r.body}`);
    assert.match(r.body, why, query);
  };

  const sendOtlp = async (who: string, signal: 'logs' | 'metrics' | 'traces', body: Buffer) => {
    const r = await send(`https://${host.nsAddress}:${PORTS.otlpHttp}/v1/${signal}`, { body, ca, headers: { 'content-type': 'application/x-protobuf', Authorization: `Bearer ${members[who]!.secret}` } });
    assert.equal(r.status, 200, r.body);
  };
  const metric = (session: string) => encodeMetrics({ resourceMetrics: [{ resource: { attributes: attrs({ 'service.name': 'claude-code' }) }, scopeMetrics: [{ metrics: [{ name: 'claude_code.cost.usage', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: nowNanos(), asDouble: 1.5, attributes: attrs({ 'session.id': session }) }] } }] }] }] });
  const span = (name: string) => encodeTraces({ resourceSpans: [{ resource: { attributes: attrs({ 'service.name': 'claude-code' }) }, scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, name.length), spanId: Buffer.alloc(8, 1), name, kind: 1, startTimeUnixNano: nowNanos(-1000), endTimeUnixNano: nowNanos() }] }] }] });
  const request = (session: string, chapter: string) => ({ name: 'api_request', attributes: { 'session.id': session, chapter, model: 'claude-opus-5-5', cost_usd: 0.5, input_tokens: 100, output_tokens: 10 } });
  const apiError = (session: string, status: number, text: string) => ({ name: 'api_error', attributes: { 'session.id': session, model: 'claude-opus-5-5', status_code: status, error: text } });

  before(async () => {
    team = await startTeam({
      name: 'Scoped Team', ports: PORTS, tmpPrefix: 'ct-team-scoped-',
      members: [['alice', 'contributor'], ['bob', 'contributor'], ['carol', 'coordinator'], ['dana', 'admin']],
    });
    ({ host, ca, sqlUrl } = team);
    Object.assign(members, team.members);
    for (const who of ['alice', 'bob', 'carol', 'dana']) {
      clients[who] = createClient({ url: sqlUrl, username: who, password: members[who]!.secret, tls: { ca_cert: Buffer.from(ca) }, request_timeout: 30_000 });
    }
    // alice: one batch claims to be bob's (resource and record); the server stores it as alice's.
    await sendOtlp('alice', 'logs', encodeLogs(logsRequest([request('s-a1', 'ch01'), request('s-a1', 'ch02'), apiError('s-a1', 429, 'ALICE-ERROR-TEXT'),
      { name: 'tool_result', attributes: { 'session.id': 's-a1', tool_name: 'Bash', success: 'false', error_type: 'ShellError', error: 'ALICE-TOOL-TEXT' } },
      { name: 'user_prompt', attributes: { 'session.id': 's-a1', prompt: 'ALICE-PROMPT-TEXT', prompt_length: 17 } }], { 'service.name': 'claude-code', user_id: 'alice' })));
    await sendOtlp('alice', 'logs', encodeLogs(logsRequest([{ ...request('s-a2', 'ch01'), attributes: { ...request('s-a2', 'ch01').attributes, user_id: 'bob' } }], { 'service.name': 'claude-code', user_id: 'bob' })));
    await sendOtlp('alice', 'logs', encodeLogs(logsRequest([{ name: 'chapter_focus', attributes: { chapter: 'ch02', file: 'docs/ch02/index.md' } }], { 'service.name': 'chapter-telemetry' })));
    await sendOtlp('bob', 'logs', encodeLogs(logsRequest([request('s-b1', 'ch01'), request('s-b1', 'ch03'), apiError('s-b1', 529, 'BOB-ERROR-TEXT'), apiError('s-b1', 529, 'BOB-ERROR-TEXT'),
      { name: 'chapter_focus', attributes: { chapter: 'ch03' } }], { 'service.name': 'claude-code' })));
    for (const who of ['alice', 'bob']) {
      await sendOtlp(who, 'metrics', metric(`s-${who}`));
      await sendOtlp(who, 'traces', span(who));
    }
  });
  after(async () => {
    for (const c of Object.values(clients)) await c.close();
    await team?.close();
  });

  test('ground truth: the admin (dana) reads every member\'s rows, under the sender\'s name', async () => {
    for (const [table, measure] of Object.entries(MEASURES)) {
      const who = MEMBER_OF[table] ?? 'user_id';
      const rows = await (await clients.dana!.query({ query: `SELECT toString(${who}) AS u, ${measure} AS n FROM ${table} GROUP BY u ORDER BY u`, format: 'JSONEachRow' })).json<{ u: string; n: number | string }>();
      assert.deepEqual(rows.map((r) => [r.u, Number(r.n)]), [['alice', EXPECTED.alice[table]], ['bob', EXPECTED.bob[table]]], table);
    }
  });

  test('alice and bob each read exactly their own rows in every table and view', async () => {
    for (const who of ['alice', 'bob'] as const) {
      for (const [table, measure] of Object.entries(MEASURES)) {
        assert.equal(await number(who, `SELECT ${measure} FROM ${table}`), EXPECTED[who][table], `${who} ${table}`);
        const member = MEMBER_OF[table] ?? 'user_id';
        assert.equal(await number(who, `SELECT count() FROM ${table} WHERE toString(${member}) != '${who}'`), 0, `${who} sees another member in ${table}`);
      }
    }
    assert.equal(await number('bob', "SELECT count() FROM telemetry_events WHERE error_message = 'ALICE-ERROR-TEXT' OR session_id = 's-a2'"), 0);
  });

  test('carol (coordinator) reads both in the aggregates and nobody\'s raw rows, prompts or error texts', async () => {
    for (const [table, measure] of Object.entries(MEASURES)) {
      const want = AGGREGATES.includes(table) ? EXPECTED.alice[table]! + EXPECTED.bob[table]! : 0;
      assert.equal(await number('carol', `SELECT ${measure} FROM ${table}`), want, `carol ${table}`);
    }
    assert.equal(await number('carol', "SELECT uniqExact(user_id) FROM daily_errors WHERE status_code IN (429, 529)"), 2);
    assert.equal(await number('carol', "SELECT count() FROM otel_logs WHERE LogAttributes['prompt'] != '' OR LogAttributes['error'] != ''"), 0);
  });

  test('the team seed queries read aggregates only, so the coordinator gets every member in them', async () => {
    const seed = (name: string) => readFileSync(join(__dirname, '..', '..', 'telemetry-server', 'clickhouse', 'seed-queries', name), 'utf8').replace(/FORMAT Pretty\s*$/, '');
    const byMember = await (await clients.carol!.query({ query: seed('team-cost-by-member.sql'), format: 'JSONEachRow' })).json<{ member: string; requests: string | number; errors: string | number }>();
    assert.deepEqual(byMember.map((r) => [r.member, Number(r.requests), Number(r.errors)]).sort(), [['alice', 3, 1], ['bob', 2, 2]]);
    const errors = await (await clients.carol!.query({ query: seed('team-error-patterns.sql'), format: 'JSONEachRow' })).json<{ event_type: string; status_code: number; tool_name: string; errors: string | number; members_affected: string | number }>();
    assert.deepEqual(errors.map((r) => [r.event_type, r.status_code, r.tool_name, Number(r.errors)]), [['api_error', 529, '', 2], ['api_error', 429, '', 1], ['tool_result', 0, 'Bash', 1]]);
    const chapters = await (await clients.carol!.query({ query: seed('team-chapter-complexity.sql'), format: 'JSONEachRow' })).json<{ chapter: string; contributors: string | number; requests: string | number }>();
    assert.deepEqual(chapters.map((r) => [r.chapter, Number(r.contributors), Number(r.requests)]).sort(), [['ch01', 2, 3], ['ch02', 1, 1], ['ch03', 1, 1]]);
    // alice's own view of the same query: only her.
    const own = await (await clients.alice!.query({ query: seed('team-cost-by-member.sql'), format: 'JSONEachRow' })).json<{ member: string }>();
    assert.deepEqual(own.map((r) => r.member), ['alice']);
  });

  test('subqueries, CTEs, JOINs, IN, scalar subqueries and the attribution view stay scoped', async () => {
    const queries: Array<[string, number]> = [
      ['SELECT count() FROM (SELECT * FROM telemetry_events)', 6],
      ['WITH x AS (SELECT * FROM telemetry_events) SELECT count() FROM x', 6],
      ['SELECT (SELECT count() FROM telemetry_events) + (SELECT count() FROM chapter_focus)', 7],
      ["SELECT count() FROM otel_logs WHERE ResourceAttributes['user_id'] IN (SELECT user_id FROM daily_metrics)", 7],
      ['SELECT count() FROM telemetry_events AS e INNER JOIN chapter_focus AS f ON e.user_id = f.user_id', 6],
      ['SELECT count() FROM telemetry_events AS e, daily_errors AS d', 6 * 2],
      ['SELECT uniqExact(user_id) FROM (SELECT user_id FROM telemetry_events UNION ALL SELECT user_id FROM session_summaries)', 1],
      ["SELECT count() FROM events_attributed WHERE user_id != 'alice'", 0],
      ['SELECT count() FROM numbers(3)', 3],
    ];
    for (const [q, want] of queries) assert.equal(await number('alice', q), want, q);
    // One more for the coordinator: the same tricks reach no raw row of anyone else.
    assert.equal(await number('carol', 'SELECT count() FROM otel_logs WHERE ResourceAttributes[\'user_id\'] IN (SELECT user_id FROM daily_metrics)'), 0);
    assert.equal(await number('carol', 'SELECT (SELECT count() FROM telemetry_events) + (SELECT count() FROM events_attributed)'), 0);
  });

  test('settings cannot lift the filters or read-only: query SETTINGS, URL settings, SET', async () => {
    await refused('alice', 'SELECT count() FROM telemetry_events SETTINGS additional_table_filters = {}', /readonly/i, 164);
    await refused('alice', 'SELECT count() FROM telemetry_events SETTINGS readonly = 0', /readonly/i, 164);
    await refused('alice', 'SELECT count() FROM telemetry_events', /readonly/i, 164, '&additional_table_filters=%7B%7D');
    await refused('alice', 'SELECT count() FROM telemetry_events', /readonly/i, 164, '&readonly=0');
    await refused('alice', "SET additional_table_filters = {}", /SET is not allowed for the contributor role/);
    await refused('carol', 'SET readonly = 0', /SET is not allowed for the coordinator role/);
    await refused('alice', 'SELECT 1; SELECT count() FROM daily_metrics_mv', /Syntax error|Multi-statements/i, 62);
    await refused('alice', 'SELECT count() FROM telemetry_events', /session_id/, 497, '&session_id=alice-s1');
    await refused('alice', 'SELECT count() FROM query_log', /database default only/, 497, '&database=system');
    const viaHeader = await raw('alice', 'SELECT count() FROM processes', '', { 'X-ClickHouse-Database': 'system' });
    assert.equal(viaHeader.code, 497, viaHeader.body);
    assert.equal(await number('alice', 'SELECT count() FROM telemetry_events'), 6);
  });

  test('materialized view names, merge(), view(), cluster()/remote() and by-name functions are refused before anything runs', async () => {
    for (const mv of ['daily_metrics_mv', 'default.daily_metrics_mv', '`default`.`session_summaries_mv`', 'telemetry_events_mv', 'events_15m_mv', 'daily_errors_mv', 'chapter_focus_mv']) {
      await refused('alice', `SELECT count() FROM ${mv}`, /may not read default\.\w+_mv/);
      await refused('carol', `SELECT count() FROM ${mv}`, /may not read default\.\w+_mv/);
    }
    // Analysis evaluates scalar subqueries: a refused table must not even answer through an error.
    await refused('alice', 'SELECT (SELECT throwIf(count() > 0) FROM telemetry_events_mv)', /may not read default\.telemetry_events_mv/);
    await refused('alice', 'SELECT 1 WHERE 1 IN daily_metrics_mv', /may not read default\.daily_metrics_mv/);
    await refused('alice', 'SELECT count() FROM {t:Identifier}', /may not read default\.daily_metrics_mv/, 497, '&param_t=daily_metrics_mv');
    await refused('alice', "SELECT count() FROM merge('default', '^telemetry_events$')", /table function merge\(\) is not allowed/);
    await refused('alice', "SELECT (SELECT throwIf(count() > 0) FROM merge('default', '^telemetry_events$'))", /table function merge\(\) is not allowed/);
    await refused('alice', 'SELECT count() FROM view(SELECT * FROM telemetry_events)', /table function view\(\) is not allowed/);
    await refused('alice', 'SELECT count() FROM (EXPLAIN ESTIMATE SELECT * FROM telemetry_events)', /table function viewExplain\(\)|EXPLAIN inside a query/);
    await refused('alice', "SELECT count() FROM cluster('default', 'default', 'telemetry_events')", /cluster\(…\) is not allowed/);
    await refused('alice', "SELECT count() FROM remote('127.0.0.1', 'default', 'telemetry_events')", /remote\(…\) is not allowed/);
    await refused('alice', "SELECT joinGet('default.telemetry_events', 'cost_usd', 'x')", /joinGet\(\) is not allowed/);
    await refused('alice', "SELECT dictGet('d', 'a', 1)", /dictGet\(\) is not allowed/);
    await refused('alice', "SELECT dictHas('d', 1)", /dictHas\(\) is not allowed/);
  });

  test('system tables and INFORMATION_SCHEMA are refused to members; the admin reads the schema but not other members\' queries', async () => {
    for (const t of ['system.query_log', 'system.processes', 'system.tables', 'system.parts', 'system.columns', 'INFORMATION_SCHEMA.TABLES', 'information_schema.columns']) {
      await refused('alice', `SELECT count() FROM ${t}`, /may not read|other members' queries/);
      await refused('carol', `SELECT * FROM ${t} LIMIT 1`, /may not read|other members' queries/);
    }
    await refused('alice', "SELECT count() FROM telemetry_events WHERE user_id IN (SELECT user FROM system.processes)", /other members' queries/);
    for (const t of ['system.query_log', 'system.processes', 'system.query_thread_log', 'system.text_log', 'system.errors']) {
      await refused('dana', `SELECT count() FROM ${t}`, /other members' queries/);
    }
    await refused('dana', 'SHOW PROCESSLIST', /SHOW PROCESSLIST is not offered/);
    await refused('dana', 'SELECT count() FROM query_log', /other members' queries/, 497, '&database=system');
    await refused('dana', 'EXPLAIN SELECT (SELECT count() FROM system.query_log)', /EXPLAIN is not offered/);
    await refused('dana', 'DESCRIBE (SELECT * FROM system.processes)', /DESCRIBE is offered for a table by name only/);
    assert.ok(await number('dana', "SELECT count() FROM system.tables WHERE database = 'default'") >= 20);
    assert.equal((await raw('dana', 'SHOW TABLES')).status, 200);
    assert.match((await raw('dana', 'DESCRIBE TABLE daily_errors')).body, /status_code/);
    assert.equal(await number('dana', 'SELECT sum(requests) FROM daily_metrics_mv'), 5);
  });

  test('INSERT, ALTER, CREATE, DROP and OPTIMIZE as a member are refused; nothing changes', async () => {
    const before = await number('dana', 'SELECT count() FROM telemetry_events');
    for (const who of ['alice', 'carol', 'dana']) {
      await refused(who, "INSERT INTO telemetry_events (user_id, event_type) VALUES ('bob', 'api_request')", /INSERT is not (allowed|offered)/);
      await refused(who, 'ALTER TABLE telemetry_events DELETE WHERE 1', /ALTER is not (allowed|offered)/);
      await refused(who, 'CREATE TABLE x (a UInt8) ENGINE = Memory', /CREATE is not (allowed|offered)/);
      await refused(who, 'DROP TABLE daily_metrics', /DROP is not (allowed|offered)/);
      await refused(who, 'OPTIMIZE TABLE daily_metrics FINAL', /OPTIMIZE is not (allowed|offered)/);
    }
    // A GET is read-only too, and a member's Basic credential never becomes the local writer's.
    const get = await send(`${sqlUrl}/?query=${encodeURIComponent("INSERT INTO chapter_focus (user_id) VALUES ('x')")}`, { method: 'GET', ca, headers: { Authorization: `Basic ${Buffer.from(`alice:${members.alice!.secret}`).toString('base64')}` } });
    assert.notEqual(get.status, 200);
    assert.equal(await number('dana', 'SELECT count() FROM telemetry_events'), before);
    assert.equal(await number('dana', 'SELECT count() FROM chapter_focus'), 2);
  });
});
