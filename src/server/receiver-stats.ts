import type { Signal } from './otlp/decode';

/** What the receiver has taken in since start: the health endpoint and Verify Collection read it. */
export class ReceiverStats {
  readonly received: Record<Signal, number> = { logs: 0, metrics: 0, traces: 0 };
  readonly exports: Record<Signal, number> = { logs: 0, metrics: 0, traces: 0 };
  readonly rejected: Record<Signal, number> = { logs: 0, metrics: 0, traces: 0 };
  lastReceivedAt: string | null = null;

  accepted(signal: Signal, items: number): void {
    this.received[signal] += items;
    this.exports[signal]++;
    this.lastReceivedAt = new Date().toISOString();
  }

  toJSON(): object {
    return { received: this.received, exports: this.exports, rejected: this.rejected, lastReceivedAt: this.lastReceivedAt };
  }
}
