// Verify Collection's counts (src/vscode/store-counts.ts over @clickhouse/client) against the built server:
// a user id with the characters ClickHouse's HTTP interface treats as escapes (quote, backslash, tab) still
// matches its own events, which the raw `param_` fetch it replaces got wrong; the URL helper brackets IPv6.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { localHttpUrl } from '../../src/core/otel-env';
import { fetchCounts } from '../../src/vscode/store-counts';
import { eventually, logsRequest, postOtlp } from '../support/otlp';
import type { RunningServer } from '../support/server';
import { serverPerFile } from '../support/server-per-file';

let srv: RunningServer;
serverPerFile((s) => (srv = s));

describe('collection counts', () => {
  test('a user id with quote, backslash and tab counts exactly its own events', async () => {
    const odd = "o'brien\\x\ty";
    for (const [user, n] of [[odd, 2], ['plain', 1]] as const) {
      const events = Array.from({ length: n }, () => ({ name: 'api_request' }));
      const r = await postOtlp(srv.otlpHttpUrl, 'logs', JSON.stringify(logsRequest(events, { 'service.name': 'claude-code', user_id: user })), 'application/json');
      assert.equal(r.status, 200, r.body.toString());
    }
    await eventually(async () => (await fetchCounts(srv.host, srv.httpPort, odd)).events === 3, async () => JSON.stringify(await fetchCounts(srv.host, srv.httpPort, odd)));
    const c = await fetchCounts(srv.host, srv.httpPort, odd);
    assert.equal(c.taggedEvents, 2);
    assert.equal(c.eventsToday, 3);
    assert.ok(c.lastReceivedAt instanceof Date);
    assert.equal((await fetchCounts(srv.host, srv.httpPort, 'plain')).taggedEvents, 1);
    assert.equal((await fetchCounts(srv.host, srv.httpPort, "o'brien")).taggedEvents, 0);
  });

  test('the one URL helper: wildcards become loopback, IPv6 in brackets', () => {
    assert.equal(localHttpUrl('0.0.0.0', 8123), 'http://127.0.0.1:8123');
    assert.equal(localHttpUrl('::', 8123), 'http://[::1]:8123');
    assert.equal(localHttpUrl('::1', 4318), 'http://[::1]:4318');
    assert.equal(localHttpUrl('127.0.0.1', 4318), 'http://127.0.0.1:4318');
  });

  test('an unreachable store is an error, not zero counts', async () => {
    await assert.rejects(fetchCounts('127.0.0.1', 1, 'x', 15, 2000));
  });
});
