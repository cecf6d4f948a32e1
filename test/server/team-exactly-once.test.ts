/**
 * Duplicate-safe team ingest, end to end: the built team server in a network namespace, members
 * sending over TLS from this host.
 * - the same export sent twice (OTLP/HTTP, then gRPC) is stored once; the same bytes from two
 *   members are two exports (the server stamps each with its sender, so they never merge);
 * - 10 writers (one member each) send numbered exports; the server is killed with SIGKILL twice while
 *   exports are in flight and started again on the same data directory each time; every writer retries every
 *   export it has no success reply for, as an OTLP exporter does: afterwards every writer's records
 *   are stored exactly once (count = what it sent, ids unique), in the raw table and in the view;
 * - /metrics shows the ingest queue (exports, bytes) rising under that kind of load and back at 0,
 *   and the engine's own memory and stored bytes and the data directory's free space.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { addMember, initTeam, type IssuedMember } from '../../src/server/team/admin';
import { createNetnsHost, type NetnsHost } from '../support/netns';
import { encodeLogs, logsRequest } from '../support/otlp';
import { grpcExportLogs, send, startTeamServer, teamSql, type TeamServerProcess } from '../support/team-server';

const PORTS = { grpc: 25317, otlpHttp: 25318, http: 29123 };
const WRITERS = 10;
const EXPORTS_PER_WRITER = 24;
const RECORDS_PER_EXPORT = 20;

function exportBody(session: string, first: number, n: number): Buffer {
  const t0 = Date.UTC(2026, 10, 30, 9, 0, 0);
  return encodeLogs(logsRequest(Array.from({ length: n }, (_, i) => ({
    name: 'api_request',
    timeNanos: (BigInt(t0 + first + i) * 1_000_000n).toString(),
    attributes: { 'session.id': session, 'record.id': `${session}-${first + i}`, cost_usd: 0.01, model: 'claude-sonnet-4-5' },
  })), { 'service.name': 'claude-code' }));
}

describe('team server: duplicate-safe ingest (network namespace, TLS)', () => {
  let root: string;
  let dir: string;
  let dataDir: string;
  let host: NetnsHost;
  let server: TeamServerProcess | undefined;
  let ca: string;
  let admin: IssuedMember;
  const writers: IssuedMember[] = [];
  let otlp: string;
  let sql: string;

  const adminSql = (q: string) => teamSql(sql, ca, 'admin', admin.secret, q);
  const post = (m: IssuedMember, body: Buffer) => send(`${otlp}/v1/logs`, { body, ca, headers: { 'content-type': 'application/x-protobuf', Authorization: `Bearer ${m.secret}` } });
  /** Per member: raw records, distinct record ids, telemetry_events rows, for one session prefix. */
  async function perMember(sessionPrefix: string): Promise<Record<string, { raw: number; ids: number; events: number }>> {
    const raw = await adminSql(`SELECT ResourceAttributes['user_id'] AS u, count() AS n, uniqExact(LogAttributes['record.id']) AS ids FROM otel_logs WHERE startsWith(LogAttributes['session.id'], '${sessionPrefix}') GROUP BY u ORDER BY u`);
    const ev = await adminSql(`SELECT user_id AS u, count() AS n FROM telemetry_events WHERE startsWith(session_id, '${sessionPrefix}') GROUP BY u`);
    const out: Record<string, { raw: number; ids: number; events: number }> = {};
    for (const r of raw) out[String(r.u)] = { raw: Number(r.n), ids: Number(r.ids), events: 0 };
    for (const r of ev) (out[String(r.u)] ??= { raw: 0, ids: 0, events: 0 }).events = Number(r.n);
    return out;
  }

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ct-team-once-'));
    dir = join(root, 'team');
    dataDir = join(root, 'data');
    host = createNetnsHost();
    admin = (await initTeam({ dir, name: 'Once Team', hostnames: [host.nsAddress], ports: PORTS })).admin;
    for (let i = 0; i < WRITERS; i++) writers.push(await addMember(dir, `w${i}`, 'contributor'));
    // Generous limits: this test is about delivery, not flooding.
    const cfg = JSON.parse(readFileSync(join(dir, 'team.json'), 'utf8'));
    cfg.limits = { ...cfg.limits, requestsPerSecond: 1000, requestBurst: 1000 };
    writeFileSync(join(dir, 'team.json'), JSON.stringify(cfg));
    ca = readFileSync(join(dir, 'tls/ca.crt'), 'utf8');
    otlp = `https://${host.nsAddress}:${PORTS.otlpHttp}`;
    sql = `https://${host.nsAddress}:${PORTS.http}`;
    server = await startTeamServer(host, dir, dataDir);
  });
  after(async () => {
    await server?.stop();
    host?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  test('the same export sent twice is stored once (HTTP, then gRPC); the same bytes from two members are one export each', async () => {
    const body = exportBody('twice', 0, 7);
    for (let i = 0; i < 2; i++) assert.equal((await post(writers[0]!, body)).status, 200);
    assert.equal((await grpcExportLogs(`${host.nsAddress}:${PORTS.grpc}`, ca, body, `Bearer ${writers[0]!.secret}`)).code, grpc.status.OK);
    assert.equal((await post(writers[1]!, body)).status, 200);
    assert.deepEqual(await perMember('twice'), { w0: { raw: 7, ids: 7, events: 7 }, w1: { raw: 7, ids: 7, events: 7 } });
  });

  test('kill -9 during a 10-writer load, restart, writers retry what was not acknowledged: every record exactly once', async () => {
    let acked = 0;
    // Two kills, at a third and at two thirds of the exports: each lands while every writer has one in flight.
    const total = WRITERS * EXPORTS_PER_WRITER;
    const marks = [Math.floor(total / 3), Math.floor((2 * total) / 3)];
    const reached: Array<() => void> = [];
    const points = marks.map(() => new Promise<void>((r) => reached.push(r)));
    let retries = 0;
    const run = async (w: IssuedMember, index: number) => {
      for (let e = 0; e < EXPORTS_PER_WRITER; e++) {
        const body = exportBody(`load-${index}`, e * RECORDS_PER_EXPORT, RECORDS_PER_EXPORT);
        // As an OTLP exporter: no success reply (refused, reset, 503 while starting) → the same export again.
        for (;;) {
          const ok = await post(w, body).then((r) => r.status === 200, () => false);
          if (ok) break;
          retries++;
          await new Promise((r) => setTimeout(r, 100));
        }
        const at = marks.indexOf(++acked);
        if (at >= 0) reached[at]!();
      }
    };
    const load = Promise.all(writers.map((w, i) => run(w, i)));
    for (const point of points) {
      await point;
      // Exports are in flight now (every writer has one outstanding): kill without warning.
      const exited = new Promise((r) => server!.proc.once('exit', r));
      server!.proc.kill('SIGKILL');
      await exited;
      server = await startTeamServer(host, dir, dataDir);
    }
    await load;
    assert.ok(retries > 0, 'some exports had to be retried (the kill hit the load)');
    const expected: Record<string, { raw: number; ids: number; events: number }> = {};
    const n = EXPORTS_PER_WRITER * RECORDS_PER_EXPORT;
    for (const w of writers) expected[w.member] = { raw: n, ids: n, events: n };
    assert.deepEqual(await perMember('load-'), expected, server!.output());
  });

  test('/metrics: queue depth rises under load and returns to 0; engine memory, stored bytes and free space are real and move', async () => {
    const scrape = async () => {
      const r = await send(`${otlp}/metrics`, { method: 'GET', ca, headers: { Authorization: `Bearer ${admin.secret}` } });
      assert.equal(r.status, 200, r.body);
      const v = (name: string) => {
        const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(r.body);
        assert.ok(m, `${name} in\n${r.body}`);
        return Number(m[1]);
      };
      return {
        queue: v('chapter_telemetry_ingest_queue_exports'), queueBytes: v('chapter_telemetry_ingest_queue_bytes'), memory: v('chapter_telemetry_engine_memory_tracked_bytes'),
        parts: v('chapter_telemetry_engine_parts_bytes'), free: v('chapter_telemetry_data_dir_free_bytes'), fs: v('chapter_telemetry_data_dir_filesystem_bytes'),
      };
    };
    const before = await scrape();
    assert.equal(before.queue, 0);
    assert.ok(before.memory > 0 && before.parts > 0 && before.free > 0 && before.free <= before.fs, JSON.stringify(before));
    let done = false;
    const load = Promise.all(writers.map(async (w, i) => {
      for (let e = 0; e < 6; e++) assert.equal((await post(w, exportBody(`metrics-${i}`, e * 50, 50))).status, 200);
    })).finally(() => (done = true));
    // Scrape while the writers run: each has an export outstanding most of the time.
    let busiest = { queue: 0, queueBytes: 0 };
    while (!done) {
      const m = await scrape();
      if (m.queue > busiest.queue) busiest = m;
    }
    await load;
    assert.ok(busiest.queue >= 1 && busiest.queueBytes > 0, `the queue was seen holding exports: ${JSON.stringify(busiest)}`);
    const after = await scrape();
    assert.equal(after.queue, 0);
    assert.equal(after.queueBytes, 0);
    assert.ok(after.parts > before.parts, `stored bytes grew: ${before.parts} → ${after.parts}`);
    assert.equal((await perMember('metrics-'))[writers[0]!.member]!.raw, 300);
  });
});
