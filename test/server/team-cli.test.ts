/**
 * `npm run team` as a user runs it: the built dist/team-cli.js in a child process. Checks the team
 * directory it makes (modes, TLS material with the requested names, CA that verifies the server
 * certificate), the bundle (parsed by the extension's own parser), list / remove-member / rotate,
 * a supplied certificate, and exit codes for mistakes.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseBundle as parseWith } from '../../src/core/team-bundle';
import { certificatePin } from '../../src/server/team/pin';

const parseBundle = (line: string) => parseWith(line, { certificatePin });

const cli = resolve(__dirname, '../../dist/team-cli.js');

function team(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function allFiles(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(d, e.name)) : [join(d, e.name)]));
}

describe('npm run team (dist/team-cli.js)', () => {
  let root: string;
  let dir: string;
  before(() => {
    assert.ok(existsSync(cli), 'run `npm run build` first');
    root = mkdtempSync(join(tmpdir(), 'ct-team-cli-'));
    dir = join(root, 'team');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('init: 0700 dir, 0600 files, a CA and a server certificate covering the host names and loopback, next steps', () => {
    const r = team('init', '--dir', dir, '--name', 'Book Team', '--hostname', 'team.example.org', '--hostname', '198.18.0.2', '--privacy', 'no-content');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Next:/);
    assert.match(r.out, /npm run team -- add-member/);
    assert.match(r.out, /npm start -- --team/);
    const admin = parseBundle(r.out.split('\n').find((l) => l.startsWith('ctteam1.'))!);
    assert.equal(admin.member, 'admin');
    assert.equal(admin.role, 'admin');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'tls')).mode & 0o777, 0o700);
    for (const f of allFiles(dir)) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    assert.deepEqual(readdirSync(join(dir, 'tls')).sort(), ['ca.crt', 'ca.key', 'server.crt', 'server.key']);
    const cert = new X509Certificate(readFileSync(join(dir, 'tls/server.crt')));
    const ca = new X509Certificate(readFileSync(join(dir, 'tls/ca.crt')));
    assert.ok(cert.verify(ca.publicKey), 'server certificate signed by the team CA');
    assert.ok(ca.ca && !cert.ca);
    for (const n of ['DNS:team.example.org', 'IP Address:198.18.0.2', 'DNS:localhost', 'IP Address:127.0.0.1']) assert.ok(cert.subjectAltName!.includes(n), n);
    assert.equal(cert.checkHost('team.example.org'), 'team.example.org');
    assert.equal(cert.checkIP('198.18.0.2'), '198.18.0.2');
    assert.equal(cert.checkHost('other.example.org'), undefined);
    const cfg = JSON.parse(readFileSync(join(dir, 'team.json'), 'utf8'));
    assert.equal(cfg.name, 'Book Team');
    assert.equal(cfg.privacy, 'no-content');
    assert.equal(admin.ca_pem, readFileSync(join(dir, 'tls/ca.crt'), 'utf8'));
    assert.ok(!readFileSync(join(dir, 'members.json'), 'utf8').includes(admin.secret));
  });

  test('init again into a non-empty dir is refused', () => {
    const r = team('init', '--dir', dir);
    assert.equal(r.code, 1);
    assert.match(r.err, /not empty/);
  });

  test('add-member --json: the documented fields, the bundle parses to the same values, endpoints on the first host name', () => {
    const r = team('add-member', 'alice', '--dir', dir, '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    for (const k of ['team', 'member', 'role', 'otlp_grpc', 'otlp_http', 'query_url', 'ca_pem', 'secret', 'bundle']) assert.ok(typeof j[k] === 'string' && j[k] !== '', k);
    assert.equal(j.role, 'contributor');
    assert.equal(j.otlp_grpc, 'https://team.example.org:4317');
    assert.equal(j.otlp_http, 'https://team.example.org:4318');
    assert.equal(j.query_url, 'https://team.example.org:8123');
    const b = parseBundle(j.bundle);
    assert.equal(b.secret, j.secret);
    assert.equal(b.member, 'alice');
    assert.equal(b.team, 'Book Team');
    const fp = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', join(dir, 'tls/ca.crt')]).toString();
    assert.equal(b.ca_sha256, fp.split('=')[1]!.trim().replace(/:/g, '').toLowerCase());
    assert.ok(!allFiles(dir).some((f) => readFileSync(f, 'latin1').includes(j.secret)), 'the secret is in no file');
  });

  test('add-member: roles, plain output is one bundle line, duplicates and bad names refused', () => {
    const r = team('add-member', 'carol', '--dir', dir, '--role', 'coordinator');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n').filter((l) => l.startsWith('ctteam1.'));
    assert.equal(lines.length, 1);
    assert.equal(parseBundle(lines[0]!).role, 'coordinator');
    assert.equal(team('add-member', 'carol', '--dir', dir).code, 1);
    for (const bad of ['Carol', 'carol smith', '1carol', "x'; DROP USER", 'a'.repeat(33), 'é']) {
      const b = team('add-member', bad, '--dir', dir);
      assert.equal(b.code, 1, bad);
      assert.match(b.err, /not a valid member name/);
    }
    assert.equal(team('add-member', 'dan', '--dir', dir, '--role', 'root').code, 2);
  });

  test('list, rotate, remove-member', () => {
    const l = JSON.parse(team('list', '--dir', dir, '--json').out);
    assert.deepEqual(l.members.map((m: { name: string; role: string }) => `${m.name}:${m.role}`), ['admin:admin', 'alice:contributor', 'carol:coordinator']);
    const rot = JSON.parse(team('rotate', 'alice', '--dir', dir, '--json').out);
    assert.equal(rot.member, 'alice');
    assert.match(team('list', '--dir', dir).out, /alice\s+contributor\s+since .*rotated/);
    assert.equal(team('remove-member', 'carol', '--dir', dir).code, 0);
    assert.equal(team('remove-member', 'carol', '--dir', dir).code, 1);
    assert.equal(team('remove-member', 'admin', '--dir', dir).code, 1, 'the only admin stays');
    assert.deepEqual(JSON.parse(team('list', '--dir', dir, '--json').out).members.map((m: { name: string }) => m.name), ['admin', 'alice']);
  });

  test('usage mistakes exit 2 with the usage text; a directory that is no team exits 1', () => {
    for (const args of [[], ['list'], ['frobnicate', '--dir', dir], ['add-member', '--dir', dir], ['list', '--dir', dir, '--bogus']]) {
      const r = team(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, /usage: npm run team/);
    }
    const r = team('list', '--dir', root);
    assert.equal(r.code, 1);
    assert.match(r.err, /not a team directory/);
  });

  test('init with a supplied certificate: copied in 0600, its CA handed out, a key of another certificate refused', () => {
    const src = join(root, 'own');
    execFileSync('mkdir', ['-p', src]);
    for (const n of ['a', 'b']) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(src, `${n}.key`), '-out', join(src, `${n}.crt`),
        '-days', '2', '-subj', '/CN=own.example', '-addext', 'subjectAltName=DNS:own.example'], { stdio: 'ignore' });
    }
    const bad = team('init', '--dir', join(root, 'own-team-bad'), '--tls-cert', join(src, 'a.crt'), '--tls-key', join(src, 'b.key'));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /not the private key/);
    const ok = team('init', '--dir', join(root, 'own-team'), '--hostname', 'own.example', '--tls-cert', join(src, 'a.crt'), '--tls-key', join(src, 'a.key'), '--json');
    assert.equal(ok.code, 0, ok.err);
    const j = JSON.parse(ok.out);
    assert.equal(j.admin.ca_pem, readFileSync(join(src, 'a.crt'), 'utf8'));
    assert.ok(!existsSync(join(root, 'own-team/tls/ca.key')));
    for (const f of allFiles(join(root, 'own-team'))) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    assert.equal(team('init', '--dir', join(root, 'x'), '--tls-cert', join(src, 'a.crt')).code, 1, '--tls-cert without --tls-key');
  });
});
