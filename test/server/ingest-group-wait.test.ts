/**
 * Group commit with a bounded grouping wait (issue 12), on the real engine and schema:
 * - the first export of a busy spell is inserted at once; exports that arrive while an insert runs
 *   gather for the next one, which waits (bounded) until enough rows are there, and each export is
 *   acknowledged only once the insert carrying it committed;
 * - a group whose insert fails for a bad export's sake: its neighbours are stored and acknowledged,
 *   only the bad one is refused;
 * - a group whose insert fails for a passing reason (disk full) is refused as a whole and kept in
 *   doubt; the senders' retries then find every row stored exactly once (raw table and views);
 * - exports announced by a receiver (request arrived, body still being read or decoded) hold an insert
 *   about to start until they are handed over, also the first insert of a busy spell; the hold is bounded,
 *   and a lone export on a quiet server is inserted at once; an announced export of another signal (a metrics
 *   upload) never holds a logs insert, and its hand-over does not end a logs insert's wait for a logs export;
 * - right after an insert that carried several exports, the next export gathers even though it found the queue idle.
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

/** Which exports (by first record number) each otel_logs insert carried, in order. */
const carried = (body: Buffer, session: string) => [...body.toString('utf8').matchAll(new RegExp(`"${session}-(\\d+)"`, 'g'))].map((m) => Number(m[1])).filter((n) => n % 10 === 0);

/**
 * The real store, watched: `onInsert` runs when an otel_logs insert starts (its exports), `onCommit`
 * after it committed; `fault` replaces the engine's answer to chosen inserts (after or instead of it).
 */
function watched(o: { onInsert?: (firsts: number[]) => void; onCommit?: (firsts: number[]) => void; fault?: (firsts: number[]) => 'after' | 'instead' | undefined; session: string }): Store {
  return Object.create(store, {
    insertJsonEachRow: {
      value: async (table: string, body: Buffer, options: { dedupToken?: string }) => {
        const firsts = table === 'otel_logs' ? carried(body, o.session) : [];
        if (table === 'otel_logs') o.onInsert?.(firsts);
        const fault = table === 'otel_logs' ? o.fault?.(firsts) : undefined;
        if (fault !== 'instead') await store.insertJsonEachRow(table, body, options);
        if (fault) throw new StoreError('Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)', 243, false);
        if (table === 'otel_logs') o.onCommit?.(firsts);
      },
    },
  });
}

describe('group commit with a bounded grouping wait (Ingest on chDB)', () => {
  migratedStorePerSuite('ct-ingest-group-', (s) => (store = s));

  test('exports arriving during an insert and during the wait share the next insert; each is acknowledged after its commit', async () => {
    const inserts: number[][] = [];
    const acked: Array<{ first: number; committed: boolean }> = [];
    const committed = new Set<number>();
    let ingest!: Ingest;
    const send = (first: number) => ingest.write(exportRows('group', first, 10)).then(() => acked.push({ first, committed: committed.has(first) }));
    let c: Promise<unknown> | undefined;
    const s = watched({
      session: 'group',
      onInsert: (f) => inserts.push(f),
      onCommit: (f) => {
        for (const x of f) committed.add(x);
        // After the first insert committed, the queue gathers: the export sent now joins b's insert.
        if (f.includes(0)) c = send(20);
      },
    });
    // The wait is ended by rows (20), never by its (long) bound here: the grouping is not left to timing.
    ingest = new Ingest(s, { groupWaitMs: 60_000, groupRows: 20 });
    const a = send(0);
    const b = send(10);
    await Promise.all([a, b]);
    await c;
    assert.deepEqual(inserts, [[0], [10, 20]], 'a alone (quiet server: at once), then b and c together');
    assert.deepEqual(acked.map((x) => x.committed), [true, true, true], 'every acknowledgement came after its commit');
    assert.deepEqual(await counts('group'), { raw: 30, distinct: 30, events: 30 });
  });

  test('the wait is bounded: an export alone after an insert goes in without another arriving', async () => {
    const inserts: number[][] = [];
    const ingest = new Ingest(watched({ session: 'bound', onInsert: (f) => inserts.push(f) }), { groupWaitMs: 20, groupRows: 1_000_000 });
    await Promise.all([ingest.write(exportRows('bound', 0, 10)), ingest.write(exportRows('bound', 10, 10))]);
    assert.deepEqual(inserts, [[0], [10]]);
    assert.equal((await counts('bound')).raw, 20);
  });

  test('a bad export in a group fails alone; its neighbours are stored and acknowledged', async () => {
    const inserts: number[][] = [];
    const ingest = new Ingest(watched({ session: 'bad', onInsert: (f) => inserts.push(f) }), { groupWaitMs: 60_000, groupRows: 20 });
    const bad: TableRows = new Map([['otel_logs', ['{"Timestamp":"not a time","Body":"x","LogAttributes":{"session.id":"bad","record.id":"bad-30"}}']]]);
    const results = await Promise.allSettled([
      ingest.write(exportRows('bad', 0, 10)),
      ingest.write(exportRows('bad', 10, 10)),
      ingest.write(bad),
      ingest.write(exportRows('bad', 20, 10)),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((results[2] as PromiseRejectedResult).reason), /Cannot parse|not a time|DateTime/i);
    assert.deepEqual(inserts[0], [0]);
    assert.deepEqual(inserts[1], [10, 30, 20], 'b, the bad one (30) and d went as one insert first');
    assert.deepEqual(await counts('bad'), { raw: 30, distinct: 30, events: 30 });
  });

  test('a group refused for a passing reason (disk full) is refused whole, kept in doubt, and every retry is stored once', async () => {
    let faults = 0;
    const ingest = new Ingest(watched({ session: 'full', fault: (f) => (f.length > 1 && faults++ === 0 ? 'after' : undefined) }), { groupWaitMs: 60_000, groupRows: 20 });
    const [a, b, c] = [0, 10, 20].map((first) => exportRows('full', first, 10));
    const results = await Promise.allSettled([ingest.write(a!), ingest.write(b!), ingest.write(c!)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected']);
    await ingest.write(b!);
    await ingest.write(c!);
    assert.deepEqual(await counts('full'), { raw: 30, distinct: 30, events: 30 });
  });

  test('exports announced while an insert is about to start join it, also the first of a busy spell', async () => {
    const inserts: number[][] = [];
    // Neither bound ends a wait here (60 s): only the hand-overs do, so the grouping is not left to timing.
    const ingest = new Ingest(watched({ session: 'arrive', onInsert: (f) => inserts.push(f) }), { groupWaitMs: 60_000, groupRows: 1_000_000, arrivalWaitMs: 60_000 });
    // Four senders' requests arrive together; the server decodes and hands them over one by one.
    const arrivals = [0, 10, 20, 30].map(() => ingest.announce('logs'));
    const acks: Array<Promise<void>> = [];
    for (const [i, first] of [0, 10, 20, 30].entries()) {
      acks.push(ingest.write(exportRows('arrive', first, 10)));
      arrivals[i]!();
      // A decode takes a while: the insert must not start in between.
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(acks);
    assert.deepEqual(inserts, [[0, 10, 20, 30]], 'one insert for the four exports');
    assert.deepEqual(await counts('arrive'), { raw: 40, distinct: 40, events: 40 });
  });

  test('a lone announced export on a quiet server goes in at once; a hand-over counts once; an announced export that never comes holds an insert only for the bound', async () => {
    const inserts: number[][] = [];
    const lone = new Ingest(watched({ session: 'lone', onInsert: (f) => inserts.push(f) }), { groupWaitMs: 60_000, groupRows: 1_000_000, arrivalWaitMs: 60_000 });
    const arrived = lone.announce('logs');
    const ack = lone.write(exportRows('lone', 0, 10));
    arrived();
    arrived();
    // With the 60 s bounds, this resolves only if nothing waited.
    await ack;
    const other = lone.announce('logs');
    const ack2 = lone.write(exportRows('lone', 10, 10));
    other();
    await ack2;
    assert.deepEqual(inserts, [[0], [10]], 'the second hand-over of the first export did not count for the second');

    const held: number[][] = [];
    const slow = new Ingest(watched({ session: 'slow', onInsert: (f) => held.push(f) }), { groupRows: 1_000_000, arrivalWaitMs: 30 });
    // A request whose body never finishes arriving: announced, never handed over.
    slow.announce('logs');
    await slow.write(exportRows('slow', 0, 10));
    assert.deepEqual(held, [[0]]);
    assert.equal((await counts('slow')).raw, 10);
  });

  test('an insert waits only for announced exports of its own signal', async () => {
    const inserts: number[][] = [];
    const ingest = new Ingest(watched({ session: 'signal', onInsert: (f) => inserts.push(f) }), { groupWaitMs: 60_000, groupRows: 1_000_000, arrivalWaitMs: 60_000 });
    // A metrics request whose body is still uploading: announced, not handed over.
    const metrics = ingest.announce('metrics');
    // With the 60 s bounds, this resolves only if the logs insert did not wait for the metrics export.
    await ingest.write(exportRows('signal', 0, 10));
    // A logs export and a metrics export on their way: the metrics hand-over must not start the logs insert early.
    const logs = ingest.announce('logs');
    const more = ingest.announce('metrics');
    const a = ingest.write(exportRows('signal', 10, 10));
    more();
    metrics();
    await new Promise((r) => setImmediate(r));
    const b = ingest.write(exportRows('signal', 20, 10));
    logs();
    await Promise.all([a, b]);
    assert.deepEqual(inserts, [[0], [10, 20]]);
    assert.deepEqual(await counts('signal'), { raw: 30, distinct: 30, events: 30 });
  });

  test('right after an insert of several exports, the next export waits for company even when the queue was idle', async () => {
    const inserts: number[][] = [];
    const ingest = new Ingest(watched({ session: 'busy', onInsert: (f) => inserts.push(f) }), { groupWaitMs: 60_000, groupRows: 20 });
    // A busy spell: a alone (at once), then b and c together.
    await Promise.all([0, 10, 20].map((first) => ingest.write(exportRows('busy', first, 10))));
    // Their senders come back: d finds the queue idle, but several senders were active a moment ago.
    const d = ingest.write(exportRows('busy', 30, 10));
    await new Promise((r) => setImmediate(r));
    const e = ingest.write(exportRows('busy', 40, 10));
    await Promise.all([d, e]);
    assert.deepEqual(inserts, [[0], [10, 20], [30, 40]]);
    assert.deepEqual(await counts('busy'), { raw: 50, distinct: 50, events: 50 });
  });
});

