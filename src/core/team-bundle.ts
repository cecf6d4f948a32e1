/**
 * The team connection bundle: one line an author pastes into the extension ("Centralize
 * Telemetry") to join a team server. `npm run team -- add-member` writes it; the extension reads it.
 *
 *   ctteam1.<base64url(JSON payload)>.<check>
 *
 * `check` = CRC-32 of the payload text (4 bytes, 6 base64url characters), so a line that lost its
 * end (a terminal wrapped it, a chat cut it) is told apart from one whose characters changed. It
 * guards against accidents only; trust comes from the CA pin, checked by the caller's hash function.
 * The payload is self-describing JSON (field names as in `team add-member --json`), so a person can
 * decode it and see what they are about to trust. It carries the member's secret: treat the whole
 * line as a password.
 *
 * Pure: no I/O, no Node built-ins (the SHA-256 pin of the CA is computed by a function the caller
 * passes: src/server/team/pin.ts in Node).
 */

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

/** Who and where, without the secret: what the extension keeps, probes and forwards to. */
export type TeamEndpoints = Pick<TeamBundle, 'team' | 'member' | 'role' | 'otlp_http' | 'query_url' | 'ca_pem'>;

export type BundleErrorCode = 'empty' | 'not-a-bundle' | 'truncated' | 'garbled' | 'invalid' | 'expired';

export class BundleError extends Error {
  constructor(readonly code: BundleErrorCode, message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

const CHECK_LEN = 6;

function bytesToBase64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64urlToText(text: string): string {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zlib computes it). */
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of bytes) crc = crcTable[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checkOf(payload: string): string {
  const c = crc32(new TextEncoder().encode(payload));
  return bytesToBase64url(new Uint8Array([c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff]));
}

/** What parseBundle needs from its platform: the SHA-256 pin (lower-case hex over DER) of a PEM certificate. */
export interface BundleDeps {
  certificatePin(pem: string): string;
  now?: Date;
}

export function encodeBundle(b: TeamBundle): string {
  const payload = bytesToBase64url(new TextEncoder().encode(JSON.stringify(b)));
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
export function parseBundle(text: string, deps: BundleDeps): TeamBundle {
  const now = deps.now ?? new Date();
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
  if (check.length < CHECK_LEN) {
    throw new BundleError('truncated', 'The bundle is cut off (its end is missing). Copy the whole line again, up to its last character.');
  }
  if (check.length > CHECK_LEN || checkOf(payload) !== check) {
    throw new BundleError('garbled', 'The bundle does not match its own checksum: some characters were changed or lost. Copy it again from the original message.');
  }
  let obj: unknown;
  try {
    obj = JSON.parse(base64urlToText(payload));
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
    pin = deps.certificatePin(b.ca_pem);
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
