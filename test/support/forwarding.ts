/** The forwarding agent seen from a test: a member's forward.json and a local server's `GET /forward/status`. */
import assert from 'node:assert/strict';
import type { IssuedMember } from '../../src/server/team/admin';
import type { ForwardConfig, ForwardStatus } from '../../src/core/forward-config';
import { eventually } from './otlp';
import type { RunningServer } from './server';

/** forward.json for member `m` (enabled, privacy and history 'all'), with `over` on top. */
export function forwardConfig(m: IssuedMember, over: Partial<ForwardConfig> = {}): ForwardConfig {
  return { version: 1, enabled: true, team: m.team, member: m.member, role: m.role, otlp_http: m.otlp_http, query_url: m.query_url, ca_pem: m.ca_pem, secret: m.secret, privacy: 'all', history: 'all', ...over };
}

export async function forwardStatus(s: RunningServer): Promise<ForwardStatus> {
  const r = await fetch(`${s.httpUrl}/forward/status`);
  assert.equal(r.status, 200);
  return (await r.json()) as ForwardStatus;
}

/** Waits until everything local is delivered (state idle, empty queue) and returns that status. */
export async function forwardSettled(s: RunningServer, deadlineMs = 120_000): Promise<ForwardStatus> {
  let last: ForwardStatus | undefined;
  await eventually(async () => {
    last = await forwardStatus(s);
    return last.state === 'idle' && last.queue_rows === 0;
  }, () => `${JSON.stringify(last)}\n${s.output().slice(-2000)}`, deadlineMs);
  return last!;
}
