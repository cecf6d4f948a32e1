import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FailureThrottle, MemberRateLimiter, grpcPeerAddress, sourceAddress } from '../../src/server/team/rate-limit';

const limits = { requestsPerSecond: 2, requestBurst: 4, bytesPerSecond: 1000, byteBurst: 5000 };

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

describe('per-member rate limiter', () => {
  test('a burst passes, the next request waits; Retry-After is when one token is back', () => {
    const c = clock();
    const l = new MemberRateLimiter(limits, c.now);
    for (let i = 0; i < 4; i++) assert.deepEqual(l.take('alice', 10), { ok: true });
    assert.deepEqual(l.take('alice', 10), { ok: false, reason: 'requests', retryAfterSeconds: 1 });
    c.advance(499);
    assert.equal(l.take('alice', 10).ok, false);
    c.advance(1);
    assert.equal(l.take('alice', 10).ok, true, 'after 0.5 s at 2/s one request fits');
  });
  test('a flooding member does not use up another member\'s budget', () => {
    const c = clock();
    const l = new MemberRateLimiter(limits, c.now);
    for (let i = 0; i < 50; i++) l.take('mallory', 10);
    assert.equal(l.take('mallory', 10).ok, false);
    for (let i = 0; i < 4; i++) assert.equal(l.take('bob', 10).ok, true);
  });
  test('bytes: a large body waits for enough byte tokens, with the wait in whole seconds', () => {
    const c = clock();
    const l = new MemberRateLimiter(limits, c.now);
    assert.equal(l.take('alice', 4500).ok, true);
    const r = l.take('alice', 3000);
    assert.deepEqual(r, { ok: false, reason: 'bytes', retryAfterSeconds: 3 }); // 500 left, 2500 missing at 1000/s
    c.advance(2500);
    assert.equal(l.take('alice', 3000).ok, true);
  });
  test('a refused request takes nothing: waiting Retry-After always lets the client in', () => {
    const c = clock();
    const l = new MemberRateLimiter(limits, c.now);
    for (let i = 0; i < 4; i++) l.take('alice', 1);
    let r = l.take('alice', 1);
    for (let i = 0; i < 20; i++) r = l.take('alice', 1);
    assert.equal(r.ok, false);
    c.advance((r as { retryAfterSeconds: number }).retryAfterSeconds * 1000);
    assert.equal(l.take('alice', 1).ok, true);
  });
  test('tokens never exceed the burst, however long a member was idle', () => {
    const c = clock();
    const l = new MemberRateLimiter(limits, c.now);
    l.take('alice', 1);
    c.advance(3_600_000);
    let n = 0;
    while (l.take('alice', 1).ok) n++;
    assert.equal(n, 4);
  });
  test('nonsense limits are refused', () => {
    assert.throws(() => new MemberRateLimiter({ ...limits, requestsPerSecond: 0 }));
  });
});

describe('failed-authentication throttle per source', () => {
  test('a burst of failures, then blocked with the wait until one refills; other sources unaffected', () => {
    let now = 0;
    const t = new FailureThrottle(6, 3, () => now); // one failure per 10 s after a burst of 3
    for (let i = 0; i < 3; i++) {
      assert.equal(t.blockedFor('a'), 0);
      t.charge('a');
    }
    assert.equal(t.blockedFor('a'), 10);
    assert.equal(t.blockedFor('b'), 0);
    now += 4_000;
    assert.equal(t.blockedFor('a'), 6);
    now += 6_000;
    assert.equal(t.blockedFor('a'), 0);
    t.charge('a');
    assert.equal(t.blockedFor('a'), 10);
  });

  test('memory stays bounded: sources with a full budget are forgotten first', () => {
    let now = 0;
    const t = new FailureThrottle(60, 2, () => now, 3);
    t.charge('x');
    t.charge('x');
    for (const s of ['a', 'b', 'c', 'd']) t.blockedFor(s);
    assert.ok(t.blockedFor('x') > 0, 'the blocked source is kept while full ones are dropped');
    now += 120_000;
    assert.equal(t.blockedFor('x'), 0);
  });

  test('addresses: IPv4-mapped IPv6 is the IPv4 source; gRPC peers lose their port', () => {
    assert.equal(sourceAddress('::ffff:198.18.0.1'), '198.18.0.1');
    assert.equal(sourceAddress('2001:db8::1'), '2001:db8::1');
    assert.equal(sourceAddress(undefined), undefined);
    assert.equal(grpcPeerAddress('198.18.0.1:40522'), '198.18.0.1');
    assert.equal(grpcPeerAddress('::ffff:198.18.0.1:40522'), '::ffff:198.18.0.1');
    assert.equal(grpcPeerAddress('[2001:db8::1]:40522'), '2001:db8::1');
    assert.equal(grpcPeerAddress('2001:db8::1:40522'), '2001:db8::1');
  });
});
