// The weekly and per-chapter budget limits (issue 14), inside the real extension host against the embedded server it
// starts (test/vscode/budget-limits.test.ts; CT_BUDGET_LIMITS_DIR is the folder for test-clock requests). Spend is
// recorded as Claude Code reports it (OTLP api_request with user_id and chapter resource attributes) at instants the
// test clock (`chapterTelemetry.budget.testOnlyNow`) makes "this week". Each limit turns the status bar to the warning
// colour at 80 % and to the error colour at 100 % with exactly one notification per period; a new week (test clock)
// resets the weekly state and its next crossing notifies once again; a chapter limit (pattern → USD) covers the
// chapter's whole spend and never renews.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { setTestClock, until } from './helpers';

interface BudgetInfo {
  evaluation?: { state: string; statuses: { kind: string; text: string; chapter?: string }[] };
  source?: string;
  shown: { key: string; message: string }[];
  statusBar?: { tooltip: string; background: string | undefined };
}

const AUTHOR = 'limits-author';
const budget = async () => (await vscode.commands.executeCommand('chapterTelemetry.internal.budget')) as BudgetInfo;
const tip = (info: BudgetInfo) => (info.statusBar?.tooltip ?? '').replace(/\\(.)/g, '$1');
const status = (info: BudgetInfo, kind: string) => info.evaluation?.statuses.find((s) => s.kind === kind);
const cfg = () => vscode.workspace.getConfiguration('chapterTelemetry');

/** One api_request at `iso`, as Claude Code sends it from a terminal tagged with `chapter`. */
async function spend(iso: string, cost: number, chapter: string): Promise<void> {
  const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
  const res = await fetch(`http://127.0.0.1:${cfg().get<number>('otlpHttpPort')}/v1/logs`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ resourceLogs: [{
      resource: { attributes: [kv('service.name', { stringValue: 'claude-code' }), kv('user_id', { stringValue: AUTHOR }), kv('chapter', { stringValue: chapter })] },
      scopeLogs: [{ logRecords: [{
        timeUnixNano: `${Date.parse(iso)}000000`, body: { stringValue: 'claude_code.api_request' },
        attributes: [kv('event.name', { stringValue: 'api_request' }), kv('event.timestamp', { stringValue: iso }), kv('session.id', { stringValue: `s-${iso}` }),
          kv('model', { stringValue: 'claude-sonnet-4-5' }), kv('cost_usd', { doubleValue: cost }), kv('input_tokens', { intValue: 10 }), kv('output_tokens', { intValue: 1 })],
      }] }],
    }] }),
  });
  assert.equal(res.status, 200);
}

export function registerBudgetLimitsSuite(): void {
  const dir = process.env.CT_BUDGET_LIMITS_DIR;
  if (!dir) return;
  const waitFor = (what: string, ok: (v: BudgetInfo) => boolean) => until(what, budget, ok, 60_000);

  describe('budget limits', () => {
    before(async () => {
      await vscode.extensions.getExtension('chapter-telemetry.chapter-telemetry')?.activate();
      assert.equal(await vscode.commands.executeCommand('chapterTelemetry.start'), true);
      // Wednesday of 2026-W49.
      await setTestClock(dir, '2026-12-02T12:00:00.000Z');
      await cfg().update('budget.weeklyUsd', 10, vscode.ConfigurationTarget.Global);
    });
    after(async () => {
      await cfg().update('budget.weeklyUsd', undefined, vscode.ConfigurationTarget.Global);
      await cfg().update('budget.chapterUsd', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('chapterTelemetry.stop');
    });

    it('weekly: $8.50 on Monday is 85 %: warning colour, the figure in the tooltip, no notification', async () => {
      await spend('2026-11-30T12:00:00.000Z', 8.5, 'ch01');
      const info = await waitFor('the weekly warning', (v) => v.evaluation?.state === 'warning');
      assert.equal(info.source, 'local');
      assert.equal(status(info, 'weekly')?.text, '$8.50 of $10.00 this week');
      assert.equal(info.statusBar?.background, 'statusBarItem.warningBackground');
      assert.match(tip(info), /Budget — nearly reached: \$8\.50 of \$10\.00 this week/);
      assert.deepEqual(info.shown, []);
    });

    it('weekly: $2.00 more crosses 100 %: error colour, exactly one notification; more spend does not repeat it', async () => {
      await spend('2026-12-01T12:00:00.000Z', 2, 'ch01');
      const info = await waitFor('the weekly crossing', (v) => v.evaluation?.state === 'over');
      assert.equal(info.statusBar?.background, 'statusBarItem.errorBackground');
      assert.deepEqual(info.shown, [{ key: 'weekly:2026-W49', message: 'Weekly budget reached: $10.50 of $10.00 this week.' }]);
      await spend('2026-12-02T09:00:00.000Z', 1, 'ch01');
      const again = await waitFor('the third record', (v) => status(v, 'weekly')?.text === '$11.50 of $10.00 this week');
      assert.equal(again.shown.length, 1);
    });

    it('a new week (test clock in 2026-W50) resets the weekly state; its own crossing notifies once more', async () => {
      await setTestClock(dir, '2026-12-09T12:00:00.000Z');
      const fresh = await waitFor('the new week', (v) => status(v, 'weekly')?.text === '$0.00 of $10.00 this week');
      assert.equal(fresh.evaluation?.state, 'ok');
      assert.equal(fresh.statusBar?.background, undefined);
      assert.equal(fresh.shown.length, 1, 'nothing new');
      await spend('2026-12-08T12:00:00.000Z', 10, 'ch01');
      const over = await waitFor('the new week\'s crossing', (v) => v.evaluation?.state === 'over');
      assert.deepEqual(over.shown.map((s) => s.key), ['weekly:2026-W49', 'weekly:2026-W50']);
    });

    it('a chapter limit (pattern → USD): warning at 80 % of the chapter\'s whole spend, one notification at 100 %, never renewed', async () => {
      await cfg().update('budget.weeklyUsd', undefined, vscode.ConfigurationTarget.Global);
      await cfg().update('budget.chapterUsd', { '^ch07': 5 }, vscode.ConfigurationTarget.Global);
      // ch07's spend over two weeks; ch08 has no limit however much it costs.
      await spend('2026-12-01T12:00:00.000Z', 2.5, 'ch07-dragons');
      await spend('2026-12-08T12:00:00.000Z', 1.75, 'ch07-dragons');
      await spend('2026-12-08T13:00:00.000Z', 20, 'ch08');
      const warn = await waitFor('the chapter warning', (v) => status(v, 'chapter')?.text === '$4.25 of $5.00 for chapter ch07-dragons');
      assert.equal(warn.evaluation?.state, 'warning');
      assert.equal(warn.evaluation?.statuses.length, 1, 'only the chapter the pattern matches has a limit');
      assert.equal(warn.statusBar?.background, 'statusBarItem.warningBackground');
      assert.equal(warn.shown.length, 2, 'no chapter notification yet');
      await spend('2026-12-09T09:00:00.000Z', 1, 'ch07-dragons');
      const over = await waitFor('the chapter crossing', (v) => v.evaluation?.state === 'over');
      assert.equal(over.statusBar?.background, 'statusBarItem.errorBackground');
      assert.match(tip(over), /Budget — reached: \$5\.25 of \$5\.00 for chapter ch07-dragons/);
      assert.deepEqual(over.shown.slice(2), [{ key: 'chapter:ch07-dragons:all', message: 'Budget for chapter ch07-dragons reached: $5.25 of $5.00 for chapter ch07-dragons.' }]);
      // The next week: a chapter's budget does not renew, and its crossing is not notified again.
      await setTestClock(dir, '2026-12-16T12:00:00.000Z');
      const later = await waitFor('the chapter in the next week', (v) => v.evaluation !== undefined);
      assert.equal(later.evaluation?.state, 'over');
      assert.equal(later.shown.length, 3);
    });
  });
}
