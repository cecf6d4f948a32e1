/**
 * The server as a process: data survives restarts and kill -9 (every acknowledged export is
 * there), conflicts over ports and data dirs end in a clear message and exit code, and an engine
 * failure is answered with "retry" while the server keeps serving.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverScript, startServer, type RunningServer } from '../support/server';
import { freePort } from '../support/ports';
import { encodeLogs, logsRequest, postOtlp } from '../support/otlp';

function runToExit(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [serverScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function portArgs(dataDir: string): Promise<string[]> {
  return ['--data-dir', dataDir, '--grpc-port', String(await freePort()), '--otlp-http-port', String(await freePort()), '--http-port', String(await freePort())];
}

describe('server lifecycle', () => {
  test('data survives a graceful restart', async () => {
    const a = await startServer();
    const body = encodeLogs(logsRequest([{ name: 'api_request', attributes: { 'session.id': 'restart-1', cost_usd: 0.5 } }]));
    assert.equal((await postOtlp(a.otlpHttpUrl, 'logs', body, 'application/x-protobuf')).status, 200);
    assert.equal(await a.stop(), 0);
    assert.match(a.output(), /stopped/);
    const b = await startServer({ dataDir: a.dataDir });
    try {
      assert.equal(await b.sql("SELECT sum(cost_usd) FROM telemetry_events WHERE session_id = 'restart-1'"), '0.5\n');
      // Migrations were recorded once, not re-applied.
      assert.equal(await b.sql('SELECT count() = uniqExact(version) FROM schema_migrations'), '1\n');
    } finally {
      await b.stop();
    }
  });

  /** Six writers export as fast as they can; `interrupt` ends the server; every acknowledged export must survive. */
  async function writersThen(interrupt: (a: RunningServer) => void): Promise<{ acked: string[]; exitCode: number | null; dataDir: string }> {
    const a = await startServer();
    const acked: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `w${w}-${i}`;
        const body = encodeLogs(logsRequest(Array.from({ length: 20 }, (_, k) => ({ name: 'api_request', attributes: { 'session.id': id, 'event.sequence': k } }))));
        try {
          const r = await postOtlp(a.otlpHttpUrl, 'logs', body, 'application/x-protobuf');
          if (r.status === 200) acked.push(id);
        } catch {
          return; // the connection died mid-request: this export was never acknowledged
        }
      }
    };
    const writers = [0, 1, 2, 3, 4, 5].map(writer);
    await new Promise((r) => setTimeout(r, 2500));
    const exited = new Promise<number | null>((r) => (a.proc.exitCode !== null || a.proc.signalCode !== null ? r(a.proc.exitCode) : a.proc.once('exit', (c) => r(c))));
    interrupt(a);
    const exitCode = await exited;
    stop = true;
    await Promise.all(writers);
    assert.ok(acked.length > 10, `writers got ${acked.length} acknowledgements before the interruption`);
    return { acked, exitCode, dataDir: a.dataDir };
  }

  async function assertAllStored(dataDir: string, acked: string[]): Promise<void> {
    const b = await startServer({ dataDir });
    try {
      const stored = new Set((await b.sql("SELECT DISTINCT LogAttributes['session.id'] FROM otel_logs")).trim().split('\n'));
      const missing = acked.filter((id) => !stored.has(id));
      assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged exports are missing`);
      // Whole exports, not fragments: every stored export has all 20 records.
      assert.equal(await b.sql("SELECT countIf(c != 20) FROM (SELECT count() AS c FROM otel_logs GROUP BY LogAttributes['session.id'])"), '0\n');
    } finally {
      await b.stop();
    }
  }

  test('kill -9 under concurrent writers loses no acknowledged export', async () => {
    const r = await writersThen((a) => a.proc.kill('SIGKILL'));
    await assertAllStored(r.dataDir, r.acked);
  });

  test('SIGTERM under concurrent writers finishes in-flight exports and exits 0', async () => {
    const r = await writersThen((a) => a.proc.kill('SIGTERM'));
    assert.equal(r.exitCode, 0);
    await assertAllStored(r.dataDir, r.acked);
  });

  test('a second server on the same data dir exits 3 naming the holder', async () => {
    const a = await startServer();
    try {
      const r = await runToExit(await portArgs(a.dataDir));
      assert.equal(r.code, 3, r.out);
      assert.match(r.out, new RegExp(`in use by another Chapter Telemetry server \\(pid ${a.proc.pid}\\)`));
      assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
      assert.equal(await a.sql('SELECT 1'), '1\n', 'the first server is unaffected');
    } finally {
      await a.stop();
    }
  });

  test('a busy port exits 4 naming the port, its role and who holds it', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ct-port-'));
      const r = await runToExit(['--data-dir', dir, '--grpc-port', String(port), '--otlp-http-port', String(await freePort()), '--http-port', String(await freePort())]);
      assert.equal(r.code, 4, r.out);
      assert.match(r.out, new RegExp(`port ${port} \\(OTLP gRPC\\) on 127.0.0.1 is already in use by pid ${process.pid}`));
      assert.match(r.out, /--grpc-port N/);
      const r2 = await runToExit(['--data-dir', dir, '--grpc-port', String(await freePort()), '--otlp-http-port', String(await freePort()), '--http-port', String(port)]);
      assert.equal(r2.code, 4, r2.out);
      assert.match(r2.out, new RegExp(`port ${port} \\(ClickHouse HTTP\\)`));
    } finally {
      blocker.close();
    }
  });

  test('bad arguments exit 2 with the usage', async () => {
    const r = await runToExit(['--grpc-port', 'seventy']);
    assert.equal(r.code, 2);
    assert.match(r.out, /--grpc-port must be a port number/);
    const r2 = await runToExit(['--frobnicate', '1']);
    assert.equal(r2.code, 2);
    assert.match(r2.out, /unknown option --frobnicate\nusage:/);
  });

  test('an engine failure is answered with retry (503 / UNAVAILABLE) and nothing is lost once it recovers', async () => {
    const a = await startServer();
    try {
      const body = encodeLogs(logsRequest([{ name: 'api_request', attributes: { 'session.id': 'fault-1' } }]));
      // A real engine fault: the table the receiver writes to goes away.
      await a.sql('DETACH TABLE otel_logs');
      const failed = await postOtlp(a.otlpHttpUrl, 'logs', body, 'application/x-protobuf');
      assert.equal(failed.status, 503);
      assert.match(failed.body.toString('latin1'), /retry later/);
      await a.sql('ATTACH TABLE otel_logs');
      // The sender retries, as OTLP exporters do, and the data arrives once.
      const retried = await postOtlp(a.otlpHttpUrl, 'logs', body, 'application/x-protobuf');
      assert.equal(retried.status, 200);
      assert.equal(await a.sql("SELECT count() FROM telemetry_events WHERE session_id = 'fault-1'"), '1\n');
    } finally {
      await a.stop();
    }
  });
});

describe('remote ClickHouse store', () => {
  test('an unreachable --clickhouse-url exits 5 with one plain line, no stack trace', async () => {
    const dead = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'ct-remote-'));
    const r = await runToExit([...(await portArgs(dir)), '--clickhouse-url', `http://127.0.0.1:${dead}`]);
    assert.equal(r.code, 5, r.out);
    assert.match(r.out, new RegExp(`cannot use the ClickHouse server at http://127.0.0.1:${dead}`));
    assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
  });

  test('with --clickhouse-url the receiver stores into that server, acknowledged after its commit', async () => {
    const backing = await startServer();
    // The backing server's writer, passed the way the README says: in the environment, never in argv.
    const front = await startServer({ extraArgs: ['--clickhouse-url', backing.httpUrl], env: { CLICKHOUSE_USER: backing.credentials.user, CLICKHOUSE_PASSWORD: backing.credentials.password } });
    try {
      const body = encodeLogs(logsRequest([{ name: 'api_request', attributes: { 'session.id': 'remote-1', cost_usd: 0.125 } }]));
      assert.equal((await postOtlp(front.otlpHttpUrl, 'logs', body, 'application/x-protobuf')).status, 200);
      // Acknowledged means committed: the backing server has it at once, no polling.
      assert.equal(await backing.sql("SELECT sum(cost_usd) FROM telemetry_events WHERE session_id = 'remote-1'"), '0.125\n');
      // The front's ClickHouse HTTP answers from the same store.
      assert.equal(await front.sql("SELECT count() FROM telemetry_events WHERE session_id = 'remote-1'"), '1\n');
    } finally {
      await front.stop();
      await backing.stop();
    }
  });
});

describe('unusable data directories', () => {
  // Each case once printed a stack trace (a file in the way) or hung with no output (/proc).
  const scratch = mkdtempSync(join(tmpdir(), 'ct-baddir-'));
  const file = join(scratch, 'a-file');
  writeFileSync(file, 'not a directory');
  const locked = join(scratch, 'locked');
  mkdirSync(locked, { mode: 0o500 });
  const cases: Array<[string, string, RegExp]> = [
    ['a file', '/etc/passwd', /a file is in the way|not a directory/],
    ['a folder under a file', join(file, 'data'), /a file is in the way/],
    ['under /proc', '/proc/self/ct-data', /not allowed to create it|proc file system/],
    ['the /proc file system itself', '/proc/self', /proc file system/],
  ];
  // As root every folder is writable, so the permission case only means something for other users.
  if (process.getuid?.() !== 0) cases.push(['a folder without write permission', join(locked, 'data'), /not allowed/]);
  for (const [what, dir, says] of cases) {
    test(`${what}: one plain line and exit 2`, async () => {
      const r = await runToExit([...(await portArgs(dir))]);
      assert.equal(r.code, 2, r.out);
      assert.match(r.out, says);
      assert.match(r.out, /Choose another with --data-dir DIR/);
      assert.equal(r.out.trim().split('\n').length, 1, `one line: ${r.out}`);
      assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
    });
  }
});

describe('database switches stay with their own request', () => {
  // `USE` is session state: with one shared session, a query could land in another request's database.
  test('concurrent requests with and without ?database= each see their own database', async () => {
    const srv = await startServer();
    try {
      const jobs = Array.from({ length: 40 }, async (_, i) => {
        const db = i % 2 === 0 ? 'system' : undefined;
        const url = `${srv.httpUrl}/${db ? `?database=${db}` : ''}`;
        const res = await fetch(url, { method: 'POST', body: 'SELECT currentDatabase()' });
        assert.equal(await res.text(), `${db ?? 'default'}\n`, `request ${i}`);
      });
      await Promise.all(jobs);
    } finally {
      await srv.stop();
    }
  });
});
