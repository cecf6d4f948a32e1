/**
 * Group commit for OTLP exports, acknowledged only after the engine committed their rows.
 *
 * Why the engine's commit is the acknowledgement point, not an fsynced journal drained later
 * (issue 15 offered both): the inserts run on the store's own ingest session, which no query ever
 * uses, so a query never holds an export; and an acknowledged export is then in every table and
 * view at once, which the extension's Verify, the sidebar and the tests rely on (a journal would
 * acknowledge rows no query can see yet). Measured price (BENCHMARKS.md): the insert shares the
 * cores with a running query (p50/p99 ~4× idle on a loaded 2-core machine), and few senders give the
 * group commit small batches. docs/ARCHITECTURE.md weighs the journal that would remove both.
 *
 * Batching: each export waits for the insert that carries its rows; while one insert per table is
 * running, later exports queue up and go together in the next one. A quiet server inserts at once
 * (no timer latency) and a busy one batches by itself. After an insert, the next one waits a moment
 * (`groupWaitMs`, default 10 ms; ends early at `groupRows`) for exports still on their way: a few
 * steady senders (one export in flight each) otherwise alternate small inserts, and the engine's cost per
 * insert into the full schema dominates below a few thousand rows (BENCHMARKS.md).
 * Two more things keep steady senders together (measured: four senders whose acknowledgements went
 * out together came back as alternating inserts of 1 and 3 exports, the first decoded one finding the
 * queue idle; the engine's fixed cost per insert into the full schema is ~0.1 s of CPU, BENCHMARKS.md):
 * - the receivers announce each export as soon as its request arrives (`announce`, with its signal), before its
 *   body is read and decoded (one after another, on the one JavaScript thread): an insert about to start waits
 *   for announced exports of the signal that fills its table to be handed over, bounded by `arrivalWaitMs`;
 * - the first insert after a pause also gathers for `groupWaitMs` when the previous insert carried
 *   several exports less than a second ago (several senders are active). A lone sender's exports, and
 *   any export after a quiet second, still go in at once.
 * One insert per table at a time, although the engine runs an insert on one thread and the machine has two cores
 * (measured, BENCHMARKS.md "The second core for inserts"): two ingest sessions do run two inserts in parallel, but
 * four senders that each wait for their acknowledgement have at most 4 × 512 rows in flight, so a second insert
 * could only split them, and the engine's fixed cost per insert (the views, ~0.1 s CPU whatever the size) is then
 * paid twice: two 1024-row inserts at once gave 0.84× the rows/s of one 2048-row insert for 1.73× its CPU, and
 * through the server 1.01× (HTTP) / 1.05× (gRPC) at ~1.35× the CPU per event. Two inserts at once pay only when
 * enough rows wait for two full ones (two 8192-row inserts: 1.55×), i.e. many senders, which meet the target already;
 * and a second insert would need the attribution barrier (0010) and an order for in-doubt repairs.
 *
 * Exactly once, also after failures (issue 13, "disk full"): the engine writes an insert table by
 * table, so a failed insert can leave the raw rows stored while a materialized view missed them,
 * and the sender, told 503, sends the export again. So every insert carries an
 * `insert_deduplication_token` (views deduplicate too: 0006_insert_deduplication.sql), and:
 * - an export's token is a hash of its table and rows: the same export sent twice is stored once;
 * - a batch of several exports gets a token made of theirs. When a batch fails for a reason that
 *   may pass (disk full, memory, engine busy), it is kept "in doubt" with its token and inserted
 *   again, unchanged, before anything newer goes into that table; a sender's retry of one of its
 *   exports then finds it stored (recent tokens) instead of inserting its rows a second time. Re-inserting the
 *   same block with the same token stores exactly what the failed attempt left out (measured with
 *   chDB 26.7: the raw block is skipped, the view that missed it receives it).
 * - `DiskGuard` refuses before inserting when the data directory is nearly full, so a full disk
 *   usually leaves nothing behind at all.
 * What is in doubt lives in memory: after a restart a retried export is deduplicated by the engine
 * (its token) only if it had been inserted on its own.
 *
 * Team servers insert every export on its own (`groupCommit: false`), so that last case is every
 * case there: a batch's combined token is a token no single export carries, so an export committed
 * inside a batch just before a crash (kill -9, power loss) whose reply was lost would, when its sender
 * retries it alone, be stored a second time. Inserted alone, the retry carries the very token the engine
 * recorded with the committed block (its deduplication log is on disk, in the table's directory) and is
 * skipped. The price is one engine insert per export per table (BENCHMARKS.md, "What one insert per
 * export costs"); a team's authors export every few seconds each, far below it. The local server keeps group
 * commit: its one author's exporter retries within the same process lifetime (the in-memory `recent`
 * tokens and the in-doubt batches cover it), and its bursts (history copies, many terminals) gain most
 * from batching.
 */
import { createHash } from 'node:crypto';
import { StoreError, type Store } from './store/types';
import { signalOfTable, type TableRows } from './otlp/rows';
import type { Signal } from './otlp/decode';
import type { DiskGuard } from './disk-guard';

interface Pending {
  token: string;
  /** The export's rows as one JSONEachRow text, each line ended: joined and encoded once, hashed and inserted as is. */
  body: Buffer;
  rows: number;
  resolve(): void;
  reject(err: unknown): void;
}

/** A batch whose insert failed for a passing reason; stored again with the same token. */
interface InDoubt {
  token: string;
  body: Buffer;
  members: string[];
}

interface TableQueue {
  waiting: Pending[];
  /** Rows in `waiting`. */
  waitingRows: number;
  /** Ends a grouping wait early (enough rows arrived, or, when waiting for arrivals, none is announced any more). */
  wake?: () => void;
  /** The current wait is for announced exports (ends once none is arriving). */
  forArrivals?: boolean;
  /** When the last insert that carried several exports ended (performance.now()). */
  lastGroupEnd?: number;
  running: boolean;
  /** Failed batches by token, oldest first. */
  inDoubt: Map<string, InDoubt>;
}

/** Engine errors that may pass (the same insert can succeed later): retry, never split. */
const PASSING_CODES = new Set([
  241, // MEMORY_LIMIT_EXCEEDED
  243, // NOT_ENOUGH_SPACE
  252, // TOO_MANY_PARTS
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  159, // TIMEOUT_EXCEEDED
  74, 75, 76, // CANNOT_READ/WRITE_FROM/TO_FILE_DESCRIPTOR, CANNOT_OPEN_FILE
  1001, // STD_EXCEPTION (e.g. "No space left on device" from the file system)
]);

export function passing(err: unknown): boolean {
  if (!(err instanceof StoreError)) return false;
  return err.unavailable || (err.clickhouseCode !== undefined && PASSING_CODES.has(err.clickhouseCode)) || /No space left|ENOSPC/i.test(err.message);
}

export function exportToken(table: string, lines: string[]): string {
  return bodyToken(table, exportBody(lines));
}

/**
 * An export's insert body: its lines, each ended by a newline, as UTF-8. Encoded once: these bytes are hashed
 * for its token and inserted as they are (a batch concatenates them).
 */
export function exportBody(lines: string[]): Buffer {
  return Buffer.from(lines.length === 0 ? '' : lines.join('\n') + '\n');
}

/**
 * sha256 of the table name, a newline and the export's body: the same bytes (so the same token) as the
 * earlier line-by-line hash, in one update instead of two per line (a fifth of the receiver's time per
 * record went into that hash and a second join of the same lines).
 */
export function bodyToken(table: string, body: Buffer): string {
  return createHash('sha256').update(`${table}\n`).update(body).digest('base64url');
}

/** How many in-doubt batches and recently stored export tokens are remembered per server. */
const MAX_IN_DOUBT = 256;
const MAX_RECENT = 4096;

export interface IngestOptions {
  /** Above this much queued data, new exports are refused as "retry later" (default 256 MiB). */
  maxPendingBytes?: number;
  /** Refuses inserts before they start when the disk is nearly full (embedded engine). */
  guard?: DiskGuard;
  /**
   * Several waiting exports go into one insert (default). False: each export is its own insert with its
   * own token, so a retry is recognised by the engine also after a crash (team servers; see above).
   */
  groupCommit?: boolean;
  /**
   * Group commit only: after an insert, the next waits up to this long for more exports (ending as soon as
   * `groupRows` rows wait), so a few steady senders share one insert instead of alternating small
   * ones. Never on a quiet server: the first export after a pause goes in at once. Default 10 ms.
   */
  groupWaitMs?: number;
  /** Rows that end a grouping wait at once (default 8192, the engine's block size). */
  groupRows?: number;
  /**
   * Group commit only: how long an insert about to start waits at most for exports announced (`announce`) but not
   * yet handed over (default 50 ms: a 512-record export takes ~10–20 ms of CPU to decode, and several senders'
   * exports arrive at once; the bound keeps a slow upload from holding the others); 0 when `groupWaitMs` is 0.
   */
  arrivalWaitMs?: number;
}

/** An insert that carried several exports this recently means several senders are active (see the top). */
const BUSY_MS = 1000;

/** The token of an export stored under a caller's key (storeExport): one per table, never equal to a rows hash. */
function keyedToken(key: string, table: string): string {
  return createHash('sha256').update('keyed\n').update(key).update('\n').update(table).digest('base64url');
}

export class Ingest {
  private readonly queues = new Map<string, TableQueue>();
  /** Tokens of exports stored lately (table + token): a repeat is acknowledged without a second copy. */
  private readonly recent = new Set<string>();
  private pendingBytes = 0;
  private inFlight = 0;
  /**
   * Exports announced by a receiver and not yet handed to `write` (their bodies are being read or decoded), by
   * signal: an insert waits only for exports whose rows can go into its table (a slow metrics upload never holds
   * the logs insert).
   */
  private readonly arriving = new Map<Signal, number>();
  private idle: Array<() => void> = [];

  private readonly maxPendingBytes: number;
  private readonly guard?: DiskGuard;
  private readonly groupCommit: boolean;
  private readonly groupWaitMs: number;
  private readonly groupRows: number;
  private readonly arrivalWaitMs: number;

  constructor(private readonly store: Store, options: IngestOptions = {}) {
    this.maxPendingBytes = options.maxPendingBytes ?? 256 * 1024 * 1024;
    this.guard = options.guard;
    this.groupCommit = options.groupCommit ?? true;
    this.groupWaitMs = options.groupWaitMs ?? 10;
    this.groupRows = options.groupRows ?? 8192;
    // `--group-wait-ms 0` means no grouping wait of any kind (the baseline of the latency bench).
    this.arrivalWaitMs = options.arrivalWaitMs ?? (this.groupWaitMs === 0 ? 0 : 50);
  }

  /**
   * A receiver announces an export whose request just arrived; it calls the returned function once the export was
   * handed to `write` (call `write` first, in the same tick) or was refused. Calling it again does nothing.
   */
  announce(signal: Signal): () => void {
    this.arriving.set(signal, (this.arriving.get(signal) ?? 0) + 1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      const left = this.arriving.get(signal)! - 1;
      this.arriving.set(signal, left);
      if (left > 0) return;
      for (const [table, q] of this.queues) if (q.forArrivals && this.arrivingFor(table) === 0) q.wake?.();
    };
  }

  /** Announced exports that may carry rows for `table`: its signal's, or every signal's for a table no signal names. */
  private arrivingFor(table: string): number {
    const signal = signalOfTable(table);
    if (signal) return this.arriving.get(signal) ?? 0;
    let all = 0;
    for (const n of this.arriving.values()) all += n;
    return all;
  }

  /** Bytes of accepted rows not yet committed (the team server's /metrics queue depth). */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /** Exports accepted and not yet acknowledged (waiting for or inside their insert): the queue depth. */
  get queuedExports(): number {
    return this.inFlight;
  }

  /** Resolves once every row of this export is committed; rejects with a StoreError otherwise. */
  async write(rows: TableRows): Promise<void> {
    await this.storeExport(rows);
  }

  /**
   * Stores one export (table → JSONEachRow lines) exactly once: sent again with the same rows, or
   * with the same `token`, it is acknowledged without a second copy, also after a restart when the
   * server inserts exports one by one (`groupCommit: false`). Without `token` the export's identity is
   * a hash of its rows. With `token` it is that key (per table): for senders whose retries are
   * byte-identical batches with an id of their own, e.g. forwarders. The key must be unique per sender
   * and batch, and a server must namespace it by the authenticated member (`alice:<batch id>`), or one
   * member could pre-empt another's batch by sending its key first.
   */
  async storeExport(rows: TableRows, options: { token?: string } = {}): Promise<void> {
    if (rows.size === 0) return;
    const texts = [...rows].map(([table, lines]) => [table, exportBody(lines), lines.length] as const);
    let bytes = 0;
    for (const [, body] of texts) bytes += body.length;
    if (this.pendingBytes + bytes > this.maxPendingBytes) {
      throw new StoreError('the server is busy writing earlier data; retry shortly', undefined, true);
    }
    this.pendingBytes += bytes;
    this.inFlight++;
    try {
      await Promise.all(texts.map(([table, body, n]) => this.enqueue(table, body, n, options.token === undefined ? bodyToken(table, body) : keyedToken(options.token, table))));
    } finally {
      this.pendingBytes -= bytes;
      this.inFlight--;
      if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
    }
  }

  /** Resolves when no export is waiting for the engine (used by graceful shutdown). */
  async drained(): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  private queue(table: string): TableQueue {
    let q = this.queues.get(table);
    if (!q) this.queues.set(table, (q = { waiting: [], waitingRows: 0, running: false, inDoubt: new Map() }));
    return q;
  }

  private enqueue(table: string, body: Buffer, rows: number, token: string): Promise<void> {
    if (this.recent.has(`${table}\n${token}`)) return Promise.resolve();
    const q = this.queue(table);
    const done = new Promise<void>((resolve, reject) => q.waiting.push({ token, body, rows, resolve, reject }));
    q.waitingRows += rows;
    if (q.waitingRows >= this.groupRows) q.wake?.();
    if (!q.running) void this.flush(table, q);
    return done;
  }

  private remember(table: string, token: string): void {
    const key = `${table}\n${token}`;
    this.recent.delete(key);
    this.recent.add(key);
    if (this.recent.size > MAX_RECENT) this.recent.delete(this.recent.values().next().value!);
  }

  private async flush(table: string, q: TableQueue): Promise<void> {
    q.running = true;
    let first = true;
    while (q.waiting.length > 0) {
      // The first insert of a busy spell goes at once; later ones gather for a moment (bounded).
      const busy = !first || (q.lastGroupEnd !== undefined && performance.now() - q.lastGroupEnd < BUSY_MS);
      if (busy && this.groupCommit && this.groupWaitMs > 0 && q.waitingRows < this.groupRows) await this.gather(q, this.groupWaitMs, false);
      first = false;
      // Exports already on their way (being read or decoded) join this insert, briefly.
      if (this.groupCommit && this.arrivingFor(table) > 0 && q.waitingRows < this.groupRows && this.arrivalWaitMs > 0) await this.gather(q, this.arrivalWaitMs, true);
      const batch = q.waiting.splice(0);
      q.waitingRows = 0;
      // Earlier failed batches first, unchanged: nothing newer may land while one is incomplete.
      try {
        await this.repair(table, q);
      } catch (err) {
        for (const p of batch) p.reject(err);
        continue;
      }
      // Exports whose rows a repair just stored are done; one sent twice in this batch goes in once.
      const byToken = new Map<string, Pending[]>();
      for (const p of batch) {
        if (this.recent.has(`${table}\n${p.token}`)) p.resolve();
        else byToken.set(p.token, [...(byToken.get(p.token) ?? []), p]);
      }
      if (byToken.size === 0) continue;
      if (this.groupCommit) {
        if ((await this.insertBatch(table, q, [...byToken.values()])) && byToken.size > 1) q.lastGroupEnd = performance.now();
      } else await this.insertEach(table, q, [...byToken.values()]);
    }
    q.running = false;
  }

  /** Resolves after `ms`, or sooner once `groupRows` rows wait or, `forArrivals`, once no export is announced. */
  private gather(q: TableQueue, ms: number, forArrivals: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        q.wake = undefined;
        q.forArrivals = undefined;
        resolve();
      };
      q.wake = done;
      q.forArrivals = forArrivals;
    });
  }

  /**
   * Inserts every in-doubt batch of this table again, unchanged and with its own token; throws
   * while one still fails for a passing reason (the disk is still full: newer exports wait too).
   */
  private async repair(table: string, q: TableQueue): Promise<void> {
    for (const b of [...q.inDoubt.values()]) {
      this.guard?.check(b.body.length);
      try {
        await this.store.insertJsonEachRow(table, b.body, { dedupToken: b.token });
      } catch (err) {
        if (passing(err)) throw err;
        // It will never go in (e.g. the schema changed): its senders' retries try on their own.
        process.stderr.write(`could not complete an earlier failed insert into ${table}, given up: ${(err as Error).message}\n`);
        q.inDoubt.delete(b.token);
        continue;
      }
      q.inDoubt.delete(b.token);
      for (const m of b.members) this.remember(table, m);
    }
  }

  /**
   * One insert per export, in order. The rule of `flush` holds between them too: once one fails for a
   * passing reason, the next goes in only after it was repaired (else it fails the same way, nothing stored).
   */
  private async insertEach(table: string, q: TableQueue, groups: Pending[][]): Promise<void> {
    for (let i = 0; i < groups.length; i++) {
      if (q.inDoubt.size > 0) {
        try {
          await this.repair(table, q);
        } catch (err) {
          for (const p of groups.slice(i).flat()) p.reject(err);
          return;
        }
      }
      const g = groups[i]!;
      // A repair may just have stored this very export (a retry of one in doubt).
      if (this.recent.has(`${table}\n${g[0]!.token}`)) for (const p of g) p.resolve();
      else await this.insertBatch(table, q, [g]);
    }
  }

  /** One insert for the exports of `groups` (each group: the senders of one identical export). True: all stored at once. */
  private async insertBatch(table: string, q: TableQueue, groups: Pending[][]): Promise<boolean> {
    const heads = groups.map((g) => g[0]!);
    const settle = (ok: boolean, err?: unknown) => {
      for (const g of groups) {
        for (const p of g) {
          if (ok) p.resolve();
          else p.reject(err);
        }
      }
    };
    const token = heads.length === 1 ? heads[0]!.token : createHash('sha256').update(heads.map((p) => p.token).join(',')).digest('base64url');
    const body = heads.length === 1 ? heads[0]!.body : Buffer.concat(heads.map((p) => p.body));
    try {
      this.guard?.check(body.length);
    } catch (err) {
      // Refused before anything was written: nothing is in doubt.
      settle(false, err);
      return false;
    }
    try {
      await this.store.insertJsonEachRow(table, body, { dedupToken: token });
      for (const p of heads) this.remember(table, p.token);
      settle(true);
      return true;
    } catch (err) {
      if (passing(err)) {
        this.keepInDoubt(q, { token, body, members: heads.map((p) => p.token) });
        settle(false, err);
      } else if (groups.length === 1) {
        settle(false, err);
      } else {
        // A bad export must not fail its neighbours: each on its own, with its own token.
        for (const g of groups) await this.insertBatch(table, q, [g]);
      }
      return false;
    }
  }

  private keepInDoubt(q: TableQueue, b: InDoubt): void {
    q.inDoubt.set(b.token, b);
    // Bounded memory: the oldest is forgotten; a retry of its exports then inserts them afresh.
    if (q.inDoubt.size > MAX_IN_DOUBT) q.inDoubt.delete(q.inDoubt.keys().next().value!);
  }
}
