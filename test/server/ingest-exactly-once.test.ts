/**
 * Exactly once across a lost memory (a restart): `Ingest` on the real engine with the real schema.
 * A fresh `Ingest` on the same store stands for the server after a crash: it remembers nothing, so
 * only the engine's insert deduplication (the block tokens it keeps on disk) can recognise a retry.
 * - one insert per export (the team server's mode): an export that was committed inside a burst
 *   and is retried alone afterwards is stored once, in the raw table and in the views;
 * - group commit (the local server's mode) does not have that property (a batch's token is none of
 *   its exports' tokens): shown here so the reason for the team server's mode stays measured;
 * - `storeExport(rows, {token})` (for forwarders' batches): the same key is stored once, also after
 *   a restart; another key with the same rows is another export.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from '../../src/server/store/chdb';
import { applyMigrations, migrationsDir } from '../../src/server/migrations';
import { Ingest } from '../../src/server/ingest';
import { decodeExport } from '../../src/server/otlp/decode';
import type { TableRows } from '../../src/server/otlp/rows';
import { encodeLogs, logsRequest } from '../support/otlp';

let dir: string;
let store: ChdbStore;

/** The rows the receiver builds for one export of `n` api_request records of `session`. */
function exportRows(session: string, first: number, n: number): TableRows {
  const t0 = Date.UTC(2026, 10, 30, 8, 0, 0);
  const events = Array.from({ length: n }, (_, i) => ({
    name: 'api_request',
    timeNanos: (BigInt(t0 + first + i) * 1_000_000n).toString(),
    attributes: { 'session.id': session, 'record.id': `${session}-${first + i}`, cost_usd: 0.01, model: 'claude-sonnet-4-5' },
  }));
  return decodeExport('logs', encodeLogs(logsRequest(events, { 'service.name': 'claude-code', user_id: 'alice' })), 'protobuf').rows;
}

async function counts(session: string): Promise<{ raw: number; distinct: number; events: number }> {
  const out = await store.query(
    `SELECT (SELECT count() FROM otel_logs WHERE LogAttributes['session.id'] = '${session}') AS raw,
            (SELECT uniqExact(LogAttributes['record.id']) FROM otel_logs WHERE LogAttributes['session.id'] = '${session}') AS distinct,
            (SELECT count() FROM telemetry_events WHERE session_id = '${session}') AS events FORMAT JSONEachRow`,
  );
  const r = JSON.parse(out.toString('utf8')) as Record<string, string | number>;
  return { raw: Number(r.raw), distinct: Number(r.distinct), events: Number(r.events) };
}

/** Three exports sent together: the first goes in alone, the other two wait and form one batch. */
async function burst(ingest: Ingest, session: string): Promise<TableRows[]> {
  const exports = [0, 10, 20].map((first) => exportRows(session, first, 10));
  await Promise.all(exports.map((rows) => ingest.write(rows)));
  return exports;
}

describe('exactly once after a restart (Ingest on chDB)', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ct-ingest-once-'));
    store = await ChdbStore.open(dir);
    await applyMigrations(store, migrationsDir());
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

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
});
