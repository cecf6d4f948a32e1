import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { BundleError, encodeBundle, parseBundle, type TeamBundle } from '../../src/core/team-bundle';
import { certificatePin } from '../../src/server/team/pin';

// A real certificate (made once by openssl) so the pin check runs on real DER bytes.
const dir = mkdtempSync(join(tmpdir(), 'ct-bundle-'));
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-days', '2', '-subj', '/CN=test CA'], { stdio: 'ignore' });
const caPem = readFileSync(join(dir, 'c'), 'utf8');
rmSync(dir, { recursive: true, force: true });

const now = new Date('2026-11-30T06:00:00Z');
const deps = { certificatePin, now };
const good: TeamBundle = {
  team: 'Book Team', member: 'alice', role: 'contributor',
  otlp_grpc: 'https://team.example:4317', otlp_http: 'https://team.example:4318', query_url: 'https://team.example:8123',
  ca_pem: caPem, ca_sha256: certificatePin(caPem), secret: 'ct_0123456789ab_' + 'A'.repeat(43),
  issued_at: '2026-11-30T05:00:00Z', expires_at: '2026-12-07T05:00:00Z',
};

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof BundleError, String(e));
    assert.ok(e.message.length > 20, 'the message says what to do');
    return e.code;
  }
  assert.fail('no error');
}

describe('team connection bundle', () => {
  test('round trip: every field back, typed', () => {
    const line = encodeBundle(good);
    assert.match(line, /^ctteam1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{6}$/);
    // The check is CRC-32 as zlib computes it, big-endian, base64url.
    const [, payload, check] = line.split('.');
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc32(payload!));
    assert.equal(check, c.toString('base64url'));
    // The payload is plain base64url JSON a person can decode.
    assert.equal(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')).member, 'alice');
    assert.deepEqual(parseBundle(line, deps), good);
  });
  test('the pin is the SHA-256 of the DER certificate (as openssl prints it)', () => {
    assert.match(good.ca_sha256, /^[0-9a-f]{64}$/);
    const fp = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: caPem }).toString();
    assert.equal(fp.split('=')[1]!.trim().replace(/:/g, '').toLowerCase(), good.ca_sha256);
  });
  test('line breaks and spaces from a wrapping terminal are ignored', () => {
    const line = encodeBundle(good);
    const wrapped = `  ${line.slice(0, 70)}\n${line.slice(70, 140)}\r\n ${line.slice(140)}  `;
    assert.equal(parseBundle(wrapped, deps).secret, good.secret);
  });
  test('empty, foreign, truncated, garbled', () => {
    const line = encodeBundle(good);
    assert.equal(code(() => parseBundle('  ', deps)), 'empty');
    assert.equal(code(() => parseBundle('https://team.example:4318', deps)), 'not-a-bundle');
    assert.equal(code(() => parseBundle(line.slice(0, line.length - 3), deps)), 'truncated');
    assert.equal(code(() => parseBundle(line.slice(0, Math.floor(line.length / 2)), deps)), 'truncated');
    const i = 40;
    const flipped = line.slice(0, i) + (line[i] === 'A' ? 'B' : 'A') + line.slice(i + 1);
    assert.equal(code(() => parseBundle(flipped, deps)), 'garbled');
    assert.equal(code(() => parseBundle(line.replace('.', '.%'), deps)), 'garbled');
  });
  test('expired', () => {
    assert.equal(code(() => parseBundle(encodeBundle(good), { certificatePin, now: new Date('2026-12-08T00:00:00Z') })), 'expired');
    const { expires_at: _, ...noExpiry } = good;
    assert.equal(parseBundle(encodeBundle(noExpiry), { certificatePin, now: new Date('2030-01-01T00:00:00Z') }).expires_at, undefined);
  });
  test('well-formed but wrong: plain http, bad role, bad name, CA not matching its pin, missing field', () => {
    assert.equal(code(() => parseBundle(encodeBundle({ ...good, otlp_http: 'http://team.example:4318' }), deps)), 'invalid');
    assert.equal(code(() => parseBundle(encodeBundle({ ...good, role: 'root' as never }), deps)), 'invalid');
    assert.equal(code(() => parseBundle(encodeBundle({ ...good, member: 'Alice Smith' }), deps)), 'invalid');
    assert.equal(code(() => parseBundle(encodeBundle({ ...good, ca_sha256: '0'.repeat(64) }), deps)), 'invalid');
    const { secret: _, ...noSecret } = good;
    assert.equal(code(() => parseBundle(encodeBundle(noSecret as TeamBundle), deps)), 'invalid');
  });
});
