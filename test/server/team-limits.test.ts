/**
 * Limits that hold on the team server (built server in a network namespace, TLS):
 * - team.json `limits.maxBodyBytes` on all three ports: OTLP/HTTP 413 (also a small gzip body that
 *   inflates past it), gRPC RESOURCE_EXHAUSTED, the SQL port 413; nothing stored;
 * - failed authentications are throttled per source address: after the burst, a source presenting
 *   wrong secrets gets 429 + Retry-After (gRPC RESOURCE_EXHAUSTED, SQL 401) without the server
 *   verifying anything (a correct secret never verified before is refused from it too), while a
 *   member verified before keeps being served from that address, and another address is untouched.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type { IssuedMember } from '../../src/server/team/admin';
import type { NetnsHost } from '../support/netns';
import { encodeLogs, logsRequest } from '../support/otlp';
import { grpcExportLogs, send, startTeam, teamSql, type Team } from '../support/team-server';

const PORTS = { grpc: 26317, otlpHttp: 26318, http: 29223 };
const MAX_BODY = 64 * 1024;
const FAILURE_BURST = 4;

/** A secret with a real key id and a wrong random part: the server must run scrypt to refuse it. */
function wrongSecretFor(m: IssuedMember, i: number): string {
  const [, keyId] = /^ct_([0-9a-f]{12})_/.exec(m.secret)!;
  return `ct_${keyId}_${String(i).padStart(43, 'x')}`;
}

describe('team server limits (network namespace, TLS)', () => {
  let team: Team | undefined;
  let host: NetnsHost;
  let ca: string;
  let admin: IssuedMember;
  let alice: IssuedMember;
  let early: IssuedMember;
  let late: IssuedMember;
  let otlp: string;
  let sql: string;
  const logs = (session: string, n: number, pad = 0) => encodeLogs(logsRequest(Array.from({ length: n }, (_, i) => ({ name: 'api_request', attributes: { 'session.id': session, seq: i, pad: 'p'.repeat(pad) } }))));
  const post = (secret: string, body: Buffer, headers: Record<string, string> = {}) => send(`${otlp}/v1/logs`, { body, ca, headers: { 'content-type': 'application/x-protobuf', Authorization: `Bearer ${secret}`, ...headers } });
  const stored = async (session: string) => Number((await teamSql(sql, ca, 'admin', admin.secret, `SELECT count() AS n FROM otel_logs WHERE LogAttributes['session.id'] = '${session}'`))[0]!.n);

  before(async () => {
    team = await startTeam({
      name: 'Limits Team', ports: PORTS, tmpPrefix: 'ct-team-limits-',
      members: [['alice', 'contributor'], ['early', 'contributor'], ['late', 'admin']],
      // One failure a minute after the burst: nothing refills during the test.
      limits: { maxBodyBytes: MAX_BODY, authFailureBurst: FAILURE_BURST, authFailuresPerMinute: 1 },
    });
    ({ host, ca, otlpUrl: otlp, sqlUrl: sql } = team);
    ({ admin, alice, early, late } = team.members as Record<'admin' | 'alice' | 'early' | 'late', IssuedMember>);
  });
  after(async () => {
    await team?.close();
  });

  test('maxBodyBytes: OTLP/HTTP 413 (plain and gzip that inflates past it), gRPC RESOURCE_EXHAUSTED, SQL 413; under it, stored', async () => {
    const big = logs('big', 40, 2048);
    assert.ok(big.length > MAX_BODY);
    const r = await post(alice.secret, big);
    assert.equal(r.status, 413, r.body);
    const bomb = gzipSync(big);
    assert.ok(bomb.length < MAX_BODY);
    assert.equal((await post(alice.secret, bomb, { 'content-encoding': 'gzip' })).status, 413);
    const g = await grpcExportLogs(`${host.nsAddress}:${PORTS.grpc}`, ca, big, `Bearer ${alice.secret}`);
    assert.equal(g.code, grpc.status.RESOURCE_EXHAUSTED, g.details);
    const q = await send(`${sql}/`, { ca, body: `SELECT '${'x'.repeat(MAX_BODY)}'`, headers: { Authorization: `Basic ${Buffer.from(`admin:${admin.secret}`).toString('base64')}` } });
    assert.equal(q.status, 413, q.body);
    assert.equal(await stored('big'), 0);
    const metrics = await send(`${otlp}/metrics`, { method: 'GET', ca, headers: { Authorization: `Bearer ${admin.secret}` } });
    assert.match(metrics.body, /^chapter_telemetry_team_requests_rejected_total\{member="alice",reason="too_large"\} 2$/m);
    assert.equal((await post(alice.secret, logs('small', 5))).status, 200);
    assert.equal(await stored('small'), 5);
  });

  test('failed authentications throttled per source: 429 after the burst, no verification, verified members still served, another address untouched', async () => {
    // `early` is verified (and cached) before the flood.
    assert.equal((await post(early.secret, logs('early-1', 1))).status, 200);
    for (let i = 0; i < FAILURE_BURST; i++) assert.equal((await post(wrongSecretFor(alice, i), logs('flood', 1))).status, 401, `attempt ${i}`);
    const throttled = await post(wrongSecretFor(alice, 99), logs('flood', 1));
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers['retry-after']) >= 1);
    // Refused before any verification: even `late`'s correct secret, never verified yet, is not looked at.
    assert.equal((await post(late.secret, logs('late-1', 1))).status, 429);
    const g = await grpcExportLogs(`${host.nsAddress}:${PORTS.grpc}`, ca, logs('late-grpc', 1), `Bearer ${late.secret}`);
    assert.equal(g.code, grpc.status.RESOURCE_EXHAUSTED, g.details);
    await assert.rejects(teamSql(sql, ca, 'late', late.secret, 'SELECT 1 AS one'), /HTTP 401/);
    // A member verified before is served from the same address.
    assert.equal((await post(early.secret, logs('early-2', 1))).status, 200);
    // From another address (inside the namespace: its own address as the source) `late` is verified and served.
    const script = `
      const https = require('node:https');
      const req = https.request(${JSON.stringify(`${sql}/?query=SELECT%20currentUser()%20AS%20u%20FORMAT%20TSV`)}, { ca: ${JSON.stringify(ca)}, method: 'GET', headers: { Authorization: 'Basic ' + Buffer.from(${JSON.stringify(`late:${late.secret}`)}).toString('base64') } }, (res) => {
        let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => { console.log(JSON.stringify({ status: res.statusCode, body: b })); });
      });
      req.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); });
      req.end();`;
    const other = JSON.parse(host.run(process.execPath, ['-e', script]).trim());
    assert.equal(other.status, 200, JSON.stringify(other));
    assert.equal(await stored('flood'), 0);
    assert.equal(await stored('late-1'), 0);
    assert.equal(await stored('early-2'), 1);
  });
});
