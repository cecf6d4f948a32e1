/**
 * While this machine forwards to a team: reads the local server's forwarding status every few
 * seconds and shows it in the status bar (`Central · <team>`, queue depth and last delivery in the
 * tooltip, a warning when delivery has failed for more than a minute, with one notification per
 * failing streak saying what happened and what to do). Also follows the visible privacy setting:
 * a changed `chapterTelemetry.team.privacy` is applied to forwarding at once.
 */
import * as vscode from 'vscode';
import { centralView, type CentralView } from '../core/centralize';
import type { ForwardStatus } from '../core/forward-config';
import { PRIVACY_LEVELS, type PrivacyLevel } from '../core/team-privacy';
import type { Controller } from './controller';
import type { StatusBar } from './status-bar';
import { getTeamConnection, getTeamSecret, onDidChangeTeamConnection, updateTeamConnection, type TeamStore } from './team-connection';

const POLL_MS = 5000;

export class CentralMonitor implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private warned = false;
  private running: Promise<void> | undefined;
  /** The last status read and what the status bar shows (internal command for tests). */
  lastStatus: ForwardStatus | undefined;
  lastView: CentralView | undefined;
  private readonly subs: vscode.Disposable[];

  constructor(private readonly store: TeamStore, private readonly c: Controller, private readonly bar: StatusBar) {
    this.subs = [
      onDidChangeTeamConnection(() => void this.tick()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('chapterTelemetry.team.privacy')) void this.applyPrivacySetting();
      }),
    ];
    this.timer = setInterval(() => void this.tick(), POLL_MS);
    void this.tick();
  }

  /** Reads the status now (also the internal command's way to see it at once). */
  tick(): Promise<void> {
    this.running ??= this.read().finally(() => (this.running = undefined));
    return this.running;
  }

  private async read(): Promise<void> {
    const conn = getTeamConnection(this.store);
    if (!conn?.central) {
      this.lastStatus = undefined;
      this.lastView = undefined;
      this.warned = false;
      this.bar.setCentral(undefined);
      return;
    }
    let status: ForwardStatus | undefined;
    if (this.c.state === 'on') {
      try {
        status = await (await this.c.currentBackend(false)).forwardStatus();
      } catch {
        status = undefined;
      }
    }
    this.lastStatus = status;
    const view = centralView(conn.team, status, new Date());
    this.lastView = view;
    this.bar.setCentral(view);
    if (view.warning && !this.warned) {
      this.warned = true;
      this.c.output.warn(`Central: ${view.problem}`);
      void vscode.window.showWarningMessage(`Chapter Telemetry: ${view.problem}`, 'Show Logs', 'Revert to Local').then((p) => {
        if (p === 'Show Logs') this.c.output.show(true);
        if (p === 'Revert to Local') void vscode.commands.executeCommand('chapterTelemetry.revertToLocal');
      });
    } else if (!view.warning && this.warned && status?.state !== 'failing') {
      this.warned = false;
      this.c.output.info(`Central: delivery to team ${conn.team} works again (${status?.queue_rows ?? 0} records queued).`);
    }
  }

  /** The visible privacy setting changed: forward with the new level (the user's own setting only: it is application-scoped). */
  private async applyPrivacySetting(): Promise<void> {
    const conn = getTeamConnection(this.store);
    const v = vscode.workspace.getConfiguration('chapterTelemetry').inspect<string>('team.privacy')?.globalValue;
    if (!conn?.central || !PRIVACY_LEVELS.includes(v as PrivacyLevel) || v === conn.privacy) return;
    const secret = await getTeamSecret(this.store);
    if (!secret) return;
    const next = await updateTeamConnection(this.store, { privacy: v as PrivacyLevel });
    if (!next) return;
    await (await this.c.currentBackend(false)).configureForwarding({
      version: 1, enabled: true, team: next.team, member: next.member, role: next.role, otlp_http: next.otlp_http, query_url: next.query_url,
      ca_pem: next.ca_pem, secret, privacy: next.privacy, history: (next.history ?? 'none') as 'none',
    });
    this.c.output.info(`Central: privacy level for team ${next.team} is now ${next.privacy} (from the setting).`);
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subs) s.dispose();
  }
}
