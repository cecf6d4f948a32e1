// Budgets in central mode, inside the real extension host, against the team server test/vscode/budget-central.test.ts
// runs in a network namespace over TLS. Registered only when that test runs (it sets CT_BUDGET_CENTRAL_DIR: bob's
// bundle and "another machine"'s sender in, marker files out). bob centralizes; spend his other machine sends straight
// to the team server (OTLP with his secret) moves this window's status bar to the warning colour at 80 % and the error
// colour at 100 % of his daily limit, with exactly one notification; the Weekly Report command reads his own rows
// there too (and, for carol as coordinator, adds the team section); when the team server stops answering, the
// figures fall back to the local store with a tooltip note.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { FALLBACK_NOTE, TEAM_NOTE } from '../../../src/vscode/budget-monitor';
import { isoWeekOf } from '../../../src/core/report/iso-week';
import { until } from './helpers';

interface BudgetInfo {
  evaluation?: { state: string; statuses: { kind: string; text: string; spentUsd: number }[] };
  source?: string;
  shown: { key: string; message: string }[];
  statusBar?: { text: string; tooltip: string; background: string | undefined };
}
interface Sender { otlp_http: string; secret: string; ca_pem: string }

const budget = async () => (await vscode.commands.executeCommand('chapterTelemetry.internal.budget')) as BudgetInfo;
/** The tooltip as read (its Markdown escapes removed). */
const tip = (info: BudgetInfo) => (info.statusBar?.tooltip ?? '').replace(/\\(.)/g, '$1');

/** One api_request as the author's other machine sends it: OTLP/JSON straight to the team server, with the member's secret. */
async function sendFromOtherMachine(s: Sender, session: string, cost: number): Promise<void> {
  const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
  const body = JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [kv('service.name', { stringValue: 'claude-code' }), kv('host.name', { stringValue: 'bobs-laptop' })] },
      scopeLogs: [{
        logRecords: [{
          timeUnixNano: `${Date.now()}000000`, body: { stringValue: 'claude_code.api_request' },
          attributes: [kv('event.name', { stringValue: 'api_request' }), kv('session.id', { stringValue: session }), kv('model', { stringValue: 'claude-sonnet-4-5' }),
            kv('cost_usd', { doubleValue: cost }), kv('input_tokens', { intValue: 100 }), kv('output_tokens', { intValue: 10 })],
        }],
      }],
    }],
  });
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${s.otlp_http.replace(/\/$/, '')}/v1/logs`, {
      method: 'POST', ca: s.ca_pem, headers: { 'content-type': 'application/json', authorization: `Bearer ${s.secret}` },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(status, 200, 'the team server took the other machine\'s record');
}

export function registerBudgetCentralSuite(): void {
  const dir = process.env.CT_BUDGET_CENTRAL_DIR;
  if (!dir) return;
  const sender = JSON.parse(readFileSync(join(dir, 'bob-sender.json'), 'utf8')) as Sender;
  const cfg = () => vscode.workspace.getConfiguration('chapterTelemetry');
  const daily = (info: BudgetInfo) => info.evaluation?.statuses.find((x) => x.kind === 'daily');

  describe('central budget', () => {
    before(async () => {
      await vscode.extensions.getExtension('chapter-telemetry.chapter-telemetry')?.activate();
      assert.equal(await vscode.commands.executeCommand('chapterTelemetry.start'), true);
      const r = (await vscode.commands.executeCommand('chapterTelemetry.centralize', { bundle: readFileSync(join(dir, 'bob.bundle'), 'utf8').trim(), privacy: 'all', history: 'none' })) as { connected?: boolean; error?: string };
      assert.equal(r.connected, true, r.error);
      await cfg().update('budget.dailyUsd', 10, vscode.ConfigurationTarget.Global);
    });
    after(async () => {
      await cfg().update('budget.dailyUsd', undefined, vscode.ConfigurationTarget.Global);
    });

    it('reads bob\'s own spend from the team server: nothing yet, the tooltip says where from', async () => {
      const info = await until('the team figures', budget, (v) => v.source === 'team' && daily(v) !== undefined);
      assert.equal(daily(info)?.text, '$0.00 of $10.00 today');
      assert.equal(info.evaluation?.state, 'ok');
      assert.equal(info.statusBar?.background, undefined);
      assert.ok(tip(info).includes(TEAM_NOTE), tip(info));
      assert.deepEqual(info.shown, []);
    });

    it('$8.50 sent from another machine: warning colour at 85 %, no notification', async () => {
      await sendFromOtherMachine(sender, 'laptop-1', 8.5);
      const info = await until('the warning state', budget, (v) => v.evaluation?.state === 'warning', 60_000);
      assert.equal(info.source, 'team');
      assert.equal(daily(info)?.text, '$8.50 of $10.00 today');
      assert.equal(info.statusBar?.background, 'statusBarItem.warningBackground');
      assert.ok(tip(info).includes('$8.50 of $10.00 today'), tip(info));
      assert.deepEqual(info.shown, []);
    });

    it('$2.00 more: error colour at 105 %, exactly one notification; more spend does not repeat it', async () => {
      await sendFromOtherMachine(sender, 'laptop-2', 2);
      const info = await until('the over state', budget, (v) => v.evaluation?.state === 'over', 60_000);
      assert.equal(daily(info)?.text, '$10.50 of $10.00 today');
      assert.equal(info.statusBar?.background, 'statusBarItem.errorBackground');
      assert.equal(info.shown.length, 1, JSON.stringify(info.shown));
      assert.match(info.shown[0]!.key, /^daily:\d{4}-\d\d-\d\d$/);
      assert.equal(info.shown[0]!.message, 'Daily budget reached: $10.50 of $10.00 today.');
      await sendFromOtherMachine(sender, 'laptop-3', 1);
      const again = await until('the third record read', budget, (v) => daily(v)?.text === '$11.50 of $10.00 today', 60_000);
      assert.equal(again.evaluation?.state, 'over');
      assert.equal(again.shown.length, 1, JSON.stringify(again.shown));
    });

    it('the Weekly Report command in central mode reads bob\'s own rows from the team server (no team section for a contributor)', async () => {
      const week = isoWeekOf(Date.now()).id;
      const r = (await vscode.commands.executeCommand('chapterTelemetry.weeklyReport', { week, dir: join(dir, 'reports') })) as { files?: string[]; error?: string; source?: string; teamSection?: boolean };
      assert.equal(r.error, undefined);
      assert.deepEqual([r.source, r.teamSection, r.files?.length], ['team', false, 2]);
      const md = readFileSync(join(dir, 'reports', `${week}.md`), 'utf8');
      assert.match(md, /· bob · from the team server of Budget Team ·/);
      // The three records bob's other machine sent (8.50 + 2.00 + 1.00); the outer test checks the same sum by SQL.
      assert.match(md, /\| Cost \(USD\) \| 11\.5000 \|/);
      assert.match(md, /\| Requests \| 3 \|/);
      assert.doesNotMatch(md, /## Team/);
    });

    it('as carol (coordinator) the Weekly Report command adds the team section, bob\'s spend in it', async () => {
      const back = (await vscode.commands.executeCommand('chapterTelemetry.revertToLocal', { forgetSecret: true, dropQueue: true })) as { reverted?: boolean };
      assert.equal(back.reverted, true);
      const c = (await vscode.commands.executeCommand('chapterTelemetry.centralize', { bundle: readFileSync(join(dir, 'carol.bundle'), 'utf8').trim(), privacy: 'all', history: 'none' })) as { connected?: boolean; role?: string; error?: string };
      assert.deepEqual([c.connected, c.role, c.error], [true, 'coordinator', undefined]);
      const week = isoWeekOf(Date.now()).id;
      const r = (await vscode.commands.executeCommand('chapterTelemetry.weeklyReport', { week, dir: join(dir, 'reports-carol') })) as { files?: string[]; error?: string; source?: string; teamSection?: boolean };
      assert.equal(r.error, undefined);
      assert.deepEqual([r.source, r.teamSection], ['team', true]);
      const md = readFileSync(join(dir, 'reports-carol', `${week}.md`), 'utf8');
      assert.match(md, /· carol · from the team server of Budget Team ·/);
      // Her own rows: none. The team section: bob's three records, from the aggregates.
      assert.match(md, /\| Cost \(USD\) \| 0\.0000 \|/);
      assert.match(md, /## Team Budget Team: cost by member\n\n\| Member \| Cost \(USD\) \| Requests \| Errors \| Tokens \| Chapters \|\n\|[-|:]+\|\n\| bob \| 11\.5000 \| 3 \| 0 \|/);
      assert.match(readFileSync(join(dir, 'reports-carol', `${week}.html`), 'utf8'), /<h2>Team Budget Team: cost by member<\/h2>/);
    });

    it('team server down: the local store\'s figures (nothing here) with the fallback note', async () => {
      writeFileSync(join(dir, 'stop-team'), '');
      await until('the team server stopped', () => existsSync(join(dir, 'team-stopped')), (v) => v, 60_000);
      const info = await until('the local fallback', budget, (v) => v.source === 'local-fallback', 60_000);
      // Nothing was spent through this machine's local store: its own figures, and the note says why.
      assert.equal(daily(info)?.text, '$0.00 of $10.00 today');
      assert.equal(info.evaluation?.state, 'ok');
      assert.ok(tip(info).includes(FALLBACK_NOTE), tip(info));
      assert.equal(info.shown.length, 1, 'no new notification');
    });
  });
}
