/**
 * Follows a growing log file (the detached server writes there, so any window can read it)
 * and hands out complete lines. Polls only while someone listens.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export class LogTail {
  private listeners = new Set<(line: string) => void>();
  private timer: NodeJS.Timeout | undefined;
  private offset = -1;
  private partial = '';

  constructor(private readonly file: string, private readonly intervalMs = 400) {}

  onLine(listener: (line: string) => void): { dispose(): void } {
    this.listeners.add(listener);
    if (!this.timer) {
      // A new follower starts at the current end; earlier lines are in the file for Show Logs.
      this.offset = this.size();
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref();
    }
    return {
      dispose: () => {
        this.listeners.delete(listener);
        if (this.listeners.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      },
    };
  }

  /** Reads whatever is new right now (also called before reporting a failure, so its lines are not lost). */
  poll(): void {
    const size = this.size();
    if (size < this.offset) {
      // Rotated or truncated: start over.
      this.offset = 0;
      this.partial = '';
    }
    if (size <= this.offset) return;
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, 1 << 20));
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const text = this.partial + buf.subarray(0, n).toString('utf8');
      const lines = text.split(/\r?\n/);
      this.partial = lines.pop() ?? '';
      for (const line of lines) for (const l of this.listeners) l(line);
    } finally {
      closeSync(fd);
    }
  }

  private size(): number {
    try {
      return statSync(this.file).size;
    } catch {
      return 0;
    }
  }
}

/** The last lines of a file from a byte offset on (for error details). */
export function readTail(file: string, fromOffset = 0, maxLines = 20): string[] {
  try {
    const size = statSync(file).size;
    const start = Math.max(fromOffset, size - 64 * 1024);
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.max(0, size - start));
      readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8').split(/\r?\n/).filter((l) => l.trim() !== '').slice(-maxLines);
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
}
