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

/**
 * Failed authentications per source address: each costs the server one scrypt (tens of ms of a
 * core by design), so a source that keeps presenting wrong secrets is refused before any scrypt
 * once its budget is spent (a burst, refilled at a steady rate). Only failures are charged: a
 * member whose secret is cached as verified is never held back, even behind the same address.
 */
export class FailureThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number, private readonly burst: number, private readonly now: () => number = () => Date.now(), private readonly maxSources = 10_000) {
    if (perMinute <= 0 || burst < 1) throw new Error('auth failure limits must be positive');
  }

  private refill(source: string): { tokens: number; at: number } {
    const t = this.now();
    let b = this.buckets.get(source);
    if (!b) {
      // Bounded memory: sources with a full budget carry no information and go first.
      if (this.buckets.size >= this.maxSources) {
        for (const [k, v] of this.buckets) if (v.tokens + ((t - v.at) / 60_000) * this.perMinute >= this.burst) this.buckets.delete(k);
        if (this.buckets.size >= this.maxSources) this.buckets.clear();
      }
      b = { tokens: this.burst, at: t };
      this.buckets.set(source, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, t - b.at) / 60_000) * this.perMinute);
    b.at = t;
    return b;
  }

  /** Seconds until `source` may fail once more; 0 when it may now. */
  blockedFor(source: string): number {
    const b = this.refill(source);
    return b.tokens >= 1 ? 0 : Math.max(1, Math.ceil(((1 - b.tokens) / this.perMinute) * 60));
  }

  /** One failed authentication by `source`. */
  charge(source: string): void {
    const b = this.refill(source);
    b.tokens = Math.max(0, b.tokens - 1);
  }
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are one source. */
export function sourceAddress(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  return raw.startsWith('::ffff:') ? raw.slice(7) : raw;
}

/** The address in grpc-js's `call.getPeer()`: `<remoteAddress>:<remotePort>` (IPv6 unbracketed). */
export function grpcPeerAddress(peer: string): string {
  const bracketed = /^\[(.*)\](?::\d+)?$/.exec(peer);
  return bracketed ? bracketed[1]! : peer.replace(/:\d+$/, '');
}
