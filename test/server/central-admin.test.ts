// Central mode, the Node side: `npm run team -- central-setup / add-member / rotate / remove-member`
// against a ClickHouse HTTP endpoint, and the team server's as-member read proxy (central-reads.ts).
// No ClickHouse server can run on this machine (no image pulls; Debian's 18.16 predates SQL access
// control; chDB refuses CREATE USER), so the far end here is a RECORDING HTTP server: these tests
// prove what goes out (which statements, as which ClickHouse user with which password, that the
// password's SHA-256 is what CREATE USER stored, that no secret is in SQL, that a member's own
// credentials, `role` and `readonly=0` never pass). That ClickHouse's row policies then scope the
// reads is NOT tested here: test/server/central-access.test.ts checks the policies as far as the
// engine goes. The htpasswd lines are verified with the real `htpasswd -v` (apache2-utils).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { runTeamCli } from '../../src/server/team/cli';
import { initTeam } from '../../src/server/team/admin';
import { readMembers, MembersFile } from '../../src/server/team/members';
import { readTeamConfig } from '../../src/server/team/team-config';
import { centralStatements } from '../../src/server/team/central-sql';
import { createAuthenticator } from '../../src/server/team/auth';
import { createCentralReads } from '../../src/server/team/central-reads';

interface Seen { user: string; key: string; sql: string; url: URL; headers: IncomingMessage['headers'] }
const seen: Seen[] = [];
let failOn: RegExp | undefined;
let systemOpen = false;
let ch: Server;
let chUrl: string;
let root: string;
const ADMIN = { user: 'ct_access_admin', password: 'admin-pw-from-env' };

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ct-central-admin-'));
  ch = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      const s: Seen = { user: String(req.headers['x-clickhouse-user']), key: String(req.headers['x-clickhouse-key']), sql: url.searchParams.get('query') ?? body, url, headers: req.headers };
      seen.push(s);
      const asMember = s.user !== ADMIN.user;
      if (failOn?.test(s.sql)) return res.writeHead(500).end('Code: 999. DB::Exception: injected failure');
      if (asMember && s.sql.includes('system.processes') && !systemOpen) return res.writeHead(403).end('Code: 497. DB::Exception: Not enough privileges. (ACCESS_DENIED)');
      if (asMember && s.sql.startsWith('CREATE TEMPORARY')) return res.writeHead(500).end('Code: 164. DB::Exception: Cannot execute query in readonly mode. (READONLY)');
      res.writeHead(200, { 'X-ClickHouse-Summary': '{"read_rows":"1"}', 'X-ClickHouse-Format': 'TabSeparated', 'Content-Type': 'text/tab-separated-values' }).end('1\n');
    });
  });
  await new Promise<void>((r) => ch.listen(0, '127.0.0.1', r));
  chUrl = `http://127.0.0.1:${(ch.address() as AddressInfo).port}`;
  process.env.CLICKHOUSE_USER = ADMIN.user;
  process.env.CLICKHOUSE_PASSWORD = ADMIN.password;
});
after(async () => {
  await new Promise((r) => ch.close(r));
  rmSync(root, { recursive: true, force: true });
});

async function team(...args: string[]): Promise<string> {
  const out: string[] = [];
  await runTeamCli(args, (s) => out.push(s));
  return out.join('\n');
}

function htpasswdVerifies(file: string, user: string, secret: string): boolean {
  return spawnSync('htpasswd', ['-v', '-i', file, user], { input: secret }).status === 0;
}

async function newTeam(name: string): Promise<string> {
  const dir = path.join(root, name);
  await initTeam({ dir, name, admin: 'dana' });
  return dir;
}

test('central-setup: access.sql, then the writer role, then every member\'s user, as the administrator from the environment; then checks as the owner', async () => {
  const dir = await newTeam('setup');
  seen.length = 0;
  const out = await team('central-setup', '--dir', dir, '--clickhouse-url', chUrl);
  assert.match(out, /Central mode: team records are stored in and read from/);
  assert.equal(readTeamConfig(dir).clickhouse_url, chUrl);
  assert.equal(statSync(path.join(dir, 'central.key')).mode & 0o777, 0o600);
  const access = centralStatements('access.sql');
  const admin = seen.filter((s) => s.user === ADMIN.user);
  assert.ok(admin.every((s) => s.key === ADMIN.password));
  assert.deepEqual(admin.slice(0, access.length).map((s) => s.sql), access);
  assert.deepEqual(admin.slice(access.length).map((s) => s.sql.split(' IDENTIFIED')[0]), [
    'GRANT ct_writer TO CURRENT_USER', 'DROP USER IF EXISTS `dana`', 'CREATE USER `dana`', 'GRANT ct_admin TO `dana`', 'ALTER USER `dana` DEFAULT ROLE ct_admin',
  ]);
  const stored = /sha256_hash BY '([0-9a-f]{64})'/.exec(admin.find((s) => s.sql.startsWith('CREATE USER'))!.sql)![1]!;
  const asOwner = seen.filter((s) => s.user === 'dana');
  assert.deepEqual(asOwner.map((s) => s.sql), ['SELECT 1', 'SELECT count() FROM system.processes', 'CREATE TEMPORARY TABLE ct_readonly_probe (x UInt8)']);
  assert.equal(sha(asOwner[0]!.key), stored, 'the owner reads with the password whose hash CREATE USER stored');
  // A server that lets members read system tables without a grant is refused.
  systemOpen = true;
  const fresh = await newTeam('refused');
  try {
    await assert.rejects(team('central-setup', '--dir', dir), /select_from_system_db_requires_grant/);
    await assert.rejects(team('central-setup', '--dir', fresh, '--clickhouse-url', chUrl), /select_from_system_db_requires_grant/);
  } finally {
    systemOpen = false;
  }
  // A setup that did not succeed does not switch the team to central mode.
  assert.equal(readTeamConfig(fresh).clickhouse_url, undefined);
  await assert.rejects(team('central-setup', '--dir', await newTeam('creds-in-url'), '--clickhouse-url', chUrl.replace('//', '//u:p@')), /CLICKHOUSE_USER/);
});

test('add-member / rotate / remove-member keep ClickHouse users and the htpasswd file in step; no secret in SQL; a ClickHouse failure leaves members.json unchanged', async () => {
  const dir = await newTeam('members');
  await team('central-setup', '--dir', dir, '--clickhouse-url', chUrl);
  const htpasswd = path.join(root, 'members.htpasswd');
  seen.length = 0;
  const alice = JSON.parse(await team('add-member', 'alice', '--dir', dir, '--htpasswd', htpasswd, '--json')) as { secret: string };
  const create = seen.find((s) => s.sql.startsWith('CREATE USER `alice`'))!;
  assert.ok(create && create.user === ADMIN.user);
  assert.ok(seen.some((s) => s.sql === 'GRANT ct_contributor TO `alice`'));
  const hash1 = /'([0-9a-f]{64})'/.exec(create.sql)![1]!;
  assert.ok(readMembers(dir).members.some((m) => m.name === 'alice'));
  assert.ok(htpasswdVerifies(htpasswd, 'alice', alice.secret), 'htpasswd -v accepts alice\'s secret');
  assert.ok(!htpasswdVerifies(htpasswd, 'alice', alice.secret + 'x'));
  assert.equal(statSync(htpasswd).mode & 0o777, 0o600);

  // ClickHouse refuses the user: the member is not added.
  failOn = /CREATE USER `carol`/;
  try {
    await assert.rejects(team('add-member', 'carol', '--dir', dir, '--role', 'coordinator'), /creating the ClickHouse user of carol.*injected failure/s);
  } finally {
    failOn = undefined;
  }
  assert.ok(!readMembers(dir).members.some((m) => m.name === 'carol'));

  seen.length = 0;
  const rotated = JSON.parse(await team('rotate', 'alice', '--dir', dir, '--htpasswd', htpasswd, '--json')) as { secret: string };
  const alter = seen.find((s) => s.sql.startsWith('ALTER USER `alice` IDENTIFIED'))!;
  const hash2 = /'([0-9a-f]{64})'/.exec(alter.sql)![1]!;
  assert.notEqual(hash2, hash1);
  assert.ok(htpasswdVerifies(htpasswd, 'alice', rotated.secret));
  assert.ok(!htpasswdVerifies(htpasswd, 'alice', alice.secret));
  assert.equal(readFileSync(htpasswd, 'utf8').split('\n').filter((l) => l.startsWith('alice:')).length, 1);

  for (const s of seen) for (const secret of [alice.secret, rotated.secret]) assert.ok(!s.sql.includes(secret) && !s.url.search.includes(secret));

  // Removal with ClickHouse down: out of members.json at once, told to run it again; again: dropped.
  failOn = /DROP USER/;
  try {
    await assert.rejects(team('remove-member', 'alice', '--dir', dir, '--htpasswd', htpasswd), /removed from the team .*could not be dropped.*Run remove-member alice again/s);
  } finally {
    failOn = undefined;
  }
  assert.ok(!readMembers(dir).members.some((m) => m.name === 'alice'));
  assert.ok(!readFileSync(htpasswd, 'utf8').includes('alice:'));
  seen.length = 0;
  assert.match(await team('remove-member', 'alice', '--dir', dir), /no longer a member; their ClickHouse user is dropped/);
  assert.deepEqual(seen.map((s) => s.sql), ['DROP USER IF EXISTS `alice`']);
});

test('reads: a member\'s request goes to ClickHouse as that member with the derived password, their own credentials, role and readonly=0 do not pass', async () => {
  const dir = await newTeam('reads');
  await team('central-setup', '--dir', dir, '--clickhouse-url', chUrl);
  seen.length = 0;
  const bob = JSON.parse(await team('add-member', 'bob', '--dir', dir, '--json')) as { secret: string };
  const hash = /'([0-9a-f]{64})'/.exec(seen.find((s) => s.sql.startsWith('CREATE USER `bob`'))!.sql)![1]!;

  // What the query-gate hook does: authenticate, then hand the request to the central reads.
  const members = new MembersFile(dir);
  const auth = createAuthenticator(members);
  const reads = createCentralReads({ dir, clickhouseUrl: readTeamConfig(dir).clickhouse_url!, members });
  const gate = createServer((req, res) => {
    void auth.authenticate(req.headers.authorization).then((m) => (m ? reads.forward(req, res, m) : res.writeHead(401).end()));
  });
  await new Promise<void>((r) => gate.listen(0, '127.0.0.1', r));
  const gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`;
  const ask = (q: string, headers: Record<string, string>) => new Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }>((resolve, reject) => {
    const r = request(`${gateUrl}/${q}`, { method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    r.on('error', reject);
    r.end('SELECT count() FROM default.daily_metrics');
  });
  try {
    const basic = 'Basic ' + Buffer.from(`bob:${bob.secret}`).toString('base64');
    seen.length = 0;
    const r = await ask('?database=default&user=dana&password=x&role=ct_admin&readonly=0&max_result_rows=5', { Authorization: basic, 'X-ClickHouse-Format': 'JSON', 'X-ClickHouse-User': 'dana' });
    assert.equal(r.status, 200);
    assert.equal(r.body, '1\n');
    assert.equal(r.headers['x-clickhouse-summary'], '{"read_rows":"1"}');
    const up = seen[0]!;
    assert.equal(up.user, 'bob');
    assert.equal(sha(up.key), hash, 'the password whose SHA-256 CREATE USER stored');
    assert.equal(up.sql, 'SELECT count() FROM default.daily_metrics');
    assert.equal(up.headers.authorization, undefined);
    assert.equal(up.headers['x-clickhouse-format'], 'JSON');
    assert.deepEqual([...up.url.searchParams].sort(), [['database', 'default'], ['max_result_rows', '5'], ['readonly', '1']]);
    assert.ok(!up.key.includes(bob.secret) && up.key !== bob.secret);

    // Rotated: the next read uses the new derived password; the old secret is refused by the gate.
    seen.length = 0;
    const bob2 = JSON.parse(await team('rotate', 'bob', '--dir', dir, '--json')) as { secret: string };
    const hash2 = /'([0-9a-f]{64})'/.exec(seen.find((s) => s.sql.startsWith('ALTER USER `bob`'))!.sql)![1]!;
    seen.length = 0;
    assert.equal((await ask('', { Authorization: basic })).status, 401);
    assert.equal((await ask('', { Authorization: 'Basic ' + Buffer.from(`bob:${bob2.secret}`).toString('base64') })).status, 200);
    assert.equal(sha(seen[0]!.key), hash2);

    // The team's ClickHouse unreachable: a clear error, not a hang.
    const deadReads = createCentralReads({ dir, clickhouseUrl: 'http://127.0.0.1:9', members });
    const dead = createServer((req, res) => deadReads.forward(req, res, { name: 'bob', role: 'contributor', owner: false }));
    await new Promise<void>((res) => dead.listen(0, '127.0.0.1', res));
    const reply = await new Promise<{ status: number; body: string }>((resolve) => {
      const rq = request(`http://127.0.0.1:${(dead.address() as AddressInfo).port}/`, { method: 'POST' }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      rq.end('SELECT 1');
    });
    await new Promise((res) => dead.close(res));
    assert.equal(reply.status, 502);
    assert.match(reply.body, /cannot be reached: ECONNREFUSED/);
  } finally {
    await new Promise((r) => gate.close(r));
  }
});
