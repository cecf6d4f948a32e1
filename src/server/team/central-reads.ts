/**
 * Central mode reads: the team server's ClickHouse HTTP port passes an authenticated member's
 * request on to the team's ClickHouse server AS that member's ClickHouse user, so ClickHouse's own
 * roles and row policies (telemetry-server/central/access.sql) scope the answer, not a filter of
 * ours. Hooked into query-gate.ts after authentication: `if (team.config.clickhouse_url)` → here.
 *
 * What is passed on: the path, the query string without credentials (`user`, `password`) and
 * without `role` (a member reads with their default role only), the body, and the headers a
 * ClickHouse client uses for content (type, encodings, format, database, query id). Set by us:
 * X-ClickHouse-User / X-ClickHouse-Key = the member's user and derived password
 * (central-credentials.ts), and `readonly=1` (their profile has it CONST; this makes it so even on a
 * server whose profiles were changed). The reply streams back with its status and ClickHouse headers.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';
import { memberClickhousePassword, readCentralKey } from './central-credentials';
import type { Member, MembersSource } from './members';

/** Request headers a ClickHouse client sends about content, passed on as they are. */
const PASS_REQUEST_HEADERS = ['content-type', 'content-encoding', 'accept-encoding', 'x-clickhouse-format', 'x-clickhouse-database', 'x-clickhouse-query-id', 'x-clickhouse-session-id'];
/** URL parameters that carry or choose an identity: dropped, the member's identity is ours to set. */
const IDENTITY_PARAMS = ['user', 'password', 'role', 'quota_key'];

export interface CentralReadsOptions {
  dir: string;
  clickhouseUrl: string;
  members: MembersSource;
  /** CA certificate(s) trusted for an https ClickHouse URL besides the system's (e.g. a private CA). */
  ca?: Buffer | string;
}

export interface CentralReads {
  /** Answers `req` (already authenticated as `member`) from the ClickHouse server. */
  forward(req: IncomingMessage, res: ServerResponse, member: Member): void;
}

function reply(res: ServerResponse, status: number, code: number, text: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-ClickHouse-Exception-Code': String(code) });
  res.end(`Code: ${code}. ${text}\n`);
}

export function createCentralReads(o: CentralReadsOptions): CentralReads {
  // Read once: a missing or open key file stops the server at start, not at the first read.
  const key = readCentralKey(o.dir);
  const base = new URL(o.clickhouseUrl);
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
  return {
    forward(req, res, member) {
      const record = o.members.current().byName.get(member.name);
      if (!record) return reply(res, 401, 516, 'Authentication failed: the member was removed.');
      const incoming = new URL(req.url ?? '/', 'https://team.invalid');
      const target = new URL(base);
      target.pathname = (base.pathname.replace(/\/$/, '') + incoming.pathname) || '/';
      for (const [k, v] of incoming.searchParams) if (!IDENTITY_PARAMS.includes(k.toLowerCase())) target.searchParams.append(k, v);
      target.searchParams.set('readonly', '1');
      const headers: Record<string, string> = {
        'X-ClickHouse-User': member.name,
        'X-ClickHouse-Key': memberClickhousePassword(key, member.name, record.key_id),
      };
      for (const h of PASS_REQUEST_HEADERS) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const upstream = send(target, { method: req.method === 'GET' ? 'GET' : 'POST', headers, ca: o.ca }, (up) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) {
          if (v === undefined) continue;
          if (k.startsWith('x-clickhouse-') || ['content-type', 'content-encoding', 'www-authenticate'].includes(k)) out[k] = v;
        }
        res.writeHead(up.statusCode ?? 502, out);
        pipeline(up, res, () => {});
      });
      upstream.on('error', (err) => reply(res, 502, 210, `The team's ClickHouse server cannot be reached: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      // A client that goes away cancels the query on ClickHouse (the connection closes).
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      pipeline(req, upstream, () => {});
    },
  };
}
