// The data lifecycle's start checks after activation, inside the real extension host (test/vscode/later-start.test.ts
// starts it with collection off, `report.weeklyOnFirstStart` on and the test clock in 2026-W49; CT_LATER_START_OUT
// gets results.json). At activation the store is off: both checks skip. A later Start Collection runs them: last
// week's report is written, nothing expires yet. Rows about to expire are put into the store, then the test clock
// moves into 2026-W50 (a settings change, no waiting): the window runs the checks again (2026-W49's report, the
// archive offer with those rows). "Archive Expiring Records…" archives them on demand, with no offer first.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { StartOutcome, StartTrigger } from '../../../src/vscode/lifecycle-start';
import { setTestClock, until, workspaceRoot } from './helpers';

interface Lifecycle { activation?: StartOutcome; runs: { trigger: StartTrigger; week: string; outcome?: StartOutcome }[] }

const lifecycle = async () => (await vscode.commands.executeCommand('chapterTelemetry.internal.lifecycleRuns')) as Lifecycle;
const HOUR = 3_600_000;
/** Hours from the 7-day boundary of the 90-day TTL (now − 83 days): ≤ 0 expires within 7 days, > 0 does not. */
const AROUND: Record<string, number> = { a: -30, b: -3, c: 30 };
export const LATER_START_EXPIRING = ['a', 'b'];

export function registerLaterStartSuite(): void {
  const out = process.env.CT_LATER_START_OUT;
  if (!out) return;
  const results: Record<string, unknown> = {};
  const cfg = () => vscode.workspace.getConfiguration('chapterTelemetry');

  describe('later start checks', () => {
    before(async () => {
      await vscode.extensions.getExtension('chapter-telemetry.chapter-telemetry')?.activate();
    });
    after(() => writeFileSync(join(out, 'results.json'), JSON.stringify(results)));

    it('Archive Expiring Records… is in the palette under Chapter Telemetry', async () => {
      assert.ok((await vscode.commands.getCommands(true)).includes('chapterTelemetry.archiveExpiring'));
      const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'chapter-telemetry')!;
      const c = (ext.packageJSON.contributes.commands as { command: string; title: string; category: string }[]).find((x) => x.command === 'chapterTelemetry.archiveExpiring');
      assert.deepEqual([c?.title, c?.category], ['Archive Expiring Records…', 'Chapter Telemetry']);
    });

    it('at activation, with collection off, both checks skip: the store is not reachable', async () => {
      const l = await until('the activation run', lifecycle, (v) => v.runs[0]?.outcome !== undefined);
      assert.deepEqual(l.runs.map((r) => r.trigger), ['activation']);
      assert.equal(l.activation?.report.skipped, 'store not reachable');
      assert.equal(l.activation?.archive.reason, 'store not reachable');
      assert.equal(existsSync(join(workspaceRoot().fsPath, 'reports', '2026-W48.md')), false);
    });

    it('Start Collection later: last week\'s report is written, the archive check asks the store', async () => {
      assert.equal(await vscode.commands.executeCommand('chapterTelemetry.start'), true);
      const l = await until('the run after Start', lifecycle, (v) => v.runs[1]?.outcome !== undefined, 60_000);
      const run = l.runs[1]!;
      assert.equal(run.trigger, 'start');
      assert.equal(run.week, '2026-W49');
      assert.equal(run.outcome!.report.error, undefined, JSON.stringify(run));
      assert.equal(run.outcome!.report.week, '2026-W48');
      assert.deepEqual(run.outcome!.report.files?.map((f) => f.slice(workspaceRoot().fsPath.length)), ['/reports/2026-W48.md', '/reports/2026-W48.html']);
      assert.equal(run.outcome!.archive.offered, false);
      assert.equal(run.outcome!.archive.reason, 'nothing expires within 7 days');
      results.start = run;
    });

    it('the window crosses into 2026-W50 (test clock): the checks run again, the archive is offered for the rows about to expire', async () => {
      const port = cfg().get<number>('httpPort');
      const now = Date.now();
      const rows = Object.entries(AROUND).map(([label, h]) => ({
        Timestamp: new Date(now - 83 * 24 * HOUR + h * HOUR).toISOString().replace('T', ' ').replace('Z', ''), ServiceName: 'claude-code',
        ResourceAttributes: { user_id: 'later-author' },
        LogAttributes: { 'event.name': 'api_request', 'session.id': `old-${label}`, chapter: 'ch09', model: 'claude-haiku-4-5', cost_usd: '0.25', input_tokens: '10' },
      }));
      // As the writer (the server's credential in the data dir): anonymous requests are read-only.
      const cred = JSON.parse(readFileSync(join(cfg().get<string>('dataDir')!, 'credentials.json'), 'utf8')) as { user: string; password: string };
      const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`${cred.user}:${cred.password}`).toString('base64')}` }, body: `INSERT INTO otel_logs FORMAT JSONEachRow\n${rows.map((r) => JSON.stringify(r)).join('\n')}` });
      assert.equal(res.status, 200, await res.text());
      await setTestClock(out, '2026-12-09T10:00:00.000Z');
      const l = await until('the run in the new week', lifecycle, (v) => v.runs[2]?.outcome !== undefined, 60_000);
      const run = l.runs[2]!;
      assert.deepEqual([run.trigger, run.week], ['new week', '2026-W50']);
      assert.equal(run.outcome!.report.week, '2026-W49');
      assert.equal(run.outcome!.report.files?.length, 2);
      assert.equal(run.outcome!.archive.offered, true, JSON.stringify(run.outcome!.archive));
      assert.equal(run.outcome!.archive.counts?.find((c) => c.id === 'events')?.rows, LATER_START_EXPIRING.length);
      assert.match(run.outcome!.archive.message ?? '', /^4 records pass their retention by \d{4}-\d\d-\d\d and will be removed \(events 2, otel_logs 2\)/);
      results.newWeek = run;
    });

    it('the same week again: no further run; Archive Expiring Records… archives on demand without an offer', async () => {
      // A settings change inside the same week looks at the clock and finds nothing to do.
      await setTestClock(out, '2026-12-10T10:00:00.000Z');
      const r = (await vscode.commands.executeCommand('chapterTelemetry.archiveExpiring', { dir: join(out, 'archive') })) as StartOutcome['archive'];
      assert.equal(r.error, undefined, JSON.stringify(r));
      assert.equal(r.choice, 'Archive');
      assert.equal(r.files?.find((f) => f.id === 'events')?.rows, LATER_START_EXPIRING.length);
      results.archive = r;
      assert.equal((await lifecycle()).runs.length, 3, 'no run for a clock change inside the week');
      await vscode.commands.executeCommand('chapterTelemetry.stop');
    });
  });
}
