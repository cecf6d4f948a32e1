import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from '../../src/server/store/chdb';
import { applyMigrations, migrationsDir } from '../../src/server/migrations';

/**
 * The real engine with the real schema for the tests of a suite (or of the file, at the top level): a chDB
 * store in a fresh temp folder with every migration applied before them, closed and removed after them.
 * `ready` receives it: assign it to the suite's `store` and do the rest of the setup there (a second
 * top-level `before` is not awaited before this one in Node 20).
 */
export function migratedStorePerSuite(prefix: string, ready: (store: ChdbStore) => unknown): void {
  let dir: string | undefined;
  let store: ChdbStore | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    store = await ChdbStore.open(dir);
    await applyMigrations(store, migrationsDir());
    await ready(store);
  });
  after(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}
