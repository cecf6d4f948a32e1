/**
 * "Test the connection" of Centralize Telemetry, before anything changes on this machine: one test
 * OTLP log record sent to the team server's OTLP/HTTP endpoint with the member's secret, then read
 * back through the team's ClickHouse HTTPS endpoint with the member's credential. Both trust ONLY
 * the team CA from the bundle (Node's `ca` option replaces the system roots), so a pasted bundle can
 * never send the secret to a server the team CA did not sign. The read-back shows who the SERVER
 * stored the record under: the identity the team decided, not one this machine claims.
 *
 * No `vscode` import: the server tier tests it against a real team server in a network namespace.
 */
import { request } from 'node:https';
import { randomUUID } from 'node:crypto';
import { connectionTestRequest, CONNECTION_TEST_READ_SQL } from '../core/centralize';
import type { TeamEndpoints } from '../core/team-bundle';

/** The team CA (ca_pem) is the only certificate trusted for both URLs. */
export type ProbeTarget = TeamEndpoints;

export type ProbeStage = 'send' | 'read';

export interface ProbeResult {
  /** The test record was accepted by the team server with this secret. */
  delivered: boolean;
  /**
   * read: the record came back under `storedAs`; not-allowed: the server refuses reads for this role
   * (delivery alone proves the credential); failed: the read failed otherwise (see error).
   */
  readBack?: 'read' | 'not-allowed' | 'failed';
  /** The member name the server stamped on the record (read back). */
  storedAs?: string;
  marker: string;
  /** What went wrong, in a sentence an author can act on. */
  error?: string;
  stage?: ProbeStage;
}

/** A Node/TLS error code → what it means for the author. */
export function explainNetworkError(err: unknown, url: string): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const host = (() => { try { return new URL(url).host; } catch { return url; } })();
  switch (e.code) {
    case 'ECONNREFUSED':
      return `Nothing answers at ${host} (connection refused): the team server is not running there, or a firewall blocks the port. Ask your team admin.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `The team server's name ${host} does not resolve from this machine (DNS). Check your network or VPN.`;
    case 'ETIMEDOUT':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `The team server at ${host} cannot be reached (${e.code}). Check your network or VPN.`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_SIGNATURE_FAILURE':
      return `The server at ${host} presented a certificate the team CA did not sign (${e.code}): this is not your team's server, or the bundle belongs to another team. Nothing was sent.`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `The server's certificate does not name ${host}: the bundle's address and the server's certificate disagree. Ask your team admin for a new bundle.`;
    case 'CERT_HAS_EXPIRED':
      return `The team server's certificate has expired. Ask your team admin to renew it.`;
    default:
      return `${(e.message || String(err)).trim()}${e.code ? ` (${e.code})` : ''}`;
  }
}

function post(url: string, body: string, ca: string, secret: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST', ca, agent: false, timeout: timeoutMs,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Authorization: `Bearer ${secret}` },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (text.length < 4096) text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

function statusError(status: number, text: string, what: string): string {
  const detail = text.trim().slice(0, 200);
  if (status === 401) return `The team server refused the member's secret (401) on ${what}: it is wrong, was rotated, or the member was removed. Ask your team admin for a new bundle.`;
  if (status === 403) return `The team server does not allow this on ${what} for this member (403)${detail ? `: ${detail}` : ''}.`;
  if (status === 429 || status === 503) return `The team server is busy (${status}) on ${what}; try again in a minute.`;
  return `The team server answered ${status} on ${what}${detail ? `: ${detail}` : ''}.`;
}

/** Sends the test record and reads it back. Never throws: the result says what worked. */
export async function probeTeam(t: ProbeTarget, secret: string, opts: { timeoutMs?: number; version?: string; marker?: string } = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const marker = opts.marker ?? `ct-connection-test-${randomUUID()}`;
  const logsUrl = `${t.otlp_http.replace(/\/+$/, '')}/v1/logs`;
  try {
    const r = await post(logsUrl, JSON.stringify(connectionTestRequest(marker, new Date(), opts.version)), t.ca_pem, secret, timeoutMs);
    if (r.status < 200 || r.status >= 300) return { delivered: false, marker, stage: 'send', error: statusError(r.status, r.text, 'the OTLP endpoint') };
  } catch (err) {
    return { delivered: false, marker, stage: 'send', error: explainNetworkError(err, logsUrl) };
  }
  const { createClient, ClickHouseError, ClickHouseLogLevel } = await import('@clickhouse/client');
  const client = createClient({
    url: t.query_url, username: t.member, password: secret,
    tls: { ca_cert: Buffer.from(t.ca_pem) },
    request_timeout: timeoutMs, keep_alive: { enabled: false },
    application: 'chapter-telemetry-centralize', log: { level: ClickHouseLogLevel.OFF },
  });
  try {
    const rs = await client.query({ query: CONNECTION_TEST_READ_SQL, query_params: { marker }, format: 'JSONEachRow' });
    const rows = await rs.json<{ member: string; n: number | string }>();
    if (rows.length === 0) return { delivered: true, readBack: 'failed', marker, stage: 'read', error: 'The team server accepted the test record but does not show it: ask your team admin to look at the server\'s log.' };
    return { delivered: true, readBack: 'read', storedAs: rows[0]!.member, marker };
  } catch (err) {
    // The code: ClickHouseError's, or the `Code: N.` the server's text starts with (the client keeps such a body as the message).
    const code = err instanceof ClickHouseError ? err.code : /^Code: (\d+)\./.exec((err as Error).message ?? '')?.[1];
    if (code === '497' || code === '516') {
      // 497: this role may not read here (the server's reads are role-scoped); 516: the read credential is refused.
      return code === '497'
        ? { delivered: true, readBack: 'not-allowed', marker, stage: 'read', error: `The team server does not let a ${t.role} read records back yet (${(err as Error).message.trim()}); delivery with your secret worked.` }
        : { delivered: true, readBack: 'failed', marker, stage: 'read', error: statusError(401, '', 'the query endpoint') };
    }
    return { delivered: true, readBack: 'failed', marker, stage: 'read', error: code ? (err as Error).message.trim() : explainNetworkError(err, t.query_url) };
  } finally {
    await client.close();
  }
}
