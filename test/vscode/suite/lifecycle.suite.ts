import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { freePort, open, stats, until } from './helpers';

const MANAGED = ['CLAUDE_CODE_ENABLE_TELEMETRY', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_RESOURCE_ATTRIBUTES'];

async function ping(port: number): Promise<boolean> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/ping`)).text()).startsWith('Ok');
  } catch {
    return false;
  }
}

export function registerLifecycleSuite(): void {
  describe('stack lifecycle and terminal env', () => {
    let httpPort = 0;
    let grpcPort = 0;
    before(async () => {
      const cfg = vscode.workspace.getConfiguration('chapterTelemetry');
      httpPort = await freePort();
      grpcPort = await freePort();
      await cfg.update('httpPort', httpPort, vscode.ConfigurationTarget.Global);
      await cfg.update('grpcPort', grpcPort, vscode.ConfigurationTarget.Global);
      await cfg.update('otlpHttpPort', await freePort(), vscode.ConfigurationTarget.Global);
    });
    after(async () => {
      await vscode.commands.executeCommand('chapterTelemetry.stop');
    });

    it('off: no telemetry variables in the terminal env', async () => {
      const s = await stats();
      assert.equal(s.state, 'off');
      for (const scope of Object.values(s.env)) for (const k of MANAGED) assert.equal(scope[k], undefined, k);
    });

    it('start → the server answers /ping, env carries endpoint and chapter', async () => {
      await open('ch03/a.md');
      const ok = await vscode.commands.executeCommand('chapterTelemetry.start');
      const s = await stats();
      assert.equal(ok, true, JSON.stringify(s.error));
      assert.equal(s.state, 'on');
      assert.equal(await ping(httpPort), true);
      const env = s.env[''] ?? {};
      assert.equal(env.CLAUDE_CODE_ENABLE_TELEMETRY, '1');
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, `http://127.0.0.1:${grpcPort}`);
      assert.match(env.OTEL_RESOURCE_ATTRIBUTES ?? '', /(^|,)chapter=ch03(,|$)/);
      assert.equal(env.OTEL_LOG_USER_PROMPTS, undefined);
      await until('focus record sent', async () => (await stats()).focusSent, (n) => n >= 1);
    });

    it('a file outside every workspace folder names no chapter and sends no focus record', async () => {
      const before = await stats();
      const dir = mkdtempSync(join(tmpdir(), 'ct-outside-'));
      const file = join(dir, '09-outside-chapter', 'notes.md');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, '# not part of the book\n');
      try {
        await vscode.window.showTextDocument(vscode.Uri.file(file));
        await until('editor on the outside file', () => vscode.window.activeTextEditor?.document.uri.fsPath, (p) => p === file);
        await new Promise((r) => setTimeout(r, 500));
        const after = await stats();
        assert.equal(after.chapter, before.chapter);
        assert.equal(after.focusSent, before.focusSent);
        assert.doesNotMatch(after.env['']?.OTEL_RESOURCE_ATTRIBUTES ?? '', /09-outside-chapter/);
      } finally {
        await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('no spurious rewrites: same chapter and settings → no writes; a chapter change → one write', async () => {
      const w0 = (await stats()).envWrites;
      await open('ch03/b.md');
      await open('README.md');
      await vscode.workspace.getConfiguration('chapterTelemetry').update('sendFilePaths', false, vscode.ConfigurationTarget.Global);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await stats()).envWrites, w0);
      await open('ch05/a.md');
      const s = await until('chapter', stats, (x) => x.chapter === 'ch05');
      assert.equal(s.envWrites, w0 + 1);
      assert.match(s.env['']?.OTEL_RESOURCE_ATTRIBUTES ?? '', /chapter=ch05/);
      await vscode.workspace.getConfiguration('chapterTelemetry').update('sendFilePaths', undefined, vscode.ConfigurationTarget.Global);
    });

    it('logUserPrompts adds OTEL_LOG_USER_PROMPTS only when on', async () => {
      const cfg = vscode.workspace.getConfiguration('chapterTelemetry');
      await cfg.update('logUserPrompts', true, vscode.ConfigurationTarget.Global);
      await until('prompts on', stats, (s) => s.env['']?.OTEL_LOG_USER_PROMPTS === '1');
      await cfg.update('logUserPrompts', undefined, vscode.ConfigurationTarget.Global);
      await until('prompts off', stats, (s) => s.env['']?.OTEL_LOG_USER_PROMPTS === undefined);
    });

    it('verify counts and diagnoses', async () => {
      const r = (await vscode.commands.executeCommand('chapterTelemetry.verify', { quiet: true })) as { diagnosis: { code: string } };
      assert.ok(['nothing-received', 'env-stale', 'ok'].includes(r.diagnosis.code), r.diagnosis.code);
    });

    it('stop → server gone, env gone', async () => {
      await vscode.commands.executeCommand('chapterTelemetry.stop');
      const s = await stats();
      assert.equal(s.state, 'off');
      assert.equal(await ping(httpPort), false);
      for (const scope of Object.values(s.env)) for (const k of MANAGED) assert.equal(scope[k], undefined, k);
      const r = (await vscode.commands.executeCommand('chapterTelemetry.verify', { quiet: true })) as { diagnosis: { code: string } };
      assert.equal(r.diagnosis.code, 'server-down');
    });
  });
}
