/**
 * Tells the visible analytics views when to reload. While at least one view is visible it runs the
 * cheap watermark query every second and notifies only when the watermark (or the current chapter)
 * moved; with no visible view it does not poll at all. An unreachable store is probed less often.
 */
import type { QueryFailure } from '../../core/analytics';
import { watermark, type QueryRunner } from '../../core/queries';

export interface WatcherDeps {
  runner(): QueryRunner | undefined;
  currentChapter(): string | undefined;
  classify(err: unknown): QueryFailure;
  /** Called when the data moved or reachability changed. */
  notify(msg: { type: 'changed' } | { type: 'status'; failure?: QueryFailure }): void;
}

const VISIBLE_MS = 1000;
const UNREACHABLE_MS = 5000;

export class Watcher {
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private failing: QueryFailure | undefined;
  private visible = 0;
  private running = false;

  constructor(private readonly deps: WatcherDeps) {}

  /** A view became visible (+1) or hidden/disposed (-1). */
  setVisible(delta: 1 | -1): void {
    this.visible = Math.max(0, this.visible + delta);
    if (this.visible > 0 && !this.timer && !this.running) this.schedule(0);
    if (this.visible === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Something outside the data changed (stack state, settings): check now. */
  poke(): void {
    if (this.visible > 0) this.deps.notify({ type: 'changed' });
    if (this.visible > 0 && !this.running) {
      if (this.timer) clearTimeout(this.timer);
      this.schedule(0);
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.visible = 0;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    let next = VISIBLE_MS;
    try {
      const runner = this.deps.runner();
      if (!runner) throw new Error('no endpoint');
      const [w] = await runner.rows(watermark());
      const mark = `${w?.events}|${w?.last}|${w?.focus}|${this.deps.currentChapter() ?? ''}`;
      if (this.failing) {
        this.failing = undefined;
        this.deps.notify({ type: 'status' });
      } else if (this.last !== undefined && mark !== this.last) {
        this.deps.notify({ type: 'changed' });
      }
      this.last = mark;
    } catch (err) {
      const f = this.deps.classify(err);
      if (!this.failing || this.failing.message !== f.message) this.deps.notify({ type: 'status', failure: f });
      this.failing = f;
      this.last = undefined;
      next = UNREACHABLE_MS;
    } finally {
      this.running = false;
    }
    if (this.visible > 0) this.schedule(next);
  }
}
