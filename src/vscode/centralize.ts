/**
 * "Centralize Telemetry" and "Revert to Local" (issue 10). The wizard walks the decision tree of
 * src/core/centralize.ts in one multi-step QuickInput (step n of m, a Back button): cross-team
 * analytics needed? local collection reliable? what the team agreed to share? the connection line?
 * which history? Then it TESTS the connection (src/vscode/team-probe.ts) before anything changes,
 * and only then stores the connection (src/vscode/team-connection.ts: secret in SecretStorage only)
 * and turns the local stack into the team's agent (`configureForwarding`, h4's forward.json).
 *
 * The history move is watched from the server's `forwardStatus()`; cancelling it pauses forwarding
 * (`enabled: false`: nothing is sent, what is not yet delivered stays queued) and Resume, or the
 * next window that starts, carries on from where it stopped (the watermarks live in the store).
 */
import * as vscode from 'vscode';
import {
  assessReliability, countCheckText, historyPercent, historyProgressText, localFactsFromRow, localLogsSql, parseCentralizeArgs, parseHistoryChoice,
  parseRevertArgs, privacyChoices, LOCAL_FACTS_SQL, STAY_LOCAL_ADVICE, TEAM_OWN_LOGS_SQL, PRIVACY_LABELS, type HistoryChoice, type LocalFacts,
} from '../core/centralize';
import type { ForwardConfig, ForwardStatus } from '../core/forward-config';
import { dockerHistoryError } from '../core/collector-agent';
import { localHttpUrl } from '../core/otel-env';
import { BundleError, parseBundle, type TeamBundle, type TeamRole } from '../core/team-bundle';
import type { PrivacyLevel } from '../core/team-privacy';
import type { Controller } from './controller';
import { clearTeamConnection, getTeamConnection, getTeamSecret, setTeamConnection, updateTeamConnection, type TeamConnection, type TeamStore } from './team-connection';
import { httpRunner } from './webviews/connection';

const TITLE = 'Chapter Telemetry: Centralize Telemetry';
const STEPS = 5;

export interface CentralizeResult {
  connected: boolean;
  team?: string;
  member?: string;
  role?: TeamRole;
  /** History records delivered by the move (absent with history 'none'). */
  moved?: number;
  /** The count check's sentence, after a history move. */
  countCheck?: string;
  /** Where the wizard stopped on a "No" (its advice was shown). */
  stayedLocal?: 'noCrossTeam' | 'notReliable' | 'noAgreement';
  error?: string;
}

export interface RevertResult {
  reverted: boolean;
  queue?: 'kept' | 'dropped';
  secretForgotten?: boolean;
  /** Pull-back of own rows from the team server: not available in this version (see docs/ARCHITECTURE.md). */
  /** Pull-back of own rows the team server holds and this store lacks (counts from the server), or why it did not run. */
  pullBack?: { done: true; pulled: number; already: number; teamRecords: number } | { done: false; reason: string };
  error?: string;
}

// ---- the multi-step QuickInput ----

type Answer<T> = T | 'back' | undefined;

interface Item<V> extends vscode.QuickPickItem { value?: V }

function pickStep<V>(step: number, placeholder: string, items: Item<V>[]): Promise<Answer<V>> {
  const qp = vscode.window.createQuickPick<Item<V>>();
  qp.title = TITLE;
  qp.step = step;
  qp.totalSteps = STEPS;
  qp.placeholder = placeholder;
  qp.items = items;
  qp.ignoreFocusOut = true;
  qp.matchOnDetail = true;
  qp.buttons = step > 1 ? [vscode.QuickInputButtons.Back] : [];
  return new Promise((resolve) => {
    const subs = [
      qp.onDidAccept(() => {
        const v = qp.selectedItems[0]?.value;
        // Fact lines carry no value: choosing one keeps the step open.
        if (v === undefined) return;
        resolve(v);
        qp.hide();
      }),
      qp.onDidTriggerButton((b) => {
        if (b === vscode.QuickInputButtons.Back) {
          resolve('back');
          qp.hide();
        }
      }),
      qp.onDidHide(() => {
        resolve(undefined);
        for (const s of subs) s.dispose();
        qp.dispose();
      }),
    ];
    qp.show();
  });
}

function inputStep(step: number, o: { prompt: string; placeholder?: string; password?: boolean; validate: (v: string) => string | undefined }): Promise<Answer<string>> {
  const box = vscode.window.createInputBox();
  box.title = TITLE;
  box.step = step;
  box.totalSteps = STEPS;
  box.prompt = o.prompt;
  box.placeholder = o.placeholder;
  box.password = o.password ?? false;
  box.ignoreFocusOut = true;
  box.buttons = step > 1 ? [vscode.QuickInputButtons.Back] : [];
  return new Promise((resolve) => {
    const subs = [
      box.onDidChangeValue((v) => (box.validationMessage = v.trim() === '' ? undefined : o.validate(v))),
      box.onDidAccept(() => {
        const msg = o.validate(box.value);
        box.validationMessage = msg;
        if (msg) return;
        resolve(box.value);
        box.hide();
      }),
      box.onDidTriggerButton((b) => {
        if (b === vscode.QuickInputButtons.Back) {
          resolve('back');
          box.hide();
        }
      }),
      box.onDidHide(() => {
        resolve(undefined);
        for (const s of subs) s.dispose();
        box.dispose();
      }),
    ];
    box.show();
  });
}

// ---- step 2's facts ----

async function readLocalFacts(c: Controller): Promise<LocalFacts | undefined> {
  if (c.state !== 'on' || !c.endpoints) return undefined;
  const e = c.endpoints;
  const runner = httpRunner(localHttpUrl(e.host, e.httpPort), { timeoutMs: 10_000, application: 'chapter-telemetry-centralize' });
  try {
    const [row] = await runner.rows<Record<string, unknown>>({ name: 'centralize-facts', sql: LOCAL_FACTS_SQL, params: {} });
    let rejected = 0;
    try {
      // Embedded: the receiver's counters since start (the docker collector has no such endpoint: 0).
      const h = (await (await fetch(`${localHttpUrl(e.host, e.otlpHttpPort)}/health`, { signal: AbortSignal.timeout(3000) })).json()) as { rejected?: Record<string, number> };
      rejected = Object.values(h.rejected ?? {}).reduce((a, b) => a + (Number(b) || 0), 0);
    } catch { /* no counters: 0 */ }
    return localFactsFromRow(row, rejected);
  } catch (err) {
    c.output.warn(`Centralize: could not read the local store's facts: ${(err as Error).message}`);
    return undefined;
  } finally {
    await runner.close();
  }
}

async function parsePasted(text: string): Promise<TeamBundle> {
  const pin = await import('../server/team/pin');
  return parseBundle(text, { certificatePin: pin.certificatePin });
}

// ---- the wizard ----

interface Answers { bundle: TeamBundle; secret: string; privacy: PrivacyLevel; history: HistoryChoice }

async function runWizard(c: Controller, given: { bundle?: string; privacy?: PrivacyLevel; history?: HistoryChoice }): Promise<Answers | Pick<CentralizeResult, 'stayedLocal'> | undefined> {
  const pinFn = (await import('../server/team/pin')).certificatePin;
  let step = given.bundle || given.privacy || given.history ? 3 : 1;
  let privacy = given.privacy;
  let bundle: TeamBundle | undefined;
  let history = given.history;
  const advise = async (key: keyof typeof STAY_LOCAL_ADVICE): Promise<Pick<CentralizeResult, 'stayedLocal'>> => {
    c.output.info(`Centralize: stopped at "${key}": ${STAY_LOCAL_ADVICE[key]}`);
    void vscode.window.showInformationMessage(`Chapter Telemetry: ${STAY_LOCAL_ADVICE[key]}`);
    return { stayedLocal: key };
  };
  for (;;) {
    if (step === 1) {
      const a = await pickStep(1, 'Do you need analytics across authors (cost per member, the team\'s error patterns)?', [
        { label: 'Yes: a coordinator needs numbers across the team', value: 'yes' },
        { label: 'No: I only need my own numbers', detail: 'Stay local: the sidebar and reports already show everything of yours.', value: 'no' },
      ]);
      if (a === undefined || a === 'back') return undefined;
      if (a === 'no') return await advise('noCrossTeam');
      step = 2;
    } else if (step === 2) {
      const facts = await readLocalFacts(c);
      const r = facts ? assessReliability(facts, new Date()) : { enough: false, facts: ['Collection is off, so the local store cannot be measured.'], reasons: ['collection is off (Start Collection first)'] };
      const factItems: Item<string>[] = [{ label: 'Local store', kind: vscode.QuickPickItemKind.Separator }, ...r.facts.map((f) => ({ label: `$(graph) ${f}` }))];
      const choices: Item<string>[] = r.enough
        ? [{ label: 'Collection is reliable: continue', value: 'yes' }, { label: 'No: wait and keep collecting locally', value: 'no' }]
        : [
          { label: 'Wait and keep collecting locally (recommended)', detail: `Not enough yet: ${r.reasons.join('; ')}.`, value: 'no' },
          { label: 'Continue anyway', value: 'yes' },
        ];
      const a = await pickStep(2, r.enough ? 'Is local collection reliable? These are the measured facts.' : 'Local collection has not shown it is reliable yet.', [...choices, ...factItems]);
      if (a === undefined) return undefined;
      if (a === 'back') { step = 1; continue; }
      if (a === 'no') return await advise('notReliable');
      step = 3;
    } else if (step === 3) {
      if (given.privacy) { step = 4; continue; }
      const items: Item<PrivacyLevel | 'none'>[] = privacyChoices().map((p) => ({ label: p.label, description: p.description, detail: p.detail, value: p.level, picked: p.level === privacy }));
      items.push({ label: 'The team has not agreed yet', detail: 'Stop here and stay local.', value: 'none' });
      const a = await pickStep<PrivacyLevel | 'none'>(3, 'Has the team agreed what is shared? Pick the agreed level (what leaves this machine is exactly this).', items);
      if (a === undefined) return undefined;
      if (a === 'back') { if (given.bundle || given.history) return undefined; step = 2; continue; }
      if (a === 'none') return await advise('noAgreement');
      privacy = a;
      step = 4;
    } else if (step === 4) {
      if (given.bundle) {
        bundle = parseBundle(given.bundle, { certificatePin: pinFn });
        step = 5;
        continue;
      }
      const a = await inputStep(4, {
        prompt: 'Paste the connection line from your team admin (`npm run team -- add-member`). It holds your secret: it goes into VS Code\'s secret storage only.',
        placeholder: 'ctteam1.…',
        password: true,
        validate: (v) => {
          try {
            parseBundle(v, { certificatePin: pinFn });
            return undefined;
          } catch (err) {
            return (err as Error).message;
          }
        },
      });
      if (a === undefined) return undefined;
      if (a === 'back') { if (given.privacy) return undefined; step = 3; continue; }
      bundle = parseBundle(a, { certificatePin: pinFn });
      step = 5;
    } else {
      // Docker mode: the collector forwards from now on only (src/core/collector-agent.ts), so there is no history to ask about.
      if (!history && c.config.mode === 'docker') {
        history = 'none';
        void vscode.window.showInformationMessage('Chapter Telemetry: in docker mode the collector forwards what is collected from now on; your history stays local (embedded mode can move it).');
      }
      if (!history) {
        const a = await pickStep<string>(5, `Move your history to team ${bundle!.team}?`, [
          { label: 'All of it', detail: 'Every record in the local store goes up (privacy level applied).', value: 'all' },
          { label: 'Since a date…', detail: 'Records from that day (UTC) on.', value: 'date' },
          { label: 'None', detail: 'Only what is collected from now on goes up.', value: 'none' },
        ]);
        if (a === undefined) return undefined;
        if (a === 'back') { if (given.bundle) { if (given.privacy) return undefined; step = 3; } else step = 4; continue; }
        if (a === 'date') {
          const d = await inputStep(5, { prompt: 'Move the records from this day on (UTC)', placeholder: 'YYYY-MM-DD', validate: (v) => (parseHistoryChoice(v.trim()) ? undefined : 'A past day as YYYY-MM-DD.') });
          if (d === undefined) return undefined;
          if (d === 'back') continue;
          history = parseHistoryChoice(d.trim());
        } else history = a as HistoryChoice;
      }
      return { bundle: bundle!, secret: bundle!.secret, privacy: privacy!, history: history! };
    }
  }
}

// ---- connect ----

function forwardConfig(conn: TeamConnection, secret: string, history: HistoryChoice, enabled: boolean): ForwardConfig {
  return {
    version: 1, enabled, team: conn.team, member: conn.member, role: conn.role, otlp_http: conn.otlp_http, query_url: conn.query_url,
    ca_pem: conn.ca_pem, secret, privacy: conn.privacy, history,
  };
}

async function connect(ctx: TeamStore, c: Controller, a: Answers, interactive: boolean): Promise<CentralizeResult> {
  const b = a.bundle;
  const base = { team: b.team, member: b.member, role: b.role };
  // Docker mode: the collector forwards what arrives from now on; it has no way into the history.
  const dockerRefusal = c.config.mode === 'docker' ? dockerHistoryError(a.history) : undefined;
  if (dockerRefusal) return { connected: false, ...base, error: `${dockerRefusal} Nothing was changed.` };
  if (c.state !== 'on' && !(await c.start({ quiet: !interactive }))) {
    return { connected: false, ...base, error: 'Collection could not start, so there is no local agent to forward from. Nothing was changed; Show Logs tells why.' };
  }
  const { probeTeam } = await import('./team-probe');
  const probe = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Chapter Telemetry: testing the connection to team ${b.team}…` }, () =>
    probeTeam(b, a.secret));
  if (!probe.delivered || probe.readBack === 'failed') {
    c.output.warn(`Centralize: connection test failed (${probe.stage}): ${probe.error}`);
    return { connected: false, ...base, error: `The connection test failed; nothing was changed. ${probe.error ?? ''}`.trim() };
  }
  if (probe.storedAs !== undefined && probe.storedAs !== b.member) {
    return { connected: false, ...base, error: `The team server stored the test record as "${probe.storedAs}", not "${b.member}": the bundle and the server disagree about who you are. Nothing was changed; ask your team admin.` };
  }
  const readNote = probe.readBack === 'read' ? `read back as ${probe.storedAs}` : 'delivered (this role cannot read records back on this server yet)';
  c.output.info(`Centralize: connection test to team ${b.team} passed: ${readNote}; member ${b.member}, role ${b.role}.`);

  const conn: TeamConnection = {
    team: b.team, member: b.member, role: b.role, otlp_http: b.otlp_http, query_url: b.query_url, ca_pem: b.ca_pem, ca_sha256: b.ca_sha256,
    privacy: a.privacy, central: true, connected_at: new Date().toISOString(), history: a.history, history_done: a.history === 'none',
  };
  const writtenAt = Date.now();
  try {
    const backend = await c.currentBackend(false);
    await backend.configureForwarding(forwardConfig(conn, a.secret, a.history, true));
  } catch (err) {
    return { connected: false, ...base, error: `The connection works, but the local server could not start forwarding: ${(err as Error).message} Nothing else was changed.` };
  }
  await setTeamConnection(ctx, conn, a.secret);
  // Visible settings (no secret): where telemetry goes and what leaves the machine.
  const cfg = vscode.workspace.getConfiguration('chapterTelemetry');
  await cfg.update('team.endpoint', b.otlp_http, vscode.ConfigurationTarget.Global);
  await cfg.update('team.privacy', a.privacy, vscode.ConfigurationTarget.Global);
  const msg = `Connected to team ${b.team} as ${b.member} (${b.role}), ${readNote}. Forwarding with privacy "${PRIVACY_LABELS[a.privacy]}"; the local store stays.`;
  c.output.info(`Centralize: ${msg}`);
  void vscode.window.showInformationMessage(`Chapter Telemetry: ${msg}`);
  const result: CentralizeResult = { connected: true, ...base };
  if (a.history !== 'none') {
    const moved = await followHistory(ctx, c, writtenAt);
    if (moved) {
      result.moved = moved.moved;
      result.countCheck = moved.countCheck;
    }
  }
  return result;
}

/** The command. An argument `{bundle, privacy, history}` answers the questions (all three: no prompts at all). */
export async function centralizeCommand(ctx: TeamStore, c: Controller, arg: unknown): Promise<CentralizeResult> {
  const parsed = parseCentralizeArgs(arg);
  if ('error' in parsed) return { connected: false, error: parsed.error };
  const g = parsed.args;
  let answers: Answers;
  try {
    if (g.bundle && g.privacy && g.history) {
      const bundle = await parsePasted(g.bundle);
      answers = { bundle, secret: bundle.secret, privacy: g.privacy, history: g.history };
    } else {
      const w = await runWizard(c, g);
      if (!w) return { connected: false, error: 'Cancelled; nothing was changed.' };
      if (!('bundle' in w)) return { connected: false, stayedLocal: w.stayedLocal };
      answers = w;
    }
  } catch (err) {
    const msg = err instanceof BundleError ? err.message : `The connection line could not be read: ${(err as Error).message}`;
    if (!(g.bundle && g.privacy && g.history)) void vscode.window.showErrorMessage(`Chapter Telemetry: ${msg}`);
    return { connected: false, error: msg };
  }
  const interactive = !(g.bundle && g.privacy && g.history);
  const r = await connect(ctx, c, answers, interactive);
  if (r.error) {
    c.output.warn(`Centralize: ${r.error}`);
    void vscode.window.showErrorMessage(`Chapter Telemetry: ${r.error}`);
  }
  return r;
}

// ---- the history move ----

let following: Promise<{ moved: number; countCheck?: string } | undefined> | undefined;

/** How long after writing forward.json a status may still describe the previous file (the server follows it per tick). */
const SETTLE_MS = 15_000;

/**
 * Shows the history move's progress from forwardStatus() until it is done; Cancel pauses
 * forwarding. One at a time per window (a second call joins the first). `writtenAt`: when this
 * window just wrote forward.json; until the server shows it (a target enabled since then) or
 * SETTLE_MS pass, an old status's "paused" or "done" is not believed.
 */
export function followHistory(ctx: TeamStore, c: Controller, writtenAt?: number): Promise<{ moved: number; countCheck?: string } | undefined> {
  following ??= doFollowHistory(ctx, c, writtenAt).finally(() => (following = undefined));
  return following;
}

async function doFollowHistory(ctx: TeamStore, c: Controller, writtenAt?: number): Promise<{ moved: number; countCheck?: string } | undefined> {
  const conn = getTeamConnection(ctx);
  if (!conn?.central || conn.history_done) return undefined;
  const backend = await c.currentBackend(false);
  let last: ForwardStatus | undefined;
  const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Moving your history to team ${conn.team}`, cancellable: true }, async (progress, token) => {
    let shown = 0;
    let failures = 0;
    for (;;) {
      if (token.isCancellationRequested) return 'cancelled' as const;
      try {
        last = await backend.forwardStatus();
        failures = 0;
      } catch (err) {
        if (++failures >= 10) {
          c.output.warn(`Centralize: the history move's status cannot be read: ${(err as Error).message}`);
          return 'lost' as const;
        }
      }
      const h = last?.history;
      const settling = writtenAt !== undefined && Date.now() - writtenAt < SETTLE_MS;
      const current = !settling || (last?.enabled_at !== undefined && Date.parse(last.enabled_at) >= writtenAt! - 1000 && last.state !== 'paused' && last.state !== 'off');
      if (current && (last?.state === 'paused' || last?.state === 'off')) return 'paused' as const;
      if (h) {
        const pct = historyPercent(h);
        progress.report({ message: `${historyProgressText(h)}${last?.state === 'failing' ? ` — delivery failing: ${last.last_error ?? 'see the status bar'}` : ''}`, increment: Math.max(0, pct - shown) });
        shown = Math.max(shown, pct);
        if (current && h.delivered_rows >= h.total_rows) return 'done' as const;
      } else if (current && last && last.queue_rows === 0 && (last.state === 'idle' || last.state === 'delivering')) return 'done' as const;
      await new Promise<void>((r) => {
        const t = setTimeout(r, 1000);
        token.onCancellationRequested(() => { clearTimeout(t); r(); });
      });
    }
  });
  const moved = last?.history?.delivered_rows ?? last?.delivered_rows ?? 0;
  if (outcome === 'cancelled') {
    const secret = await getTeamSecret(ctx);
    if (secret) await backend.configureForwarding(forwardConfig(conn, secret, (conn.history ?? 'none') as HistoryChoice, false));
    const msg = `History move paused at ${historyText(last)}. Nothing is sent until you resume; collection goes on locally.`;
    c.output.info(`Centralize: ${msg}`);
    void vscode.window.showInformationMessage(`Chapter Telemetry: ${msg}`, 'Resume').then((p) => { if (p === 'Resume') void resumeForwarding(ctx, c); });
    return { moved };
  }
  if (outcome === 'paused') {
    void vscode.window.showInformationMessage(`Chapter Telemetry: forwarding to team ${conn.team} is paused (${historyText(last)} of the history moved).`, 'Resume').then((p) => { if (p === 'Resume') void resumeForwarding(ctx, c); });
    return { moved };
  }
  if (outcome === 'lost') return { moved };
  await updateTeamConnection(ctx, { history_done: true });
  const check = await countCheck(ctx, c, conn);
  c.output.info(`Centralize: history moved (${historyText(last)}). ${check}`);
  void vscode.window.showInformationMessage(`Chapter Telemetry: history moved to team ${conn.team}. ${check}`);
  return { moved, countCheck: check };
}

function historyText(s: ForwardStatus | undefined): string {
  return s?.history ? historyProgressText(s.history) : `${s?.delivered_rows ?? 0} records`;
}

/** Own rows at the team server against the local rows of the moved range. */
async function countCheck(ctx: TeamStore, c: Controller, conn: TeamConnection): Promise<string> {
  const secret = await getTeamSecret(ctx);
  const e = c.endpoints;
  if (!secret || !e) return '';
  const local = httpRunner(localHttpUrl(e.host, e.httpPort), { application: 'chapter-telemetry-centralize' });
  let localRows = 0;
  try {
    const q = localLogsSql(conn.history ?? 'all');
    localRows = Number((await local.rows<{ n: number }>({ name: 'centralize-local-logs', sql: q.sql, params: q.params }))[0]?.n ?? 0);
  } catch (err) {
    return `Count check skipped: the local store did not answer (${(err as Error).message}).`;
  } finally {
    await local.close();
  }
  const { createClient, ClickHouseLogLevel } = await import('@clickhouse/client');
  const team = createClient({ url: conn.query_url, username: conn.member, password: secret, tls: { ca_cert: Buffer.from(conn.ca_pem) }, request_timeout: 15_000, keep_alive: { enabled: false }, log: { level: ClickHouseLogLevel.OFF }, application: 'chapter-telemetry-centralize' });
  try {
    const rs = await team.query({ query: TEAM_OWN_LOGS_SQL, query_params: { member: conn.member }, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
    const [row] = await rs.json<{ n: number }>();
    return countCheckText(conn.team, Number(row?.n ?? 0), localRows, conn.privacy);
  } catch (err) {
    if (/\b497\b/.test((err as Error).message)) return countCheckText(conn.team, undefined, localRows, conn.privacy);
    return `Count check failed: ${(err as Error).message}`;
  } finally {
    await team.close();
  }
}

/** Enables forwarding again with the stored connection (after a paused history move). */
export async function resumeForwarding(ctx: TeamStore, c: Controller): Promise<boolean> {
  const conn = getTeamConnection(ctx);
  const secret = await getTeamSecret(ctx);
  if (!conn?.central || !secret) return false;
  const writtenAt = Date.now();
  await (await c.currentBackend(false)).configureForwarding(forwardConfig(conn, secret, (conn.history ?? 'none') as HistoryChoice, true));
  c.output.info(`Centralize: forwarding to team ${conn.team} resumed.`);
  void followHistory(ctx, c, writtenAt);
  return true;
}

/** At activation: a central connection whose history move did not finish shows its progress again. */
export async function resumeAfterReload(ctx: TeamStore, c: Controller): Promise<void> {
  const conn = getTeamConnection(ctx);
  if (!conn?.central || conn.history_done || c.state !== 'on') return;
  c.output.info(`Centralize: the history move to team ${conn.team} is not finished; showing its progress.`);
  await followHistory(ctx, c);
}

// ---- Revert to Local ----

export async function revertCommand(ctx: TeamStore, c: Controller, arg: unknown): Promise<RevertResult> {
  const parsed = parseRevertArgs(arg);
  if ('error' in parsed) return { reverted: false, error: parsed.error };
  const conn = getTeamConnection(ctx);
  if (!conn?.central) {
    const msg = 'Collection is already local: no team connection is forwarding.';
    if (arg === undefined) void vscode.window.showInformationMessage(`Chapter Telemetry: ${msg}`);
    return { reverted: false, error: msg };
  }
  let { dropQueue, forgetSecret, pullBack: pullBackAsked } = parsed.args;
  // An argument (scripts, keybindings: `{pullBack, forgetSecret}`) asks nothing: what it leaves out is false.
  if (arg !== undefined && arg !== null) {
    dropQueue ??= false;
    forgetSecret ??= false;
    pullBackAsked ??= false;
  }
  const title = 'Chapter Telemetry: Revert to Local';
  if (dropQueue === undefined) {
    const p = await vscode.window.showQuickPick([
      { label: 'Keep the queue', detail: 'Records not yet delivered stay queued and go up if you centralize again with the same connection.', drop: false },
      { label: 'Drop the queue', detail: 'Records not yet delivered never leave this machine.', drop: true },
    ], { title, placeHolder: `Stop forwarding to team ${conn.team}. The local store is kept either way.`, ignoreFocusOut: true });
    if (!p) return { reverted: false, error: 'Cancelled; nothing was changed.' };
    dropQueue = p.drop;
  }
  if (pullBackAsked === undefined) {
    const p = await vscode.window.showQuickPick([
      { label: 'Keep only what this machine collected', pull: false },
      { label: 'Pull back my records from the team server', detail: 'Your own records the team server holds and this store lacks (e.g. from your other machines), counted, never twice.', pull: true },
    ], { title, placeHolder: 'Your records at the team server', ignoreFocusOut: true });
    if (!p) return { reverted: false, error: 'Cancelled; nothing was changed.' };
    pullBackAsked = p.pull;
  }
  if (forgetSecret === undefined) {
    const p = await vscode.window.showQuickPick([
      { label: 'Keep my team secret', detail: 'Stored in VS Code\'s secret storage; Centralize again without a new line.', forget: false },
      { label: 'Forget my team secret', detail: 'Removed from this machine; you need a new connection line to centralize again.', forget: true },
    ], { title, placeHolder: 'Your team secret', ignoreFocusOut: true });
    if (!p) return { reverted: false, error: 'Cancelled; nothing was changed.' };
    forgetSecret = p.forget;
  }
  const backend = await c.currentBackend(false);
  const secret = await getTeamSecret(ctx);
  let pulled: RevertResult['pullBack'];
  try {
    if (secret) {
      // Paused first (nothing more leaves); drop_queue makes the server move its watermarks to the store's end.
      await backend.configureForwarding({ ...forwardConfig(conn, secret, (conn.history ?? 'none') as HistoryChoice, false), ...(dropQueue ? { drop_queue: true } : {}) });
      const end = Date.now() + 20_000;
      while (Date.now() < end) {
        const s = await backend.forwardStatus().catch(() => undefined);
        if (s && s.state === 'paused' && (!dropQueue || s.queue_rows === 0)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      // The pull-back reads with forward.json's credential: before the file goes.
      if (pullBackAsked) pulled = await pullBackWithProgress(backend, conn.team);
    } else if (pullBackAsked) pulled = { done: false, reason: 'Your team secret is no longer stored, so nothing can be read from the team server.' };
    // No forward.json: nothing is sent and the secret is nowhere on disk; the watermarks stay in the store.
    await backend.configureForwarding(undefined);
  } catch (err) {
    return { reverted: false, error: `The local server could not stop forwarding: ${(err as Error).message}` };
  }
  if (forgetSecret) await clearTeamConnection(ctx);
  else await updateTeamConnection(ctx, { central: false });
  await vscode.workspace.getConfiguration('chapterTelemetry').update('team.endpoint', undefined, vscode.ConfigurationTarget.Global);
  const result: RevertResult = { reverted: true, queue: dropQueue ? 'dropped' : 'kept', secretForgotten: forgetSecret };
  const notes: string[] = [];
  if (pulled) {
    result.pullBack = pulled;
    notes.push(pulled.done
      ? `Pulled back ${pulled.pulled} of your records from the team server (${pulled.already} were here already; the team holds ${pulled.teamRecords}).`
      : `Pull-back did not run: ${pulled.reason}`);
  }
  const msg = `Back to local: nothing more goes to team ${conn.team} (queue ${result.queue}${forgetSecret ? ', secret forgotten' : ''}). Collection goes on in the local store.${notes.length ? ` ${notes.join(' ')}` : ''}`;
  c.output.info(`Revert to Local: ${msg}`);
  void vscode.window.showInformationMessage(`Chapter Telemetry: ${msg}`);
  return result;
}

/** The server's pull-back under a cancellable progress notification; its counts, or why it failed. */
async function pullBackWithProgress(backend: Awaited<ReturnType<Controller['currentBackend']>>, team: string): Promise<RevertResult['pullBack']> {
  return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Pulling your records back from team ${team}…`, cancellable: true }, async (_p, token) => {
    const ac = new AbortController();
    token.onCancellationRequested(() => ac.abort());
    try {
      const r = await backend.pullBack(ac.signal);
      return { done: true as const, pulled: r.pulled, already: r.already, teamRecords: r.team_records };
    } catch (err) {
      return { done: false as const, reason: (err as Error).message };
    }
  });
}
