// What the VS Code tests share about the extension's own (embedded) stack: fresh ports and the settings that point
// the extension at them, SQL and the server's state as a test reads them, turning collection on from the status
// bar, and the teardown that stops the server the extension started detached.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { pidAlive } from '../../src/server/pid';
import type { ServerState } from '../../src/stack/server-state';
import { killStackServers, repoRoot, type VSCode } from './codeserver';
import { freePort } from './ports';
import { sqlOver } from './server';
import { runCommand, statusBarItem, waitForStatusBarText } from './vscode-ui';

export interface StackPorts { grpc: number; otlpHttp: number; http: number }

/** Three ports no other test of this process holds (the default ports are never used in tests). */
export async function freeStackPorts(): Promise<StackPorts> {
  return { grpc: await freePort(), otlpHttp: await freePort(), http: await freePort() };
}

/** The settings that make the extension run its embedded server from this checkout, on `ports`, storing in `dataDir`. */
export function localStackSettings(ports: StackPorts, dataDir: string): Record<string, unknown> {
  return {
    'chapterTelemetry.grpcPort': ports.grpc,
    'chapterTelemetry.otlpHttpPort': ports.otlpHttp,
    'chapterTelemetry.httpPort': ports.http,
    'chapterTelemetry.enginePath': repoRoot,
    'chapterTelemetry.dataDir': dataDir,
  };
}

/**
 * SIGTERMs the server the extension started: it is detached on purpose (it outlives a window), so closing VS Code
 * leaves it running; its pid is in the state file in the test's user-data dir. (`vs.close()` does it too.)
 */
export function killServerFromState(vs: VSCode | undefined): void {
  if (vs) killStackServers(vs.userDataDir);
}

/** SQL over the stack's ClickHouse HTTP port (anonymous, so read-only); the result text, trimmed. */
export async function stackSql(ports: StackPorts, query: string, params: Record<string, string> = {}): Promise<string> {
  return (await sqlOver(`http://127.0.0.1:${ports.http}/`, query, params)).trim();
}

/**
 * The embedded server's state file (server.json) in this VS Code's global storage, as the server wrote it (no
 * defaults filled in: a test asserting on a field must see it missing); undefined while there is none or it is
 * being rewritten.
 */
export function embeddedServerState(vs: VSCode): ServerState | undefined {
  const base = join(vs.userDataDir, 'User', 'globalStorage');
  for (const dir of existsSync(base) ? readdirSync(base) : []) {
    try {
      return JSON.parse(readFileSync(join(base, dir, 'server.json'), 'utf8')) as ServerState;
    } catch {
      // not this extension's folder, or being rewritten
    }
  }
  return undefined;
}

/** Live server processes (zombies left out) listening on `httpPort`: tells "attached" from "started a second one". */
export function serverPidsOnPort(httpPort: number): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('server.js') && l.includes(`--http-port ${httpPort}`) && !/^\s*\d+\s+Z/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

const STATUS = 'chapterTelemetry.status';

/** Once the extension is active (its status bar item says Telemetry Off), a click on the item turns collection on. */
export async function startCollectionFromStatusBar(page: Page, activeTimeoutMs = 60_000): Promise<void> {
  await waitForStatusBarText(page, STATUS, /Telemetry Off/, activeTimeoutMs);
  await statusBarItem(page, STATUS).click();
  await waitForStatusBarText(page, STATUS, /^Telemetry( · .+)?$/, 120_000);
}

/** What a test's `after` leaves to the teardown below besides VS Code: its fake API and its temp root. */
export interface TestLeftovers { fake?: { close(): Promise<unknown> }; root?: string }

async function removeLeftovers(o: TestLeftovers): Promise<void> {
  await o.fake?.close();
  if (o.root) rmSync(o.root, { recursive: true, force: true });
}

/**
 * The `after` of a test that launched VS Code on the local stack: stops collection through the palette first when
 * asked (best effort: a failed test may have left the window in any state), then kills the detached server and
 * closes VS Code (nothing of that if VS Code never started); then the fake API and the temp root, when given.
 */
export async function closeVSCodeAndStack(vs: VSCode | undefined, opts: { stopCollection: boolean } & TestLeftovers): Promise<void> {
  if (vs) {
    if (opts.stopCollection) await runCommand(vs.page, 'Chapter Telemetry: Stop Collection').catch(() => undefined);
    killServerFromState(vs);
    await vs.close();
  }
  await removeLeftovers(opts);
}

/**
 * The `after` of a test that kills and restarts servers under the extension: the server in the state file and
 * every one still on `ports.http` (a state file may be gone by then) are ended once VS Code is closed — they are
 * detached by design and outlive the window; then the fake API and the temp root, when given.
 */
export async function closeVSCodeAndServers(vs: VSCode | undefined, ports: StackPorts | undefined, opts: TestLeftovers): Promise<void> {
  const pids = new Set<number>(ports ? serverPidsOnPort(ports.http) : []);
  const st = vs ? embeddedServerState(vs) : undefined;
  if (st) pids.add(st.pid);
  await vs?.close();
  for (const pid of pids) if (pidAlive(pid)) process.kill(pid, 'SIGTERM');
  await removeLeftovers(opts);
}
