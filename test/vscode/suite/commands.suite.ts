import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { stats } from './helpers';

export function registerCommandsSuite(): void {
  describe('commands', () => {
    it('every command is registered, and the palette ones are in package.json', async () => {
      // onStartupFinished may not have fired yet when the suite starts.
      await vscode.extensions.getExtension('chapter-telemetry.chapter-telemetry')?.activate();
      const all = await vscode.commands.getCommands(true);
      const ids = ['start', 'stop', 'toggle', 'verify', 'setChapter', 'showLogs', 'writeClaudeSettings', 'removeClaudeSettings', 'centralize', 'revertToLocal', 'internal.stats', 'internal.central'].map((c) => `chapterTelemetry.${c}`);
      for (const id of ids) assert.ok(all.includes(id), `${id} is registered`);
      const ext = vscode.extensions.all.find((e) => e.packageJSON.name === 'chapter-telemetry');
      assert.ok(ext?.isActive, 'the extension is active');
      const contributed = (ext!.packageJSON.contributes.commands as { command: string; category: string }[]);
      for (const id of ids.filter((i) => !i.includes('internal'))) {
        const c = contributed.find((x) => x.command === id);
        assert.equal(c?.category, 'Chapter Telemetry', id);
      }
    });
    it('activation recorded its own time, and starts Off', async () => {
      const s = await stats();
      assert.ok(s.activationTimeMs >= 0, `activationTimeMs=${s.activationTimeMs}`);
      // bench/activation.bench.ts reads this line from the run's log.
      console.log(`CT_ACTIVATION_MS ${s.activationTimeMs}`);
      assert.equal(s.state, 'off');
    });
  });
}
