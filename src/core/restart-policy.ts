/**
 * When the embedded server dies on its own, the extension starts it again — but not forever: a server
 * that crashes again and again (a damaged engine, a full disk) would otherwise restart in a loop and
 * hide the problem. Pure (no clock of its own, no I/O), so the unit tier tests every rule.
 */
export interface RestartPolicyOptions {
  /** This many crashes inside `windowMs` end the automatic restarts (the author sees Error). */
  maxCrashes: number;
  windowMs: number;
  /** Wait before the first restart; doubled for each further crash in the window, capped at `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = { maxCrashes: 3, windowMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 8_000 };

export type RestartDecision =
  | { action: 'restart'; delayMs: number; /** 1 for the first crash in the window. */ attempt: number }
  | { action: 'give-up'; crashes: number; windowMs: number };

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(private readonly o: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  /** Records a crash at `now` (epoch ms) and says what to do about it. */
  onCrash(now: number): RestartDecision {
    this.crashes = this.crashes.filter((t) => now - t < this.o.windowMs);
    this.crashes.push(now);
    const n = this.crashes.length;
    if (n >= this.o.maxCrashes) return { action: 'give-up', crashes: n, windowMs: this.o.windowMs };
    return { action: 'restart', delayMs: Math.min(this.o.baseDelayMs * 2 ** (n - 1), this.o.maxDelayMs), attempt: n };
  }

  /** The author started or stopped collection: earlier crashes no longer count. */
  reset(): void {
    this.crashes = [];
  }
}
