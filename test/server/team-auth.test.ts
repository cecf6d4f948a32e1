/**
 * Authentication against a real team directory (made by the admin functions `npm run team` uses,
 * real openssl, real scrypt): Bearer and Basic, {user,password}, wrong/missing/garbled secrets,
 * and revocation / rotation taking effect on the next request through the members file's change
 * detection, with no restart.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam, removeMember, rotateMember, type IssuedMember } from '../../src/server/team/admin';
import { createAuthenticator, parseAuthorization } from '../../src/server/team/auth';
import { MembersFile } from '../../src/server/team/members';

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

describe('team authentication', () => {
  let root: string;
  let dir: string;
  let alice: IssuedMember;
  let bob: IssuedMember;
  let admin: IssuedMember;
  let members: MembersFile;
  const errors: string[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ct-team-auth-'));
    dir = join(root, 'team');
    admin = (await initTeam({ dir, name: 'Book Team', hostnames: ['127.0.0.1'] })).admin;
    alice = await addMember(dir, 'alice', 'contributor');
    bob = await addMember(dir, 'bob', 'coordinator');
    members = new MembersFile(dir, (m) => errors.push(m));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('Bearer, Basic and {user,password} each name the member and role', async () => {
    const auth = createAuthenticator(members);
    assert.deepEqual(await auth.authenticate(`Bearer ${alice.secret}`), { name: 'alice', role: 'contributor', owner: false });
    assert.deepEqual(await auth.authenticate(basic('bob', bob.secret)), { name: 'bob', role: 'coordinator', owner: false });
    assert.deepEqual(await auth.authenticate({ user: 'admin', password: admin.secret }), { name: 'admin', role: 'admin', owner: true });
    assert.deepEqual(await auth.authenticate({ password: alice.secret }), { name: 'alice', role: 'contributor', owner: false });
  });

  test('missing, empty, wrong, garbled, another member\'s name with a valid secret: nobody', async () => {
    const auth = createAuthenticator(members);
    const wrong = alice.secret.slice(0, -4) + (alice.secret.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const c of [undefined, null, '', 'Bearer', 'Bearer ', `Token ${alice.secret}`, `Bearer ${wrong}`, basic('alice', wrong),
      basic('bob', alice.secret), basic('alice', ''), 'Basic !!!', { user: 'alice' }, { user: 'alice', password: bob.secret },
      `Bearer ct_ffffffffffff_${'x'.repeat(43)}`, `Bearer ${alice.secret}x`]) {
      assert.equal(await auth.authenticate(c as never), undefined, JSON.stringify(c));
    }
    // The wrong secret cached as a failure does not shadow the right one.
    assert.equal((await auth.authenticate(`Bearer ${alice.secret}`))?.name, 'alice');
  });

  test('removed member: refused on the very next request, without a new authenticator', async () => {
    const auth = createAuthenticator(members);
    const carol = await addMember(dir, 'carol', 'contributor');
    assert.equal((await auth.authenticate(`Bearer ${carol.secret}`))?.name, 'carol', 'a member added while running is accepted');
    assert.equal((await auth.authenticate(`Bearer ${carol.secret}`))?.name, 'carol', 'cached');
    removeMember(dir, 'carol');
    assert.equal(await auth.authenticate(`Bearer ${carol.secret}`), undefined);
    assert.equal(await auth.authenticate(basic('carol', carol.secret)), undefined);
  });

  test('rotated member: old secret refused at once, new one accepted', async () => {
    const auth = createAuthenticator(members);
    const dave = await addMember(dir, 'dave', 'contributor');
    assert.equal((await auth.authenticate(`Bearer ${dave.secret}`))?.name, 'dave');
    const dave2 = await rotateMember(dir, 'dave');
    assert.notEqual(dave2.secret, dave.secret);
    assert.equal(await auth.authenticate(`Bearer ${dave.secret}`), undefined);
    assert.equal((await auth.authenticate(`Bearer ${dave2.secret}`))?.name, 'dave');
  });

  test('at rest: no secret in any file of the team directory, only scrypt hashes; files 0600', () => {
    const text = readFileSync(join(dir, 'members.json'), 'utf8') + readFileSync(join(dir, 'team.json'), 'utf8');
    for (const s of [alice.secret, bob.secret, admin.secret]) {
      assert.ok(!text.includes(s));
      // The random part (after `ct_<key id>_`; base64url, so it may itself contain '_').
      assert.ok(!text.includes(s.slice('ct_000000000000_'.length)));
    }
    const doc = JSON.parse(readFileSync(join(dir, 'members.json'), 'utf8'));
    for (const m of doc.members) assert.equal(m.secret.alg, 'scrypt');
    for (const f of ['members.json', 'team.json', 'tls/server.key', 'tls/ca.key']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  test('a broken members file lets nobody in (and says so), a fixed one works again', async () => {
    const { writeFileSync } = await import('node:fs');
    const auth = createAuthenticator(members);
    const good = readFileSync(join(dir, 'members.json'), 'utf8');
    writeFileSync(join(dir, 'members.json'), '{"version":1,"members":[{"name":"Evil"');
    assert.equal(await auth.authenticate(`Bearer ${alice.secret}`), undefined);
    assert.ok(errors.some((e) => e.includes('refusing everyone')));
    writeFileSync(join(dir, 'members.json'), good);
    assert.equal((await auth.authenticate(`Bearer ${alice.secret}`))?.name, 'alice');
  });

  test('parseAuthorization', () => {
    assert.deepEqual(parseAuthorization('bearer abc'), { password: 'abc' });
    assert.deepEqual(parseAuthorization(basic('a', 'b:c')), { user: 'a', password: 'b:c' });
    assert.equal(parseAuthorization('Digest x'), undefined);
  });
});
