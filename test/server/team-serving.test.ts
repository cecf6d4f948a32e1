/**
 * `npm start -- --team DIR` on a second host: the built server runs inside a network namespace
 * (test/support/netns.ts) with the TLS material and members of `team init` / `add-member`; clients
 * on this host reach it over the veth trusting only the team CA. Checks ingest auth on OTLP/HTTP
 * and gRPC (401 / UNAUTHENTICATED, nothing stored), the server-stamped author, revocation without
 * restart, a flood getting 429 while others are served, plain text getting nothing, the SQL port's
 * member gate, the no-content policy in the stored tables, and the refusal to listen beyond
 * loopback without TLS.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { addMember, removeMember, setPrivacy, type IssuedMember } from '../../src/server/team/admin';
import type { NetnsHost } from '../support/netns';
import { encodeLogs, logsRequest } from '../support/otlp';
import { serverScript } from '../support/server';
import { grpcExportLogs, send, startTeam, teamSql, type Team } from '../support/team-server';

const PORTS = { grpc: 24317, otlpHttp: 24318, http: 28123 };

describe('team server in a network namespace (npm start -- --team DIR)', () => {
  let team: Team | undefined;
  let root: string;
  let dir: string;
  let host: NetnsHost;
  let ca: string;
  let admin: IssuedMember;
  let alice: IssuedMember;
  let bob: IssuedMember;
  let mallory: IssuedMember;
  let carol: IssuedMember;
  let base: { otlp: string; sql: string; grpc: string };

  /** SQL as the team admin over HTTPS; rows as JSON objects. */
  const adminSql = (query: string) => teamSql(base.sql, ca, 'admin', admin.secret, query);
  const logsCount = async (session: string) => Number((await adminSql(`SELECT count() AS n FROM otel_logs WHERE LogAttributes['session.id'] = '${session}'`))[0]!.n);
  const event = (session: string, claim = 'bob') => encodeLogs(logsRequest([{ name: 'api_request', attributes: { 'session.id': session, cost_usd: 0.25, model: 'claude-opus-5-5', user_id: claim } }], { 'service.name': 'claude-code', user_id: claim }));
  const bearer = (m: IssuedMember) => ({ 'content-type': 'application/x-protobuf', Authorization: `Bearer ${m.secret}` });

  before(async () => {
    team = await startTeam({
      name: 'Netns Team', ports: PORTS, tmpPrefix: 'ct-team-serve-',
      members: [['alice', 'contributor'], ['bob', 'contributor'], ['carol', 'coordinator'], ['mallory', 'contributor']],
      // Small limits so a flood is quick to make; alice and bob stay well inside them.
      limits: { requestsPerSecond: 1, requestBurst: 10 },
    });
    ({ root, dir, host, ca } = team);
    ({ admin, alice, bob, carol, mallory } = team.members as Record<'admin' | 'alice' | 'bob' | 'carol' | 'mallory', IssuedMember>);
    base = { otlp: team.otlpUrl, sql: team.sqlUrl, grpc: `${host.nsAddress}:${PORTS.grpc}` };
  });
  after(async () => {
    await team?.close();
  });

  test('OTLP/HTTP over TLS with alice\'s secret: stored, as alice, although the record claims bob', async () => {
    const r = await send(`${base.otlp}/v1/logs`, { body: event('s-alice-http'), ca, headers: bearer(alice) });
    assert.equal(r.status, 200, r.body);
    const raw = await adminSql(`SELECT ResourceAttributes['user_id'] AS u, LogAttributes['user_id'] AS lu FROM otel_logs WHERE LogAttributes['session.id'] = 's-alice-http'`);
    assert.deepEqual(raw, [{ u: 'alice', lu: 'alice' }]);
    assert.deepEqual(await adminSql(`SELECT user_id FROM telemetry_events WHERE session_id = 's-alice-http'`), [{ user_id: 'alice' }]);
  });

  test('missing, wrong, garbled and Basic-with-another-name credentials: 401, nothing stored', async () => {
    const wrong = alice.secret.slice(0, -2) + (alice.secret.endsWith('AA') ? 'BB' : 'AA');
    for (const auth of [undefined, `Bearer ${wrong}`, 'Bearer nonsense', `Basic ${Buffer.from(`bob:${alice.secret}`).toString('base64')}`]) {
      const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
      if (auth) headers.Authorization = auth;
      const r = await send(`${base.otlp}/v1/logs`, { body: event('s-denied'), ca, headers });
      assert.equal(r.status, 401, String(auth));
      assert.match(String(r.headers['www-authenticate']), /Bearer/);
    }
    assert.equal(await logsCount('s-denied'), 0);
  });

  test('gRPC over TLS: Basic member:secret stored as that member; no or wrong credential UNAUTHENTICATED', async () => {
    assert.equal((await grpcExportLogs(base.grpc, ca, event('s-bob-grpc', 'alice'), `Basic ${Buffer.from(`bob:${bob.secret}`).toString('base64')}`)).code, grpc.status.OK);
    assert.deepEqual(await adminSql(`SELECT ResourceAttributes['user_id'] AS u FROM otel_logs WHERE LogAttributes['session.id'] = 's-bob-grpc'`), [{ u: 'bob' }]);
    assert.equal((await grpcExportLogs(base.grpc, ca, event('s-grpc-denied'), undefined)).code, grpc.status.UNAUTHENTICATED);
    assert.equal((await grpcExportLogs(base.grpc, ca, event('s-grpc-denied'), `Bearer ${alice.secret}x`)).code, grpc.status.UNAUTHENTICATED);
    assert.equal(await logsCount('s-grpc-denied'), 0);
  });

  test('remove-member while running: the next export is refused, no restart', async () => {
    const eve = await addMember(dir, 'eve', 'contributor');
    assert.equal((await send(`${base.otlp}/v1/logs`, { body: event('s-eve-1'), ca, headers: bearer(eve) })).status, 200);
    removeMember(dir, 'eve');
    assert.equal((await send(`${base.otlp}/v1/logs`, { body: event('s-eve-2'), ca, headers: bearer(eve) })).status, 401);
    assert.equal(await logsCount('s-eve-1'), 1);
    assert.equal(await logsCount('s-eve-2'), 0);
  });

  test('a flooding member gets 429 with Retry-After; another member is still served', async () => {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 25; i++) {
      const r = await send(`${base.otlp}/v1/logs`, { body: event(`s-flood`), ca, headers: bearer(mallory) });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = String(r.headers['retry-after']);
    }
    assert.ok(statuses.includes(429), statuses.join(','));
    assert.ok(Number(retryAfter) >= 1, `Retry-After ${retryAfter}`);
    assert.equal(await logsCount('s-flood'), statuses.filter((s) => s === 200).length, 'refused exports stored nothing');
    assert.equal((await send(`${base.otlp}/v1/logs`, { body: event('s-alice-after-flood'), ca, headers: bearer(alice) })).status, 200);
  });

  test('plain HTTP to the TLS ports: 400 saying to use https, nothing stored; gRPC without TLS does not connect', async () => {
    for (const port of [PORTS.otlpHttp, PORTS.http]) {
      const r = await send(`http://${host.nsAddress}:${port}/v1/logs`, { body: event('s-plain'), headers: bearer(alice) });
      assert.equal(r.status, 400, `port ${port}: ${r.body}`);
      assert.match(r.body, /HTTPS only: use https:\/\//);
    }
    const client = new grpc.Client(base.grpc, grpc.credentials.createInsecure());
    const code = await new Promise<grpc.status>((resolve) => client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b, event('s-plain'),
      (() => { const md = new grpc.Metadata(); md.set('authorization', `Bearer ${alice.secret}`); return md; })(), { deadline: Date.now() + 10_000 }, (err) => { client.close(); resolve(err ? err.code : grpc.status.OK); }));
    assert.notEqual(code, grpc.status.OK);
    assert.equal(await logsCount('s-plain'), 0);
  });

  test('/metrics: per-member received/stored/rejected in Prometheus text, for admin members only', async () => {
    assert.equal((await send(`${base.otlp}/metrics`, { method: 'GET', ca })).status, 401);
    assert.equal((await send(`${base.otlp}/metrics`, { method: 'GET', ca, headers: { Authorization: `Bearer ${alice.secret}` } })).status, 403);
    const r = await send(`${base.otlp}/metrics`, { method: 'GET', ca, headers: { Authorization: `Bearer ${admin.secret}` } });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /text\/plain; version=0\.0\.4/);
    const value = (name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, 'm').exec(r.body)?.[1]);
    // Earlier tests: alice sent 1 + 1 records, mallory flooded, 4 + 2 unauthenticated exports (HTTP, gRPC).
    assert.equal(value('chapter_telemetry_team_records_received_total', 'member="alice"'), 2);
    assert.equal(value('chapter_telemetry_team_records_stored_total', 'member="alice"'), 2);
    assert.equal(value('chapter_telemetry_team_records_received_total', 'member="mallory"'), await logsCount('s-flood'));
    assert.ok(value('chapter_telemetry_team_requests_rejected_total', 'member="mallory",reason="rate_limited"') >= 1);
    assert.ok(value('chapter_telemetry_team_requests_rejected_total', 'member="unknown",reason="unauthenticated"') >= 6);
    assert.match(r.body, /^chapter_telemetry_ingest_queue_bytes \d+$/m);
    assert.match(r.body, /^chapter_telemetry_process_resident_memory_bytes [1-9]\d*$/m);
    assert.match(r.body, /^chapter_telemetry_data_dir_bytes [1-9]\d*$/m);
  });

  test('/health over the network says only whether it is up (no pid, no traffic counts)', async () => {
    const r = await send(`${base.otlp}/health`, { method: 'GET', ca });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
  });

  test('SQL port: no or wrong credential 401 (code 516); contributors and coordinators read scoped (team-scoped-reads.test.ts); the admin reads, read-only', async () => {
    const q = { body: 'SELECT count() FROM otel_logs', ca };
    assert.equal((await send(base.sql, q)).status, 401);
    assert.match((await send(base.sql, { ...q, headers: { 'X-ClickHouse-User': 'alice', 'X-ClickHouse-Key': 'wrong' } })).body, /Code: 516/);
    assert.equal((await send(base.sql, { ...q, headers: { 'X-ClickHouse-User': 'alice', 'X-ClickHouse-Key': alice.secret } })).status, 200);
    assert.equal((await send(`${base.sql}/?user=carol&password=${encodeURIComponent(carol.secret)}`, q)).status, 200);
    assert.equal((await send(`${base.sql}/ping`, { method: 'GET', ca })).status, 200);
    assert.ok((await adminSql('SELECT count() AS n FROM otel_logs'))[0]!.n !== undefined);
    const write = await send(base.sql, { body: 'CREATE TABLE x (a UInt8) ENGINE = Memory', ca, headers: { Authorization: `Basic ${Buffer.from(`admin:${admin.secret}`).toString('base64')}` } });
    assert.notEqual(write.status, 200, 'the admin member reads only');
  });

  test('privacy set to no-content while running: from the next export on, no prompt or error text is in the stored tables', async () => {
    setPrivacy(dir, 'no-content');
    const body = encodeLogs(logsRequest([
      { name: 'user_prompt', attributes: { 'session.id': 's-private', prompt: 'MARK-PROMPT write chapter five', prompt_length: 29 } },
      { name: 'api_error', attributes: { 'session.id': 's-private', error: 'MARK-ERROR quota for alice@example.org', status_code: 429, model: 'claude-opus-5-5' } },
      { name: 'tool_result', attributes: { 'session.id': 's-private', tool_name: 'Bash', success: 'false', error_type: 'ShellError', error: 'MARK-ERROR ls failed', tool_input: '{"command":"cat MARK-INPUT"}' } },
    ]));
    assert.equal((await send(`${base.otlp}/v1/logs`, { body, ca, headers: bearer(alice) })).status, 200);
    assert.equal(await logsCount('s-private'), 3);
    const dump = JSON.stringify(await adminSql(`SELECT * FROM otel_logs WHERE LogAttributes['session.id'] = 's-private'`)) +
      JSON.stringify(await adminSql(`SELECT * FROM telemetry_events WHERE session_id = 's-private'`));
    assert.doesNotMatch(dump, /MARK-/);
    const ev = await adminSql(`SELECT event_type, status_code, error_type, error_message FROM telemetry_events WHERE session_id = 's-private' ORDER BY event_type`);
    assert.deepEqual(ev.map((e) => [e.event_type, e.status_code, e.error_type, e.error_message]), [
      ['api_error', 429, 'rate_limit_error', ''], ['tool_result', 0, 'ShellError', ''], ['user_prompt', 0, '', ''],
    ]);
    assert.match(team!.server.output(), /privacy is now no-content/);
  });

  test('without --team the server refuses to listen beyond loopback (exit 2, nothing bound)', () => {
    const r = spawnSync(process.execPath, [serverScript, '--host', '0.0.0.0', '--data-dir', join(root, 'plain')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without TLS/);
  });
});
