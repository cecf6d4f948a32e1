/**
 * Verify Collection's one plain diagnosis, from what the stack reports. Pure.
 */

export interface CollectionCounts {
  /** The server answered (/ping or /health). */
  serverReachable: boolean;
  /** Claude Code log events received in the window (default last 15 minutes). */
  events: number;
  /** Metric data points received in the window. */
  metricPoints: number;
  /** Of those events, how many carry our `user_id` resource attribute (i.e. came from an injected terminal). */
  taggedEvents: number;
  lastReceivedAt?: Date;
  /** Terminals open now that were created before the current env was applied. */
  staleTerminals: number;
  /** Terminal env injection is on. */
  injecting: boolean;
}

export type DiagnosisCode = 'server-down' | 'nothing-received' | 'env-stale' | 'ok';

export interface Diagnosis {
  code: DiagnosisCode;
  ok: boolean;
  /** One sentence: what is going on and what to do. */
  message: string;
}

export function diagnose(c: CollectionCounts): Diagnosis {
  if (!c.serverReachable) {
    return { code: 'server-down', ok: false, message: 'The telemetry server is not running: run "Chapter Telemetry: Start Collection" (or click the status bar).' };
  }
  const received = c.events + c.metricPoints;
  if (received === 0 && c.injecting && c.staleTerminals > 0) {
    return {
      code: 'env-stale',
      ok: false,
      message: `Nothing received yet, and ${c.staleTerminals} terminal(s) were opened before collection was turned on: relaunch the terminal (or open a new one) and run claude there.`,
    };
  }
  if (received === 0) {
    return { code: 'nothing-received', ok: false, message: 'The server is up but nothing has arrived yet: open a new terminal and run claude.' };
  }
  if (c.injecting && c.events > 0 && c.taggedEvents === 0) {
    return {
      code: 'env-stale',
      ok: false,
      message: 'Events arrive, but none from a terminal with the current settings: relaunch the terminal so claude picks up the chapter and user tags.',
    };
  }
  return { code: 'ok', ok: true, message: `Collection works: ${c.events} event(s) and ${c.metricPoints} metric point(s) in the last 15 minutes.` };
}
