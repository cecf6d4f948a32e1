// Delete My Data's team branch inside the real extension host, against the team server that
// test/vscode/delete-central.test.ts runs in a network namespace: the member connects with Centralize
// Telemetry's argument form (bundle read from a 0600 file the test wrote), then Delete My Data with
// `{confirmed: true, where: 'team'}` shows the counts on the team server, deletes them there and
// reports zero afterwards, leaving the local store alone. Registered only when that test runs
// (CT_TEAM_DELETE_OUT); outcomes go to results.json for it to compare with SQL on the team server.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

export function registerTeamDeleteSuite(): void {
  const out = process.env.CT_TEAM_DELETE_OUT;
  if (!out) return;
  const results: Record<string, unknown> = {};
  describe('team delete', () => {
    before(async () => {
      await vscode.extensions.getExtension('chapter-telemetry.chapter-telemetry')?.activate();
    });
    after(() => writeFileSync(join(out, 'results.json'), JSON.stringify(results)));
    it('connects with the bundle (argument form)', async () => {
      const bundle = readFileSync(join(out, 'dana.bundle'), 'utf8').trim();
      const r = (await vscode.commands.executeCommand('chapterTelemetry.centralize', { bundle, privacy: 'all', history: 'none' })) as { connected: boolean; member?: string; error?: string };
      assert.equal(r.error, undefined);
      assert.equal(r.connected, true);
      results.centralize = r;
    });
    it('where: team deletes the member\'s rows on the team server and leaves the local store alone', async () => {
      const r = (await vscode.commands.executeCommand('chapterTelemetry.deleteMyData', { confirmed: true, where: 'team' })) as {
        user: string; before?: unknown; error?: string;
        team?: { team: string; member: string; deleted?: boolean; error?: string; before?: { id: string; rows: number }[]; after?: { id: string; rows: number }[] } };
      assert.equal(r.error, undefined);
      assert.equal(r.before, undefined, 'the local store was not touched');
      assert.equal(r.team?.error, undefined, JSON.stringify(r.team));
      assert.equal(r.team?.deleted, true);
      assert.ok(r.team!.before!.some((t) => t.rows > 0));
      assert.ok(r.team!.after!.every((t) => t.rows === 0), JSON.stringify(r.team!.after));
      results.delete = r;
      const again = (await vscode.commands.executeCommand('chapterTelemetry.deleteMyData', { confirmed: true, where: 'team' })) as { team?: { deleted?: boolean; before?: { rows: number }[] } };
      assert.equal(again.team?.deleted, false, 'nothing left to delete');
      results.again = again;
    });
  });
}
