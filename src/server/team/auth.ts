/**
 * Who sent a request: the member whose secret it carries, or nobody.
 *
 * Accepts what OTel exporters send from OTEL_EXPORTER_OTLP_HEADERS and what ClickHouse clients
 * send: `Authorization: Bearer <secret>`, `Authorization: Basic base64(<member>:<secret>)`, or a
 * `{user, password}` pair (X-ClickHouse-User/Key, URL params). The secret's key id finds the
 * member; scrypt verifies it (constant-time comparison of the derived keys).
 *
 * scrypt costs tens of ms by design, too much per export request, so a verified secret is cached
 * under its SHA-256 for as long as the member's stored hash is unchanged: a removed or rotated
 * member drops out of the cache on the next request (the members file is re-read when it changes).
 * Failed secrets are cached too, so a client retrying a wrong secret cannot make the server spend
 * scrypt on every request; and a source address presenting ever new wrong secrets is refused before
 * scrypt once its failure budget is spent (`FailureThrottle`, team.json `limits.authFailuresPerMinute`
 * / `authFailureBurst`), while secrets already verified still pass from it.
 */
import { createHash } from 'node:crypto';
import type { Member, MemberRecord, MembersSource } from './members';
import { hashSecret, keyIdOf, verifySecret, type SecretHash } from './secrets';
import type { FailureThrottle } from './rate-limit';

export type Credentials = string | { user?: string; password?: string } | undefined | null;

const CACHE_LIMIT = 10_000;

interface CacheEntry {
  /** The stored hash the secret was verified against (still current ⇔ same string). */
  storedHash: string | undefined;
  member: MemberRecord | undefined;
}

export interface Authenticator {
  /** `source`: the client's address, charged for a failure and refused (no scrypt) when over its budget. */
  authenticate(credentials: Credentials, source?: string): Promise<Member | undefined>;
}

/** `{user, password}` from an Authorization header; `user` is undefined for Bearer. */
export function parseAuthorization(header: string): { user?: string; password: string } | undefined {
  const m = /^\s*(Bearer|Basic)\s+(\S+)\s*$/i.exec(header);
  if (!m) return undefined;
  if (m[1]!.toLowerCase() === 'bearer') return { password: m[2]! };
  let text: string;
  try {
    text = Buffer.from(m[2]!, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function toMember(r: MemberRecord): Member {
  return { name: r.name, role: r.role, owner: Boolean(r.owner) };
}

export function createAuthenticator(members: MembersSource, throttle?: FailureThrottle): Authenticator {
  const cache = new Map<string, CacheEntry>();
  // Unknown key ids still cost one scrypt, so timing does not tell a valid key id from an invalid one.
  let dummy: Promise<SecretHash> | undefined;

  async function verify(secret: string, record: MemberRecord | undefined): Promise<MemberRecord | undefined> {
    if (!record) {
      await verifySecret(secret, await (dummy ??= hashSecret('ct_000000000000_' + 'x'.repeat(43))));
      return undefined;
    }
    return (await verifySecret(secret, record.secret)) ? record : undefined;
  }

  return {
    async authenticate(credentials, source) {
      if (credentials == null) return undefined;
      const cred = typeof credentials === 'string' ? parseAuthorization(credentials) : credentials.password !== undefined ? { user: credentials.user, password: credentials.password } : undefined;
      if (!cred || cred.password === '') return undefined;
      const snap = members.current();
      const keyId = keyIdOf(cred.password);
      const record = keyId === undefined ? undefined : snap.byKeyId.get(keyId);
      const digest = createHash('sha256').update(cred.password).digest('base64');
      let entry = cache.get(digest);
      // A new hash (rotate, re-add) has a new salt, so an equal stored hash means nothing changed for this key.
      if (!entry || entry.storedHash !== record?.secret.hash) {
        // Over its failure budget, a source gets no scrypt for a secret not verified before.
        if (source !== undefined && throttle && throttle.blockedFor(source) > 0) return undefined;
        const ok = keyId === undefined ? undefined : await verify(cred.password, record);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        entry = { storedHash: record?.secret.hash, member: ok };
        cache.set(digest, entry);
      }
      const m = entry.member;
      const fail = () => {
        if (source !== undefined) throttle?.charge(source);
        return undefined;
      };
      if (!m) return fail();
      // Basic auth must name the member the secret belongs to.
      if (cred.user !== undefined && cred.user !== m.name) return fail();
      // The file may have changed while scrypt ran: answer from what it holds now.
      const now = members.current().byName.get(m.name);
      if (!now || now.secret.hash !== m.secret.hash) return undefined;
      return toMember(now);
    },
  };
}
