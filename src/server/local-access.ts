/**
 * Who may talk to the local listeners, and as whom (docs/SECURITY.md):
 * - a request is served only when its `Host` names this machine's loopback (or the configured
 *   `--host`, or an `--allow-host` name): a web page that rebinds its own DNS name to 127.0.0.1 still
 *   sends its own name, and is refused;
 * - a request with an `Origin` header comes from a browser page; none is served unless that origin was
 *   allowed with `--allow-origin` (nothing in this product needs a browser to reach the server);
 * - without credentials a request is the read-only `reader`; the `writer` proves itself with the
 *   owner-only local credential (`<data dir>/credentials.json`), sent as ClickHouse clients send one.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Identity } from './store/types';
// The same writer name in embedded and docker mode (a constant of the stack interface, no imports of its own).
import { WRITER_USER } from '../stack/types';


export interface LocalCredentials {
  file: string;
  user: string;
  password: string;
}

/**
 * The writer credential of a data directory, created on first start: a random password in a file only
 * the owner can read. A file another user can read is tightened, not trusted as is.
 */
export function ensureCredentials(dataDir: string): LocalCredentials {
  const file = join(dataDir, 'credentials.json');
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { user?: unknown; password?: unknown };
    if (typeof raw.user === 'string' && typeof raw.password === 'string' && raw.password.length >= 16) {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
      return { file, user: raw.user, password: raw.password };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
  }
  const creds = { user: WRITER_USER, password: randomBytes(24).toString('base64url') };
  writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { file, ...creds };
}

export interface HostPolicy {
  /** Extra names or addresses accepted in `Host` (`--allow-host`, and `--host` when it is not a wildcard). */
  allowHosts: string[];
  /** Browser origins accepted (`--allow-origin`); by default none. */
  allowOrigins: string[];
}

/** The host part of a `Host` header: `[::1]:8123` → `::1`, `Localhost:8123` → `localhost`. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

/** Why a request may not be served (a sentence), or undefined when it may. */
export function refusal(req: IncomingMessage, policy: HostPolicy): string | undefined {
  const host = req.headers.host;
  if (host === undefined) return 'the request has no Host header';
  const name = hostName(host);
  if (!isLoopbackName(name) && !policy.allowHosts.some((a) => hostName(a) === name)) {
    return `Host "${host}" is not this server's name; only loopback names are served (start the server with --allow-host ${name} if this is really its name)`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !policy.allowOrigins.includes(origin)) {
    return `requests from web pages (Origin: ${origin}) are refused; start the server with --allow-origin ${origin} to allow this origin`;
  }
  return undefined;
}

/** Credentials as ClickHouse clients send them: basic auth, X-ClickHouse-User/Key, or user/password URL parameters. */
export function presented(req: IncomingMessage, url: URL): { user: string; password: string } | undefined {
  const auth = req.headers.authorization;
  if (auth && /^basic\s+/i.test(auth)) {
    const text = Buffer.from(auth.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const i = text.indexOf(':');
    return i < 0 ? { user: text, password: '' } : { user: text.slice(0, i), password: text.slice(i + 1) };
  }
  const hUser = req.headers['x-clickhouse-user'];
  if (typeof hUser === 'string') return { user: hUser, password: String(req.headers['x-clickhouse-key'] ?? '') };
  const qUser = url.searchParams.get('user');
  if (qUser !== null) return { user: qUser, password: url.searchParams.get('password') ?? '' };
  return undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The identity of a request, or undefined when it presented credentials that are wrong. No
 * credentials, or ClickHouse's `default` user with no password, is the reader.
 */
export function identify(req: IncomingMessage, url: URL, creds: Pick<LocalCredentials, 'user' | 'password'>): Identity | undefined {
  const p = presented(req, url);
  if (!p || (p.user === 'default' && p.password === '')) return 'reader';
  if (same(p.user, creds.user) && same(p.password, creds.password)) return 'writer';
  return undefined;
}
