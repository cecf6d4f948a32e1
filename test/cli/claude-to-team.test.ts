// The real Claude Code CLI exports straight to a team server on another host (a network namespace):
// TLS with the team CA from `team init` (NODE_EXTRA_CA_CERTS), the member's secret from
// OTEL_EXPORTER_OTLP_HEADERS, over grpc, http/protobuf and http/json. The records claim another
// author in OTEL_RESOURCE_ATTRIBUTES; the team server stores them under the sender's member name.
//
// The team's host name is a DNS name (team.test), as in a real roll-out: Claude Code 2.1.197's gRPC
// exporter sends nothing, silently, to an https:// endpoint given as an IP literal (measured: the same
// server, `https://127.0.0.1:…` nothing, `https://localhost:…` stored). The CLI resolves team.test
// through a hosts file bind-mounted over /etc/hosts in a mount namespace of its own (unshare), so the
// machine's /etc/hosts is never touched.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, type IssuedMember } from '../../src/server/team/admin';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { runClaude, type OtlpProtocol } from '../support/claude-cli';

const PORTS = { grpc: 34317, otlpHttp: 34318, http: 38123 };
const PROTOCOLS: OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];
const TEAM_HOST = 'team.test';
/** Runs the CLI in a private mount namespace where /etc/hosts is `$0` (the test's hosts file). */
const withHosts = (file: string) => ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', file];

describe('Claude Code CLI → team server over TLS in another network namespace', () => {
  let root: string;
  let host: NetnsHost;
  let server: TeamServerProcess;
  let api: FakeAnthropic;
  let admin: IssuedMember;
  const members: Record<string, IssuedMember> = {};
  let sqlUrl: string;
  let hostsFile: string;
  const homes: string[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ct-claude-team-'));
    host = createNetnsHost();
    const dir = join(root, 'team');
    admin = (await initTeam({ dir, name: 'CLI Team', hostnames: [TEAM_HOST, host.nsAddress], ports: PORTS })).admin;
    hostsFile = join(root, 'hosts');
    writeFileSync(hostsFile, `127.0.0.1 localhost\n${host.nsAddress} ${TEAM_HOST}\n`);
    for (const m of ['alice', 'bob', 'carol']) members[m] = await addMember(dir, m, 'contributor');
    server = await startTeamServer(host, dir, join(root, 'data'));
    api = await startFakeAnthropic();
    sqlUrl = `https://${host.nsAddress}:${PORTS.http}`;
  });
  after(async () => {
    await api?.close();
    await server?.stop();
    host?.destroy();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  const senders: Record<OtlpProtocol, string> = { grpc: 'alice', 'http/protobuf': 'bob', 'http/json': 'carol' };
  // Each run claims to be another member of the team (not a made-up name): the claim must lose.
  const claims: Record<OtlpProtocol, string> = { grpc: 'bob', 'http/protobuf': 'alice', 'http/json': 'alice' };
  for (const protocol of PROTOCOLS) {
    test(`${protocol}: api_request stored under the sending member (${senders[protocol]}), not the claimed user_id=${claims[protocol]}`, async () => {
      const sender = members[senders[protocol]]!;
      api.enqueue({ kind: 'text', text: 'Fine chapter.', usage: { input_tokens: 500, output_tokens: 40, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } });
      const caFile = join(root, 'team/tls/ca.crt');
      const run = await runClaude({
        protocol,
        endpoint: `https://${TEAM_HOST}:${protocol === 'grpc' ? PORTS.grpc : PORTS.otlpHttp}`,
        wrapper: withHosts(hostsFile),
        apiUrl: api.url,
        prompt: 'review chapter five',
        resourceAttributes: { chapter: 'ch05', user_id: claims[protocol]! },
        env: { OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${sender.secret}`, NODE_EXTRA_CA_CERTS: caFile },
      });
      homes.push(run.home);
      assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
      // A -p run waits for its exports' replies before it exits, and the server replies only after the
      // engine committed the rows (views included): they are all there now, no waiting.
      const rows = await teamSql(sqlUrl, admin.ca_pem, 'admin', admin.secret, `SELECT user_id, event_type FROM telemetry_events WHERE session_id = '${run.sessionId}' AND event_type = 'api_request'`);
      assert.deepEqual(rows, [{ user_id: sender.member, event_type: 'api_request' }], `server:\n${server.output()}\nclaude stderr:\n${run.stderr}`);
      const raw = await teamSql(sqlUrl, admin.ca_pem, 'admin', admin.secret, `SELECT DISTINCT ResourceAttributes['user_id'] AS u FROM otel_logs WHERE LogAttributes['session.id'] = '${run.sessionId}'`);
      assert.deepEqual(raw, [{ u: sender.member }]);
      const metrics = await teamSql(sqlUrl, admin.ca_pem, 'admin', admin.secret, `SELECT DISTINCT ResourceAttributes['user_id'] AS u FROM otel_metrics_sum WHERE Attributes['session.id'] = '${run.sessionId}'`);
      for (const m of metrics) assert.equal(m.u, sender.member);
    });
  }
});
