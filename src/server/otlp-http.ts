/**
 * OTLP/HTTP receiver (:4318): POST /v1/logs, /v1/metrics, /v1/traces with protobuf or JSON
 * bodies, optionally gzip. Replies follow the OTLP spec: an empty Export*ServiceResponse on
 * success, a google.rpc.Status on failure; 503 + Retry-After when the engine cannot commit.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { OtlpInputError, type Encoding, type Signal } from './otlp/decode';
import { encodeRpcStatus } from './otlp/proto';
import type { ExportHandler } from './otlp/export';
import { HttpError, readBody } from './http-body';
import { refusal, type HostPolicy } from './local-access';
import type { TeamServing } from './team/serving';
import type { TeamPolicy } from './team/privacy';
import { refusePlainText } from './team/plain-text-refusal';
import { FORWARD_GROUPS_HEADER, forwardFailureStatus, type TeamForwardReceiver } from './team/forward-receiver';
import { handleMemberData, type TeamMemberData } from './team/member-data';

const PATHS: Record<string, Signal> = { '/v1/logs': 'logs', '/v1/metrics': 'metrics', '/v1/traces': 'traces' };
// google.rpc.Code values used in error bodies.
const RPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14, UNIMPLEMENTED: 12, NOT_FOUND: 5, UNAUTHENTICATED: 16 };

export interface OtlpHttpOptions {
  maxBodyBytes: number;
  /** False until the engine is open: exports get 503 (retry) rather than a refused connection. */
  isReady(): boolean;
  health(): object;
  /** Which Host and Origin headers are served (local-access.ts). */
  hostPolicy: HostPolicy;
  /** Team server: TLS, a member credential on every export, the member's identity and limits. */
  team?: TeamServing;
  /** Team server: the Prometheus text for `GET /metrics` (admin members only). */
  metricsText?(): Promise<string>;
  /** Team server: `POST /v1/forward/<table>` from members' forwarding agents (team/forward-receiver.ts). */
  forward?: TeamForwardReceiver;
  /** Team server: `/v1/members/<name|me>/(data|delete)`, Delete My Data (team/member-data.ts), and the control token. */
  memberData?: { data: TeamMemberData; controlToken(): string | undefined };
}

function encodingOf(req: IncomingMessage): Encoding | undefined {
  const ct = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/x-protobuf' || ct === 'application/protobuf') return 'protobuf';
  if (ct === 'application/json') return 'json';
  return undefined;
}

function reply(res: ServerResponse, status: number, encoding: Encoding, rpcCode: number | undefined, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  if (rpcCode === undefined) {
    // Success: an empty Export*ServiceResponse (no partial_success).
    const body = encoding === 'json' ? Buffer.from('{}') : Buffer.alloc(0);
    res.writeHead(status, { 'Content-Type': encoding === 'json' ? 'application/json' : 'application/x-protobuf', 'Content-Length': body.length, ...headers });
    res.end(body);
    return;
  }
  const body = encoding === 'json'
    ? Buffer.from(JSON.stringify({ code: rpcCode, message }))
    : Buffer.from(encodeRpcStatus(rpcCode, message));
  res.writeHead(status, { 'Content-Type': encoding === 'json' ? 'application/json' : 'application/x-protobuf', 'Content-Length': body.length, ...headers });
  res.end(body);
}

function plainReply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(text.endsWith('\n') ? text : text + '\n');
}

export function createOtlpHttpServer(handler: ExportHandler, opts: OtlpHttpOptions): Server {
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((err) => plainReply(res, 500, `internal error: ${(err as Error).message}`));
  };
  if (!opts.team) return createServer(listener);
  const server = createHttpsServer({ cert: opts.team.tls.cert, key: opts.team.tls.key }, listener);
  refusePlainText(server, 'OTLP/HTTP');
  return server as unknown as Server;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refusal(req, opts.hostPolicy);
    if (refused) {
      req.resume();
      return plainReply(res, 403, refused);
    }
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/health' || path === '/') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // A team server is reachable from the network: no pid or traffic counts for anonymous callers.
      res.end(JSON.stringify({ status: opts.isReady() ? 'ok' : 'starting', ...(opts.team ? {} : opts.health()) }));
      return;
    }
    if (path === '/metrics' && opts.team && opts.metricsText) {
      req.resume();
      // Throttled before this attempt (the attempt that spends the last failure still gets its 401).
      const throttled = opts.team.authThrottled(req.socket.remoteAddress);
      const who = await opts.team.authenticate(req.headers.authorization, req.socket.remoteAddress);
      const wait = who ? 0 : throttled;
      if (wait > 0) return plainReply(res, 429, `too many failed authentications from this address; retry after ${wait} s`, { 'Retry-After': String(wait) });
      if (!who || who.role !== 'admin') {
        return plainReply(res, who ? 403 : 401, who ? '/metrics is for team admins' : 'a team admin credential is required', who ? {} : { 'WWW-Authenticate': 'Basic realm="chapter-telemetry team"' });
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(await opts.metricsText());
      return;
    }
    if (path.startsWith('/v1/members/') && opts.team && opts.memberData) return await handleMemberData(req, res, path, opts.team, opts.memberData.data, opts.memberData.controlToken, opts.isReady);
    if (path.startsWith('/v1/forward/') && opts.team && opts.forward) return await handleForward(req, res, path.slice('/v1/forward/'.length), opts.team, opts.forward);
    const signal = PATHS[path];
    if (!signal) {
      req.resume();
      return plainReply(res, 404, `unknown path ${path}: OTLP/HTTP accepts POST /v1/logs, /v1/metrics and /v1/traces`);
    }
    if (req.method !== 'POST') {
      req.resume();
      return plainReply(res, 405, `use POST for ${path}`, { Allow: 'POST' });
    }
    const encoding = encodingOf(req);
    if (!encoding) {
      req.resume();
      return plainReply(res, 415, `unsupported Content-Type "${req.headers['content-type'] ?? ''}": send application/x-protobuf or application/json`);
    }
    if (!opts.isReady()) {
      req.resume();
      return reply(res, 503, encoding, RPC.UNAVAILABLE, 'the telemetry store is starting or stopping; retry shortly', { 'Retry-After': '1' });
    }
    let team: TeamPolicy | undefined;
    let member: Awaited<ReturnType<TeamServing['authenticate']>>;
    if (opts.team) {
      const throttled = opts.team.authThrottled(req.socket.remoteAddress);
      member = await opts.team.authenticate(req.headers.authorization, req.socket.remoteAddress);
      if (!member) {
        opts.team.metrics.rejected('unknown', 'unauthenticated');
        req.resume();
        const wait = throttled;
        if (wait > 0) return reply(res, 429, encoding, RPC.RESOURCE_EXHAUSTED, `too many failed authentications from this address; retry after ${wait} s`, { 'Retry-After': String(wait) });
        return reply(res, 401, encoding, RPC.UNAUTHENTICATED, 'missing, wrong or revoked team credential: send Authorization: Bearer <secret> (OTEL_EXPORTER_OTLP_HEADERS)', { 'WWW-Authenticate': 'Bearer realm="chapter-telemetry team"' });
      }
      team = opts.team.policyFor(member);
    }
    // From here the export is on its way: an insert about to start waits for it, briefly (Ingest.announce).
    const arrived = handler.announce(signal);
    try {
      await receive(req, res, signal, encoding, team, member, arrived);
    } finally {
      arrived();
    }
  }

  async function receive(req: IncomingMessage, res: ServerResponse, signal: Signal, encoding: Encoding, team: TeamPolicy | undefined, member: Awaited<ReturnType<TeamServing['authenticate']>>, arrived: () => void): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, opts.maxBodyBytes);
    } catch (err) {
      const e = err as HttpError;
      if (opts.team && member) opts.team.metrics.rejected(member.name, e.status === 413 ? 'too_large' : 'invalid');
      return reply(res, e.status ?? 400, encoding, e.status === 413 ? RPC.RESOURCE_EXHAUSTED : RPC.INVALID_ARGUMENT, e.message);
    }
    if (opts.team && member) {
      const a = opts.team.admit(member, body.length);
      if (!a.ok) return reply(res, 429, encoding, RPC.RESOURCE_EXHAUSTED, `${member.name} is sending too fast (${a.reason}); retry after ${a.retryAfterSeconds} s`, { 'Retry-After': String(a.retryAfterSeconds) });
    }
    try {
      await handler.handle(signal, body, encoding, team, arrived);
      reply(res, 200, encoding, undefined, '');
    } catch (err) {
      if (err instanceof OtlpInputError) return reply(res, 400, encoding, RPC.INVALID_ARGUMENT, err.message);
      // Rows we built from a valid request are never the sender's fault: any store failure is "retry later".
      return reply(res, 503, encoding, RPC.UNAVAILABLE, `could not store the data, retry later: ${(err as Error).message}`, { 'Retry-After': '2' });
    }
  }

  /** A forwarding agent's batch: the same member auth and limits as an export; answers JSON. */
  async function handleForward(req: IncomingMessage, res: ServerResponse, table: string, team: TeamServing, forward: TeamForwardReceiver): Promise<void> {
    const json = (status: number, value: object, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      const body = JSON.stringify(value);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    if (req.method !== 'POST') {
      req.resume();
      return plainReply(res, 405, 'use POST for /v1/forward/<table>', { Allow: 'POST' });
    }
    if (!opts.isReady()) {
      req.resume();
      return json(503, { error: 'the team store is starting or stopping; retry shortly' }, { 'Retry-After': '1' });
    }
    const member = await team.authenticate(req.headers.authorization);
    if (!member) {
      team.metrics.rejected('unknown', 'unauthenticated');
      req.resume();
      return json(401, { error: 'missing, wrong or revoked team credential' }, { 'WWW-Authenticate': 'Bearer realm="chapter-telemetry team"' });
    }
    let body: Buffer;
    try {
      body = await readBody(req, opts.maxBodyBytes);
    } catch (err) {
      const e = err as HttpError;
      team.metrics.rejected(member.name, e.status === 413 ? 'too_large' : 'invalid');
      return json(e.status ?? 400, { error: e.message });
    }
    const a = team.admit(member, body.length);
    if (!a.ok) return json(429, { error: `${member.name} is sending too fast (${a.reason}); retry after ${a.retryAfterSeconds} s` }, { 'Retry-After': String(a.retryAfterSeconds) });
    try {
      const header = req.headers[FORWARD_GROUPS_HEADER];
      json(200, await forward.receive(decodeURIComponent(table), body, Array.isArray(header) ? header.join(',') : header, team.policyFor(member)));
    } catch (err) {
      const status = forwardFailureStatus(err);
      team.metrics.rejected(member.name, status === 400 ? 'invalid' : 'unavailable');
      return json(status, { error: status === 400 ? (err as Error).message : `could not store the rows, retry later: ${(err as Error).message}` }, status === 503 ? { 'Retry-After': '2' } : {});
    }
  }
}
