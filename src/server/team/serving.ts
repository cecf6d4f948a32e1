/**
 * What `npm start -- --team DIR` needs from the team directory at run time: TLS material, the live
 * members file with its authenticator, the privacy level, and per-member rate limits.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createAuthenticator, type Credentials } from './auth';
import { MembersFile, type Member } from './members';
import type { TeamPolicy } from './privacy';
import { FailureThrottle, MemberRateLimiter, sourceAddress, type Admission } from './rate-limit';
import { TeamMetrics } from './metrics';
import { readTeamConfig, teamPath, TEAM_CONFIG_FILE, type TeamConfig } from './team-config';

export interface TeamServing {
  dir: string;
  config: TeamConfig;
  tls: { cert: Buffer; key: Buffer; ca: Buffer };
  /**
   * The member these credentials name, or undefined. `source` (the client's address; else the one
   * `withRequestSource` recorded for the request being handled) is charged for a failure, and over
   * its failure budget gets no scrypt at all.
   */
  authenticate(credentials: Credentials, source?: string): Promise<Member | undefined>;
  /** Seconds `source` must wait before its next failed authentication is looked at (0: now). */
  authThrottled(source: string | undefined): number;
  /** One request of `bytes` by `member`: ok, or how long to wait (429 / RESOURCE_EXHAUSTED). */
  admit(member: Member, bytes: number): Admission;
  /** Identity and privacy applied to what `member` sends. */
  policyFor(member: Member): TeamPolicy;
  metrics: TeamMetrics;
}

export function openTeamServing(dir: string, log: (line: string) => void): TeamServing {
  const config = readTeamConfig(dir);
  const tls = {
    cert: readFileSync(teamPath(dir, config.tls.cert)),
    key: readFileSync(teamPath(dir, config.tls.key)),
    ca: readFileSync(teamPath(dir, config.tls.ca)),
  };
  const members = new MembersFile(dir, (m) => log(`team: ${m}`));
  const throttle = new FailureThrottle(config.limits.authFailuresPerMinute, config.limits.authFailureBurst);
  const auth = createAuthenticator(members, throttle);
  const limiter = new MemberRateLimiter(config.limits);
  // The privacy level follows team.json as it changes (`npm run team -- privacy …`), like members.json:
  // an admin tightening it should not need a restart. A broken file keeps the last good level.
  const configPath = join(dir, TEAM_CONFIG_FILE);
  let privacy = config.privacy;
  let signature = '';
  const currentPrivacy = () => {
    try {
      const st = statSync(configPath, { bigint: true });
      const sig = `${st.ino}:${st.size}:${st.mtimeNs}`;
      if (sig !== signature) {
        signature = sig;
        const next = readTeamConfig(dir).privacy;
        if (next !== privacy) log(`team: privacy is now ${next}`);
        privacy = next;
      }
    } catch (err) {
      log(`team: ${configPath} unreadable, keeping privacy ${privacy}: ${(err as Error).message}`);
    }
    return privacy;
  };
  currentPrivacy();
  const metrics = new TeamMetrics();
  return {
    metrics,
    dir, config, tls,
    authenticate: (c, source) => auth.authenticate(c, sourceAddress(source ?? requestSource.getStore())),
    authThrottled: (source) => {
      const s = sourceAddress(source);
      return s === undefined ? 0 : throttle.blockedFor(s);
    },
    admit: (m, bytes) => {
      const a = limiter.take(m.name, bytes);
      if (!a.ok) metrics.rejected(m.name, 'rate_limited');
      return a;
    },
    policyFor: (m) => ({ member: m.name, privacy: currentPrivacy(), onStored: (items, dropped) => metrics.accepted(m.name, items, dropped) }),
  };
}

/** The address of the client whose request is being handled (set by `withRequestSource`). */
const requestSource = new AsyncLocalStorage<string | undefined>();

/**
 * Runs every request handler of `server` with the client's address recorded, so an authentication
 * deep inside a handler that does not pass it along (the query gate) is still charged to its source.
 */
export function withRequestSource<S extends HttpServer | import('node:https').Server>(server: S): S {
  const handlers = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requestSource.run(req.socket.remoteAddress, () => {
      for (const h of handlers) h.call(server, req, res);
    });
  });
  return server;
}
