/**
 * Docker mode's forwarding (issue 10): the collector as the team's agent. The real team server runs
 * in its own network namespace over TLS with its team CA; the local docker stack runs on the
 * stand-in images (real Docker Engine). After configureForwarding, what the real Claude Code CLI
 * and an OTLP client export to the local stack is stored locally AND arrives at the team server
 * under the member's name (decided by the server from the credential, whatever the record says);
 * the secret is in no compose file, container environment/command/label, or the collector config;
 * an outage shows as "failing" and is delivered once when the team server is back; forwarding off
 * puts the plain config back.
 *
 * What the stand-in does NOT prove (telemetry-server/standins/entry.js): the official collector's
 * durable file_storage queue (the stand-in queues in memory), OTLP/gRPC input forwarding and the
 * privacy processors (tested structurally in test/unit/collector-agent.test.ts).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, type IssuedMember } from '../../src/server/team/admin';
import type { ForwardConfig, ForwardStatus } from '../../src/core/forward-config';
import { StackError } from '../../src/stack/types';
import { AGENT_CONFIG_FILE } from '../../src/stack/docker/forwarding';
import { runClaude } from '../support/claude-cli';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { encodeLogs, logsRequest, postOtlp } from '../support/otlp';
import { startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';
import { composeFile, docker, eventually, purge, testStack, type TestStack } from './helpers';

const PORTS = { grpc: 26317, otlpHttp: 26318, http: 26123 };

describe('docker mode forwarding: the collector forwards to a team server over TLS', () => {
  let root: string;
  let host: NetnsHost;
  let teamDir: string;
  let server: TeamServerProcess;
  let admin: IssuedMember;
  let carol: IssuedMember;
  let stack: TestStack;
  let secretsDir: string;
  let api: FakeAnthropic;

  const fwd = (m: IssuedMember, extra: Partial<ForwardConfig> = {}): ForwardConfig => ({
    version: 1, enabled: true, team: m.team, member: m.member, role: m.role, otlp_http: m.otlp_http, query_url: m.query_url,
    ca_pem: m.ca_pem, secret: m.secret, privacy: 'all', history: 'none', ...extra,
  });
  const atTeam = async (where: string) =>
    await teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret, `SELECT ResourceAttributes['user_id'] AS u, count() AS n FROM otel_logs WHERE ${where} GROUP BY u ORDER BY u`);
  const sendMarked = async (marker: string) => {
    const body = encodeLogs(logsRequest([{ name: 'api_request', attributes: { 'session.id': marker, user_id: 'mallory', cost_usd: '0.01' } }], { 'service.name': 'claude-code', user_id: 'mallory' }));
    // Right after the collector was recreated it may still answer 503 (retryable, as OTLP clients do).
    let status = 0;
    await eventually(async () => (status = (await postOtlp(`http://127.0.0.1:${stack.ports.otlpHttpPort}`, 'logs', body, 'application/x-protobuf')).status) !== 503, 'the collector accepting');
    assert.equal(status, 200);
  };
  const collector = async () => await docker.getContainer(`${stack.project}-otel-collector-1`).inspect();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ct-docker-fwd-'));
    host = createNetnsHost();
    teamDir = join(root, 'team');
    admin = (await initTeam({ dir: teamDir, name: 'Docker Team', hostnames: [host.nsAddress], ports: PORTS })).admin;
    carol = await addMember(teamDir, 'carol', 'contributor');
    server = await startTeamServer(host, teamDir, join(root, 'team-data'));
    secretsDir = join(root, 'secrets');
    stack = await testStack('fwd', { secretsDir });
    api = await startFakeAnthropic();
    await stack.backend.start();
  });
  after(async () => {
    await api?.close();
    if (stack) await purge(stack.project);
    await server?.stop();
    host?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  test('a history to move is refused clearly (the collector forwards from now on), nothing written', async () => {
    await assert.rejects(stack.backend.configureForwarding(fwd(carol, { history: 'all' })), (e: Error) => e instanceof StackError && e.code === 'not-supported' && /from now on/.test(e.message));
    assert.equal((await stack.backend.forwardStatus()).state, 'off');
  });

  test('records sent to the local stack arrive at the team server under the member\'s name, and stay local', async () => {
    const before = (await collector()).Id;
    await stack.backend.configureForwarding(fwd(carol));
    const after = await collector();
    assert.notEqual(after.Id, before, 'the collector was recreated with the agent config');
    assert.equal(after.Mounts.find((m) => m.Destination === '/etc/otelcol-contrib/config.yaml')?.Source, join(secretsDir, AGENT_CONFIG_FILE));
    await sendMarked('docker-fwd-1');
    const rows = await eventually(async () => {
      const r = await atTeam(`LogAttributes['session.id'] = 'docker-fwd-1'`);
      return r.length > 0 ? r : undefined;
    }, 'the record at the team server');
    assert.deepEqual(rows.map((r) => [r.u, Number(r.n)]), [['carol', 1]], 'stored once, as carol (the credential), not mallory (the record)');
    assert.equal((await stack.sql(`SELECT count() FROM otel_logs WHERE LogAttributes['session.id'] = 'docker-fwd-1'`)).trim(), '1', 'the local copy stays');
    let st: ForwardStatus | undefined;
    await eventually(async () => (st = await stack.backend.forwardStatus()).delivered_rows >= 1 && st.state === 'idle', 'status idle with a delivery');
    assert.equal(st!.team, 'Docker Team');
    assert.equal(st!.member, 'carol');
    assert.ok(st!.local_rows >= 1);
    assert.ok(st!.last_delivery_at);
    assert.doesNotMatch(JSON.stringify(st), new RegExp(carol.secret));
  });

  test('the real Claude Code CLI (http/protobuf) into the local stack: its session reaches the team server as carol', async () => {
    const run = await runClaude({ prompt: 'say hi', protocol: 'http/protobuf', endpoint: `http://127.0.0.1:${stack.ports.otlpHttpPort}`, apiUrl: api.url });
    assert.equal(run.code, 0, run.stderr);
    const rows = await eventually(async () => {
      const r = await atTeam(`LogAttributes['session.id'] = '${run.sessionId}' AND LogAttributes['event.name'] = 'api_request'`);
      return r.length > 0 ? r : undefined;
    }, `session ${run.sessionId} at the team server`);
    assert.deepEqual(rows.map((r) => r.u), ['carol']);
    const local = Number((await stack.sql(`SELECT count() FROM otel_logs WHERE LogAttributes['session.id'] = '${run.sessionId}'`)).trim());
    await eventually(async () => {
      const team = await atTeam(`LogAttributes['session.id'] = '${run.sessionId}'`);
      return Number(team[0]?.n ?? 0) === local;
    }, 'every local log record of the session at the team server');
  });

  test('no secret in the compose file, the container (env, command, labels) or the collector config: only ${file:…}', async () => {
    const info = await collector();
    const seen = JSON.stringify({ env: info.Config.Env, cmd: info.Config.Cmd, entry: info.Config.Entrypoint, labels: info.Config.Labels, args: info.Args });
    for (const secret of [carol.secret, (await stack.backend.writerCredentials())!.password]) {
      assert.ok(!seen.includes(secret), 'not in the container');
      assert.ok(!readFileSync(composeFile, 'utf8').includes(secret), 'not in the compose file');
      assert.ok(!readFileSync(join(secretsDir, AGENT_CONFIG_FILE), 'utf8').includes(secret), 'not in the collector config');
    }
    const cfg = readFileSync(join(secretsDir, AGENT_CONFIG_FILE), 'utf8');
    assert.match(cfg, /Authorization: Bearer \$\{file:\/run\/secrets\/team\/member-secret\}/);
    assert.doesNotMatch(cfg, /BEGIN CERTIFICATE/);
    const ch = await docker.getContainer(`${stack.project}-clickhouse-1`).inspect();
    assert.ok(!JSON.stringify(ch.Config.Env).includes(carol.secret));
  });

  test('team server down: status failing, collection goes on locally; back up: delivered once', async () => {
    await server.stop();
    await sendMarked('docker-fwd-outage');
    await eventually(async () => (await stack.sql(`SELECT count() FROM otel_logs WHERE LogAttributes['session.id'] = 'docker-fwd-outage'`)).trim() === '1', 'local copy during the outage');
    let st: ForwardStatus | undefined;
    await eventually(async () => (st = await stack.backend.forwardStatus()).state === 'failing', 'status failing');
    assert.ok(st!.failing_since);
    assert.match(st!.last_error ?? '', /could not deliver/);
    server = await startTeamServer(host, teamDir, join(root, 'team-data'));
    await eventually(async () => (await atTeam(`LogAttributes['session.id'] = 'docker-fwd-outage'`)).length > 0, 'delivery after the outage');
    assert.deepEqual((await atTeam(`LogAttributes['session.id'] = 'docker-fwd-outage'`)).map((r) => [r.u, Number(r.n)]), [['carol', 1]]);
    await eventually(async () => (st = await stack.backend.forwardStatus()).state !== 'failing', 'status recovers');
  });

  test('forwarding off: the plain collector config again, status off', async () => {
    await stack.backend.configureForwarding(undefined);
    const info = await collector();
    assert.equal(info.Mounts.find((m) => m.Destination === '/etc/otelcol-contrib/config.yaml')?.Source, join(composeFile, '..', 'otel-collector-config.yaml'));
    assert.equal((await stack.backend.forwardStatus()).state, 'off');
  });
});
