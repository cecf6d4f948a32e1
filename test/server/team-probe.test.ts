/**
 * Centralize Telemetry's "test the connection" (src/vscode/team-probe.ts) against the real team
 * server in a network namespace over TLS: the test record is stored under the member the server
 * decides and read back with the member's credential; a wrong secret, another team's CA and a
 * stopped server each fail with their own explanation, and a refused TLS handshake sends nothing.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, rotateMember, type IssuedMember } from '../../src/server/team/admin';
import { probeTeam } from '../../src/vscode/team-probe';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';

const PORTS = { grpc: 25317, otlpHttp: 25318, http: 25123 };

describe('Centralize: the connection test against a team server over TLS in another namespace', () => {
  let root: string;
  let dir: string;
  let host: NetnsHost;
  let server: TeamServerProcess;
  let admin: IssuedMember;
  let bob: IssuedMember;
  let otherTeam: IssuedMember;

  const storedUnder = async (marker: string) =>
    await teamSql(admin.query_url, admin.ca_pem, 'admin', admin.secret, `SELECT ResourceAttributes['user_id'] AS u, count() AS n FROM otel_logs WHERE LogAttributes['session.id'] = '${marker}' GROUP BY u`);

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ct-team-probe-'));
    host = createNetnsHost();
    dir = join(root, 'team');
    admin = (await initTeam({ dir, name: 'Probe Team', hostnames: [host.nsAddress], ports: PORTS })).admin;
    bob = await addMember(dir, 'bob', 'contributor');
    // A second team with its own CA, claiming the first team's addresses (a bundle for the wrong server).
    otherTeam = (await initTeam({ dir: join(root, 'other'), name: 'Other', hostnames: [host.nsAddress], ports: PORTS })).admin;
    server = await startTeamServer(host, dir, join(root, 'data'));
  });
  after(async () => {
    await server?.stop();
    host?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  test('admin: delivered, read back under the name the server decided', async () => {
    const r = await probeTeam(admin, admin.secret);
    assert.deepEqual({ delivered: r.delivered, readBack: r.readBack, storedAs: r.storedAs, error: r.error }, { delivered: true, readBack: 'read', storedAs: 'admin', error: undefined });
    assert.deepEqual(await storedUnder(r.marker), [{ u: 'admin', n: 1 }]);
  });

  test('contributor: delivered under its own name and read back through its own scoped read', async () => {
    const r = await probeTeam(bob, bob.secret);
    assert.deepEqual({ delivered: r.delivered, readBack: r.readBack, storedAs: r.storedAs, error: r.error }, { delivered: true, readBack: 'read', storedAs: 'bob', error: undefined });
    assert.deepEqual(await storedUnder(r.marker), [{ u: 'bob', n: 1 }]);
  });

  test('a wrong (rotated) secret: refused at the send, nothing stored', async () => {
    const old = bob.secret;
    const fresh = await rotateMember(dir, 'bob');
    const r = await probeTeam(bob, old);
    assert.equal(r.delivered, false);
    assert.equal(r.stage, 'send');
    assert.match(r.error!, /refused the member's secret \(401\)/);
    assert.deepEqual(await storedUnder(r.marker), []);
    bob = fresh;
  });

  test('another team\'s CA: the handshake fails, the secret never leaves', async () => {
    const r = await probeTeam({ ...admin, ca_pem: otherTeam.ca_pem }, admin.secret);
    assert.equal(r.delivered, false);
    assert.match(r.error!, /certificate the team CA did not sign/);
    assert.deepEqual(await storedUnder(r.marker), []);
  });

  test('the server stopped: says nothing answers', async () => {
    await server.stop();
    const r = await probeTeam(admin, admin.secret, { timeoutMs: 5000 });
    assert.equal(r.delivered, false);
    assert.match(r.error!, /Nothing answers at .* \(connection refused\)/);
  });
});
