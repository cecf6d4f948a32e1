/**
 * Issue 8: `npm start` never leaves an orphan. npm runs `sh -c "node scripts/start.mjs …"`, which runs the server;
 * a signal sent to npm's pid alone (what a process manager or a script does) used to stop npm and leave the rest
 * running. For SIGTERM, SIGINT and SIGHUP to npm alone, and for kill -9 of `node scripts/start.mjs` (the server
 * must notice its parent's pipe closing): the three ports are free again within 10 s, the server printed its
 * graceful `stopped`, no process of that run is left, and a restart on the same data dir has every acknowledged
 * record (an export sent just before the signal included, when it was acknowledged).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startServer } from '../support/server';
import { freePort } from '../support/ports';
import { encodeLogs, logsRequest, postOtlp } from '../support/otlp';

interface NpmRun {
  proc: ChildProcess;
  dataDir: string;
  ports: { grpc: number; otlpHttp: number; http: number };
  output(): string;
  /** Resolves once every process holding npm's stdout/stderr (npm, sh, start.mjs, the server) has closed them. */
  closed: Promise<void>;
}

async function npmStart(dataDir: string): Promise<NpmRun> {
  const ports = { grpc: await freePort(), otlpHttp: await freePort(), http: await freePort() };
  const proc = spawn('npm', ['start', '--', '--data-dir', dataDir, '--grpc-port', String(ports.grpc), '--otlp-http-port', String(ports.otlpHttp), '--http-port', String(ports.http)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, as a shell's foreground job has: the terminal's signals go to the whole group.
    detached: true,
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const closed = Promise.all([
    new Promise<void>((r) => proc.stdout!.once('close', () => r())),
    new Promise<void>((r) => proc.stderr!.once('close', () => r())),
  ]).then(() => undefined);
  await new Promise<void>((resolve, reject) => {
    // npm start rebuilds first (esbuild): allow for a busy machine.
    const timer = setTimeout(() => reject(new Error(`npm start not ready in time:\n${out}`)), 180_000);
    const check = () => {
      if (/\bready\b/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (!/\bready\b/.test(out)) reject(new Error(`npm start exited with ${code} before ready:\n${out}`));
    });
  });
  return { proc, dataDir, ports, output: () => out, closed };
}

/** Processes whose command line names this run's data dir: npm, its sh, start.mjs and the server. */
function processesOf(dataDir: string): Array<{ pid: number; args: string }> {
  return execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' }).split('\n')
    .map((l) => /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && m[3]!.includes(dataDir) && !m[2]!.startsWith('Z'))
    .map((m) => ({ pid: Number(m[1]), args: m[3]! }));
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Polls until every port can be bound again; the ports still taken when the deadline passes, else []. */
async function portsFreeWithin(ports: number[], ms: number): Promise<number[]> {
  const end = Date.now() + ms;
  for (;;) {
    const taken: number[] = [];
    for (const p of ports) if (!(await portFree(p))) taken.push(p);
    if (taken.length === 0 || Date.now() > end) return taken;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const BATCH = 20;
function batch(session: string): Buffer {
  return encodeLogs(logsRequest(Array.from({ length: BATCH }, (_, i) => ({
    name: 'api_request',
    attributes: { 'session.id': session, 'event.sequence': i, model: 'claude-sonnet-4-5', input_tokens: 10, output_tokens: 5, cost_usd: 0.01 },
  })), { 'service.name': 'claude-code', user_id: 'npm-start-test' }));
}

type Stopper = { name: string; stop(run: NpmRun): void };
const stoppers: Stopper[] = [
  ...(['SIGTERM', 'SIGINT', 'SIGHUP'] as const).map((sig) => ({ name: `${sig} to npm's pid alone`, stop: (run: NpmRun) => run.proc.kill(sig) })),
  // What a terminal does on Ctrl-C and on closing: the signal reaches npm and start.mjs at once (and npm forwards
  // the SIGINT too), which must still be one graceful stop, not a "second Ctrl-C".
  ...(['SIGINT', 'SIGHUP'] as const).map((sig) => ({ name: `${sig} to npm's process group (${sig === 'SIGINT' ? 'Ctrl-C' : 'the terminal closed'})`, stop: (run: NpmRun) => process.kill(-run.proc.pid!, sig) })),
  {
    name: 'kill -9 of `node scripts/start.mjs`',
    stop: (run: NpmRun) => {
      const starter = processesOf(run.dataDir).filter((p) => /^node\s+\S*scripts\/start\.mjs/.test(p.args));
      assert.equal(starter.length, 1, JSON.stringify(processesOf(run.dataDir)));
      process.kill(starter[0]!.pid, 'SIGKILL');
    },
  },
];

describe('npm start stops with whoever started it', () => {
  for (const s of stoppers) {
    // The timeout only ends a hung run (a server that never exits holds npm's output open forever).
    test(`${s.name}: ports free within 10 s, graceful stop, acknowledged records kept`, { timeout: 300_000 }, async () => {
      const dataDir = join(mkdtempSync(join(tmpdir(), 'ct-npm-start-')), 'data');
      const run = await npmStart(dataDir);
      let inFlightStatus = 0;
      try {
        const kinds = processesOf(dataDir).map((p) => p.args);
        assert.ok(kinds.some((a) => a.includes('dist/server.js')), `a server runs: ${kinds.join('\n')}`);
        for (let i = 0; i < 3; i++) {
          const r = await postOtlp(`http://127.0.0.1:${run.ports.otlpHttp}`, 'logs', batch(`acked-${i}`), 'application/x-protobuf');
          assert.equal(r.status, 200);
        }
        // One more export on its way while the stop begins: if the server acknowledged it, it must be stored.
        const inFlight = postOtlp(`http://127.0.0.1:${run.ports.otlpHttp}`, 'logs', batch('in-flight'), 'application/x-protobuf')
          .then((r) => r.status, () => 0);
        s.stop(run);
        inFlightStatus = await inFlight;

        const taken = await portsFreeWithin([run.ports.grpc, run.ports.otlpHttp, run.ports.http], 10_000);
        assert.deepEqual(taken, [], `ports still in use 10 s after the stop:\n${run.output()}`);
        await run.closed;
        assert.match(run.output(), /^stopped$/m, `the server stopped gracefully:\n${run.output()}`);
        assert.doesNotMatch(run.output(), /again: exiting now/, 'one stop request, not two');
        assert.deepEqual(processesOf(dataDir), [], 'nothing of this run is left');
      } finally {
        for (const p of processesOf(dataDir)) process.kill(p.pid, 'SIGKILL');
      }

      const again = await startServer({ dataDir });
      try {
        const stored = Number((await again.sql("SELECT count() FROM otel_logs WHERE ResourceAttributes['user_id'] = 'npm-start-test'")).trim());
        const acknowledged = Number((await again.sql("SELECT count() FROM otel_logs WHERE ResourceAttributes['user_id'] = 'npm-start-test' AND LogAttributes['session.id'] LIKE 'acked-%'")).trim());
        assert.equal(acknowledged, 3 * BATCH, 'every acknowledged batch is stored');
        const inFlightRows = stored - acknowledged;
        assert.ok(inFlightRows === 0 || inFlightRows === BATCH, `the in-flight export is stored whole or not at all (${inFlightRows} rows)`);
        if (inFlightStatus === 200) assert.equal(inFlightRows, BATCH, 'the acknowledged in-flight export is stored');
      } finally {
        await again.stop();
        rmSync(join(dataDir, '..'), { recursive: true, force: true });
      }
    });
  }
});
