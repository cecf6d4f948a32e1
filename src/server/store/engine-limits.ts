/**
 * The engine's resource bounds, chosen so no query can take the server (and collection) down:
 * - the whole engine stays under a quarter of the machine's memory (at least 1 GiB, at most 8 GiB):
 *   the kernel's OOM killer never has to choose, and VS Code keeps its share;
 * - one query may use half of that, so a runaway query fails with code 241 while another still runs;
 * - one query runs at most 10 minutes (code 159): long enough for a full-history export, short enough
 *   that a forgotten query does not hold a session for ever;
 * - four reader sessions and two writer sessions run at once on top of the receiver's own session
 *   (chDB runs one statement per session): more would only share the same cores.
 * The writer identity may raise the per-query values with URL settings; readers cannot (readonly).
 */
import { totalmem } from 'node:os';

export interface EngineLimits {
  maxServerMemoryBytes: number;
  maxQueryMemoryBytes: number;
  maxExecutionSeconds: number;
  readerSessions: number;
  writerSessions: number;
}

const GiB = 1024 ** 3;

export function engineLimits(machineBytes: number = totalmem()): EngineLimits {
  const server = Math.min(8 * GiB, Math.max(1 * GiB, Math.floor(machineBytes / 4)));
  return { maxServerMemoryBytes: server, maxQueryMemoryBytes: Math.floor(server / 2), maxExecutionSeconds: 600, readerSessions: 4, writerSessions: 2 };
}
