/** Verify Collection: counts from the stack, one plain diagnosis, details in the output channel. */
import * as vscode from 'vscode';
import type { Counts } from '../core/collection-counts';
import { diagnose, type Diagnosis } from '../core/diagnosis';
import { retentionLines, type TableRetention } from '../core/data/retention-view';
import { localHttpUrl } from '../core/otel-env';
import { ping } from '../stack/server-state';
import type { Controller } from './controller';
import { fetchCounts } from './store-counts';
import { verifyCentralLine } from '../core/centralize';
import type { ForwardStatus } from '../core/forward-config';
import { getTeamConnection } from './team-connection';

export interface VerifyResult {
  diagnosis: Diagnosis;
  counts?: Counts;
  /** Per store table: disk, rows, oldest record, retention (src/core/data/retention-view.ts); absent when the store is down. */
  retention?: TableRetention[];
  /** The "Storage and retention" section Verify wrote to the output channel. */
  retentionLines?: string[];
  /** While central: forwarding's counts (local, delivered, queue) and the line shown. */
  central?: { line: string; status?: ForwardStatus };
}

/** Terminals created before the env was last applied still carry the old env (or none). */
const terminalBirth = new WeakMap<vscode.Terminal, number>();
export function trackTerminals(): vscode.Disposable {
  for (const t of vscode.window.terminals) terminalBirth.set(t, 0);
  return vscode.window.onDidOpenTerminal((t) => terminalBirth.set(t, Date.now()));
}

export async function verifyCollection(c: Controller, show = true): Promise<VerifyResult> {
  const e = c.endpoints ?? c.config.endpoints;
  const reachable = c.state !== 'off' && (await ping(e.host, e.httpPort));
  let counts: Counts | undefined;
  let queryError: string | undefined;
  if (reachable) {
    try {
      counts = await fetchCounts(e.host, e.httpPort, c.config.userId);
    } catch (err) {
      queryError = (err as Error).message;
    }
  }
  const stale = vscode.window.terminals.filter((t) => (terminalBirth.get(t) ?? 0) < c.envAppliedTime).length;
  const diagnosis = diagnose({
    serverReachable: reachable && !queryError,
    events: counts?.events ?? 0,
    metricPoints: counts?.metricPoints ?? 0,
    taggedEvents: counts?.taggedEvents ?? 0,
    lastReceivedAt: counts?.lastReceivedAt,
    staleTerminals: stale,
    injecting: c.config.injectIntoTerminals,
  });
  c.output.info(
    `Verify: server ${reachable ? 'up' : 'down'}${queryError ? ` (query failed: ${queryError})` : ''}; last 15 min: ${counts?.events ?? 0} events ` +
      `(${counts?.taggedEvents ?? 0} from injected terminals), ${counts?.metricPoints ?? 0} metric points; last received ` +
      `${counts?.lastReceivedAt?.toISOString() ?? 'never'}; terminals opened before the env: ${stale} → ${diagnosis.code}`,
  );
  let retention: TableRetention[] | undefined;
  let lines: string[] | undefined;
  // The store's storage and retention, whoever runs it (this window, another one, `npm start`): a read of the
  // endpoint, so it shows even while this window's collection is off.
  if (reachable || (!queryError && (await ping(e.host, e.httpPort)))) {
    try {
      const { fetchRetentionView } = await import('../stack/archive-data');
      retention = await fetchRetentionView({ url: localHttpUrl(e.host, e.httpPort) });
      lines = retentionLines(retention, Date.now());
      c.output.info(lines.join('\n'));
    } catch (err) {
      c.output.warn(`Verify: could not read the storage and retention of the tables (${(err as Error).message})`);
    }
  }
  const central = await centralLine(c);
  if (central) c.output.info(`Verify: ${central.line}`);
  if (show) {
    const text = `Chapter Telemetry: ${diagnosis.message}${counts?.lastReceivedAt ? ` Last data: ${counts.lastReceivedAt.toLocaleTimeString()}.` : ''}${central ? ` ${central.line}` : ''}`;
    const actions = diagnosis.code === 'server-down' ? ['Start Collection', 'Show Logs'] : diagnosis.code === 'ok' ? [] : ['New Terminal', 'Show Logs'];
    const show = diagnosis.ok ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void show(text, ...actions).then((pick) => {
      if (pick === 'Start Collection') void c.start();
      if (pick === 'Show Logs') c.output.show(true);
      if (pick === 'New Terminal') vscode.window.createTerminal().show();
    });
  }
  return { diagnosis, counts, retention, retentionLines: lines, ...(central ? { central } : {}) };
}

/** Local count, delivered count, queue depth and lag while this machine forwards to a team. */
async function centralLine(c: Controller): Promise<VerifyResult['central']> {
  const conn = getTeamConnection(c.teamStore);
  if (!conn?.central) return undefined;
  if (c.state !== 'on') return { line: `Central (team ${conn.team}): collection is off, so nothing is forwarded.` };
  try {
    const status = await (await c.currentBackend(false)).forwardStatus();
    return { line: verifyCentralLine(conn.team, status, new Date()), status };
  } catch (err) {
    return { line: `Central (team ${conn.team}): forwarding status unavailable (${(err as Error).message}).` };
  }
}
