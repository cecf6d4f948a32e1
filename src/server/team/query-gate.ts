/**
 * The team server's ClickHouse HTTP(S) port: a TLS listener in front of the embedded server's own
 * ClickHouse HTTP handler (src/server/clickhouse-http.ts, unchanged). Every request but /ping must
 * carry a member's credential (basic auth as @clickhouse/client sends it, X-ClickHouse-User/Key,
 * or user/password URL parameters); wrong, missing or revoked → 401 with ClickHouse's code 516.
 *
 * Interim scope: only `admin` members read, and they read as the engine's read-only reader (the
 * credential is removed before the inner handler sees the request, so it can neither write nor be
 * mistaken for the local writer). Contributor and coordinator reads need the role-scoped views /
 * row policies of the "Team server" issue; until those exist they get 403, never unscoped rows.
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { TeamServing } from './serving';
import { UNSCOPED_READ_ROLES } from './serving';
import { refusePlainText } from './plain-text-refusal';
import { presented } from '../local-access';

/** The Authorization header as sent (Bearer or Basic: the team authenticator reads both), else ClickHouse's other forms. */
function presentedCredentials(req: IncomingMessage, url: URL): { user?: string; password?: string } | string | undefined {
  const auth = req.headers.authorization;
  return typeof auth === 'string' ? auth : presented(req, url);
}

function stripCredentials(req: IncomingMessage, url: URL): void {
  delete req.headers.authorization;
  delete req.headers['x-clickhouse-user'];
  delete req.headers['x-clickhouse-key'];
  url.searchParams.delete('user');
  url.searchParams.delete('password');
  const q = url.searchParams.toString();
  req.url = url.pathname + (q ? `?${q}` : '');
}

function deny(res: ServerResponse, status: number, code: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-ClickHouse-Exception-Code': String(code), ...headers });
  res.end(`Code: ${code}. ${text}\n`);
}

export function createTeamQueryServer(inner: HttpServer, team: TeamServing): HttpsServer {
  const server = createHttpsServer({ cert: team.tls.cert, key: team.tls.key }, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'https://team.invalid');
      if (url.pathname !== '/ping') {
        const member = await team.authenticate(presentedCredentials(req, url));
        if (!member) {
          req.resume();
          return deny(res, 401, 516, 'Authentication failed: a team member name and secret are required (wrong, missing or revoked).', { 'WWW-Authenticate': 'Basic realm="chapter-telemetry team"' });
        }
        if (!UNSCOPED_READ_ROLES.includes(member.role)) {
          req.resume();
          return deny(res, 403, 497, `Not enough privileges: reads for the ${member.role} role are not available on this server yet.`);
        }
      }
      stripCredentials(req, url);
      inner.emit('request', req, res);
    })().catch((err) => {
      if (!res.headersSent) deny(res, 500, 1001, (err as Error).message);
    });
  });
  refusePlainText(server, 'ClickHouse HTTP');
  return server;
}
