/**
 * `npm run stack -- up|stop|down|status [--mode embedded|docker]`: the stack without VS Code
 * (a shared server, a terminal user), through the same backends the extension uses, with the
 * same messages. One line on stdout when it works; `error: <what happened> <what to do>` on
 * stderr and a non-zero exit code when it does not.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDataDir } from '../server/config';
import { createBackend, type BackendOptions } from './index';
import { DEFAULT_ENDPOINTS, StackError, type StackErrorCode, type StackMode, type StackStatus } from './types';
import type { DockerBackendOptions } from './docker/backend';

export const USAGE = `usage: npm run stack -- up|stop|down|status [--mode embedded|docker]
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
  'unsupported-platform': 8,
  cancelled: 130,
};

class UsageError extends Error {}

interface CliArgs {
  command: 'up' | 'stop' | 'down' | 'status';
  mode: StackMode;
  ports: { grpcPort?: number; otlpHttpPort?: number; httpPort?: number };
  dataDir?: string;
  stateDir?: string;
  project?: string;
  composeFile?: string;
  volumes: boolean;
}

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
  const [command, ...rest] = argv;
  if (command !== 'up' && command !== 'stop' && command !== 'down' && command !== 'status') throw new UsageError(USAGE);
  const modeEnv = env.CHAPTER_TELEMETRY_MODE;
  const args: CliArgs = { command, mode: modeEnv === 'docker' ? 'docker' : 'embedded', ports: {}, volumes: false };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    if (flag === '--volumes') {
      args.volumes = true;
      continue;
    }
    const value = rest[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value\n${USAGE}`);
    const port = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${flag} must be a port number from 1 to 65535, got "${value}"`);
      return n;
    };
    switch (flag) {
      case '--mode':
        if (value !== 'embedded' && value !== 'docker') throw new UsageError(`--mode must be embedded or docker, got "${value}"`);
        args.mode = value;
        break;
      case '--grpc-port': args.ports.grpcPort = port(); break;
      case '--otlp-http-port': args.ports.otlpHttpPort = port(); break;
      case '--http-port': args.ports.httpPort = port(); break;
      case '--data-dir': args.dataDir = value; break;
      case '--state-dir': args.stateDir = value; break;
      case '--project': args.project = value; break;
      case '--compose-file': args.composeFile = value; break;
      default: throw new UsageError(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return args;
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
    const backend = await createBackend(args.mode, options);
    switch (args.command) {
      case 'status': {
        const status = await backend.status();
        out.write(`${describe(status, args.mode)}\n`);
        if (status.state === 'error') return CLI_EXIT[status.error.code] ?? 1;
        return status.state === 'running' ? CLI_EXIT.ok : CLI_EXIT.notRunning;
      }
      case 'up': {
        const ac = new AbortController();
        const onSignal = () => ac.abort();
        process.once('SIGINT', onSignal);
        let last = '';
        const status = await backend.start({
          signal: ac.signal,
          onProgress: (p) => {
            const line = `${p.message}${p.percent === undefined ? '' : ` ${p.percent}%`}`;
            if (line !== last) err.write(`${line}\n`);
            last = line;
          },
        });
        process.off('SIGINT', onSignal);
        out.write(`${describe(status, args.mode)}\n`);
        return CLI_EXIT.ok;
      }
      case 'stop':
        await backend.stop();
        out.write(`stopped (${args.mode})\n`);
        return CLI_EXIT.ok;
      case 'down': {
        const withDown = backend as { down?: (o: { volumes?: boolean }) => Promise<void> };
        if (withDown.down) await withDown.down({ volumes: args.volumes });
        else await backend.stop();
        out.write(`down (${args.mode})${args.volumes ? ', data deleted' : ''}\n`);
        return CLI_EXIT.ok;
      }
    }
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

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
