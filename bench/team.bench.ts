// The team server's ingest, measured in one run (issue 9's benchmark):
// - TLS ingest: the team server (TLS, a member's Bearer secret, identity stamping, one insert per
//   export) vs the plain local server (loopback, no TLS, group commit), both on 127.0.0.1, the same
//   exports over OTLP/HTTP protobuf and gRPC, 4 and 32 concurrent senders (events/s, ratio to plain);
// - what one insert per export costs by itself: `Ingest` in this process on the same schema, group
//   commit vs one insert per export, with the same concurrent writers (no network, no TLS).
// Size: CT_BENCH_TEAM_EVENTS (default 40960).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ChdbStore } from '../src/server/store/chdb';
import { applyMigrations, migrationsDir } from '../src/server/migrations';
import { Ingest } from '../src/server/ingest';
import { decodeExport } from '../src/server/otlp/decode';
import { addMember, initTeam } from '../src/server/team/admin';
import { serverScript, startServer, stopAndRemove } from '../test/support/server';
import { encodeLogs, logsRequest } from '../test/support/otlp';
import { freePort } from '../test/support/ports';
import { table, timeMs } from './lib/measure';

const EVENTS = Number(process.env.CT_BENCH_TEAM_EVENTS ?? 40_960);
const BATCH = 512; // Claude Code's (OpenTelemetry JS) default log batch size
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

let exportNo = 0;
/** `count` distinct exports of BATCH api_request records (never the same twice: no deduplication). */
function exportsOf(count: number): Buffer[] {
  return Array.from({ length: count }, () => {
    const n = exportNo++;
    const t0 = Date.now() * 1000 + n * BATCH;
    return encodeLogs(logsRequest(Array.from({ length: BATCH }, (_, i) => ({
      name: 'api_request',
      timeNanos: (BigInt(t0 + i) * 1000n).toString(),
      attributes: { 'session.id': `bench-${n}`, 'prompt.id': `p-${n}-${i >> 3}`, model: 'claude-sonnet-4-5', input_tokens: 20 + (i % 50), output_tokens: 7 + (i % 300), cost_usd: 0.0003 + (i % 10) * 0.0001, duration_ms: 800 + (i % 900), request_id: `req_${n}_${i}` },
    })), { 'service.name': 'claude-code', 'service.version': '2.1.197', chapter: `ch${String(n % 12).padStart(2, '0')}` }));
  });
}

async function sendAll(bodies: Buffer[], send: (b: Buffer) => Promise<void>, senders: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: senders }, async () => {
    while (next < bodies.length) await send(bodies[next++]!);
  }));
}

function httpSender(url: string, headers: Record<string, string>, ca?: string): { send(b: Buffer): Promise<void>; close(): void } {
  const tls = url.startsWith('https:');
  const agent = tls ? new HttpsAgent({ keepAlive: true, maxSockets: 64, ca }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const request = tls ? httpsRequest : httpRequest;
  return {
    send: (body) => new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', ...headers } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    }),
    close: () => agent.destroy(),
  };
}

function grpcSender(target: string, creds: grpc.ChannelCredentials, secret?: string): { send(b: Buffer): Promise<void>; close(): void } {
  const client = new grpc.Client(target, creds, { 'grpc.max_send_message_length': 64 << 20 });
  return {
    send: (body) => new Promise<void>((resolve, reject) => {
      const md = new grpc.Metadata();
      if (secret) md.set('authorization', `Bearer ${secret}`);
      client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (x: Buffer) => x, (x: Buffer) => x, body, md, (err) => (err ? reject(err) : resolve()));
    }),
    close: () => client.close(),
  };
}

/** The built server as a team server on loopback (TLS), with one member; stopped by the returned function. */
async function startTeamOnLoopback(): Promise<{ otlp: string; grpcTarget: string; ca: string; secret: string; stop(): Promise<void> }> {
  const root = tmp('ct-bench-team-');
  const dir = join(root, 'team');
  const ports = { grpc: await freePort(), otlpHttp: await freePort(), http: await freePort() };
  await initTeam({ dir, name: 'Bench Team', hostnames: ['localhost', '127.0.0.1'], ports });
  const member = await addMember(dir, 'author', 'contributor');
  // The benchmark measures ingest, not the per-member limits.
  const cfg = JSON.parse(readFileSync(join(dir, 'team.json'), 'utf8'));
  cfg.limits = { ...cfg.limits, requestsPerSecond: 1e6, requestBurst: 1e6, bytesPerSecond: 1e12, byteBurst: 1e12 };
  writeFileSync(join(dir, 'team.json'), JSON.stringify(cfg));
  const proc = spawn(process.execPath, [serverScript, '--team', dir, '--host', '127.0.0.1', '--data-dir', join(root, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d) => { out += d; if (/\bready\b/.test(out)) resolve(); });
    proc.stderr!.on('data', (d) => (out += d));
    proc.once('exit', (code) => reject(new Error(`team server exited ${code}: ${out}`)));
  });
  return {
    otlp: `https://localhost:${ports.otlpHttp}`, grpcTarget: `localhost:${ports.grpc}`, ca: member.ca_pem, secret: member.secret,
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function networkPart(): Promise<string> {
  const exportsPerRun = Math.ceil(EVENTS / BATCH);
  const events = exportsPerRun * BATCH;
  const rate = (ms: number) => events / (ms / 1000);
  const results: Array<{ path: string; senders: number; plain: number; tls: number }> = [];

  const plain = await startServer();
  const team = await startTeamOnLoopback();
  try {
    for (const senders of [4, 32]) {
      // Alternate plain and TLS so the machine's load drifts over both alike.
      const ph = httpSender(`${plain.otlpHttpUrl}/v1/logs`, {});
      const plainHttp = await timeMs(() => sendAll(exportsOf(exportsPerRun), ph.send, senders));
      ph.close();
      const th = httpSender(`${team.otlp}/v1/logs`, { Authorization: `Bearer ${team.secret}` }, team.ca);
      const tlsHttp = await timeMs(() => sendAll(exportsOf(exportsPerRun), th.send, senders));
      th.close();
      results.push({ path: 'OTLP/HTTP protobuf', senders, plain: rate(plainHttp), tls: rate(tlsHttp) });
      const pg = grpcSender(`127.0.0.1:${plain.grpcPort}`, grpc.credentials.createInsecure());
      const plainGrpc = await timeMs(() => sendAll(exportsOf(exportsPerRun), pg.send, senders));
      pg.close();
      const tg = grpcSender(team.grpcTarget, grpc.credentials.createSsl(Buffer.from(team.ca)), team.secret);
      const tlsGrpc = await timeMs(() => sendAll(exportsOf(exportsPerRun), tg.send, senders));
      tg.close();
      results.push({ path: 'OTLP/gRPC', senders, plain: rate(plainGrpc), tls: rate(tlsGrpc) });
    }
  } finally {
    await stopAndRemove(plain);
    await team.stop();
  }
  return [
    `### Team server: TLS ingest vs plain loopback ingest (${events} api_request records per run, ${BATCH} per export)`,
    '',
    'Both servers on 127.0.0.1 in this run. Plain (baseline): the local server, no TLS, no credential, group commit.',
    'TLS: the team server — TLS with the team CA, a member\'s Bearer secret on every export (verified once, then',
    'cached), the sender\'s identity stamped on every record, and one insert per export (duplicate-safe across crashes).',
    '',
    table(['path', 'senders', 'plain events/s (baseline)', 'TLS team events/s', 'TLS vs plain'],
      results.map((r) => [r.path, r.senders, Math.round(r.plain), Math.round(r.tls), r.tls / r.plain])),
  ].join('\n');
}

async function ingestModePart(): Promise<string> {
  const exportsPerRun = Math.ceil(EVENTS / BATCH);
  const events = exportsPerRun * BATCH;
  const rows: Array<{ writers: number; group: number; solo: number }> = [];
  // Each run on a fresh store: parts (and background merges) left by an earlier run would slow a later one.
  const run = async (writers: number, groupCommit: boolean) => {
    const dir = tmp('ct-bench-ingest-mode-');
    const store = await ChdbStore.open(dir);
    try {
      await applyMigrations(store, migrationsDir());
      const ingest = new Ingest(store, { groupCommit });
      const exports = exportsOf(exportsPerRun).map((b) => decodeExport('logs', b, 'protobuf').rows);
      let next = 0;
      const ms = await timeMs(() => Promise.all(Array.from({ length: writers }, async () => {
        while (next < exports.length) await ingest.write(exports[next++]!);
      })));
      return events / (ms / 1000);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  for (const writers of [4, 32]) rows.push({ writers, group: await run(writers, true), solo: await run(writers, false) });
  return [
    `### What one insert per export costs (Ingest in this process, ${events} records per run, ${BATCH} per export)`,
    '',
    'A fresh store with the full schema (every materialized view) per run, the same concurrent writers, no network:',
    'group commit (the local server, baseline) vs one insert per export, each with its own deduplication token (the team server).',
    '',
    table(['writers', 'group commit events/s (baseline)', 'one insert per export events/s', 'per export vs group'],
      rows.map((r) => [r.writers, Math.round(r.group), Math.round(r.solo), r.solo / r.group])),
  ].join('\n');
}

async function main(): Promise<void> {
  const out = (text: string) => process.stdout.write(`${text}\n\n`);
  out('## Team server (`bench/team.bench.ts`)');
  out(await networkPart());
  out(await ingestModePart());
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
