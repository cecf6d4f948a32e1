/**
 * Client sessions (`session_id`) in the store itself: a session must survive a failed statement (its
 * temporary tables are the client's work), yet the engine can hand a failed non-streamed statement's
 * rows to the next answer on the same session (measured on chDB 26.7 with throwIf and
 * max_block_size = 1). The store takes them with a marker query before the session serves again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from '../../src/server/store/chdb';
import type { SessionRef } from '../../src/server/store/types';

let store: ChdbStore;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ct-sessions-'));
  store = await ChdbStore.open(dir);
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const session: SessionRef = { id: 'leak-check', timeoutSeconds: 60, check: false };

test("a failed statement's rows never reach the session's next answer, and the session keeps its temporary table", async () => {
  await store.query('CREATE TEMPORARY TABLE mine (x UInt8)', { identity: 'writer', session });
  await store.query('INSERT INTO mine VALUES (4)', { identity: 'writer', session });
  await assert.rejects(
    store.query("SELECT number n, throwIf(number = 10, 'boom') e FROM system.numbers LIMIT 100 SETTINGS max_block_size = 1", { identity: 'writer', session, format: 'JSONEachRow' }),
    /boom/,
  );
  const next = await store.query('SELECT sum(x) AS s FROM mine', { identity: 'writer', session, format: 'JSONEachRow' });
  assert.equal(next.toString(), '{"s":4}\n');
});

test('the same id for the reader is another session; a busy session answers 373', async () => {
  await assert.rejects(store.query('SELECT * FROM mine', { identity: 'reader', session }), (err: Error & { clickhouseCode?: number }) => err.clickhouseCode === 60);
  const slow = store.query('SELECT sleep(1)', { identity: 'writer', session });
  await assert.rejects(store.query('SELECT 1', { identity: 'writer', session }), (err: Error & { clickhouseCode?: number }) => err.clickhouseCode === 373);
  await slow;
  assert.equal((await store.query('SELECT 1', { identity: 'writer', session })).toString(), '1\n');
});

test('client sessions are bounded per identity: readers opening many cannot use up the writer\'s', async () => {
  const opened: SessionRef[] = [];
  let refused: (Error & { clickhouseCode?: number }) | undefined;
  for (let i = 0; i < 40 && !refused; i++) {
    const ref = { id: `many-${i}`, timeoutSeconds: 60, check: false };
    try {
      await store.query('SELECT 1', { identity: 'reader', session: ref });
      opened.push(ref);
    } catch (err) {
      refused = err as Error & { clickhouseCode?: number };
    }
  }
  assert.equal(refused?.clickhouseCode, 202, 'the readers were never refused');
  assert.ok(opened.length > 0);
  // The writer still gets a session of its own.
  assert.equal((await store.query('SELECT 2', { identity: 'writer', session: { id: 'writer-after-many', timeoutSeconds: 60, check: false } })).toString(), '2\n');
});
