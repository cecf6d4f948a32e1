/**
 * Container output through dockerode's demultiplexer (src/stack/docker/logs.ts): stdout and stderr
 * frames both arrive, a line written in two pieces is one line, a multi-byte character survives,
 * for the last lines and for the live follow. (Docker's log driver holds a line without a newline
 * back until the container writes one, so an unterminated last line cannot be produced here.)
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { followLogs, lastLogLines } from '../../src/stack/docker/logs';
import { docker, eventually, sleeperSpec } from './helpers';

const SCRIPT = `
process.stdout.write('out one\\n');
process.stderr.write('err two\\n');
process.stdout.write('Kapitel für ');
setTimeout(() => process.stdout.write('Übersetzung\\n'), 300);
setInterval(() => {}, 1e6);`;

describe('container logs, demultiplexed by dockerode', () => {
  let id = '';
  after(async () => {
    if (id) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
  });

  test('last lines and the live follow carry both streams, split writes and UTF-8 intact', async () => {
    const c = await docker.createContainer(sleeperSpec({ Entrypoint: ['/usr/local/bin/node', '-e', SCRIPT], Tty: false }));
    id = c.id;
    const followed: string[] = [];
    await c.start();
    const stop = await followLogs(docker, id, 'svc', (l) => followed.push(l), 0);
    try {
      const expected = ['out one', 'err two', 'Kapitel für Übersetzung'];
      const last = await eventually(async () => {
        const text = await lastLogLines(docker, id);
        return text.includes('Übersetzung') ? text : undefined;
      }, 'all three lines in the log');
      assert.deepEqual(last.split('\n'), expected);
      await eventually(async () => followed.length >= 3, 'three complete followed lines');
      assert.deepEqual(followed.slice(0, 3), expected.slice(0, 3).map((l) => `[svc] ${l}`));
    } finally {
      stop();
    }
  });
});
