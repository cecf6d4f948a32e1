/**
 * Two hosts and the team's TLS material: a TLS server inside a network namespace (its own address,
 * made by the test) presents the certificate `team init` made; this host connects over the veth
 * trusting only the team CA, and the connection fails with the system CAs alone or a host name
 * the certificate does not cover. Proves the harness (traffic really crosses to the other host,
 * teardown leaves nothing, also when the test process just exits) and the TLS material together.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { certificatePin } from '../../src/server/team/pin';
import { initTeam, type IssuedMember } from '../../src/server/team/admin';
import { createNetnsHost, linkExists, netnsExists, type NetnsHost } from '../support/netns';

/** The server run inside the namespace: answers who it is and who it sees connecting. */
const SERVER = `
const https = require('node:https');
const fs = require('node:fs');
const [cert, key, host] = process.argv.slice(2);
const s = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ server: 'team-in-netns', local: req.socket.localAddress, remote: req.socket.remoteAddress }));
});
s.listen(0, host, () => console.log('listening ' + s.address().port));
`;

interface Reply { status?: number; body?: string; error?: string; peerPin?: string }

function get(host: string, port: number, opts: { ca?: string; servername?: string }): Promise<Reply> {
  return new Promise((resolveReply) => {
    const req = request({ host, port, path: '/', method: 'GET', ca: opts.ca, servername: opts.servername, agent: false, timeout: 15_000 }, (res) => {
      const sock = res.socket as import('node:tls').TLSSocket;
      const chain = sock.getPeerCertificate(true);
      const caDer = chain.issuerCertificate?.raw;
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolveReply({ status: res.statusCode, body, peerPin: caDer ? createHash('sha256').update(caDer).digest('hex') : undefined }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolveReply({ error: e.code ?? e.message }));
    req.end();
  });
}

describe('team TLS across two hosts (network namespace)', () => {
  let root: string;
  let host: NetnsHost;
  let server: ChildProcess;
  let port = 0;
  let admin: IssuedMember;
  let caPem: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ct-team-tls-'));
    host = createNetnsHost();
    const dir = join(root, 'team');
    admin = (await initTeam({ dir, name: 'Netns Team', hostnames: [host.nsAddress, 'team.test'] })).admin;
    caPem = readFileSync(join(dir, 'tls/ca.crt'), 'utf8');
    const script = join(root, 'server.cjs');
    writeFileSync(script, SERVER);
    server = host.spawn(process.execPath, [script, join(dir, 'tls/server.crt'), join(dir, 'tls/server.key'), host.nsAddress], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    server.stderr!.on('data', (d) => (err += d));
    port = await new Promise<number>((res, rej) => {
      let out = '';
      server.stdout!.on('data', (d) => {
        out += d;
        const m = /listening (\d+)/.exec(out);
        if (m) res(Number(m[1]));
      });
      server.on('exit', (code) => rej(new Error(`server in namespace exited ${code}: ${err}`)));
    });
  });
  after(() => {
    server?.kill('SIGKILL');
    host?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  test('trusting only the team CA: connected to the server in the namespace, over the veth', async () => {
    const r = await get(host.nsAddress, port, { ca: caPem });
    assert.equal(r.error, undefined);
    assert.equal(r.status, 200);
    const b = JSON.parse(r.body!);
    assert.equal(b.server, 'team-in-netns');
    assert.equal(b.local, host.nsAddress);
    assert.equal(b.remote, host.hostAddress, 'the server saw this host arrive from the other end of the veth');
    assert.equal(r.peerPin, admin.ca_sha256, 'the chain ends in the CA the bundle pins');
    assert.equal(certificatePin(caPem), admin.ca_sha256);
  });

  test('the name in the bundle works too (SNI + host check), a name the certificate lacks does not', async () => {
    assert.equal((await get(host.nsAddress, port, { ca: caPem, servername: 'team.test' })).status, 200);
    assert.equal((await get(host.nsAddress, port, { ca: caPem, servername: 'evil.example' })).error, 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  test('with the system CAs only the connection is refused', async () => {
    const r = await get(host.nsAddress, port, {});
    assert.equal(r.status, undefined);
    assert.match(r.error ?? '', /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
  });

  test('the server is not on this host: nothing listens on loopback at that port', async () => {
    const r = await get('127.0.0.1', port, { ca: caPem });
    assert.equal(r.error, 'ECONNREFUSED');
  });

  test('destroy removes the namespace and both veth ends; a process that exits without destroying leaves nothing either', () => {
    const other = createNetnsHost();
    assert.ok(netnsExists(other.name) && linkExists(other.hostInterface));
    assert.notEqual(other.nsAddress, host.nsAddress, 'a second namespace gets its own /30');
    other.destroy();
    assert.ok(!netnsExists(other.name));
    assert.ok(!linkExists(other.hostInterface));
    other.destroy(); // idempotent

    const harness = resolve(__dirname, '../support/netns.ts');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e',
      `const { createNetnsHost } = require(${JSON.stringify(harness)}); const h = createNetnsHost(); console.log(JSON.stringify({ name: h.name, link: h.hostInterface })); process.exit(3);`],
    { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 3, child.stderr);
    const made = JSON.parse(child.stdout.trim().split('\n').pop()!);
    assert.match(made.name, /^ctns\d+x0$/);
    assert.ok(!netnsExists(made.name), 'removed on exit');
    assert.ok(!linkExists(made.link));
  });
});
