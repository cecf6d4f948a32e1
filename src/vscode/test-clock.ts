/**
 * The extension's one TEST-ONLY clock: the user setting `chapterTelemetry.budget.testOnlyNow` (an ISO instant;
 * not contributed, read from user settings only, so a workspace can never move it). It began with the budget's
 * day and week (hence its name) and also stands for "now" in the data lifecycle's decisions: the first start
 * of a week (weekly report) and when to offer the archive again. Empty or unset = the real clock.
 */
import * as vscode from 'vscode';

export function testOnlyNowIso(): string | undefined {
  const v = vscode.workspace.getConfiguration('chapterTelemetry').inspect<unknown>('budget.testOnlyNow')?.globalValue;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** "Now" for the decisions above: the test-only instant when set and valid, else the real clock. */
export function clockNow(): Date {
  const iso = testOnlyNowIso();
  const t = iso === undefined ? NaN : Date.parse(iso);
  return new Date(Number.isFinite(t) ? t : Date.now());
}
