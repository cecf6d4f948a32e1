// Centralize Telemetry / Revert to Local through their argument forms (scripts, keybindings), inside the real
// extension host, against the team server test/vscode/centralize-args.test.ts runs in a network namespace. Registered
// only when that test runs (it sets CT_CENTRAL_ARGS_DIR: bundles in, results.json out). No prompt may open: a
// complete argument answers every question.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { central, teamCommand, until } from './helpers';

export function registerCentralizeArgsSuite(): void {
  const dir = process.env.CT_CENTRAL_ARGS_DIR;
  if (!dir) return;
  const bundle = (name: string) => readFileSync(join(dir, `${name}.bundle`), 'utf8').trim();
  const results: Record<string, unknown> = {};
  // A prompt opened by mistake would wait for a human: the mocha timeout fails such a call.
  const sendLocal = async (session: string) => {
    const port = vscode.workspace.getConfiguration('chapterTelemetry').get<number>('otlpHttpPort');
    const kv = (key: string, v: string) => ({ key, value: { stringValue: v } });
    const res = await fetch(`http://127.0.0.1:${port}/v1/logs`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ resourceLogs: [{ resource: { attributes: [kv('service.name', 'claude-code')] }, scopeLogs: [{ logRecords: [{ timeUnixNano: `${Date.now()}000000`, body: { stringValue: 'claude_code.user_prompt' }, attributes: [kv('event.name', 'user_prompt'), kv('session.id', session), kv('prompt', 'SECRET-PLOT-TWIST')] }] }] }] }),
    });
    assert.equal(res.status, 200);
  };
  describe('centralize arguments', () => {
    before(async () => {
      await vscode.extensions.getExtension('chapter-telemetry.chapter-telemetry')?.activate();
      assert.equal(await vscode.commands.executeCommand('chapterTelemetry.start'), true);
    });
    after(() => writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2)));

    it('refuses a wrong argument shape, a garbled line and a rotated secret: nothing stored', async () => {
      assert.match((await teamCommand('centralize', { bundle: bundle('bob'), privacy: 'all', history: 'all', secret: 'x' })).error ?? '', /Unknown argument field\(s\): secret/);
      assert.match((await teamCommand('centralize', { bundle: bundle('bob'), privacy: 'some', history: 'all' })).error ?? '', /privacy must be one of/);
      const cut = await teamCommand('centralize', { bundle: bundle('bob').slice(0, -4), privacy: 'all', history: 'all' });
      assert.equal(cut.connected, false);
      assert.match(cut.error ?? '', /cut off|checksum/);
      const stale = await teamCommand('centralize', { bundle: bundle('carol-old'), privacy: 'all', history: 'all' });
      assert.equal(stale.connected, false);
      assert.match(stale.error ?? '', /connection test failed; nothing was changed.*refused the member's secret \(401\)/);
      assert.equal((await central()).connection, undefined);
      results.refused = true;
    });

    it('bob, aggregates-only, no history: connected; later records go up without content', async () => {
      await sendLocal('args-before');
      const r = await teamCommand('centralize', { bundle: bundle('bob'), privacy: 'aggregates-only', history: 'none' });
      assert.deepEqual({ connected: r.connected, team: r.team, member: r.member, role: r.role, moved: r.moved, error: r.error }, { connected: true, team: 'Args Team', member: 'bob', role: 'contributor', moved: undefined, error: undefined });
      const c = await central();
      assert.equal(c.connection?.central, true);
      assert.equal(c.connection?.privacy, 'aggregates-only');
      assert.equal(vscode.workspace.getConfiguration('chapterTelemetry').get('team.privacy'), 'aggregates-only');
      // A record with content, sent to the LOCAL stack as Claude Code would.
      await sendLocal('args-after');
      await until('the queue delivered', central, (v) => v.status?.queue_rows === 0 && (v.status?.delivered_rows ?? 0) > 0, 60_000);
      results.bob = r;
    });

    it('Revert to Local {forgetSecret, dropQueue}: queue dropped, connection and secret gone', async () => {
      const r = await teamCommand('revertToLocal', { forgetSecret: true, dropQueue: true });
      assert.deepEqual(r, { reverted: true, queue: 'dropped', secretForgotten: true });
      assert.equal((await central()).connection, undefined);
      assert.equal(vscode.workspace.getConfiguration('chapterTelemetry').inspect('team.endpoint')?.globalValue, undefined);
    });

    it('admin, everything, all history: the history moves and the count check passes', async () => {
      const r = await teamCommand('centralize', { bundle: bundle('admin'), privacy: 'all', history: 'all' });
      assert.equal(r.connected, true, r.error);
      assert.equal(r.member, 'admin');
      assert.ok(Number(r.moved) > 0, JSON.stringify(r));
      assert.match(String(r.countCheck), /Count check passed: team Args Team holds \d+ of your log records/);
      assert.equal((await central()).connection?.history_done, true);
      results.admin = r;
    });

    it('Revert to Local {pullBack, keep the secret}: own records the team holds come back, counted; the connection stays, not central', async () => {
      const r = await teamCommand('revertToLocal', { pullBack: true, forgetSecret: false });
      assert.equal(r.reverted, true, r.error);
      assert.equal(r.queue, 'kept');
      // Everything admin's rows at the team came from here, except the connection tests the probe sent straight up.
      const pb = r.pullBack as { done: boolean; pulled: number; already: number; teamRecords: number; reason?: string };
      assert.equal(pb.done, true, pb.reason);
      assert.ok(pb.pulled >= 1, JSON.stringify(pb));
      assert.equal(pb.pulled + pb.already, pb.teamRecords, JSON.stringify(pb));
      const httpPort = vscode.workspace.getConfiguration('chapterTelemetry').get<number>('httpPort');
      const local = await (await fetch(`http://127.0.0.1:${httpPort}/?query=${encodeURIComponent("SELECT count() FROM otel_logs WHERE LogAttributes['event.name'] = 'connection_test'")}`)).text();
      assert.ok(Number(local.trim()) >= 1, `the connection test record pulled into the local store (${local})`);
      results.pullBack = pb;
      const c = await central();
      assert.equal(c.connection?.central, false);
      assert.equal(c.connection?.member, 'admin');
      const again = await teamCommand('revertToLocal', { forgetSecret: false });
      assert.deepEqual(again, { reverted: false, error: 'Collection is already local: no team connection is forwarding.' });
      assert.equal(await vscode.commands.executeCommand('chapterTelemetry.stop'), undefined);
    });
  });
}
