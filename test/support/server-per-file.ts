// Kept apart from server.ts: that module is imported by the benches too, which must not register node:test hooks.
import { after, before } from 'node:test';
import { rmSync } from 'node:fs';
import { startServer, type RunningServer } from './server';

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
    if (!srv) return;
    await srv.stop();
    rmSync(srv.dataDir, { recursive: true, force: true });
  });
}
