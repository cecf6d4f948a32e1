/**
 * Delete My Data on the team server, the client side (contract: src/core/data/team-deletion.ts):
 * HTTPS to the team server's OTLP/HTTP port trusting only the team CA, the member's secret as a
 * bearer token (never in a URL). Used by the extension (central branch of Delete My Data) and by
 * `npm run team -- delete-member-data` (with the server's control token instead of a secret).
 */
import { request } from 'node:https';
import { memberDataPath, SELF, type MemberDataCounts, type MemberDeletion } from '../core/data/team-deletion';

/** Where the team server is: the bundle's / forward.json's `otlp_http` and `ca_pem`. */
export interface TeamDataConnection {
  otlp_http: string;
  ca_pem: string;
}

export class TeamDataError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'TeamDataError';
  }
}

/** One request to `/v1/members/<member>/(data|delete)`; the parsed JSON answer. */
export function memberDataRequest<T>(connection: TeamDataConnection, bearer: string, member: string, what: 'data' | 'delete', timeoutMs = 600_000): Promise<T> {
  const url = new URL(memberDataPath(member, what), connection.otlp_http);
  return new Promise<T>((resolve, reject) => {
    const req = request(url, {
      method: what === 'data' ? 'GET' : 'POST',
      ca: connection.ca_pem,
      agent: false,
      timeout: timeoutMs,
      headers: { Authorization: `Bearer ${bearer}`, 'Content-Length': 0 },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: { error?: string } | undefined;
        try {
          body = JSON.parse(text) as { error?: string };
        } catch {
          body = undefined;
        }
        if (res.statusCode === 200 && body) return resolve(body as T);
        reject(new TeamDataError(`the team server answered ${res.statusCode}: ${(body?.error ?? text).trim().slice(0, 400)}`, res.statusCode));
      });
      res.on('error', (err) => reject(new TeamDataError(`the team server's answer broke off: ${err.message}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err) => reject(err instanceof TeamDataError ? err : new TeamDataError(`cannot reach the team server at ${connection.otlp_http}: ${err.message}`)));
    req.end();
  });
}

/** The member's own rows on the team server, per table (what Delete My Data would delete). */
export function countMyTeamData(connection: TeamDataConnection, secret: string): Promise<MemberDataCounts> {
  return memberDataRequest<MemberDataCounts>(connection, secret, SELF, 'data');
}

/**
 * Deletes every row of the member on the team server, at once; the answer has the counts deleted
 * and the counts afterwards (`after.total` is 0 unless the member's own exports arrived meanwhile).
 */
export function deleteMyTeamData(connection: TeamDataConnection, secret: string): Promise<MemberDeletion> {
  return memberDataRequest<MemberDeletion>(connection, secret, SELF, 'delete');
}
