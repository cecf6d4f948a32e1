/**
 * The team server's ClickHouse HTTP(S) port: a TLS listener in front of the embedded server's own
 * ClickHouse HTTP handler (src/server/clickhouse-http.ts, unchanged). Every request but /ping must
 * carry a member's credential (basic auth as @clickhouse/client sends it, X-ClickHouse-User/Key,
 * or user/password URL parameters); wrong, missing or revoked → 401 with ClickHouse's code 516.
 *
 * Every member reads as a reader scoped to them (the credential is removed before the inner handler
 * sees the request, so it can neither write nor be mistaken for the local writer): the handler runs
 * the statement in the member's own sessions, whose row filters and `readonly = 1` were fixed when
 * they opened (read-scope.ts), after the checks of read-check.ts (statement kind, then the query
 * guard, then what the statement names, on the engine's own parse and resolved tree).
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { TeamServing } from './serving';
import type { Member } from './members';
import { readableTables, readScope } from './read-scope';
import { checkAst, checkKind, checkTree, type Catalogue, type ReadRule } from './read-check';
import { setRequestScope, type RequestScope } from '../clickhouse-http/request-scope';
import { refusePlainText } from './plain-text-refusal';
import { presented } from '../local-access';
import { createCentralReads } from './central-reads';
import { MembersFile } from './members';

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

/** How long the catalogue (tables and databases) is kept: it changes with migrations only. */
const CATALOGUE_TTL_MS = 30_000;

export function createTeamQueryServer(inner: HttpServer, team: TeamServing): HttpsServer {
  // Central mode (team.json clickhouse_url): reads go to the ClickHouse server as the member's own
  // ClickHouse user, so its roles and row policies scope them (central-reads.ts), not our filters.
  const central = team.config.clickhouse_url
    ? createCentralReads({ dir: team.dir, clickhouseUrl: team.config.clickhouse_url, members: new MembersFile(team.dir) })
    : undefined;
  let catalogue: { at: number; value: Promise<Catalogue> } | undefined;
  const loadCatalogue = (run: (sql: string) => Promise<string>): Promise<Catalogue> => {
    if (!catalogue || Date.now() - catalogue.at > CATALOGUE_TTL_MS) {
      const value = run("SELECT 'd', lower(name) FROM system.databases UNION ALL SELECT 't', lower(database || '.' || name) FROM system.tables").then((text) => {
        const rows = text.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);
        return { databases: new Set(rows.filter(([k]) => k === 'd').map(([, v]) => v)), tables: new Set(rows.filter(([k]) => k === 't').map(([, v]) => v)) };
      });
      catalogue = { at: Date.now(), value };
      value.catch(() => (catalogue = undefined));
    }
    return catalogue.value;
  };
  const scopeFor = (member: Member): RequestScope => {
    const rule: ReadRule = { role: member.role, readable: readableTables(member.role) };
    return {
      store: readScope(member.name, member.role),
      anyDatabase: member.role === 'admin',
      checkKind: (normalized) => void checkKind(normalized, rule),
      admit: async (normalized, database, run) => {
        const kind = checkKind(normalized, rule);
        // SHOW, DESCRIBE of a named table and EXISTS read the schema only (checkKind narrowed them).
        if (kind !== 'SELECT' && kind !== 'WITH' && kind !== '(') return;
        checkAst(await run(`EXPLAIN AST ${normalized}`), rule, await loadCatalogue(run), database.toLowerCase());
        checkTree(await run(`EXPLAIN QUERY TREE ${normalized}`), rule);
      },
    };
  };
  const server = createHttpsServer({ cert: team.tls.cert, key: team.tls.key }, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'https://team.invalid');
      if (url.pathname !== '/ping') {
        const member = await team.authenticate(presentedCredentials(req, url));
        if (!member) {
          req.resume();
          return deny(res, 401, 516, 'Authentication failed: a team member name and secret are required (wrong, missing or revoked).', { 'WWW-Authenticate': 'Basic realm="chapter-telemetry team"' });
        }
        if (central) return central.forward(req, res, member);
        setRequestScope(req, scopeFor(member));
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
