// The forwarding agent (issue 10) against the team server's own ingest, measured in one run, with
// the team server (`--team`, TLS) in its own network namespace as in the tests (needs root):
// - baseline: Claude-Code-shaped records exported straight to the team server over OTLP/HTTP
//   protobuf + TLS by 4 senders (records/s);
// - forwarding: the same records exported to a local embedded server, then forwarded by it
//   (history 'all'): records/s from enabling forward.json until the queue is empty;
// - a history move of CT_BENCH_FORWARD_HISTORY (default 1M) records the local writer inserted;
// - added latency: a local export's ack until the team server's SQL sees it (median of 5).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addMember, initTeam } from '../src/server/team/admin';
import type { ForwardStatus } from '../src/core/forward-config';
import { writeForwardConfig } from '../src/stack/forward-file';
import { forwardConfig } from '../test/support/forwarding';
import { createNetnsHost } from '../test/support/netns';
import { encodeLogs, postOtlp } from '../test/support/otlp';
import { startServer, type RunningServer } from '../test/support/server';
import { send, startTeamServer, teamSql } from '../test/support/team-server';
import { exportRequest } from './lib/claude-export';
import { median, table } from './lib/measure';

const EVENTS = Number(process.env.CT_BENCH_FORWARD_EVENTS ?? 100_000);
const HISTORY = Number(process.env.CT_BENCH_FORWARD_HISTORY ?? 1_000_000);
const BATCH = 512;
const SENDERS = 4;
const PORTS = { grpc: 26317, otlpHttp: 26318, http: 30123 };

/** `n` Claude-Code-shaped api_request records of session `<tag>-<batchNo>` (the counts below select by tag). */
function exportBody(tag: string, batchNo: number, n: number): Buffer {
  return encodeLogs(exportRequest(batchNo, n, `${tag}-${batchNo}`));
}

async function sendAll(bodies: Buffer[], post: (b: Buffer) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: SENDERS }, async () => {
    while (next < bodies.length) await post(bodies[next++]!);
  }));
}

async function forwardStatus(s: RunningServer): Promise<ForwardStatus> {
  return (await (await fetch(`${s.httpUrl}/forward/status`)).json()) as ForwardStatus;
}

async function untilIdle(s: RunningServer): Promise<void> {
  for (;;) {
    const st = await forwardStatus(s);
    if (st.state === 'idle' && st.queue_rows === 0) return;
    if (st.state === 'failing') process.stderr.write(`forwarding failing: ${st.last_error}\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'ct-bench-fwd-'));
  const host = createNetnsHost();
  const locals: RunningServer[] = [];
  const teamDir = join(root, 'team');
  const admin = (await initTeam({ dir: teamDir, name: 'Bench Team', hostnames: [host.nsAddress], ports: PORTS })).admin;
  const cfg = JSON.parse(readFileSync(join(teamDir, 'team.json'), 'utf8'));
  cfg.limits = { ...cfg.limits, requestsPerSecond: 10_000, requestBurst: 10_000, bytesPerSecond: 1 << 30, byteBurst: 1 << 30 };
  writeFileSync(join(teamDir, 'team.json'), JSON.stringify(cfg));
  const ca = readFileSync(join(teamDir, 'tls/ca.crt'), 'utf8');
  const team = await startTeamServer(host, teamDir, join(root, 'team-data'));
  const sql = (q: string) => teamSql(`https://${host.nsAddress}:${PORTS.http}`, ca, 'admin', admin.secret, q);
  const count = async (where: string) => Number((await sql(`SELECT count() AS n FROM otel_logs WHERE ${where}`))[0]!.n);
  try {
    const batches = Math.ceil(EVENTS / BATCH);
    const n = batches * BATCH;

    // Baseline: straight to the team server.
    const direct = await addMember(teamDir, 'direct', 'contributor');
    const directBodies = Array.from({ length: batches }, (_, b) => exportBody('direct', b, BATCH));
    let t0 = performance.now();
    await sendAll(directBodies, async (body) => {
      const r = await send(`${direct.otlp_http}/v1/logs`, { body, ca, headers: { 'content-type': 'application/x-protobuf', Authorization: `Bearer ${direct.secret}` } });
      if (r.status !== 200) throw new Error(`team export: ${r.status} ${r.body}`);
    });
    const directS = (performance.now() - t0) / 1000;
    if ((await count("LogAttributes['session.id'] LIKE 'direct-%'")) !== n) throw new Error('baseline: count mismatch');

    // Forwarded: the same records through a local server.
    const agent = await addMember(teamDir, 'agent', 'contributor');
    const a = await startServer();
    locals.push(a);
    await sendAll(Array.from({ length: batches }, (_, b) => exportBody('agent', b, BATCH)), async (body) => {
      const r = await postOtlp(a.otlpHttpUrl, 'logs', body, 'application/x-protobuf');
      if (r.status !== 200) throw new Error(`local export: ${r.status}`);
    });
    t0 = performance.now();
    writeForwardConfig(a.dataDir, forwardConfig(agent));
    await untilIdle(a);
    const fwdS = (performance.now() - t0) / 1000;
    if ((await count("LogAttributes['session.id'] LIKE 'agent-%'")) !== n) throw new Error('forwarded: count mismatch');

    // Added latency while forwarding is on and idle: local ack → visible in the team's SQL.
    const lat: number[] = [];
    for (let i = 0; i < 5; i++) {
      const body = exportBody(`lat${i}`, 0, 1);
      const r = await postOtlp(a.otlpHttpUrl, 'logs', body, 'application/x-protobuf');
      if (r.status !== 200) throw new Error('latency export failed');
      const t = performance.now();
      while ((await count(`LogAttributes['session.id'] = 'lat${i}-0'`)) !== 1) await new Promise((res) => setTimeout(res, 25));
      lat.push(performance.now() - t);
    }
    lat.sort((x, y) => x - y);

    // History move: HISTORY records the local writer inserted in blocks of 100k.
    const hist = await addMember(teamDir, 'hist', 'contributor');
    const h = await startServer();
    locals.push(h);
    for (let done = 0; done < HISTORY; done += 100_000) {
      const k = Math.min(100_000, HISTORY - done);
      await h.sql(`INSERT INTO otel_logs (Timestamp, ServiceName, Body, LogAttributes, ResourceAttributes) SELECT now64(9) - toIntervalMillisecond(number), 'claude-code', 'claude_code.api_request', map('event.name', 'api_request', 'session.id', 'hist', 'seq', toString(${done} + number), 'model', 'claude-sonnet-4-5', 'cost_usd', '0.0004', 'input_tokens', '20', 'output_tokens', '300'), map('service.name', 'claude-code', 'user_id', 'bench') FROM numbers(${k})`);
    }
    // An export's acknowledgement, idle and while the history moves (forwarding reads on reader sessions).
    const ackMs = async (tag: string): Promise<number> => {
      const t = performance.now();
      const r = await postOtlp(h.otlpHttpUrl, 'logs', exportBody(tag, 0, 10), 'application/x-protobuf');
      if (r.status !== 200) throw new Error('ack export failed');
      return performance.now() - t;
    };
    const idleAcks: number[] = [];
    for (let i = 0; i < 20; i++) idleAcks.push(await ackMs(`ack-idle-${i}`));
    t0 = performance.now();
    writeForwardConfig(h.dataDir, forwardConfig(hist));
    const movingAcks: number[] = [];
    let moving = true;
    const done = untilIdle(h).then(() => (moving = false));
    // Wait for the move to be under way, then export while it runs.
    while ((await forwardStatus(h)).delivered_rows === 0) await new Promise((r) => setTimeout(r, 50));
    while (moving && movingAcks.length < 40) {
      movingAcks.push(await ackMs(`ack-move-${movingAcks.length}`));
      await new Promise((r) => setTimeout(r, 100));
    }
    await done;
    const histS = (performance.now() - t0) / 1000;
    const st = await forwardStatus(h);
    if ((await count("LogAttributes['session.id'] = 'hist'")) !== HISTORY) throw new Error('history: count mismatch');
    await untilIdle(h);
    if ((await count("LogAttributes['session.id'] LIKE 'ack-%'")) !== 10 * (idleAcks.length + movingAcks.length)) throw new Error('acks: count mismatch');

    const directRate = n / directS;
    const fwdRate = n / fwdS;
    const histRate = HISTORY / histS;
    const out = [
      '## Forwarding agent (`bench/forwarding.bench.ts`)',
      '',
      `The team server (\`--team\`, TLS) in a network namespace; records shaped like Claude Code's api_request events. Baseline: the same records exported straight to the team server over OTLP/HTTP protobuf + TLS by ${SENDERS} senders in batches of ${BATCH}. Forwarded: exported to a local embedded server first, then forwarded by it (history 'all', batches of ≤ 5,000 rows / 4 MiB, one request at a time), timed from writing forward.json to an empty queue. Counts at the team server checked equal after each run.`,
      '',
      table(['case', 'records', 'seconds', 'records/s', 'vs team ingest'], [
        ['team server\'s own ingest (baseline)', n, directS, Math.round(directRate), '1'],
        ['forwarded local → team', n, fwdS, Math.round(fwdRate), `${(fwdRate / directRate).toFixed(2)}×`],
        ['history move', HISTORY, histS, Math.round(histRate), `${(histRate / directRate).toFixed(2)}×`],
      ]),
      '',
      `A local export's acknowledgement (10 records, sequential): median ${median(idleAcks).toFixed(1)} ms idle (20 exports) vs ${median(movingAcks).toFixed(1)} ms while the history moves (${movingAcks.length} exports; ${(median(movingAcks) / median(idleAcks)).toFixed(2)}×): the move shares the 2 cores, never the ingest session.`,
      '',
      `History move: ${st.history?.bytes ? (st.history.bytes / 1048576).toFixed(0) : '?'} MiB of JSONEachRow sent. Added latency, a local export's acknowledgement until the team server's SQL sees the record (forwarder idle, polls every 1 s): median ${lat[2]!.toFixed(0)} ms (min ${lat[0]!.toFixed(0)}, max ${lat[4]!.toFixed(0)}).`,
    ].join('\n');
    console.log(out);
  } finally {
    for (const s of locals) {
      await s.stop('SIGKILL');
      rmSync(s.dataDir, { recursive: true, force: true });
    }
    await team.stop();
    host.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
