/**
 * The embedded telemetry server: OTLP in (gRPC :4317, HTTP :4318), the real ClickHouse engine
 * (chDB) in this process, ClickHouse HTTP out (:8123). `npm start` runs it in the foreground;
 * the extension runs it as a detached process so the engine never loads in the extension host.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { Socket } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { parseArgs, isLoopback, servedHosts, UsageError, type ServerConfig } from './config';
import { ensureCredentials, type HostPolicy } from './local-access';
import { createClickHouseHttpServer } from './clickhouse-http';
import { createOtlpHttpServer } from './otlp-http';
import { bindGrpc, createOtlpGrpcServer } from './otlp-grpc';
import { ExportHandler } from './otlp/export';
import { Ingest } from './ingest';
import { DiskGuard } from './disk-guard';
import { ReceiverStats } from './receiver-stats';
import { describePortOwner } from './port-owner';
import { applyMigrations, migrationsDir } from './migrations';
import { applyRetention } from './retention';
import { exportLines } from './export-lines';
import type { Store } from './store/types';
import { pidAlive } from './pid';
import { openTeamServing, withRequestSource, type TeamServing } from './team/serving';
import { createTeamQueryServer } from './team/query-gate';
import { engineGauges } from './team/metrics';
import { TeamForwardReceiver } from './team/forward-receiver';
import { Forwarder } from './forward/forwarder';
import { TeamMemberData } from './team/member-data';
import { controlTokenPath, removeControlToken, writeControlToken } from './team/control-token';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../../package.json').version;

/**
 * Exit codes: documented in docs/ARCHITECTURE.md; the extension maps them to messages. 5 is also the
 * exit after an unexpected error while serving (the extension restarts the server then).
 */
export const EXIT = { ok: 0, usage: 2, dataDirLocked: 3, portInUse: 4, engineFailed: 5, unexpected: 5 } as const;

/** Files that say "a server runs here" (state file, pid file): removed on every exit we control. */
const ownFiles = new Set<string>();

class Fatal extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message);
  }
}

/** File systems that are views of the kernel, not storage: the engine would hang or fail on them. */
const VIRTUAL_FS: Record<number, string> = { 0x9fa0: 'proc', 0x62656572: 'sysfs', 0x64626720: 'debugfs', 0x73636673: 'securityfs', 0x27e0eb: 'cgroup', 0x63677270: 'cgroup2', 0x74726163: 'tracefs', 0x1cd1: 'devpts' };

/**
 * The data directory, made and checked before the engine sees it, so every unusable path is one
 * plain line and exit code 2 within milliseconds (a file, no permission, /proc…), not a stack trace
 * or a hang. Only the owner may enter it: it holds the writer credential and every prompt recorded.
 */
function prepareDataDir(dataDir: string): void {
  const unusable = (why: string) => new Fatal(EXIT.usage, `cannot use ${dataDir} as the data directory: ${why}. Choose another with --data-dir DIR.`);
  // Look before making it: Node's recursive mkdir never returns under /proc (it retries ENOENT for ever).
  let existing = resolve(dataDir);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const aboveType = VIRTUAL_FS[statfsSync(existing).type];
  if (aboveType) throw unusable(`it is on the ${aboveType} file system, which cannot hold files`);
  if (existing !== resolve(dataDir) && !statSync(existing).isDirectory()) throw unusable('a file is in the way');
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw unusable(code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'not allowed to create it' : (err as Error).message);
  }
  if (!statSync(dataDir).isDirectory()) throw unusable('it is not a directory');
  const fsType = VIRTUAL_FS[statfsSync(dataDir).type];
  if (fsType) throw unusable(`it is on the ${fsType} file system, which cannot hold files`);
  try {
    chmodSync(dataDir, 0o700);
    const probe = join(dataDir, `.write-probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    throw unusable(`not allowed to write there (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** One server per data dir: a pid file says who holds it (chDB's own lock would only say "Cannot lock file"). */
function claimDataDir(dataDir: string): string {
  const pidFile = join(dataDir, 'server.pid');
  if (existsSync(pidFile)) {
    const other = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(other) && other > 0 && other !== process.pid && pidAlive(other)) {
      throw new Fatal(EXIT.dataDirLocked, `the data directory ${dataDir} is in use by another Chapter Telemetry server (pid ${other}). Stop it (kill ${other}) or start this one with --data-dir <another dir>.`);
    }
  }
  writeFileSync(pidFile, String(process.pid));
  return pidFile;
}

async function listenHttp(server: HttpServer, host: string, port: number, role: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: NodeJS.ErrnoException) => {
    throw portError(err, host, port, role);
  });
}

function portError(err: NodeJS.ErrnoException | Error, host: string, port: number, role: string): Fatal {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || /EADDRINUSE|address already in use|No address added/i.test(err.message)) {
    const owner = describePortOwner(port);
    return new Fatal(EXIT.portInUse, `port ${port} (${role}) on ${host} is already in use${owner ? ` by ${owner}` : ' by another program'}. Stop that program, or start with a different port (--${role === 'OTLP gRPC' ? 'grpc-port' : role === 'OTLP HTTP' ? 'otlp-http-port' : 'http-port'} N).`);
  }
  if (code === 'EACCES') return new Fatal(EXIT.portInUse, `not allowed to listen on port ${port} (${role}) on ${host}; choose a port above 1024.`);
  if (code === 'EADDRNOTAVAIL') return new Fatal(EXIT.usage, `cannot listen on ${host}: no such local address (--host).`);
  return new Fatal(EXIT.portInUse, `cannot listen on ${host}:${port} (${role}): ${err.message}`);
}

async function openStore(cfg: ServerConfig): Promise<Store> {
  if (cfg.clickhouseUrl) {
    const { openRemoteStore } = await import('./store/remote');
    try {
      return await openRemoteStore(cfg.clickhouseUrl);
    } catch (err) {
      throw new Fatal(EXIT.engineFailed, `cannot use the ClickHouse server at ${cfg.clickhouseUrl}: ${(err as Error).message}. Check that it is running and reachable, and the CLICKHOUSE_USER/CLICKHOUSE_PASSWORD credentials.`);
    }
  }
  const { ChdbStore } = await import('./store/chdb');
  try {
    return await ChdbStore.open(cfg.dataDir);
  } catch (err) {
    const msg = (err as Error).message;
    if (/lock|Code: 76/i.test(msg)) {
      throw new Fatal(EXIT.dataDirLocked, `the data directory ${cfg.dataDir} is locked by another process using the ClickHouse engine. Stop it, or start with --data-dir <another dir>.`);
    }
    throw new Fatal(EXIT.engineFailed, `the ClickHouse engine (chDB) could not open ${cfg.dataDir}: ${msg}`);
  }
}

export async function runServer(argv: string[]): Promise<void> {
  const cfg = parseArgs(argv);
  const started = Date.now();
  let team: TeamServing | undefined;
  if (cfg.team) {
    try {
      team = openTeamServing(cfg.team, (line) => process.stderr.write(`${line}\n`));
    } catch (err) {
      throw new Fatal(EXIT.usage, `cannot serve the team in ${cfg.team}: ${(err as Error).message}`);
    }
    // The team directory's ports unless given as flags; its host names are this server's names.
    if (!cfg.portFlags.grpc) cfg.grpcPort = team.config.ports.grpc;
    if (!cfg.portFlags.otlpHttp) cfg.otlpHttpPort = team.config.ports.otlpHttp;
    if (!cfg.portFlags.http) cfg.httpPort = team.config.ports.http;
    cfg.allowHosts = [...cfg.allowHosts, ...team.config.hostnames];
    // A team set up for a ClickHouse server (`npm run team -- central-setup`) stores into it.
    if (!cfg.clickhouseUrl && team.config.clickhouse_url) cfg.clickhouseUrl = team.config.clickhouse_url;
  } else if (!isLoopback(cfg.host) && !cfg.inContainer) {
    // Without TLS and credentials anyone on the network could send as anyone and read everything.
    // (`--in-container`: the container's ports are published on the host's loopback only.)
    throw new Fatal(EXIT.usage, `refusing to listen on ${cfg.host} without TLS: beyond loopback the server runs only as a team server (npm run team -- init --dir DIR, then --team DIR). Use --host 127.0.0.1 for a local server.`);
  }
  prepareDataDir(cfg.dataDir);
  const pidFile = cfg.clickhouseUrl ? undefined : claimDataDir(cfg.dataDir);
  if (pidFile) ownFiles.add(pidFile);
  try {
    await serve(cfg, started, pidFile, team);
  } catch (err) {
    if (pidFile) rmSync(pidFile, { force: true });
    throw err;
  }
}

async function serve(cfg: ServerConfig, started: number, pidFile: string | undefined, team: TeamServing | undefined): Promise<void> {

  let store: Store | undefined;
  let ready = false;
  const stats = new ReceiverStats();
  let ingest: Ingest | undefined;
  // Before the store opens there is no Ingest to wait for arrivals (exports get 503 then): announcing is a no-op.
  const handler = new ExportHandler({ write: (rows) => ingest!.write(rows), announce: (signal) => ingest?.announce(signal) ?? (() => undefined) }, stats);
  // False while starting and once stopping: exports then get a retryable 503 / UNAVAILABLE.
  let accepting = true;
  const isReady = () => ready && accepting;

  const credentials = ensureCredentials(cfg.dataDir);
  const hostPolicy: HostPolicy = { allowHosts: servedHosts(cfg), allowOrigins: cfg.allowOrigins };
  const startedAt = new Date(started).toISOString();
  // Error texts name the engine's version, as ClickHouse's do (read once the engine is open).
  let engineVersion = VERSION;
  // A team server takes team.json's body limit on all three ports (limits.maxBodyBytes).
  if (team) cfg.maxBodyBytes = team.config.limits.maxBodyBytes;
  // A local server is a team's agent when <data dir>/forward.json says so (src/server/forward/).
  let forwarder: Forwarder | undefined;
  const forwardStatus = team ? undefined : async () => {
    if (!forwarder) throw new Error('the store is not open yet');
    return await forwarder.status();
  };
  const pullBack = team ? undefined : async () => {
    if (!forwarder) throw new Error('the store is not open yet');
    return await forwarder.pullBack();
  };
  const chInner = createClickHouseHttpServer(() => store, { maxBodyBytes: team ? team.config.limits.maxBodyBytes : 512 * 1024 * 1024, isReady, serverVersion: () => engineVersion, hostPolicy, credentials, forwardStatus, pullBack });
  const forward = team ? new TeamForwardReceiver(() => store) : undefined;
  // Delete My Data on the team server; the control token is written once the server is ready.
  let controlToken: string | undefined;
  const memberData = team ? { data: new TeamMemberData(() => store, team.dir, (line) => process.stderr.write(`${line}\n`)), controlToken: () => controlToken } : undefined;
  // pid + startedAt let a client check that a pid in a state file is this server before it signals it.
  const otlpHttp = createOtlpHttpServer(handler, { maxBodyBytes: cfg.maxBodyBytes, isReady, hostPolicy, health: () => ({ pid: process.pid, startedAt, ...stats.toJSON() }), team, forward, memberData,
    metricsText: async () => team!.metrics.render({
      queueBytes: ingest?.queuedBytes ?? 0, queueExports: ingest?.queuedExports ?? 0, rssBytes: process.memoryUsage().rss,
      dataDir: cfg.clickhouseUrl ? undefined : cfg.dataDir, engine: store && ready ? await engineGauges((sql) => store!.query(sql)) : undefined,
    }) });
  const grpcServer: grpc.Server = createOtlpGrpcServer(handler, { maxMessageBytes: cfg.maxBodyBytes, isReady, team });
  // A team server answers SQL only over TLS and only to members (team/query-gate.ts).
  // Its authentications are charged to the client's address (failed ones are throttled per source).
  const chServer: HttpServer = team ? (withRequestSource(createTeamQueryServer(chInner, team)) as unknown as HttpServer) : chInner;

  // Ports first: a busy port is the commonest failure and costs nothing to find out.
  await listenHttp(chServer, cfg.host, cfg.httpPort, 'ClickHouse HTTP');
  await listenHttp(otlpHttp, cfg.host, cfg.otlpHttpPort, 'OTLP HTTP');
  await bindGrpc(grpcServer, cfg.host, cfg.grpcPort, team?.tls).catch((err: Error) => {
    throw portError(err, cfg.host, cfg.grpcPort, 'OTLP gRPC');
  });

  store = await openStore(cfg);
  try {
    await applyMigrations(store, migrationsDir());
    if (cfg.rawRetentionDays || cfg.sessionRetentionDays) {
      await applyRetention(store, { rawDays: cfg.rawRetentionDays ?? 90, sessionDays: cfg.sessionRetentionDays ?? 365 });
    }
  } catch (err) {
    await store.close();
    throw new Fatal(EXIT.engineFailed, `could not prepare the schema in ${store.description}: ${(err as Error).message}`);
  }
  // The guard watches the engine's own disk; a remote ClickHouse watches its own.
  // A team server inserts each export on its own: retried after a crash, it is still recognised (ingest.ts).
  ingest = new Ingest(store, { guard: cfg.clickhouseUrl ? undefined : new DiskGuard(cfg.dataDir, cfg.minFreeBytes), groupCommit: !team, groupWaitMs: cfg.groupWaitMs });
  engineVersion = (await store.query('SELECT version()', { format: 'TabSeparated' }).catch(() => Buffer.from(VERSION))).toString('utf8').trim() || VERSION;
  ready = true;
  if (!team) {
    forwarder = new Forwarder(store, { dataDir: cfg.dataDir, log: (line) => process.stderr.write(`${line}\n`) });
    forwarder.start();
  }

  const stateFile = cfg.stateFile;
  if (stateFile) {
    ownFiles.add(stateFile);
    writeFileSync(stateFile, JSON.stringify({
      pid: process.pid, host: cfg.host, grpcPort: cfg.grpcPort, otlpHttpPort: cfg.otlpHttpPort, httpPort: cfg.httpPort,
      dataDir: cfg.dataDir, clickhouseUrl: cfg.clickhouseUrl, startedAt, version: VERSION, credentialsFile: credentials.file,
    }, null, 2), { mode: 0o600 });
  }
  const where = cfg.clickhouseUrl ? `store=${cfg.clickhouseUrl}` : `data=${cfg.dataDir}`;
  if (team) {
    // The server's own admin credential for `npm run team -- delete-member-data` (team/control-token.ts).
    controlToken = writeControlToken(team.dir);
    ownFiles.add(controlTokenPath(team.dir));
    process.stdout.write(
      `chapter-telemetry ${VERSION} ready in ${Date.now() - started} ms: team "${team.config.name}" (privacy ${team.config.privacy}) over TLS: otlp-grpc=${cfg.host}:${cfg.grpcPort} otlp-http=https://${cfg.host}:${cfg.otlpHttpPort} clickhouse-http=https://${cfg.host}:${cfg.httpPort} ${where} pid=${process.pid}\n` +
        `members connect with the bundle from: npm run team -- add-member NAME --dir ${team.dir}\n`,
    );
  } else process.stdout.write(
    `chapter-telemetry ${VERSION} ready in ${Date.now() - started} ms: otlp-grpc=${cfg.host}:${cfg.grpcPort} otlp-http=${cfg.host}:${cfg.otlpHttpPort} clickhouse-http=http://${cfg.host}:${cfg.httpPort} ${where} pid=${process.pid}\n` +
      `credentials: ${credentials.file} (the writer; anonymous SQL is read-only)\n` +
      `# Paste into the shell where you run claude:\n${exportLines(cfg).join('\n')}\n`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${signal}: finishing in-flight exports, then stopping\n`);
    // Refuse new work first (senders get "retry later" and keep their data), so in-flight exports
    // can drain even while clients keep sending over kept-alive connections.
    accepting = false;
    const closing = [
      new Promise<void>((r) => chServer.close(() => r())),
      new Promise<void>((r) => otlpHttp.close(() => r())),
      new Promise<void>((r) => grpcServer.tryShutdown(() => r())),
    ];
    chServer.closeIdleConnections();
    otlpHttp.closeIdleConnections();
    await ingest!.drained();
    await forwarder?.stop();
    // Let answers in progress go out, then cut what is left (kept-alive sockets, busy clients).
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 2_000))]);
    chServer.closeAllConnections();
    otlpHttp.closeAllConnections();
    grpcServer.forceShutdown();
    ready = false;
    await store!.close();
    if (stateFile) rmSync(stateFile, { force: true });
    if (pidFile) rmSync(pidFile, { force: true });
    if (team && controlToken) removeControlToken(team.dir, controlToken);
    process.stdout.write('stopped\n');
    process.exit(EXIT.ok);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  // The parent's death after a signal already started the stop is not a second Ctrl-C.
  watchParent(() => {
    if (!stopping) void shutdown('parent gone');
  });
}

/**
 * `npm start` (scripts/start.mjs) hands the server a pipe on the fd named by CHAPTER_TELEMETRY_PARENT_FD
 * and never writes to it: it closes only when that parent dies, however it dies.
 * Read as a socket (non-blocking, in the event loop), never with fs streams: an fs read of a pipe blocks a
 * libuv pool thread, and `process.exit` then waits for that thread forever (the server printed `stopped`
 * and hung until the parent died).
 */
function watchParent(onGone: () => void): void {
  const fd = Number(process.env.CHAPTER_TELEMETRY_PARENT_FD);
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    const pipe = new Socket({ fd, readable: true, writable: false });
    pipe.on('data', () => undefined);
    pipe.on('end', onGone);
    pipe.on('close', onGone);
    pipe.on('error', onGone);
    // Watching must never keep the process alive by itself.
    pipe.unref();
  } catch {
    // No such descriptor (or not a pipe): started some other way, nothing to watch.
  }
}

/**
 * An error nothing handled: the server's state is unknown (a half-done insert, a listener gone), so it does
 * not go on serving. One plain line (the error and where it was thrown), the state and pid files removed,
 * exit code 5. Every acknowledged export was committed before its answer, so nothing acknowledged is lost;
 * the extension restarts the server, and a sender retries what was not acknowledged.
 */
function exitOnUnexpected(err: unknown): never {
  const e = err instanceof Error ? err : new Error(`a non-error value was thrown: ${String(err)}`);
  const where = /\n\s+at (?:.*? \()?([^()\s]+:\d+:\d+)\)?/.exec(e.stack ?? '')?.[1];
  const what = `${e.name}: ${e.message}`.replace(/\s*\n\s*/g, ' ');
  process.stderr.write(`fatal: unexpected ${what}${where ? ` (at ${where})` : ''}; the server stops (exit code ${EXIT.unexpected}) and must be started again.\n`);
  for (const f of ownFiles) rmSync(f, { force: true });
  process.exit(EXIT.unexpected);
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  // Bad input is answered where it arrives (4xx); what still escapes to here is a bug, not input.
  process.on('uncaughtException', exitOnUnexpected);
  process.on('unhandledRejection', exitOnUnexpected);
  try {
    await runServer(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT.usage);
    }
    if (err instanceof Fatal) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`error: the server could not start: ${(err as Error).stack ?? err}\n`);
    process.exit(EXIT.engineFailed);
  }
}

if (require.main === module) void main();
