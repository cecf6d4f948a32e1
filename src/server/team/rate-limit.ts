/**
 * Per-member token buckets for requests and request bytes: a member who floods gets 429 with
 * `Retry-After` while the others keep their own budgets. The clock is injected so the arithmetic
 * is tested without waiting.
 */

export interface BucketLimits {
  requestsPerSecond: number;
  requestBurst: number;
  bytesPerSecond: number;
  byteBurst: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number; reason: 'requests' | 'bytes' };

interface Buckets {
  requests: number;
  bytes: number;
  at: number; // ms
}

export class MemberRateLimiter {
  private readonly buckets = new Map<string, Buckets>();

  constructor(private readonly limits: BucketLimits, private readonly now: () => number = () => Date.now()) {
    if (limits.requestsPerSecond <= 0 || limits.bytesPerSecond <= 0 || limits.requestBurst < 1 || limits.byteBurst < 1) {
      throw new Error('rate limits must be positive');
    }
  }

  /**
   * Takes one request of `bytes` from `member`'s buckets, or says how long to wait. A refused
   * request takes nothing (so a client honouring Retry-After gets in then). A single request larger
   * than the byte burst can never pass: callers refuse those by body size (413) first.
   */
  take(member: string, bytes: number): Admission {
    const t = this.now();
    const L = this.limits;
    let b = this.buckets.get(member);
    if (!b) this.buckets.set(member, (b = { requests: L.requestBurst, bytes: L.byteBurst, at: t }));
    const elapsed = Math.max(0, t - b.at) / 1000;
    b.requests = Math.min(L.requestBurst, b.requests + elapsed * L.requestsPerSecond);
    b.bytes = Math.min(L.byteBurst, b.bytes + elapsed * L.bytesPerSecond);
    b.at = t;
    if (b.requests < 1) {
      return { ok: false, reason: 'requests', retryAfterSeconds: Math.max(1, Math.ceil((1 - b.requests) / L.requestsPerSecond)) };
    }
    const need = Math.min(bytes, L.byteBurst);
    if (b.bytes < need) {
      return { ok: false, reason: 'bytes', retryAfterSeconds: Math.max(1, Math.ceil((need - b.bytes) / L.bytesPerSecond)) };
    }
    b.requests -= 1;
    b.bytes -= need;
    return { ok: true };
  }

  /** Forget a member (removed from the team). */
  forget(member: string): void {
    this.buckets.delete(member);
  }
}
