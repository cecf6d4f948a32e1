/**
 * The production compose file started through the docker backend on the stand-in images (real
 * Docker Engine): healthy, labelled like Compose v2, loopback-only, visible to Debian's
 * docker-compose; the real Claude Code CLI exports into it; data survives stop/start and a
 * recreate; down keeps the volumes unless asked.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { runClaude } from '../support/claude-cli';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic';
import { composeFile, docker, eventually, leftovers, purge, standinEnv, testStack, type TestStack } from './helpers';

describe('docker stack lifecycle (stand-in images, real engine)', () => {
  let stack: TestStack;
  let api: FakeAnthropic;
  const progress: string[] = [];

  before(async () => {
    stack = await testStack('life');
    api = await startFakeAnthropic();
  });
  after(async () => {
    await api?.close();
    if (stack) await purge(stack.project);
  });

  test('start: both containers up, ClickHouse healthy, collector answering', async () => {
    const status = await stack.backend.start({ onProgress: (p) => progress.push(p.message) });
    assert.equal(status.state, 'running');
    assert.deepEqual(status.state === 'running' && status.endpoints, { host: '127.0.0.1', ...stack.ports });
    const containers = await docker.listContainers({ filters: { label: [`com.docker.compose.project=${stack.project}`] } });
    assert.equal(containers.length, 2);
    const ch = await docker.getContainer(`${stack.project}-clickhouse-1`).inspect();
    assert.equal(ch.State.Health?.Status, 'healthy');
    assert.equal(ch.HostConfig.Init, true);
    assert.ok(progress.some((m) => /Waiting for clickhouse/.test(m)));
    assert.equal((await fetch(`http://127.0.0.1:${stack.ports.httpPort}/ping`).then((r) => r.text())).trim(), 'Ok.');
    assert.equal((await stack.backend.status()).state, 'running');
  });

  test('Compose v2 labels on containers, network and volumes', async () => {
    for (const service of ['clickhouse', 'otel-collector']) {
      const info = await docker.getContainer(`${stack.project}-${service}-1`).inspect();
      const l = info.Config.Labels;
      assert.equal(l['com.docker.compose.project'], stack.project);
      assert.equal(l['com.docker.compose.service'], service);
      assert.equal(l['com.docker.compose.oneoff'], 'False');
      assert.match(l['com.docker.compose.config-hash'] ?? '', /^[0-9a-f]{64}$/);
      assert.equal(l['com.docker.compose.project.working_dir'], composeFile.replace(/\/docker-compose\.yml$/, ''));
      assert.equal(l['com.docker.compose.project.config_files'], composeFile);
      assert.match(l['com.docker.compose.version'] ?? '', /^\d+\.\d+\.\d+$/);
    }
    const left = await leftovers(stack.project);
    assert.deepEqual(left.networks, [`${stack.project}_default`]);
    assert.deepEqual(left.volumes.sort(), [`${stack.project}_clickhouse-data`, `${stack.project}_collector-queue`]);
    const net = await docker.getNetwork(`${stack.project}_default`).inspect();
    assert.equal(net.Labels?.['com.docker.compose.network'], 'default');
  });

  test('only 127.0.0.1 ports are published (OTLP, ClickHouse HTTP, the collector\'s own metrics)', async () => {
    const containers = await docker.listContainers({ filters: { label: [`com.docker.compose.project=${stack.project}`] } });
    const published = containers.flatMap((c) => c.Ports.filter((p) => p.PublicPort));
    assert.equal(published.length, 4);
    for (const p of published) assert.equal(p.IP, '127.0.0.1');
    assert.deepEqual(published.map((p) => p.PublicPort).sort((a, b) => a - b), [...Object.values(stack.ports), stack.collectorMetricsPort].sort((a, b) => a - b));
  });

  test("Debian's docker-compose 1.29 lists the project", () => {
    const out = execFileSync('docker-compose', ['-f', composeFile, '-p', stack.project, 'ps'], { encoding: 'utf8', env: { ...process.env, ...standinEnv(), CHAPTER_TELEMETRY_SECRETS: stack.backend.secretsDir } });
    assert.match(out, new RegExp(`${stack.project}-clickhouse-1 .*Up \\(healthy\\)`));
    assert.match(out, new RegExp(`${stack.project}-otel-collector-1 .*Up`));
  });

  test('the real Claude Code CLI exports over gRPC and HTTP; the events are queryable on the ClickHouse port', async () => {
    for (const [protocol, port] of [['grpc', stack.ports.grpcPort], ['http/protobuf', stack.ports.otlpHttpPort]] as const) {
      const run = await runClaude({ prompt: 'say hi', protocol, endpoint: `http://127.0.0.1:${port}`, apiUrl: api.url, resourceAttributes: { chapter: 'ch07' } });
      assert.equal(run.code, 0, run.stderr);
      const rows = await eventually(async () => {
        const out = await stack.sql(`SELECT event_type, chapter_context FROM telemetry_events WHERE session_id = '${run.sessionId}' FORMAT TabSeparated`);
        return out.includes('api_request') ? out : undefined;
      }, `events of session ${run.sessionId} (${protocol})`);
      assert.match(rows, /user_prompt/);
      assert.match(rows, /api_request\tch07/);
    }
  });

  test('stop and start again: the data is still there', async () => {
    const before = (await stack.sql('SELECT count() FROM otel_logs')).trim();
    assert.ok(Number(before) > 0);
    await stack.backend.stop();
    assert.equal((await stack.backend.status()).state, 'stopped');
    const after = await stack.backend.start();
    assert.equal(after.state, 'running');
    assert.equal((await stack.sql('SELECT count() FROM otel_logs')).trim(), before);
  });

  test('a changed service config recreates that container and keeps the data', async () => {
    const before = (await stack.sql('SELECT count() FROM otel_logs')).trim();
    const oldId = (await docker.getContainer(`${stack.project}-clickhouse-1`).inspect()).Id;
    const secretsDir = stack.backend.secretsDir;
    const changed = await testStack('life', { projectName: stack.project, endpoints: stack.ports, collectorMetricsPort: stack.collectorMetricsPort, secretsDir });
    // Same file and variables give the same hash: nothing to do.
    await changed.backend.start();
    assert.equal((await docker.getContainer(`${stack.project}-clickhouse-1`).inspect()).Id, oldId);
    const recreated = await testStack('life', { projectName: stack.project, endpoints: stack.ports, collectorMetricsPort: stack.collectorMetricsPort, secretsDir, env: { CLICKHOUSE_NOFILE: String(Number(standinEnv().CLICKHOUSE_NOFILE) - 1) } });
    const progress2: string[] = [];
    await recreated.backend.start({ onProgress: (p) => progress2.push(p.message) });
    assert.ok(progress2.some((m) => /Recreating clickhouse/.test(m)), progress2.join('\n'));
    assert.notEqual((await docker.getContainer(`${stack.project}-clickhouse-1`).inspect()).Id, oldId);
    assert.equal((await recreated.sql('SELECT count() FROM otel_logs')).trim(), before);
  });

  test('down keeps the volumes; down with volumes removes everything', async () => {
    await stack.backend.down();
    let left = await leftovers(stack.project);
    assert.deepEqual(left.containers, []);
    assert.deepEqual(left.networks, []);
    assert.equal(left.volumes.length, 2);
    await stack.backend.down({ volumes: true });
    left = await leftovers(stack.project);
    assert.deepEqual(left, { containers: [], networks: [], volumes: [] });
  });
});
