// Centralize Telemetry in DOCKER mode through its argument form, inside the real extension host: the collector (the
// stand-in image) becomes the team's agent. Registered only when test/vscode/centralize-docker.test.ts runs (it sets
// CT_CENTRAL_DOCKER_DIR: the bundle in, results.json out) against its team server in a network namespace over TLS.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { central, teamCommand, until } from './helpers';

export function registerCentralizeDockerSuite(): void {
  const dir = process.env.CT_CENTRAL_DOCKER_DIR;
  if (!dir) return;
  const bundle = readFileSync(join(dir, 'carol.bundle'), 'utf8').trim();
  const results: Record<string, unknown> = {};
  const sendLocal = async (session: string) => {
    const port = vscode.workspace.getConfiguration('chapterTelemetry').get<number>('otlpHttpPort');
    const kv = (key: string, v: string) => ({ key, value: { stringValue: v } });
    const body = JSON.stringify({ resourceLogs: [{ resource: { attributes: [kv('service.name', 'claude-code')] }, scopeLogs: [{ logRecords: [{ timeUnixNano: `${Date.now()}000000`, body: { stringValue: 'claude_code.api_request' }, attributes: [kv('event.name', 'api_request'), kv('session.id', session)] }] }] }] });
    const post = async () => (await fetch(`http://127.0.0.1:${port}/v1/logs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }).catch(() => undefined))?.status ?? 0;
    // A collector recreated a moment ago may still refuse (503 / no answer): OTLP clients retry, so do we.
    const status = await until('the collector accepting', post, (s) => s !== 503 && s !== 0, 60_000);
    assert.equal(status, 200);
  };
  describe('centralize in docker mode', () => {
    before(async () => {
      await vscode.extensions.getExtension('chapter-telemetry.chapter-telemetry')?.activate();
      assert.equal(vscode.workspace.getConfiguration('chapterTelemetry').get('mode'), 'docker');
      assert.equal(await vscode.commands.executeCommand('chapterTelemetry.start'), true);
    });
    after(() => writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2)));

    it('history to move: refused before anything changes (the collector forwards from now on)', async () => {
      const r = await teamCommand('centralize', { bundle, privacy: 'no-content', history: 'all' });
      assert.equal(r.connected, false);
      assert.match(r.error ?? '', /forwards what arrives from now on.*Nothing was changed/);
      assert.equal((await central()).connection, undefined);
    });

    it('carol, no-content, no history: connected; a record sent to the local collector is delivered, the status says so', async () => {
      const r = await teamCommand('centralize', { bundle, privacy: 'no-content', history: 'none' });
      assert.deepEqual({ connected: r.connected, member: r.member, role: r.role, error: r.error }, { connected: true, member: 'carol', role: 'contributor', error: undefined });
      assert.equal((await central()).connection?.central, true);
      await sendLocal('docker-central-after');
      const c = await until('delivered by the collector', central, (v) => (v.status?.delivered_rows ?? 0) > 0 && v.status?.state === 'idle', 90_000);
      assert.equal(c.status?.member, 'carol');
      results.carol = r;
      results.status = c.status;
    });

    it('Revert to Local {forgetSecret}: forwarding off, connection gone; pull-back is not offered in docker mode', async () => {
      const pb = await teamCommand('revertToLocal', { pullBack: true, forgetSecret: true });
      assert.equal(pb.reverted, true, pb.error);
      const pulled = pb.pullBack as { done: boolean; reason?: string } | undefined;
      assert.equal(pulled?.done, false);
      assert.match(pulled?.reason ?? '', /not available in docker mode/);
      assert.equal((await central()).connection, undefined);
      results.revert = pb;
      assert.equal(await vscode.commands.executeCommand('chapterTelemetry.stop'), undefined);
    });
  });
}
