/**
 * `npm run stack -- up|stop|down|status [--mode embedded|docker]`: the stack without VS Code
 * (a shared server, a terminal user), through the same backends the extension uses, with the
 * same messages. Without --mode, status/stop/down find what runs (the embedded state file, docker
 * containers with our label) and name it in their output. One line on stdout when it works; `error: <what happened> <what to do>` on
 * stderr and a non-zero exit code when it does not.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePortOption } from '../core/port-option';
import { defaultDataDir } from '../server/config';
import { createBackend, findDockerStacks, type BackendOptions, type FoundDockerStack } from './index';
import { DEFAULT_ENDPOINTS, StackError, type StackErrorCode, type StackMode, type StackStatus } from './types';
import type { DockerBackendOptions } from './docker/backend';

export const USAGE = `usage: npm run stack -- up|stop|down|status [--mode embedded|docker]
       (status, stop and down without --mode: whatever this user has running, embedded or docker)
       [--grpc-port 4317] [--otlp-http-port 4318] [--http-port 8123]
       [--data-dir DIR] [--state-dir DIR]          (embedded)
       [--project chapter-telemetry] [--compose-file FILE] [--volumes]   (docker; --volumes: down also deletes the data)`;

/** Exit codes; the embedded server uses the same numbers for the same failures. */
export const CLI_EXIT: Record<'ok' | 'notRunning' | 'usage', number> & Partial<Record<StackErrorCode, number>> = {
  ok: 0,
  notRunning: 1,
  usage: 2,
  'data-dir-locked': 3,
  'port-in-use': 4,
  'engine-failed': 5,
  'engine-missing': 5,
  crashed: 5,
  unhealthy: 5,
  timeout: 5,
  'docker-not-installed': 6,
  'docker-not-running': 6,
  'docker-permission-denied': 6,
  'image-pull-failed': 7,
  // The embedded engine (chDB) has no build for this OS/CPU (e.g. Windows, musl): docker mode may still work.
  'unsupported-platform': 8,
  cancelled: 130,
};

class UsageError extends Error {}

type Command = 'up' | 'stop' | 'down' | 'status';

interface CliArgs {
  command: Command;
  /** Undefined when neither --mode nor CHAPTER_TELEMETRY_MODE names one: status/stop/down then find what runs. */
  mode?: StackMode;
  ports: { grpcPort?: number; otlpHttpPort?: number; httpPort?: number };
  dataDir?: string;
  stateDir?: string;
  project?: string;
  composeFile?: string;
  volumes: boolean;
}

const OPTIONS = {
  mode: { type: 'string' },
  'grpc-port': { type: 'string' },
  'otlp-http-port': { type: 'string' },
  'http-port': { type: 'string' },
  'data-dir': { type: 'string' },
  'state-dir': { type: 'string' },
  project: { type: 'string' },
  'compose-file': { type: 'string' },
  volumes: { type: 'boolean' },
} as const;

function parseMode(value: string | undefined, source: string): StackMode | undefined {
  if (value === undefined || value === '') return undefined;
  if (value !== 'embedded' && value !== 'docker') throw new UsageError(`${source} must be embedded or docker, got "${value}"`);
  return value;
}

/** `node:util` parseArgs: `--flag value` and `--flag=value`, unknown options and missing values refused. */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (command !== 'up' && command !== 'stop' && command !== 'down' && command !== 'status') throw new UsageError(USAGE);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}\n${USAGE}`);
  const port = (flag: keyof typeof OPTIONS) => {
    const v = values[flag] as string | undefined;
    if (v === undefined) return undefined;
    try {
      return parsePortOption(`--${flag}`, v);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
  const ports: CliArgs['ports'] = {};
  const grpc = port('grpc-port');
  const otlpHttp = port('otlp-http-port');
  const http = port('http-port');
  if (grpc !== undefined) ports.grpcPort = grpc;
  if (otlpHttp !== undefined) ports.otlpHttpPort = otlpHttp;
  if (http !== undefined) ports.httpPort = http;
  return {
    command,
    mode: parseMode(values.mode, '--mode') ?? parseMode(env.CHAPTER_TELEMETRY_MODE, 'CHAPTER_TELEMETRY_MODE'),
    ports,
    dataDir: values['data-dir'],
    stateDir: values['state-dir'],
    project: values.project,
    composeFile: values['compose-file'],
    volumes: values.volumes ?? false,
  };
}

function serverScript(): string {
  const candidates = [join(__dirname, 'server.js'), join(__dirname, '..', '..', 'dist', 'server.js')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

function describe(status: StackStatus, mode: StackMode): string {
  switch (status.state) {
    case 'running': {
      const e = status.endpoints;
      return `running (${mode}): otlp-grpc=${e.host}:${e.grpcPort} otlp-http=${e.host}:${e.otlpHttpPort} clickhouse-http=http://${e.host}:${e.httpPort}${status.pid ? ` pid=${status.pid}` : ''}`;
    }
    case 'error':
      return `error (${mode}): ${status.error.message} ${status.error.hint}`;
    default:
      return `${status.state} (${mode})`;
  }
}

/**
 * The docker backend comes from its own bundle (dist/stack-docker.js) with its own copy of the
 * StackError class, so `instanceof` cannot recognise its errors here: check the shape instead.
 */
function isStackError(e: unknown): e is StackError {
  return e instanceof StackError || (e instanceof Error && e.name === 'StackError' && typeof (e as StackError).hint === 'string' && typeof (e as StackError).code === 'string');
}

/** One stack the command acts on: the mode named, or one found running. */
interface Target {
  mode: StackMode;
  /** Docker: the Compose project (said in the output when it was found rather than named). */
  project?: string;
  found?: FoundDockerStack;
}

function label(t: Target, auto: boolean): string {
  return auto && t.project ? `${t.mode}, project ${t.project}` : t.mode;
}

function describeFound(f: FoundDockerStack): string {
  const e = f.endpoints;
  const host = e.host ?? DEFAULT_ENDPOINTS.host;
  const at = (name: string, port: number | undefined, url = false) => `${name}=${port === undefined ? '?' : `${url ? 'http://' : ''}${host}:${port}`}`;
  return `running (docker, project ${f.project}): ${at('otlp-grpc', e.grpcPort)} ${at('otlp-http', e.otlpHttpPort)} ${at('clickhouse-http', e.httpPort, true)}`;
}

/**
 * Without --mode, status/stop/down act on whatever this user has: the embedded server of the state
 * dir (its state file) and every docker stack with our label (restricted to --project when given).
 */
async function findTargets(args: CliArgs, options: BackendOptions): Promise<{ targets: Target[]; looked: string }> {
  const targets: Target[] = [];
  const embedded = await createBackend('embedded', options);
  const st = await embedded.status();
  if (st.state === 'running' || st.state === 'starting') targets.push({ mode: 'embedded' });
  const stacks = await findDockerStacks();
  for (const f of stacks ?? []) {
    if (args.project !== undefined && f.project !== args.project) continue;
    // down also removes a stopped stack's containers; status and stop care about running ones.
    if (f.running || args.command === 'down') targets.push({ mode: 'docker', project: f.project, found: f });
  }
  const dockerPart = stacks === undefined ? 'Docker not reachable, not checked' : `no ${args.command === 'down' ? '' : 'running '}docker stack${args.project ? ` in project ${args.project}` : ''}`;
  return { targets, looked: `no embedded server for ${options.stateDir}, ${dockerPart}` };
}

export async function runCli(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (e) {
    err.write(`${(e as Error).message}\n`);
    return CLI_EXIT.usage;
  }
  const dataDir = args.dataDir ?? defaultDataDir();
  const options: BackendOptions & { docker?: DockerBackendOptions } = {
    endpoints: { ...DEFAULT_ENDPOINTS, ...args.ports },
    stateDir: args.stateDir ?? join(dataDir, 'stack-state'),
    dataDir,
    serverScript: serverScript(),
    docker: { projectName: args.project, composeFile: args.composeFile },
  };
  try {
    if (args.command === 'up') return await up(args.mode ?? 'embedded', options, out, err);
    const auto = args.mode === undefined;
    let targets: Target[];
    if (auto) {
      const found = await findTargets(args, options);
      if (found.targets.length === 0) {
        out.write(`nothing running (${found.looked})\n`);
        return args.command === 'status' ? CLI_EXIT.notRunning : CLI_EXIT.ok;
      }
      targets = found.targets;
    } else {
      targets = [{ mode: args.mode!, project: args.project }];
    }
    let code: number = CLI_EXIT.ok;
    let anyRunning = false;
    for (const t of targets) {
      const targetOptions: BackendOptions & { docker?: DockerBackendOptions } = { ...options, docker: { ...options.docker, projectName: t.project ?? args.project } };
      const backend = await createBackend(t.mode, targetOptions);
      switch (args.command) {
        case 'status': {
          if (t.found) {
            out.write(`${describeFound(t.found)}\n`);
            anyRunning = true;
            break;
          }
          const status = await backend.status();
          out.write(`${describe(status, t.mode)}\n`);
          if (status.state === 'error') code = CLI_EXIT[status.error.code] ?? 1;
          if (status.state === 'running') anyRunning = true;
          break;
        }
        case 'stop':
          await backend.stop();
          out.write(`stopped (${label(t, auto)})\n`);
          break;
        case 'down': {
          const withDown = backend as { down?: (o: { volumes?: boolean }) => Promise<void> };
          if (withDown.down) await withDown.down({ volumes: args.volumes });
          else await backend.stop();
          // Only the docker backend deletes data (its volumes); the embedded data dir is never removed here.
          const deleted = args.volumes ? (withDown.down ? ', data deleted' : `, data kept (${options.dataDir})`) : '';
          out.write(`down (${label(t, auto)})${deleted}\n`);
          break;
        }
      }
    }
    if (args.command === 'status' && code === CLI_EXIT.ok && !anyRunning) return CLI_EXIT.notRunning;
    return code;
  } catch (e) {
    if (isStackError(e)) {
      err.write(`error: ${e.message} ${e.hint}\n`);
      if (e.detail) err.write(`${e.detail.split('\n').slice(-10).map((l) => `  ${l}`).join('\n')}\n`);
      return CLI_EXIT[e.code] ?? 1;
    }
    err.write(`error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

async function up(mode: StackMode, options: BackendOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const backend = await createBackend(mode, options);
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  let last = '';
  try {
    const status = await backend.start({
      signal: ac.signal,
      onProgress: (p) => {
        const line = `${p.message}${p.percent === undefined ? '' : ` ${p.percent}%`}`;
        if (line !== last) err.write(`${line}\n`);
        last = line;
      },
    });
    out.write(`${describe(status, mode)}\n`);
    return CLI_EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
