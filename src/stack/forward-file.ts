/**
 * The extension's side of forward.json (src/core/forward-config.ts): written owner-only and
 * atomically (a temp file in the same folder, then rename), so the server never reads half a file
 * and the secret is never readable by others, not even for a moment.
 */
import { chmodSync, mkdirSync, openSync, closeSync, renameSync, rmSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { clientHost } from '../core/otel-env';
import { FORWARD_CONFIG_FILE, type ForwardConfig, type ForwardStatus, type PullBackResult } from '../core/forward-config';
import { StackError, type WriterCredentials } from './types';

export function forwardConfigPath(dataDir: string): string {
  return join(dataDir, FORWARD_CONFIG_FILE);
}

export function writeForwardConfig(dataDir: string, cfg: ForwardConfig): void {
  mkdirSync(dataDir, { recursive: true });
  const final = forwardConfigPath(dataDir);
  const tmp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
  // Created 0600 (not chmod-ed after), so no other user can open it between create and chmod.
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(cfg, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(tmp, 0o600); // a umask cannot widen it, but an odd filesystem might have
    renameSync(tmp, final);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export function removeForwardConfig(dataDir: string): void {
  rmSync(forwardConfigPath(dataDir), { force: true });
}

/** GET /forward/status on the local ClickHouse HTTP port (loopback, anonymous: the answer holds no secret). */
export async function readForwardStatus(host: string, httpPort: number, timeoutMs = 5000): Promise<ForwardStatus> {
  const h = clientHost(host);
  const url = `http://${h.includes(':') ? `[${h}]` : h}:${httpPort}/forward/status`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new StackError('unhealthy', `The telemetry server did not answer ${url}: ${(err as Error).message}.`, 'Open Show Logs, then Restart.');
  }
  const text = await res.text();
  if (!res.ok) throw new StackError('unhealthy', `The telemetry server answered ${res.status} to /forward/status: ${text.trim().slice(0, 300)}.`, 'Update the extension so the server knows forwarding, then Restart.');
  return JSON.parse(text) as ForwardStatus;
}

/**
 * POST /forward/pull-back on the local ClickHouse HTTP port as the writer (basic auth, never in the
 * URL): the running server reads the member credential from its forward.json and copies the
 * member's own rows the local store lacks (src/server/forward/pull-back.ts). No timeout by default:
 * a long history takes as long as it takes; `signal` cancels the wait (the server finishes the table).
 */
export async function requestPullBack(host: string, httpPort: number, writer: WriterCredentials, signal?: AbortSignal): Promise<PullBackResult> {
  const h = clientHost(host);
  const url = `http://${h.includes(':') ? `[${h}]` : h}:${httpPort}/forward/pull-back`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', signal, headers: { Authorization: `Basic ${Buffer.from(`${writer.user}:${writer.password}`).toString('base64')}` } });
  } catch (err) {
    throw new StackError('unhealthy', `The telemetry server did not answer ${url}: ${(err as Error).message}.`, 'Open Show Logs, then try again.');
  }
  const text = await res.text();
  if (!res.ok) {
    let said = text.trim();
    try {
      said = (JSON.parse(text) as { error?: string }).error ?? said;
    } catch {
      /* plain text */
    }
    const hint = res.status === 409 ? 'Pull back before forgetting the team connection (Revert to Local does it in that order).' : res.status === 502 ? 'Check the connection to the team server, then pull back again: nothing is counted twice.' : 'Open Show Logs, then try again.';
    throw new StackError('unhealthy', `Pull-back failed (${res.status}): ${said.slice(0, 400)}`, hint);
  }
  return JSON.parse(text) as PullBackResult;
}
