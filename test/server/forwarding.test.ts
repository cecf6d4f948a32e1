/**
 * The forwarding agent (issue 10), real parts end to end: one team server (`--team DIR`, TLS with
 * the team CA) in its own network namespace, shared by the file; local embedded servers on loopback
 * that forward what they store because `<data dir>/forward.json` says so. What the team server holds
 * is read with SQL as its admin; the local side through `GET /forward/status` and its own SQL.
 * Each test uses its own member, so the counts of one never see another's rows.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, setPrivacy, type IssuedMember } from '../../src/server/team/admin';
import type { ForwardConfig, ForwardStatus } from '../../src/core/forward-config';
import { writeForwardConfig } from '../../src/stack/forward-file';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { encodeLogs, encodeMetrics, encodeTraces, eventually, logsRequest, nowNanos, postOtlp } from '../support/otlp';
import { forwardConfig, forwardSettled, forwardStatus } from '../support/forwarding';
import type { RunningServer } from '../support/server';
import { serversPerSuite } from '../support/server-per-file';
import { send, startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';

const PORTS = { grpc: 25317, otlpHttp: 25318, http: 29123 };

describe('forwarding agent: local embedded server → team server over TLS', () => {
  let root: string;
  let teamDir: string;
  let teamData: string;
  let host: NetnsHost;
  let team: TeamServerProcess | undefined;
  let admin: IssuedMember;
  let ca: string;
  let sqlBase: string;
  const local = serversPerSuite();

  const adminSql = (q: string) => teamSql(sqlBase, ca, 'admin', admin.secret, q);
  const teamCount = async (where: string, table = 'otel_logs') => Number((await adminSql(`SELECT count() AS n FROM ${table} WHERE ${where}`))[0]!.n);

  async function exportEvents(s: RunningServer, session: string, n: number, extra: Record<string, string | number> = {}): Promise<void> {
    const events = Array.from({ length: n }, (_, i) => ({ name: 'user_prompt', attributes: { 'session.id': session, 'prompt.id': `p${i}`, prompt: `secret prompt text ${i}`, prompt_length: 19, ...extra } }));
    const r = await postOtlp(s.otlpHttpUrl, 'logs', encodeLogs(logsRequest(events, { 'service.name': 'claude-code', user_id: 'somebody-else' })), 'application/x-protobuf');
    assert.equal(r.status, 200);
  }

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ct-forward-'));
    teamDir = join(root, 'team');
    teamData = join(root, 'team-data');
    host = createNetnsHost();
    admin = (await initTeam({ dir: teamDir, name: 'Forward Team', hostnames: [host.nsAddress], ports: PORTS })).admin;
    // History moves are bulk traffic: room for them, so these tests measure delivery, not the limiter.
    const cfg = JSON.parse(readFileSync(join(teamDir, 'team.json'), 'utf8'));
    cfg.limits = { ...cfg.limits, requestsPerSecond: 500, requestBurst: 1000, bytesPerSecond: 256 * 1024 * 1024, byteBurst: 512 * 1024 * 1024 };
    writeFileSync(join(teamDir, 'team.json'), JSON.stringify(cfg));
    ca = readFileSync(join(teamDir, 'tls/ca.crt'), 'utf8');
    sqlBase = `https://${host.nsAddress}:${PORTS.http}`;
    team = await startTeamServer(host, teamDir, teamData);
  });

  after(async () => {
    await team?.stop();
    host?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  test('rows arrive under the member\'s name, each once; forward.json is 0600; status counts add up', async () => {
    const alice = await addMember(teamDir, 'alice', 'contributor');
    const s = await local();
    assert.equal((await forwardStatus(s)).state, 'off');
    await exportEvents(s, 'fw-alice-1', 3);
    // Metrics too: a sum and a histogram (nested columns) travel as the engine wrote them.
    const point = { timeUnixNano: nowNanos(), startTimeUnixNano: nowNanos(-1000), attributes: [{ key: 'session.id', value: { stringValue: 'fw-alice-1' } }] };
    const metrics = { resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }, { key: 'user_id', value: { stringValue: 'nobody' } }] }, scopeMetrics: [{ scope: { name: 'com.anthropic.claude_code', version: '2.1.197' }, metrics: [
      { name: 'claude_code.cost.usage', unit: 'USD', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ ...point, asDouble: 0.75 }] } },
      { name: 'fw.latency', unit: 'ms', histogram: { aggregationTemporality: 1, dataPoints: [{ ...point, count: 3, sum: 12, bucketCounts: [1, 2], explicitBounds: [5] }] } },
    ] }] }] };
    assert.equal((await postOtlp(s.otlpHttpUrl, 'metrics', encodeMetrics(metrics), 'application/x-protobuf')).status, 200);
    writeForwardConfig(s.dataDir, forwardConfig(alice));
    assert.equal(statSync(join(s.dataDir, 'forward.json')).mode & 0o777, 0o600);
    const st = await forwardSettled(s);
    assert.equal(st.team, 'Forward Team');
    assert.equal(st.member, 'alice');
    assert.equal(st.delivered_rows, st.local_rows);
    assert.ok(st.last_delivery_at && st.enabled_at);
    assert.deepEqual(await adminSql("SELECT DISTINCT ResourceAttributes['user_id'] AS u FROM otel_logs WHERE LogAttributes['session.id'] = 'fw-alice-1'"), [{ u: 'alice' }]);
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-alice-1'"), 3);
    // The aggregates at the team server were filled from the forwarded rows too.
    assert.equal(Number((await adminSql("SELECT count() AS n FROM telemetry_events WHERE session_id = 'fw-alice-1' AND user_id = 'alice'"))[0]!.n), 3);
    assert.deepEqual(await adminSql("SELECT Value AS v, ResourceAttributes['user_id'] AS u FROM otel_metrics_sum WHERE Attributes['session.id'] = 'fw-alice-1'"), [{ v: 0.75, u: 'alice' }]);
    assert.deepEqual(await adminSql("SELECT Count AS c, Sum AS s, BucketCounts AS b, ExplicitBounds AS e FROM otel_metrics_histogram WHERE Attributes['session.id'] = 'fw-alice-1'"), [{ c: 3, s: 12, b: [1, 2], e: [5] }]);
    // Live: a later export follows without any change to the file.
    await exportEvents(s, 'fw-alice-2', 2);
    await eventually(async () => (await teamCount("LogAttributes['session.id'] = 'fw-alice-2'")) === 2, async () => JSON.stringify(await forwardStatus(s)));
    await forwardSettled(s);
    assert.equal(await teamCount("LogAttributes['session.id'] LIKE 'fw-alice-%'"), 5);
  });

  test('a forward.json others can read, or a broken one, sends nothing and says why', async () => {
    const bert = await addMember(teamDir, 'bert', 'contributor');
    const s = await local();
    await exportEvents(s, 'fw-bert', 2);
    const file = join(s.dataDir, 'forward.json');
    writeFileSync(file, JSON.stringify(forwardConfig(bert)));
    chmodSync(file, 0o644);
    await eventually(async () => /readable by other users/.test((await forwardStatus(s)).last_error ?? ''), async () => JSON.stringify(await forwardStatus(s)));
    assert.equal((await forwardStatus(s)).state, 'off');
    writeFileSync(file, '{"version": 1, "enabled": tru');
    chmodSync(file, 0o600);
    await eventually(async () => /not JSON/.test((await forwardStatus(s)).last_error ?? ''), async () => JSON.stringify(await forwardStatus(s)));
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-bert'"), 0);
    // Fixed: delivered.
    writeForwardConfig(s.dataDir, forwardConfig(bert));
    await forwardSettled(s);
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-bert'"), 2);
  });

  test('the author\'s privacy level applies before sending: no-content and aggregates-only', async () => {
    const nina = await addMember(teamDir, 'nina', 'contributor');
    const olga = await addMember(teamDir, 'olga', 'contributor');
    for (const [m, privacy, session] of [[nina, 'no-content', 'fw-nina'], [olga, 'aggregates-only', 'fw-olga']] as const) {
      const s = await local();
      await exportEvents(s, session, 2, { error: 'Error: ENOENT /home/author/book/ch01.md', cost_usd: 0.5, model: 'claude-sonnet-4-5' });
      const span = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] }, scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 7).toString('base64'), spanId: Buffer.alloc(8, 3).toString('base64'), name: `span-${session}`, startTimeUnixNano: nowNanos(), endTimeUnixNano: nowNanos(), attributes: [{ key: 'session.id', value: { stringValue: session } }] }] }] }] };
      assert.equal((await postOtlp(s.otlpHttpUrl, 'traces', encodeTraces(span), 'application/x-protobuf')).status, 200);
      writeForwardConfig(s.dataDir, forwardConfig(m, { privacy }));
      await forwardSettled(s);
      const rows = await adminSql(`SELECT LogAttributes AS a, ResourceAttributes['user_id'] AS u FROM otel_logs WHERE LogAttributes['session.id'] = '${session}'`);
      assert.equal(rows.length, 2, privacy);
      for (const r of rows) {
        const a = r.a as Record<string, string>;
        assert.equal(r.u, m.member);
        assert.equal(a.prompt, undefined, `${privacy}: prompt text left the machine`);
        assert.equal(a.error, undefined, `${privacy}: error text left the machine`);
        assert.equal(a.cost_usd, '0.5');
        if (privacy === 'no-content') assert.equal(a.prompt_length, '19');
        else assert.equal(a.prompt_length, undefined, 'aggregates-only keeps only what the aggregates read');
      }
      const spans = await teamCount(`SpanName = 'span-${session}'`, 'otel_traces');
      assert.equal(spans, privacy === 'no-content' ? 1 : 0, `${privacy}: spans`);
    }
  });

  test('outage: team server stopped → local collection goes on, queue grows, failing; started again → all delivered once', async () => {
    const paul = await addMember(teamDir, 'paul', 'contributor');
    const s = await local();
    writeForwardConfig(s.dataDir, forwardConfig(paul));
    await exportEvents(s, 'fw-paul', 4);
    await forwardSettled(s);
    await team!.stop();
    let st: ForwardStatus | undefined;
    try {
      for (let i = 0; i < 3; i++) await exportEvents(s, 'fw-paul', 5); // acknowledged locally while the team is away
      await eventually(async () => (st = await forwardStatus(s)).state === 'failing', () => JSON.stringify(st), 60_000);
      assert.ok(st!.failing_since && st!.last_error, JSON.stringify(st));
      assert.match(st!.last_error!, /cannot reach the team server|ECONNREFUSED/);
      assert.equal(st!.queue_rows, 15);
      assert.equal(Number(await s.sql("SELECT count() FROM otel_logs WHERE LogAttributes['session.id'] = 'fw-paul'")), 19);
    } finally {
      team = await startTeamServer(host, teamDir, teamData);
    }
    await forwardSettled(s);
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-paul'"), 19);
    assert.equal(Number((await adminSql("SELECT count(DISTINCT LogAttributes['prompt.id'], Timestamp) AS n FROM otel_logs WHERE LogAttributes['session.id'] = 'fw-paul'"))[0]!.n), 19);
  });

  test('kill -9 of the local server while a batch is in flight → restart → nothing lost, nothing twice', async () => {
    const kim = await addMember(teamDir, 'kim', 'contributor');
    const s = await local();
    // 30 blocks of 1,000 rows as the local writer, one insert at a time (block numbers in order).
    for (let b = 0; b < 30; b++) {
      await s.sql(`INSERT INTO otel_logs (Timestamp, ServiceName, Body, LogAttributes, ResourceAttributes) SELECT now64(9) - toIntervalMillisecond(number), 'claude-code', 'claude_code.api_request', map('event.name', 'api_request', 'session.id', 'fw-kim', 'seq', toString(${b * 1000} + number)), map('service.name', 'claude-code') FROM numbers(1000)`);
    }
    writeForwardConfig(s.dataDir, forwardConfig(kim));
    // Killed when an intent is stored and not yet acknowledged (the watermark is behind it).
    await eventually(async () => {
      const r = await s.sql("SELECT (argMax(intent_block, seq), argMax(intent_chunk, seq)) > (argMax(wm_block, seq), argMax(wm_chunk, seq)) AND argMax(wm_block, seq) > 0 FROM forward_state WHERE tbl = 'otel_logs'");
      return r.trim() === '1';
    }, () => s.output().slice(-2000), 60_000);
    await s.stop('SIGKILL');
    const delivered = await teamCount("LogAttributes['session.id'] = 'fw-kim'");
    assert.ok(delivered > 0 && delivered < 30_000, `killed mid-delivery (${delivered} at the team)`);
    const again = await local(s.dataDir);
    await forwardSettled(again);
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-kim'"), 30_000);
    assert.equal(Number((await adminSql("SELECT uniqExact(LogAttributes['seq']) AS n FROM otel_logs WHERE LogAttributes['session.id'] = 'fw-kim'"))[0]!.n), 30_000);
  });

  test('history: 100k local records moved with progress; paused halfway, resumed; moved again → no change at the team server', async () => {
    const hana = await addMember(teamDir, 'hana', 'contributor');
    const s = await local();
    for (let b = 0; b < 10; b++) {
      await s.sql(`INSERT INTO otel_logs (Timestamp, ServiceName, Body, LogAttributes, ResourceAttributes) SELECT now64(9) - toIntervalMillisecond(number), 'claude-code', 'claude_code.api_request', map('event.name', 'api_request', 'session.id', 'fw-hana', 'seq', toString(${b * 10_000} + number), 'cost_usd', '0.01'), map('service.name', 'claude-code') FROM numbers(10000)`);
    }
    writeForwardConfig(s.dataDir, forwardConfig(hana));
    const seen: number[] = [];
    let st: ForwardStatus | undefined;
    await eventually(async () => {
      st = await forwardStatus(s);
      if (st.history) seen.push(st.history.delivered_rows);
      return (st.history?.delivered_rows ?? 0) >= 30_000;
    }, () => JSON.stringify(st), 120_000);
    assert.equal(st!.history!.total_rows, 100_000);
    assert.ok(st!.history!.bytes > 0);
    // Paused: nothing more leaves.
    writeForwardConfig(s.dataDir, forwardConfig(hana, { enabled: false }));
    await eventually(async () => (st = await forwardStatus(s)).state === 'paused', () => JSON.stringify(st));
    const atPause = await teamCount("LogAttributes['session.id'] = 'fw-hana'");
    const paused = await forwardStatus(s);
    assert.ok(paused.queue_rows > 0 && paused.queue_rows < 100_000, JSON.stringify(paused));
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-hana'"), atPause);
    assert.ok(atPause < 100_000);
    // Resumed: the rest, with a rate and an ETA on the way.
    writeForwardConfig(s.dataDir, forwardConfig(hana));
    const done = await forwardSettled(s);
    assert.equal(done.history!.delivered_rows, 100_000);
    assert.equal(done.history!.eta_s, 0);
    assert.ok(seen.some((n) => n > 0 && n < 100_000), `progress was visible on the way: ${seen.join(',')}`);
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-hana'"), 100_000);
    // Moved again from the start (another history choice restarts the watermarks): sent, stored once.
    writeForwardConfig(s.dataDir, forwardConfig(hana, { history: '2000-01-01' }));
    await eventually(async () => (st = await forwardStatus(s)).history?.total_rows === 100_000 && st.history!.delivered_rows === 100_000 && st.history!.bytes > 0 && st.state === 'idle', () => JSON.stringify(st), 120_000);
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-hana'"), 100_000);
    assert.equal(Number((await adminSql("SELECT uniqExact(LogAttributes['seq']) AS n FROM otel_logs WHERE LogAttributes['session.id'] = 'fw-hana'"))[0]!.n), 100_000);
  });

  test('POST /v1/forward/<table> itself: member auth, raw tables only, groups checked, identity and team privacy applied, a batch stored once per member', async () => {
    const ivan = await addMember(teamDir, 'ivan', 'contributor');
    const jill = await addMember(teamDir, 'jill', 'contributor');
    const otlp = ivan.otlp_http;
    const row = (i: number, extra: Record<string, string> = {}) => JSON.stringify({ Timestamp: '2026-11-30 08:00:00.000000000', ServiceName: 'claude-code', Body: 'claude_code.user_prompt', ResourceAttributes: { user_id: 'jill' }, LogAttributes: { 'event.name': 'user_prompt', 'session.id': 'fw-direct', seq: String(i), user_id: 'jill', ...extra } });
    const body = [row(1), row(2), row(3)].join('\n') + '\n';
    const post = (table: string, who: IssuedMember | undefined, groups: string, b = body) =>
      send(`${otlp}/v1/forward/${table}`, { body: b, ca, headers: { 'content-type': 'application/x-ndjson', 'x-forward-groups': groups, ...(who ? { Authorization: `Bearer ${who.secret}` } : {}) } });
    assert.equal((await post('otel_logs', undefined, '3')).status, 401);
    assert.equal((await post('otel_logs', { ...ivan, secret: `${ivan.secret}x` }, '3')).status, 401);
    for (const t of ['telemetry_events', 'daily_metrics', 'system.one', '..%2Fotel_logs', 'forward_received']) assert.equal((await post(t, ivan, '3')).status, 400, t);
    for (const g of ['', '2', '1,1,2', '0,3', 'x', '-3']) assert.equal((await post('otel_logs', ivan, g)).status, 400, `groups "${g}"`);
    assert.equal((await post('otel_logs', ivan, '1', 'not json\n')).status, 400);
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-direct'"), 0, 'nothing stored by a refused request');
    // Ivan's rows claim to be jill's: stored as ivan's. Sent twice (another batching too): once.
    const first = await post('otel_logs', ivan, '2,1');
    assert.equal(first.status, 200, first.body);
    assert.deepEqual(JSON.parse(first.body), { groups: 2, duplicate_groups: 0, received_rows: 3, stored_rows: 3 });
    assert.deepEqual(JSON.parse((await post('otel_logs', ivan, '2,1')).body).duplicate_groups, 2);
    assert.deepEqual(await adminSql("SELECT DISTINCT ResourceAttributes['user_id'] AS u, LogAttributes['user_id'] AS lu FROM otel_logs WHERE LogAttributes['session.id'] = 'fw-direct'"), [{ u: 'ivan', lu: 'ivan' }]);
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-direct'"), 3);
    // The same rows from jill are jill's own records, not ivan's duplicates: the key is the server's, per member.
    assert.equal((await post('otel_logs', jill, '2,1')).status, 200);
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-direct' AND ResourceAttributes['user_id'] = 'jill'"), 3);
    // The team's privacy level applies to forwarded rows as to exports.
    setPrivacy(teamDir, 'no-content');
    try {
      const r = await post('otel_logs', ivan, '1', row(9, { prompt: 'team-secret prompt' }) + '\n');
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(await adminSql("SELECT LogAttributes['prompt'] AS p FROM otel_logs WHERE LogAttributes['session.id'] = 'fw-direct' AND LogAttributes['seq'] = '9'"), [{ p: '' }]);
    } finally {
      setPrivacy(teamDir, 'all');
    }
  });

  test('history since a date: only records from that day on leave, older ones stay local', async () => {
    const zoe = await addMember(teamDir, 'zoe', 'contributor');
    const s = await local();
    const day = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
    // Ten days ago, just before the day, the day's first nanosecond, and now.
    const times = [`now64(9) - toIntervalDay(10)`, `toDateTime64('${day} 00:00:00', 9, 'UTC') - toIntervalNanosecond(1)`, `toDateTime64('${day} 00:00:00', 9, 'UTC')`, 'now64(9)'];
    for (const [i, t] of times.entries()) {
      await s.sql(`INSERT INTO otel_logs (Timestamp, ServiceName, Body, LogAttributes, ResourceAttributes) SELECT ${t}, 'claude-code', 'claude_code.api_request', map('event.name', 'api_request', 'session.id', 'fw-zoe', 'seq', '${i}'), map('service.name', 'claude-code')`);
    }
    writeForwardConfig(s.dataDir, forwardConfig(zoe, { history: day as ForwardConfig['history'] }));
    const st = await forwardSettled(s);
    assert.equal(st.history!.total_rows, 2);
    assert.equal(st.queue_rows, 0);
    assert.deepEqual((await adminSql("SELECT LogAttributes['seq'] AS seq FROM otel_logs WHERE LogAttributes['session.id'] = 'fw-zoe' ORDER BY seq")).map((r) => r.seq), ['2', '3']);
  });

  test('disabled with drop_queue: what was collected is never sent; history none starts at the end', async () => {
    const dora = await addMember(teamDir, 'dora', 'contributor');
    const s = await local();
    await exportEvents(s, 'fw-dora-old', 3);
    writeForwardConfig(s.dataDir, forwardConfig(dora, { history: 'none' }));
    let st = await forwardSettled(s);
    assert.equal(st.queue_rows, 0);
    await exportEvents(s, 'fw-dora-new', 2);
    await eventually(async () => (await teamCount("LogAttributes['session.id'] = 'fw-dora-new'")) === 2, async () => JSON.stringify(await forwardStatus(s)));
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-dora-old'"), 0, 'history none: older rows stay local');
    writeForwardConfig(s.dataDir, forwardConfig(dora, { history: 'none', enabled: false, drop_queue: true }));
    await eventually(async () => (await forwardStatus(s)).state === 'paused', () => 'not paused');
    await exportEvents(s, 'fw-dora-dropped', 2);
    await eventually(async () => (st = await forwardStatus(s)).queue_rows === 0 && st.local_rows === 7, () => JSON.stringify(st));
    writeForwardConfig(s.dataDir, forwardConfig(dora, { history: 'none' }));
    await exportEvents(s, 'fw-dora-after', 1);
    await eventually(async () => (await teamCount("LogAttributes['session.id'] = 'fw-dora-after'")) === 1, async () => JSON.stringify(await forwardStatus(s)));
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-dora-dropped'"), 0);
  });
  // Last: it restarts the shared team server with tight limits.
  test('429 from the team\'s rate limits: the agent waits as told (Retry-After) and delivers everything once', async () => {
    const rita = await addMember(teamDir, 'rita', 'contributor');
    await team!.stop();
    const cfg = JSON.parse(readFileSync(join(teamDir, 'team.json'), 'utf8'));
    cfg.limits = { ...cfg.limits, requestsPerSecond: 0.25, requestBurst: 1 };
    writeFileSync(join(teamDir, 'team.json'), JSON.stringify(cfg));
    team = await startTeamServer(host, teamDir, teamData);
    const s = await local();
    for (let b = 0; b < 4; b++) {
      await s.sql(`INSERT INTO otel_logs (Timestamp, ServiceName, Body, LogAttributes, ResourceAttributes) SELECT now64(9) - toIntervalMillisecond(number), 'claude-code', 'claude_code.api_request', map('event.name', 'api_request', 'session.id', 'fw-rita', 'seq', toString(${b * 5000} + number)), map('service.name', 'claude-code') FROM numbers(5000)`);
    }
    writeForwardConfig(s.dataDir, forwardConfig(rita));
    await forwardSettled(s);
    assert.equal(await teamCount("LogAttributes['session.id'] = 'fw-rita'"), 20_000);
    assert.equal(Number((await adminSql("SELECT uniqExact(LogAttributes['seq']) AS n FROM otel_logs WHERE LogAttributes['session.id'] = 'fw-rita'"))[0]!.n), 20_000);
    const metrics = await send(`${rita.otlp_http}/metrics`, { method: 'GET', ca, headers: { Authorization: `Bearer ${admin.secret}` } });
    const limited = /chapter_telemetry_team_requests_rejected_total\{member="rita",reason="rate_limited"\} (\d+)/.exec(metrics.body);
    assert.ok(limited && Number(limited[1]) > 0, `the limiter refused some of rita's requests:\n${metrics.body}`);
  });
});
