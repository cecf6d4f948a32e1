/**
 * Failures a writer meets, caused for real: a port already taken, a container that never gets
 * healthy, no daemon at the socket, Docker not installed. Each ends in a StackError that says what
 * happened and what to do, and a failed start leaves no containers, networks or volumes behind.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerBackend } from '../../src/stack/docker/backend';
import { StackError } from '../../src/stack/types';
import { freePort } from '../support/ports';
import { composeFile, leftovers, purge, repoRoot, STANDIN_CLICKHOUSE, testStack, uniqueProject, nofileHere } from './helpers';

async function startError(p: Promise<unknown>): Promise<StackError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StackError, `expected a StackError, got ${String(err)}`);
    return err;
  }
  assert.fail('start succeeded but should have failed');
}

describe('docker stack failures', () => {
  const projects: string[] = [];
  after(async () => {
    for (const p of projects) await purge(p);
  });

  test('a taken port: the message names the port and its role, and nothing is left behind', async () => {
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const stack = await testStack('port', { endpoints: { grpcPort: port } });
      projects.push(stack.project);
      const err = await startError(stack.backend.start());
      assert.equal(err.code, 'port-in-use');
      assert.match(err.message, new RegExp(`Port ${port} \\(OTLP gRPC\\)`));
      assert.match(err.hint, /Stop whatever listens/);
      assert.deepEqual(await leftovers(stack.project), { containers: [], networks: [], volumes: [] });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  test('a container that never gets healthy: its last log lines in the message, everything removed', async () => {
    // A compose file like ours whose healthcheck can never pass (it probes a port nobody serves).
    const dir = mkdtempSync(join(tmpdir(), 'ct-unhealthy-'));
    // The compose file mounts the access files and the init script next to it.
    cpSync(join(repoRoot, 'telemetry-server', 'clickhouse'), join(dir, 'clickhouse'), { recursive: true });
    const text = readFileSync(composeFile, 'utf8').replace('http://127.0.0.1:8123/ping', 'http://127.0.0.1:1/ping').replace('retries: 60', 'retries: 2');
    writeFileSync(join(dir, 'docker-compose.yml'), text);
    const stack = await testStack('unhealthy', { composeFile: join(dir, 'docker-compose.yml') });
    projects.push(stack.project);
    const err = await startError(stack.backend.start());
    assert.equal(err.code, 'unhealthy');
    assert.match(err.message, /^The clickhouse container reports unhealthy\. Last log lines: /);
    const lastLine = (err.detail ?? '').trim().split('\n').at(-1) ?? '';
    assert.ok(lastLine.length > 0 && err.message.includes(lastLine), 'the message quotes the container\'s last log line');
    assert.match(err.hint, /docker logs ct-test-unhealthy-\w+-clickhouse-1/);
    assert.deepEqual(await leftovers(stack.project), { containers: [], networks: [], volumes: [] });
  });

  test('no daemon at the socket: "not running" with the platform fix', async () => {
    const project = uniqueProject('nodaemon');
    const sock = join(mkdtempSync(join(tmpdir(), 'ct-sock-')), 'docker.sock');
    const backend = new DockerBackend({ composeFile, projectName: project, engine: { socketPath: sock } });
    const err = await startError(backend.start());
    assert.equal(err.code, 'docker-not-running');
    assert.match(err.message, new RegExp(`The Docker daemon is not running \\(nothing answers at ${sock}\\)`));
    assert.match(err.hint, /systemctl start docker/);
    const status = await backend.status();
    assert.equal(status.state, 'error');
  });

  test('a socket nobody accepts on (daemon died, stale socket): "not running" too', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'ct-sock-')), 'docker.sock');
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(sock, r));
    await new Promise((r) => srv.close(r)); // leaves no listener; the path may linger like a dead daemon's
    const backend = new DockerBackend({ composeFile, projectName: uniqueProject('stale'), engine: { socketPath: sock } });
    const err = await startError(backend.start());
    assert.equal(err.code, 'docker-not-running');
  });

  test('no docker on PATH and no daemon: "not installed", pointing to embedded mode', async () => {
    const saved = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), 'ct-empty-path-'));
    try {
      const backend = new DockerBackend({ composeFile, projectName: uniqueProject('noinst'), engine: { socketPath: '/nonexistent/docker.sock' } });
      const err = await startError(backend.start());
      assert.equal(err.code, 'docker-not-installed');
      assert.match(err.hint, /embedded mode/);
    } finally {
      process.env.PATH = saved;
    }
  });

  test('a container that exits while starting: "crashed" with its output, nothing left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-crash-'));
    // The compose file mounts the access files and the init script next to it.
    cpSync(join(repoRoot, 'telemetry-server', 'clickhouse'), join(dir, 'clickhouse'), { recursive: true });
    // The stand-in's ClickHouse role is swapped for an unknown one: the server rejects its arguments and exits.
    writeFileSync(join(dir, 'docker-compose.yml'), readFileSync(composeFile, 'utf8').replace('CLICKHOUSE_SKIP_USER_SETUP: "1"', 'CLICKHOUSE_SKIP_USER_SETUP: "1"\n      STANDIN_ROLE: clickhouse-broken\n      STANDIN_CLICKHOUSE_URL: "not a url"'));
    const stack = await testStack('crash', { composeFile: join(dir, 'docker-compose.yml'), env: { CLICKHOUSE_IMAGE: STANDIN_CLICKHOUSE, CLICKHOUSE_NOFILE: nofileHere() } });
    projects.push(stack.project);
    const err = await startError(stack.backend.start());
    assert.ok(err.code === 'crashed' || err.code === 'unhealthy', err.code);
    assert.match(err.message, /clickhouse container/);
    assert.ok((err.detail ?? '').length > 0, 'the container output is attached');
    assert.deepEqual(await leftovers(stack.project), { containers: [], networks: [], volumes: [] });
  });
});
