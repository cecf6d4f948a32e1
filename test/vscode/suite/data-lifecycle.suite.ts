// Export Data, Weekly Report, Delete My Data, Verify's storage and retention section, the weekly report on the
// first start of a week and the archive offer, through their commands' argument forms (internal commands for
// what activation did), inside the real extension host, against the server test/vscode/data-lifecycle.test.ts
// started. Registered only when that test runs (it sets CT_DATA_LIFECYCLE_OUT); the outcomes go to
// results.json for it to check (the archive's Parquet files are read back there, through the engine).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { until, workspaceRoot } from './helpers';

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
    it('the weekly report was written on the first start of the week (test clock: 2026-W49), and not again', async () => {
      const r = (await vscode.commands.executeCommand('chapterTelemetry.internal.lifecycleStart')) as {
        activation?: { report: { week?: string; files?: string[]; skipped?: string; error?: string } }; again?: { skipped?: string; week?: string } };
      assert.equal(r.activation?.report.error, undefined, JSON.stringify(r));
      assert.equal(r.activation?.report.week, '2026-W48', JSON.stringify(r));
      assert.equal(r.activation?.report.files?.length, 2);
      assert.match(r.again?.skipped ?? '', /already made in 2026-W49/);
      assert.equal(r.again?.week, undefined);
      results.firstStart = r;
    });
    it('a reports/ linked out of the workspace is refused: the report is not written through it', async () => {
      const root = workspaceRoot().fsPath;
      const outside = mkdtempSync(join(tmpdir(), 'ct-outside-'));
      renameSync(join(root, 'reports'), join(root, 'reports-first-start'));
      symlinkSync(outside, join(root, 'reports'));
      const r = (await vscode.commands.executeCommand('chapterTelemetry.weeklyReport', { week: '2026-W47', show: false })) as { error?: string };
      assert.match(r.error ?? '', /symbolic link/);
      assert.deepEqual(readdirSync(outside), []);
      assert.ok(!existsSync(join(outside, '2026-W47.md')));
    });
    it('Verify shows compressed disk, rows, oldest record and retention per table, equal to SQL', async () => {
      // Collection is off in this window (the test runs the server): the storage section reads the store all the same.
      const port = vscode.workspace.getConfiguration('chapterTelemetry').get<number>('httpPort');
      const sql = async (q: string) => (await (await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: `${q} FORMAT TSV` })).text()).trim();
      type V = { retention?: { table: string; compressedBytes: number; rows: number; oldestSec?: number; days: number }[]; retentionLines?: string[] };
      // Background merges change a table's parts: compare a Verify and the SQL that agree in one moment.
      const seen = await until('Verify equal to SQL', async () => {
        const v = (await vscode.commands.executeCommand('chapterTelemetry.verify', { quiet: true })) as V;
        const te = v.retention?.find((t) => t.table === 'telemetry_events');
        const [bytes, rows, oldest] = (await sql(`SELECT (SELECT sum(data_compressed_bytes) FROM system.parts WHERE database = 'default' AND table = 'telemetry_events' AND active),
          (SELECT count() FROM telemetry_events), (SELECT toUnixTimestamp(min(timestamp)) FROM telemetry_events)`)).split('\t').map(Number);
        return { v, equal: te?.compressedBytes === bytes && te?.rows === rows && te?.oldestSec === oldest, te, sql: [bytes, rows, oldest] };
      }, (x) => x.equal, 30_000);
      const lines = seen.v.retentionLines ?? [];
      assert.match(lines[0] ?? '', /^Storage and retention \(.* compressed in \d+ tables/);
      for (const t of seen.v.retention!) assert.ok(lines.some((l) => l.includes(` ${t.table} `)), t.table);
      assert.match(lines.find((l) => l.includes(' telemetry_events ')) ?? '', /oldest \d{4}-\d{2}-\d{2} \(\d+ days ago\); kept 90 days/);
      assert.match(lines.find((l) => l.includes(' daily_metrics ')) ?? '', /kept forever \(aggregates\)/);
      assert.match(lines.find((l) => l.includes(' session_summaries ')) ?? '', /kept 365 days \(session summaries\)/);
      results.verify = seen.v;
    });
    it('the archive offer came at activation for the rows about to expire, not again that week; Archive writes them; "Don\'t ask again" holds', async () => {
      const r = (await vscode.commands.executeCommand('chapterTelemetry.internal.lifecycleStart')) as { activation?: { archive: { offered: boolean; counts?: { id: string; rows: number }[]; message?: string } } };
      const act = r.activation!.archive;
      assert.equal(act.offered, true, JSON.stringify(act));
      const n = Object.fromEntries((act.counts ?? []).map((c) => [c.id, c.rows]));
      assert.deepEqual([n.events, n.focus, n.otel_logs, n.sessions], [3, 3, 6, 0], JSON.stringify(act.counts));
      assert.match(act.message ?? '', /^12 records pass their retention by \d{4}-\d{2}-\d{2}/);
      const again = (await vscode.commands.executeCommand('chapterTelemetry.internal.archiveOffer', { choose: 'Archive', dir: join(out, 'never') })) as { offered: boolean; reason?: string };
      assert.deepEqual(again, { offered: false, reason: 'offered within the last week' });
      // "Archive" as the answer to an offer made now (force: the week's limit is the unit tier's and the step above).
      const archived = (await vscode.commands.executeCommand('chapterTelemetry.internal.archiveOffer', { force: true, choose: 'Archive', dir: join(out, 'archive') })) as {
        offered: boolean; choice?: string; files?: { id: string; rows: number; out: string }[]; untilSec?: number; error?: string };
      assert.equal(archived.error, undefined);
      assert.equal(archived.choice, 'Archive');
      assert.deepEqual(archived.files?.map((f) => [f.id, f.rows]), [['events', 3], ['focus', 3], ['otel_logs', 6]]);
      results.archive = archived;
      const never = (await vscode.commands.executeCommand('chapterTelemetry.internal.archiveOffer', { force: true, choose: "Don't ask again" })) as { offered: boolean; choice?: string; files?: unknown };
      assert.equal(never.offered, true);
      assert.equal(never.files, undefined);
      const after = (await vscode.commands.executeCommand('chapterTelemetry.internal.archiveOffer', {})) as { offered: boolean; reason?: string };
      assert.deepEqual(after, { offered: false, reason: "don't ask again" });
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
