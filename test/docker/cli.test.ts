/**
 * The headless `npm run stack` (dist/stack-cli.js), docker mode on the stand-ins: up, status, down
 * with their exit codes and one-line messages; a taken port ends in exit 4 and a clear line.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports';
import { cli, docker, leftovers, purge, repoRoot, sleeperSpec, uniqueProject } from './helpers';

describe('npm run stack (docker mode)', () => {
  const project = uniqueProject('cli');
  // Its own data dir: the CLI keeps the docker writer password under it, never in the real home folder.
  const dataDir = mkdtempSync(join(tmpdir(), 'ct-cli-docker-'));
  after(async () => purge(project));

  test('up, status, down, status: exit codes 0, 0, 0, 1', async () => {
    const ports = ['--grpc-port', String(await freePort()), '--otlp-http-port', String(await freePort()), '--http-port', String(await freePort())];
    const common = ['--mode', 'docker', '--project', project, '--data-dir', dataDir, ...ports];
    const up = await cli(['up', ...common]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^running \(docker\): otlp-grpc=127\.0\.0\.1:\d+ otlp-http=127\.0\.0\.1:\d+ clickhouse-http=http:\/\/127\.0\.0\.1:\d+\n$/);
    assert.match(up.stderr, /Waiting for clickhouse/);
    const status = await cli(['status', ...common]);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /^running \(docker\)/);
    const down = await cli(['down', ...common]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.stdout, 'down (docker)\n');
    const after = await cli(['status', ...common]);
    assert.equal(after.code, 1);
    assert.equal(after.stdout, 'stopped (docker)\n');
    assert.equal((await leftovers(project)).volumes.length, 2, 'down keeps the data volumes');
    const wipe = await cli(['down', ...common, '--volumes']);
    assert.equal(wipe.code, 0);
    assert.deepEqual(await leftovers(project), { containers: [], networks: [], volumes: [] });
  });

  test('a taken port: exit 4 and one line naming the port', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const r = await cli(['up', '--mode', 'docker', '--project', project, '--data-dir', dataDir, '--grpc-port', String(await freePort()), '--otlp-http-port', String(port), '--http-port', String(await freePort())]);
      assert.equal(r.code, 4);
      assert.match(r.stderr, new RegExp(`^error: Port ${port} \\(OTLP HTTP\\) is already in use on 127\\.0\\.0\\.1\\. Stop whatever`, 'm'));
      assert.deepEqual(await leftovers(project), { containers: [], networks: [], volumes: [] });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  test('status, stop and down without --mode find the running docker stack and say which', async () => {
    const [grpc, otlpHttp, http] = [await freePort(), await freePort(), await freePort()];
    const up = await cli(['up', '--mode', 'docker', '--project', project, '--data-dir', dataDir, '--grpc-port', String(grpc), '--otlp-http-port', String(otlpHttp), '--http-port', String(http)]);
    assert.equal(up.code, 0, up.stderr);
    // No --mode and no ports: found by its labels. --project only keeps other stacks on this shared daemon out of the test.
    const mine = ['--project', project, '--data-dir', dataDir];
    const status = await cli(['status', ...mine]);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.stdout, `running (docker, project ${project}): otlp-grpc=127.0.0.1:${grpc} otlp-http=127.0.0.1:${otlpHttp} clickhouse-http=http://127.0.0.1:${http}\n`);
    const stop = await cli(['stop', ...mine]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, `stopped (docker, project ${project})\n`);
    const stopped = await cli(['status', ...mine]);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stdout, new RegExp(`^nothing running \\(no embedded server for .*, no running docker stack in project ${project}\\)\n$`));
    // down also removes a stopped stack's containers.
    const down = await cli(['down', ...mine]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.stdout, `down (docker, project ${project})\n`);
    assert.deepEqual((await leftovers(project)).containers, []);
    const again = await cli(['down', ...mine]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^nothing running \(/);
    await cli(['down', '--mode', 'docker', '--project', project, '--data-dir', dataDir, '--volumes']);
  });

  test("without --mode, another OS user's stack on the same daemon is not this user's: neither shown nor stopped", async () => {
    const other = uniqueProject('otheruser');
    const labels = { 'com.docker.compose.project': other, 'com.docker.compose.service': 'clickhouse', 'com.docker.compose.oneoff': 'False', 'dev.chapter-telemetry.stack': 'docker', 'dev.chapter-telemetry.os-user': 'someone-else' };
    const c = await docker.createContainer(sleeperSpec({ name: `${other}-clickhouse-1`, Labels: labels }));
    try {
      await c.start();
      const status = await cli(['status', '--project', other, '--data-dir', dataDir]);
      assert.equal(status.code, 1);
      assert.match(status.stdout, /^nothing running \(/);
      const stop = await cli(['stop', '--project', other, '--data-dir', dataDir]);
      assert.equal(stop.code, 0);
      assert.match(stop.stdout, /^nothing running \(/);
      assert.equal((await c.inspect()).State.Running, true);
    } finally {
      await c.remove({ force: true });
    }
  });

  test('bad arguments: exit 2 with the usage', async () => {
    const r = await cli(['up', '--mode', 'kubernetes']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--mode must be embedded or docker/);
  });

  test('no daemon: exit 6 and the platform fix', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [join(repoRoot, 'dist', 'stack-cli.js'), 'status', '--mode', 'docker', '--project', project], { env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.on('close', (code) => resolve({ code, stderr: out }));
    });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /Docker daemon is not running .*systemctl start docker/);
  });

  test('embedded mode through the same command: up, status, down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-cli-embedded-'));
    const common = ['--mode', 'embedded', '--data-dir', dir, '--grpc-port', String(await freePort()), '--otlp-http-port', String(await freePort()), '--http-port', String(await freePort())];
    const up = await cli(['up', ...common]);
    try {
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stdout, /^running \(embedded\): .* pid=\d+\n$/);
      assert.equal((await cli(['status', ...common])).code, 0);
      // Without --mode: the embedded server of this data dir is found (no docker stack in an unused project).
      const found = await cli(['status', '--data-dir', dir, '--project', uniqueProject('none')]);
      assert.equal(found.code, 0, found.stderr);
      assert.match(found.stdout, /^running \(embedded\): .* pid=\d+\n$/);
    } finally {
      const down = await cli(['down', '--data-dir', dir, '--project', uniqueProject('none')]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(down.stdout, 'down (embedded)\n');
    }
    const after = await cli(['status', ...common]);
    assert.equal(after.code, 1);
  });
});
