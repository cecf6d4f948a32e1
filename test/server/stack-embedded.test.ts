// The embedded backend against the real built server (dist/server.js, real chDB): start, attach
// from a second "window", stop, and the failures a user can meet (port held, data dir held, crash).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBackend } from '../../src/stack/embedded';
import { createBackend } from '../../src/stack/index';
import { pidAlive, ping } from '../../src/stack/server-state';
import { StackError, type StackEndpoints } from '../../src/stack/types';
import { fetchCounts } from '../../src/vscode/store-counts';
import { buildFocusLogRequest } from '../../src/core/otlp-log';
import { freePort } from '../support/ports';
import { serverScript } from '../support/server';

const roots: string[] = [];
const backends: EmbeddedBackend[] = [];
function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  roots.push(d);
  return d;
}
async function endpoints(): Promise<StackEndpoints> {
  return { host: '127.0.0.1', grpcPort: await freePort(), otlpHttpPort: await freePort(), httpPort: await freePort() };
}
function backend(stateDir: string, dataDir: string, e: StackEndpoints): EmbeddedBackend {
  const b = new EmbeddedBackend({ stateDir, dataDir, endpoints: e, serverScript, readyTimeoutMs: 60_000 });
  backends.push(b);
  return b;
}

after(async () => {
  for (const b of backends) await b.stop().catch(() => undefined);
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe('EmbeddedBackend with the real server', () => {
  test('the built server exists (npm run build)', () => assert.ok(existsSync(serverScript), serverScript));

  test('start → healthy → a second window attaches → stop', async () => {
    const stateDir = tmp('ct-state-');
    const e = await endpoints();
    const a = backend(stateDir, join(stateDir, 'data'), e);
    const lines: string[] = [];
    const sub = a.onLog((l) => lines.push(l));
    assert.deepEqual(await a.status(), { state: 'stopped' });
    const s = await a.start();
    assert.equal(s.state, 'running');
    assert.ok(s.state === 'running' && s.attached === false && s.pid);
    assert.deepEqual(s.state === 'running' && s.endpoints, e);
    assert.equal(await ping(e.host, e.httpPort), true);
    const pid = (s as { pid: number }).pid;

    // A second window: same global storage, its own backend object.
    const b = await createBackend('embedded', { stateDir, endpoints: e, serverScript });
    const sb = await b.status();
    assert.equal(sb.state, 'running');
    assert.ok(sb.state === 'running' && sb.attached && sb.pid === pid);
    const started = await b.start();
    assert.ok(started.state === 'running' && started.attached && started.pid === pid, 'start attaches instead of spawning');

    // The focus record goes in over OTLP/HTTP JSON and is counted apart from Claude Code's events.
    const res = await fetch(`http://127.0.0.1:${e.otlpHttpPort}/v1/logs`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(buildFocusLogRequest({ chapter: 'ch07', userId: 'alice', workspace: 'book', file: 'ch07/a.md' })),
    });
    assert.equal(res.status, 200, await res.text());
    const counts = await fetchCounts(e.host, e.httpPort, 'alice');
    assert.equal(counts.events, 0);
    const focus = await (await fetch(`http://127.0.0.1:${e.httpPort}/?query=${encodeURIComponent("SELECT chapter, user_id, file FROM chapter_focus FORMAT TSV")}`)).text();
    assert.equal(focus.trim(), 'ch07\talice\tch07/a.md');

    await new Promise((r) => setTimeout(r, 600)); // let the tail poll once
    await b.stop();
    assert.equal(pidAlive(pid), false);
    assert.equal(existsSync(a.stateFile), false);
    assert.deepEqual(await a.status(), { state: 'stopped' });
    sub.dispose();
    assert.ok(lines.length > 0 || existsSync(a.logFile), 'server output reaches the log');
  });

  test('a port held by another program → port-in-use naming the port', async () => {
    const stateDir = tmp('ct-state-');
    const e = await endpoints();
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(e.httpPort, '127.0.0.1', r));
    try {
      const a = backend(stateDir, join(stateDir, 'data'), e);
      await assert.rejects(a.start(), (err: unknown) => {
        assert.ok(err instanceof StackError);
        assert.equal(err.code, 'port-in-use');
        assert.match(err.message, new RegExp(String(e.httpPort)));
        assert.ok(err.hint.length > 0);
        return true;
      });
      assert.deepEqual(await a.status(), { state: 'stopped' });
    } finally {
      holder.close();
    }
  });

  test('a data dir held by another server → data-dir-locked', async () => {
    const dataDir = tmp('ct-data-');
    const a = backend(tmp('ct-state-'), dataDir, await endpoints());
    await a.start();
    const b = backend(tmp('ct-state-'), dataDir, await endpoints());
    await assert.rejects(b.start(), (err: unknown) => err instanceof StackError && err.code === 'data-dir-locked');
    await a.stop();
  });

  test('a stale state file (dead pid) reads as stopped and is cleaned up', async () => {
    const stateDir = tmp('ct-state-');
    const a = backend(stateDir, join(stateDir, 'data'), await endpoints());
    writeFileSync(a.stateFile, JSON.stringify({ pid: 2 ** 22 + 12345, host: '127.0.0.1', grpcPort: 1, otlpHttpPort: 2, httpPort: 3, dataDir: 'x', startedAt: '' }));
    assert.deepEqual(await a.status(), { state: 'stopped' });
    assert.equal(existsSync(a.stateFile), false);
  });

  test('a crash of a server we started is reported', async () => {
    const stateDir = tmp('ct-state-');
    const a = backend(stateDir, join(stateDir, 'data'), await endpoints());
    const s = await a.start();
    const crashed = new Promise<StackError>((r) => a.onUnexpectedExit(r));
    // The backend unrefs its child (the extension host must not wait for it); keep this test process alive.
    const keepAlive = setInterval(() => undefined, 1000);
    process.kill((s as { pid: number }).pid, 'SIGKILL');
    const err = await crashed;
    clearInterval(keepAlive);
    assert.equal(err.code, 'crashed');
    assert.match(err.message, /SIGKILL/);
    assert.deepEqual(await a.status(), { state: 'stopped' });
  });
});
