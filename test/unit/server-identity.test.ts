// A stale server.json must never make Start attach to, or Stop signal, a process that is not our server. The server
// vouches for itself: GET /health on the OTLP HTTP port reports the pid and startedAt of the state file. Here real
// processes (a sleeping node child) and a real HTTP listener standing in for the server's ports (the identity check
// is the client side; the server side is tested with the built server in test/server/).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBackend } from '../../src/stack/embedded';
import { isServerProcess, pidAlive, readServerState } from '../../src/stack/server-state';
import { freePort } from '../support/ports';

const root = mkdtempSync(join(tmpdir(), 'ct-identity-'));
const children: ChildProcess[] = [];
const servers: (Server | TcpServer)[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers) s.close();
  rmSync(root, { recursive: true, force: true });
});

/** A live process that is not our server; its command line names `arg` (so the Linux /proc check would say yes). */
async function sleeper(arg = 'x'): Promise<number> {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', arg], { stdio: 'ignore' });
  children.push(c);
  await new Promise((r) => c.once('spawn', r));
  return c.pid!;
}

/** ClickHouse /ping, OTLP /health (answering `health`), a gRPC-port listener: what serverHealthy() probes. */
async function ports(health: object | undefined): Promise<{ grpcPort: number; otlpHttpPort: number; httpPort: number }> {
  const [grpcPort, otlpHttpPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const ch = createServer((_req, res) => res.end('Ok.\n'));
  const otlp = createServer((req, res) => {
    if (req.url === '/health' && health) res.end(JSON.stringify({ status: 'ok', ...health }));
    else res.writeHead(404).end();
  });
  const grpc = createTcpServer((s) => s.end());
  servers.push(ch, otlp, grpc);
  await Promise.all([
    new Promise<void>((r) => ch.listen(httpPort, '127.0.0.1', r)),
    new Promise<void>((r) => otlp.listen(otlpHttpPort, '127.0.0.1', r)),
    new Promise<void>((r) => grpc.listen(grpcPort, '127.0.0.1', r)),
  ]);
  return { grpcPort, otlpHttpPort, httpPort };
}

function stateDir(state: object): { dir: string; file: string } {
  const dir = mkdtempSync(join(root, 'state-'));
  const file = join(dir, 'server.json');
  writeFileSync(file, JSON.stringify({ host: '127.0.0.1', dataDir: join(dir, 'data'), ...state }));
  return { dir, file };
}

function backend(dir: string, p: { grpcPort: number; otlpHttpPort: number; httpPort: number }): EmbeddedBackend {
  // A server script that fails at once: a Start that does not attach ends in an error, never in a hang.
  const script = join(dir, 'server.js');
  writeFileSync(script, 'process.exit(2)\n');
  return new EmbeddedBackend({ stateDir: dir, dataDir: join(dir, 'data'), endpoints: { host: '127.0.0.1', ...p }, serverScript: script });
}

describe('server identity', () => {
  const startedAt = '2026-01-02T03:04:05.678Z';

  test('/health reporting the same pid and startedAt: attached, on any platform (no /proc needed)', async () => {
    const pid = await sleeper();
    const p = await ports({ pid, startedAt });
    const { dir, file } = stateDir({ pid, startedAt, ...p });
    assert.equal(await isServerProcess({ pid, startedAt, host: '127.0.0.1', otlpHttpPort: p.otlpHttpPort }, file, join(root, 'no-proc')), true);
    const s = await backend(dir, p).start();
    assert.equal(s.state, 'running');
    assert.equal(s.state === 'running' && s.attached, true);
  });

  test('a live pid whose server does not vouch for it is never signalled, even if /proc would say yes', async () => {
    // Stale file: the pid now belongs to another program whose command line even names the state file; the ports
    // are held by a server that reports a different start.
    const dirFile = stateDir({});
    const pid = await sleeper(dirFile.file);
    const p = await ports({ pid, startedAt: '2026-05-05T00:00:00.000Z' });
    writeFileSync(dirFile.file, JSON.stringify({ host: '127.0.0.1', pid, startedAt, dataDir: join(dirFile.dir, 'data'), ...p }));
    const b = backend(dirFile.dir, p);
    assert.deepEqual(await b.status(), { state: 'stopped' });
    writeFileSync(dirFile.file, JSON.stringify({ host: '127.0.0.1', pid, startedAt, dataDir: join(dirFile.dir, 'data'), ...p }));
    await b.stop();
    assert.equal(pidAlive(pid), true, 'the foreign process survived Stop');
    assert.equal(readServerState(dirFile.file), undefined, 'the stale file is removed');
  });

  test('no /proc (macOS) and nobody answering /health: an unrelated live pid is not ours', async () => {
    const pid = await sleeper();
    const p = await ports(undefined);
    const { dir, file } = stateDir({ pid, startedAt, ...p });
    assert.equal(await isServerProcess({ pid, startedAt, host: '127.0.0.1', otlpHttpPort: p.otlpHttpPort }, file, join(root, 'no-proc')), false);
    await backend(dir, p).stop();
    assert.equal(pidAlive(pid), true);
  });

  test('with /proc (Linux): a server too busy to answer is still recognised by its command line naming the state file', async () => {
    const { file } = stateDir({});
    const pid = await sleeper(file);
    const otlpHttpPort = await freePort();
    // Where /proc is missing this is the macOS case above: not confirmed, so not ours.
    assert.equal(await isServerProcess({ pid, startedAt, host: '127.0.0.1', otlpHttpPort }, file), existsSync('/proc/self/cmdline'));
    assert.equal(await isServerProcess({ pid, startedAt, host: '127.0.0.1', otlpHttpPort }, `${file}.other`), false);
  });
});

describe('writer credentials of the embedded backend', () => {
  test('from the file the state file names, else <dataDir>/credentials.json; absent = undefined; damaged = error', async () => {
    const p = { grpcPort: 1, otlpHttpPort: 2, httpPort: 3 };
    const { dir, file } = stateDir({ pid: 1, startedAt: 'x', ...p });
    const b = backend(dir, p);
    assert.equal(await b.writerCredentials(), undefined);
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', 'credentials.json'), JSON.stringify({ user: 'telemetry_writer', password: 'p1' }), { mode: 0o600 });
    assert.deepEqual(await b.writerCredentials(), { user: 'telemetry_writer', password: 'p1' });
    const named = join(dir, 'elsewhere.json');
    writeFileSync(named, JSON.stringify({ user: 'telemetry_writer', password: 'p2', extra: 1 }));
    chmodSync(named, 0o600);
    writeFileSync(file, JSON.stringify({ pid: 1, startedAt: 'x', ...p, credentialsFile: named }));
    assert.deepEqual(await b.writerCredentials(), { user: 'telemetry_writer', password: 'p2' });
    writeFileSync(named, JSON.stringify({ user: 'telemetry_writer', password: 42 }));
    await assert.rejects(b.writerCredentials(), /damaged/);
  });
});
