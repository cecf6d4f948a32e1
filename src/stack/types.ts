/**
 * The local telemetry stack, whichever engine runs it. The extension and the headless
 * `npm run stack` command drive every backend through this interface only.
 */
import type { ForwardConfig, ForwardStatus, PullBackResult } from '../core/forward-config';

export type StackMode = 'embedded' | 'docker';

/** Where the stack listens. Both backends use the same ports by default. */
export interface StackEndpoints {
  host: string;
  grpcPort: number;
  otlpHttpPort: number;
  httpPort: number;
}

export const DEFAULT_ENDPOINTS: StackEndpoints = { host: '127.0.0.1', grpcPort: 4317, otlpHttpPort: 4318, httpPort: 8123 };

export type StackStatus =
  | { state: 'stopped' }
  | { state: 'starting' }
  | {
      state: 'running';
      endpoints: StackEndpoints;
      /** Embedded: the server's pid. Docker: absent. */
      pid?: number;
      /** True when this process found a stack someone else started (another window, a terminal). */
      attached: boolean;
    }
  | { state: 'error'; error: StackError };

export interface ProgressReport {
  message: string;
  /** 0..100 when known. */
  percent?: number;
}

export interface StartOptions {
  onProgress?: (p: ProgressReport) => void;
  signal?: AbortSignal;
}

export interface StackBackend {
  readonly mode: StackMode;
  /** Looks without changing anything: finds a running stack (and attaches to it) or reports stopped. */
  status(): Promise<StackStatus>;
  /** Starts, or attaches to a healthy running stack. Rejects with StackError; a failed start leaves nothing behind. */
  start(options?: StartOptions): Promise<StackStatus>;
  /** Stops gracefully (in-flight inserts finish). Idempotent. */
  stop(): Promise<void>;
  /** Lines of the stack's own output, as they come (server stdout/stderr, container logs). */
  onLog(listener: (line: string) => void): { dispose(): void };
  /**
   * The local writer identity (docs/SECURITY.md): anonymous requests to the ClickHouse HTTP port are
   * read-only, so writes (history copy, DDL) send these as HTTP basic auth. Undefined while the stack
   * has never started (embedded: `<data dir>/credentials.json`; docker: the password file the backend
   * generated on its first start).
   */
  writerCredentials(): Promise<WriterCredentials | undefined>;
  /**
   * Forwarding to a team server (issue 10, src/core/forward-config.ts): a config is written as
   * `<data dir>/forward.json` (0600, atomic) and a running server follows it within a tick;
   * undefined removes the file (forwarding off, queue kept). Docker mode: the collector forwards
   * instead (src/stack/docker/forwarding.ts: team CA + secret as 0600 files, an agent collector
   * config, the collector recreated); only from now on, so an enabled config with history other than
   * 'none' rejects with StackError 'not-supported'.
   */
  configureForwarding(cfg: ForwardConfig | undefined): Promise<void>;
  /**
   * The forwarder's state from the running server (`GET /forward/status`); rejects when it is not
   * running. Docker mode: from the collector's own metrics (src/core/collector-metrics.ts).
   */
  forwardStatus(): Promise<ForwardStatus>;
  /**
   * Revert to Local's pull-back (issue 10): the running server copies the member's own raw rows that
   * the team server holds and the local store lacks, using forward.json's credential (so call it
   * before `configureForwarding(undefined)`), count-checked; a second call adds 0; pulled rows are
   * never forwarded again. Rejects when not running, without forward.json, or on a failed count
   * check (nothing counted twice: just run it again). Docker mode: `not-supported`.
   */
  pullBack(signal?: AbortSignal): Promise<PullBackResult>;
}

/** The owner-only local writer credential: `{"user": "…", "password": "…"}` in a 0600 file. */
export interface WriterCredentials {
  user: string;
  password: string;
}

/** The writer's ClickHouse user name, the same in embedded and docker mode. */
export const WRITER_USER = 'telemetry_writer';

/** What went wrong, and what the user can do about it: every failure reaches the user as one of these. */
export type StackErrorCode =
  | 'port-in-use'
  | 'data-dir-locked'
  | 'engine-missing'
  | 'engine-failed'
  | 'crashed'
  | 'unhealthy'
  | 'timeout'
  | 'docker-not-installed'
  | 'docker-not-running'
  | 'docker-permission-denied'
  | 'image-pull-failed'
  | 'unsupported-platform'
  /** The backend cannot do this (yet): e.g. forwarding in docker mode. */
  | 'not-supported'
  | 'cancelled';

export class StackError extends Error {
  constructor(
    readonly code: StackErrorCode,
    /** What happened, in one sentence. */
    message: string,
    /** What to do about it, in one sentence. */
    readonly hint: string,
    /** Extra detail for the logs (last log lines, the engine's own error). */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'StackError';
  }

  /**
   * The docker backend is its own bundle (dist/stack-docker.js) with its own copy of this class,
   * so `instanceof` recognises any error of this shape, whichever bundle made it.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    const v = value as { name?: unknown; code?: unknown; hint?: unknown } | null;
    return typeof v === 'object' && v !== null && v.name === 'StackError' && typeof v.code === 'string' && typeof v.hint === 'string';
  }
}
