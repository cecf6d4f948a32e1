/**
 * Issue 13: an error nothing handles must not leave the server serving in an unknown state. It exits with code 5
 * and one plain line naming the error; the state file and pid file are gone; every acknowledged export is still
 * there when the server starts again on the same data dir. The fault is a real uncaught exception / unhandled
 * rejection raised inside the built server by a preloaded test module (test/support/inject-fault.cjs).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../support/server';
import { encodeLogs, logsRequest, postOtlp } from '../support/otlp';

const preload = join(__dirname, '..', 'support', 'inject-fault.cjs');

for (const [fault, name] of [['throw', 'TypeError: injected fault: thrown from a timer'], ['reject', 'Error: injected fault: a promise nobody awaited was rejected']] as const) {
  describe(`an unexpected ${fault === 'throw' ? 'exception' : 'promise rejection'} while serving`, () => {
    test('exit code 5, one plain line naming the error, state and pid files removed, acknowledged records kept', async () => {
      const root = mkdtempSync(join(tmpdir(), 'ct-crash-'));
      const dataDir = join(root, 'data');
      const stateFile = join(root, 'server.json');
      const srv = await startServer({
        dataDir,
        extraArgs: ['--state-file', stateFile],
        env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim(), CT_INJECT_FAULT: fault },
      });
      try {
        const r = await postOtlp(srv.otlpHttpUrl, 'logs', encodeLogs(logsRequest(
          Array.from({ length: 5 }, () => ({ name: 'api_request', attributes: { 'session.id': 'before-crash', cost_usd: 0.5 } })),
          { 'service.name': 'claude-code', user_id: 'crash-test' },
        )), 'application/x-protobuf');
        assert.equal(r.status, 200);
        assert.ok(existsSync(stateFile) && existsSync(join(dataDir, 'server.pid')));

        const exited = new Promise<number | null>((res) => srv.proc.once('exit', (code) => res(code)));
        srv.proc.kill('SIGUSR2');
        assert.equal(await exited, 5, srv.output());
        const lines = srv.output().trimEnd().split('\n');
        const last = lines.at(-1)!;
        assert.equal(last, last.trim());
        assert.ok(last.startsWith(`fatal: unexpected ${name} (at `), last);
        assert.match(last, /inject-fault\.cjs:\d+:\d+\); the server stops \(exit code 5\)/);
        assert.ok(!lines.some((l) => /^\s+at /.test(l)), `no stack trace:\n${srv.output()}`);
        assert.doesNotMatch(srv.output(), /still serving/);
        assert.equal(existsSync(stateFile), false, 'the state file is removed');
        assert.equal(existsSync(join(dataDir, 'server.pid')), false, 'the pid file is removed');
      } finally {
        await srv.stop();
      }

      const again = await startServer({ dataDir });
      try {
        assert.equal((await again.sql("SELECT count() FROM otel_logs WHERE ResourceAttributes['user_id'] = 'crash-test'")).trim(), '5');
        assert.equal((await again.sql("SELECT count() FROM telemetry_events WHERE user_id = 'crash-test'")).trim(), '5');
      } finally {
        await again.stop();
        rmSync(root, { recursive: true, force: true });
      }
    });
  });
}
