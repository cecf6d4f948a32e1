import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
/** The pinned CLI (devDependency @anthropic-ai/claude-code 2.1.197). */
export const claudeBin = join(repoRoot, 'node_modules', '.bin', 'claude');
export const defaultModel = 'claude-sonnet-4-5';

export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export interface OtelEnvOptions {
  protocol: OtlpProtocol;
  /** OTLP base endpoint, e.g. `http://127.0.0.1:<grpcPort>` for grpc or `http://127.0.0.1:<otlpHttpPort>`. */
  endpoint: string;
  /** Base URL of the (fake) Anthropic API. */
  apiUrl: string;
  /** `OTEL_RESOURCE_ATTRIBUTES`, as a map or the raw `k=v,k2=v2` string. */
  resourceAttributes?: Record<string, string> | string;
  /** Sets `OTEL_LOG_USER_PROMPTS=1` (prompt text in `user_prompt` instead of `<REDACTED>`). */
  logPrompts?: boolean;
  /** `CLAUDE_CODE_MAX_RETRIES`; 0 by default so one error reply gives exactly one `api_error`. */
  maxRetries?: number;
}

/**
 * The environment that makes the real CLI talk only to `apiUrl` and export logs + metrics over OTLP.
 * Extension tests reuse it to run claude in a VS Code terminal. HOME is not included (callers choose it).
 */
export function otelEnv(o: OtelEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    ANTHROPIC_BASE_URL: o.apiUrl,
    ANTHROPIC_API_KEY: 'sk-test',
    // Without this the CLI reaches the vendor's hosts (statsig, error reporting, update checks).
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    CLAUDE_CODE_MAX_RETRIES: String(o.maxRetries ?? 0),
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: o.protocol,
    OTEL_EXPORTER_OTLP_ENDPOINT: o.endpoint,
    // Short intervals so a long-lived (terminal) session exports promptly; a -p run flushes at exit anyway.
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    OTEL_LOGS_EXPORT_INTERVAL: '500',
  };
  if (o.resourceAttributes !== undefined) {
    env.OTEL_RESOURCE_ATTRIBUTES =
      typeof o.resourceAttributes === 'string'
        ? o.resourceAttributes
        : Object.entries(o.resourceAttributes)
            .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
            .join(',');
  }
  if (o.logPrompts) env.OTEL_LOG_USER_PROMPTS = '1';
  return env;
}

export interface RunClaudeOptions extends OtelEnvOptions {
  prompt: string;
  /** HOME for the CLI; a fresh temp dir when omitted. */
  home?: string;
  /** Written as `{"userID": …}` into `$HOME/.claude.json` (fixes the `user.id` attribute). */
  userId?: string;
  /** Working directory; defaults to HOME. */
  cwd?: string;
  model?: string;
  /** `--session-id` for the run (the `session.id` attribute on every event); a fresh UUID when omitted. */
  sessionId?: string;
  /** Extra variables, applied last (may override anything above). */
  env?: Record<string, string>;
  /** Extra CLI arguments, e.g. `['--allowedTools', 'Bash']`. */
  extraArgs?: string[];
  /** Deadline after which the CLI is killed and the run rejects with its output (default 120 s). */
  deadlineMs?: number;
  /** A command the CLI runs under, e.g. `['unshare', '--mount', …]`; the CLI path and its arguments follow it. */
  wrapper?: string[];
}

export interface ClaudeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  home: string;
  sessionId: string;
}

/** Runs `claude -p <prompt>` once with a clean environment (nothing inherited but PATH and locale). */
export async function runClaude(o: RunClaudeOptions): Promise<ClaudeRun> {
  const home = o.home ?? mkdtempSync(join(tmpdir(), 'ct-claude-home-'));
  if (o.userId !== undefined) writeFileSync(join(home, '.claude.json'), JSON.stringify({ userID: o.userId }));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    HOME: home,
    TMPDIR: process.env.TMPDIR ?? tmpdir(),
    ...otelEnv(o),
    ...o.env,
  };
  const sessionId = o.sessionId ?? randomUUID();
  const args = ['-p', o.prompt, '--model', o.model ?? defaultModel, '--session-id', sessionId, ...(o.extraArgs ?? [])];
  const [bin, ...binArgs] = o.wrapper && o.wrapper.length > 0 ? [...o.wrapper, claudeBin, ...args] : [claudeBin, ...args];
  const child = spawn(bin!, binArgs, { cwd: o.cwd ?? home, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadlineMs = o.deadlineMs ?? 120_000;
  return await new Promise<ClaudeRun>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`claude did not exit within ${deadlineMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, deadlineMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${claudeBin}: ${err.message} (run npm ci to install @anthropic-ai/claude-code)`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, home, sessionId });
    });
  });
}
