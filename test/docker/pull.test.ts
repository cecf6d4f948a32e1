/**
 * The image-pull path for real: a local registry (Debian's docker-registry on a free port) holds an
 * image that is not in the engine; starting the stack pulls it with aggregated progress. An
 * unreachable registry and a cancelled pull end in clear StackErrors with nothing left behind.
 */
import { Readable } from 'node:stream';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { StackError, type ProgressReport } from '../../src/stack/types';
import { freePort } from '../support/ports';
import { docker, eventually, leftovers, purge, STANDIN_CLICKHOUSE, testStack } from './helpers';

async function follow(stream: NodeJS.ReadableStream): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, events: { error?: string }[]) => {
      const failed = err?.message ?? events.find((e) => e.error)?.error;
      return failed ? reject(new Error(failed)) : resolve();
    }),
  );
}

describe('image pulls through the docker backend', () => {
  let registry: ChildProcess;
  let registryPort: number;
  let image: string;
  const projects: string[] = [];

  before(async () => {
    registryPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'ct-registry-'));
    writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${registryPort}\n`);
    registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    await eventually(async () => (await fetch(`http://127.0.0.1:${registryPort}/v2/`)).ok, 'the registry answering');
    // A ClickHouse stand-in with one layer of its own (16 MB), so the pull downloads it for real.
    const ctx = mkdtempSync(join(tmpdir(), 'ct-pull-ctx-'));
    writeFileSync(join(ctx, 'nonce'), randomBytes(16 << 20));
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${STANDIN_CLICKHOUSE}\nCOPY nonce /nonce\n`);
    image = `127.0.0.1:${registryPort}/chapter-telemetry/clickhouse:pull-${randomBytes(3).toString('hex')}`;
    const tar = spawnSync('tar', ['-C', ctx, '-cf', '-', '.'], { maxBuffer: 64 << 20 }).stdout;
    await follow(await docker.buildImage(Readable.from([tar]), { t: image }));
    await follow(await docker.getImage(image).push({ authconfig: { serveraddress: `127.0.0.1:${registryPort}` } }));
    await docker.getImage(image).remove();
  });

  after(async () => {
    for (const p of projects) await purge(p);
    await docker.getImage(image).remove({ force: true }).catch(() => undefined);
    registry?.kill('SIGTERM');
  });

  test('a missing image is pulled with progress, then the stack starts', async () => {
    await assert.rejects(docker.getImage(image).inspect(), /no such image/i);
    const stack = await testStack('pull', { env: { CLICKHOUSE_IMAGE: image } });
    projects.push(stack.project);
    const progress: ProgressReport[] = [];
    const status = await stack.backend.start({ onProgress: (p) => progress.push(p) });
    assert.equal(status.state, 'running');
    const pulls = progress.filter((p) => p.message.includes(image));
    assert.ok(pulls.some((p) => p.percent !== undefined && p.percent > 0 && p.percent < 100), `a partial figure among ${JSON.stringify(pulls.slice(0, 20))}`);
    assert.equal(pulls.at(-1)?.percent, 100);
    const percents = pulls.map((p) => p.percent).filter((p): p is number => p !== undefined);
    assert.deepEqual(percents, [...percents].sort((a, b) => a - b), 'progress never goes backwards');
    assert.ok(await docker.getImage(image).inspect());
    await stack.backend.down({ volumes: true });
  });

  test('cancelling during the pull: "cancelled", and nothing left behind', async () => {
    await docker.getImage(image).remove({ force: true }).catch(() => undefined);
    const stack = await testStack('cancel', { env: { CLICKHOUSE_IMAGE: image } });
    projects.push(stack.project);
    const ac = new AbortController();
    const started = stack.backend.start({ signal: ac.signal, onProgress: (p) => p.message.includes(image) && ac.abort() });
    const err = await started.then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof StackError, String(err));
    assert.equal(err.code, 'cancelled');
    assert.deepEqual(await leftovers(stack.project), { containers: [], networks: [], volumes: [] });
  });

  test('an unreachable registry: a clear message, and nothing left behind', async () => {
    const closed = await freePort();
    const missing = `127.0.0.1:${closed}/chapter-telemetry/clickhouse:none`;
    const stack = await testStack('unreach', { env: { CLICKHOUSE_IMAGE: missing } });
    projects.push(stack.project);
    const err = await stack.backend.start().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof StackError, String(err));
    assert.equal(err.code, 'image-pull-failed');
    assert.equal(err.message, `Could not download the image ${missing}: 127.0.0.1:${closed} cannot be reached.`);
    assert.match(err.hint, /internet connection|docker pull/);
    assert.deepEqual(await leftovers(stack.project), { containers: [], networks: [], volumes: [] });
  });

  test('an image the registry does not have: "not found" with the variable to fix', async () => {
    const unknown = `127.0.0.1:${registryPort}/chapter-telemetry/nope:1`;
    const stack = await testStack('unknown', { env: { CLICKHOUSE_IMAGE: unknown } });
    projects.push(stack.project);
    const err = await stack.backend.start().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof StackError, String(err));
    assert.equal(err.code, 'image-pull-failed');
    assert.match(err.message, /was not found on 127\.0\.0\.1:\d+/);
    assert.match(err.hint, /CLICKHOUSE_IMAGE/);
  });
});
