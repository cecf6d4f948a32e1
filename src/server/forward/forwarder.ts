/**
 * The forwarding agent (issue 10): the local server sends what it stored to the team server, from
 * its own store, so forwarding and moving the history are one mechanism.
 *
 * Per raw table, one step at a time: read the next groups after the watermark (whole chunks of
 * whole insert blocks, bounded in rows and bytes: local-rows.ts), store the INTENT (the last group
 * of the batch), filter by the author's privacy level, POST to `<otlp_http>/v1/forward/<table>`;
 * on 200 the watermark moves to the intent. After a crash the intent's range is read and sent again
 * exactly; the team server stores each group once (team/forward-receiver.ts), so delivery is
 * at-least-once on the wire and exactly-once in the team's tables.
 *
 * Failures (network, 429/503 with Retry-After, any other answer) never drop anything: the batch is
 * retried after Retry-After or an exponential backoff (1 s … 60 s), the state is `failing` with
 * `failing_since` and `last_error`, and local collection goes on untouched (reads run on reader
 * sessions, progress on the internal session; the ingest session is never used here).
 */
import { forwardTargetKey, type ForwardConfig, type ForwardStatus } from '../../core/forward-config';
import type { Store } from '../store/types';
import { applyAuthorPrivacy } from '../team/privacy';
import { MAX_FORWARD_GROUPS } from '../team/forward-receiver';
import { ForwardConfigWatch } from './config-watch';
import { END_CHUNK, FORWARD_TABLES, LocalRows, type Group, type Pos } from './local-rows';
import { ForwardSender } from './sender';
import { ForwardStateTable, type TableProgress } from './state-table';
import { pullBack, PullBackError, type PullBackResult } from './pull-back';

export interface ForwarderOptions {
  dataDir: string;
  log(line: string): void;
  /** Rows per request (default 5000) and bytes per request (default 4 MiB, under the team's 8 MiB body limit). */
  maxRows?: number;
  maxBytes?: number;
  /** Pause between looks when there is nothing to send (default 1 s). */
  idleMs?: number;
}

const cmp = (a: Pos, b: Pos) => (a.block !== b.block ? a.block - b.block : a.chunk - b.chunk);

/** The history choice a target key was made with (forwardTargetKey), as the date filter. */
function sinceDayOf(target: string): string | undefined {
  try {
    const h = (JSON.parse(target) as unknown[])[3];
    return typeof h === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(h) ? h : undefined;
  } catch {
    return undefined;
  }
}

export class Forwarder {
  private readonly watch: ForwardConfigWatch;
  private readonly rows: LocalRows;
  private readonly state: ForwardStateTable;
  private readonly sender = new ForwardSender();
  private progress: Map<string, TableProgress> | undefined;
  private loading: Promise<Map<string, TableProgress>> | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private lastDeliveryAt: number | undefined;
  private backoffMs = 0;
  private nextAttemptAt = 0;
  private historyBytes = 0;
  private recent: Array<{ at: number; rows: number }> = [];
  private turn = 0;
  /** A round of sending is under way (a batch may be on the wire). */
  private sending = false;

  constructor(private readonly store: Store, private readonly o: ForwarderOptions) {
    this.watch = new ForwardConfigWatch(o.dataDir, o.log);
    this.rows = new LocalRows(store);
    this.state = new ForwardStateTable(store);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops after the request in flight (its intent is stored: a restart sends it again). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.sender.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let more = false;
      try {
        more = await this.serialize(() => this.tick());
      } catch (err) {
        // The local store refused (starting, stopping, disk): retried like a failed delivery.
        this.fail(`local store: ${(err as Error).message}`);
      }
      if (this.stopped) break;
      const wait = more ? 0 : this.failingSince !== undefined ? Math.max(this.nextAttemptAt - Date.now(), 50) : (this.o.idleMs ?? 1000);
      if (wait > 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private serial: Promise<unknown> = Promise.resolve();

  /** One at a time: a forwarding round, or a pull-back (which must not overlap a round). */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.catch(() => undefined).then(fn);
    this.serial = run;
    return run;
  }

  /**
   * Pull-back (pull-back.ts) with the member credential of forward.json, between two forwarding
   * rounds, so its blocks are recorded as pulled before any round can read them. Works whether
   * forwarding is enabled or paused; without a usable forward.json there is no credential: 409.
   */
  async pullBack(): Promise<PullBackResult> {
    const w = this.watch.current();
    if (!w.config) throw new PullBackError(w.error ? `no usable forward.json: ${w.error}` : 'not connected to a team server (no forward.json): nothing to pull back', 409);
    const cfg = w.config;
    return await this.serialize(() => pullBack(this.store, cfg, this.o.log));
  }

  private async loadProgress(): Promise<Map<string, TableProgress>> {
    if (this.progress) return this.progress;
    this.loading ??= this.state.load().then((m) => (this.progress = m)).finally(() => (this.loading = undefined));
    return await this.loading;
  }

  private initChain: Promise<unknown> = Promise.resolve();

  /**
   * Progress rows for `cfg`'s target: a new target (or history choice) starts at its starting point.
   * One at a time (the loop and a status request may both get here first).
   */
  private progressFor(cfg: ForwardConfig): Promise<Map<string, TableProgress>> {
    const run = this.initChain.catch(() => undefined).then(() => this.initProgress(cfg));
    this.initChain = run;
    return run;
  }

  private async initProgress(cfg: ForwardConfig): Promise<Map<string, TableProgress>> {
    const progress = await this.loadProgress();
    const target = forwardTargetKey(cfg);
    for (const table of FORWARD_TABLES) {
      const p = progress.get(table);
      if (p && p.target === target) continue;
      const max = await this.rows.maxBlock(table);
      const start: Pos = cfg.history === 'none' ? { block: max, chunk: END_CHUNK } : { block: -1, chunk: 0 };
      const fresh: TableProgress = { table, target, wm: start, intent: start, historyBlock: cfg.history === 'none' ? -1 : max, enabledAt: new Date().toISOString() };
      await this.state.save(fresh);
      progress.set(table, fresh);
      // The history's bytes and rate are of this run.
      this.historyBytes = 0;
      this.recent = [];
    }
    return progress;
  }

  /** One round over the tables; true when something moved (look again at once). */
  private async tick(): Promise<boolean> {
    const { config: cfg } = this.watch.current();
    if (!cfg) {
      this.clearFailure();
      return false;
    }
    const progress = await this.progressFor(cfg);
    if (!cfg.enabled) {
      this.clearFailure();
      if (cfg.drop_queue) {
        for (const p of progress.values()) {
          const max = await this.rows.maxBlock(p.table);
          if (max > p.wm.block || p.wm.chunk !== END_CHUNK) {
            p.wm = p.intent = { block: Math.max(max, p.wm.block), chunk: END_CHUNK };
            await this.state.save(p);
          }
        }
      }
      return false;
    }
    if (Date.now() < this.nextAttemptAt) return false;
    let moved = false;
    // A different table first each round, so one busy table cannot starve the others.
    const start = this.turn++ % FORWARD_TABLES.length;
    this.sending = true;
    try {
      for (let i = 0; i < FORWARD_TABLES.length && !this.stopped; i++) {
        // Paused or changed meanwhile: not one more batch under the old file.
        if (this.watch.current().config !== cfg) return true;
        const table = FORWARD_TABLES[(start + i) % FORWARD_TABLES.length]!;
        const r = await this.step(cfg, progress.get(table)!);
        if (r === 'failed') return false;
        if (r === 'moved') moved = true;
      }
    } finally {
      this.sending = false;
    }
    return moved;
  }

  private async step(cfg: ForwardConfig, p: TableProgress): Promise<'moved' | 'empty' | 'failed'> {
    const since = sinceDayOf(p.target);
    let groups: Group[];
    let upTo: Pos;
    if (cmp(p.intent, p.wm) > 0) {
      // A batch that was being sent when the server stopped: exactly the same range again.
      upTo = p.intent;
      groups = await this.rows.readGroups(p.table, p.wm, upTo, since);
    } else {
      const infos = await this.rows.nextGroups(p.table, p.wm, since, MAX_FORWARD_GROUPS);
      if (infos.length === 0) return 'empty';
      const maxRows = this.o.maxRows ?? 5000;
      let n = 0;
      let rows = 0;
      while (n < infos.length && (n === 0 || rows + infos[n]!.rows <= maxRows)) rows += infos[n++]!.rows;
      groups = await this.rows.readGroups(p.table, p.wm, infos[n - 1]!, since);
      // Then by bytes: whole groups only, at least one.
      const maxBytes = this.o.maxBytes ?? 4 * 1024 * 1024;
      let bytes = 0;
      let keep = 0;
      while (keep < groups.length) {
        const b = groups[keep]!.lines.reduce((s, l) => s + l.length + 1, 0);
        if (keep > 0 && bytes + b > maxBytes) break;
        bytes += b;
        keep++;
      }
      groups = groups.slice(0, keep);
      if (groups.length === 0) return 'empty';
      const last = groups[groups.length - 1]!;
      upTo = { block: last.block, chunk: last.chunk };
      p.intent = upTo;
      await this.state.save(p);
    }
    const localRows = groups.reduce((s, g) => s + g.lines.length, 0);
    const outgoing = groups.map((g) => applyAuthorPrivacy(p.table, g.lines, cfg.privacy)).filter((g) => g.length > 0);
    let sentBytes = 0;
    if (outgoing.length > 0) {
      sentBytes = outgoing.reduce((s, g) => s + g.reduce((t, l) => t + l.length + 1, 0), 0);
      const outcome = await this.sender.send(cfg, p.table, outgoing);
      if (!outcome.ok) {
        this.fail(outcome.error, outcome.retryAfterMs);
        return 'failed';
      }
    }
    p.wm = upTo;
    await this.state.save(p);
    this.delivered(localRows, upTo.block <= p.historyBlock ? sentBytes : 0);
    return 'moved';
  }

  private delivered(rows: number, historyBytes: number): void {
    const now = Date.now();
    this.lastDeliveryAt = now;
    this.historyBytes += historyBytes;
    this.recent.push({ at: now, rows });
    while (this.recent.length > 0 && now - this.recent[0]!.at > 60_000) this.recent.shift();
    this.clearFailure();
  }

  private clearFailure(): void {
    this.failingSince = undefined;
    this.lastError = undefined;
    this.backoffMs = 0;
    this.nextAttemptAt = 0;
  }

  private fail(error: string, retryAfterMs?: number): void {
    const now = Date.now();
    if (this.failingSince === undefined) this.o.log(`forward: failing: ${error}`);
    this.failingSince ??= now;
    this.lastError = error;
    this.backoffMs = Math.min(Math.max(this.backoffMs * 2, 1000), 60_000);
    this.nextAttemptAt = now + (retryAfterMs !== undefined ? Math.min(retryAfterMs, 300_000) : this.backoffMs);
  }

  async status(): Promise<ForwardStatus> {
    const w = this.watch.current();
    const cfg = w.config;
    const progress = cfg ? await this.progressFor(cfg) : await this.loadProgress();
    let local = 0;
    let queue = 0;
    let hTotal = 0;
    let hDone = 0;
    let enabledAt: string | undefined;
    for (const table of FORWARD_TABLES) {
      const p = progress.get(table);
      const current = p && (!cfg || p.target === forwardTargetKey(cfg));
      const wm = current ? p.wm : { block: Number.MAX_SAFE_INTEGER, chunk: END_CHUNK };
      const c = await this.rows.counts(table, wm, current ? sinceDayOf(p.target) : undefined, current ? p.historyBlock : -1);
      local += c.local;
      queue += current ? c.queue : 0;
      hTotal += c.historyTotal;
      hDone += c.historyDone;
      if (current && (!enabledAt || p.enabledAt < enabledAt)) enabledAt = p.enabledAt;
    }
    const s: ForwardStatus = {
      // Paused only once the batch on the wire (if any) is answered: from then on nothing leaves.
      state: !cfg ? 'off' : !cfg.enabled ? (this.sending ? 'delivering' : 'paused') : this.failingSince !== undefined ? 'failing' : queue > 0 ? 'delivering' : 'idle',
      local_rows: local,
      delivered_rows: local - queue,
      queue_rows: queue,
    };
    if (cfg) {
      s.team = cfg.team;
      s.member = cfg.member;
      if (enabledAt) s.enabled_at = enabledAt;
    }
    if (this.lastDeliveryAt) s.last_delivery_at = new Date(this.lastDeliveryAt).toISOString();
    const error = w.error ?? this.lastError;
    if (error) s.last_error = error;
    if (cfg?.enabled && this.failingSince !== undefined) s.failing_since = new Date(this.failingSince).toISOString();
    if (cfg && cfg.history !== 'none') {
      const now = Date.now();
      const window = this.recent.filter((r) => now - r.at <= 60_000);
      const span = window.length > 0 ? Math.max((now - window[0]!.at) / 1000, 1) : 0;
      const rate = span > 0 ? window.reduce((t, r) => t + r.rows, 0) / span : 0;
      s.history = { total_rows: hTotal, delivered_rows: hDone, bytes: this.historyBytes, rows_per_s: Math.round(rate) };
      if (rate > 0) s.history.eta_s = Math.ceil((hTotal - hDone) / rate);
      else if (hDone >= hTotal) s.history.eta_s = 0;
    }
    return s;
  }
}
