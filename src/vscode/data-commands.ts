/**
 * Export Data, Delete My Data and Weekly Report: thin adapters over src/stack/export-data.ts,
 * delete-data.ts and report-data.ts (the same cores as `npm run export` / `npm run report`).
 * Each takes an argument object that skips the questions (tests, scripts, keybindings).
 *
 * Where the data is: `dataTarget()` — the local store's ClickHouse HTTP URL (reads anonymous,
 * deletions with the backend's writer credential). Delete My Data on the team server goes through the
 * team server's own endpoint instead (members cannot write through SQL): src/stack/team-data.ts.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { localHttpUrl } from '../core/otel-env';
import { EXPORT_FORMATS, FILE_EXTENSION, planExport, type ExportFormat } from '../core/data/export-plan';
import { EXPORT_TABLES } from '../core/data/tables';
import { planDeletion, summarizeCounts } from '../core/data/delete-plan';
import { formatBytes } from '../core/data/format-bytes';
import { lastFullWeek, parseIsoWeek } from '../core/report/iso-week';
import type { DataTarget } from '../stack/export-data';
import type { TableCounts } from '../stack/delete-data';
import type { Controller } from './controller';
import type { MemberTableCount } from '../core/data/team-deletion';
import { getTeamConnection, getTeamSecret, type TeamConnection, type TeamStore } from './team-connection';

export interface ExportArgs { table: string; from?: string; to?: string; format: string; out: string }
export interface ExportOutcome { out?: string; rows?: number; bytes?: number; cancelled?: boolean; error?: string }

export async function dataTarget(c: Controller, withWriter: boolean): Promise<DataTarget> {
  const e = c.endpoints ?? c.config.endpoints;
  const url = localHttpUrl(e.host, e.httpPort);
  if (!withWriter) return { url };
  const creds = await (await c.currentBackend(false)).writerCredentials?.();
  if (!creds) throw new Error('the store\'s writer credential was not found; start collection once so the store creates it');
  return { url, auth: { user: creds.user, password: creds.password } };
}

function day(offsetDays: number): string {
  return new Date(Date.now() - offsetDays * 86_400_000).toISOString().slice(0, 10);
}

async function askExport(): Promise<ExportArgs | undefined> {
  const table = await vscode.window.showQuickPick(EXPORT_TABLES.map((t) => ({ label: t.id, description: t.label })), { title: 'Export Data: what', placeHolder: 'Which table?' });
  if (!table) return undefined;
  const range = await vscode.window.showQuickPick([
    { label: 'Everything', from: undefined, to: undefined },
    { label: 'Last 7 days', from: day(6), to: day(0) },
    { label: 'Last 30 days', from: day(29), to: day(0) },
    { label: 'Last 90 days', from: day(89), to: day(0) },
    { label: 'Custom range…', from: '', to: '' },
  ], { title: 'Export Data: which days (UTC)' });
  if (!range) return undefined;
  let { from, to } = range;
  if (from === '') {
    const valid = (v: string) => (/^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) ? undefined : 'A day as YYYY-MM-DD');
    from = await vscode.window.showInputBox({ title: 'First day (YYYY-MM-DD)', value: day(29), validateInput: valid });
    if (!from) return undefined;
    to = await vscode.window.showInputBox({ title: 'Last day (YYYY-MM-DD)', value: day(0), validateInput: valid });
    if (!to) return undefined;
  }
  const format = await vscode.window.showQuickPick(EXPORT_FORMATS.map((f) => ({ label: f, description: { csv: 'CSV with a header line', parquet: 'Parquet', jsonl: 'JSON Lines' }[f] })), { title: 'Export Data: format' });
  if (!format) return undefined;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const name = `${table.label}${from ? `-${from}_${to}` : ''}.${FILE_EXTENSION[format.label as ExportFormat]}`;
  const uri = await vscode.window.showSaveDialog({ title: 'Export Data: where', defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined, saveLabel: 'Export' });
  if (!uri) return undefined;
  return { table: table.label, from, to, format: format.label, out: uri.fsPath };
}

export async function exportDataCommand(c: Controller, arg?: unknown): Promise<ExportOutcome> {
  const args = isObject(arg) ? (arg as unknown as ExportArgs) : await askExport();
  if (!args) return { cancelled: true };
  try {
    planExport(args);
  } catch (e) {
    void vscode.window.showErrorMessage(`Chapter Telemetry: ${(e as Error).message}`);
    return { error: (e as Error).message };
  }
  const target = await dataTarget(c, false);
  const { exportData } = await import('../stack/export-data');
  return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Exporting ${args.table}`, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    let lastPct = 0;
    try {
      const r = await exportData({
        ...args, target, signal: abort.signal,
        onProgress: (p) => {
          const pct = p.totalRows > 0 && p.rowsCounted ? Math.min(100, (p.rows / p.totalRows) * 100) : 0;
          progress.report({ message: `${p.rowsCounted ? `${p.rows.toLocaleString()} of ` : ''}${p.totalRows.toLocaleString()} rows, ${formatBytes(p.bytes)}`, increment: pct - lastPct });
          lastPct = pct;
        },
      });
      c.output.info(`Exported ${r.rows} rows (${formatBytes(r.bytes)}) of ${args.table} to ${r.out}`);
      if (!isObject(arg)) {
        void vscode.window.showInformationMessage(`Chapter Telemetry: exported ${r.rows.toLocaleString()} rows (${formatBytes(r.bytes)}) to ${r.out}.`, 'Reveal').then((a) => {
          if (a) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(r.out));
        });
      }
      return { out: r.out, rows: r.rows, bytes: r.bytes };
    } catch (e) {
      if (abort.signal.aborted) {
        c.output.info(`Export of ${args.table} cancelled; nothing written to ${args.out}`);
        return { cancelled: true };
      }
      void vscode.window.showErrorMessage(`Chapter Telemetry: export failed: ${(e as Error).message}`);
      return { error: (e as Error).message };
    }
  });
}

export interface DeleteOutcome { user: string; before?: TableCounts[]; after?: TableCounts[]; deleted?: boolean; error?: string; team?: TeamDeleteOutcome }

/** The team server's side of Delete My Data: the member's own rows there, before and after. */
export interface TeamDeleteOutcome { team: string; member: string; before?: MemberTableCount[]; after?: MemberTableCount[]; deleted?: boolean; at?: string; error?: string }

/** `where`: which store (default `local` in the argument form; asked when connected to a team). */
export interface DeleteArgs { confirmed?: boolean; where?: 'local' | 'team' | 'both' }

function describeCounts(counts: TableCounts[]): string {
  const s = summarizeCounts(counts);
  const lines = counts.filter((x) => x.count.rows > 0).map((x) => `${x.label}: ${x.count.rows.toLocaleString()}`);
  return `${s.rows.toLocaleString()} rows${s.first ? ` from ${s.first.slice(0, 10)} to ${s.last.slice(0, 10)}` : ''}.\n\n${lines.join('\n')}`;
}

/**
 * `arg`: `{confirmed: true}` skips the modal (tests, scripts); the counts are still shown in the output.
 * With a team connection (and its secret) the author picks this machine's store, the team server
 * (their own rows there, src/stack/team-data.ts), or both; the argument form says it with `where`.
 */
export async function deleteMyDataCommand(c: Controller, arg?: unknown, team?: TeamStore): Promise<DeleteOutcome> {
  const a: DeleteArgs | undefined = isObject(arg) ? (arg as DeleteArgs) : undefined;
  const conn = team ? getTeamConnection(team) : undefined;
  const secret = conn && team ? await getTeamSecret(team) : undefined;
  let where = a?.where ?? 'local';
  if (!a && conn && secret) {
    const pick = await vscode.window.showQuickPick([
      { label: 'This machine', description: 'the local store', where: 'local' as const },
      { label: `The team server`, description: `your rows as ${conn.member} on team "${conn.team}"`, where: 'team' as const },
      { label: 'Both', where: 'both' as const },
    ], { title: 'Delete My Data: where' });
    if (!pick) return { user: c.config.userId };
    where = pick.where;
  }
  if (where !== 'local' && !(conn && secret)) {
    const error = 'not connected to a team server (run Centralize Telemetry first)';
    if (!a) void vscode.window.showErrorMessage(`Chapter Telemetry: Delete My Data: ${error}.`);
    return { user: c.config.userId, error };
  }
  const out: DeleteOutcome = where === 'team' ? { user: c.config.userId } : await deleteLocalData(c, arg);
  if (where !== 'local') out.team = await deleteTeamData(c, conn!, secret!, a?.confirmed === true, !a);
  return out;
}

/** The member's own rows on the team server: counts shown, confirmed, deleted at once, counts after. */
async function deleteTeamData(c: Controller, conn: TeamConnection, secret: string, confirmed: boolean, interactive: boolean): Promise<TeamDeleteOutcome> {
  const base = { team: conn.team, member: conn.member };
  const { countMyTeamData, deleteMyTeamData } = await import('../stack/team-data');
  try {
    const before = await countMyTeamData(conn, secret);
    c.output.info(`Delete My Data on team "${conn.team}" (${conn.member}): ${before.tables.map((t) => `${t.table}=${t.rows}`).join(' ')}`);
    if (before.total === 0) {
      if (interactive) void vscode.window.showInformationMessage(`Chapter Telemetry: team "${conn.team}" holds no rows of ${conn.member}.`);
      return { ...base, before: before.tables, after: before.tables, deleted: false };
    }
    if (!confirmed) {
      const detail = before.tables.filter((t) => t.rows > 0).map((t) => `${t.label}: ${t.rows.toLocaleString()}`).join('\n');
      const choice = await vscode.window.showWarningMessage(`Delete all your telemetry (${conn.member}) from team "${conn.team}"? ${before.total.toLocaleString()} rows; this cannot be undone. The team server logs who deleted how many rows when, never the data.`,
        { modal: true, detail }, 'Delete');
      if (choice !== 'Delete') return { ...base, before: before.tables, deleted: false };
    }
    const d = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Deleting your rows on team "${conn.team}"` }, () => deleteMyTeamData(conn, secret));
    c.output.info(`Delete My Data on team "${conn.team}" done at ${d.at}: ${d.total} rows deleted; afterwards ${d.after.total}.`);
    const msg = d.after.total === 0 ? `Chapter Telemetry: deleted ${d.total.toLocaleString()} of your rows on team "${conn.team}"; it now holds 0 of them.` : `Chapter Telemetry: ${d.after.total} of your rows arrived on team "${conn.team}" meanwhile (still forwarding?): see Show Logs.`;
    if (interactive) void (d.after.total === 0 ? vscode.window.showInformationMessage(msg) : vscode.window.showWarningMessage(msg));
    return { ...base, before: d.deleted, after: d.after.tables, deleted: true, at: d.at };
  } catch (e) {
    if (interactive) void vscode.window.showErrorMessage(`Chapter Telemetry: Delete My Data on the team server failed: ${(e as Error).message}`);
    return { ...base, error: (e as Error).message };
  }
}

async function deleteLocalData(c: Controller, arg?: unknown): Promise<DeleteOutcome> {
  const user = c.config.userId;
  const { countAuthorRows, deleteAuthorRows } = await import('../stack/delete-data');
  try {
    const plan = planDeletion(user);
    const read = await dataTarget(c, false);
    const before = await countAuthorRows(read, plan);
    const total = summarizeCounts(before).rows;
    c.output.info(`Delete My Data (${user}): ${before.map((x) => `${x.table}=${x.count.rows}`).join(' ')}`);
    if (total === 0) {
      if (!isObject(arg)) void vscode.window.showInformationMessage(`Chapter Telemetry: the store holds no rows of "${user}".`);
      return { user, before, after: before, deleted: false };
    }
    const confirmed = isObject(arg) && (arg as { confirmed?: unknown }).confirmed === true;
    if (!confirmed) {
      const choice = await vscode.window.showWarningMessage(`Delete all telemetry of "${user}" from the local store? This cannot be undone.`,
        { modal: true, detail: describeCounts(before) }, 'Delete');
      if (choice !== 'Delete') return { user, before, deleted: false };
    }
    const write = await dataTarget(c, true);
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Deleting the rows of ${user}` }, async (progress) => {
      await deleteAuthorRows(write, plan, (t) => progress.report({ message: t }));
    });
    const after = await countAuthorRows(read, plan);
    const left = summarizeCounts(after).rows;
    c.output.info(`Delete My Data (${user}) done: ${after.map((x) => `${x.table}=${x.count.rows}`).join(' ')}`);
    const msg = left === 0 ? `Chapter Telemetry: deleted ${total.toLocaleString()} rows of "${user}"; every table now holds 0 of them.` : `Chapter Telemetry: ${left} rows of "${user}" are still there (see Show Logs).`;
    if (!isObject(arg)) void (left === 0 ? vscode.window.showInformationMessage(msg) : vscode.window.showWarningMessage(msg));
    return { user, before, after, deleted: true };
  } catch (e) {
    void vscode.window.showErrorMessage(`Chapter Telemetry: Delete My Data failed: ${(e as Error).message}`);
    return { user, error: (e as Error).message };
  }
}

export interface ReportArgs { week?: string; all?: boolean; dir?: string; show?: boolean }
export interface ReportOutcome { week?: string; files?: string[]; error?: string }

/**
 * Writes `<dir>/<week>.md` and `.html` (default: `reports/` in the first workspace folder, written through
 * src/vscode/confined-file.ts so a linked `reports` never leads out of the folder) and shows the HTML in a panel.
 */
export async function weeklyReportCommand(c: Controller, arg?: unknown): Promise<ReportOutcome> {
  const a: ReportArgs = isObject(arg) ? (arg as ReportArgs) : {};
  let weekId = a.week;
  if (!isObject(arg)) {
    weekId = await vscode.window.showInputBox({ title: 'Weekly Report: ISO week', value: lastFullWeek(Date.now()).id, validateInput: (v) => (parseIsoWeek(v) ? undefined : 'An ISO week like 2026-W48') });
    if (!weekId) return {};
  }
  const week = weekId ? parseIsoWeek(weekId) : lastFullWeek(Date.now());
  if (!week) return { error: `not an ISO week: ${weekId}` };
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!a.dir && !folder) {
    void vscode.window.showWarningMessage('Chapter Telemetry: open a folder first; the report goes into its reports/ folder.');
    return { error: 'no folder' };
  }
  try {
    const { fetchWeeklyReport, writeReport } = await import('../stack/report-data');
    const report = await fetchWeeklyReport(await dataTarget(c, false), week, { user: a.all ? '' : c.config.userId, all: a.all === true });
    const { renderHtml } = await import('../core/report/render-html');
    let files: string[];
    if (a.dir) {
      files = [await writeReport(report, a.dir, 'md'), await writeReport(report, a.dir, 'html')];
    } else {
      const { renderMarkdown } = await import('../core/report/render-markdown');
      const { writeConfined } = await import('./confined-file');
      files = [];
      for (const [ext, text] of [['md', renderMarkdown(report)], ['html', renderHtml(report)]] as const) {
        await writeConfined(folder!, `reports/${week.id}.${ext}`, text);
        files.push(join(folder!, 'reports', `${week.id}.${ext}`));
      }
    }
    if (a.show ?? !isObject(arg)) {
      const panel = vscode.window.createWebviewPanel('chapterTelemetry.weeklyReport', `Weekly Report ${week.id}`, vscode.ViewColumn.Active, { enableScripts: false });
      panel.webview.html = renderHtml(report);
    }
    c.output.info(`Weekly report ${week.id} written: ${files.join(', ')}`);
    return { week: week.id, files };
  } catch (e) {
    void vscode.window.showErrorMessage(`Chapter Telemetry: weekly report failed: ${(e as Error).message}`);
    return { error: (e as Error).message };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !(v instanceof vscode.Uri);
}
