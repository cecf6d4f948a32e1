// Kept apart from server.ts: that module is imported by the benches too, which must not register node:test hooks.
import { after, before } from 'node:test';
import { rmSync } from 'node:fs';
import { startServer, stopAndRemove, type RunningServer } from './server';

/**
 * One embedded server (fresh data directory, free ports) shared by a test file: started before its
 * tests, stopped and its data directory removed after them. `ready` receives it once it answers: assign
 * it to the file's `srv` and do the file's other setup there, not in a second top-level `before` — Node 20
 * starts a file's top-level `before` hooks without awaiting one another, so that one could run first.
 */
export function serverPerFile(ready: (srv: RunningServer) => unknown): void {
  let srv: RunningServer | undefined;
  before(async () => {
    srv = await startServer();
    await ready(srv);
  });
  after(async () => {
    if (srv) await stopAndRemove(srv);
  });
}

/**
 * Embedded servers a suite starts as it goes: `start()` on a fresh data directory, `start(dataDir)` to
 * restart on one a stopped server left. After the suite's tests (before the `after` hooks it registers
 * later) every one is killed and every data directory removed.
 */
export function serversPerSuite(): (dataDir?: string) => Promise<RunningServer> {
  const started: RunningServer[] = [];
  after(async () => {
    for (const s of started) await s.stop('SIGKILL');
    for (const dir of new Set(started.map((s) => s.dataDir))) rmSync(dir, { recursive: true, force: true });
  });
  return async (dataDir) => {
    const s = await startServer({ dataDir });
    started.push(s);
    return s;
  };
}
