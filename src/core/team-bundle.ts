/**
 * The team connection bundle: one line an author pastes into the extension ("Centralize
 * Telemetry") to join a team server. `npm run team -- add-member` writes it; the extension reads it.
 *
 *   ctteam1.<base64url(JSON payload)>.<check>
 *
 * `check` = the first 8 base64url characters of SHA-256 over the payload text, so a line that lost
 * its end (a terminal wrapped it, a chat cut it) is told apart from one whose characters changed.
 * The payload is self-describing JSON (field names as in `team add-member --json`), so a person can
 * decode it and see what they are about to trust. It carries the member's secret: treat the whole
 * line as a password.
 *
 * Pure: no I/O (node:crypto hashing only).
 */
import { createHash, X509Certificate } from 'node:crypto';

export const BUNDLE_PREFIX = 'ctteam1.';

export type TeamRole = 'contributor' | 'coordinator' | 'admin';
export const TEAM_ROLES: readonly TeamRole[] = ['contributor', 'coordinator', 'admin'];

/** Member names become ClickHouse user names and `user_id` values: lower-case letter first, then [a-z0-9_-], ≤ 32. */
export const MEMBER_NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;

export interface TeamBundle {
  team: string;
  member: string;
  role: TeamRole;
  /** OTLP/gRPC endpoint, `https://host:port`. */
  otlp_grpc: string;
  /** OTLP/HTTP base URL, `https://host:port` (signals under /v1/…). */
  otlp_http: string;
  /** ClickHouse HTTP(S) URL for reads with the member's credential. */
  query_url: string;
  /** The team CA certificate (PEM) the client must trust for these endpoints (and only it). */
  ca_pem: string;
  /** SHA-256 of the CA certificate (DER), lower-case hex, as a pin. */
  ca_sha256: string;
  /** The member's secret: `Authorization: Bearer <secret>` or basic auth `<member>:<secret>`. */
  secret: string;
  /** When the line was made (ISO). */
  issued_at: string;
  /** After this (ISO) the line is refused: paste it in time, or ask for a new one (`team rotate`). */
  expires_at?: string;
}

export type BundleErrorCode = 'empty' | 'not-a-bundle' | 'truncated' | 'garbled' | 'invalid' | 'expired';

export class BundleError extends Error {
  constructor(readonly code: BundleErrorCode, message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function checkOf(payload: string): string {
  return createHash('sha256').update(payload).digest('base64url').slice(0, 8);
}

/** SHA-256 pin of a PEM certificate (over its DER bytes, like `openssl x509 -fingerprint -sha256`). */
export function certificatePin(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

export function encodeBundle(b: TeamBundle): string {
  const payload = base64url(JSON.stringify(b));
  return `${BUNDLE_PREFIX}${payload}.${checkOf(payload)}`;
}

const REQUIRED_STRINGS = ['team', 'member', 'role', 'otlp_grpc', 'otlp_http', 'query_url', 'ca_pem', 'ca_sha256', 'secret', 'issued_at'] as const;

function checkUrl(field: string, value: string): void {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new BundleError('invalid', `The bundle's ${field} is not a URL (${JSON.stringify(value)}). Ask your team admin for a new bundle.`);
  }
  if (u.protocol !== 'https:') {
    throw new BundleError('invalid', `The bundle's ${field} is not https (${value}): a team server is only reached over TLS.`);
  }
}

/**
 * Parses and validates a pasted bundle (surrounding whitespace and line breaks inside are ignored:
 * terminals wrap long lines). Throws `BundleError` with a message an author can act on.
 */
export function parseBundle(text: string, now: Date = new Date()): TeamBundle {
  const line = text.replace(/\s+/g, '');
  if (line === '') throw new BundleError('empty', 'Nothing was pasted. Paste the line that `npm run team -- add-member` printed (it starts with ctteam1.).');
  if (!line.startsWith(BUNDLE_PREFIX)) {
    throw new BundleError('not-a-bundle', 'This is not a team connection bundle: it must start with "ctteam1.". Paste the whole line your team admin sent.');
  }
  const rest = line.slice(BUNDLE_PREFIX.length);
  const dot = rest.lastIndexOf('.');
  const payload = dot < 0 ? rest : rest.slice(0, dot);
  const check = dot < 0 ? '' : rest.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]*$/.test(payload) || !/^[A-Za-z0-9_-]*$/.test(check)) {
    throw new BundleError('garbled', 'The bundle contains characters a bundle never has: it was changed on the way. Copy it again from the original message.');
  }
  if (check.length < 8) {
    throw new BundleError('truncated', 'The bundle is cut off (its end is missing). Copy the whole line again, up to its last character.');
  }
  if (check.length > 8 || checkOf(payload) !== check) {
    throw new BundleError('garbled', 'The bundle does not match its own checksum: some characters were changed or lost. Copy it again from the original message.');
  }
  let obj: unknown;
  try {
    obj = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new BundleError('garbled', 'The bundle cannot be decoded. Ask your team admin for a new one.');
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new BundleError('invalid', 'The bundle holds no connection details.');
  const o = obj as Record<string, unknown>;
  for (const k of REQUIRED_STRINGS) {
    if (typeof o[k] !== 'string' || o[k] === '') throw new BundleError('invalid', `The bundle lacks "${k}". Ask your team admin for a new one (made by a current \`npm run team\`).`);
  }
  const b = o as unknown as TeamBundle;
  if (!TEAM_ROLES.includes(b.role)) throw new BundleError('invalid', `The bundle names an unknown role "${b.role}".`);
  if (!MEMBER_NAME_RE.test(b.member)) throw new BundleError('invalid', `The bundle's member name "${b.member}" is not a valid member name.`);
  checkUrl('otlp_grpc', b.otlp_grpc);
  checkUrl('otlp_http', b.otlp_http);
  checkUrl('query_url', b.query_url);
  let pin: string;
  try {
    pin = certificatePin(b.ca_pem);
  } catch {
    throw new BundleError('invalid', 'The bundle\'s CA certificate is not a valid PEM certificate.');
  }
  if (pin !== b.ca_sha256.toLowerCase()) {
    throw new BundleError('invalid', 'The bundle\'s CA certificate does not match its SHA-256 pin: do not trust this bundle; ask your team admin for a new one.');
  }
  if (b.expires_at !== undefined) {
    const exp = Date.parse(b.expires_at);
    if (Number.isNaN(exp)) throw new BundleError('invalid', 'The bundle\'s expiry date is not a date.');
    if (exp <= now.getTime()) {
      throw new BundleError('expired', `The bundle expired on ${b.expires_at}. Ask your team admin for a new one (\`npm run team -- rotate ${b.member}\`).`);
    }
  }
  const out: TeamBundle = {
    team: b.team, member: b.member, role: b.role, otlp_grpc: b.otlp_grpc, otlp_http: b.otlp_http, query_url: b.query_url,
    ca_pem: b.ca_pem, ca_sha256: b.ca_sha256.toLowerCase(), secret: b.secret, issued_at: b.issued_at,
  };
  if (b.expires_at !== undefined) out.expires_at = b.expires_at;
  return out;
}
