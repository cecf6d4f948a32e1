import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { workspaceRoot, writeFile } from './helpers';

export function registerClaudeSettingsSuite(): void {
  describe('.claude/settings.local.json', () => {
    it('write merges our env beside the author\'s keys; remove restores the file exactly', async () => {
      const original = JSON.stringify({ permissions: { defaultMode: 'plan' }, env: { FOO: 'bar', OTEL_LOGS_EXPORTER: 'console' } }, null, 2) + '\n';
      const uri = await writeFile('.claude/settings.local.json', original);
      await vscode.commands.executeCommand('chapterTelemetry.writeClaudeSettings', workspaceRoot());
      const merged = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)));
      assert.deepEqual(merged.permissions, { defaultMode: 'plan' });
      assert.equal(merged.env.FOO, 'bar');
      assert.equal(merged.env.CLAUDE_CODE_ENABLE_TELEMETRY, '1');
      assert.equal(merged.env.OTEL_LOGS_EXPORTER, 'otlp');
      assert.match(merged.env.OTEL_RESOURCE_ATTRIBUTES, /user_id=/);
      await vscode.commands.executeCommand('chapterTelemetry.removeClaudeSettings', workspaceRoot());
      assert.equal(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)), original);
    });
    it('a file we created is deleted again; invalid JSON is never overwritten', async () => {
      const uri = vscode.Uri.joinPath(workspaceRoot(), '.claude', 'settings.local.json');
      await vscode.workspace.fs.delete(uri);
      await vscode.commands.executeCommand('chapterTelemetry.writeClaudeSettings', workspaceRoot());
      await vscode.workspace.fs.stat(uri);
      await vscode.commands.executeCommand('chapterTelemetry.removeClaudeSettings', workspaceRoot());
      await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(uri)));
      await writeFile('.claude/settings.local.json', '{ "env": { broken');
      await vscode.commands.executeCommand('chapterTelemetry.writeClaudeSettings', workspaceRoot());
      assert.equal(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)), '{ "env": { broken');
      await vscode.workspace.fs.delete(uri);
    });
  });
}
