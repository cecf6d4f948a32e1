// Export Data, Weekly Report and Delete My Data through their commands' argument forms, inside the real
// extension host, against the server test/vscode/data-lifecycle.test.ts started. Registered only when
// that test runs (it sets CT_DATA_LIFECYCLE_OUT); the outcomes go to results.json for it to check.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

export function registerDataLifecycleSuite(): void {
  const out = process.env.CT_DATA_LIFECYCLE_OUT;
  if (!out) return;
  const results: Record<string, unknown> = {};
  describe('data lifecycle', () => {
    before(async () => {
      await vscode.extensions.getExtension('chapter-telemetry.chapter-telemetry')?.activate();
    });
    after(() => writeFileSync(join(out, 'results.json'), JSON.stringify(results)));
    it('the three commands are registered and in the palette', async () => {
      const all = await vscode.commands.getCommands(true);
      const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'chapter-telemetry')!;
      const contributed = ext.packageJSON.contributes.commands as { command: string; title: string }[];
      for (const [id, title] of [['exportData', 'Export Data…'], ['deleteMyData', 'Delete My Data…'], ['weeklyReport', 'Weekly Report']]) {
        assert.ok(all.includes(`chapterTelemetry.${id}`), id);
        assert.equal(contributed.find((c) => c.command === `chapterTelemetry.${id}`)?.title, title);
      }
    });
    it('Export Data with {table, from, to, format, out} writes the file', async () => {
      const r = (await vscode.commands.executeCommand('chapterTelemetry.exportData', {
        table: 'events', from: '2026-11-16', to: '2026-11-29', format: 'csv', out: join(out, 'events.csv'),
      })) as { rows?: number; error?: string };
      assert.equal(r.error, undefined);
      assert.ok((r.rows ?? 0) > 0, JSON.stringify(r));
      results.exportCsv = r;
      const p = (await vscode.commands.executeCommand('chapterTelemetry.exportData', { table: 'daily', format: 'parquet', out: join(out, 'daily.parquet') })) as { rows?: number };
      results.exportParquet = p;
      const bad = (await vscode.commands.executeCommand('chapterTelemetry.exportData', { table: 'system.users', format: 'csv', out: join(out, 'x.csv') })) as { error?: string };
      assert.match(bad.error ?? '', /unknown table/);
    });
    it('Weekly Report with {week, dir} writes Markdown and HTML and shows the panel', async () => {
      const r = (await vscode.commands.executeCommand('chapterTelemetry.weeklyReport', { week: '2026-W48', dir: join(out, 'reports'), show: true })) as { files?: string[]; error?: string };
      assert.equal(r.error, undefined);
      assert.equal(r.files?.length, 2);
      results.report = r;
    });
    it('the retention settings (user level) reach the store as its TTLs', async () => {
      const cfg = vscode.workspace.getConfiguration('chapterTelemetry');
      await cfg.update('retention.rawDays', 30, vscode.ConfigurationTarget.Global);
      await cfg.update('retention.sessionDays', 60, vscode.ConfigurationTarget.Global);
      const altered = (await vscode.commands.executeCommand('chapterTelemetry.internal.applyRetention')) as string[];
      assert.ok(altered.includes('telemetry_events') && altered.includes('session_summaries'), JSON.stringify(altered));
      results.retention = altered;
    });
    it('Delete My Data with {confirmed: true} leaves zero rows of the author in every table', async () => {
      const r = (await vscode.commands.executeCommand('chapterTelemetry.deleteMyData', { confirmed: true })) as {
        user: string; before?: { table: string; count: { rows: number } }[]; after?: { table: string; count: { rows: number } }[]; error?: string };
      assert.equal(r.error, undefined);
      assert.equal(r.user, 'alice');
      assert.ok(r.before!.every((t) => t.count.rows > 0), JSON.stringify(r.before));
      assert.ok(r.after!.every((t) => t.count.rows === 0), JSON.stringify(r.after));
      results.delete = r;
    });
  });
}
