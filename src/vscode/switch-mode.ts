/**
 * "Switch Mode": embedded ↔ docker, optionally carrying the history across. Carries out the plan
 * of src/core/switch-plan.ts; both stores run at once during the copy (the new one on temporary
 * free ports), and any failure undoes what was done so the old mode runs as before.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { localHttpUrl } from '../core/otel-env';
import { progressIncrements } from '../core/progress';
import { carryChoices, copySummary, planSwitch, undoSteps, type SwitchStep, type UndoStep } from '../core/switch-plan';
import type { MigrateHistoryResult } from '../stack/migrate-history';
import { StackError, type StackBackend, type StackEndpoints, type StackMode, type WriterCredentials } from '../stack/types';
import type { Controller } from './controller';
import { httpRunner } from './webviews/connection';
import { withStackProgress } from './docker-mode';

export interface SwitchArgs {
  /** Skip the mode quick pick. */
  to?: StackMode;
  /** Skip the history question (true: copy when there is anything to copy). */
  carryHistory?: boolean;
}

export interface SwitchResult {
  switched: boolean;
  mode: StackMode;
  copy?: MigrateHistoryResult;
  /** Records in the new store before the copy. */
  targetRowsBefore?: number;
  error?: { code: string; message: string; hint: string };
}

const MODE_TEXT: Record<StackMode, string> = {
  embedded: 'A local server process with the chDB engine; no Docker needed.',
  docker: 'The official OpenTelemetry Collector and ClickHouse containers; needs Docker.',
};

async function pickMode(from: StackMode): Promise<StackMode | undefined> {
  const items = (['embedded', 'docker'] as const).map((m) => ({ label: m, description: m === from ? '(current)' : undefined, detail: MODE_TEXT[m], mode: m }));
  const pick = await vscode.window.showQuickPick(items, { title: 'Chapter Telemetry: Switch Mode', placeHolder: `Now: ${from}. Run the telemetry stack as…` });
  return pick?.mode;
}

async function askCarry(from: StackMode, to: StackMode, sourceRows: number, targetRows: number): Promise<boolean | undefined> {
  const items = carryChoices(from, to, sourceRows, targetRows);
  const pick = await vscode.window.showQuickPick(items, { title: `Chapter Telemetry: switch to ${to}`, placeHolder: `The ${from} store holds ${sourceRows} records.`, ignoreFocusOut: true });
  return pick?.carry;
}

/** Three free loopback ports, none of them the configured ones (both stacks run at once). */
async function tempEndpoints(avoid: StackEndpoints): Promise<StackEndpoints> {
  const taken = new Set([avoid.grpcPort, avoid.otlpHttpPort, avoid.httpPort]);
  const ports: number[] = [];
  while (ports.length < 3) {
    const p = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no free port'))));
      });
    });
    if (!taken.has(p)) {
      taken.add(p);
      ports.push(p);
    }
  }
  return { host: '127.0.0.1', grpcPort: ports[0]!, otlpHttpPort: ports[1]!, httpPort: ports[2]! };
}

/** The ClickHouse HTTP URL of a store (credentials never go into it: see credentialsOf). */
function storeUrl(e: StackEndpoints): string {
  return `${localHttpUrl(e.host, e.httpPort)}/`;
}

/**
 * The writer credential a stack's backend keeps (owner-only file); for a docker ClickHouse set up
 * by hand, CLICKHOUSE_USER/CLICKHOUSE_PASSWORD from the extension host's environment as before.
 * Sent by migrateHistory as basic auth, never logged.
 */
async function credentialsOf(mode: StackMode, b: StackBackend): Promise<WriterCredentials | undefined> {
  // Optional call: a backend bundle from before writerCredentials() existed has no such method.
  const own = await b.writerCredentials?.();
  if (own) return own;
  if (mode === 'docker' && process.env.CLICKHOUSE_PASSWORD) return { user: process.env.CLICKHOUSE_USER || 'default', password: process.env.CLICKHOUSE_PASSWORD };
  return undefined;
}

/** How many rows the copied tables hold: a read, so anonymous, over @clickhouse/client like every query of the extension. */
async function storeRows(url: string): Promise<number> {
  const { sourceTables } = await import('../stack/migrate-history');
  const tables = await sourceTables(url);
  if (tables.length === 0) return 0;
  const runner = httpRunner(url, { application: 'chapter-telemetry-switch' });
  try {
    const sql = `SELECT ${tables.map((t) => `(SELECT count() FROM default.\`${t}\`)`).join(' + ')} AS n`;
    const [row] = await runner.rows<{ n: number | string }>({ name: 'store-rows', sql, params: {} });
    return Number(row?.n ?? 0);
  } catch (err) {
    throw new StackError('engine-failed', `Could not count the records at ${url}: ${(err as Error).message.slice(0, 200)}`, 'Check that the stack is healthy (Verify Collection), then try the switch again.');
  } finally {
    await runner.close();
  }
}

async function saveMode(mode: StackMode): Promise<void> {
  const c = vscode.workspace.getConfiguration('chapterTelemetry');
  const i = c.inspect<string>('mode');
  // Write where the value that wins is, so the change takes effect.
  const target = i?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder
    : i?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
  await c.update('mode', mode, target);
}

export async function switchMode(c: Controller, args: SwitchArgs = {}): Promise<SwitchResult> {
  const from = c.config.mode;
  const to = args.to ?? (await pickMode(from));
  if (!to) return { switched: false, mode: from };
  if (to === from) {
    void vscode.window.showInformationMessage(`Chapter Telemetry is already in ${to} mode.`);
    return { switched: false, mode: from };
  }
  return await c.exclusive(() => runSwitch(c, from, to, args));
}

async function runSwitch(c: Controller, from: StackMode, to: StackMode, args: SwitchArgs): Promise<SwitchResult> {
  const log = (l: string) => c.output.info(`Switch ${from} → ${to}: ${l}`);
  const normal = c.config.endpoints;
  const collecting = c.state === 'on';
  // A separate handle on the old stack, so the extension's own backend is not replaced by one without an engine.
  const probe = await c.makeBackend(from, normal, { forStart: false });
  const st = await probe.status();
  const sourceRunning = st.state === 'running';
  let carry = args.carryHistory;
  if (carry === undefined && !sourceRunning) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'Carry the history across', detail: `Starts the ${from} stack briefly to read its records, and the ${to} stack to receive them.`, carry: true },
        { label: 'Switch without the history', detail: `The ${from} store keeps its records; switching back shows them again.`, carry: false },
      ],
      { title: `Chapter Telemetry: switch to ${to}`, placeHolder: `The ${from} stack is not running.`, ignoreFocusOut: true },
    );
    if (!pick) return { switched: false, mode: from };
    carry = pick.carry;
  }
  const input = { from, to, collecting, sourceRunning, carryHistory: carry ?? true };
  const steps = planSwitch(input);
  log(`plan: ${steps.join(', ')}`);

  const done: SwitchStep[] = [];
  const skip = new Set<SwitchStep>();
  let source: StackBackend = probe;
  let sourceEndpoints = st.state === 'running' ? st.endpoints : normal;
  let target: StackBackend | undefined;
  let targetLogs: { dispose(): void } | undefined;
  let targetEndpoints: StackEndpoints | undefined;
  let sourceRows = 0;
  const result: SwitchResult = { switched: false, mode: from };

  try {
    for (const step of steps) {
      if (skip.has(step)) continue;
      log(step);
      switch (step) {
        case 'start-source': {
          source = await c.makeBackend(from, normal);
          const s = await withStackProgress(from, `Chapter Telemetry: starting the ${from} stack to read its history`, (onProgress, signal) => source.start({ onProgress, signal }));
          if (s.state === 'running') sourceEndpoints = s.endpoints;
          break;
        }
        case 'start-target-temp': {
          sourceRows = await storeRows(storeUrl(sourceEndpoints));
          log(`${sourceRows} records in the ${from} store`);
          if (sourceRows === 0) {
            // Nothing to carry: the new stack need not run twice.
            for (const s of ['confirm-carry', 'copy-history', 'stop-target-temp'] as const) skip.add(s);
            continue;
          }
          targetEndpoints = await tempEndpoints(normal);
          const storage = c.storageDir;
          const t = await c.makeBackend(to, targetEndpoints, { stateDir: to === 'embedded' ? join(storage, 'switch') : undefined });
          target = t;
          targetLogs = t.onLog((l) => c.output.appendLine(l));
          await withStackProgress(to, `Chapter Telemetry: starting the ${to} stack (temporary ports, for the history copy)`, (onProgress, signal) => t.start({ onProgress, signal }));
          break;
        }
        case 'confirm-carry': {
          result.targetRowsBefore = await storeRows(storeUrl(targetEndpoints!));
          log(`${result.targetRowsBefore} records already in the ${to} store`);
          const yes = args.carryHistory ?? (await askCarry(from, to, sourceRows, result.targetRowsBefore));
          if (yes === undefined) throw new StackError('cancelled', 'The switch was cancelled.', `Nothing changed; Chapter Telemetry stays in ${from} mode.`);
          if (!yes) skip.add('copy-history');
          break;
        }
        case 'copy-history': {
          const { migrateHistory } = await import('../stack/migrate-history');
          const [fromAuth, toAuth] = await Promise.all([credentialsOf(from, source), credentialsOf(to, target!)]);
          result.copy = await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: `Chapter Telemetry: copying the history to ${to}`, cancellable: true },
            async (progress, token) => {
              const ac = new AbortController();
              token.onCancellationRequested(() => ac.abort());
              const increment = progressIncrements();
              return await migrateHistory({
                from: storeUrl(sourceEndpoints),
                to: storeUrl(targetEndpoints!),
                fromAuth,
                toAuth,
                signal: ac.signal,
                onProgress: (p) => progress.report({ message: p.message, increment: increment(p.percent) }),
              });
            },
          );
          log(copySummary(result.copy.tables));
          break;
        }
        case 'stop-target-temp':
          await target!.stop();
          targetLogs?.dispose();
          break;
        case 'stop-source':
          if (collecting) await c.stopBackendOnly();
          else await source.stop();
          break;
        case 'save-mode':
          await saveMode(to);
          c.reloadConfig();
          break;
        case 'start-target':
          if (!(await c.startNow({ quiet: true }))) {
            const e = c.lastError;
            throw e ?? new StackError('cancelled', `Starting the ${to} stack was cancelled.`, `Chapter Telemetry stays in ${from} mode.`);
          }
          break;
      }
      done.push(step);
    }
  } catch (err) {
    const e = err instanceof StackError ? err : new StackError('crashed', `The switch failed: ${(err as Error)?.message ?? String(err)}.`, 'See Show Logs for details.', (err as Error)?.stack);
    log(`failed at ${steps.find((s) => !done.includes(s) && !skip.has(s))}: ${e.message} ${e.hint}${e.detail ? `\n${e.detail}` : ''}`);
    await undo(c, undoSteps(done, input), { from, source, target, collecting, normal }, log);
    targetLogs?.dispose();
    // A copy that began may have left rows in the new store (never deleted: they are history too).
    const copied = done.includes('confirm-carry') && !skip.has('copy-history');
    const where = `Still in ${from} mode${collecting ? ', collecting as before' : ''}; nothing was deleted${copied ? ` (rows already copied stay in the ${to} store)` : ''}.`;
    result.error = { code: e.code, message: e.message, hint: e.hint };
    if (e.code === 'cancelled') void vscode.window.showInformationMessage(`Chapter Telemetry: ${e.message} ${where}`);
    else {
      void vscode.window.showErrorMessage(`Chapter Telemetry: switching to ${to} failed: ${e.message} ${e.hint} ${where}`, 'Show Logs').then((p) => {
        if (p === 'Show Logs') c.output.show(true);
      });
    }
    return result;
  }

  result.switched = true;
  result.mode = to;
  const copyText = result.copy ? ` History: ${copySummary(result.copy.tables)}` : sourceRows === 0 && input.carryHistory ? ' There was no history to carry.' : '';
  const msg = `Chapter Telemetry: now in ${to} mode${collecting ? ' and collecting' : ''}.${copyText} The ${from} store keeps its own copy.`;
  log('done.');
  void vscode.window.showInformationMessage(msg);
  return result;
}

async function undo(
  c: Controller,
  steps: UndoStep[],
  o: { from: StackMode; source: StackBackend; target?: StackBackend; collecting: boolean; normal: StackEndpoints },
  log: (l: string) => void,
): Promise<void> {
  for (const s of steps) {
    log(`undo: ${s}`);
    try {
      switch (s) {
        case 'stop-target-temp':
          await o.target?.stop();
          break;
        case 'stop-source':
          await o.source.stop();
          break;
        case 'stop-target':
          await c.stopBackendOnly();
          break;
        case 'restore-mode':
          await saveMode(o.from);
          c.reloadConfig();
          break;
        case 'restart-source':
          if (o.collecting) await c.startNow({ quiet: true });
          else await (await c.makeBackend(o.from, o.normal)).start();
          break;
      }
    } catch (err) {
      // Keep undoing: each step left is one more thing back as it was.
      log(`undo ${s} failed: ${(err as Error).message}`);
    }
  }
}
