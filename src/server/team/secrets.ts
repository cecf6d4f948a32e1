/**
 * Member secrets: made here, shown once (inside the bundle), stored only as salted scrypt hashes.
 *
 * A secret is `ct_<key id>_<random>`: the key id (random, also stored in members.json) lets a
 * `Bearer` credential find its member without trying every member's hash; the 32 random bytes are
 * the secret proper. The key id is not secret and reveals nothing about the rest.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface SecretHash {
  /** Algorithm and cost, so the parameters can be raised later without breaking stored hashes. */
  alg: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string; // base64
  hash: string; // base64, 32 bytes
}

// N=2^14, r=8: ~16 MiB and tens of ms per check (OWASP's minimum for scrypt); checks are cached
// by the authenticator (auth.ts) so ingest pays it once per secret, not per request.
const COST = { N: 1 << 14, r: 8, p: 1 };
const KEY_LEN = 32;
const SECRET_RE = /^ct_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, KEY_LEN, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export function newKeyId(): string {
  return randomBytes(6).toString('hex');
}

export function newSecret(keyId: string): string {
  return `ct_${keyId}_${randomBytes(32).toString('base64url')}`;
}

/** The key id inside a secret, or undefined when the text does not have a secret's shape. */
export function keyIdOf(secret: string): string | undefined {
  return SECRET_RE.exec(secret)?.[1];
}

export async function hashSecret(secret: string): Promise<SecretHash> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, COST);
  return { alg: 'scrypt', ...COST, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/** Constant-time comparison of the derived key with the stored one. */
export async function verifySecret(secret: string, stored: SecretHash): Promise<boolean> {
  if (stored.alg !== 'scrypt') return false;
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await scrypt(secret, Buffer.from(stored.salt, 'base64'), { N: stored.N, r: stored.r, p: stored.p });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
