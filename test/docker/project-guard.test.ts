/**
 * What the docker backend must never do to what is not its own, and never claim to have done:
 * a Compose project holding a container we did not create (a workspace may name any project) is
 * neither replaced, stopped nor removed; `down` reports a volume it could not delete (in use)
 * instead of ignoring it, and the CLI then says so rather than "data deleted".
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { StackError } from '../../src/stack/types';
import { cli, docker, purge, sleeperSpec, testStack } from './helpers';

function isStackError(err: unknown, code: string, message: RegExp): boolean {
  assert.ok(err instanceof StackError, `expected a StackError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.match(err.message, message);
  return true;
}

describe('docker backend: foreign containers and failed removals', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  test('a project holding a container without our label: start, stop, down and status refuse, the container is untouched', async () => {
    const stack = await testStack('foreign');
    cleanups.push(() => purge(stack.project));
    // Someone else's service in a project of the same name, even with one of our service names.
    const foreign = await docker.createContainer(sleeperSpec({
      name: `${stack.project}-clickhouse-1`,
      Labels: { 'com.docker.compose.project': stack.project, 'com.docker.compose.service': 'clickhouse', 'com.docker.compose.oneoff': 'False', 'com.docker.compose.config-hash': 'theirs' },
    }));
    await foreign.start();
    const refused = /holds containers Chapter Telemetry did not create .*-clickhouse-1/;
    await assert.rejects(stack.backend.start(), (e) => isStackError(e, 'engine-failed', refused));
    await assert.rejects(stack.backend.stop(), (e) => isStackError(e, 'engine-failed', refused));
    await assert.rejects(stack.backend.down({ volumes: true }), (e) => isStackError(e, 'engine-failed', refused));
    const status = await stack.backend.status();
    assert.equal(status.state, 'error');
    const info = await foreign.inspect();
    assert.equal(info.State.Running, true, 'the foreign container still runs');
    const mine = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${stack.project}`] } });
    assert.deepEqual(mine.map((c) => c.Id), [info.Id], 'nothing was created next to it');
  });

  test('down with volumes: a volume still in use is reported, not silently kept', async () => {
    const stack = await testStack('downerr');
    cleanups.push(() => purge(stack.project));
    const volume = `${stack.project}_clickhouse-data`;
    await docker.createVolume({ Name: volume, Labels: { 'com.docker.compose.project': stack.project, 'com.docker.compose.volume': 'clickhouse-data' } });
    // A container outside the project holds the volume (created is enough: Docker refuses to remove it).
    const holder = await docker.createContainer(sleeperSpec({ HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/data' }] } }));
    cleanups.push(() => holder.remove({ force: true }));
    await assert.rejects(stack.backend.down({ volumes: true }), (e) => isStackError(e, 'engine-failed', new RegExp(`volume ${volume}: .*in use`)));
    await docker.getVolume(volume).inspect(); // still there, as reported

    const r = await cli(['down', '--mode', 'docker', '--project', stack.project, '--volumes']);
    assert.equal(r.code, 5, r.stderr);
    assert.doesNotMatch(r.stdout, /data deleted/);
    assert.match(r.stderr, new RegExp(`^error: Docker could not remove everything of the project "${stack.project}": volume ${volume}`, 'm'));

    await holder.remove({ force: true });
    await stack.backend.down({ volumes: true });
    await assert.rejects(docker.getVolume(volume).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });
});
