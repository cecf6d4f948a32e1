/**
 * Issue 15, "collection never waits for a query": an export is acknowledged — and its rows can be
 * read — while a long query started before it is still running. Order of completion only, no
 * timing: the query is seen running in `system.processes` before the export is sent, and still
 * unfinished (its response has not arrived, `system.processes` still lists it) after the export's
 * acknowledgement and after its rows were read back. Then the client leaves (the engine finishes the
 * query, seconds of work here, before the server stops; KILL is not offered over HTTP).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basicAuth, type RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';
import { encodeLogs, eventually, logsRequest, postOtlp } from '../support/otlp';

let srv: RunningServer;
serverPerFile((s) => (srv = s));

/** Starts a statement over ClickHouse HTTP and tracks whether its answer has arrived. */
function startLong(sql: string, settings: Record<string, string>, asWriter: boolean) {
  const url = new URL(srv.httpUrl);
  url.searchParams.set('query', sql);
  for (const [k, v] of Object.entries(settings)) url.searchParams.set(k, v);
  const ac = new AbortController();
  const state = { ended: false };
  const done = fetch(url, { method: 'POST', signal: ac.signal, headers: asWriter ? basicAuth(srv.credentials) : {} })
    .then((r) => r.text())
    .catch(() => '')
    .finally(() => (state.ended = true));
  return { state, cancel: async () => { ac.abort(); await done; } };
}

async function running(marker: string): Promise<boolean> {
  const n = await srv.sql('SELECT count() FROM system.processes WHERE query LIKE {m:String} AND query NOT LIKE \'%system.processes%\'', { m: `%${marker}%` });
  return Number(n) > 0;
}

for (const [who, asWriter, settings] of [
  ['the writer, with a time limit', true, { max_execution_time: '600' }],
  ['an anonymous reader', false, {}],
] as const) {
  test(`an export is acknowledged and readable while a long query by ${who} is still running`, async () => {
    const marker = `long_${asWriter ? 'writer' : 'reader'}_${Date.now()}`;
    // Minutes of work on this machine kind; cancelled below once the order is proven.
    const long = startLong(`SELECT count() AS ${marker} FROM numbers(1000000000) WHERE sipHash64(number) % 7 = 1`, settings, asWriter);
    try {
      await eventually(() => running(marker), () => 'the long query never showed up in system.processes');
      assert.equal(long.state.ended, false);

      const session = `during-${marker}`;
      const body = encodeLogs(logsRequest([{ name: 'api_request', attributes: { 'session.id': session, cost_usd: '0.5' } }], { 'service.name': 'claude-code', user_id: 'alice' }));
      const r = await postOtlp(srv.otlpHttpUrl, 'logs', body, 'application/x-protobuf');
      assert.equal(r.status, 200, r.body.toString('latin1'));
      const stored = await srv.sql('SELECT count() FROM telemetry_events WHERE session_id = {s:String}', { s: session });
      assert.equal(stored.trim(), '1', 'the acknowledged export is stored');

      // The query started before the export and has not ended after it: the export did not wait for it.
      assert.equal(long.state.ended, false, 'the long query ended before the export was acknowledged');
      assert.equal(await running(marker), true, 'the long query is still running in the engine');
    } finally {
      await long.cancel();
    }
  });
}
