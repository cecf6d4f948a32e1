/**
 * Exactly once across a lost memory (a restart): `Ingest` on the real engine with the real schema.
 * A fresh `Ingest` on the same store stands for the server after a crash: it remembers nothing, so
 * only the engine's insert deduplication (the block tokens it keeps on disk) can recognise a retry.
 * - one insert per export (the team server's mode): an export that was committed inside a burst
 *   and is retried alone afterwards is stored once, in the raw table and in the views;
 * - group commit (the local server's mode) does not have that property (a batch's token is none of
 *   its exports' tokens): shown here so the reason for the team server's mode stays measured;
 * - `storeExport(rows, {token})` (for forwarders' batches): the same key is stored once, also after
 *   a restart; another key with the same rows is another export;
 * - one insert per export keeps the in-doubt rule: after an insert whose outcome is unknown (the engine
 *   committed it, then reported a passing error, as a disk filling up mid-insert can), later exports go
 *   in only after it was repaired, and while the repair fails they are refused with nothing stored.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChdbStore } from '../../src/server/store/chdb';
import { Ingest } from '../../src/server/ingest';
import { StoreError, type Store } from '../../src/server/store/types';
import type { TableRows } from '../../src/server/otlp/rows';
import { exportRows, sessionCounts } from '../support/ingest-records';
import { migratedStorePerSuite } from '../support/migrated-store';

let store: ChdbStore;

const counts = (session: string) => sessionCounts(store, session);

/** Three exports sent together: the first goes in alone, the other two wait and form one batch. */
async function burst(ingest: Ingest, session: string): Promise<TableRows[]> {
  const exports = [0, 10, 20].map((first) => exportRows(session, first, 10));
  await Promise.all(exports.map((rows) => ingest.write(rows)));
  return exports;
}

describe('exactly once after a restart (Ingest on chDB)', () => {
  migratedStorePerSuite('ct-ingest-once-', (s) => (store = s));

  test('one insert per export: a burst, then each export retried by a restarted server, stored once (raw and views)', async () => {
    const exports = await burst(new Ingest(store, { groupCommit: false }), 'solo');
    assert.deepEqual(await counts('solo'), { raw: 30, distinct: 30, events: 30 });
    const restarted = new Ingest(store, { groupCommit: false });
    for (const rows of exports) await restarted.write(rows);
    assert.deepEqual(await counts('solo'), { raw: 30, distinct: 30, events: 30 });
  });

  test('group commit: the export committed inside a batch, retried alone after a restart, is stored twice (why team servers do not batch)', async () => {
    const exports = await burst(new Ingest(store), 'grouped');
    assert.deepEqual(await counts('grouped'), { raw: 30, distinct: 30, events: 30 });
    // The first export went in on its own (its token is its own): a retry of it is recognised.
    await new Ingest(store).write(exports[0]!);
    assert.equal((await counts('grouped')).raw, 30);
    // The last one was committed in a batch with the second: retried alone, it is a new block.
    await new Ingest(store).write(exports[2]!);
    assert.deepEqual(await counts('grouped'), { raw: 40, distinct: 30, events: 40 });
  });

  test('storeExport with a key: the same key stored once, also after a restart; another key is another export', async () => {
    const rows = exportRows('keyed', 0, 5);
    await new Ingest(store, { groupCommit: false }).storeExport(rows, { token: 'alice:batch-1' });
    await new Ingest(store, { groupCommit: false }).storeExport(rows, { token: 'alice:batch-1' });
    assert.equal((await counts('keyed')).raw, 5);
    const other = exportRows('keyed', 5, 5);
    await new Ingest(store, { groupCommit: false }).storeExport(other, { token: 'alice:batch-2' });
    await new Ingest(store, { groupCommit: true }).storeExport(other, { token: 'alice:batch-2' });
    assert.deepEqual(await counts('keyed'), { raw: 10, distinct: 10, events: 10 });
  });

  test('queuedExports counts exports waiting for their insert and returns to 0', async () => {
    const ingest = new Ingest(store, { groupCommit: false });
    const pending = [0, 1, 2, 3].map((i) => ingest.write(exportRows('queue', i * 3, 3)));
    assert.equal(ingest.queuedExports, 4);
    await Promise.all(pending);
    assert.equal(ingest.queuedExports, 0);
    assert.equal((await counts('queue')).raw, 12);
  });

  test('one insert per export, an insert in doubt: the next export waits for its repair, refused while it fails; the retry is stored once', async () => {
    // The real store, with the engine's answer to chosen otel_logs inserts replaced by "not enough space"
    // after (`after`) or instead of (`instead`) the insert: the outcomes a full disk gives.
    const faults: Array<'after' | 'instead' | undefined> = [];
    const inserts: string[] = [];
    const which = (body: Buffer) => (body.includes('"doubt-0"') ? 'a' : body.includes('"doubt-10"') ? 'b' : body.includes('"doubt-20"') ? 'c' : 'z');
    const faulty: Store = Object.create(store, {
      insertJsonEachRow: {
        value: async (table: string, body: Buffer, options: { dedupToken?: string }) => {
          const fault = table === 'otel_logs' ? faults.shift() : undefined;
          if (table === 'otel_logs') inserts.push(`${which(body)}:${fault ?? 'ok'}`);
          if (fault !== 'instead') await store.insertJsonEachRow(table, body, options);
          if (fault) throw new StoreError('Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)', 243, false);
        },
      },
    });
    const ingest = new Ingest(faulty, { groupCommit: false });
    const [z, a, b, c] = [100, 0, 10, 20].map((first) => exportRows('doubt', first, 10));
    // z goes in alone; a and b wait and are taken together. a: committed, then reported failed (in doubt);
    // before b, a's repair is tried and fails: b is refused untried.
    faults.push(undefined, 'after', 'instead');
    const results = await Promise.allSettled([ingest.write(z!), ingest.write(a!), ingest.write(b!)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected']);
    assert.deepEqual(inserts, ['z:ok', 'a:after', 'a:instead'], 'b was not inserted while a was in doubt');
    assert.equal((await counts('doubt')).raw, 20);
    // The senders retry: the repair (a again, same token) goes first and is a no-op; a's retry is answered from it.
    await ingest.write(a!);
    await ingest.write(b!);
    await ingest.write(c!);
    assert.deepEqual(inserts.slice(3), ['a:ok', 'b:ok', 'c:ok']);
    assert.deepEqual(await counts('doubt'), { raw: 40, distinct: 40, events: 40 });
  });
});
